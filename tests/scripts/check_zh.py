#!/usr/bin/env python3
"""The Chinese edition (docs/zh/) kept in step with the English pages (issue 28).

Usage: check_zh.py SOURCE_ROOT

Each English page has its Chinese page: README.md -> docs/zh/README.md, the docs index
docs/README.md -> docs/zh/index.md, docs/NAME.md -> docs/zh/NAME.md. A pair must have
  - the same headings: as many, at the same levels, in the same order;
  - the same output blocks (`<!-- output: ... -->` to `<!-- end output -->`), byte for byte:
    program output stays as the programs print it (docs_output checks both pages against the
    programs; scripts/regen-golden rewrites both);
  - the same code and command blocks, in order, line for line; only the comments may differ
    (`# ...` in sh/python/text blocks, `// ...` in cpp/js blocks), as a translation says them;
  - the same images (the same files in docs/images/, in order);
  - as many collapsible blocks (`<details>`, a "Try this" answer), each holding the same output
    blocks as its English one;
  - the same formulas: display math ($$...$$) in order; inline math ($...$): the same set of
    formulas (a sentence said otherwise may name one more or less often); the words inside
    \\text{...} aside.
A zh page must link every file and URL its English page links (a page that has a zh page
standing for itself); it may link more. Its relative links must lead to files that exist (and to headings that exist, for
`#anchor`s into .md pages, with GitHub's slugs), and to the zh page of a translated page, not
to its English original (but for the page's own original, the "English" link at its top).
The glossary (docs/zh/glossary.md) is a table whose first column holds the terms of the
article's machine translation and whose second column the standard term: a term of the first
column that the second does not contain is wrong, and no zh page but the glossary may use it.
An English page without a zh page fails, unless the line of docs/zh/README.md that begins
"尚未翻译" (not yet translated) links it; a page that line lists must then have no zh page.
Exits 0 when everything is in step, 1 listing each difference.
"""
import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402  (the output block's syntax is golden.py's)

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.DOTALL | re.MULTILINE)  # (a block in a list item is indented)
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$", re.MULTILINE)
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<![\s\\])\$(?!\d)")
INLINE_CODE = re.compile(r"(`+)(?:.+?)\1", re.DOTALL)
TEXT_WORDS = re.compile(r"\\text\{[^{}]*\}")
HASH_COMMENT = re.compile(r"(^|\s)#(\s.*|)$")
SLASH_COMMENT = re.compile(r"(^|\s)//.*$")
HASH_LANGS = {"sh", "bash", "shell", "console", "python", "py", "text", ""}
SLASH_LANGS = {"cpp", "c++", "c", "js", "javascript"}
DETAILS = re.compile(r"^<details>.*?^</details>", re.DOTALL | re.MULTILINE)
UNTRANSLATED_LINE = "尚未翻译"


def zh_page(source_root, english):
    """The zh page of an English page (paths relative to SOURCE_ROOT)."""
    if english == "README.md":
        return "docs/zh/README.md"
    if english == "docs/README.md":
        return "docs/zh/index.md"
    return "docs/zh/" + os.path.basename(english)


def english_pages(source_root):
    folder = os.path.join(source_root, "docs")
    return ["README.md"] + ["docs/" + f for f in sorted(os.listdir(folder)) if f.endswith(".md")]


def read(source_root, rel):
    with open(os.path.join(source_root, rel), encoding="utf-8") as f:
        return f.read()


class Page:
    """A page cut into its parts: output blocks, code blocks, and the prose around them."""

    def __init__(self, source_root, rel):
        self.rel = rel
        self.folder = os.path.dirname(os.path.join(source_root, rel))
        text = read(source_root, rel)
        self.outputs = [m.group(0) for m in golden.BLOCK.finditer(text)]
        # the output blocks of each <details> block, in order
        self.details = [[m.group(0) for m in golden.BLOCK.finditer(d)]
                        for d in DETAILS.findall(text)]
        rest = golden.BLOCK.sub("\n", text)
        self.codes = []
        for m in FENCE.finditer(rest):
            self.codes.append((m.group("lang"), m.group("body")))
        prose = FENCE.sub("\n", rest)
        self.prose = prose
        self.headings = [(len(m.group(1)), m.group(2)) for m in HEADING.finditer(prose)]
        self.images = [self.resolve(m.group(1)) for m in IMAGE.finditer(prose)]
        no_code = INLINE_CODE.sub(" ", prose)
        self.display_math = [TEXT_WORDS.sub(r"\\text{}", m.group(1).strip())
                             for m in DISPLAY_MATH.finditer(no_code)]
        self.inline_math = collections.Counter(
            TEXT_WORDS.sub(r"\\text{}", m.group(1).strip())
            for m in INLINE_MATH.finditer(DISPLAY_MATH.sub(" ", no_code)))
        self.links = [m.group(1) for m in LINK.finditer(INLINE_CODE.sub(" ", prose))]

    def resolve(self, target):
        return os.path.normpath(os.path.join(self.folder, target.split("#")[0]))

    def code_skeletons(self):
        """Each code block with its comments taken out, line for line."""
        out = []
        for lang, body in self.codes:
            lines = []
            for line in body.splitlines():
                if lang in HASH_LANGS:
                    line = HASH_COMMENT.sub("", line)
                elif lang in SLASH_LANGS:
                    line = SLASH_COMMENT.sub("", line)
                lines.append(line.rstrip())
            out.append((lang, lines))
        return out


def slugs(page):
    """GitHub's anchors for a page's headings."""
    seen, out = collections.Counter(), set()
    for _, title in page.headings:
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link's text
        s = re.sub(r"[^\w\- ]", "", title.replace("`", "").lower()).replace(" ", "-")
        out.add(s if seen[s] == 0 else f"{s}-{seen[s]}")
        seen[s] += 1
    return out


def compare(en, zh):
    """The differences between an English page and its zh page."""
    problems = []
    levels_en = [lvl for lvl, _ in en.headings]
    levels_zh = [lvl for lvl, _ in zh.headings]
    if levels_en != levels_zh:
        problems.append(f"headings differ: {en.rel} has levels {levels_en}, {zh.rel} {levels_zh}")
    if en.outputs != zh.outputs:
        if len(en.outputs) != len(zh.outputs):
            problems.append(f"{en.rel} has {len(en.outputs)} output blocks, {zh.rel} "
                            f"{len(zh.outputs)}")
        for i, (a, b) in enumerate(zip(en.outputs, zh.outputs), 1):
            if a != b:
                problems.append(f"output block {i} differs:\n" +
                                golden.diff(a, b, en.rel, zh.rel))
    if len(en.details) != len(zh.details):
        problems.append(f"{en.rel} has {len(en.details)} <details> blocks, {zh.rel} "
                        f"{len(zh.details)}")
    elif en.details != zh.details:
        i = next(i for i, (a, b) in enumerate(zip(en.details, zh.details), 1) if a != b)
        problems.append(f"<details> block {i} holds other output blocks than {en.rel}'s")
    codes_en, codes_zh = en.code_skeletons(), zh.code_skeletons()
    if codes_en != codes_zh:
        if len(codes_en) != len(codes_zh):
            problems.append(f"{en.rel} has {len(codes_en)} code blocks, {zh.rel} {len(codes_zh)}")
        for i, (a, b) in enumerate(zip(codes_en, codes_zh), 1):
            if a != b:
                problems.append(f"code block {i} differs (comments aside):\n" +
                                golden.diff("\n".join([a[0]] + a[1]) + "\n",
                                            "\n".join([b[0]] + b[1]) + "\n", en.rel, zh.rel))
    if en.images != zh.images:
        problems.append(f"images differ: {en.rel} shows {[os.path.basename(i) for i in en.images]}, "
                        f"{zh.rel} {[os.path.basename(i) for i in zh.images]}")
    if en.display_math != zh.display_math:
        missing = [m for m in en.display_math if m not in zh.display_math]
        extra = [m for m in zh.display_math if m not in en.display_math]
        problems.append(f"display formulas differ: only in {en.rel}: {missing}; only in {zh.rel}: "
                        f"{extra}" if missing or extra else "display formulas in another order")
    if set(en.inline_math) != set(zh.inline_math):
        problems.append(f"inline formulas differ: only in {en.rel}: "
                        f"{sorted(set(en.inline_math) - set(zh.inline_math))}; only in {zh.rel}: "
                        f"{sorted(set(zh.inline_math) - set(en.inline_math))}")
    return problems


def link_targets(page, zh_of):
    """The files (or URLs) a page links, a translated English page standing for its zh page."""
    out = set()
    for target in page.links:
        if re.match(r"[a-z]+:", target):
            out.add(target)
        elif not target.startswith("#"):
            full = page.resolve(target)
            out.add(zh_of.get(full, full))
    return out


def glossary_terms(source_root):
    """{wrong term: its standard term} from docs/zh/glossary.md's table."""
    wrong = {}
    rows = 0
    for line in read(source_root, "docs/zh/glossary.md").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 4 or set(cells[0]) <= set("-: "):
            continue
        if cells[0].startswith("译文"):
            continue  # the header
        rows += 1
        for term in re.split(r"[、，,/]", cells[0]):
            term = term.strip().strip("“”\"")
            if term and term != "—" and term not in cells[1]:
                wrong[term] = cells[1]
    if rows == 0 or not wrong:
        raise ValueError("docs/zh/glossary.md: no table of terms found")
    return wrong


def untranslated(source_root):
    """The English pages that the line '尚未翻译...' of docs/zh/README.md links."""
    out = []
    for line in read(source_root, "docs/zh/README.md").splitlines():
        if line.lstrip("> *").startswith(UNTRANSLATED_LINE):
            for target in LINK.findall(line):
                out.append(os.path.relpath(os.path.normpath(
                    os.path.join(source_root, "docs", "zh", target.split("#")[0])), source_root))
    return out


def check(source_root):
    problems = []
    todo = untranslated(source_root)
    pairs = []
    for en in english_pages(source_root):
        zh = zh_page(source_root, en)
        exists = os.path.isfile(os.path.join(source_root, zh))
        if en in todo:
            if exists:
                problems.append(f"{en} is listed as not yet translated in docs/zh/README.md, "
                                f"but {zh} exists: take it off the list")
            continue
        if not exists:
            problems.append(f"{en} has no Chinese page {zh} (translate it, or list it on the "
                            f"line '{UNTRANSLATED_LINE}' of docs/zh/README.md)")
            continue
        pairs.append((en, zh))
    for t in todo:
        if t not in english_pages(source_root):
            problems.append(f"docs/zh/README.md lists {t} as not yet translated: no such page")

    zh_of = {os.path.normpath(os.path.join(source_root, en)): os.path.normpath(
        os.path.join(source_root, zh)) for en, zh in pairs}
    pages = {}
    for en, zh in pairs:
        a, b = Page(source_root, en), Page(source_root, zh)
        pages[os.path.normpath(os.path.join(source_root, zh))] = b
        problems += [f"{zh}: {p}" for p in compare(a, b)]
        # every link of the English page, to the zh page where there is one (a zh page may add
        # links: its original, the glossary)
        missing = sorted(link_targets(a, zh_of) - link_targets(b, zh_of))
        if missing:
            problems.append(f"{zh}: links of {en} missing: " + ", ".join(
                m if re.match(r"[a-z]+:", m) else os.path.relpath(m, source_root) for m in missing))

    zh_folder = os.path.join(source_root, "docs", "zh")
    all_zh = sorted(f for f in os.listdir(zh_folder) if f.endswith(".md"))
    wrong = glossary_terms(source_root)
    for f in all_zh:
        rel = "docs/zh/" + f
        page = pages.get(os.path.normpath(os.path.join(source_root, rel))) or Page(source_root, rel)
        for target in page.links:
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            full = page.resolve(path) if path else os.path.join(source_root, rel)
            if not os.path.exists(full):
                problems.append(f"{rel}: the link '{target}' leads nowhere")
                continue
            if full in zh_of and zh_of[full] != os.path.normpath(os.path.join(source_root, rel)):
                # (a page may link its own English original: "English")
                problems.append(f"{rel}: the link '{target}' leads to the English page; "
                                f"link its zh page {os.path.relpath(zh_of[full], zh_folder)}")
                continue
            if anchor and full.endswith(".md"):
                target_page = Page(source_root, os.path.relpath(full, source_root))
                if anchor not in slugs(target_page):
                    problems.append(f"{rel}: the link '{target}' names no heading of "
                                    f"{os.path.relpath(full, source_root)}")
        if f == "glossary.md":
            continue
        for n, line in enumerate(read(source_root, rel).splitlines(), 1):
            for term, right in wrong.items():
                if term in line:
                    problems.append(f"{rel}:{n}: '{term}' is the translation's term; the "
                                    f"glossary's is '{right}'")

    for p in problems:
        print(p)
    print(f"check_zh: {len(pairs)} pages translated, {len(todo)} not yet "
          f"({', '.join(todo) or 'none'}), {len(wrong)} wrong terms watched, "
          f"{len(problems)} problems")
    return 1 if problems else 0


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return check(argv[0])
    except (OSError, ValueError) as e:
        print(f"check_zh: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
