#!/usr/bin/env bash
# dmilab developer entry point: installs what is missing (Debian 12, as root), builds, then
#   ./dev.sh serve [dmilab serve flags...]   starts the service (127.0.0.1:8080, database ./dmilab.db)
#   ./dev.sh test                            runs every test and ends with "N passed, N failed"
#   ./dev.sh slow                            runs the slow suite (longer fuzzing, full-size examples)
#   ./dev.sh build                           only builds
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(gcc pkg-config meson ninja-build git curl ca-certificates
          libmicrohttpd-dev libcjson-dev libsqlite3-dev libopenblas-dev liblapacke-dev zlib1g-dev libsleef-dev
          libcurl4-openssl-dev libssl-dev dataset-fashion-mnist)
# only for `./dev.sh test`: the dashboard test drives headless Chromium from Node (tests/browser/cdp.mjs); the
# cluster tests read JSON with jq and start a single-node Slurm cluster (slurmctld, slurmd, munge; tests/cluster/)
TEST_PACKAGES=(chromium nodejs jq python3 slurmctld slurmd slurm-client munge)

install_missing() {
    local missing=()
    for p in "${PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" != 0 ]; then
            echo "dmilab: missing Debian packages: ${missing[*]}; run this as root (or: sudo apt-get install ${missing[*]})" >&2
            exit 2
        fi
        echo "dmilab: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

build() {
    install_missing "$@"
    if [ ! -f build/build.ninja ]; then
        meson setup build --buildtype=release >/dev/null
    fi
    ninja -C build >/dev/null
}

# Count the results of a meson test run from its JSON log and print the closing summary line.
summary() {
    local log=build/meson-logs/testlog.json passed=0 failed=0 skipped=0
    if [ -f "$log" ]; then
        passed=$(grep -c '"result": "OK"' "$log" || true)
        skipped=$(grep -c '"result": "SKIP"' "$log" || true)
        failed=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
    fi
    echo "${passed} passed, ${failed} failed, ${skipped} skipped"
    [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    serve)
        build
        exec ./build/server/dmilab serve "$@"
        ;;
    test)
        build "${TEST_PACKAGES[@]}"
        rc=0
        meson test -C build --no-suite slow --print-errorlogs "$@" || rc=$?
        summary || rc=1
        exit $rc
        ;;
    slow)
        build
        rc=0
        meson test -C build --setup slow --suite slow --print-errorlogs "$@" || rc=$?
        summary || rc=1
        exit $rc
        ;;
    build)
        build
        ;;
    *)
        sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
