#!/usr/bin/python3
"""numpy redoes the cross-check of a gradient dump (nn/dump.hpp) on its own.

Usage: check_dump.py FILE.npz                 check an existing dump
       check_dump.py --write CMD [ARG...]     run CMD ARG... FILE (it writes the dump), check FILE
       check_dump.py --needs-data DIR ...     exit 77 (skipped) unless DIR holds MNIST

From X, Y, W0, W1, W2 alone, numpy recomputes the forward pass (eqs. 1-4), the cost C, the
deltas (eqs. 8-11) and central finite differences of C for a few weights of each matrix, and
compares them with the dump's gW0, gW1, gW2 and C. Exits 0 when every check holds, 1 on a
failure, 77 (meson's "skipped") without numpy.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError as e:
    print(f"check_dump: skipped, numpy is not importable ({e}); apt-get install python3-numpy")
    sys.exit(77)

MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
SHAPES = {"X": (784,), "Y": (10,), "W0": (128, 784), "W1": (64, 128), "W2": (10, 64),
          "gW0": (128, 784), "gW1": (64, 128), "gW2": (10, 64), "C": ()}

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print(f"FAIL: {what}")


def sigmoid(z):
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def cost(X, Y, W0, W1, W2):
    """The categorical cross-entropy -Y . log softmax(Z3), and the forward values."""
    O1 = sigmoid(W0 @ X)
    O2 = sigmoid(W1 @ O1)
    Z3 = W2 @ O2
    log_softmax = Z3 - Z3.max() - np.log(np.sum(np.exp(Z3 - Z3.max())))
    return -np.dot(Y, log_softmax), O1, O2, np.exp(log_softmax)


def close(name, got, want, rtol):
    """max |got - want| <= rtol * max |want|, the scale of the whole matrix."""
    scale = max(np.max(np.abs(want)), 1e-300)
    err = np.max(np.abs(got - want)) / scale
    check(err <= rtol, f"{name}: max |a-b| / max |b| = {err:.3e} > {rtol:.0e}")
    return err


def check_dump(path):
    with np.load(path, allow_pickle=False) as npz:
        d = {name: npz[name] for name in npz.files}
    for name, shape in SHAPES.items():
        check(name in d, f"{name}: missing")
        if name not in d:
            return
        a = d[name]
        check(a.dtype == np.dtype("<f8"), f"{name}: dtype {a.dtype}, expected float64")
        check(a.shape == shape, f"{name}: shape {a.shape}, expected {shape}")
        check(a.flags.c_contiguous, f"{name}: not C order")
    if failures:
        return
    X, Y, W0, W1, W2 = d["X"], d["Y"], d["W0"], d["W1"], d["W2"]
    check(str(d.get("options", "")).startswith("bias=false activation=sigmoid"),
          f"options {d.get('options')!r}: the check assumes the article's network")
    check(np.all((X >= 0) & (X <= 1)), "X: pixels outside [0, 1]")
    check(sorted(Y.tolist()) == [0.0] * 9 + [1.0], f"Y is not one-hot: {Y}")

    # eqs. (1)-(4), (8)-(11), written again in numpy
    C, O1, O2, O3 = cost(X, Y, W0, W1, W2)
    delta3 = O3 - Y
    delta2 = (W2.T @ delta3) * O2 * (1 - O2)
    delta1 = (W1.T @ delta2) * O1 * (1 - O1)
    errors = {
        "C": close("C", d["C"], C, 1e-13),
        "gW2": close("gW2 vs outer(O3 - Y, O2)", d["gW2"], np.outer(delta3, O2), 1e-12),
        "gW1": close("gW1 vs outer(delta2, O1)", d["gW1"], np.outer(delta2, O1), 1e-12),
        "gW0": close("gW0 vs outer(delta1, X)", d["gW0"], np.outer(delta1, X), 1e-12),
    }

    # ... and without any calculus: central differences of C for a few weights of each matrix
    rng = np.random.RandomState(0)
    h = 1e-5
    Ws = [W0.copy(), W1.copy(), W2.copy()]
    for k, W in enumerate(Ws):
        g = d[f"gW{k}"]
        # the weights with the largest gradients, and a few at random
        picks = list(np.argsort(np.abs(g), axis=None)[-3:]) + list(rng.randint(0, W.size, 3))
        for flat in picks:
            i = np.unravel_index(flat, W.shape)
            keep = W[i]
            W[i] = keep + h
            up = cost(X, Y, *Ws)[0]
            W[i] = keep - h
            down = cost(X, Y, *Ws)[0]
            W[i] = keep
            numeric = (up - down) / (2 * h)
            err = abs(numeric - g[i])
            check(err <= 1e-8 + 1e-5 * abs(numeric),
                  f"gW{k}{i}: {g[i]:.10e}, finite differences {numeric:.10e}")
    print(f"check_dump: {path}: numpy {np.__version__}; C and gW0-gW2 match numpy's "
          f"(max rel {max(errors.values()):.1e}) and finite differences"
          if not failures else f"check_dump: {len(failures)} failure(s)")


def has_mnist(folder):
    return all(os.path.isfile(os.path.join(folder, f)) or os.path.isfile(os.path.join(folder, f + ".gz"))
               for f in MNIST_FILES)


def main(args):
    if len(args) >= 2 and args[0] == "--needs-data":
        if not has_mnist(args[1]):
            print(f"check_dump: skipped, no MNIST in {args[1]} (scripts/fetch-mnist)")
            return 77
        args = args[2:]
    if len(args) == 1 and not args[0].startswith("-"):
        check_dump(args[0])
    elif len(args) >= 2 and args[0] == "--write":
        with tempfile.TemporaryDirectory(prefix="check_dump-") as folder:
            path = os.path.join(folder, "dump.npz")
            r = subprocess.run(args[1:] + [path], capture_output=True, text=True, check=False)
            check(r.returncode == 0 and os.path.isfile(path),
                  f"{' '.join(args[1:])} exited {r.returncode}: {r.stderr.strip()}")
            if not failures:
                check_dump(path)
    else:
        print(__doc__)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
