#!/usr/bin/python3
"""numpy checks stepgrad's .npz files, and stepgrad reads numpy's.

Usage: check_npz.py NPZ_HELPER   (the tests/scripts/npz_helper executable)
Exits 0 when every check holds, 1 on a failure, 77 (meson's "skipped") without numpy.
"""
import io
import math
import os
import subprocess
import sys
import tempfile
import zipfile

try:
    import numpy as np
except ImportError as e:
    print(f"check_npz: skipped, numpy is not importable ({e}); apt-get install python3-numpy")
    sys.exit(77)

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print(f"FAIL: {what}")


def known_entries():
    """The values npz_helper's known_entries() writes, in its order."""
    inf = math.inf
    return {
        "W0": np.arange(12, dtype=np.float64).reshape(3, 4) * 0.25 - 1.5,
        "b0": np.array([-0.0, 5e-324, 1e308]),
        "special": np.array([inf, -inf, math.nan, 2.2250738585072009e-308, 1.0 / 3.0, -2.5]),
        "lr": np.array(0.1),
        "empty": np.zeros((0, 3)),
        "options": np.array("recipe=fixed activation=sigmoid bias=false seed=42"),
        "note": np.array("na\u00efve \u2211 \U0001F600"),
    }


def bits(a):
    return a.astype("<f8").reshape(-1).view("<u8").tolist()


def dump(npz):
    """The text npz_helper's `dump` prints for the same file."""
    lines = []
    for name in npz.files:
        a = npz[name]
        if a.dtype.kind == "U":
            lines.append(f"{name} str {str(a).encode('utf-8').hex()}")
        else:
            assert a.dtype == np.dtype("<f8"), (name, a.dtype)
            shape = "(" + ", ".join(str(d) for d in a.shape) + ("," if a.ndim == 1 else "") + ")"
            lines.append(f"{name} f8 {shape} " + ",".join(f"{b:016x}" for b in bits(a)))
    return "\n".join(lines) + "\n"


def helper(*args):
    return subprocess.run([sys.argv[1], *args], capture_output=True, text=True, check=False)


def check_ours(folder):
    """numpy.load reads what save_npz wrote, exactly."""
    path = os.path.join(folder, "ours.npz")
    r = helper("write", path)
    check(r.returncode == 0 and os.path.isfile(path), f"npz_helper write failed: {r.stderr.strip()}")
    if not os.path.isfile(path):
        return
    want = known_entries()
    with np.load(path, allow_pickle=False) as npz:
        check(npz.files == list(want), f"entries {npz.files}, expected {list(want)}")
        for name, w in want.items():
            a = npz[name]
            if w.dtype.kind == "U":
                check(a.dtype.kind == "U" and a.shape == (), f"{name}: {a.dtype} {a.shape}")
                check(str(a) == str(w), f"{name}: {str(a)!r}, expected {str(w)!r}")
                continue
            check(a.dtype == np.dtype("<f8"), f"{name}: dtype {a.dtype}, expected float64")
            check(a.flags.c_contiguous, f"{name}: not C order")
            check(a.shape == w.shape, f"{name}: shape {a.shape}, expected {w.shape}")
            check(bits(a) == bits(w), f"{name}: values {a.tolist()}, expected {w.tolist()}")
    # Each member is exactly what np.save writes (numpy >= 1.23 pads headers for growth).
    numpy_version = tuple(int(p) for p in np.__version__.split(".")[:2])
    with zipfile.ZipFile(path) as z:
        check(z.testzip() is None, "a member fails its CRC check")
        for info in z.infolist():
            check(info.compress_type == zipfile.ZIP_STORED, f"{info.filename}: compressed")
            check(info.date_time == (1980, 1, 1, 0, 0, 0), f"{info.filename}: {info.date_time}")
            if numpy_version >= (1, 23):
                saved = io.BytesIO()
                np.save(saved, want[info.filename[:-4]])
                check(z.read(info) == saved.getvalue(),
                      f"{info.filename}: bytes differ from np.save's")


def check_theirs(folder):
    """load_npz reads what numpy.savez and numpy.savez_compressed wrote, exactly."""
    want = known_entries()
    for write in (np.savez, np.savez_compressed):
        path = os.path.join(folder, write.__name__ + ".npz")
        write(path, **want)
        r = helper("dump", path)
        check(r.returncode == 0, f"{write.__name__}: npz_helper dump failed: {r.stderr.strip()}")
        with np.load(path, allow_pickle=False) as npz:
            check(r.stdout == dump(npz),
                  f"{write.__name__}: stepgrad read\n{r.stdout}numpy reads\n{dump(npz)}")


def check_refused(folder):
    """What numpy can write but stepgrad must refuse, each for its reason."""
    cases = {
        "fortran": (np.asfortranarray(np.ones((2, 3))), "fortran_order is True"),
        "int64": (np.arange(3, dtype="<i8"), "dtype '<i8' is not supported"),
        "float32": (np.ones(3, dtype="<f4"), "dtype '<f4' is not supported"),
        "pickle": (np.array([{"a": 1}, None], dtype=object), "dtype '|O' is an array of Python"),
        "rank3": (np.ones((1, 2, 3)), "has rank 3"),
        "strings": (np.array(["a", "b"]), "a string entry must be 0-d"),
    }
    for label, (array, message) in cases.items():
        path = os.path.join(folder, label + ".npz")
        np.savez(path, x=array)
        r = helper("dump", path)
        check(r.returncode == 1 and message in r.stderr and r.stderr.count("\n") == 1,
              f"{label}: exit {r.returncode}, stderr {r.stderr.strip()!r}, expected {message!r}")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory(prefix="check_npz-") as folder:
        check_ours(folder)
        check_theirs(folder)
        check_refused(folder)
    print(f"check_npz: numpy {np.__version__}, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
