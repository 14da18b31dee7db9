#!/usr/bin/env bash
# dmilab kernel benchmark against the PyTorch peer (DESIGN section 7, reference workloads).
#
# Usage: bench/kernels.sh [--quick] [--vs OLD_BUILD_DIR] [BUILD_DIR]
#   BUILD_DIR  meson build directory holding bench/bench_kernels (default: ./build).
#              Nothing is built here: run `ninja -C BUILD_DIR bench/bench_kernels` first.
#   --quick    smoke run with small n (fcn 1000x1000, lcn/cnn-vec 200x200, cnn-gap 16x16).
#   --vs DIR   also run DIR's bench_kernels (an older build) on the same inputs, right after ours: the table
#              then gives both ratios against the peer and new / old.
#
# Workloads (NNGP + NTK, depth 2, 3x3 'same', relu, 2 threads):
#   fcn     4000 x 4000 at 28x28
#   lcn     1000 x 1000 at 14x14
#   cnn-vec 1000 x 1000 at 14x14
#   cnn-gap   64 x   64 at 14x14
# For each: the peer (bench/peers/torch_kernels.py) runs with --save-inputs into a temp dir, then
# bench_kernels runs on exactly those inputs (and with --vs the old one). The output lines are printed, the
# checksums (sum of all
# NNGP and NTK entries) must agree to 1e-9 relative, and a table of pairs/s and ratio (ours / peer)
# closes the run. Runs are sequential (never two at once), so each side has the machine to itself.
#
# Environment: PYTHON (default /usr/bin/python3), PEER (default bench/peers/torch_kernels.py),
#              THREADS (default 2), OPENBLAS_CORETYPE (default: the kernels `dmilab --version` of BUILD_DIR
#              names, the ones `dmilab serve` runs; exported to every side, the peer's PyTorch included, since
#              Debian's OpenBLAS falls back to its generic Prescott kernels on CPUs it does not know).
# Exit status: 0 when every checksum agrees, 1 on a checksum mismatch, 2 on a usage or run error.
# The full run takes several minutes (the peer's cnn-gap and lcn/cnn-vec dominate).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
quick=0
build=./build
nargs=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        --vs) vs_next=1 ;;
        -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "kernels.sh: unknown option $arg" >&2; exit 2 ;;
        *) if [ "${vs_next:-0}" = 1 ]; then old_build=$arg; vs_next=0; else build=$arg; nargs=$((nargs + 1)); fi ;;
    esac
done
if [ "$nargs" -gt 1 ]; then echo "kernels.sh: at most one BUILD_DIR" >&2; exit 2; fi

PYTHON=${PYTHON:-/usr/bin/python3}
PEER=${PEER:-$here/peers/torch_kernels.py}
THREADS=${THREADS:-2}
ours=$build/bench/bench_kernels
if [ ! -x "$ours" ]; then
    echo "kernels.sh: $ours not found; build it with: ninja -C $build bench/bench_kernels" >&2
    exit 2
fi
if [ ! -f "$PEER" ]; then echo "kernels.sh: peer not found: $PEER (set PEER=...)" >&2; exit 2; fi
old=${old_build:+$old_build/bench/bench_kernels}
if [ -n "$old" ] && [ ! -x "$old" ]; then echo "kernels.sh: $old not found" >&2; exit 2; fi
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -x "$build/server/dmilab" ]; then
    core=$("$build/server/dmilab" --version | sed -n 's/.*OpenBLAS kernels \([A-Za-z0-9]*\).*/\1/p')
    [ -n "$core" ] && export OPENBLAS_CORETYPE=$core
fi

# arch n size
if [ "$quick" = 1 ]; then
    workloads=("fcn 1000 28" "lcn 200 14" "cnn-vec 200 14" "cnn-gap 16 14")
else
    workloads=("fcn 4000 28" "lcn 1000 14" "cnn-vec 1000 14" "cnn-gap 64 14")
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dmilab-bench-kernels.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Run a private copy, so that a rebuild of BUILD_DIR during the (long) run cannot mix two builds
# in one table (bench_kernels links the core statically).
cp "$ours" "$tmp/bench_kernels"
ours_copy=$tmp/bench_kernels
if [ -n "$old" ]; then cp "$old" "$tmp/bench_kernels_old"; old_copy=$tmp/bench_kernels_old; fi

field() { # field NAME LINE -> value of NAME=... in LINE
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

echo "# dmilab kernel benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, threads=$THREADS$([ "$quick" = 1 ] && echo ', QUICK')"
echo "# peer: $PEER"
commit=$(sed -n 's/^#define DMILAB_COMMIT "\(.*\)"$/\1/p' "$build/dmilab_version.h" 2>/dev/null || true)
echo "# ours: $ours (commit ${commit:-unknown} at configure time)${old:+; old: $old}"
echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} for every side; load average $(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
mismatch=0
for w in "${workloads[@]}"; do
    read -r arch n size <<<"$w"
    dir=$tmp/$arch
    common=(--arch "$arch" --n1 "$n" --n2 "$n" --size "$size" --depth 2 --filter 3 --padding same --threads "$THREADS")
    peer_line=$("$PYTHON" "$PEER" "${common[@]}" --save-inputs "$dir") || { echo "kernels.sh: peer failed on $arch" >&2; exit 2; }
    echo "peer   $peer_line"
    our_line=$("$ours_copy" "${common[@]}" --inputs "$dir") || { echo "kernels.sh: bench_kernels failed on $arch" >&2; exit 2; }
    echo "dmilab $our_line"
    old_line=
    if [ -n "$old" ]; then
        old_line=$("$old_copy" "${common[@]}" --inputs "$dir") || { echo "kernels.sh: old bench_kernels failed on $arch" >&2; exit 2; }
        echo "old    $old_line"
    fi
    rm -rf "$dir"

    pp=$(field pairs_per_s "$peer_line"); op=$(field pairs_per_s "$our_line")
    pc=$(field checksum "$peer_line"); oc=$(field checksum "$our_line")
    verdict=$(awk -v a="$pc" -v b="$oc" 'BEGIN {
        d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a); mb = (b < 0 ? -b : b); if (mb > m) m = mb;
        rel = (m > 0 ? d / m : d);
        printf "%s %.2e\n", (rel <= 1e-9 ? "ok" : "MISMATCH"), rel }')
    read -r ok rel <<<"$verdict"
    if [ "$ok" != ok ]; then
        mismatch=1
        echo "kernels.sh: CHECKSUM MISMATCH on $arch: peer $pc, dmilab $oc, relative difference $rel (> 1e-9)" >&2
    fi
    ratio=$(awk -v a="$op" -v b="$pp" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    oldcols=
    if [ -n "$old" ]; then
        olp=$(field pairs_per_s "$old_line"); olc=$(field checksum "$old_line")
        [ "$olc" = "$oc" ] || echo "kernels.sh: note: old checksum $olc differs from ours $oc on $arch" >&2
        oldcols=$(awk -v o="$olp" -v a="$op" -v b="$pp" 'BEGIN { printf " %14s %8.2f %8.3f", o, (b > 0 ? o / b : 0), (o > 0 ? a / o : 0) }')
    fi
    rows+=("$(printf '%-8s %-5s %-11s %14s %14s %8s%s  %-17s %-17s %s (%s)' \
        "$arch" "$size" "${n}x${n}" "$pp" "$op" "$ratio" "$oldcols" "$pc" "$oc" "$ok" "$rel")")
done

echo
oldhead=
[ -n "$old" ] && oldhead=$(printf ' %14s %8s %8s' "old pairs/s" "old rat." "new/old")
printf '%-8s %-5s %-11s %14s %14s %8s%s  %-17s %-17s %s\n' \
    arch size pairs "peer pairs/s" "dmilab pairs/s" ratio "$oldhead" "peer checksum" "dmilab checksum" "checksums (rel diff)"
for r in "${rows[@]}"; do echo "$r"; done
if [ "$mismatch" = 1 ]; then
    echo "kernels.sh: at least one checksum mismatch (see above)" >&2
    exit 1
fi
