#!/usr/bin/env python3
"""docs/errata.md (or docs/zh/errata.md) as a page beside the explorer, build-web/errata.html
(errata-zh.html): where erratum E1 shows, the three-way check links to it (issue 24). The text as
it is, in a <pre> that wraps, in UTF-8 (served as .md it had no charset and Chromium showed the
Chinese garbled); each erratum's heading is an anchor, #e1 ... #e5.

    errata_page.py IN.md OUT.html LANG
"""
import html
import re
import sys


def main() -> None:
    src, out, lang = sys.argv[1:4]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    title = text.splitlines()[0].lstrip("# ").strip()
    lines = []
    for line in html.escape(text, quote=False).split("\n"):
        m = re.match(r"## (E\d+)\.", line)
        lines.append(f'<b id="{m.group(1).lower()}">{line}</b>' if m else line)
    page = (
        f'<!doctype html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        "<style>body { margin: 1rem; color: #222; } pre { white-space: pre-wrap; max-width: 52rem; "
        "font-size: 0.9rem; }</style>\n</head>\n<body>\n<pre>" + "\n".join(lines) + "</pre>\n</body>\n</html>\n"
    )
    with open(out, "w", encoding="utf-8") as f:
        f.write(page)


if __name__ == "__main__":
    main()
