#!/usr/bin/python3
"""scripts/pytorch_twin.py against hostile inputs (issue 23): each is refused with exactly one
line on stderr ("pytorch_twin: error: ..."), never a traceback, without waiting (90 s covers
importing torch on a loaded machine; a FIFO read waited forever) and in bounded memory;
the .npz rules are the C++ loader's (duplicate members, bytes after the archive, Fortran order,
extra arrays, a member claiming 2 GiB). With MNIST: a huge IDX file is refused by its size, a
stopped DDP worker ends the run after --timeout with one line, and a killed run leaves no worker
and no rendezvous folder behind.

    check_twin_inputs.py SOURCE_ROOT
Exits 0, 1 on a failure, 77 (skipped) without Debian's python3-torch.
"""
import io
import os
import pathlib
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

try:
    import numpy as np
    import torch  # noqa: F401 -- the twin needs it
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])  # Debian's, with torch
    print("SKIP: no numpy or torch for /usr/bin/python3 (python3-torch)")
    sys.exit(77)

failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def twin(root, *args, timeout=150):
    """(rc, stderr lines, seconds, peak MB) of one run of the twin."""
    start = time.monotonic()
    try:
        r = subprocess.run(["/usr/bin/python3", str(root / "scripts" / "pytorch_twin.py"), *args],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ["(still running after the timeout)"], timeout, 0
    # The largest child so far: a bound for this one too, as the checks run in order.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return r.returncode, r.stderr.splitlines(), time.monotonic() - start, peak / 1024


def refused(root, what, args, want, rc=1, seconds=90, max_mb=None):
    got_rc, err, took, peak = twin(root, *args)
    one = len(err) == 1 and err[0].startswith("pytorch_twin: error: ")
    check(got_rc == rc and one and want in err[0] and took < seconds
          and (max_mb is None or peak < max_mb),
          f"{what}: rc {got_rc}, {took:.1f} s, {err[:3]}" + (f", peak {peak:.0f} MB" if max_mb else ""))


def npy(array, fortran=False):
    b = io.BytesIO()
    np.save(b, np.asfortranarray(array) if fortran else array)
    return b.getvalue()


def model_members(options="bias=false activation=sigmoid init=fan-out seed=42 split=article"):
    rng = np.random.RandomState(1)
    return [("W0.npy", npy(rng.randn(128, 784))), ("W1.npy", npy(rng.randn(64, 128))),
            ("W2.npy", npy(rng.randn(10, 64))), ("options.npy", npy(np.array(options)))]


def write_zip(path, members, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory(prefix="stepgrad-twin-") as tmp:
        tmp = pathlib.Path(tmp)
        fifo = tmp / "model.npz"
        os.mkfifo(fifo)
        # "At once": no wait for a writer (importing torch alone takes 20 s on a loaded machine).
        refused(root, "a FIFO as --model", ["evaluate", "--model", str(fifo)], "is a FIFO")
        refused(root, "a folder as --model", ["evaluate", "--model", str(tmp)], "is a folder")
        bad = tmp / "bad.npz"
        bad.write_bytes(b"PK\x03\x04 not really a zip" + b"\0" * 40)
        refused(root, "a bad zip", ["evaluate", "--model", str(bad)], "zip")

        good = tmp / "good.npz"
        write_zip(good, model_members())
        dup = tmp / "dup.npz"
        zero = npy(np.zeros((128, 784)))
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
            write_zip(dup, model_members() + [("W0.npy", zero)])
        refused(root, "a duplicated member (the all-zero W0 was used)",
                ["compare", str(good), str(dup)], "appears twice")
        trailing = tmp / "trailing.npz"
        trailing.write_bytes(good.read_bytes() + b"junk")
        refused(root, "bytes after the archive", ["compare", str(good), str(trailing)],
                "bytes after the end of the zip archive")
        fortran = tmp / "fortran.npz"
        members = model_members()
        members[0] = ("W0.npy", npy(np.random.RandomState(1).randn(128, 784), fortran=True))
        write_zip(fortran, members)
        refused(root, "Fortran order", ["compare", str(good), str(fortran)], "fortran_order")
        extra = tmp / "extra.npz"
        write_zip(extra, model_members() + [("X.npy", npy(np.zeros(3)))])
        refused(root, "an extra array", ["compare", str(good), str(extra)], "unexpected array X")
        escape = tmp / "escape.npz"
        write_zip(escape, model_members("bias=false activation=sigmoid\n\x1b[2Kaccuracy: 0.9999"))
        refused(root, "control characters in the options line", ["compare", str(escape), str(good)],
                "control character")
        huge = tmp / "huge.npz"
        header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 784), }"
        header += b" " * (118 - len(header)) + b"\n"
        members = model_members()
        members[0] = ("W0.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header
                      + b"\0" * 64)
        write_zip(huge, members)
        refused(root, "a huge shape", ["compare", str(good), str(huge)], "shape", max_mb=600)

        # A member that inflates to 2 GiB (2.1 MB on disk): refused from its directory entry, and
        # with its entry lying (1 KB), read no further than that.
        bomb = tmp / "bomb.npz"
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = b"\0" * (64 << 20)
        body = b"".join(z.compress(chunk) for _ in range(32)) + z.flush()
        size = 32 * len(chunk)
        crc = 0
        for _ in range(32):
            crc = zlib.crc32(chunk, crc)

        def bomb_zip(claim):
            name = b"W0.npy"
            local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body),
                                min(claim, 0xFFFFFFFF), len(name), 0) + name
            central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                                  len(body), min(claim, 0xFFFFFFFF), len(name), 0, 0, 0, 0, 0,
                                  0) + name
            end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central),
                              len(local) + len(body), 0)
            return local + body + central + end

        bomb.write_bytes(bomb_zip(size))
        refused(root, f"a {len(body) / 1e6:.1f} MB file with a 2 GiB deflated member",
                ["compare", str(good), str(bomb)], "inflates to 2147483648 bytes", max_mb=600)
        bomb.write_bytes(bomb_zip(1000))
        refused(root, "the same member claiming 1,000 bytes", ["compare", str(good), str(bomb)],
                "W0.npy", max_mb=600)

        # A model its folder's MANIFEST lists with other bytes (a run killed before its MANIFEST).
        listed = tmp / "listed"
        listed.mkdir()
        write_zip(listed / "model.npz", model_members())
        (listed / "MANIFEST").write_text("stepgrad manifest 1\nrun R1\nprogram 10_train\noptions \n"
                                         f"file {'0' * 64} model.npz\n")
        refused(root, "a model its MANIFEST does not list with these bytes",
                ["compare", str(good), str(listed / "model.npz")], "not the file run R1 wrote")

        # Bad option values: one line, exit 2.
        refused(root, "--seed -1", ["train", "--seed", "-1"], "--seed", rc=2)
        refused(root, "--seed 2^40", ["train", "--seed", str(2**40)], "--seed", rc=2)
        refused(root, "--rtol nan", ["compare", str(good), str(good), "--rtol", "nan"], "--rtol",
                rc=2)
        refused(root, "--limit abc", ["train", "--limit", "abc"], "--limit", rc=2)

        data = root / "data" / "mnist"
        if not data.is_dir():
            print("SKIP part: no MNIST in data/mnist (the IDX and DDP checks)")
            return 1 if failures else 0
        # A huge IDX file (sparse: 20 GiB of nothing) is refused by its size, at once.
        fake = tmp / "fake_mnist"
        fake.mkdir()
        for name in ["train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                     "t10k-labels-idx1-ubyte"]:
            (fake / name).symlink_to(next(p for p in [data / name, data / (name + ".gz")]
                                          if p.exists()))
        with open(fake / "train-images-idx3-ubyte", "wb") as f:
            f.write(struct.pack(">HBBIII", 0, 8, 3, 60000, 28, 28))
            f.truncate(20 << 30)
        real_model = tmp / "real_model.npz"
        write_zip(real_model, model_members())
        refused(root, "a 20 GiB IDX file", ["evaluate", "--model", str(real_model), "--data",
                                            str(fake)], "more than", max_mb=600)

        # DDP where the host name does not resolve (a container without /etc/hosts): a run that
        # works says nothing on stderr (gloo warned in every process until --nproc bound it to
        # the loopback interface). A UTS namespace gives the run a host name of its own; where
        # one cannot be made (no root, no user namespaces) this check says so and is left out.
        probe = subprocess.run(["unshare", "-u", "--map-root-user", "true"], capture_output=True)
        if probe.returncode == 0:
            r = subprocess.run(
                ["unshare", "-u", "--map-root-user", "sh", "-c",
                 'hostname stepgrad-no-such-host && exec "$@"', "sh", "/usr/bin/python3",
                 str(root / "scripts" / "pytorch_twin.py"), "train", "--nproc", "2", "--data",
                 str(data), "--limit", "200", "--batch", "20", "--epochs", "1"],
                capture_output=True, text=True, timeout=120)
            check(r.returncode == 0 and r.stderr == "",
                  f"DDP where the host name does not resolve: rc {r.returncode}, stderr "
                  f"{r.stderr.splitlines()[:3]}")
        else:
            print("check_twin_inputs: no UTS namespace here (unshare -u): the unresolved host "
                  "name case is left out")

        # DDP: a stopped worker ends the run after --timeout, in one line per process.
        run = ["/usr/bin/python3", str(root / "scripts" / "pytorch_twin.py"), "train", "--nproc",
               "2", "--data", str(data), "--limit", "2000", "--batch", "20", "--epochs", "200",
               "--timeout", "5"]
        p = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        workers = []
        for _ in range(600):  # the workers start once the data is loaded
            time.sleep(0.1)
            children = pathlib.Path(f"/proc/{p.pid}/task/{p.pid}/children")
            workers = children.read_text().split() if children.exists() else []
            if len(workers) >= 2 or p.poll() is not None:
                break
        time.sleep(2)  # training
        if len(workers) >= 2:
            os.kill(int(workers[1]), signal.SIGSTOP)
            try:
                _, err = p.communicate(timeout=60)
                err = err.splitlines()
                check(p.returncode == 1 and err and all(e.startswith("pytorch_twin: error: ")
                                                        for e in err)
                      and any("--timeout" in e for e in err),
                      f"a stopped DDP worker: rc {p.returncode}, {err}")
            except subprocess.TimeoutExpired:
                check(False, "a stopped DDP worker: still running 60 s later")
            for w in workers:
                try:
                    os.kill(int(w), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            check(not any(pathlib.Path(f"/proc/{w}").exists() for w in workers),
                  "a stopped DDP worker: no worker left")
        else:
            p.kill()
            check(False, f"DDP: no workers appeared ({p.communicate()[1][-300:]})")

        # The main process killed: its workers die with it, and the next run removes its folder.
        def folders():
            return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("pytorch_twin.")}
        before = folders()
        p = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers = []
        for _ in range(600):
            time.sleep(0.1)
            children = pathlib.Path(f"/proc/{p.pid}/task/{p.pid}/children")
            workers = children.read_text().split() if children.exists() else []
            if len(workers) >= 2:
                break
        time.sleep(1)
        p.send_signal(signal.SIGKILL)
        p.wait()
        time.sleep(2)
        alive = [w for w in workers if pathlib.Path(f"/proc/{w}").exists()
                 and "Z" not in pathlib.Path(f"/proc/{w}/stat").read_text().split()[2]]
        check(not alive, f"the main process killed: its workers ended too ({alive} alive)")
        left = folders() - before
        check(bool(left), "the main process killed: it left its rendezvous folder (the case)")
        # The next run removes the folder (remove_stale_folders, before its work).
        r = subprocess.run(["/usr/bin/python3", str(root / "scripts" / "pytorch_twin.py"), "train",
                            "--nproc", "2", "--data", str(data), "--limit", "40", "--batch", "20",
                            "--steps", "1"], capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, f"a short DDP run after the kill: {r.stderr.strip()[-300:]}")
        check(not (left & folders()), f"the killed run's rendezvous folder is gone: {left & folders()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
