#!/usr/bin/env python3
"""R20 in docs/reliability.md for every tutorial: an unknown flag, a malformed or out-of-range number, a
missing or corrupt data folder and a corrupt model file each end the program with a non-zero
exit and exactly one line on stderr (no abort, no stack trace), and leave no output file
behind; --help exits 0.

Usage: cli_contract.py SOURCE_ROOT EXE...   (the EXEs are the numbered tutorials)
Runs each EXE in a scratch folder, so nothing lands in the source tree.
"""
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile

failures = []


def run(exe, args, cwd, timeout=300, preexec=None):
    p = subprocess.run([exe] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       preexec_fn=preexec)
    return p.returncode, p.stdout, p.stderr


def expect_clean_error(exe, args, cwd, what, timeout=300, says=(), no_work=False, preexec=None):
    """`says`: what the line must hold; `no_work`: nothing on stdout (refused before the work)."""
    name = os.path.basename(exe)
    try:
        code, out, err = run(exe, args, cwd, timeout, preexec)
    except subprocess.TimeoutExpired:
        failures.append(f"{name} {' '.join(args)} ({what}): no answer within {timeout} s")
        return
    lines = [line for line in err.splitlines() if line.strip()]
    problems = []
    if code == 0:
        problems.append("exit code 0")
    if code < 0 or code >= 128:
        problems.append(f"killed by signal (exit {code})")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr")
    elif not lines[0].startswith(name + ": error: "):
        problems.append(f"stderr does not start with '{name}: error: '")
    leftovers = [f for f in os.listdir(os.path.join(cwd, "out"))] if os.path.isdir(os.path.join(cwd, "out")) else []
    if leftovers:
        problems.append(f"left files in out/: {leftovers}")
    for words in says:
        if words not in err:
            problems.append(f"stderr does not say '{words}'")
    if "Could not convert" in err:
        problems.append("CLI11's 'Could not convert' reached the user")
    if no_work and out.strip():
        problems.append(f"worked before refusing: stdout {out.strip()[:100]!r}")
    if problems:
        failures.append(f"{name} {' '.join(args)} ({what}): {', '.join(problems)}\n    stderr: {err.strip()[:300]}")


def expect(cond, what):
    if not cond:
        failures.append(what)


def check_printing_options(root, exes, a_file):
    """--dot, --trace, --step, --full and --precision each do what they say (issue 14): every
    option a tutorial accepts changes its output."""
    mnist = os.path.join(root, "data", "mnist")
    has_mnist = os.path.isfile(os.path.join(mnist, "train-labels-idx1-ubyte")) or \
        os.path.isfile(os.path.join(mnist, "train-labels-idx1-ubyte.gz"))
    with tempfile.TemporaryDirectory() as cwd:
        def go(name, args, keys=None, timeout=300):
            data = ["--data", mnist] if "--data" in help_of[name] else []
            p = subprocess.run([exes[name]] + data + args, cwd=cwd, capture_output=True,
                               text=True, input=keys, timeout=timeout)
            if p.returncode != 0:
                failures.append(f"{name} {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[:300]}")
            return p.stdout

        help_of = {n: run(e, ["--help"], cwd)[1] for n, e in exes.items()}
        usable = [n for n in sorted(exes) if has_mnist or "--data" not in help_of[n]]
        # --dot on every tutorial that records a tape: the DOT file, every value of a small tensor.
        for name in usable:
            if "--dot" not in help_of[name]:
                continue
            dot = os.path.join("out", name + ".dot")
            args = ["--dot", dot] + (["--elements", "20"] if "--elements" in help_of[name] else [])
            out = go(name, args)
            expect(f"wrote {dot}" in out, f"{name} --dot: no 'wrote {dot}' line")
            path = os.path.join(cwd, dot)
            expect(os.path.isfile(path) and "digraph tape" in open(path, encoding="utf-8").read(),
                   f"{name} --dot: {dot} is not a DOT graph")
        # A bad --dot fails at once (nothing printed, no work done), on every tutorial that has
        # it; a FILE.png would be overwritten by the picture, so it is refused too.
        for name in sorted(usable):
            if "--dot" not in help_of[name]:
                continue
            for bad in (os.path.join(a_file, "x.dot"), os.path.join("out", "x.png")):
                code, out, err = run(exes[name], ["--dot", bad], cwd)
                expect(code != 0 and len(err.strip().splitlines()) == 1 and not out.strip(),
                       f"{name} --dot {bad}: exit {code}, stdout {out.strip()[:100]!r}, "
                       f"stderr {err.strip()[:200]}")
        if "01_neuron" in exes:
            dot = open(os.path.join(cwd, "out", "01_neuron.dot"), encoding="utf-8").read()
            expect("[0.5000 0.1000 0.9000]" in dot and "grad [[0.1065 0.0213 0.1918]]" in dot and
                   "backward step 3" in dot, "01_neuron --dot: the values are not all shown")
            # --trace: whole values, the rule with its numbers, --precision honoured.
            out = go("01_neuron", ["--trace"])
            expect("grad Z += grad O ⊙ O (1 - O) = 1.0000 ⊙ 0.2131 = 0.2131" in out,
                   "01_neuron --trace: no rule with its numbers for grad Z")
            expect("grad W += grad Z · O0^T = 0.2131 · [0.5000 0.1000 0.9000]^T" in out,
                   "01_neuron --trace: no rule with its numbers for grad W")
            out = go("01_neuron", ["--trace", "--precision", "6"])
            expect("= 1.000000 ⊙ 0.213094 = 0.213094" in out, "01_neuron --trace ignores --precision")
            # --step: keys on stdin. p prints the node whole, b runs to backward, q quits.
            out = go("01_neuron", ["--step"], keys="p\n\nb\n\nq\n")
            expect("[step] quit" in out and "Backward: dO/dW" not in out,
                   "01_neuron --step: q did not quit")
            expect("> p\nO0 (3,)\n[0.5000 0.1000 0.9000]\n" in out, "01_neuron --step: p printed no node")
            after_b = out.split("> b\n", 1)[-1]
            expect("[step]" not in after_b.split("[trace] backward", 1)[0],
                   "01_neuron --step: b stopped before the backward sweep")
            out = go("01_neuron", ["--step"], keys="")
            expect("(end of input: continue)" in out and "moves O the most" in out,
                   "01_neuron --step: end of input did not continue to the end")
            out = go("01_neuron", ["--step"], keys="x\nc\n")
            expect("unknown command 'x'" in out, "01_neuron --step: an unknown key is not named")
        if "01_neuron" in exes:
            # --inputs and --weights are the neuron's: the rule's numbers follow them.
            out = go("01_neuron", ["--inputs", "0.5,0.1,0", "--weights", "1,-2,3", "--trace"])
            expect("O0 (3,)\n[0.5000 0.1000 0.0000]\nW (1, 3)\n[[ 1.0000 -2.0000  3.0000]]" in out
                   and "Z = W · O0 = (1.0000)(0.5000) + (-2.0000)(0.1000) + (3.0000)(0.0000) = "
                   "0.3000" in out and "the same numbers as by hand" in out,
                   "01_neuron --inputs --weights: not the neuron computed")
        if "03_layer" in exes:
            out = go("03_layer", ["--weights", "9,-0.5,0.1,0.4,9,0.8,0.2,-0.1,9,0.1,-0.7,0.3"])
            expect("[[ 9.0000 -0.5000  0.1000  0.4000]" in out and
                   "Z = W · O (3,)\n[-0.0500  0.5750 -0.5750]" in out,
                   "03_layer --weights: not W row by row, or Z moved with column 0")
            expect("sigmoid(Z) = sigmoid(Z)" not in go("03_layer", ["--trace"]),
                   "03_layer --trace: the label reads sigmoid(Z) = sigmoid(Z)")
        if not has_mnist:
            return
        # Options that used to do nothing: each changes the output.
        # (program, the run it is compared with, the options added, a text they must print)
        for name, base, added, sign in (("05_forward", [], ["--full"], "O0 (784,)\n["),
                                        ("08_tape", [], ["--full"], "grad (128, 784)"),
                                        ("08_tape", [], ["--digits", "7"], None),
                                        ("08_tape", ["--full"], ["--precision", "7"], "0.0000000"),
                                        ("09_gradcheck", ["--elements", "20"], ["--precision", "9"],
                                         None)):
            if name not in exes:
                continue
            args = base + added
            plain, changed = go(name, base), go(name, args)
            expect(plain != changed, f"{name} {' '.join(args)}: the output did not change")
            if sign is not None:
                expect(sign in changed, f"{name} {' '.join(args)}: no '{sign}'")
        if "08_tape" in exes:
            full = go("08_tape", ["--full"])
            expect(len(full.splitlines()) > 1000, "08_tape --full: the gradients are not printed whole")
        if "09_gradcheck" in exes:
            expect("--full" not in help_of["09_gradcheck"], "09_gradcheck offers --full, which it ignores")
        # 09 --model: the three-way check at trained weights.
        if "09_gradcheck" in exes and "10_train" in exes:
            go("10_train", ["--limit", "500", "--epochs", "1", "--out", "trained"])
            model = os.path.join(cwd, "trained", "model.npz")
            out = go("09_gradcheck", ["--model", model, "--elements", "20"])
            expect(f"at the weights of {model}" in out and "all three agree" in out,
                   "09_gradcheck --model: no three-way check at the model's weights")
            expect(out != go("09_gradcheck", ["--elements", "20"]),
                   "09_gradcheck --model: same output as at the initial weights")


def check_training_story(root, exes):
    """Issue 14, the training programs: one truth in the options line, the cost named, the
    layers measured, a test set that is not a test named as such, partial runs not compared."""
    mnist = os.path.join(root, "data", "mnist")
    if not any(os.path.isfile(os.path.join(mnist, "train-labels-idx1-ubyte" + gz)) for gz in ("", ".gz")):
        return
    with tempfile.TemporaryDirectory() as cwd:
        def go(name, args):
            if name not in exes:
                return None
            p = subprocess.run([exes[name], "--data", mnist] + args, cwd=cwd, capture_output=True,
                               text=True, timeout=600)
            expect(p.returncode == 0, f"{name} {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[:300]}")
            return p.stdout

        out = go("10_train", ["--recipe", "article", "--limit", "300", "--epochs", "2", "--out", "a"])
        if out is not None:
            options = next((l for l in out.splitlines() if l.startswith("options: ")), "")
            expect('engine="deltas"' in options and "engine=deltas" in out,
                   f"10_train --recipe article: the options line and the run disagree: {options}")
            expect("cost: eq. (7), the binary cross-entropy" in out,
                   "10_train: the table does not say which cost it prints")
            expect("alike   units" in out, "10_train: no table of the layers")
            with open(os.path.join(cwd, "a", "layers.csv"), encoding="utf-8") as f:
                rows = f.read().splitlines()
            expect(len(rows) == 4 and rows[0].startswith("epoch,change_W0,") and
                   [r.split(",")[0] for r in rows[1:]] == ["0", "1", "2"],
                   f"10_train: layers.csv is not one line per epoch from 0: {rows[:2]}")
            # A model of the article split measured on MNIST's test file: most of it trained there.
            model = os.path.join(cwd, "a", "model.npz")
            out = go("11_evaluate", ["--model", model, "--split", "standard", "--no-plots"])
            m = re.search(r"WARNING: the model was trained on the article split; (\d+) of these 10000 "
                          r"test images were among", out or "")
            expect(m is not None and 0 < int(m.group(1)) <= 300,
                   "11_evaluate --split standard on an article-split model: no warning with the count")
            out = go("11_evaluate", ["--model", model, "--no-plots"])
            expect(out is not None and "WARNING" not in out, "11_evaluate warns on the model's own split")
        # --dataset fashion: the options line names the folder that is read (or that is missing).
        if "10_train" in exes:
            p = subprocess.run([exes["10_train"], "--dataset", "fashion", "--limit", "10", "--epochs", "1",
                                "--no-plots", "--out", "f"], cwd=cwd, capture_output=True, text=True,
                               timeout=600)
            m = re.search(r'data="([^"]*)"', p.stdout)
            folder = m.group(1) if m else "(none)"
            expect(folder != "data/mnist" and (folder in p.stderr or f"from {folder}," in p.stdout),
                   f"10_train --dataset fashion: the options line says data=\"{folder}\", the run "
                   f"read or missed another folder: {p.stderr.strip()[:200]}")
        out = go("12_recipes", ["--limit", "200", "--epochs", "1", "--seeds", "2", "--no-plots", "--out", "r"])
        if out is not None:
            expect("only on full runs" in out and "this spread" not in out,
                   "12_recipes --limit: compares a partial run with the notebook's full-data figures")
            expect("article, lr x15" in out and "fixed, lr x15" in out,
                   "12_recipes: no learning-rate experiment")


def main():
    root, exes = sys.argv[1], [os.path.abspath(e) for e in sys.argv[2:]]
    with tempfile.TemporaryDirectory() as scratch:
        empty = os.path.join(scratch, "empty")
        os.mkdir(empty)
        corrupt = os.path.join(scratch, "corrupt")
        os.mkdir(corrupt)
        for f in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]:
            with open(os.path.join(corrupt, f), "wb") as out:
                out.write(b"\x00\x00\x08\x03not an idx file")
        fifo = os.path.join(scratch, "fifo.npz")
        os.mkfifo(fifo)
        a_file = os.path.join(scratch, "a-file")
        open(a_file, "w").close()
        dangling = os.path.join(scratch, "dangling")
        os.symlink(os.path.join(scratch, "nowhere"), dangling)
        # MNIST folders with a socket, or a loop of links, where the training images belong.
        sock_data, loop_data = os.path.join(scratch, "sock-data"), os.path.join(scratch, "loop-data")
        for d in (sock_data, loop_data):
            os.mkdir(d)
            for f in ["train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]:
                with open(os.path.join(d, f), "wb") as out:
                    out.write(b"\x00\x00\x08\x03not an idx file")
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(os.path.join(sock_data, "train-images-idx3-ubyte"))
        os.symlink("train-images-idx3-ubyte", os.path.join(loop_data, "train-images-idx3-ubyte"))
        os.symlink("loop-b", os.path.join(scratch, "loop-a"))
        os.symlink("loop-a", os.path.join(scratch, "loop-b"))
        bad_model = os.path.join(scratch, "model.npz")
        with open(bad_model, "wb") as out:
            out.write(b"PK\x03\x04 this is not a zip archive")
        for exe in exes:
            name = os.path.basename(exe)
            with tempfile.TemporaryDirectory() as cwd:
                code, out, _ = run(exe, ["--help"], cwd)
                if code != 0 or "--help" not in out:
                    failures.append(f"{name} --help: exit {code}")
                expect_clean_error(exe, ["--no-such-flag"], cwd, "unknown flag")
                helptext = out
                if "--seed" in helptext:
                    expect_clean_error(exe, ["--seed", "banana"], cwd, "malformed number")
                    expect_clean_error(exe, ["--seed", "-3"], cwd, "negative seed")
                if "--precision" in helptext:
                    expect_clean_error(exe, ["--precision", "99"], cwd, "out of range")
                if "--epochs" in helptext:
                    expect_clean_error(exe, ["--epochs", "0"], cwd, "out of range")
                    expect_clean_error(exe, ["--epochs", "2x"], cwd, "malformed number")
                if "--lr" in helptext:
                    expect_clean_error(exe, ["--lr", "-1"], cwd, "out of range")
                if "--batch" in helptext:
                    expect_clean_error(exe, ["--batch", "0"], cwd, "out of range")
                if re.search(r"--n\b", helptext):
                    expect_clean_error(exe, ["--n", "13"], cwd, "out of range")
                for real in ("--w", "--z"):  # 00_chain_rule's scalars
                    if re.search(re.escape(real) + r"\b", helptext):
                        for bad in ("abc", "nan", "1e9"):
                            expect_clean_error(exe, [real, bad], cwd, f"{real} {bad}",
                                               says=[f"{real}: expected a number from "], no_work=True)
                if "--data" in helptext:
                    expect_clean_error(exe, ["--data", empty], cwd, "empty data folder")
                    expect_clean_error(exe, ["--data", corrupt], cwd, "corrupt data files")
                    expect_clean_error(exe, ["--data", os.path.join(scratch, "missing")], cwd, "missing data folder")
                if "--model" in helptext:
                    expect_clean_error(exe, ["--model", bad_model], cwd, "corrupt model file")
                    expect_clean_error(exe, ["--model", os.path.join(scratch, "none.npz")], cwd, "missing model file")
                    # R23: a FIFO (or a folder) given as a file answers at once, never waits.
                    expect_clean_error(exe, ["--model", fifo], cwd, "a FIFO as the model", timeout=10)
                    expect_clean_error(exe, ["--model", scratch], cwd, "a folder as the model", timeout=10)
                if "--out" in helptext:
                    # R26: an --out that cannot be a folder fails before any work, in plain words.
                    expect_clean_error(exe, ["--out", os.path.join(a_file, "sub")], cwd, "--out under a file")
                    expect_clean_error(exe, ["--out", dangling], cwd, "--out a dangling link")
                    # R29: a newline in --out is named, never passed on to gnuplot as a path.
                    expect_clean_error(exe, ["--out", "a\nb"], cwd, "--out with a newline")
                # R35: whole numbers are plain decimals; CLI11's own wording never shows.
                for opt in ("--seed", "--first-seed", "--sample", "--epochs", "--limit", "--batch",
                            "--elements", "--worst", "--jobs", "--moons", "--hidden", "--n"):
                    if re.search(re.escape(opt) + r"\b", helptext):
                        for bad in ("", "0x2A", "+7", " 7", "7 ", "1e1"):
                            expect_clean_error(exe, [opt, bad], cwd, f"{opt} {bad!r}",
                                               says=[f"{opt}: expected a whole number from "],
                                               no_work=True)
                # R49: a list of numbers (01's and 03's --inputs and --weights) has its count,
                # each a number in range, or one line and exit 2 before any work.
                for opt, count in re.findall(r"(--inputs|--weights)\b[^\n]*?\((\d+) of them",
                                             helptext):
                    good = ",".join(["0.5"] * int(count))
                    for bad in ("", "x", good + ",0.5", good[4:], good.replace("0.5", "x", 1),
                                good.replace(",", ", ", 1), good.replace(",", ",,", 1),
                                good.replace("0.5", "1e999", 1), good.replace("0.5", "101", 1),
                                good.replace("0.5", "nan", 1)):
                        expect_clean_error(exe, [opt, bad], cwd, f"{opt} {bad!r}",
                                           says=[f"{opt}: expected {count} numbers from -100 to "
                                                 f"100 separated by commas, found '{bad}'"],
                                           no_work=True)
                        code, _, _ = run(exe, [opt, bad], cwd)
                        expect(code == 2, f"{name} {opt} {bad!r}: exit {code}, not 2 (usage)")
                    code, out, _ = run(exe, [opt, good], cwd)
                    expect(code == 0 and f'{opt[2:]}="{good}"' in out,
                           f"{name} {opt} {good}: exit {code}, or not recorded in the options line")
                if "--full" in helptext:
                    expect_clean_error(exe, ["--full=abc"], cwd, "--full=abc",
                                       says=["--full: expected"])
                if "--seed" in helptext and "--data" not in helptext:
                    code, out, _ = run(exe, ["--seed", "010"] +
                                       (["--no-plots"] if "--no-plots" in helptext else []) +
                                       (["--xor-steps", "1", "--epochs", "1"] if name == "13_your_network" else []), cwd)
                    expect(code == 0 and "seed=10," in out,
                           f"{name} --seed 010: not recorded as the seed that ran (10): exit {code}, "
                           f"{[l for l in out.splitlines() if l.startswith('options')]}")
                # R36: output files checked before the work, creating nothing.
                if "--dot" in helptext:
                    expect_clean_error(exe, ["--dot", "/proc/x.dot"], cwd, "--dot in /proc",
                                       says=["--dot: /proc/x.dot: "], no_work=True, timeout=30)
                    expect_clean_error(exe, ["--dot", "made/x.dot", "--no-such-flag"], cwd,
                                       "--dot then a bad flag")
                    if os.path.exists(os.path.join(cwd, "made")):
                        failures.append(f"{name} --dot made/x.dot with a bad option: made its folder")
                if "--dump" in helptext:
                    for bad in ("/proc/x.npz", "nowhere/x.npz", scratch):
                        expect_clean_error(exe, ["--dump", bad], cwd, f"--dump {bad}",
                                           says=[f"--dump: {bad}: "], no_work=True, timeout=30)
                    expect_clean_error(exe, ["--dot", "made/x.dot", "--elements", "-1"], cwd,
                                       "--dot then a bad --elements")
                    if os.path.exists(os.path.join(cwd, "made")):
                        failures.append(f"{name} --dot made/x.dot --elements -1: made its folder")
                if "--predictions" in helptext:
                    expect_clean_error(exe, ["--out", "never", "--predictions", "nowhere/p.csv"], cwd,
                                       "--predictions in a missing folder",
                                       says=["--predictions: nowhere/p.csv: its folder"], no_work=True)
                    expect_clean_error(exe, ["--predictions", "/proc/p.csv"], cwd,
                                       "--predictions in /proc", says=["--predictions: /proc/p.csv: "],
                                       no_work=True)
                    if os.path.exists(os.path.join(cwd, "never")):
                        failures.append(f"{name} --out never --predictions nowhere/p.csv: created never/")
                # R37: what stands where an MNIST file belongs is named: a socket, a loop of links.
                if "--data" in helptext and "--model" not in helptext:
                    expect_clean_error(exe, ["--data", sock_data], cwd, "a socket as an MNIST file",
                                       says=["train-images-idx3-ubyte: is a socket"])
                    expect_clean_error(exe, ["--data", loop_data], cwd, "a loop as an MNIST file",
                                       says=["train-images-idx3-ubyte: is a loop of symbolic links"])
                    expect_clean_error(exe, ["--data", os.path.join(scratch, "loop-a")], cwd,
                                       "a loop as --data", says=["found a loop of symbolic links"])
                # R38: sizes the memory cannot hold refused before allocating (ulimit -v 3 GB).
                if name == "13_your_network":
                    def limit():
                        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
                    expect_clean_error(exe, ["--moons", "100000", "--hidden", "1024", "--batch",
                                             "100000", "--out", "never"], cwd, "sizes past memory",
                                       says=["--moons 100000 --hidden 1024 --batch 100000 need about",
                                             "ulimit -v"], no_work=True, preexec=limit, timeout=60)
                    code, _, err = run(exe, ["--no-plots"], cwd, preexec=limit)
                    expect(code == 0, f"{name} under ulimit -v 3 GB: exit {code}: {err.strip()[:200]}")
                if "--lr" in helptext:
                    # R26: every option is checked before the disk is touched.
                    expect_clean_error(exe, ["--lr", "nan", "--out", "never"], cwd, "--lr nan")
                    if os.path.exists(os.path.join(cwd, "never")):
                        failures.append(f"{name} --lr nan: created its --out folder before refusing")
                if name in ("01_neuron", "03_layer", "04_network"):
                    # R25: output that cannot be written is a failure (these need no data).
                    with open("/dev/full", "w") as full:
                        p = subprocess.run([exe], cwd=cwd, stdout=full, stderr=subprocess.PIPE,
                                           text=True, timeout=60)
                    if p.returncode == 0 or "cannot write the output" not in p.stderr:
                        failures.append(f"{name} > /dev/full: exit {p.returncode}, stderr {p.stderr.strip()[:200]}")
                # R25 for the help too: every program's --help into a full disk fails in one line.
                with open("/dev/full", "w") as full:
                    p = subprocess.run([exe, "--help"], cwd=cwd, stdout=full, stderr=subprocess.PIPE,
                                       text=True, timeout=60)
                if p.returncode == 0 or len(p.stderr.strip().splitlines()) != 1 or \
                        "cannot write the output" not in p.stderr:
                    failures.append(f"{name} --help > /dev/full: exit {p.returncode}, stderr {p.stderr.strip()[:200]}")
        check_printing_options(root, {os.path.basename(e): e for e in exes}, a_file)
        check_training_story(root, {os.path.basename(e): e for e in exes})
    if failures:
        print("\n".join(failures))
        return 1
    print(f"{len(exes)} programs keep the command-line contract")
    return 0


if __name__ == "__main__":
    sys.exit(main())
