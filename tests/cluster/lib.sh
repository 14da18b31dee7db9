# Shared helpers of the cluster tests (sourced): a server on a free loopback port, JSON through jq, and the results
# of a single-process run to compare with.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server DIR PORT [flags...]: dmilab serve in the background, its pid in SERVER_PID, waits for /healthz.
start_server() {
    local dir=$1 port=$2
    shift 2
    "$DMILAB" serve --port "$port" --db "$dir/dmilab.db" "$@" >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir/server.log" >&2; fail "the server did not start"; }
        sleep 0.1
    done
    fail "the server did not answer /healthz"
}

# The points of a results JSON without their wall times, sorted, one per line (for bit-identical comparison).
canonical_points() {
    jq -c '[.points[] | del(.seconds)] | sort_by(.arm, .n_train, .repeat) | .[]'
}

# wait_status URL ID TIMEOUT: long-poll until the experiment ends; prints its status.
wait_status() {
    local url=$1 id=$2 timeout=$3 end=$((SECONDS + $3)) st=
    while [ $SECONDS -lt $end ]; do
        st=$(curl -fsS "$url/api/v1/experiments/$id/wait?timeout=5" | jq -r .status)
        case "$st" in succeeded|failed|cancelled) echo "$st"; return 0 ;; esac
    done
    echo "$st"
}

# kill_on_line LOG PATTERN PID: SIGKILL PID as soon as LOG has a line matching PATTERN (polled every 20 ms, for up to
# a minute); prints that line (nothing when it never came).
kill_on_line() {
    local log=$1 pattern=$2 pid=$3 line
    for _ in $(seq 3000); do
        line=$(grep -m1 -- "$pattern" "$log" || true)
        if [ -n "$line" ]; then
            kill -9 "$pid"
            echo "$line"
            return 0
        fi
        sleep 0.02
    done
}
