#!/usr/bin/env bash
# Loopback cluster (issue 16): a server with no worker threads and three `dmilab worker` processes run one experiment
# with kernel and trained arms. Its points must be bit-identical to a single-process `dmilab run` (wall times aside);
# one worker is killed with SIGKILL in the middle of a trained shard: the experiment still succeeds, every point is
# stored exactly once, and the killed shard is claimed exactly twice (its rerun counted by the server). An experiment
# with an audit (AUDIT_SPEC), and the same without its kernel arms, run by remote workers: their audit cells are
# those of `dmilab run`, each stored once (one audit shard per arm of a (data variant, model)).
# Kernels split into tile shards (TILE_SPEC): see its section below.
# Usage: test_loopback.sh DMILAB SPEC AUDIT_SPEC TILE_SPEC
DMILAB=$1
SPEC=$2
AUDIT_SPEC=$3
TILE_SPEC=$4
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
line=$(kill_on_line "$dir/w1.log" '(train): claimed (claim 1)' "${pids[0]}")
victim=$([ -n "$line" ] && sed -E 's/.*shard ([0-9]+) of .*/\1/' <<<"$line" || true)
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
# the kernel cache record of each kernel shard is carried through its report into the provenance
jq -e '[.provenance.kernels[] | select(.kernel_cache == "miss" and (.key | length) == 64)] | length == 4' <<<"$exp" >/dev/null ||
    fail "provenance.kernels: $(jq -c .provenance.kernels <<<"$exp"), expected a miss for each of 4 kernel units"
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

# The audit through remote workers (docs/cluster.md): one audit shard per arm of each (data variant, model), with or
# without kernel arms. Cells as `dmilab run` measures them, each stored once.
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

# Kernels split into tile shards (docs/cluster.md): a second server tiles each kernel in 8-row tiles, 6 tiles per tile
# shard (two kernels of 15 Gram and 13 cross tiles: 5 tile shards and one solve each). Three workers; worker 1 is
# killed (SIGKILL) right after it reported the first tile of a tile shard. The points equal `dmilab run`'s bit for bit
# (a tiling of other rows: cnn-gap and cnn-vec tiles are exact), every tile is recorded once, the rerun of the killed
# shard computes only the tiles its first claim had not reported (the server counts the tiles of each claim), and
# each solve runs once, after its tiles, fetching them all and computing none. The same experiment again finds every
# tile in the server's tile directory: provenance kernel_cache hit, no tile computed.
"$DMILAB" run --threads 1 "$TILE_SPEC" | canonical_points >"$dir/tsingle.txt" || fail "dmilab run of $TILE_SPEC failed"
tdir="$dir/tiles"
mkdir -p "$tdir"
tport=$(free_port)
turl="http://127.0.0.1:$tport"
pids+=("$SERVER_PID")   # the first server, stopped by cleanup with the second
start_server "$tdir" "$tport" --workers 0 --lease-seconds 3 --tile-rows 8 --shard-tiles 6
# worker 1 starts alone and claims a tile shard before the others start, so that it has a tile to report
# (with all three at once a loaded machine could let workers 2 and 3 take every tile shard first)
"$DMILAB" worker --server "$turl" --threads 1 --idle-exit 4 >"$tdir/w1.log" 2>&1 &
pids+=($!)
wpid=$!
tid=$(curl -fsS -XPOST -H 'Content-Type: application/json' --data @"$TILE_SPEC" "$turl/api/v1/experiments" | jq -r .id)
for _ in $(seq 600); do grep -q '(tile): claimed' "$tdir/w1.log" && break; sleep 0.05; done
grep -q '(tile): claimed' "$tdir/w1.log" || fail "worker 1 claimed no tile shard in 30 s"
for i in 2 3; do
    "$DMILAB" worker --server "$turl" --threads 1 --idle-exit 4 >"$tdir/w$i.log" 2>&1 &
    pids+=($!)
done
line=$(kill_on_line "$tdir/w1.log" ': tile [0-9]* reported' "$wpid")
victim=$([ -n "$line" ] && sed -E 's/.*shard ([0-9]+) of .*/\1/' <<<"$line" || true)
[ -n "$victim" ] || fail "worker 1 reported no tile"
grep -q "shard $victim of .*: done" "$tdir/w1.log" && fail "the killed worker had already finished tile shard $victim"
echo "killed worker 1 (SIGKILL) after it reported a tile of tile shard $victim"
status=$(wait_status "$turl" "$tid" 60)
[ "$status" = succeeded ] || { cat "$tdir/server.log" >&2; fail "the tiled experiment ended $status"; }
texp=$(curl -fsS "$turl/api/v1/experiments/$tid")
echo "shards: $(jq -c .shards <<<"$texp")"
curl -fsS "$turl/api/v1/experiments/$tid/results" | canonical_points >"$tdir/cluster.txt"
diff "$dir/tsingle.txt" "$tdir/cluster.txt" >&2 || fail "the tile shards' points differ from the single-process run's"
ntiles=56
[ "$(jq .shards.tiles.stored <<<"$texp")" = $ntiles ] || fail "tiles recorded: $(jq -c .shards.tiles <<<"$texp"), expected $ntiles"
[ "$(jq .shards.tiles.again <<<"$texp")" = 0 ] || fail "a tile was reported twice: $(jq -c .shards.tiles <<<"$texp")"
[ "$(jq .shards.reruns <<<"$texp")" = 1 ] || fail "reruns: $(jq .shards.reruns <<<"$texp"), expected 1 (the killed tile shard)"
# tile shards run to their end: (computed, reported) each; the rerun of the killed one computed only what was missing
sums=$(grep -h '(tile): done after' "$tdir"/w[23].log | sed -E 's/.*tiles: ([0-9]+) computed, ([0-9]+) reported.*/\1 \2/' |
       awk '{c += $1; r += $2} END {print c + 0, r + 0}')
read -r computed reported <<<"$sums"
[ "$computed" = "$reported" ] || fail "tile shards computed $computed tiles and reported $reported"
first=$((ntiles - reported))   # reported by the killed claim, recorded by the server
[ "$first" -ge "$(grep -c "shard $victim of .*: tile [0-9]* reported" "$tdir/w1.log")" ] && [ "$first" -ge 1 ] ||
    fail "the killed claim's reported tiles ($first) are not those its log shows"
rerun=$(grep -h "shard $victim of $tid (tile): done after" "$tdir"/w[23].log | sed -E 's/.*tiles: ([0-9]+) computed.*/\1/')
[ -n "$rerun" ] || fail "tile shard $victim was not rerun to its end"
[ "$rerun" = "$(jq .shards.tiles.from_reruns <<<"$texp")" ] || fail "the rerun computed $rerun tiles, the server recorded $(jq .shards.tiles.from_reruns <<<"$texp") from it"
solves=$(grep -h '(solve): claimed' "$tdir"/w[123].log | wc -l)
[ "$solves" = 2 ] || fail "solve claims: $solves, expected 2 (one per kernel)"
[ "$(grep -h '(solve): done after' "$tdir"/w[23].log | grep -c "tiles: 0 computed, 0 reported, 28 fetched")" = 2 ] ||
    fail "a solve did not fetch its 28 tiles or computed some: $(grep -h '(solve): done' "$tdir"/w[23].log)"
jq -e '[.provenance.kernels[] | select(.kernel_cache == "miss" and .tiles == 28)] | length == 2' <<<"$texp" >/dev/null ||
    fail "provenance.kernels of the tiled experiment: $(jq -c .provenance.kernels <<<"$texp")"
echo "tile shards: $ntiles tiles recorded once, the killed claim reported $first, its rerun computed $rerun, solves fetched 28 each"
"$DMILAB" worker --server "$turl" --threads 1 --idle-exit 3 >"$tdir/w4.log" 2>&1 &
pids+=($!)
tid2=$(curl -fsS -XPOST -H 'Content-Type: application/json' --data @"$TILE_SPEC" "$turl/api/v1/experiments" | jq -r .id)
[ "$(wait_status "$turl" "$tid2" 60)" = succeeded ] || fail "the second tiled experiment did not succeed"
texp2=$(curl -fsS "$turl/api/v1/experiments/$tid2")
curl -fsS "$turl/api/v1/experiments/$tid2/results" | canonical_points >"$tdir/cluster2.txt"
diff "$dir/tsingle.txt" "$tdir/cluster2.txt" >&2 || fail "the cached kernels' points differ"
jq -e '[.provenance.kernels[] | select(.kernel_cache == "hit" and .stored == 28 and .computed == 0)] | length == 2' \
    <<<"$texp2" >/dev/null || fail "the second experiment's kernels: $(jq -c .provenance.kernels <<<"$texp2")"
echo "the same kernels again: kernel_cache hit, $(jq .shards.tiles.found <<<"$texp2") tiles found on the server, none computed"
