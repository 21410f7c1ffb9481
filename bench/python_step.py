#!/usr/bin/python3
"""One training step per sample called from Python, against the same step looped in C++ and the
article's numpy code, all measured in one run (issue 27; bench/README.md, docs/python.md).

    bench/python_step.py [--build build] [--data DIR] [--samples 2000] [--runs 5] [--json FILE]

Each run trains a fresh network (seed 42) on the first SAMPLES training samples of the article
split, per-sample SGD, once per variant, the variants interleaved run after run:

  python loop, fixed/tape      for x, y in zip(X, Y): step.step(net, x, y)   (what a notebook does)
  C++ loop, fixed/tape         step.train(net, X, Y): TrainingStep::step in a C++ loop
  python loop, article/deltas  the article's recipe (E1 included), one call per sample
  numpy, article               the article's code (bench/article_numpy.py), one thread
  stepgrad_bench               sgd_step/engine:tape/recipe:fixed (Trainer::step), when BUILD/bench
                               has it: the C++ step as bench/run.sh times it

It prints samples/s (CPU time of the process, medians over the runs) and the two ratios of the
issue: the Python-called step against the C++ step (target >= 0.5), and against numpy (target
>= 10, the same algorithm: the article recipe). Speed is reported, never asserted (exit 0);
exits 77 without numpy, the module or MNIST.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core against one core, before numpy loads its BLAS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP = 77


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    p.add_argument("--samples", type=int, default=2000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args()
    sys.path.insert(0, os.path.join(args.build, "python"))
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import numpy as np
        import stepgrad as sg
        import article_numpy as article
    except ImportError as e:
        print(f"python_step: skipped, {e} (build the module: ninja -C {args.build})")
        return SKIP
    try:
        X, labels, _, _ = sg.load_mnist(args.data, "article", args.samples)
    except RuntimeError as e:
        print(f"python_step: skipped, no MNIST: {e}")
        return SKIP
    Y = np.eye(10)[labels]
    n = len(X)

    def python_loop(recipe, engine):
        def run():
            net, step = sg.Network(seed=42), sg.TrainingStep()
            for x, y in zip(X, Y):
                step.step(net, x, y, engine, recipe)
        return run

    def cpp_loop():
        sg.TrainingStep().train(sg.Network(seed=42), X, Y, "tape", "fixed")

    def numpy_article():
        np.random.seed(42)
        article.train(article.nn_init(), X, Y)

    variants = {
        "python loop, fixed/tape": python_loop("fixed", "tape"),
        "C++ loop, fixed/tape": cpp_loop,
        "python loop, article/deltas": python_loop("article", "deltas"),
        "numpy, article": numpy_article,
    }
    for f in variants.values():  # warm-up: caches, allocations, numpy's first calls
        f()
    rates = {k: [] for k in variants}
    for _ in range(args.runs):
        for name, f in variants.items():
            c0 = time.process_time()
            f()
            rates[name].append(n / (time.process_time() - c0))
    med = {k: statistics.median(v) for k, v in rates.items()}

    bench = os.path.join(args.build, "bench", "stepgrad_bench")
    if os.access(bench, os.X_OK):
        out = subprocess.run([bench, "--benchmark_filter=^sgd_step/engine:tape/recipe:fixed$",
                              f"--benchmark_repetitions={args.runs}", "--benchmark_format=json",
                              "--benchmark_display_aggregates_only=true", f"--data={args.data}"],
                             check=True, capture_output=True, text=True).stdout
        for b in json.loads(out)["benchmarks"]:
            if b.get("aggregate_name") == "median":
                med["stepgrad_bench (Trainer::step)"] = b["items_per_second"]

    cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(
        ["lscpu"], capture_output=True, text=True).stdout.splitlines()
        if l.startswith("Model name")), "unknown CPU")
    print(f"python_step: {cpu}, {n} samples x {args.runs} runs, CPU time, medians")
    for name, v in med.items():
        print(f"  {name:32} {v:9.0f} samples/s  {1e6 / v:7.1f} us/sample")
    py_vs_cpp = med["python loop, fixed/tape"] / med["C++ loop, fixed/tape"]
    py_vs_numpy = med["python loop, article/deltas"] / med["numpy, article"]
    print(f"  Python-called step / C++ step:      {py_vs_cpp:5.2f}x  (target >= 0.5: "
          f"{'met' if py_vs_cpp >= 0.5 else 'not met'})")
    if "stepgrad_bench (Trainer::step)" in med:
        r = med["python loop, fixed/tape"] / med["stepgrad_bench (Trainer::step)"]
        print(f"  Python-called step / stepgrad_bench: {r:5.2f}x")
    print(f"  Python-called step / article numpy: {py_vs_numpy:5.1f}x  (target >= 10: "
          f"{'met' if py_vs_numpy >= 10 else 'not met'}; the article recipe both)")
    print(f"  fixed/tape from Python / article numpy: "
          f"{med['python loop, fixed/tape'] / med['numpy, article']:5.1f}x")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"cpu": cpu, "samples": n, "runs": args.runs, "median": med,
                       "samples_per_second": rates}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
