#!/usr/bin/env python3
"""Every "Try this" exercise has an answer a learner can check (issue 25, item 4).

Usage: check_try_this.py SOURCE_ROOT

In docs/NN_*.md and docs/zh/NN_*.md (01-13 must have one), the section "## Try this" ("## 动手试试") is a list of
numbered exercises, each followed by its answer:

    1. The exercise, a few lines.

    <details><summary>Answer</summary>

    Why, in a sentence or two, and the command with what it prints:

    <!-- output: 01_neuron --inputs 0.5,0.1,0 --trace | grep -F 'grad W +=' -->
    ...
    <!-- end output -->

    </details>

An answer holds at least one output block (docs_output runs it and compares it byte for byte;
scripts/regen-golden rewrites it) or names a program's --check. `<details>` and `</details>`
stand alone at the start of a line with a blank line after `<summary>...</summary>` and before
`</details>`, so that GitHub renders the Markdown inside; `<details>` never nests. An
exercise that asks the learner to edit a tutorial's C++ ("tutorials/NN_*.cpp") fails, but for
13_your_network, whose exercises may be about writing C++. An answer's run (its block's
command or its `after:`) that writes into out/ or another folder whose pictures regen-golden
copies to docs/images (golden.PICTURES) fails, unless it writes only pictures there and has
--no-plots, or a block outside the Try-this sections runs the very same command (docs_output
runs each command once, so the answer writes nothing new): an answer gets its own --out
(out_tryNN), or a later block and the pictures would change.
Exits 0 when every exercise has its answer, 1 listing the ones that do not.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402  (the output blocks' syntax, and the folders of the pictures)

HEADINGS = ("## Try this", "## 动手试试")
SUMMARY = {"docs": "<details><summary>Answer</summary>", "zh": "<details><summary>答案</summary>"}
ITEM = re.compile(r"^(\d+)\. ")
CPP_EDIT = re.compile(r"tutorials/\d\d_\w+\.cpp")
MAY_EDIT_CPP = {"13_your_network.md"}
# The tutorials that write into --out (default out): those that write only pictures there, which
# --no-plots turns off, and those that write data too (10_train's model.npz, 12_recipes's csv).
# (02_activations writes only sigmoid.png there, the same picture whatever its options.)
PICTURES_ONLY = {"11_evaluate", "13_your_network"}
WRITES_DATA = {"10_train", "12_recipes"}
# The folders from which regen-golden copies pictures into docs/images (out/, out_article/).
GUARDED = {path.split("/")[0] for path in golden.PICTURES.values()}


def section(text):
    """The lines of the page's Try-this section, or None."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() in HEADINGS:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("## ")),
                       len(lines))
            return lines[i + 1:end]
    return None


def runs(spec):
    """The (program, arguments) that an output block's spec runs: its command and its after:."""
    block = golden.Block(spec)
    return [(block.name, tuple(block.args))] + ([] if block.after is None else
                                                [(block.after[0], tuple(block.after[1]))])


def body_runs(paths):
    """What the output blocks outside the Try-this sections of these pages run."""
    out = set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        start = min([text.find(h) for h in HEADINGS if h in text] or [len(text)])
        end = text.find("\n## ", start + 1) if start < len(text) else -1
        for m in golden.BLOCK.finditer(text):
            if not start <= m.start() < (len(text) if end < 0 else end):
                out.update(runs(m.group("spec")))
    return out


def writes_where_read(name, args, shared):
    """The guarded folder that this run of a tutorial writes into, or None."""
    if name not in PICTURES_ONLY | WRITES_DATA or (name, args) in shared:
        return None
    folder = args[args.index("--out") + 1] if "--out" in args[:-1] else "out"
    folder = folder.rstrip("/")
    if folder not in GUARDED:
        return None
    return None if name in PICTURES_ONLY and "--no-plots" in args else folder


def check_page(path, summary, shared=frozenset()):
    """The problems of one page's Try-this section; `shared` holds what blocks outside the
    Try-this sections run."""
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        lines = section(f.read())
    if lines is None:  # the steps 01-13 have one; a page added before them may not
        return [] if re.match(r"00_", name) else [f"{path}: no '## Try this' section"]
    problems = []
    exercises = []  # [number, its text, its answer's lines (None: no answer yet)]
    inside = None   # the answer's lines while in <details>
    fence = False   # in a fenced block (program output, code): no exercise, no tag
    for n, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        if inside is not None:
            if line.startswith("<details"):
                problems.append(f"{path}: exercise {exercises[-1][0]}: <details> inside <details>")
            elif line.strip() == "</details>":
                if lines[n - 1].strip():
                    problems.append(f"{path}: exercise {exercises[-1][0]}: no blank line before "
                                    "</details> (GitHub would not render the Markdown inside)")
                exercises[-1][2] = inside
                inside = None
            else:
                inside.append(line)
            continue
        m = ITEM.match(line)
        if m:
            exercises.append([int(m.group(1)), [line], None])
        elif line.startswith("<details"):
            if not exercises:
                problems.append(f"{path}: an answer before the first exercise")
                continue
            if exercises[-1][2] is not None:
                problems.append(f"{path}: exercise {exercises[-1][0]} has two answers")
            if line.strip() != summary:
                problems.append(f"{path}: exercise {exercises[-1][0]}: the answer starts "
                                f"'{line.strip()}', not '{summary}'")
            if n + 1 < len(lines) and lines[n + 1].strip():
                problems.append(f"{path}: exercise {exercises[-1][0]}: no blank line after "
                                "<summary> (GitHub would not render the Markdown inside)")
            inside = []
        elif exercises and exercises[-1][2] is None and line.startswith("   "):
            exercises[-1][1].append(line)
    if inside is not None:
        problems.append(f"{path}: exercise {exercises[-1][0]}: <details> without </details>")
    if not exercises:
        problems.append(f"{path}: the Try-this section has no numbered exercise")
    for i, (number, text, answer) in enumerate(exercises, 1):
        if number != i:
            problems.append(f"{path}: exercise {i} is numbered {number}")
        if answer is None:
            problems.append(f"{path}: exercise {number} has no answer "
                            f"(<details><summary>...</summary> after it)")
        elif not any(line.startswith("<!-- output: ") for line in answer) and \
                not any("--check" in line for line in answer):
            problems.append(f"{path}: exercise {number}: its answer shows no program output "
                            "(an output block) and names no --check")
        answer_runs = {run for line in answer or [] if line.startswith("<!-- output: ")
                       for run in runs(line[len("<!-- output: "):].rsplit(" -->", 1)[0])}
        for program, args in sorted(answer_runs):
            folder = writes_where_read(program, args, shared)
            if folder is not None:
                problems.append(f"{path}: exercise {number}: "
                                f"'{' '.join((program,) + args)}' writes into {folder}/, which "
                                "later blocks and docs/images read: give it --no-plots and its "
                                "own --out (out_tryNN)")
        if name not in MAY_EDIT_CPP and CPP_EDIT.search(" ".join(text)):
            problems.append(f"{path}: exercise {number} asks for a C++ edit "
                            f"({CPP_EDIT.search(' '.join(text)).group(0)}): give the program "
                            "an option")
    return problems


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = argv[0]
    problems, pages = [], 0
    shared = body_runs(golden.docs_pages(root))
    for folder, summary in ((os.path.join(root, "docs"), SUMMARY["docs"]),
                            (os.path.join(root, "docs", "zh"), SUMMARY["zh"])):
        for f in sorted(os.listdir(folder)):
            if re.fullmatch(r"\d\d_\w+\.md", f):
                pages += 1
                problems += check_page(os.path.join(folder, f), summary, shared)
    for p in problems:
        print(p)
    print(f"check_try_this: {pages} pages, {len(problems)} problems")
    return 1 if problems or pages == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
