#!/usr/bin/env bash
# Loopback cluster (issue 16): a server with no worker threads and three `dmilab worker` processes run one experiment
# with kernel and trained arms. Its points must be bit-identical to a single-process `dmilab run` (wall times aside);
# one worker is killed with SIGKILL in the middle of a trained shard: the experiment still succeeds, every point is
# stored exactly once, and the killed shard is claimed exactly twice (its rerun counted by the server). An experiment
# with an audit (AUDIT_SPEC), and the same without its kernel arms, run by remote workers: their audit cells are
# those of `dmilab run`, each stored once (the audit rides with the kernel shard of repeat 0, planned for it without
# kernel arms too).
# Usage: test_loopback.sh DMILAB SPEC AUDIT_SPEC
DMILAB=$1
SPEC=$2
AUDIT_SPEC=$3
. "$(dirname "$0")/lib.sh"

dir=$(mktemp -d)
pids=()
cleanup() {
    local rc=$?
    set +e
    for p in "${pids[@]}" ${SERVER_PID:-}; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
    exit $rc
}
trap cleanup EXIT

"$DMILAB" run --threads 1 "$SPEC" >"$dir/single.json" || fail "dmilab run failed"
canonical_points <"$dir/single.json" >"$dir/single.txt"
n_points=$(wc -l <"$dir/single.txt")

port=$(free_port)
url="http://127.0.0.1:$port"
start_server "$dir" "$port" --workers 0 --lease-seconds 3 --token admin --worker-token wtok
for i in 1 2 3; do
    "$DMILAB" worker --server "$url" --token wtok --threads 1 --idle-exit 4 >"$dir/w$i.log" 2>&1 &
    pids+=($!)
done

# the worker token opens the worker routes only
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Authorization: Bearer wtok' -H 'Content-Type: application/json' \
       --data @"$SPEC" "$url/api/v1/experiments")
[ "$code" = 401 ] || fail "the worker token submitted an experiment (HTTP $code)"
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' -d '{"worker":"w@x"}' \
       "$url/api/v1/workers/claim")
[ "$code" = 401 ] || fail "a claim without the worker token was answered $code"

# a report whose payload does not check out is refused naming the field, before any lease is looked at
report_field() {
    curl -s -XPOST -H 'Authorization: Bearer wtok' -H 'Content-Type: application/json' -d "$1" "$url/api/v1/workers/report" |
        jq -r .error.field
}
good=$(python3 -c 'import base64, hashlib, zlib; t = b"{\"points\":[]}"; print(len(t), hashlib.sha256(t).hexdigest(), base64.b64encode(zlib.compress(t)).decode())')
read -r size sha data <<<"$good"
ref='"worker": "w@x", "experiment_id": "exp_0000000000000000", "index": 0, "status": "done", "encoding": "zlib+base64"'
[ "$(report_field "{$ref, \"size\": $size, \"sha256\": \"${sha//[0-9a-f]/0}\", \"data\": \"$data\"}")" = sha256 ] ||
    fail "a report with a wrong checksum was not refused naming sha256"
[ "$(report_field "{$ref, \"size\": $((size + 1)), \"sha256\": \"$sha\", \"data\": \"$data\"}")" = data ] ||
    fail "a report of the wrong size was not refused naming data"
[ "$(report_field "{$ref, \"size\": $size, \"sha256\": \"$sha\", \"data\": \"${data:0:8}\"}")" = data ] ||
    fail "a truncated report was not refused naming data"
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Authorization: Bearer wtok' -H 'Content-Type: application/json' \
       -d "{$ref, \"size\": $size, \"sha256\": \"$sha\", \"data\": \"$data\"}" "$url/api/v1/workers/report")
[ "$code" = 409 ] || fail "a sound report of a shard nobody holds was answered $code, not 409"

id=$(curl -fsS -XPOST -H 'Authorization: Bearer admin' -H 'Content-Type: application/json' --data @"$SPEC" \
     "$url/api/v1/experiments" | jq -r .id)

# kill worker 1 as soon as it claims a trained shard (each takes about a second)
victim=
for _ in $(seq 600); do
    line=$(grep -m1 '(train): claimed (claim 1)' "$dir/w1.log" || true)
    if [ -n "$line" ]; then
        kill -9 "${pids[0]}"
        victim=$(sed -E 's/.*shard ([0-9]+) of .*/\1/' <<<"$line")
        break
    fi
    sleep 0.05
done
[ -n "$victim" ] || fail "worker 1 claimed no trained shard"
grep -q "shard $victim of .*: done" "$dir/w1.log" && fail "the killed worker had already finished shard $victim"
echo "killed worker 1 (SIGKILL) while it computed shard $victim"

status=$(wait_status "$url" "$id" 50)
[ "$status" = succeeded ] || { cat "$dir/server.log" >&2; fail "the experiment ended $status"; }
exp=$(curl -fsS "$url/api/v1/experiments/$id")
echo "shards: $(jq -c .shards <<<"$exp")"
curl -fsS "$url/api/v1/experiments/$id/results" >"$dir/cluster.json"
canonical_points <"$dir/cluster.json" >"$dir/cluster.txt"

diff "$dir/single.txt" "$dir/cluster.txt" >&2 || fail "the cluster's points differ from the single-process run's"
[ "$(wc -l <"$dir/cluster.txt")" = "$n_points" ] || fail "points stored: $(wc -l <"$dir/cluster.txt"), expected $n_points"
dups=$(jq '[.points[] | [.arm, .n_train, .repeat]] | group_by(.) | map(select(length > 1)) | length' "$dir/cluster.json")
[ "$dups" = 0 ] || fail "$dups point(s) stored more than once"
total=$(jq .shards.total <<<"$exp")
reruns=$(jq .shards.reruns <<<"$exp")
claims=$(jq .shards.claims <<<"$exp")
[ "$reruns" = 1 ] || fail "reruns: $reruns, expected 1 (the killed shard)"
[ "$claims" = $((total + 1)) ] || fail "claims: $claims for $total shards"
grep -q "shard $victim of $id (train): claimed (claim 2)" "$dir"/w[23].log || fail "shard $victim was not rerun by another worker"
served=$(grep -h ': done after' "$dir"/w[123].log | wc -l)
[ "$served" = "$total" ] || fail "$served shards computed to the end, expected $total (each once, the killed one rerun)"
metrics=$(curl -fsS "$url/metrics")
grep -q '^dmilab_shards{status="done"} '"$total"'$' <<<"$metrics" || fail "/metrics does not count $total done shards"
grep -Eq '^dmilab_shard_lease_expiries_total [1-9]' <<<"$metrics" || fail "/metrics counts no lease expiry"
echo "loopback cluster: $n_points points bit-identical to one process, $total shards, $claims claims, $reruns rerun"

# Data on another mount: a worker whose --data-root holds a copy of the files computes on them (the spec's paths
# are rebased from the server's data root); one whose copy has other bytes (the same images, gzipped again) fails
# its shard loudly, naming the file, once the experiment's provenance has the files' SHA-256.
src=/usr/share/datasets/fashion-mnist
mkdir -p "$dir/good/fashion-mnist" "$dir/bad/fashion-mnist"
cp "$src"/*.gz "$dir/good/fashion-mnist/"
cp "$src"/*.gz "$dir/bad/fashion-mnist/"
zcat "$src/train-images-idx3-ubyte.gz" | gzip -1 >"$dir/bad/fashion-mnist/train-images-idx3-ubyte.gz"
id2=$(curl -fsS -XPOST -H 'Authorization: Bearer admin' -H 'Content-Type: application/json' --data @"$SPEC" \
      "$url/api/v1/experiments" | jq -r .id)
"$DMILAB" worker --server "$url" --token wtok --threads 1 --once --data-root "$dir/good" >"$dir/w-good.log" 2>&1 ||
    fail "the worker with a copy of the data failed: $(tail -n 3 "$dir/w-good.log")"
grep -q ': done after' "$dir/w-good.log" || fail "the worker with a copy of the data computed nothing"
"$DMILAB" worker --server "$url" --token wtok --threads 1 --once --data-root "$dir/bad" >"$dir/w-bad.log" 2>&1 || true
status=$(wait_status "$url" "$id2" 20)
err=$(curl -fsS "$url/api/v1/experiments/$id2" | jq -r .error)
[ "$status" = failed ] && grep -q "train-images-idx3-ubyte.gz changed since" <<<"$err" ||
    fail "other data under a worker's root did not fail the experiment naming the file ($status: $err)"
echo "a worker's own data root: a copy computes, other bytes fail the experiment ($err)"

# The audit through remote workers (docs/cluster.md): with kernel arms it rides with their kernel shard of repeat 0;
# without, a kernel shard of no points is planned for it. Cells as `dmilab run` measures them, each stored once.
jq 'del(.inference[] | select(.method == "ntk")) | .name = "loopback cluster: the audit of trained arms only"' \
    "$AUDIT_SPEC" >"$dir/audit_trained.json"
for spec in "$AUDIT_SPEC" "$dir/audit_trained.json"; do
    "$DMILAB" run --threads 1 "$spec" | jq -c '[.audit[] | del(.seconds)] | sort_by(.arm, .group) | .[]' >"$dir/audit_single.txt" ||
        fail "dmilab run of $spec failed"
    n_cells=$(wc -l <"$dir/audit_single.txt")
    [ "$n_cells" -gt 0 ] || fail "dmilab run of $spec measured no audit cell"
    aid=$(curl -fsS -XPOST -H 'Authorization: Bearer admin' -H 'Content-Type: application/json' --data @"$spec" \
          "$url/api/v1/experiments" | jq -r .id)
    for i in 1 2; do
        "$DMILAB" worker --server "$url" --token wtok --threads 1 --idle-exit 3 >"$dir/wa$i.log" 2>&1 &
        pids+=($!)
    done
    status=$(wait_status "$url" "$aid" 50)
    [ "$status" = succeeded ] || { cat "$dir/server.log" >&2; fail "the audit experiment ended $status"; }
    curl -fsS "$url/api/v1/experiments/$aid/audit" |
        jq -c '[.audit[] | del(.seconds)] | sort_by(.arm, .group) | .[]' >"$dir/audit_cluster.txt"
    diff "$dir/audit_single.txt" "$dir/audit_cluster.txt" >&2 ||
        fail "the cluster's audit cells differ from the single-process run's ($spec)"
    kshards=$(curl -fsS "$url/api/v1/experiments/$aid" | jq .shards.total)
    echo "audit through remote workers: $n_cells cells as one process computes them, $kshards shards ($(basename "$spec"))"
done
