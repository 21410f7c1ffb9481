#!/usr/bin/python3
"""bench/run.sh's table: stepgrad_bench's repetitions, the numpy reference and a 10_train run.

Usage: report.py [--bench BENCH.json] [--numpy NUMPY.json] [--time TIME.txt] [--metrics METRICS.csv]
                 [--round LABEL BENCH.json NUMPY.json]...

BENCH.json is Google Benchmark's --benchmark_out (JSON, with repetitions), NUMPY.json what
article_numpy.py --json writes, TIME.txt what /usr/bin/time -v -o writes for 10_train, and
METRICS.csv that run's metrics.csv. Each --round is one round of interleaved rounds (bench/run.sh
--rounds): the per-sample steps timed in one fresh process, then numpy (or "-" for none), LABEL
naming the build; the rounds of each label get one table of ratios with their spread. Needs only
Python's standard library. Speeds are reported, never judged: the issues' targets are printed
beside them for reference.
"""
import argparse
import csv
import json
import re
import statistics
import sys

TIME_UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}

# Issue 7's targets (medians, one thread): for reference, never asserted.
TARGET_DELTAS = 40000
TARGET_TAPE = 30000
TARGET_TAPE_OVER_DELTAS = 1.3
TARGET_VS_NUMPY = 12
TARGET_BATCH128 = 70000
TARGET_TRAIN_WALL = 10.0
TARGET_TRAIN_RSS_MB = 150
# Issue 16's (the same run on each CPU family, AVX2 and AVX-512): ratios to references measured
# in the same run.
DENSE = "sgd_step/dense_fused"  # the fast dense fused step (bench/dense_step.hpp), issue 30's yardstick
DENSE_PLAIN = "sgd_step/dense_fused_plain"
COLD_TAPE, COLD_DELTAS, COLD_DENSE = ("sgd_step_cold/engine:tape/recipe:fixed",
                                      "sgd_step_cold/engine:deltas/recipe:fixed", "sgd_step_cold/dense_fused")
BLAS128 = "blas_products/batch:128"
TARGET16_VS_DENSE = 1.0
TARGET16_VS_NUMPY = 12
TARGET16_OF_BLAS = 0.8
TARGET16_TRAIN_WALL = 6.0
TARGET16_TRAIN_RSS_MB = 100
# Issue 30's (medians of interleaved rounds, on AVX-512 and AVX2 builds).
TARGET30_VS_DENSE = 1.5
TARGET30_VS_NUMPY = 15
TAPE = "sgd_step/engine:tape/recipe:fixed"
DELTAS = "sgd_step/engine:deltas/recipe:fixed"
ARTICLE = "sgd_step/engine:deltas/recipe:article"


def fmt_rate(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f}M"
    return f"{v:,.0f}"


def fmt_ratio(v):
    return "-" if v is None else (f"{v:.2f}x" if v < 10 else f"{v:.1f}x")


class Bench:
    """One benchmark's repetitions: samples/s (CPU time, Google Benchmark's items_per_second),
    samples/s on the wall clock, and seconds per iteration (CPU)."""

    def __init__(self, name):
        self.name = name
        self.cpu_rates, self.wall_rates, self.cpu_seconds, self.bytes_rates = [], [], [], []
        self.error = None
        self.order = (0, 0)  # registration order, whatever the interleaving

    def add(self, run):
        self.order = (run.get("family_index", 0), run.get("per_family_instance_index", 0))
        if run.get("error_occurred"):
            self.error = run.get("error_message", "error")
            return
        unit = TIME_UNIT[run.get("time_unit", "ns")]
        cpu = run["cpu_time"] * unit
        real = run["real_time"] * unit
        rate = run.get("items_per_second")
        if rate is None:
            return
        self.cpu_rates.append(rate)
        self.wall_rates.append(rate * cpu / real)  # samples per iteration = rate x cpu time
        self.cpu_seconds.append(cpu)
        if "bytes_per_second" in run:
            self.bytes_rates.append(run["bytes_per_second"])

    def median(self):
        return statistics.median(self.cpu_rates) if self.cpu_rates else None

    def median_wall(self):
        return statistics.median(self.wall_rates) if self.wall_rates else None

    def median_seconds(self):
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else None

    def cv(self):
        if len(self.cpu_rates) < 2:
            return None
        return statistics.stdev(self.cpu_rates) / statistics.mean(self.cpu_rates)


def load_bench(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    benches = {}
    for run in doc.get("benchmarks", []):
        if run.get("run_type") != "iteration":
            continue
        # A benchmark with its own MinTime is named ".../min_time:0.100" by Google Benchmark.
        name = re.sub(r"/min_time:[0-9.]+$", "", run.get("run_name", run["name"]))
        benches.setdefault(name, Bench(name)).add(run)
    return doc.get("context", {}), benches


def parse_time_v(path):
    """Wall seconds, peak RSS in MB, user and system seconds, exit status from `time -v`."""
    text = open(path, encoding="utf-8", errors="replace").read()

    def field(label):
        m = re.search(r"^\s*" + re.escape(label) + r":\s*(.+)$", text, re.M)
        return m.group(1).strip() if m else None

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    seconds = None
    if wall:
        parts = [float(p) for p in wall.split(":")]
        seconds = 0.0
        for p in parts:
            seconds = seconds * 60 + p
    rss = field("Maximum resident set size (kbytes)")
    user, system, status = field("User time (seconds)"), field("System time (seconds)"), field("Exit status")
    return {
        "wall": seconds,
        "rss_mb": int(rss) / 1024 if rss else None,
        "user": float(user) if user else None,
        "system": float(system) if system else None,
        "status": int(status) if status else None,
    }


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def round_ratios(rounds):
    """The ratios of issue 30, one value per round: [(label, [ratio per round])], and the
    samples/s of each benchmark per round. A round is (benches, numpy samples/s or None); within a
    round each ratio compares two figures measured minutes apart at most, in one process."""
    pairs = [
        ("tape / dense fused step", TAPE, DENSE),
        ("deltas / dense fused step", DELTAS, DENSE),
        ("deltas, article recipe / dense fused step", ARTICLE, DENSE),
        ("dense fused step / its plain loops", DENSE, DENSE_PLAIN),
        ("tape / dense fused step, both cold", COLD_TAPE, COLD_DENSE),
        ("deltas / dense fused step, both cold", COLD_DELTAS, COLD_DENSE),
        ("tape cold / tape", COLD_TAPE, TAPE),
        ("dense fused step cold / dense fused step", COLD_DENSE, DENSE),
        ("tape / numpy", TAPE, "numpy"),
        ("deltas / numpy", DELTAS, "numpy"),
        ("deltas, article recipe / numpy", ARTICLE, "numpy"),
    ]

    def rate(benches, numpy_rate, name):
        if name == "numpy":
            return numpy_rate
        b = benches.get(name)
        return b.median() if b and not b.error else None

    out = []
    for label, a, b in pairs:
        values = []
        for benches, numpy_rate in rounds:
            ra, rb = rate(benches, numpy_rate, a), rate(benches, numpy_rate, b)
            if ra and rb:
                values.append(ra / rb)
        out.append((label, values))
    names = [TAPE, DELTAS, ARTICLE, DENSE, DENSE_PLAIN, COLD_TAPE, COLD_DELTAS, COLD_DENSE, "numpy"]
    rates = [(n, [r for r in (rate(bs, nr, n) for bs, nr in rounds) if r]) for n in names]
    return out, rates


def spread(values):
    """(median, min, max, (max - min) / median) of a list of positive numbers."""
    med = statistics.median(values)
    return med, min(values), max(values), (max(values) - min(values)) / med


def print_rounds(label, rounds, isa, data):
    ratios, rates = round_ratios(rounds)
    print(f"interleaved rounds, {label} build ({isa}): {len(rounds)} rounds; each round is one fresh "
          "process of the same binary timing the per-sample steps, their repetitions in random order, "
          "then numpy; a round's figure is the median of its repetitions")
    print(f"  data: {data}")
    rows = []
    for name, values in rates:
        if not values:
            continue
        med, lo, hi, rel = spread(values)
        rows.append([name if name != "numpy" else "numpy, the article's code", fmt_rate(med),
                     f"{fmt_rate(lo)}-{fmt_rate(hi)}", f"{100 * rel:.0f}%"])
    table(rows, ["samples/s per round", "median", "min-max", "spread"])
    print()
    rows = []
    for name, values in ratios:
        if not values:
            continue
        med, lo, hi, rel = spread(values)
        rows.append([name, fmt_ratio(med), f"{fmt_ratio(lo)}-{fmt_ratio(hi)}", f"{100 * rel:.0f}%",
                     " ".join(f"{v:.2f}" for v in values)])
    table(rows, ["ratio within each round", "median", "min-max", "spread", "per round"])
    print("  spread = (max - min) / median over the rounds")
    med = dict((name, statistics.median(v)) for name, v in ratios if v)
    print()
    print(f"issue 30 targets, {label} build ({isa}; medians of the rounds; never asserted)")
    for name, goal in [("tape / dense fused step", TARGET30_VS_DENSE),
                       ("deltas / dense fused step", TARGET30_VS_DENSE),
                       ("tape / numpy", TARGET30_VS_NUMPY), ("deltas / numpy", TARGET30_VS_NUMPY)]:
        v = med.get(name)
        state = "not measured" if v is None else ("met" if v >= goal else "not yet")
        shown = "-" if v is None else f"{v:.2f}x"
        print(f"  {name:44} {shown:>12}   {'>= ' + str(goal) + 'x':<12} {state}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench")
    ap.add_argument("--numpy")
    ap.add_argument("--time")
    ap.add_argument("--metrics")
    ap.add_argument("--round", nargs=3, action="append", default=[],
                    metavar=("LABEL", "BENCH", "NUMPY"))
    args = ap.parse_args()
    if not args.bench and not args.round:
        ap.error("needs --bench or --round")
    if args.bench:
        report_table(args)
    by_label = {}
    for label, bench_path, numpy_path in args.round:
        context, benches = load_bench(bench_path)
        numpy_rate = None
        if numpy_path != "-":
            with open(numpy_path, encoding="utf-8") as f:
                numpy_rate = statistics.median(json.load(f)["cpu_samples_per_second"])
        by_label.setdefault(label, ([], context))[0].append((benches, numpy_rate))
    for label, (rounds, context) in by_label.items():
        print()
        print_rounds(label, rounds, context.get("build_isa", "?"), context.get("data", "?"))
    return 0


def report_table(args):

    context, benches = load_bench(args.bench)
    numpy = None
    if args.numpy:
        with open(args.numpy, encoding="utf-8") as f:
            numpy = json.load(f)
    numpy_rate = statistics.median(numpy["cpu_samples_per_second"]) if numpy else None

    reps = max((len(b.cpu_rates) for b in benches.values()), default=0)
    if "cpu_model" in context:
        print(f"cpu: {context['cpu_model']}, vector ISA: the CPU has {context.get('cpu_isa', '?')}, "
              f"this build uses {context.get('build_isa', '?')}")
    print(f"stepgrad_bench: {reps} repetitions each, randomly interleaved; data: {context.get('data', '?')}")
    if context.get("library_build_type") == "debug":
        print("  (Google Benchmark's own library is a debug build in Debian: it costs the harness, "
              "not the timed code)")
    print("  samples/s: median over the repetitions, from CPU time (Google Benchmark's items_per_second);")
    print("  min-max and CV: over the repetitions; wall: the same on the wall clock; "
          "x numpy: samples/s over numpy's median;")
    print("  x dense: samples/s over the fast dense fused step's median (bench/dense_step.hpp); "
          "blas_products: OpenBLAS's dgemm alone on a minibatch step's products")
    print()
    rows = []
    dense_rate = benches[DENSE].median() if DENSE in benches else None
    for name, b in sorted(benches.items(), key=lambda item: item[1].order):
        if b.error:
            rows.append([name, "error: " + b.error, "", "", "", "", "", ""])
            continue
        step = name.startswith(("sgd_step/", "minibatch_step/"))
        med = b.median()
        spread = f"{fmt_rate(min(b.cpu_rates))}-{fmt_rate(max(b.cpu_rates))}"
        cv = b.cv()
        per_sample = 1e6 / med if med else None
        rows.append([
            name,
            fmt_rate(med),
            spread,
            "-" if cv is None else f"{100 * cv:.1f}%",
            "-" if per_sample is None else (f"{per_sample:.1f}" if per_sample < 1000 else f"{per_sample:,.0f}"),
            fmt_rate(b.median_wall()),
            fmt_ratio(med / numpy_rate) if step and numpy_rate and med else "",
            fmt_ratio(med / dense_rate) if name.startswith("sgd_step/") and dense_rate and med else "",
        ])
    if numpy:
        cpu, wall = numpy["cpu_samples_per_second"], numpy["wall_samples_per_second"]
        cv = statistics.stdev(cpu) / statistics.mean(cpu) if len(cpu) > 1 else None
        rows.append([
            f"numpy article code (per-sample, {numpy['samples']} samples)",
            fmt_rate(numpy_rate),
            f"{fmt_rate(min(cpu))}-{fmt_rate(max(cpu))}",
            "-" if cv is None else f"{100 * cv:.1f}%",
            f"{1e6 / numpy_rate:.1f}",
            fmt_rate(statistics.median(wall)),
            "1.00x",
            fmt_ratio(numpy_rate / dense_rate) if dense_rate else "",
        ])
    table(rows, ["benchmark", "samples/s", "min-max", "CV", "us/sample", "wall", "x numpy", "x dense"])
    idx = benches.get("idx_load/train_images")
    if idx and idx.bytes_rates:
        print(f"  idx_load: samples are images; {statistics.median(idx.bytes_rates) / 2**30:.2f} GiB/s of file")
    if not numpy:
        print("  numpy reference: skipped (see above)")

    # ratios of times from this run
    print()
    print("ratios (medians of this run)")

    def ratio(a, b):
        ba, bb = benches.get(a), benches.get(b)
        if not ba or not bb or not ba.median_seconds() or not bb.median_seconds():
            return None
        return ba.median_seconds() / bb.median_seconds()

    tape_over_deltas = ratio("sgd_step/engine:tape/recipe:fixed", "sgd_step/engine:deltas/recipe:fixed")
    for label, a, b in [
        ("tape time / deltas time, per-sample, fixed recipe",
         "sgd_step/engine:tape/recipe:fixed", "sgd_step/engine:deltas/recipe:fixed"),
        ("tape time / deltas time, minibatch 32", "minibatch_step/engine:tape/batch:32",
         "minibatch_step/engine:deltas/batch:32"),
        ("tape time / deltas time, minibatch 128", "minibatch_step/engine:tape/batch:128",
         "minibatch_step/engine:deltas/batch:128"),
        ("article recipe time / fixed recipe time, deltas", "sgd_step/engine:deltas/recipe:article",
         "sgd_step/engine:deltas/recipe:fixed"),
    ]:
        r = ratio(a, b)
        print(f"  {label:52} {'-' if r is None else f'{r:.2f}'}")
    for base, rate in (("numpy", numpy_rate), ("dense", dense_rate)):
        if not rate:
            continue
        for name in ["sgd_step/engine:tape/recipe:fixed", "sgd_step/engine:deltas/recipe:fixed",
                     "sgd_step/engine:deltas/recipe:article"]:
            b = benches.get(name)
            if b and b.median():
                print(f"  {name + ' / ' + base:52} {b.median() / rate:.2f}")
    blas_rate = benches[BLAS128].median() if BLAS128 in benches else None
    if blas_rate:
        for name in ["minibatch_step/engine:tape/batch:128", "minibatch_step/engine:deltas/batch:128"]:
            b = benches.get(name)
            if b and b.median():
                print(f"  {name + ' / blas_products':52} {b.median() / blas_rate:.2f}")

    # the full training run
    train = parse_time_v(args.time) if args.time else None
    epochs = []
    if args.metrics:
        try:
            with open(args.metrics, encoding="utf-8") as f:
                epochs = list(csv.DictReader(f))
        except OSError:
            epochs = []
    print()
    if train and train["status"] == 0:
        print("10_train --no-plots (article split, 5 epochs, per-sample SGD, recipe fixed, engine tape)")
        cpu = train["user"] + train["system"]
        print(f"  wall {train['wall']:.1f} s, CPU {cpu:.1f} s (user {train['user']:.1f} s, sys {train['system']:.1f} s; "
              f"it ran {100 * cpu / train['wall']:.0f}% of the wall time), peak RSS {train['rss_mb']:.0f} MB")
        if epochs:
            rates = [float(e["samples_per_second"]) for e in epochs]
            secs = [float(e["seconds"]) for e in epochs]
            print("  per epoch (training only, the test-set pass excluded): "
                  + ", ".join(f"{r:,.0f}" for r in rates) + " samples/s"
                  + f"; {sum(secs):.1f} s of the wall time trained, the rest loads, evaluates, saves")
            last = epochs[-1]
            print(f"  after epoch {last['epoch']}: test accuracy {float(last['test_accuracy']):.4f}")
    elif train:
        print(f"10_train: failed (exit status {train['status']}); see its log")
    else:
        print("10_train: not run")

    # issue 7's targets, for reference
    print()
    print("issue 7 targets (for reference; measured on a shared machine, never asserted)")

    def target(label, value, goal, higher_is_better=True, unit=""):
        if value is None:
            state, shown = "not measured", "-"
        else:
            ok = value >= goal if higher_is_better else value <= goal
            state = "met" if ok else "not yet"
            shown = f"{value:,.2f}{unit}" if value < 100 else f"{value:,.0f}{unit}"
        goal_text = f"{'>=' if higher_is_better else '<='} {goal:,}{unit}"
        print(f"  {label:44} {shown:>12}   {goal_text:<12} {state}")

    def med(name):
        b = benches.get(name)
        return b.median() if b else None

    deltas = med("sgd_step/engine:deltas/recipe:fixed")
    tape = med("sgd_step/engine:tape/recipe:fixed")
    target("per-sample deltas (fixed), samples/s", deltas, TARGET_DELTAS)
    target("per-sample tape (fixed), samples/s", tape, TARGET_TAPE)
    target("tape time / deltas time", tape_over_deltas, TARGET_TAPE_OVER_DELTAS, higher_is_better=False)
    target("per-sample deltas / numpy", deltas / numpy_rate if deltas and numpy_rate else None,
           TARGET_VS_NUMPY, unit="x")
    target("per-sample tape / numpy", tape / numpy_rate if tape and numpy_rate else None,
           TARGET_VS_NUMPY, unit="x")
    target("minibatch 128 tape, samples/s", med("minibatch_step/engine:tape/batch:128"), TARGET_BATCH128)
    target("minibatch 128 deltas, samples/s", med("minibatch_step/engine:deltas/batch:128"), TARGET_BATCH128)
    ok_train = train and train["status"] == 0
    target("10_train wall time", train["wall"] if ok_train else None, TARGET_TRAIN_WALL,
           higher_is_better=False, unit=" s")
    target("10_train peak RSS", train["rss_mb"] if ok_train else None, TARGET_TRAIN_RSS_MB,
           higher_is_better=False, unit=" MB")

    print()
    print(f"issue 16 targets, on this CPU family ({context.get('build_isa', '?')} build; "
          "ratios within this run; never asserted)")

    def over(a, b):
        return a / b if a and b else None

    # issue 16's yardstick was the plain dense step (sgd_step/dense_fused_plain since issue 30)
    plain_rate = med(DENSE_PLAIN)
    target("per-sample tape / plain dense step", over(tape, plain_rate), TARGET16_VS_DENSE, unit="x")
    target("per-sample deltas / plain dense step", over(deltas, plain_rate), TARGET16_VS_DENSE, unit="x")
    target("per-sample tape / numpy", over(tape, numpy_rate), TARGET16_VS_NUMPY, unit="x")
    target("per-sample deltas / numpy", over(deltas, numpy_rate), TARGET16_VS_NUMPY, unit="x")
    target("minibatch 128 tape / blas_products", over(med("minibatch_step/engine:tape/batch:128"), blas_rate),
           TARGET16_OF_BLAS, unit="x")
    target("10_train wall time", train["wall"] if ok_train else None, TARGET16_TRAIN_WALL,
           higher_is_better=False, unit=" s")
    target("10_train peak RSS", train["rss_mb"] if ok_train else None, TARGET16_TRAIN_RSS_MB,
           higher_is_better=False, unit=" MB")


if __name__ == "__main__":
    sys.exit(main())
