#!/usr/bin/env bash
# Dashboard in a real browser: starts dmilab on a free port with a fresh database, runs a kernel experiment
# (examples/fmnist-fcn-kernels.json) and a small trained one with checks (one passing, one failing), then
# loads the dashboard for each in headless Chromium (--dump-dom after the page's scripts ran) and checks what
# a researcher would see: the experiment listed and selected, its status, learning-curve charts drawn by
# uPlot, the training-curve charts and the check verdicts of the trained one, and no JavaScript error on the
# console. Skipped (exit 77) when Chromium is not installed (`./dev.sh test` installs it).
#
# Usage: test_dashboard.sh DMILAB_EXE EXAMPLES_DIR
set -u
exe=$1
examples=$2
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "SKIP: chromium is not installed"
    exit 77
fi

work=$(mktemp -d)
# a browser that cannot start here (no sandbox support, no shared memory...) is the machine's problem, not
# the dashboard's: probe it on a blank page first
if ! timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --user-data-dir="$work/probe" --dump-dom about:blank 2>"$work/probe.err" | grep -q '<body'; then
    echo "SKIP: chromium does not run here:"
    tail -5 "$work/probe.err"
    rm -rf "$work"
    exit 77
fi
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {   # check CONDITION-EXIT-STATUS MESSAGE
    if [ "$1" = 0 ]; then
        passed=$((passed + 1))
        echo "ok   $2"
    else
        failed=$((failed + 1))
        echo "FAIL $2"
    fi
}

# a free port: try a few from a per-process offset
port=
for try in 0 1 2 3 4 5 6 7 8 9; do
    p=$((20000 + ($$ * 7 + try * 131) % 20000))
    "$exe" serve --port "$p" --db "$work/db.sqlite" --threads 2 >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 50); do
        curl -sf "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if curl -sf "http://127.0.0.1:$p/healthz" >/dev/null 2>&1; then
        port=$p
        break
    fi
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
done
if [ -z "$port" ]; then
    echo "FAIL could not start dmilab serve"
    cat "$work/server.log"
    exit 1
fi
base=http://127.0.0.1:$port

submit() {   # submit FILE -> prints the experiment id
    curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$1" "$base/api/v1/experiments" |
        sed -n 's/^{"id":"\([^"]*\)".*/\1/p'
}

cat >"$work/trained.json" <<'EOF'
{"name": "browser test: trained fcn", "seed": 1,
 "data": {"name": "f7", "source": "fashion-mnist", "resize": 4, "subset": "head", "n_train": [100, 200], "n_test": 200},
 "models": {"name": "fcn", "arch": "fcn", "width": 64},
 "inference": [{"name": "sgd", "method": "sgd", "lr": 0.5, "epochs": 6, "batch": 32}, {"name": "ntk", "method": "ntk"}],
 "checks": [{"arm": "f7/fcn/ntk", "metric": "test_accuracy", "op": ">=", "value": 0.3},
            {"arm": "f7/fcn/sgd", "metric": "test_accuracy", "op": ">=", "value": 0.99}]}
EOF
k_id=$(submit "$examples/fmnist-fcn-kernels.json")
t_id=$(submit "$work/trained.json")
check "$([ -n "$k_id" ] && [ -n "$t_id" ]; echo $?)" "two experiments submitted ($k_id, $t_id)"
for id in "$k_id" "$t_id"; do
    curl -s "$base/api/v1/experiments/$id/wait?timeout=120" | grep -q '"status":"succeeded"'
    check $? "experiment $id succeeded"
done

# The page as a browser renders it: --dump-dom prints the DOM once the page is idle (virtual time lets the
# polling and the chart drawing run); --enable-logging=stderr reports console messages as CONSOLE lines.
render() {   # render ID OUT_PREFIX
    timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --disable-background-networking --user-data-dir="$work/profile-$2" --window-size=1280,900 \
        --enable-logging=stderr --v=0 --virtual-time-budget=8000 --dump-dom "$base/#$1" \
        >"$work/$2.html" 2>"$work/$2.err"
}

count() { grep -o -- "$1" "$2" | wc -l; }

render "$k_id" kernels
check $? "chromium rendered the kernel experiment"
dom=$work/kernels.html
check "$(grep -q "data-id=\"$k_id\"" "$dom"; echo $?)" "the experiment list shows $k_id"
check "$(grep -q 'id="detail-name">fmnist fcn kernels<' "$dom"; echo $?)" "the detail panel shows the experiment's name"
check "$(grep -q 'class="status status-succeeded" id="detail-status">succeeded<' "$dom"; echo $?)" "its status badge reads succeeded"
check "$(grep -q '8 points from 2 arms' "$dom"; echo $?)" "its results note: 8 points from 2 arms"
n=$(count 'class="uplot' "$dom")
check "$([ "$n" -ge 2 ]; echo $?)" "uPlot drew the two learning-curve charts ($n)"
check "$(grep -q 'id="training-section" class="training-section" aria-labelledby="training-title" hidden' "$dom"; echo $?)" \
    "no training-curve section for kernel arms"

render "$t_id" trained
check $? "chromium rendered the trained experiment"
dom=$work/trained.html
n=$(count 'class="uplot' "$dom")
check "$([ "$n" -ge 4 ]; echo $?)" "learning curves and training curves drawn ($n uPlot charts)"
check "$(! grep -q 'id="training-section" class="training-section" aria-labelledby="training-title" hidden' "$dom"; echo $?)" \
    "the training-curve section is shown"
check "$(grep -q 'class="check-pass"' "$dom" && grep -q 'class="check-fail"' "$dom"; echo $?)" \
    "the checks table shows one passing and one failing check"
check "$(grep -q '1 of 2 checks passed' "$dom"; echo $?)" "the checks note: 1 of 2 checks passed"

errors=$(grep -h 'CONSOLE' "$work/kernels.err" "$work/trained.err" | grep -E -i 'error|uncaught' || true)
check "$([ -z "$errors" ]; echo $?)" "no JavaScript errors on the console${errors:+: $errors}"

echo "dashboard: $passed passed, $failed failed"
[ "$failed" = 0 ]
