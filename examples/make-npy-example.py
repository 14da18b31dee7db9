#!/usr/bin/env python3
"""Write the arrays of examples/npy-stripes-kernels.json: a user's own data set as NumPy .npy files.

Images of 16x16 pixels, one channel, uint8: class 0 holds a bright horizontal bar, class 1 a vertical one, each
at a random row or column on a noisy background. Labels are int64 class indices. The files go to
DATA_ROOT/dmilab-examples/stripes/ (DATA_ROOT: the first argument, default /usr/share/datasets, the server's
default data root), where the spec names them by paths relative to the data root.

    sudo python3 examples/make-npy-example.py            # then: dmilab run examples/npy-stripes-kernels.json
    python3 examples/make-npy-example.py /tmp/data       # then: dmilab run --data-root /tmp/data examples/...

Needs NumPy (Debian: apt-get install python3-numpy). The arrays depend only on the seed below."""
import os
import sys

import numpy as np


def stripes(rng, n, side=16):
    x = rng.integers(0, 120, size=(n, side, side, 1)).astype(np.int64)
    y = rng.integers(0, 2, size=n)
    at = rng.integers(0, side, size=n)
    for i in range(n):
        if y[i] == 0:
            x[i, at[i], :, 0] += 45
        else:
            x[i, :, at[i], 0] += 45
    return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.int64)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets"
    out = os.path.join(root, "dmilab-examples", "stripes")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20220708)
    x_train, y_train = stripes(rng, 400)
    x_test, y_test = stripes(rng, 200)
    for name, a in [("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)]:
        np.save(os.path.join(out, name + ".npy"), a)
    print(out)


if __name__ == "__main__":
    main()
