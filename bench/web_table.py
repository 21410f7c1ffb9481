#!/usr/bin/env python3
"""The explorer's speed table (docs/explorer.md, "Speed"): bench/web.sh prints it, writes it into
the docs with --docs, and the web_speed_doc test checks the docs' copy.

  web_table.py format PAGE_JSON ROUNDS_FILE       the table, from browser.mjs --bench's JSON and
                                                   bench/web.sh's rounds (a JSON line each: the
                                                   30 epochs' samples/s of 10_train for each
                                                   recipe, then the ▶ train button's rates,
                                                   {fixed, article, button: {buttonFixed,
                                                   buttonArticle}}); the first line names the
                                                   date, the machine and its load
  web_table.py docs SOURCE_ROOT TABLE_FILE         puts the table into the block of
                                                   docs/explorer.md and docs/zh/explorer.md
  web_table.py check SOURCE_ROOT                   the docs' block is such a table

The figures vary from run to run (a shared machine, a garbage collector), so the docs' copy is
not compared with a new run: `check` reads it back and checks its shape and its sums instead.
Every line is one this file prints, in order; each ratio is its page rate over its native rate;
the bytes add up to the megabytes; the targets' verdicts are those of the numbers shown; the
sizes are plausible (wasm 0.1-5 MB); and the English and the Chinese page hold the same block.
A line edited out of that shape, or a number that no longer agrees with its ratio, sum or
verdict, fails it (a figure changed within its ratio's rounding does not: no check can tell a
measured number from a typed one). Exits 0 when the blocks are such a table, 1 saying which line
is not.
"""
import json
import os
import re
import statistics
import sys

BEGIN = "<!-- bench/web.sh --docs writes this block; the web_speed_doc test checks its shape -->\n"
END = "<!-- end bench/web.sh -->\n"
PAGES = ["docs/explorer.md", "docs/zh/explorer.md"]
# The targets of issue 24: the page's own ▶ train at half the native rate or more, and a stroke's
# page update while training within 50 ms of the pointer event (at the 90th percentile).
BUTTON_TARGET = 0.5
LAG_TARGET_MS = 50.0

LABEL = 44  # the labels' column width
ROUNDS_LABEL = "  ▶ each round, page/native: fixed; article"


def row(label, page, native="", ratio="", rest=""):
    if rest:
        return f"{label:{LABEL}s} {page:>10s}{rest}"
    return f"{label:{LABEL}s} {page:>10s} {native:>10s} {ratio:>12s}".rstrip()


def spread(s):
    return f"median of {s['n']}, 90th pct {s['p90']:.2f}, max {s['max']:.2f}"


def verdict(ok):
    return "met" if ok else "NOT met"


def throughput(epochs):
    """The samples per second of a run of epochs of equal size: all their samples over all their
    time, the harmonic mean of their rates (the rate the button's is measured as, over 3 s)."""
    return len(epochs) / sum(1.0 / r for r in epochs)


def table(p, rounds, header):
    """The table's lines. Each round's native rate is its epochs' throughput; the native rates
    are the medians of the rounds', the button's the medians of the rounds' (and each round's
    ratio is its button over its own epochs' throughput). Rates are rounded to whole samples/s
    first, and the ratios are of the rounded numbers, so that `check` can recompute them from
    the text."""
    med = statistics.median
    fixed = round(med([throughput(rd["fixed"]) for rd in rounds]))
    article = round(med([throughput(rd["article"]) for rd in rounds]))
    rates = {k: round(p[k]) for k in ["fixedRate", "articleRate"]}
    button = {k: round(med([rd["button"][k] for rd in rounds])) for k in ["buttonFixed", "buttonArticle"]}
    each = {k: " ".join(f"{rd['button'][b] / throughput(rd[k]):.2f}" for rd in rounds)
            for k, b in [("fixed", "buttonFixed"), ("article", "buttonArticle")]}
    ratio = lambda page, native: f"{page / native:.2f}"  # noqa: E731
    b = p["bytes"]
    lag = p["strokeTraining"]["lag"]
    ratios = [button["buttonFixed"] / fixed, button["buttonArticle"] / article]
    lines = [
        header,
        row("", "page", "native", "page/native"),
        row("training, recipe fixed (tape), samples/s", f"{rates['fixedRate']}", f"{fixed}",
            ratio(rates["fixedRate"], fixed)),
        row("training, recipe article (deltas), samples/s", f"{rates['articleRate']}", f"{article}",
            ratio(rates["articleRate"], article)),
        row("▶ train button, recipe fixed, samples/s", f"{button['buttonFixed']}", f"{fixed}",
            ratio(button["buttonFixed"], fixed)),
        row("▶ train button, recipe article, samples/s", f"{button['buttonArticle']}", f"{article}",
            ratio(button["buttonArticle"], article)),
        f"{ROUNDS_LABEL:{LABEL}s} {each['fixed']}; {each['article']}",
        row("forward + backward of one digit, ms (engine)", f"{p['engineMs']:.2f}", f"{1000 / fixed:.3f}"),
        row("  + copying every value, gradient, delta, ms", f"{p['explainMs']:.2f}"),
        row("  page update at step Z1 (engine+copies+draw)", f"{p['updateForwardMs']:.2f}"),
        row("  page update at the last step (W0, check)", f"{p['updateAllMs']:.2f}"),
    ]
    for k, where in [("strokeZ1", "at Z1"), ("strokeW0", "at W0 (last step)"),
                     ("strokeW0All", "at W0, whole tape on screen")]:
        s = p[k]
        lines.append(row("  drawing, page update per frame", f"{s['median']:.2f}", rest=f"   {where}: {spread(s)}"))
    s = p["strokeTraining"]
    lines += [
        row("  drawing while training, update per frame", f"{s['median']:.2f}", rest=f"   at W0: {spread(s)}"),
        row("  drawing while training, event to update", f"{lag['median']:.2f}", rest=f"   at W0: {spread(lag)}"),
        row("page ready (engine + data loaded), ms", f"{p['readyMs']:.0f}"),
        row("page load until ready, cold browser, ms", f"{p['loadMs']:.0f}"),
        f"{'bytes: wasm + JS/HTML/CSS + data':{LABEL}s} {b['wasm']:,} + {b['js']:,} + {b['data']:,} = "
        f"{(b['wasm'] + b['js'] + b['data']) / 1e6:.2f} MB",
        f"target: ▶ train >= {BUTTON_TARGET} x native: {verdict(min(ratios) >= BUTTON_TARGET)} "
        f"({ratios[0]:.2f}, {ratios[1]:.2f})",
        f"target: drawing while training, event to update <= {LAG_TARGET_MS:.0f} ms (90th pct): "
        f"{verdict(lag['p90'] <= LAG_TARGET_MS)} ({lag['p90']:.2f})",
    ]
    return lines


# ---- check: the docs' block, read back ----
NUM = r"(\d+(?:\.\d+)?)"
SPREAD = r"median of (\d+), 90th pct " + NUM + r", max " + NUM


def check_table(lines):
    """The problems of a table as the docs show it ([] when none)."""
    bad = []

    def want(k, pattern, what):
        if k >= len(lines):
            bad.append(f"line {k + 1}: missing ({what})")
            return None
        m = re.fullmatch(pattern, lines[k])
        if not m:
            bad.append(f"line {k + 1} is not {what}: {lines[k]!r}")
        return m

    lab = lambda text: re.escape(f"{text:{LABEL}s}")  # noqa: E731
    want(0, r"bench/web\.sh, \d{4}-\d\d-\d\d, .+ \(\d+ cores?, load average \d+\.\d\d at the start\)",
         "the header (date, machine, cores, load)")
    want(1, r" {45} +page +native +page/native", "the column heads")
    rates = {}
    for k, (key, text) in enumerate([("fixed", "training, recipe fixed (tape), samples/s"),
                                     ("article", "training, recipe article (deltas), samples/s"),
                                     ("button fixed", "▶ train button, recipe fixed, samples/s"),
                                     ("button article", "▶ train button, recipe article, samples/s")]):
        m = want(2 + k, lab(text) + r" +(\d+) +(\d+) +(\d+\.\d\d)", f"'{text}' with three numbers")
        if m:
            page, native, ratio = int(m[1]), int(m[2]), m[3]
            rates[key] = (page, native)
            if native <= 0 or page <= 0 or f"{page / native:.2f}" != ratio:
                bad.append(f"line {3 + k}: {page} / {native} is not {ratio}")
    m = want(6, lab(ROUNDS_LABEL) + r" (\d+\.\d\d(?: \d+\.\d\d)*); (\d+\.\d\d(?: \d+\.\d\d)*)",
             "the rounds' line (each round's ratio, fixed; article)")
    if m and len(m[1].split()) != len(m[2].split()):
        bad.append("line 7: not as many rounds for fixed as for article")
    m = want(7, lab("forward + backward of one digit, ms (engine)") + r" +" + NUM + r" +" + NUM,
             "the engine's line")
    if m and "fixed" in rates and f"{1000 / rates['fixed'][1]:.3f}" != m[2]:
        bad.append(f"line 8: the native column is not 1000 / {rates['fixed'][1]}")
    for k, text in enumerate(["  + copying every value, gradient, delta, ms",
                              "  page update at step Z1 (engine+copies+draw)",
                              "  page update at the last step (W0, check)"]):
        want(8 + k, lab(text) + r" +\d+\.\d\d", f"'{text.strip()}' with a number")
    for k, where in enumerate(["at Z1", "at W0 \\(last step\\)", "at W0, whole tape on screen"]):
        want(11 + k, lab("  drawing, page update per frame") + r" +\d+\.\d\d   " + where + ": " + SPREAD,
             f"a drawing line {where}")
    want(14, lab("  drawing while training, update per frame") + r" +\d+\.\d\d   at W0: " + SPREAD,
         "the drawing-while-training update line")
    lag = want(15, lab("  drawing while training, event to update") + r" +\d+\.\d\d   at W0: " + SPREAD,
               "the drawing-while-training wait line")
    want(16, lab("page ready (engine + data loaded), ms") + r" +\d+", "the ready line")
    want(17, lab("page load until ready, cold browser, ms") + r" +\d+", "the load line")
    m = want(18, lab("bytes: wasm + JS/HTML/CSS + data") + r" ([\d,]+) \+ ([\d,]+) \+ ([\d,]+) = (\d+\.\d\d) MB",
             "the bytes line")
    if m:
        wasm, js, data = (int(m[i].replace(",", "")) for i in (1, 2, 3))
        if any(f"{v:,}" != m[i] for i, v in zip((1, 2, 3), (wasm, js, data))):
            bad.append("line 19: the bytes are not written with thousands' commas")
        if f"{(wasm + js + data) / 1e6:.2f}" != m[4]:
            bad.append(f"line 19: {wasm} + {js} + {data} bytes is not {m[4]} MB")
        if not 100_000 <= wasm <= 5_000_000:
            bad.append(f"line 19: a wasm of {wasm} bytes")
    m = want(19, r"target: ▶ train >= 0\.5 x native: (met|NOT met) \((\d+\.\d\d), (\d+\.\d\d)\)",
             "the ▶ train target's line")
    if m and "button fixed" in rates and "button article" in rates:
        ratios = [rates["button fixed"][0] / rates["button fixed"][1],
                  rates["button article"][0] / rates["button article"][1]]
        if [f"{r:.2f}" for r in ratios] != [m[2], m[3]] or m[1] != verdict(min(ratios) >= BUTTON_TARGET):
            bad.append("line 20: the ▶ train target's verdict or ratios are not the table's")
    m = want(20, r"target: drawing while training, event to update <= 50 ms \(90th pct\): (met|NOT met) "
             r"\((\d+\.\d\d)\)", "the drawing target's line")
    if m and lag and (m[2] != lag[2] or m[1] != verdict(float(lag[2]) <= LAG_TARGET_MS)):
        bad.append("line 21: the drawing target's verdict or 90th percentile is not the table's")
    if len(lines) > 21:
        bad.append(f"lines past 21: {lines[21]!r}")
    return bad


BLOCK = re.compile(re.escape(BEGIN) + r"```text\n\$ bench/web\.sh\n(?P<table>.*?)```\n" + re.escape(END),
                   re.DOTALL)


def main(argv):
    if len(argv) == 4 and argv[1] == "format":
        header = os.environ.get("STEPGRAD_BENCH_HEADER", "bench/web.sh")
        with open(argv[3], encoding="utf-8") as f:
            rounds = [json.loads(line) for line in f if line.strip()]
        if not rounds:
            print("web_table.py: no rounds in " + argv[3], file=sys.stderr)
            return 1
        print("\n".join(table(json.loads(argv[2]), rounds, header)))
        return 0
    if len(argv) == 4 and argv[1] == "docs":
        with open(argv[3], encoding="utf-8") as f:
            text = f.read()
        bad = check_table(text.splitlines())
        if bad:
            print("web_table.py: not such a table:\n  " + "\n  ".join(bad), file=sys.stderr)
            return 1
        block = BEGIN + "```text\n$ bench/web.sh\n" + text.rstrip("\n") + "\n```\n" + END
        for page in PAGES:
            path = os.path.join(argv[2], page)
            with open(path, encoding="utf-8") as f:
                doc = f.read()
            new, n = BLOCK.subn(lambda _: block, doc)
            if n != 1:
                print(f"web_table.py: {page} has {n} bench/web.sh blocks, not 1", file=sys.stderr)
                return 1
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            print(f"web_table.py: wrote the table into {page}")
        return 0
    if len(argv) == 3 and argv[1] == "check":
        failures = 0
        tables = []
        for page in PAGES:
            with open(os.path.join(argv[2], page), encoding="utf-8") as f:
                blocks = list(BLOCK.finditer(f.read()))
            tables += [b["table"] for b in blocks]
            bad = check_table(blocks[0]["table"].splitlines()) if len(blocks) == 1 else \
                [f"{len(blocks)} bench/web.sh blocks, not 1 (between '{BEGIN.strip()}' and '{END.strip()}')"]
            for b in bad:
                print(f"{page}: {b}")
            failures += len(bad)
        if len(tables) == len(PAGES) and len(set(tables)) != 1:
            print(f"{' and '.join(PAGES)} hold different tables (bench/web.sh --docs writes both)")
            failures += 1
        if failures:
            print("web_speed_doc: run bench/web.sh --docs (on an idle machine) to rewrite the blocks")
            return 1
        print(f"web_speed_doc: the speed table of {' and '.join(PAGES)} is bench/web.sh's shape")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
