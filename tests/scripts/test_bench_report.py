#!/usr/bin/env python3
"""bench/report.py's interleaved rounds (issue 30), on made-up Google Benchmark outputs: the ratios
are taken within each round, the median and spread are those of the rounds, rounds of two builds
get a table each, and a round without numpy leaves the numpy ratios out instead of failing.
Speed itself is never tested; this checks the arithmetic that reports it.

Usage: test_bench_report.py SOURCE_DIR"""
import json
import os
import subprocess
import sys
import tempfile

source = sys.argv[1]
report = os.path.join(source, "bench", "report.py")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def bench_json(path, rates, isa):
    runs = [{"name": name, "run_name": name, "run_type": "iteration", "family_index": i,
             "per_family_instance_index": 0, "time_unit": "us", "cpu_time": 1e6 / r,
             "real_time": 1e6 / r, "items_per_second": r}
            for i, (name, r) in enumerate(rates.items())]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"context": {"build_isa": isa}, "benchmarks": runs}, f)


def numpy_json(path, rate):
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"samples": 2000, "cpu_samples_per_second": [rate], "wall_samples_per_second": [rate]}, f)


TAPE, DELTAS, ARTICLE = ("sgd_step/engine:tape/recipe:fixed", "sgd_step/engine:deltas/recipe:fixed",
                         "sgd_step/engine:deltas/recipe:article")
DENSE, PLAIN = "sgd_step/dense_fused", "sgd_step/dense_fused_plain"
COLD = "sgd_step_cold"

with tempfile.TemporaryDirectory() as tmp:
    args = []
    # Three rounds of a native build: the machine slows down in round 2 for every benchmark alike,
    # so the ratio within each round stays 1.5 although the samples/s swing by half.
    for r, scale in enumerate([1.0, 0.5, 0.9]):
        b, n = os.path.join(tmp, f"n{r}.json"), os.path.join(tmp, f"n{r}-np.json")
        bench_json(b, {TAPE: 150000 * scale, DELTAS: 160000 * scale, ARTICLE: 155000 * scale,
                       DENSE: 100000 * scale, PLAIN: 80000 * scale,
                       # named as Google Benchmark names a benchmark with its own MinTime
                       COLD + "/engine:tape/recipe:fixed/min_time:0.250": 60000 * scale,
                       COLD + "/dense_fused/min_time:0.250": 50000 * scale}, "AVX-512")
        numpy_json(n, 10000 * scale)
        args += ["--round", "build", b, n]
    # Two rounds of an AVX2 build, the second without numpy, ratios 1.2 and 1.4.
    for r, tape in enumerate([60000, 70000]):
        b = os.path.join(tmp, f"a{r}.json")
        bench_json(b, {TAPE: tape, DELTAS: tape, ARTICLE: tape, DENSE: 50000, PLAIN: 40000}, "AVX2")
        n = "-"
        if r == 0:
            n = os.path.join(tmp, "a0-np.json")
            numpy_json(n, 5000)
        args += ["--round", "build-avx2", b, n]
    out = subprocess.run([sys.executable, report] + args, capture_output=True, text=True)
    check(out.returncode == 0, f"report.py exited {out.returncode}: {out.stderr}")
    text = out.stdout
    native, _, avx2 = text.partition("interleaved rounds, build-avx2 build")
    check("interleaved rounds, build build (AVX-512): 3 rounds" in native, "native header")
    check("(AVX2): 2 rounds" in avx2, "AVX2 header")

    def row(section, label):
        for line in section.splitlines():
            if line.startswith(label + " ") or line.startswith(label + "  "):
                return line.split()
        return None

    def target(section, label):
        """The words after `label` on the line of the issue 30 targets."""
        _, _, targets = section.partition("issue 30 targets")
        for line in targets.splitlines():
            if line.strip().startswith(label):
                return line.strip()[len(label):].split()
        return None

    tape_row = row(native, "tape / dense fused step")
    check(tape_row is not None and tape_row[5:8] == ["1.50x", "1.50x-1.50x", "0%"],
          f"native tape / dense: {tape_row}")
    check(row(native, "tape / numpy") is not None and "15.0x" in row(native, "tape / numpy"),
          f"native tape / numpy: {row(native, 'tape / numpy')}")
    cold = row(native, "tape / dense fused step, both cold")
    check(cold is not None and cold[7] == "1.20x", f"cold ratio, MinTime suffix dropped: {cold}")
    cold_tape = row(native, "tape cold / tape")
    check(cold_tape is not None and cold_tape[4] == "0.40x", f"tape cold / tape: {cold_tape}")
    check(row(avx2, "tape / dense fused step, both cold") is None, "AVX2 has no cold rounds")
    samples = row(native, TAPE)
    # samples/s: median 135,000, min 75,000, max 150,000, spread (150 - 75) / 135 = 56%
    check(samples is not None and samples[1:4] == ["135,000", "75,000-150,000", "56%"],
          f"native tape samples/s: {samples}")
    check(target(native, "tape / dense fused step") == ["1.50x", ">=", "1.5x", "met"], "native target line")
    tape2 = row(avx2, "tape / dense fused step")
    # 1.2 and 1.4: median 1.3, spread 0.2 / 1.3 = 15%
    check(tape2 is not None and tape2[5:8] == ["1.30x", "1.20x-1.40x", "15%"], f"AVX2 tape / dense: {tape2}")
    np2 = row(avx2, "tape / numpy")
    check(np2 is not None and np2[3] == "12.0x" and np2[-1] == "12.00", f"AVX2 numpy from one round only: {np2}")
    check(target(avx2, "tape / dense fused step") == ["1.30x", ">=", "1.5x", "not", "yet"], "AVX2 target line")
    # Without --bench or --round: a usage error, not a traceback.
    bad = subprocess.run([sys.executable, report], capture_output=True, text=True)
    check(bad.returncode == 2 and "needs --bench or --round" in bad.stderr, f"no arguments: {bad.stderr}")

if failures:
    print("test_bench_report: FAILED")
    for f in failures:
        print("  " + f)
    print(text)
    sys.exit(1)
print("test_bench_report: ok")
