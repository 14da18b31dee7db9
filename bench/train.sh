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
# Debian's python3-torch), PEER (path of torch_train.py; default ../shared/peers next to the repo).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-$root/build}
threads=${THREADS:-2}
repeats=${REPEATS:-3}
sizes=${SIZES:-28 14}
archs=${ARCHS:-fcn lcn cnn-vec cnn-gap}
python=${PYTHON:-/usr/bin/python3}
peer=${PEER:-$root/../shared/peers/torch_train.py}
[ -x "$build/bench/bench_train" ] || { echo "build $build/bench/bench_train first" >&2; exit 2; }
[ -f "$peer" ] || { echo "PyTorch peer not found: $peer (set PEER)" >&2; exit 2; }

rate() { sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p'; }

echo "threads $threads, batch 128; images/s (wall clock, best of $repeats)"
printf '%-8s %-6s %12s %12s %8s\n' arch size dmilab pytorch ratio
for size in $sizes; do
    for arch in $archs; do
        steps=20
        # PyTorch's locally connected layer (unfold + einsum) runs a few images/s at 28x28
        if [ "$arch" = lcn ] && [ "$size" -ge 28 ]; then steps=3; fi
        ours=0
        theirs=0
        r=0
        while [ "$r" -lt "$repeats" ]; do
            o=$("$build/bench/bench_train" --threads "$threads" --size "$size" --arch "$arch" | rate)
            t=$("$python" "$peer" --threads "$threads" --size "$size" --arch "$arch" --steps "$steps" | rate)
            ours=$(awk -v a="$ours" -v b="$o" 'BEGIN { print (b > a ? b : a) }')
            theirs=$(awk -v a="$theirs" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
            r=$((r + 1))
        done
        awk -v a="$arch" -v s="${size}x$size" -v o="$ours" -v t="$theirs" \
            'BEGIN { printf "%-8s %-6s %12.1f %12.1f %8.2f\n", a, s, o, t, o / t }'
    done
done
