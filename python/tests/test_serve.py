#!/usr/bin/python3
"""./run.sh notebook's server: `scripts/serve-notebook` starts Debian's jupyter-notebook on
127.0.0.1 and a free port; the test fetches the notebook over HTTP (the contents API, with the
server's token), checks it is the repository's, and stops the server. Skips (77) without
jupyter-notebook, the module or numpy."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import _common

np, sg = _common.imports()  # the server's kernel needs them as much as the test does
BUILD = os.path.dirname(os.path.dirname(os.path.abspath(sg.__file__)))  # BUILD/python/stepgrad*.so
if shutil.which("jupyter-notebook") is None:
    print("skipped: no jupyter-notebook (apt-get install jupyter-notebook)")
    sys.exit(_common.SKIP)

ROOT = _common.SOURCE_ROOT
NOTEBOOK = "backprop_from_scratch.ipynb"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_server_serves_the_notebook():
    port = free_port()
    token = "stepgrad-test-" + os.urandom(8).hex()
    scratch = tempfile.mkdtemp(prefix="stepgrad-serve-")  # Jupyter's runtime files, not $HOME's
    env = dict(os.environ, STEPGRAD_NOTEBOOK_PORT=str(port), STEPGRAD_NOTEBOOK_TOKEN=token,
               JUPYTER_RUNTIME_DIR=scratch, JUPYTER_DATA_DIR=scratch, STEPGRAD_BUILD=BUILD)
    server = subprocess.Popen([str(ROOT / "scripts" / "serve-notebook")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/api/contents/{NOTEBOOK}?token={token}"
        deadline, body, last = time.monotonic() + 60, None, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    body = json.load(r)
                break
            except OSError as e:
                last = e
                time.sleep(0.5)
        assert body is not None, f"no answer from {url}: {last}; exit {server.poll()}"
        with open(ROOT / "notebooks" / NOTEBOOK, encoding="utf-8") as f:
            ours = json.load(f)
        assert body["type"] == "notebook" and body["name"] == NOTEBOOK
        assert [c["source"] for c in body["content"]["cells"]] == \
               ["".join(c["source"]) for c in ours["cells"]]
        # the page a browser opens
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/notebooks/{NOTEBOOK}?token={token}",
                                    timeout=10) as r:
            assert r.status == 200
        # no token, no notebook
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/{NOTEBOOK}", timeout=5)
            raise AssertionError("the server answered without its token")
        except urllib.error.HTTPError as e:
            assert e.code == 403, e.code
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            out, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            out, _ = server.communicate()
        print(out.decode(errors="replace")[-2000:])
        shutil.rmtree(scratch, ignore_errors=True)


_common.run(globals())
