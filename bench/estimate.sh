#!/bin/sh
# The dry-run cost estimate (POST /api/v1/experiments?dry_run=true: estimated_seconds) against the measured
# time of running the same experiment, on the examples: for each, bench_estimate prints the estimate and runs
# the experiment once (dml_experiment_run, as `dmilab run` does, each in its own process), and this script
# prints the measured wall and CPU seconds, their ratios to the estimate, and whether the estimate is within a
# factor 1.5 of the wall time. The estimate is of wall-clock seconds on THREADS threads on an otherwise idle
# machine: on a loaded one the wall time grows (the load average is printed; cpu/THREADS is printed too, a
# lower bound of the idle wall time where the work is parallel, too low where it is serial, as data loading is).
#
# Usage: bench/estimate.sh [BUILD_DIR] [SPEC.json ...]   (after `ninja -C BUILD_DIR bench/bench_estimate`)
# Environment: THREADS (2). Default specs: every examples/*.json. Exit status 0 when every estimate is within
# a factor 1.5 of the wall time, 1 otherwise, 2 on a usage or run error. Not a test: timings depend on the
# machine and its load (the figures of the reference machine are in bench/README.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$root/build
if [ $# -gt 0 ] && [ -d "$1" ]; then build=$1; shift; fi
threads=${THREADS:-2}
exe=$build/bench/bench_estimate
[ -x "$exe" ] || { echo "build $exe first: ninja -C $build bench/bench_estimate" >&2; exit 2; }
[ $# -gt 0 ] || set -- "$root"/examples/*.json
echo "# dry-run estimate vs measured, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, threads=$threads, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-40s %10s %9s %9s %11s %15s %s\n' spec estimated wall cpu wall/est cpu/thr/est verdict
status=0
for spec in "$@"; do
    line=$("$exe" --threads "$threads" --run "$spec") || { echo "estimate.sh: $spec failed" >&2; exit 2; }
    f() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    est=$(f estimated_s); wall=$(f wall_s); cpu=$(f cpu_s)
    verdict=$(awk -v e="$est" -v w="$wall" -v c="$cpu" -v t="$threads" 'BEGIN {
        r = w / e; q = c / t / e; ok = (r <= 1.5 && r >= 1 / 1.5);
        printf "%.2f %.2f %s", r, q, ok ? "ok" : "OFF" }')
    set -- $verdict
    [ "$3" = ok ] || status=1
    printf '%-40s %10s %9s %9s %11s %15s %s\n' "$(basename "$spec")" "$est" "$wall" "$cpu" "$1" "$2" "$3"
done
exit $status
