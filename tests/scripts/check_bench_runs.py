#!/usr/bin/env python3
"""bench/README.md's three-run tables are the runs pasted under them.

Each "Issue 30" section that compares three runs of `bench/run.sh --avx2 --no-train` has a table
(| | run 1 | run 2 | run 3 | three runs apart |) and, below it, the runs' interleaved rounds as
bench/run.sh printed them (<details><summary>Run N</summary>). This recomputes every cell of the
table from those printouts: each ratio is the median the run printed for its build, "three runs
apart" is (max - min) / median of the three, and the samples/s rows are the runs' medians. A cell
typed by hand, a row this check does not know, or a run pasted without updating the table, fails.

  check_bench_runs.py SOURCE_ROOT
"""
import re
import sys

# table label -> the label of bench/run.sh's "ratio within each round" line
RATIOS = {
    "tape / fast dense step": "tape / dense fused step",
    "deltas / fast dense step": "deltas / dense fused step",
    "deltas, article recipe / fast dense step": "deltas, article recipe / dense fused step",
    "fast dense step / plain dense step": "dense fused step / its plain loops",
    "tape / numpy": "tape / numpy",
    "deltas / numpy": "deltas / numpy",
    "deltas, article recipe / numpy": "deltas, article recipe / numpy",
    "tape / fast dense step, both with W0 cold": "tape / dense fused step, both cold",
    "deltas / fast dense step, both with W0 cold": "deltas / dense fused step, both cold",
    "tape cold / tape warm": "tape cold / tape",
    "fast dense step cold / warm": "dense fused step cold / dense fused step",
}
# table label -> the "samples/s per round" line
RATES = {
    "tape": "sgd_step/engine:tape/recipe:fixed",
    "deltas": "sgd_step/engine:deltas/recipe:fixed",
    "fast dense step": "sgd_step/dense_fused",
    "numpy": "numpy, the article's code",
}
BUILDS = {"AVX-512": "build build (AVX-512)", "AVX2": "build-avx2 build (AVX2)"}
HEAD = "| | run 1 | run 2 | run 3 | three runs apart |"


def run_medians(text):
    """{build: {line label: median as printed}} of one pasted run."""
    out = {}
    for part in re.split(r"\ninterleaved rounds, ", text)[1:]:
        build = next((b for b, head in BUILDS.items() if part.startswith(head)), None)
        if build is None:
            continue
        medians = {}
        for line in part.splitlines():
            m = re.match(r"^(\S.*?)\s{2,}([\d.,]+)x?\s+[\d.,]+x?-[\d.,]+x?\s+\d+%", line)
            if m:
                medians[m[1].strip()] = m[2]
        out[build] = medians
    return out


def check_section(title, section):
    bad = []
    runs = [run_medians(m[1]) for m in
            re.finditer(r"<details><summary>Run \d</summary>\s*```text\n(.*?)```", section, re.DOTALL)]
    if len(runs) != 3 or any(set(r) != set(BUILDS) for r in runs):
        return [f"{title}: not three pasted runs with both builds' rounds"]
    build = None
    rows = 0
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith(HEAD) or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        label = cells[0]
        m = re.match(r"\*\*(AVX-512|AVX2) build\*\*: (.*)", label)
        if m:
            build, label = m[1], m[2]
        if label in RATIOS and build:
            key = RATIOS[label]
            vals = [float(r[build][key]) for r in runs]
            digits = 1 if "numpy" in label else 2
            want = [f"{v:.{digits}f}x" for v in vals]
            apart = (max(vals) - min(vals)) / sorted(vals)[1]
            want.append(f"{apart * 100:.0f}%")
            if cells[1:5] != want:
                bad.append(f"{title}: '{build} {label}' is {cells[1:5]}, the runs say {want}")
            rows += 1
            continue
        m = re.fullmatch(r"samples/s, (.*?)( \(AVX-512 / AVX2\), medians of the rounds)?", label)
        if m and m[1] in RATES:
            want = [f"{r['AVX-512'][RATES[m[1]]]} / {r['AVX2'][RATES[m[1]]]}" for r in runs]
            if cells[1:4] != want:
                bad.append(f"{title}: '{label}' is {cells[1:4]}, the runs say {want}")
            rows += 1
            continue
        bad.append(f"{title}: a row this check does not know: {label!r}")
    if rows == 0:
        bad.append(f"{title}: no row checked")
    return bad


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(f"{argv[1]}/bench/README.md", encoding="utf-8") as f:
        text = f.read()
    sections = re.split(r"\n(?=## )", text)
    checked, bad = 0, []
    for section in sections:
        if HEAD in section:
            title = section.splitlines()[0].lstrip("# ")
            bad += check_section(title, section)
            checked += 1
    if checked == 0:
        bad.append("bench/README.md has no three-run table")
    for b in bad:
        print(b)
    if bad:
        return 1
    print(f"bench_runs: {checked} three-run tables of bench/README.md are their pasted runs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
