#!/usr/bin/env python3
"""R22 and R24 in docs/reliability.md, by force: 10_train is killed (SIGKILL) at moments spread
over a whole run, its save included, over an --out that holds a complete earlier set. After every
kill the folder holds the old set or the new one, whole, never a mix; after the last, one more
run leaves no staging folder and no temporary file anywhere.

    check_kill_sweep.py SOURCE_ROOT 10_TRAIN
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


def fingerprint(out: pathlib.Path):
    """The set in `out`: its file names and the bytes of model.npz, of metrics.csv's numbers and of
    layers.csv."""
    names = sorted(p.name for p in out.iterdir())
    model = hashlib.sha256((out / "model.npz").read_bytes()).hexdigest() if "model.npz" in names else None
    metrics = None
    if "metrics.csv" in names:  # timing columns aside
        metrics = [",".join(line.split(",")[:5]) for line in (out / "metrics.csv").read_text().splitlines()]
    layers = (out / "layers.csv").read_text() if "layers.csv" in names else None
    return names, model, metrics, layers


def main() -> int:
    root, train = pathlib.Path(sys.argv[1]), os.path.abspath(sys.argv[2])
    data = root / "data" / "mnist"
    if not data.is_dir():
        print("SKIP: no MNIST in data/mnist")
        return 77
    problems = []
    with tempfile.TemporaryDirectory(prefix="stepgrad-kill-") as tmp:
        tmp = pathlib.Path(tmp)
        out = tmp / "out"
        run = [train, "--data", str(data), "--limit", "300", "--epochs", "1", "--out", str(out)]
        subprocess.run(run + ["--seed", "1"], check=True, capture_output=True)
        old = fingerprint(out)
        start = time.monotonic()
        subprocess.run(run + ["--seed", "2"], check=True, capture_output=True)
        whole = time.monotonic() - start
        new = fingerprint(out)
        shutil.rmtree(out)
        subprocess.run(run + ["--seed", "1"], check=True, capture_output=True)
        if old[0] != OWNED or new[0] != OWNED or old == new:
            print(f"the two complete sets are not as expected: {old[0]} / {new[0]}")
            return 1
        kills = 30
        seen = {"old": 0, "new": 0}
        for k in range(kills):
            delay = whole * (0.3 + 0.8 * k / kills)  # loading and training, then the save
            p = subprocess.Popen(run + ["--seed", "2"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            now = fingerprint(out)
            if now == old:
                seen["old"] += 1
            elif now == new:
                seen["new"] += 1
                shutil.rmtree(out)  # back to the old set for the next kill
                subprocess.run(run + ["--seed", "1"], check=True, capture_output=True)
            else:
                problems.append(f"killed after {delay:.2f} s: a mix in --out: {now[0]}")
        subprocess.run(run + ["--seed", "2"], check=True, capture_output=True)
        left = [p.name for p in tmp.iterdir() if p.name != "out"]
        left += [p.name for p in out.iterdir() if p.name not in OWNED]
        if left:
            problems.append(f"after a complete run, left behind: {left}")
        print(f"{kills} kills over {whole:.2f} s runs: old set {seen['old']} times, new set "
              f"{seen['new']} times, a mix {len(problems)} times")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
