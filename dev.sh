#!/usr/bin/env bash
# dmilab developer entry point: installs what is missing (Debian 12, as root), builds, then
#   ./dev.sh serve [dmilab serve flags...]   starts the service (127.0.0.1:8080, database ./dmilab.db)
#   ./dev.sh test                            runs every test (and the core unit tests again in an ASan + UBSan
#                                            debug build, build-asan/) and ends with "N passed, N failed"
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

# The fast core unit tests, run again in a debug build with AddressSanitizer and UBSan (asserts on: layer
# chaining, window bounds, workspace capacity, ping-pong buffers). Chosen to add about two minutes, build
# included: nn_grad and nn_kernel run in the release build only (their layers are covered here by
# layers_reference's finite differences and by nn_reference).
ASAN_TESTS=(kernel_golden kernel_identities kernel_reference kernel_erf_avx512 kernel_erf_avx2 kernel_erf_scalar
            kernel_f32_avx512 kernel_f32_avx2 kernel_f32_scalar layers layers_reference ridge spec data nn_reference nn_winograd experiment readout lab tiles
            cholesky)

build_asan() {
    if [ ! -f build-asan/build.ninja ]; then
        meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_ndebug=false >/dev/null
    fi
    local targets=()
    for t in "${ASAN_TESTS[@]}"; do
        case "$t" in kernel_erf_*) t=kernel_erf ;; kernel_f32_*) t=kernel_f32 ;; esac
        targets+=("tests/test_$t")
    done
    ninja -C build-asan "${targets[@]}" >/dev/null
}

# Count the results of the meson test runs from their JSON logs and print the closing summary line.
summary() {
    local passed=0 failed=0 skipped=0 log
    for log in "$@"; do
        [ -f "$log" ] || continue
        passed=$((passed + $(grep -c '"result": "OK"' "$log" || true)))
        skipped=$((skipped + $(grep -c '"result": "SKIP"' "$log" || true)))
        failed=$((failed + $(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)))
    done
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
        logs=(build/meson-logs/testlog.json)
        if [ $# -eq 0 ]; then
            build_asan
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                meson test -C build-asan --no-rebuild --print-errorlogs "${ASAN_TESTS[@]}" || rc=$?
            logs+=(build-asan/meson-logs/testlog.json)
        fi
        summary "${logs[@]}" || rc=1
        exit $rc
        ;;
    slow)
        build
        rc=0
        meson test -C build --setup slow --suite slow --print-errorlogs "$@" || rc=$?
        summary build/meson-logs/testlog.json || rc=1
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
