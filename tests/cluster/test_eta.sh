#!/usr/bin/env bash
# The experiment's eta_seconds while a kernel split into tile shards runs (issues 15, 16): the time left of the
# whole kernel, not of the tile shard in flight (which restarted at every shard: "1 s left", then "64 s left").
# The test is the worker: it claims tile shards through the worker routes and renews them with a fraction and an
# ETA of its choosing, and checks the experiment's eta_seconds against the rule of docs/tiles.md, with the shard
# weights read from the server's database: eta + eta / ((1 - fraction) w_self) (queued tile weight / running tile
# shards + solve weight), counted down by the time since that renewal (checked over a 1.5 s sleep); every other
# number is the test's own or the server's plan.
# Usage: test_eta.sh DMILAB SPEC
DMILAB=$1
SPEC=$2
. "$(dirname "$0")/lib.sh"

dir=$(mktemp -d)
cleanup() {
    local rc=$?
    set +e
    [ -n "${SERVER_PID:-}" ] && kill -9 "$SERVER_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$dir"
    exit $rc
}
trap cleanup EXIT

port=$(free_port)
url="http://127.0.0.1:$port"
start_server "$dir" "$port" --workers 0 --tile-rows 8 --shard-tiles 6 --lease-seconds 600
post() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$2" "$url$1"; }
id=$(post /api/v1/experiments "@$SPEC" | jq -r .id)
claim() { post /api/v1/workers/claim "{\"worker\": \"$1\", \"threads\": 1}"; }
renew() {   # WORKER INDEX FRACTION ETA
    post /api/v1/workers/renew "{\"worker\": \"$1\", \"experiment_id\": \"$id\", \"index\": $2, \"fraction\": $3, \"eta_seconds\": $4}" |
        jq -e .held >/dev/null || fail "renewal of shard $2 by $1 not held"
}
eta() { curl -fsS "$url/api/v1/experiments/$id" | jq .eta_seconds; }
# the shard plan: weight, kind, status of every shard, from the database (read-only, beside the server's WAL)
plan() {
    python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for row in db.execute("SELECT idx, kind, status, COALESCE(weight, points) FROM shards WHERE experiment_id = ? ORDER BY idx", (sys.argv[2],)):
    print(*row)' "$dir/dmilab.db" "$id"
}
# expected ETA for shard IDX renewed at FRACTION with ETA, by the plan now
expect() {
    plan | awk -v me="$1" -v f="$2" -v e="$3" '
        $2 == "tile" && $3 == "queued" {q += $4} $2 == "tile" && $3 == "running" {r++}
        $2 == "solve" && $3 != "done" {s += $4} $1 == me {w = $4}
        END {if (r < 1) r = 1; printf "%.9g\n", e + e / ((1 - f) * w) * (q / r + s)}'
}
# GOT is WANT as estimated at the renewal, counted down by the time since (a read counts the ETA down): at most 2 s
close_to() { python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (max(b - 2, 0) - 1e-6 <= a <= b + 1e-6 * max(abs(b), 1)))' "$1" "$2"; }

a=$(claim wa)
ia=$(jq .shard.index <<<"$a")
[ "$(jq -r .shard.kind <<<"$a")" = tile ] || fail "the first claim is not a tile shard: $(jq -c .shard <<<"$a")"
ntile=$(plan | awk '$2 == "tile"' | wc -l)
nsolve=$(plan | awk '$2 == "solve"' | wc -l)
[ "$ntile" -ge 3 ] && [ "$nsolve" = 1 ] || fail "the kernel was not split into tile shards and a solve: $(plan | tr '\n' ';')"

# one worker: the kernel's time left is this shard's plus the rest of its tiles and its solve at this shard's rate
renew wa "$ia" 0.5 10
got=$(eta); want=$(expect "$ia" 0.5 10)
close_to "$got" "$want" || fail "one running tile shard at 0.5, 10 s left of it: eta_seconds $got, expected $want"
awk -v g="$got" 'BEGIN {exit !(g > 10)}' || fail "the kernel's ETA ($got) is not above its first shard's (10 s)"
one=$got

# a second worker on the same kernel: the queued tiles are shared by two, so less time is left
b=$(claim wb)
ib=$(jq .shard.index <<<"$b")
[ "$(jq -r .shard.kind <<<"$b")" = tile ] || fail "the second claim is not a tile shard"
renew wa "$ia" 0.5 10
got=$(eta); want=$(expect "$ia" 0.5 10)
close_to "$got" "$want" || fail "two running tile shards: eta_seconds $got, expected $want"
awk -v g="$got" -v o="$one" 'BEGIN {exit !(g < o && g > 10)}' || fail "with two workers the ETA ($got) is not below one worker's ($one)"

# between renewals (a solve shard sends none) the ETA counts down by the time passed
sleep 1.5
later=$(eta)
python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (1.4 <= a - b <= 4))' "$got" "$later" ||
    fail "1.5 s after the renewal the ETA went from $got to $later, not down by about 1.5 s"

# a whole shard's fraction 1 (its last tile done) leaves no rate to extrapolate: its own eta
renew wb "$ib" 1 0
got=$(eta)
close_to "$got" 0 || fail "fraction 1, eta 0: eta_seconds $got, expected 0"
echo "eta: $ntile tile shards and a solve; one worker: $one s for a shard at 0.5 with 10 s left; two workers: $(expect "$ia" 0.5 10) s; 1.5 s later: $later s"
