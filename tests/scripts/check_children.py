"""gnuplot and dot under a time limit and dying with their parent; a full disk fails the run.

R40: a hung gnuplot or dot (a stand-in first on PATH that sleeps, with a child of its own) ends
the run within STEPGRAD_PLOT_TIMEOUT: exit 1, one line naming the program and the limit, and
nothing it started is left. R41: a program killed by SIGKILL (or SIGINT, SIGTERM) while gnuplot or dot
runs leaves neither behind. R42: a disk that fills while gnuplot or dot writes (a small tmpfs, mounted in a
mount namespace of our own: `unshare --mount --map-root-user`, no root needed where user
namespaces are allowed) fails the run in one line naming the file and "No space left on device",
and the old picture stays as it was. The disk part skips, in one line, where it cannot mount.

Usage: check_children.py 01_NEURON 02_ACTIVATIONS
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

neuron, activations = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
failures = 0
count = 0


def report(name, problems):
    global failures, count
    count += 1
    if problems:
        failures += 1
        print(f"not ok {count} - {name}: " + "; ".join(problems))
    else:
        print(f"ok {count} - {name}")


def alive(pid):
    """True while the process runs (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def gone_soon(pids, seconds=3.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not any(alive(p) for p in pids):
            return []
        time.sleep(0.05)
    left = [p for p in pids if alive(p)]
    for p in left:  # not ours to leave running, whatever the result
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def read_pids(path):
    try:
        with open(path) as f:
            return [int(w) for w in f.read().split()]
    except FileNotFoundError:
        return []


def stand_in(bin_dir, name, body):
    path = os.path.join(bin_dir, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)


def env_with(bin_dir, **extra):
    env = dict(os.environ)
    env.pop("STEPGRAD_GNUPLOT", None)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env.update(extra)
    return env


def hung(tmp, program, child, args):
    """R40: `child` (gnuplot or dot) sleeps; the run ends within the limit, in one line."""
    bin_dir = os.path.join(tmp, f"bin-{child}-hung")
    os.makedirs(bin_dir)
    pids = os.path.join(tmp, f"{child}-hung.pids")
    # A script that starts a child of its own and waits: the time limit must end both.
    stand_in(bin_dir, child, f'echo $$ >>"{pids}"\nsleep 1000 &\necho $! >>"{pids}"\nwait')
    problems = []
    start = time.monotonic()
    try:
        r = subprocess.run([program] + args, env=env_with(bin_dir, STEPGRAD_PLOT_TIMEOUT="1"),
                           capture_output=True, text=True, timeout=30, cwd=tmp)
    except subprocess.TimeoutExpired:
        problems.append("still running after 30 s")
        r = None
    took = time.monotonic() - start
    if r is not None:
        lines = r.stderr.splitlines()
        if r.returncode != 1:
            problems.append(f"exit {r.returncode}, not 1")
        if len(lines) != 1:
            problems.append(f"{len(lines)} lines on stderr, not 1: {r.stderr[-300:]!r}")
        elif f"{child} did not finish within 1 s" not in lines[0]:
            problems.append(f"the line names neither {child} nor the limit: {lines[0]!r}")
        if took > 6:
            problems.append(f"took {took:.1f} s for a limit of 1 s")
    left = gone_soon(read_pids(pids))
    if not read_pids(pids):
        problems.append(f"the stand-in {child} never ran")
    if left:
        problems.append(f"left running: {left}")
    report(f"a hung {child} ends the run in one line within the limit ({took:.1f} s)", problems)


def killed_parent(tmp, program, child, args, sig=signal.SIGKILL):
    """R41: `sig` to the program while `child` runs leaves no `child` behind."""
    bin_dir = os.path.join(tmp, f"bin-{child}-orphan-{sig.name}")
    os.makedirs(bin_dir)
    pids = os.path.join(tmp, f"{child}-orphan-{sig.name}.pids")
    stand_in(bin_dir, child, f'echo $$ >>"{pids}"\nexec sleep 1000')
    problems = []
    p = subprocess.Popen([program] + args, env=env_with(bin_dir), cwd=tmp,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 20
    while not read_pids(pids) and time.monotonic() < end and p.poll() is None:
        time.sleep(0.05)
    if not read_pids(pids):
        problems.append(f"the stand-in {child} never ran")
    p.send_signal(sig)
    p.wait()
    left = gone_soon(read_pids(pids))
    if left:
        problems.append(f"{child} {left} outlived the program killed by {sig.name}")
    report(f"a program killed by {sig.name} leaves no {child} behind", problems)


def disk_full(tmp, name, program, args, picture, free_kib):
    """R42: the disk fills while `picture` is written: one line, exit 1, the old one kept."""
    tool = "gnuplot" if picture.endswith("sigmoid.png") else "dot"
    if shutil.which(tool) is None or shutil.which("unshare") is None:
        print(f"# SKIP {name}: needs {tool} and unshare")
        return
    mnt = os.path.join(tmp, f"full-{tool}")
    os.makedirs(mnt)
    old = b"the old picture"
    # The mount lives in a namespace of our own; its results are copied out before it goes.
    script = f"""set -e
mount -t tmpfs -o size=512k tmpfs "$1"
printf '%s' '{old.decode()}' >"$1/{picture}"
dd if=/dev/zero of="$1/spacer" bs=1k count={free_kib} 2>/dev/null
dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null || true
rm "$1/spacer"
set +e
cd "$1"
"$2" "$@" >"$3/out" 2>"$3/err"
echo $? >"$3/rc"
cat "$1/{picture}" >"$3/after"
ls -A "$1" >"$3/ls"
"""
    results = os.path.join(tmp, f"results-{tool}")
    os.makedirs(results)
    r = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c",
                        script.replace('"$2" "$@"', '"$2" ' + " ".join(f"'{a}'" for a in args)),
                        "sh", mnt, program, results],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or not os.path.exists(os.path.join(results, "rc")):
        print(f"# SKIP {name}: cannot mount a tmpfs here ({(r.stderr or '').strip()[:120]})")
        return
    problems = []
    rc = int(open(os.path.join(results, "rc")).read())
    err = open(os.path.join(results, "err")).read()
    lines = err.splitlines()
    if rc != 1:
        problems.append(f"exit {rc}, not 1")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr, not 1: {err[-300:]!r}")
    elif "No space left on device" not in lines[0] or picture not in lines[0]:
        problems.append(f"the line names not both {picture} and ENOSPC: {lines[0]!r}")
    if open(os.path.join(results, "after"), "rb").read() != old:
        problems.append(f"the old {picture} was not kept")
    left = [n for n in open(os.path.join(results, "ls")).read().split() if ".tmp-" in n]
    if left:
        problems.append(f"temporary files left: {left}")
    report(name, problems)


with tempfile.TemporaryDirectory(prefix="stepgrad-children-") as tmp:
    out = os.path.join(tmp, "out")
    hung(tmp, activations, "gnuplot", ["--out", out])
    hung(tmp, neuron, "dot", ["--dot", os.path.join(tmp, "graph.dot")])
    killed_parent(tmp, activations, "gnuplot", ["--out", out])
    killed_parent(tmp, neuron, "dot", ["--dot", os.path.join(tmp, "graph2.dot")])
    # Ctrl-C or kill: the program's handlers remove its temporary files and die by the signal
    # (R24); the child, in a process group of its own that Ctrl-C does not reach, dies with it.
    killed_parent(tmp, activations, "gnuplot", ["--out", out], signal.SIGINT)
    killed_parent(tmp, activations, "gnuplot", ["--out", out], signal.SIGTERM)
    disk_full(tmp, "a disk full under gnuplot fails the run and keeps the old picture",
              activations, ["--out", "."], "sigmoid.png", 16)
    disk_full(tmp, "a disk full under dot fails the run and keeps the old picture",
              neuron, ["--dot", "graph.dot"], "graph.png", 8)

print(f"1..{count}")
sys.exit(1 if failures else 0)
