#!/usr/bin/python3
"""scripts/pytorch_twin.py against stepgrad, through the commands of docs/next_pytorch.md.

Usage: check_pytorch_twin.py MODE SOURCE_ROOT 09_GRADCHECK 10_TRAIN 11_EVALUATE

MODE is one of the page's marked blocks (`<!-- twin-test: MODE -->` above a ```sh block):
  evaluate   10_train, 11_evaluate --predictions, the twin's evaluate --compare: every prediction
             the same. Then a changed prediction must fail, and a bad --predictions path too.
  gradcheck  09_gradcheck --dump, the twin's gradcheck (autograd == the tape to 1e-10); the
             twin's erratum E1 figures must be 09_gradcheck's section 3, digit for digit.
  ddp        two processes under DistributedDataParallel, one process, and 10_train --batch on
             the same minibatches: equal weights (compare, 1e-10 of what training changed). A
             weight moved by 1e-9 of the change must fail the same compare.
  torchrun   the same training started by torchrun (c10d rendezvous on a free port of this
             machine), equal to 10_train --batch.
The commands run in a scratch folder that sees build/tutorials, scripts/ and data/ (its own
out/); lines that run 10_train without --limit get `--limit 2000 --epochs 1`, so that the page
can show the full model and the test stays short. Exits 0, 1 on a failure, 77 (skipped) without
torch (Debian's python3-torch for /usr/bin/python3), MNIST or torchrun.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from golden import SKIP, has_mnist

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print(f"FAIL: {what}")


def page_block(source_root, mode):
    """The commands of the ```sh block marked `<!-- twin-test: MODE -->`, comments dropped and
    continued lines joined."""
    text = open(os.path.join(source_root, "docs", "next_pytorch.md"), encoding="utf-8").read()
    m = re.search(r"<!-- twin-test: " + re.escape(mode) + r" -->\n```sh\n(.*?)```", text, re.S)
    if not m:
        raise SystemExit(f"check_pytorch_twin: docs/next_pytorch.md has no block '{mode}'")
    commands = []
    for line in m.group(1).replace("\\\n", " ").splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line:
            commands.append(re.sub(r"\s+", " ", line))
    return commands


def run(cmd, cwd, expect=0):
    """Runs a shell command line in cwd; returns its stdout. Checks the exit code."""
    print(f"$ {cmd}")
    # In a session of its own, so that a timeout ends every process it started (torchrun's
    # workers too), not only the shell.
    with subprocess.Popen(cmd, shell=True, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as p:
        try:
            out, err = p.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            check(False, f"{cmd}: still running after 240 s; killed it and its processes")
    r = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    print(r.stdout, end="")
    check(r.returncode == expect,
          f"{cmd}: exit {r.returncode}, expected {expect}; stderr: {r.stderr.strip()[-2000:]}")
    return r


def run_block(source_root, mode, scratch):
    outputs = []
    for cmd in page_block(source_root, mode):
        if cmd.startswith("build/tutorials/10_train") and "--limit" not in cmd:
            cmd += " --limit 2000 --epochs 1"  # the page trains the full model; the test, a short one
        outputs.append(run(cmd, scratch).stdout)
    return outputs


def e1_rows(text):
    """{Delta1: (ratio, cosine), Delta0: ...} from a section-3 table."""
    rows = re.findall(r"^(Delta[012])\s+([0-9.]+) \(1/[0-9. ]+\)\s+([0-9.-]+)", text, re.M)
    return {name: (float(r), float(c)) for name, r, c in rows}


def check_evaluate(source_root, scratch):
    run_block(source_root, "evaluate", scratch)
    csv = os.path.join(scratch, "out", "predictions.csv")
    lines = open(csv).read().splitlines()
    check(lines[0] == "index,label,predicted" and len(lines) == 21001,
          f"{csv}: {len(lines)} lines, header {lines[0]!r}")
    # The comparison can fail: one prediction changed must be found and named.
    index, label, predicted = lines[1234 + 1].split(",")
    lines[1234 + 1] = f"{index},{label},{(int(predicted) + 1) % 10}"
    changed = os.path.join(scratch, "out", "changed.csv")
    open(changed, "w").write("\n".join(lines) + "\n")
    r = run(f"/usr/bin/python3 scripts/pytorch_twin.py evaluate --model out/model.npz "
            f"--compare {changed}", scratch, expect=1)
    check("20999 of 21000" in r.stdout and "test image 1234:" in r.stdout,
          "a changed prediction was not reported")
    # 11_evaluate's --predictions into a folder that does not exist: refused while the options are
    # read (R36), in one line, with exit 2 (usage).
    r = run("build/tutorials/11_evaluate --no-plots --predictions out/no/such/folder/p.csv",
            scratch, expect=2)
    check(len(r.stderr.splitlines()) == 1 and r.stderr.startswith("11_evaluate: error: ")
          and r.stdout == "", f"11_evaluate's error for a bad --predictions path, before any "
          f"work: stdout {r.stdout[:200]!r}, stderr {r.stderr!r}")


def check_gradcheck(source_root, scratch):
    stepgrad_out, twin_out = run_block(source_root, "gradcheck", scratch)
    ours, theirs = e1_rows(twin_out), e1_rows(stepgrad_out.split("3. How wrong")[-1])
    check(set(ours) == {"Delta0", "Delta1", "Delta2"} and set(theirs) == set(ours),
          f"erratum E1 tables: twin {ours}, 09_gradcheck {theirs}")
    for name in ours:
        check(ours[name] == theirs.get(name),
              f"{name}: the twin's |article| / |true| and cosine {ours[name]}, "
              f"09_gradcheck's {theirs.get(name)}")


def perturbed_copy(source, target):
    """A copy of a model file with one weight of W1 moved by 1e-9 of what training changed
    (numpy through /usr/bin/python3, like the twin)."""
    code = """
import sys
import numpy as np
with np.load(sys.argv[1]) as f:
    arrays = {k: f[k] for k in f.files}
rng = np.random.RandomState(42)  # the initial weights, drawn W0 then W1 (seed 42)
rng.randn(128, 784)
W1_init = rng.randn(64, 128) * np.sqrt(1.0 / 64)
arrays["W1"][3, 5] += 1e-9 * np.max(np.abs(arrays["W1"] - W1_init))
np.savez(sys.argv[2], **arrays)
"""
    r = subprocess.run(["/usr/bin/python3", "-c", code, source, target], capture_output=True,
                       text=True)
    check(r.returncode == 0, f"moving a weight of {source}: {r.stderr.strip()}")


def check_ddp(source_root, scratch):
    run_block(source_root, "ddp", scratch)
    out = os.path.join(scratch, "out")
    perturbed_copy(os.path.join(out, "ddp1.npz"), os.path.join(out, "moved.npz"))
    r = run("/usr/bin/python3 scripts/pytorch_twin.py compare out/ddp2.npz out/moved.npz",
            scratch, expect=1)
    check("1 matrix(es) differ" in r.stdout, "a weight moved by 1e-9 of the change went unseen")


def check_torchrun(source_root, scratch):
    if shutil.which("torchrun") is None:
        print("check_pytorch_twin: skipped, no torchrun on PATH (python3-torch installs it)")
        return SKIP
    # torch 1.13's c10d rendezvous gives the workers this machine's host name to connect to; where
    # the name does not resolve (a debootstrap root without /etc/hosts), torchrun cannot start.
    try:
        socket.getaddrinfo(socket.gethostname(), None)
    except OSError as e:
        print(f"check_pytorch_twin: skipped, this machine's host name '{socket.gethostname()}' does "
              f"not resolve ({e.strerror}; add it to /etc/hosts), which torchrun's rendezvous needs")
        return SKIP
    run_block(source_root, "torchrun", scratch)
    return 0


def main(args):
    modes = {"evaluate": check_evaluate, "gradcheck": check_gradcheck, "ddp": check_ddp,
             "torchrun": check_torchrun}
    if len(args) != 5 or args[0] not in modes:
        print(__doc__)
        return 2
    mode, source_root, gradcheck_exe, train_exe, evaluate_exe = args
    r = subprocess.run(["/usr/bin/python3", "-c", "import numpy, torch"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        print(f"check_pytorch_twin: skipped, /usr/bin/python3 cannot import torch ({last}); "
              "apt-get install python3-torch")
        return SKIP
    data = os.path.join(source_root, "data", "mnist")
    if not has_mnist(source_root):
        print(f"check_pytorch_twin: skipped, no MNIST in {data} (scripts/fetch-mnist)")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="check_pytorch_twin.") as scratch:
        os.makedirs(os.path.join(scratch, "build", "tutorials"))
        for exe in (gradcheck_exe, train_exe, evaluate_exe):
            os.symlink(os.path.abspath(exe),
                       os.path.join(scratch, "build", "tutorials", os.path.basename(exe)))
        os.symlink(os.path.join(source_root, "scripts"), os.path.join(scratch, "scripts"))
        os.makedirs(os.path.join(scratch, "data"))
        os.symlink(data, os.path.join(scratch, "data", "mnist"))
        os.makedirs(os.path.join(scratch, "out"))
        if modes[mode](source_root, scratch) == SKIP:
            return SKIP
    print(f"check_pytorch_twin {mode}: " + ("ok" if not failures else f"{len(failures)} failure(s)"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
