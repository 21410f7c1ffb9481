#!/usr/bin/env python3
"""Golden output of the step tutorials (01-09) and 13_your_network, and the docs' copies of it.

Usage:
  golden.py check NAME EXE SOURCE_ROOT     run EXE (tutorial NAME) with its default options and
                                           compare its stdout with tests/golden/NAME.txt
  golden.py docs SOURCE_ROOT [EXE...]      check every output block of docs/*.md (see below)
  golden.py regen BUILD_DIR SOURCE_ROOT    rewrite tests/golden/*.txt, the docs' output blocks
                                           and the pictures in docs/images/ (scripts/regen-golden)

A tutorial runs in a scratch folder whose `data` links to SOURCE_ROOT/data, so its defaults
(--data data/mnist, --out out) print the same relative paths everywhere and its pictures land in
the scratch folder, never in the source tree. Only stdout is compared: the tutorials print on
stderr what depends on the machine (whether gnuplot or graphviz drew a picture). A tutorial
that takes --data needs MNIST: without data/mnist its check exits 77 (meson's "skipped").

A docs output block is
  <!-- output: NAME [ARGS...] [| grep -F TEXT] -->
  ```text
  $ build/tutorials/NAME [ARGS...] [| grep -F 'TEXT']
  ...what that command prints...
  ```
  <!-- end output -->
Blocks without arguments must equal tests/golden/NAME.txt; the others are run (given the EXEs).
Exits 0 when everything matches, 1 with a unified diff when not, 77 when skipped.
"""
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
# Pictures the tutorials draw into --out (default out/) that the docs show.
PICTURES = ["sigmoid.png", "tape.png", "13_boundary.png", "13_loss.png"]
# Pictures drawn by a run with options: picture -> (tutorial, its arguments).
PICTURE_RUNS = {"neuron.png": ("01_neuron", ["--dot", "out/neuron.dot"])}
BLOCK = re.compile(r"<!-- output: (?P<spec>[^>]*?) -->\n(?P<body>.*?)<!-- end output -->\n",
                   re.DOTALL)


def has_mnist(source_root):
    folder = os.path.join(source_root, "data", "mnist")
    return all(os.path.isfile(os.path.join(folder, f)) or
               os.path.isfile(os.path.join(folder, f + ".gz")) for f in MNIST_FILES)


def needs_data(exe):
    """A tutorial that takes --data reads MNIST."""
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, check=False,
                       stdin=subprocess.DEVNULL)
    return "--data" in r.stdout


def make_scratch(source_root):
    scratch = tempfile.mkdtemp(prefix="stepgrad-golden-")
    data = os.path.join(source_root, "data")
    if os.path.isdir(data):
        os.symlink(os.path.abspath(data), os.path.join(scratch, "data"))
    return scratch


def run(exe, args, scratch):
    """(exit code, stdout, stderr) of one run in the scratch folder."""
    r = subprocess.run([os.path.abspath(exe)] + args, cwd=scratch, capture_output=True, text=True,
                       check=False, stdin=subprocess.DEVNULL, timeout=900)
    return r.returncode, r.stdout, r.stderr


def golden_path(source_root, name):
    return os.path.join(source_root, "tests", "golden", name + ".txt")


def diff(want, got, want_name, got_name):
    return "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                        fromfile=want_name, tofile=got_name))


def check(name, exe, source_root):
    if needs_data(exe) and not has_mnist(source_root):
        print(f"golden {name}: skipped, no MNIST in {source_root}/data/mnist (scripts/fetch-mnist)")
        return SKIP
    path = golden_path(source_root, name)
    if not os.path.isfile(path):
        print(f"golden {name}: {path} is missing; run scripts/regen-golden")
        return 1
    scratch = make_scratch(source_root)
    try:
        code, out, err = run(exe, [], scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if code != 0:
        print(f"golden {name}: exited {code}\n{err}")
        return 1
    with open(path, encoding="utf-8") as f:
        want = f.read()
    if out != want:
        print(diff(want, out, f"tests/golden/{name}.txt", f"{name} now"))
        print(f"golden {name}: the output changed; if that is intended, run scripts/regen-golden")
        return 1
    print(f"golden {name}: {len(out.splitlines())} lines as expected")
    return 0


# ---- docs blocks ----

def parse_spec(spec):
    """'05_forward --trace | grep -F [trace]' -> ('05_forward', ['--trace'], '[trace]')."""
    command, _, pipe = spec.partition("|")
    words = shlex.split(command)
    grep = None
    if pipe.strip():
        p = shlex.split(pipe)
        if len(p) != 3 or p[:2] != ["grep", "-F"]:
            raise ValueError(f"output block '{spec}': the only filter is '| grep -F TEXT'")
        grep = p[2]
    return words[0], words[1:], grep


def render(name, args, grep, output):
    shown = " ".join(["build/tutorials/" + name] + [shlex.quote(a) for a in args])
    if grep is not None:
        shown += " | grep -F " + shlex.quote(grep)
        output = "".join(line for line in output.splitlines(True) if grep in line)
    return f"```text\n$ {shown}\n{output.rstrip(chr(10))}\n```\n"


def docs_pages(source_root):
    folder = os.path.join(source_root, "docs")
    return [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith(".md")]


def block_output(name, args, source_root, exes, scratch):
    """What the block's command prints, or None when it cannot be run here."""
    if not args:
        path = golden_path(source_root, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    exe = exes.get(name)
    if exe is None or (needs_data(exe) and not has_mnist(source_root)):
        return None
    code, out, err = run(exe, args, scratch)
    if code != 0:
        raise RuntimeError(f"{name} {' '.join(args)} exited {code}: {err.strip()}")
    return out


def docs(source_root, exes):
    failures = skipped = checked = 0
    scratch = make_scratch(source_root)
    try:
        for page in docs_pages(source_root):
            with open(page, encoding="utf-8") as f:
                text = f.read()
            rel = os.path.relpath(page, source_root)
            for m in BLOCK.finditer(text):
                name, args, grep = parse_spec(m.group("spec"))
                output = block_output(name, args, source_root, exes, scratch)
                if output is None:
                    skipped += 1
                    continue
                want = render(name, args, grep, output)
                checked += 1
                if m.group("body") != want:
                    failures += 1
                    print(diff(m.group("body"), want, f"{rel}: {m.group('spec')}", "the program now"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"docs_output: {checked} output blocks checked, {failures} differ, {skipped} skipped "
          "(no data or no program)")
    if failures:
        print("docs_output: run scripts/regen-golden")
        return 1
    return SKIP if checked == 0 else 0


# ---- regeneration ----

def regen(build_dir, source_root):
    if not has_mnist(source_root):
        print("regen-golden: needs MNIST in data/mnist (run scripts/fetch-mnist)", file=sys.stderr)
        return 1
    folder = os.path.join(build_dir, "tutorials")
    exes = {f: os.path.join(folder, f) for f in sorted(os.listdir(folder))
            if re.fullmatch(r"(0[1-9]|13)_\w+", f) and os.access(os.path.join(folder, f), os.X_OK)}
    if not exes:
        print(f"regen-golden: no step tutorials in {folder}; build first", file=sys.stderr)
        return 1
    os.makedirs(os.path.join(source_root, "tests", "golden"), exist_ok=True)
    scratch = make_scratch(source_root)
    try:
        for name, exe in exes.items():
            code, out, err = run(exe, [], scratch)
            if code != 0:
                print(f"regen-golden: {name} exited {code}: {err.strip()}", file=sys.stderr)
                return 1
            with open(golden_path(source_root, name), "w", encoding="utf-8") as f:
                f.write(out)
            print(f"tests/golden/{name}.txt: {len(out.splitlines())} lines")
        for name, args in PICTURE_RUNS.values():
            code, _, err = run(exes[name], args, scratch)
            if code != 0:
                print(f"regen-golden: {name} {' '.join(args)} exited {code}: {err.strip()}",
                      file=sys.stderr)
                return 1
        for picture in PICTURES + list(PICTURE_RUNS):
            made = os.path.join(scratch, "out", picture)
            if os.path.isfile(made):
                os.makedirs(os.path.join(source_root, "docs", "images"), exist_ok=True)
                shutil.copyfile(made, os.path.join(source_root, "docs", "images", picture))
                print(f"docs/images/{picture}: {os.path.getsize(made)} bytes")
            else:
                print(f"regen-golden: {picture} was not drawn (gnuplot or graphviz missing?); "
                      f"docs/images/{picture} is unchanged", file=sys.stderr)
        for page in docs_pages(source_root):
            with open(page, encoding="utf-8") as f:
                text = f.read()

            def replace(m):
                name, args, grep = parse_spec(m.group("spec"))
                output = block_output(name, args, source_root, exes, scratch)
                if output is None:
                    raise RuntimeError(f"{page}: no program {name} in {folder}")
                return (f"<!-- output: {m.group('spec')} -->\n" + render(name, args, grep, output) +
                        "<!-- end output -->\n")

            new = BLOCK.sub(replace, text)
            if new != text:
                with open(page, "w", encoding="utf-8") as f:
                    f.write(new)
                print(f"{os.path.relpath(page, source_root)}: output blocks updated")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def main(argv):
    try:
        if len(argv) == 4 and argv[0] == "check":
            return check(argv[1], argv[2], argv[3])
        if len(argv) >= 2 and argv[0] == "docs":
            return docs(argv[1], {os.path.basename(e): e for e in argv[2:]})
        if len(argv) == 3 and argv[0] == "regen":
            return regen(argv[1], argv[2])
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
        print(f"golden: error: {e}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
