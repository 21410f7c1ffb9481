#!/usr/bin/env python3
"""R22 and R24 in docs/reliability.md, by force: 10_train is killed (SIGKILL) at moments spread
over a whole run, its saves included, over an --out that holds a complete earlier set. After every
kill each file is whole (the old run's bytes or the new run's, never half-written), and the
folder's MANIFEST tells a whole set from a mix: either every file matches the run that lists it,
or a reader names the mix in one line (11_evaluate refuses a model.npz its MANIFEST does not list
with these bytes). After the last kill, one more run leaves no temporary file anywhere.

    check_kill_sweep.py SOURCE_ROOT 10_TRAIN 11_EVALUATE
Skips (77) without MNIST in SOURCE_ROOT/data/mnist.
"""
import hashlib
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

OWNED = ["curves.png", "layers.csv", "layers.png", "metrics.csv", "model.npz", "weights.png"]


def digests(out: pathlib.Path):
    """Each owned file's SHA-256 (None when missing)."""
    return {n: hashlib.sha256((out / n).read_bytes()).hexdigest() if (out / n).exists() else None
            for n in OWNED}


def fingerprint(out: pathlib.Path):
    """digests(), with metrics.csv's two timing columns left out: what tells two runs apart."""
    d = digests(out)
    if d["metrics.csv"] is not None:
        lines = (out / "metrics.csv").read_text().splitlines()
        d["metrics.csv"] = [",".join(line.split(",")[:5]) for line in lines]
    return d


def manifest(out: pathlib.Path):
    """MANIFEST as {name: (run id, sha256)}; the format of Note [One set of outputs]."""
    lines = (out / "MANIFEST").read_text().splitlines()
    assert lines[0] == "stepgrad manifest 1", lines[0]
    files, run = {}, None
    for line in lines[1:]:
        key, _, value = line.partition(" ")
        if key == "run":
            run = value
        elif key == "file":
            sha, _, name = value.partition(" ")
            files[name] = (run, sha)
    return files


def main() -> int:
    root, train, evaluate = (pathlib.Path(sys.argv[1]), os.path.abspath(sys.argv[2]),
                             os.path.abspath(sys.argv[3]))
    data = root / "data" / "mnist"
    if not data.is_dir():
        print("SKIP: no MNIST in data/mnist")
        return 77
    problems = []
    with tempfile.TemporaryDirectory(prefix="stepgrad-kill-") as tmp:
        tmp = pathlib.Path(tmp)
        out = tmp / "out"
        run = [train, "--data", str(data), "--limit", "300", "--epochs", "1", "--out", str(out)]
        subprocess.run(run + ["--seed", "2"], check=True, capture_output=True)
        new = fingerprint(out)
        start = time.monotonic()
        subprocess.run(run + ["--seed", "1"], check=True, capture_output=True)
        whole = time.monotonic() - start
        old = fingerprint(out)
        names = sorted(p.name for p in out.iterdir())
        if names != sorted(OWNED + ["MANIFEST"]) or any(old[n] == new[n] for n in
                                                        ["model.npz", "layers.csv"]):
            print(f"the two complete sets are not as expected: {names}")
            return 1
        kills = 30
        seen = {"old": 0, "new": 0, "mix named": 0}
        for k in range(kills):
            delay = whole * (0.3 + 0.8 * k / kills)  # loading and training, then the saves
            p = subprocess.Popen(run + ["--seed", "2"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            now = fingerprint(out)
            torn = [n for n in OWNED if now[n] not in (old[n], new[n])]
            actual = digests(out)
            if torn:
                problems.append(f"killed after {delay:.2f} s: not whole: {torn}")
                continue
            listed = manifest(out)
            runs = {listed[n][0] for n in OWNED if n in listed}
            matches = all(n in listed and listed[n][1] == actual[n] for n in OWNED)
            if matches and len(runs) == 1:
                seen["old" if now == old else "new"] += 1
            elif matches:
                problems.append(f"killed after {delay:.2f} s: one MANIFEST, several runs: {runs}")
            else:
                seen["mix named"] += 1
                if listed.get("model.npz", (None, None))[1] != actual["model.npz"]:
                    r = subprocess.run([evaluate, "--model", str(out / "model.npz"), "--data",
                                        str(data), "--no-plots"], capture_output=True, text=True)
                    err = r.stderr.strip().splitlines()
                    if r.returncode == 0 or len(err) != 1 or "not the file run" not in err[0]:
                        problems.append(f"killed after {delay:.2f} s: 11_evaluate took a mixed "
                                        f"model: rc {r.returncode}, {err}")
            if now != old:  # back to the old set for the next kill
                shutil.rmtree(out)
                subprocess.run(run + ["--seed", "1"], check=True, capture_output=True)
        subprocess.run(run + ["--seed", "2"], check=True, capture_output=True)
        left = [p.name for p in tmp.iterdir() if p.name != "out"]
        left += [p.name for p in out.iterdir() if p.name not in OWNED + ["MANIFEST"]]
        if left:
            problems.append(f"after a complete run, left behind: {left}")
        final = digests(out)
        if fingerprint(out) != new or any(manifest(out)[n][1] != final[n] for n in OWNED):
            problems.append("the last complete run's set does not match its MANIFEST")
        print(f"{kills} kills over {whole:.2f} s runs: old set {seen['old']} times, new set "
              f"{seen['new']} times, a mix the MANIFEST names {seen['mix named']} times, "
              f"problems {len(problems)}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
