#!/usr/bin/env python3
"""The labs (labs/, docs/labs.md): every reference solution passes, every untouched skeleton fails
with a helpful first line, every catalogued mistake planted with --mistake is named by the grader,
and docs/labs.md's table of mistakes lists exactly those, each with the command that tests it.

    check_labs.py SOURCE_ROOT LAB_EXE...     (lab_NN and lab_NN_solution for each lab)
"""
import os
import re
import subprocess
import sys

# The mistakes issue 25 asks the grader to name, at least (docs/labs.md's catalogue).
REQUIRED = {"E1", "transpose", "sigmoid_at_O", "sigmoid_formula_at_Z", "factor", "sign", "axis",
            "outer_order", "updated_weights"}


def run(exe, *args, keys=""):
    r = subprocess.run([exe, *args], capture_output=True, text=True, input=keys, timeout=300,
                       check=False)
    return r.returncode, r.stdout, r.stderr


def check_planted(problems, lab, exe, mistake):
    code, out, err = run(exe, "--mistake", mistake)
    diagnoses = re.findall(r"^  diagnosis: (.*)$", out, re.M)
    if not diagnoses:
        problems.append(f"{lab} --mistake {mistake}: no quantity failed\n{out}{err}")
    for d in diagnoses:
        if not d.startswith(f"[{mistake}]"):
            problems.append(f"{lab} --mistake {mistake}: diagnosed as {d}")
    if code != 0 or "the grader named the mistake" not in out:
        problems.append(f"{lab} --mistake {mistake}: exit {code}, not named\n{out}{err}")


def main(argv):
    root, exes = argv[0], {os.path.basename(e): e for e in argv[1:]}
    problems = []
    planted = {}  # (lab, id)
    labs = sorted(n for n in exes if re.fullmatch(r"lab_\d\d", n))
    if not labs:
        print("check_labs: no lab programs given")
        return 1
    for lab in labs:
        solution = exes.get(lab + "_solution")
        if solution is None:
            problems.append(f"{lab}: no {lab}_solution")
            continue
        code, out, err = run(solution)
        if code != 0 or not re.match(rf"{lab}: all \d+ pass\.", out):
            problems.append(f"{lab}_solution: exit {code}, first line {out.splitlines()[:1]}\n"
                            f"{err}")
        code, out, err = run(exes[lab])
        first = out.splitlines()[0] if out else ""
        helpful = re.fullmatch(
            rf"{lab}: \d+ of \d+ not written yet: write \w+ \(.+\) in labs/\d\d_\w+\.cpp, then run "
            rf"ninja -C build labs/{lab} && build/labs/{lab}", first) or (
            lab == "lab_05" and re.match(r"lab_05: \d+ of \d+ wrong; the first, grad Z1: "
                                         r"\[first_wrong\] .*tanh_op", first))
        if code != 1 or not helpful:
            problems.append(f"{lab} (the skeleton): exit {code}, first line '{first}'\n{err}")
        # --step stops at the first node and quits on q; --trace shows the backward rules.
        code, out, _ = run(solution, "--step", keys="q\n")
        if code != 0 or out.count("[step]") != 1:
            problems.append(f"{lab} --step with q: exit {code}, {out.count('[step]')} stops")
        code, out, _ = run(solution, "--trace")
        if "[trace] backward grad" not in out:
            problems.append(f"{lab} --trace: no backward sweep traced")
        code, out, _ = run(solution, "--list-mistakes")
        for line in out.splitlines():
            mistake = line.split()[0]
            planted[(lab, mistake)] = True
            check_planted(problems, lab, exes[lab], mistake)  # as docs/labs.md runs it
            check_planted(problems, lab, solution, mistake)
    missing = REQUIRED - {m for _, m in planted}
    if missing:
        problems.append(f"no lab plants {sorted(missing)}")
    # lab_05's bug: the trace shows the wrong rule, the solution's is right.
    if "lab_05" in exes:
        _, out, _ = run(exes["lab_05"], "--trace")
        if "grad Z1 += grad O1 ⊙ (1 - O1) =" not in out:
            problems.append("lab_05 --trace: tanh_op's wrong rule is not in the trace")
    # docs/labs.md's catalogue: one row per planted mistake, with the command that tests it.
    with open(os.path.join(root, "docs", "labs.md"), encoding="utf-8") as f:
        page = f.read()
    rows = set(re.findall(r"^\| `\[([a-zA-Z0-9_]+)\]` .*`build/labs/(lab_\d\d) --mistake \1` \|$",
                          page, re.M))
    for lab, mistake in planted:
        if (mistake, lab) not in rows:
            problems.append(f"docs/labs.md: no row for {lab} --mistake {mistake}")
    for mistake, lab in rows:
        if (lab, mistake) not in planted:
            problems.append(f"docs/labs.md: a row for {lab} --mistake {mistake}, which it lacks")
    for p in problems:
        print(p)
    print(f"check_labs: {len(labs)} labs, {len(planted)} planted mistakes, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
