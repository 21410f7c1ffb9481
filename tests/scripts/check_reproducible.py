#!/usr/bin/env python3
"""R19 in docs/reliability.md at the level of the program: two runs of 10_train with the same options write
the same metrics.csv (without its two timing columns) and byte-identical model.npz files, and a
run with another seed does not. Skips (77) without MNIST in SOURCE_ROOT/data/mnist.

Usage: check_reproducible.py SOURCE_ROOT TRAIN_EXE
"""
import os
import subprocess
import sys
import tempfile


def run(exe, data, out, seed):
    subprocess.run([exe, "--data", data, "--limit", "600", "--epochs", "2", "--shuffle", "--seed",
                    str(seed), "--no-plots", "--out", out], check=True, capture_output=True)
    with open(os.path.join(out, "metrics.csv")) as f:
        metrics = [",".join(line.split(",")[:5]) for line in f.read().splitlines()]
    with open(os.path.join(out, "model.npz"), "rb") as f:
        model = f.read()
    return metrics, model


def main():
    root, exe = sys.argv[1], os.path.abspath(sys.argv[2])
    data = os.path.join(root, "data", "mnist")
    if not os.path.isdir(data):
        print(f"no MNIST in {data}: skipped")
        return 77
    with tempfile.TemporaryDirectory() as scratch:
        a = run(exe, data, os.path.join(scratch, "a"), 7)
        b = run(exe, data, os.path.join(scratch, "b"), 7)
        c = run(exe, data, os.path.join(scratch, "c"), 8)
    problems = []
    if a[0] != b[0]:
        problems.append(f"metrics differ:\n  {a[0]}\n  {b[0]}")
    if a[1] != b[1]:
        problems.append("model.npz files differ")
    if a[0] == c[0] or a[1] == c[1]:
        problems.append("another seed gave the same run: the check would not notice anything")
    if problems:
        print("\n".join(problems))
        return 1
    print(f"same seed, same bytes: {len(a[0]) - 1} epochs of metrics, {len(a[1])} bytes of model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
