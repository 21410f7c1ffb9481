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


def run(exe, args, cwd):
    p = subprocess.run([exe] + args, cwd=cwd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def expect_clean_error(exe, args, cwd, what):
    name = os.path.basename(exe)
    code, _, err = run(exe, args, cwd)
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
    if failures:
        print("\n".join(failures))
        return 1
    print(f"{len(exes)} programs keep the command-line contract")
    return 0


if __name__ == "__main__":
    sys.exit(main())
