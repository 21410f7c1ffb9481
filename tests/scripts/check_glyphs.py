#!/usr/bin/env python3
"""Every character the explorer writes has a glyph in a font the machine has (fontconfig): the
page's own text and symbols in web/*.js, web/index.html and web/explorer.css, so that no button
or label shows an empty box where the browser found no font for a character. Chinese characters
need the CJK font ./run.sh installs (fonts-wqy-microhei), and are held to it like the rest.
(U+23F8, the pause sign, was one: no font of Debian 12's chromium and its fonts has it, and
"⏸ pause" showed a box.) Skips (77) where fc-list is missing.

  check_glyphs.py SOURCE_ROOT
"""
import glob
import os
import shutil
import subprocess
import sys


def main(root):
    if shutil.which("fc-list") is None:
        print("check_glyphs: no fc-list (fontconfig), skipped")
        return 77
    files = sorted(glob.glob(os.path.join(root, "web", "*.js"))) + [
        os.path.join(root, "web", "index.html"),
        os.path.join(root, "web", "explorer.css"),
    ]
    where = {}
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                for c in line:
                    if ord(c) > 127 and c not in where:
                        where[c] = f"{os.path.relpath(f, root)}:{n}"
    # the code points the installed fonts cover: each font's charset, as hex ranges ("20-7e a0")
    out = subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True, text=True,
                         check=True).stdout
    ranges = []
    for part in out.split():
        lo, _, hi = part.partition("-")
        ranges.append((int(lo, 16), int(hi or lo, 16)))
    covered = lambda c: any(lo <= ord(c) <= hi for lo, hi in ranges)  # noqa: E731
    missing = [f"U+{ord(c):04X} {c!r} ({at})" for c, at in sorted(where.items()) if not covered(c)]
    if missing:
        print(f"check_glyphs: {len(missing)} of the page's {len(where)} characters have no font here: "
              + "; ".join(missing))
        return 1
    print(f"check_glyphs: each of the page's {len(where)} non-ASCII characters has a font here")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
