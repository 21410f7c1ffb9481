#!/usr/bin/python3
"""docs/python.md as a reader follows it:

- every Python session under <!-- python: session --> (a ```pycon block) runs with doctest, all
  of them in one namespace, top to bottom, and must print what the page shows;
- every command of a ```console block under <!-- python: commands --> runs in bash from the
  source root (`build/` meaning this build) and must print the lines shown under it;
- `meson install` of the module (its install tag, runtime, into a scratch --destdir) puts it where
  /usr/bin/python3 imports it from, for the prefix's Python path, as the page says.

    test_docs.py            check (skips, 77, without the module, numpy or MNIST)
    test_docs.py --regen    rewrite the sessions' outputs in the page from a run (then read the diff)
"""
import contextlib
import doctest
import io
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import _common

np, sg = _common.imports()
PAGE = _common.SOURCE_ROOT / "docs" / "python.md"
BUILD_PY = pathlib.Path(sg.__file__).resolve().parent  # BUILD/python
BUILD = BUILD_PY.parent
SESSION = re.compile(r"(<!-- python: session -->\n```pycon\n)(.*?)(^```\n)", re.S | re.M)
COMMANDS = re.compile(r"<!-- python: commands -->\n```console\n(.*?)^```\n", re.S | re.M)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def page():
    return PAGE.read_text(encoding="utf-8")


def namespace():
    os.chdir(_common.SOURCE_ROOT)  # the page's paths (data/mnist) are the source root's
    return {"__name__": "docs_python"}


def test_the_sessions_print_what_the_page_shows():
    text = page()
    blocks = [m.group(2) for m in SESSION.finditer(text)]
    assert blocks, "no <!-- python: session --> block in docs/python.md"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    globs = namespace()
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, globs, f"docs/python.md session {i + 1}", str(PAGE), 0)
        runner.run(test, clear_globs=False)
        globs = test.globs  # DocTest copies its globals: the next session continues from these
    failed, attempted = runner.summarize(verbose=False)
    assert attempted > 20 and failed == 0, f"{failed} of {attempted} examples failed"


def test_the_commands_print_what_the_page_shows():
    text = page()
    blocks = COMMANDS.findall(text)
    assert blocks, "no <!-- python: commands --> block in docs/python.md"
    for block in blocks:
        for cmd, expected in re.findall(r"^\$ (.*)\n((?:(?!\$ ).*\n)*)", block, re.M):
            cmd = re.sub(r"(?<![\w/])build/", str(BUILD) + "/", cmd)
            out = subprocess.run(["bash", "-c", cmd], cwd=_common.SOURCE_ROOT, text=True,
                                 capture_output=True, check=True).stdout
            assert doctest.OutputChecker().check_output(expected, out, FLAGS), \
                f"$ {cmd}\npage:\n{expected}got:\n{out}"


def test_meson_install_puts_the_module_on_pythons_path():
    with tempfile.TemporaryDirectory() as dest:
        subprocess.run(["meson", "install", "-C", str(BUILD), "--no-rebuild", "--quiet",
                        "--tags", "runtime", "--destdir", dest], check=True,
                       stdout=subprocess.DEVNULL)
        modules = list(pathlib.Path(dest).rglob("stepgrad*.so"))
        assert len(modules) == 1, modules
        installed = "/" + str(modules[0].parent.relative_to(dest))
        prefix = subprocess.run(["meson", "introspect", str(BUILD), "--buildoptions"],
                                capture_output=True, text=True, check=True).stdout
        if '"name": "prefix", "value": "/usr/local"' in prefix.replace("\n", ""):
            # the default prefix: Debian's python3 looks there without PYTHONPATH
            path = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.path)"],
                                  env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                                  check=True).stdout
            assert repr(installed) in path, (installed, path)
            assert f"`{installed}`" in page(), f"docs/python.md does not name {installed}"
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(modules[0].parent)}
        out = subprocess.run(["/usr/bin/python3", "-c",
                              "import stepgrad; print(stepgrad.__file__); print(stepgrad.Network())"],
                             env=env, capture_output=True, text=True, check=True).stdout
        assert out.startswith(str(modules[0])) and "784-128-64-10" in out, out


def regen():
    """Rewrites each session's outputs with what a run prints (the sources stay)."""
    text = page()
    globs = namespace()
    parser = doctest.DocTestParser()

    def run_block(m):
        lines = []
        for ex in parser.get_examples(m.group(2)):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                try:
                    exec(compile(ex.source, "<docs>", "single"), globs)  # noqa: S102
                except Exception as e:  # noqa: BLE001 - the page shows the traceback's last line
                    print("Traceback (most recent call last):\n  ...")
                    print(f"{type(e).__module__ + '.' if type(e).__module__ not in ('builtins',) else ''}"
                          f"{type(e).__qualname__}: {e}")
            src = ex.source.rstrip("\n").split("\n")
            lines.append(">>> " + src[0])
            lines += ["... " + s for s in src[1:]]
            out = buf.getvalue()
            lines += [l if l.strip() else "<BLANKLINE>" for l in out.rstrip("\n").split("\n")] if out else []
        return m.group(1) + "\n".join(lines) + "\n" + m.group(3)

    PAGE.write_text(SESSION.sub(run_block, text), encoding="utf-8")
    print(f"rewrote {PAGE}")


if "--regen" in sys.argv:
    regen()
    sys.exit(0)
if not _common.have_mnist():
    print(f"skipped: docs/python.md reads MNIST from {_common.MNIST} (scripts/fetch-mnist)")
    sys.exit(_common.SKIP)
_common.run(globals())
