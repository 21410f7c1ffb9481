#!/usr/bin/env python3
"""R20 in docs/reliability.md for every tutorial: an unknown flag, a malformed or out-of-range number, a
missing or corrupt data folder and a corrupt model file each end the program with a non-zero
exit and exactly one line on stderr (no abort, no stack trace), and leave no output file
behind; --help exits 0.

Usage: cli_contract.py SOURCE_ROOT EXE...   (the EXEs are the numbered tutorials)
Runs each EXE in a scratch folder, so nothing lands in the source tree.
"""
import os
import subprocess
import sys
import tempfile

failures = []


def run(exe, args, cwd, timeout=300):
    p = subprocess.run([exe] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def expect_clean_error(exe, args, cwd, what, timeout=300):
    name = os.path.basename(exe)
    try:
        code, _, err = run(exe, args, cwd, timeout)
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
    if problems:
        failures.append(f"{name} {' '.join(args)} ({what}): {', '.join(problems)}\n    stderr: {err.strip()[:300]}")


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
    if failures:
        print("\n".join(failures))
        return 1
    print(f"{len(exes)} programs keep the command-line contract")
    return 0


if __name__ == "__main__":
    sys.exit(main())
