#!/bin/sh
# Training throughput of the finite networks against the PyTorch peer, measured side by side
# (DESIGN section 7, "Training"): the four archs at batch 128, width 64 channels / 512 units, 3x3 same,
# SGD, mse, at 28x28 and 14x14, with the same thread count. Each arch runs ours then PyTorch's back to
# back, so both see the same machine load; this is repeated REPEATS times (alternating) and the best rate of
# each side is kept (best-of-N filters out slow-downs caused by other load on a shared machine). Prints
# images/s of each and the ratio ours / PyTorch.
#
# Usage: bench/train.sh [BUILD_DIR]   (after `ninja -C BUILD_DIR bench/bench_train`)
# Environment: REPEATS (3), THREADS (2), SIZES ("28 14"), ARCHS ("fcn lcn cnn-vec cnn-gap"), PYTHON (/usr/bin/python3,
# Debian's python3-torch), PEER (path of torch_train.py; default bench/peers/torch_train.py), OLD (an older
# build directory: its bench_train runs in the same rounds, and the table adds its rate, its ratio and new / old),
# OPENBLAS_CORETYPE (default: the kernels `dmilab --version` of BUILD_DIR names, the ones `dmilab serve` runs;
# exported to every side, PyTorch included, since Debian's OpenBLAS falls back to its generic Prescott kernels on
# CPUs it does not know).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-$root/build}
threads=${THREADS:-2}
repeats=${REPEATS:-3}
sizes=${SIZES:-28 14}
archs=${ARCHS:-fcn lcn cnn-vec cnn-gap}
python=${PYTHON:-/usr/bin/python3}
peer=${PEER:-$root/bench/peers/torch_train.py}
[ -x "$build/bench/bench_train" ] || { echo "build $build/bench/bench_train first" >&2; exit 2; }
[ -f "$peer" ] || { echo "PyTorch peer not found: $peer (set PEER)" >&2; exit 2; }
old=${OLD:+$OLD/bench/bench_train}
[ -z "$old" ] || [ -x "$old" ] || { echo "$old not found" >&2; exit 2; }
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -x "$build/server/dmilab" ]; then
    core=$("$build/server/dmilab" --version | sed -n 's/.*OpenBLAS kernels \([A-Za-z0-9]*\).*/\1/p')
    [ -n "$core" ] && OPENBLAS_CORETYPE=$core && export OPENBLAS_CORETYPE
fi

rate() { sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p'; }

echo "threads $threads, batch 128; images/s (wall clock, best of $repeats); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$old" ]; then
    printf '%-8s %-6s %12s %12s %8s %12s %8s %8s\n' arch size dmilab pytorch ratio old old-ratio new/old
else
    printf '%-8s %-6s %12s %12s %8s\n' arch size dmilab pytorch ratio
fi
for size in $sizes; do
    for arch in $archs; do
        steps=20
        # PyTorch's locally connected layer (unfold + einsum) runs a few images/s at 28x28
        if [ "$arch" = lcn ] && [ "$size" -ge 28 ]; then steps=3; fi
        ours=0
        theirs=0
        olds=0
        r=0
        while [ "$r" -lt "$repeats" ]; do
            o=$("$build/bench/bench_train" --threads "$threads" --size "$size" --arch "$arch" | rate)
            t=$("$python" "$peer" --threads "$threads" --size "$size" --arch "$arch" --steps "$steps" | rate)
            ours=$(awk -v a="$ours" -v b="$o" 'BEGIN { print (b > a ? b : a) }')
            theirs=$(awk -v a="$theirs" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
            if [ -n "$old" ]; then
                x=$("$old" --threads "$threads" --size "$size" --arch "$arch" | rate)
                olds=$(awk -v a="$olds" -v b="$x" 'BEGIN { print (b > a ? b : a) }')
            fi
            r=$((r + 1))
        done
        awk -v a="$arch" -v s="${size}x$size" -v o="$ours" -v t="$theirs" -v x="$olds" -v w="${old:+1}" \
            'BEGIN { printf "%-8s %-6s %12.1f %12.1f %8.2f", a, s, o, t, o / t;
                     if (w) printf " %12.1f %8.2f %8.3f", x, x / t, o / x; printf "\n" }'
    done
done
