#!/usr/bin/python3
"""The article's training code in numpy: the reference stepgrad is timed and checked against.

Written from docs/derivation.md (the article "Backpropagation from scratch", Florin
Andrei, 2021): the network 784-128-64-10 without biases, its sigmoid and softmax formulas (5)
and (6), forward_pass (1)-(4), backward_pass (8)-(11) as the article's code has it, erratum E1
included (delta2 uses softmax's element-wise "derivative" of Z2), per-sample SGD (12) with
lambda = 0.001, nn_init after np.random.seed(seed). float64 throughout, one thread.

Usage:
  article_numpy.py [--data DIR] [--samples 2000] [--runs 5] [--json FILE]
      Times per-sample SGD over the first SAMPLES training samples of the article split, RUNS
      times from a fresh network, and prints samples/s per run and their median (CPU time of
      the process, as Google Benchmark's items_per_second; wall time alongside). --json writes
      the figures for bench/run.sh.
  article_numpy.py [--data DIR] [--seed 42] --check N OUT.npz
      Trains one epoch over the first N training samples (seed 42 by default) and saves W0, W1,
      W2 with numpy.savez, for tests/scripts/check_article_numpy.py.

The data: MNIST's four IDX files in DIR (default: data/mnist of the source tree), raw or
gzipped, pooled train-then-test (70,000 items, OpenML's mnist_784 order) and split as the
article's notebook does, RandomState(42).permutation(70000): test = first 21,000, train = the
rest. Pixels are pixel / 255 in float64, as stepgrad reads them (the notebook casts its inputs to
float32; float64 keeps the two programs comparable to the last bits).

Exits 77 (meson's "skipped") when numpy is not importable or the data is missing, 2 on bad usage.
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import sys
import time

# One thread, set before numpy loads its BLAS: the comparison is one core against one core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

try:
    import numpy as np
except ImportError as _e:
    print(f"article_numpy: skipped, numpy is not importable ({_e}); apt-get install python3-numpy")
    sys.exit(77)

SKIP = 77
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
SIZES = [784, 128, 64, 10]
T_RATE = 0.001  # lambda in eq. (12)


# ---- the data ----------------------------------------------------------------------------------

def find_file(folder, name):
    """`name` in `folder`, raw or with .gz appended; None when neither is there."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def read_idx(path):
    """An IDX file of unsigned bytes (raw or gzip) as a numpy array of its dimensions."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    zero, type_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or type_code != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes of payload, the header says {dims}")
    return data.reshape(dims)


def load_article_split(folder):
    """(train_images, train_labels, test_images, test_labels), uint8, the article's split."""
    paths = [find_file(folder, name) for name in MNIST_FILES]
    if None in paths:
        missing = [n for n, p in zip(MNIST_FILES, paths) if p is None]
        return None, f"{folder}: missing {', '.join(missing)} (scripts/fetch-mnist fetches them)"
    train_x, train_y, test_x, test_y = (read_idx(p) for p in paths)
    x = np.concatenate([train_x.reshape(-1, 784), test_x.reshape(-1, 784)])  # OpenML's order
    y = np.concatenate([train_y, test_y])
    perm = np.random.RandomState(42).permutation(len(y))  # train_test_split(0.3, random_state=42)
    n_test = 21000
    test, train = perm[:n_test], perm[n_test:]
    # docs/derivation.md: in this order the third training label is 4 and the seventh is 2.
    if len(y) == 70000 and (y[train[2]], y[train[6]]) != (4, 2):
        return None, f"{folder}: the article split's labels 2 and 6 are {y[train[2]]}, {y[train[6]]}, not 4, 2"
    return (x[train], y[train], x[test], y[test]), None


def inputs(images, labels, n):
    """The first n samples as the article's vectors: O0 = pixels / 255, one-hot Y."""
    x = images[:n].astype(np.float64) / 255.0
    y = np.zeros((n, 10))
    y[np.arange(n), labels[:n]] = 1.0
    return x, y


# ---- the article's code (docs/derivation.md) -------------------------------------------------

def sigmoid(x, derivative=False):
    """eq. (5), the article's formulas."""
    if derivative:
        return np.exp(-x) / ((np.exp(-x) + 1) ** 2)
    return 1 / (1 + np.exp(-x))


def softmax(x, derivative=False):
    """eq. (6), shifted by the max; the "derivative" is the diagonal s (1 - s) only (E3)."""
    exps = np.exp(x - x.max())
    if derivative:
        return exps / np.sum(exps, axis=0) * (1 - exps / np.sum(exps, axis=0))
    return exps / np.sum(exps, axis=0)


def nn_init(sizes=SIZES):
    """W = randn(out, in) * sqrt(1 / out), in the order W0, W1, W2 (call np.random.seed first)."""
    input_layer, hidden_1, hidden_2, output_layer = sizes
    return {
        "W0": np.random.randn(hidden_1, input_layer) * np.sqrt(1. / hidden_1),
        "W1": np.random.randn(hidden_2, hidden_1) * np.sqrt(1. / hidden_2),
        "W2": np.random.randn(output_layer, hidden_2) * np.sqrt(1. / output_layer),
    }


def forward_pass(x_train, params):
    """eqs. (1)-(4); keeps the values in params, as the article does."""
    params["O0"] = x_train                                 # (1)
    params["Z1"] = np.dot(params["W0"], params["O0"])      # (2)
    params["O1"] = sigmoid(params["Z1"])
    params["Z2"] = np.dot(params["W1"], params["O1"])      # (3)
    params["O2"] = sigmoid(params["Z2"])
    params["Z3"] = np.dot(params["W2"], params["O2"])      # (4)
    params["O3"] = softmax(params["Z3"])
    return params["O3"]


def backward_pass(y_train, output, params):
    """eqs. (8)-(11) as the article's code has them, erratum E1 included."""
    change_w = {}
    d3 = output - y_train                                                      # (8)
    change_w["W2"] = np.outer(d3, params["O2"])                                # (11)
    d2 = np.dot(d3, params["W2"]) * softmax(params["Z2"], derivative=True)     # (9), E1
    change_w["W1"] = np.outer(d2, params["O1"])                                # (11)
    d1 = np.dot(d2, params["W1"]) * sigmoid(params["Z1"], derivative=True)     # (10)
    change_w["W0"] = np.outer(d1, params["O0"])                                # (11)
    return change_w


def update_network_parameters(changes_to_w, params, l_rate=T_RATE):
    """eq. (12): every change comes from the weights before this step's update."""
    for key, value in changes_to_w.items():
        params[key] -= l_rate * value


def cost(y, output):
    """eq. (7), the figure the article prints (logs unclipped, erratum E5)."""
    return -(np.dot(y, np.log(output)) + np.dot(1 - y, np.log(1 - output)))


def train(params, x, y):
    """One epoch of per-sample SGD over the rows of x, y; returns (mean cost, accuracy), the
    running figures the article prints (stepgrad's Trainer::step computes the same)."""
    total, correct = 0.0, 0
    with np.errstate(divide="ignore"):  # log(0) once a sample is learnt with certainty
        for xi, yi in zip(x, y):
            output = forward_pass(xi, params)
            changes_to_w = backward_pass(yi, output, params)
            update_network_parameters(changes_to_w, params)
            total += cost(yi, output)
            correct += int(np.argmax(output) == np.argmax(yi))
    return total / len(x), correct / len(x)


def fresh_network(seed):
    np.random.seed(seed)
    return nn_init()


# ---- the two modes -----------------------------------------------------------------------------

def time_training(x, y, samples, runs, seed):
    train(fresh_network(seed), x[:min(200, samples)], y[:min(200, samples)])  # warm-up
    cpu, wall = [], []
    for _ in range(runs):
        params = fresh_network(seed)
        w0, c0 = time.perf_counter(), time.process_time()
        train(params, x[:samples], y[:samples])
        c1, w1 = time.process_time(), time.perf_counter()
        cpu.append(samples / (c1 - c0))
        wall.append(samples / (w1 - w0))
    return cpu, wall


def main():
    parser = argparse.ArgumentParser(description="the article's numpy training code, timed or checked")
    parser.add_argument("--data", default=os.path.join(SOURCE_ROOT, "data", "mnist"),
                        help="folder with MNIST's four IDX files (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=2000, help="samples per timed run")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (the median is reported)")
    parser.add_argument("--seed", type=int, default=42, help="np.random.seed before nn_init")
    parser.add_argument("--json", metavar="FILE", help="write the timings to FILE")
    parser.add_argument("--check", nargs=2, metavar=("N", "OUT.npz"),
                        help="train one epoch on the first N samples, save W0, W1, W2 to OUT.npz")
    args = parser.parse_args()
    if args.samples < 1 or args.runs < 1:
        parser.error("--samples and --runs must be at least 1")

    split, problem = load_article_split(args.data)
    if split is None:
        print(f"article_numpy: skipped, no MNIST: {problem}")
        return SKIP
    train_images, train_labels, _, _ = split

    if args.check:
        n = int(args.check[0])
        if not 1 <= n <= len(train_labels):
            parser.error(f"--check N: N must be in 1..{len(train_labels)}")
        x, y = inputs(train_images, train_labels, n)
        params = fresh_network(args.seed)
        mean_cost, accuracy = train(params, x, y)
        np.savez(args.check[1], W0=params["W0"], W1=params["W1"], W2=params["W2"])
        print(f"article_numpy: trained {n} samples (seed {args.seed}, lr {T_RATE}): "
              f"running cost {mean_cost:.6f}, accuracy {accuracy:.4f}; wrote {args.check[1]}")
        return 0

    samples = min(args.samples, len(train_labels))
    x, y = inputs(train_images, train_labels, samples)
    cpu, wall = time_training(x, y, samples, args.runs, args.seed)
    print(f"article_numpy: numpy {np.__version__}, float64, one thread, per-sample SGD "
          f"(article recipe), {samples} samples x {args.runs} runs")
    print("  samples/s (CPU time): " + ", ".join(f"{v:.0f}" for v in cpu))
    print("  samples/s (wall):     " + ", ".join(f"{v:.0f}" for v in wall))
    print(f"  median: {statistics.median(cpu):.0f} samples/s CPU, "
          f"{statistics.median(wall):.0f} samples/s wall "
          f"({1e6 / statistics.median(cpu):.0f} us per sample)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"numpy": np.__version__, "samples": samples, "runs": args.runs,
                       "cpu_samples_per_second": cpu, "wall_samples_per_second": wall}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
