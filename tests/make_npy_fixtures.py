#!/usr/bin/env python3
"""Write the .npy fixtures of tests/test_npy.c into tests/data/npy/ with NumPy's own writer
(numpy.lib.format.write_array), and manifest.txt, which lists for each file its dtype, shape and values
(exact, as float.hex()) or, for files the reader must refuse, a fragment of the expected error.

Run from the repository root:  python3 tests/make_npy_fixtures.py   (Debian: apt-get install python3-numpy)
The outputs are committed; the test suite does not need NumPy."""
import io
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "npy")


def values(dtype, count):
    """count values spanning the dtype: its extremes, zero, and an irregular spread."""
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        lo, hi = int(info.min), int(info.max)
        if dt.itemsize == 8:   # the reader refuses 64-bit integers beyond 2^53 (not exact as doubles)
            lo, hi = max(lo, -(2 ** 53)), min(hi, 2 ** 53)
        v = [lo, hi, 0, 1, hi - 1]
        v += [lo + (hi - lo) * ((37 * i) % 101) // 100 for i in range(count - len(v))]
    else:
        info = np.finfo(dt)
        v = [float(info.max), -float(info.max), float(info.tiny), float(info.tiny) * 2 ** -10, -0.0, 0.0, 1.0 / 3.0]
        v += [((37 * i) % 101 - 50) / 7.0 * 10.0 ** ((i % 9) - 4) for i in range(count - len(v))]
    return np.array(v[:count], dtype=dt)


def write(name, arr, version=None):
    with open(os.path.join(OUT, name), "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    lines = ["# file  version  dtype  big_endian  ndim  shape...  then the values (float.hex), or: file  error  fragment"]
    shapes = {"flat": (3, 4), "1d": (2, 3, 2), "2d": (2, 2, 3, 2)}
    kinds = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8"]
    # every dtype and byte order in every shape; the format version cycles so that each dtype and byte order
    # appears in versions 1.0, 2.0 and 3.0, and each shape in all three too
    combo = 0
    for code in kinds:
        orders = ["|"] if code[1] == "1" else ["<", ">"]
        for order in orders:
            combo += 1
            for si, (sname, shape) in enumerate(shapes.items()):
                version = ((si + combo) % 3 + 1, 0)
                dt = np.dtype(order + code)
                arr = values(dt, int(np.prod(shape))).reshape(shape)
                name = "x_%s_%s_%s_v%d.npy" % (code, {"<": "le", ">": "be", "|": "na"}[order], sname, version[0])
                write(name, arr, version)
                flat = arr.astype(np.float64).ravel()
                lines.append(" ".join([name, str(version[0]), dt.name, "1" if order == ">" else "0", str(len(shape))]
                                      + [str(s) for s in shape] + [float(x).hex() for x in flat]))
    # targets and labels as a user would save them with numpy.save (version 1.0, native order)
    for name, arr in [("y_labels_int64.npy", np.array([3, 0, 9, 1, 1, 7], dtype=np.int64)),
                      ("y_labels_uint8.npy", np.array([2, 2, 0, 1], dtype=np.uint8)),
                      ("y_targets_f64.npy", np.array([0.5, -1.25, 3.0], dtype=np.float64)),
                      ("y_targets_f32_2d.npy", np.array([[0.5, -1.25], [3.0, 1e-3]], dtype=np.float32)),
                      ("x_empty.npy", np.zeros((0, 5), dtype=np.float64)),
                      ("scalar.npy", np.array(2.5))]:
        buf = io.BytesIO()
        np.save(buf, arr)
        open(os.path.join(OUT, name), "wb").write(buf.getvalue())
        flat = arr.astype(np.float64).ravel()
        lines.append(" ".join([name, "1", arr.dtype.name, "0", str(arr.ndim)] + [str(s) for s in arr.shape]
                              + [float(x).hex() for x in flat]))
    # arrays numpy writes that the reader refuses, each with a fragment of its error
    refused = [
        ("bad_object.npy", np.array([{"a": 1}, None, "text"], dtype=object), "object arrays"),
        ("bad_fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)), "Fortran-order"),
        ("bad_structured.npy", np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]), "structured dtypes"),
        ("bad_bool.npy", np.array([True, False]), "is not supported"),
        ("bad_float16.npy", np.array([1.5, 2.0], dtype=np.float16), "is not supported"),
        ("bad_complex.npy", np.array([1 + 2j], dtype=np.complex128), "is not supported"),
        ("bad_unicode.npy", np.array(["ab", "c"]), "is not supported"),
        ("bad_int64_beyond_2p53.npy", np.array([0, 2 ** 53 + 1], dtype=np.int64), "beyond 2^53"),
        ("bad_nan.npy", np.array([1.0, np.nan], dtype=np.float32), "NaN"),
        ("bad_inf.npy", np.array([np.inf], dtype=np.float64), "infinite"),
    ]
    for name, arr, fragment in refused:
        write(name, arr)
        lines.append("%s error %s" % (name, fragment))
    open(os.path.join(OUT, "manifest.txt"), "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
