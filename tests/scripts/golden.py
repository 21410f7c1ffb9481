#!/usr/bin/env python3
"""Golden output of the step tutorials (00-09) and 13_your_network, and the docs' copies of it.

Usage:
  golden.py check NAME EXE SOURCE_ROOT     run EXE (tutorial NAME) with its default options and
                                           compare its stdout with tests/golden/NAME.txt
  golden.py docs SOURCE_ROOT [EXE...]      check every output block of README.md, docs/*.md
                                           and the Chinese edition's docs/zh/*.md
  golden.py regen BUILD_DIR SOURCE_ROOT    rewrite tests/golden/*.txt, the docs' output blocks
                                           and the pictures in docs/images/ (scripts/regen-golden)

A tutorial runs in a scratch folder whose `data` links to SOURCE_ROOT/data, so its defaults
(--data data/mnist, --out out) print the same relative paths everywhere and its pictures land in
the scratch folder, never in the source tree. Only stdout is compared: the step tutorials print
on stderr what depends on the machine (whether gnuplot or graphviz drew a picture). A tutorial
that takes --data needs MNIST: without data/mnist its check exits 77 (meson's "skipped").

A docs output block is
  <!-- output: NAME [ARGS...] [| grep -F TEXT] [| lines A-B] [; after: NAME [ARGS...]] [; keys: K]
       [; status: N] -->
  ```text
  $ [printf 'K' | ]build/tutorials/NAME [ARGS...] [| grep -F 'TEXT']
  ...what that command prints...
  ```
  <!-- end output -->
`| lines A-B` shows only lines A to B (from 1; `A-` to the end) and `...` where lines were
left out; it is not a shell command, so the page shows the command without it (a program cut
off by `head` would stop before writing its files). A block without arguments or keys compares
with tests/golden/NAME.txt where there is one (filtered as the block says); the others are run,
all in one scratch folder, each command once (cached by command, not by the files it writes). `after:` names a
command whose files the block reads (11_evaluate's model comes from `10_train`); it runs first,
unless an earlier block ran it. `keys:` is the program's standard input, written as printf's
format with only \n and \\ as escapes (`p\n\nq\n`: p, Enter, Enter, q; no spaces, quotes or
%), and shown piped from printf; without it the input is empty. `status:` is the exit status the
program must end with (0 without it): a lab's untouched skeleton fails (docs/labs.md). A program
named lab_NN is one of the labs, shown as build/labs/lab_NN.
What a run prints must equal the page, except the timing columns: in a table whose header ends
`seconds  samples/s` (10_train's epochs), the last two numbers of each row. regen keeps the page's
figures when nothing else changed, and otherwise says that the page's words about the machine
behind them may need changing. 10_train, 11_evaluate and 12_recipes say on stdout whether
gnuplot drew their pictures, so without gnuplot their blocks (unless run with --no-plots) are
skipped.
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
# The pictures in docs/images/ that regen copies from the scratch folder, where the golden runs,
# PICTURE_RUNS and the docs' blocks drew them: picture -> its path in the scratch folder.
PICTURES = {"sigmoid.png": "out/sigmoid.png", "tape.png": "out/tape.png",
            "13_boundary.png": "out/13_boundary.png", "13_loss.png": "out/13_loss.png",
            "neuron.png": "out/neuron.png",
            "curves.png": "out/curves.png", "weights.png": "out/weights.png",
            "layers.png": "out/layers.png", "curves_article.png": "out_article/curves.png",
            "weights_article.png": "out_article/weights.png",
            "layers_article.png": "out_article/layers.png",
            "confusion.png": "out/confusion.png", "predictions.png": "out/predictions.png",
            "recipes.png": "out/recipes.png"}
# Runs with options that only draw a picture: (tutorial, its arguments).
PICTURE_RUNS = [("01_neuron", ["--dot", "out/neuron.dot"])]
# Tutorials whose stdout says whether gnuplot drew their pictures (unless --no-plots).
PLOTS_ON_STDOUT = {"10_train", "11_evaluate", "12_recipes"}
BLOCK = re.compile(r"<!-- output: (?P<spec>[^>]*?) -->\n(?P<body>.*?)<!-- end output -->\n",
                   re.DOTALL)
TIMING_HEADER = re.compile(r"\bseconds\s+samples/s\s*$")
TIMING_ROW = re.compile(r"\s+[\d.]+\s+[\d.]+\s*$")


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


def run(exe, args, scratch, keys=""):
    """(exit code, stdout, stderr) of one run in the scratch folder, `keys` on its stdin."""
    r = subprocess.run([os.path.abspath(exe)] + args, cwd=scratch, capture_output=True, text=True,
                       check=False, input=keys, timeout=900)
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

class Block:
    """One output block's spec: 'NAME ARGS [| grep -F TEXT] [| lines A-B] [; after: NAME ARGS]
    [; keys: K]'."""

    def __init__(self, spec):
        command, *clauses = spec.split(";")
        lexer = shlex.shlex(command, posix=True, punctuation_chars="|")
        lexer.whitespace_split = True  # words split at spaces and at a | outside quotes
        words = list(lexer)
        self.grep = self.lines = None
        parts = [[]]
        for w in words:
            if w == "|":
                parts.append([])
            else:
                parts[-1].append(w)
        if not parts[0]:
            raise ValueError(f"output block '{spec}': no program")
        self.name, self.args = parts[0][0], parts[0][1:]
        for f in parts[1:]:
            if not f:
                raise ValueError(f"output block '{spec}': an empty filter")
            span = re.fullmatch(r"([1-9]\d*)-([1-9]\d*)?", f[1]) if len(f) == 2 else None
            if len(f) == 3 and f[:2] == ["grep", "-F"] and self.grep is None and self.lines is None:
                self.grep = f[2]
            elif f[0] == "lines" and span and self.lines is None and \
                    (span[2] is None or int(span[2]) >= int(span[1])):
                self.lines = (int(span[1]), int(span[2]) if span[2] else None)
            else:
                raise ValueError(f"output block '{spec}': the filters are '| grep -F TEXT' "
                                 "then '| lines A-B'")
        self.after = self.keys = None
        self.status = 0
        for clause in clauses:
            c = clause.strip()
            a = shlex.split(c) if c.startswith("after:") else []
            if len(a) >= 2 and self.after is None:
                self.after = (a[1], a[2:])
            elif c.startswith("keys:") and self.keys is None and \
                    re.fullmatch(r"([^\s\\%'\"]|\\n|\\\\)+", c[5:].strip()):
                # as written, and only \n and \\ as escapes, so printf (which the page shows)
                # reads them as stdin() does
                self.keys = c[5:].strip()
            elif re.fullmatch(r"status: \d+", c):
                self.status = int(c[7:])
            else:
                raise ValueError(f"output block '{spec}': after ';' comes 'after: NAME [ARGS...]' "
                                 "or 'keys: K' (K without spaces, quotes or %; escapes \\n, \\\\) "
                                 "or 'status: N'")

    def stdin(self):
        """The keys as the bytes printf writes: only \\n and \\\\ are escapes."""
        if self.keys is None:
            return ""
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\"}.get(m[1], m[0]), self.keys)

    def render(self, output):
        is_lab = re.fullmatch(r"lab_\d\d(_solution)?", self.name)
        folder = "build/labs/" if is_lab else "build/tutorials/"
        shown = " ".join([folder + self.name] + [shlex.quote(a) for a in self.args])
        if self.keys is not None:
            shown = f"printf {shlex.quote(self.keys)} | {shown}"
        lines = output.splitlines(True)
        if self.grep is not None:
            shown += " | grep -F " + shlex.quote(self.grep)
            lines = [line for line in lines if self.grep in line]
        if self.lines is not None:
            first, last = self.lines
            last = len(lines) if last is None else min(last, len(lines))
            lines = (["...\n"] if first > 1 else []) + lines[first - 1:last] + \
                (["...\n"] if last < len(lines) else [])
        return "```text\n$ " + shown + "\n" + "".join(lines).rstrip("\n") + "\n```\n"


def mask_timing(text):
    """The text with each timing row's last two numbers (seconds, samples/s) replaced by '#'."""
    out, in_table = [], False
    for line in text.splitlines(True):
        if not line.strip():
            in_table = False
        elif in_table:
            line = TIMING_ROW.sub(" # #\n", line)
        elif TIMING_HEADER.search(line):
            in_table = True
        out.append(line)
    return "".join(out)


def docs_pages(source_root):
    """README.md, docs/*.md and the Chinese edition's docs/zh/*.md (its output blocks are the
    English pages' own, the program output as printed: tests/scripts/check_zh.py)."""
    out = [os.path.join(source_root, "README.md")]
    for folder in [os.path.join(source_root, "docs"), os.path.join(source_root, "docs", "zh")]:
        if os.path.isdir(folder):
            out += [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith(".md")]
    return out


class Runner:
    """Runs the blocks' commands in one scratch folder, each (program, arguments) once."""

    def __init__(self, source_root, exes, scratch):
        self.source_root, self.exes, self.scratch = source_root, exes, scratch
        self.outputs = {}

    def can_run(self, name, args, stdout_shown=True):
        exe = self.exes.get(name)
        if exe is None or (needs_data(exe) and not has_mnist(self.source_root)):
            return False
        return not (stdout_shown and name in PLOTS_ON_STDOUT and "--no-plots" not in args and
                    shutil.which("gnuplot") is None)

    def output(self, name, args, keys="", status=0):
        key = (name, tuple(args), keys)
        if key not in self.outputs:
            code, out, err = run(self.exes[name], args, self.scratch, keys)
            if code != status:
                raise RuntimeError(f"{name} {' '.join(args)} exited {code}, not {status}: "
                                   f"{err.strip()}")
            self.outputs[key] = out
        return self.outputs[key]

    def block(self, block):
        """What the block's command prints, or None when it cannot be run here."""
        if not block.args and block.keys is None:
            path = golden_path(self.source_root, block.name)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    return f.read()
        if not self.can_run(block.name, block.args):
            return None
        if block.after is not None:
            if not self.can_run(*block.after, stdout_shown=False):
                return None
            self.output(*block.after)
        return self.output(block.name, block.args, block.stdin(), block.status)


def docs(source_root, exes):
    failures = skipped = checked = 0
    scratch = make_scratch(source_root)
    try:
        runner = Runner(source_root, exes, scratch)
        for page in docs_pages(source_root):
            with open(page, encoding="utf-8") as f:
                text = f.read()
            rel = os.path.relpath(page, source_root)
            for m in BLOCK.finditer(text):
                block = Block(m.group("spec"))
                output = runner.block(block)
                if output is None:
                    skipped += 1
                    continue
                want = block.render(output)
                checked += 1
                if mask_timing(m.group("body")) != mask_timing(want):
                    failures += 1
                    print(diff(m.group("body"), want, f"{rel}: {m.group('spec')}", "the program now"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"docs_output: {checked} output blocks checked, {failures} differ, {skipped} skipped "
          "(no data, no program or no gnuplot)")
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
            if re.fullmatch(r"\d\d_\w+", f) and os.access(os.path.join(folder, f), os.X_OK)}
    labs = os.path.join(build_dir, "labs")  # docs/labs.md's blocks run the labs
    if os.path.isdir(labs):
        exes.update({f: os.path.join(labs, f) for f in sorted(os.listdir(labs))
                     if re.fullmatch(r"lab_\d\d(_solution)?", f)})
    golden = [name for name in exes if re.fullmatch(r"(0\d|13)_\w+", name)]
    if not golden:
        print(f"regen-golden: no step tutorials in {folder}; build first", file=sys.stderr)
        return 1
    os.makedirs(os.path.join(source_root, "tests", "golden"), exist_ok=True)
    scratch = make_scratch(source_root)
    try:
        for name in golden:
            code, out, err = run(exes[name], [], scratch)
            if code != 0:
                print(f"regen-golden: {name} exited {code}: {err.strip()}", file=sys.stderr)
                return 1
            with open(golden_path(source_root, name), "w", encoding="utf-8") as f:
                f.write(out)
            print(f"tests/golden/{name}.txt: {len(out.splitlines())} lines")
        for name, args in PICTURE_RUNS:
            code, _, err = run(exes[name], args, scratch)
            if code != 0:
                print(f"regen-golden: {name} {' '.join(args)} exited {code}: {err.strip()}",
                      file=sys.stderr)
                return 1
        runner = Runner(source_root, exes, scratch)
        for page in docs_pages(source_root):
            with open(page, encoding="utf-8") as f:
                text = f.read()

            def replace(m):
                block = Block(m.group("spec"))
                output = runner.block(block)
                if output is None:
                    raise RuntimeError(f"{page}: cannot run the block '{m.group('spec')}' "
                                       f"(no program in {folder}, or no gnuplot)")
                body = block.render(output)
                if mask_timing(body) == mask_timing(m.group("body")):
                    body = m.group("body")  # only the timing differs: keep the page's run
                elif mask_timing(body) != body:
                    print(f"regen-golden: {os.path.relpath(page, source_root)}: the block "
                          f"'{m.group('spec')}' now has this machine's timing columns; check "
                          "what the page says about the machine", file=sys.stderr)
                return f"<!-- output: {m.group('spec')} -->\n" + body + "<!-- end output -->\n"

            new = BLOCK.sub(replace, text)
            if new != text:
                with open(page, "w", encoding="utf-8") as f:
                    f.write(new)
                print(f"{os.path.relpath(page, source_root)}: output blocks updated")
        for picture, made in PICTURES.items():
            made = os.path.join(scratch, made)
            if os.path.isfile(made):
                os.makedirs(os.path.join(source_root, "docs", "images"), exist_ok=True)
                shutil.copyfile(made, os.path.join(source_root, "docs", "images", picture))
                print(f"docs/images/{picture}: {os.path.getsize(made)} bytes")
            else:
                print(f"regen-golden: {picture} was not drawn (gnuplot or graphviz missing?); "
                      f"docs/images/{picture} is unchanged", file=sys.stderr)
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
