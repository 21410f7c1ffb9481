#!/usr/bin/env python3
"""docs/your_own.md as a reader follows it: installs the build into a scratch prefix (meson install
--destdir), takes the page's program, compiles it with the page's one command (its
`pkg-config --cflags --libs stepgrad`, the installed stepgrad.pc pointed at the scratch prefix),
runs it, and compares what it prints with the page's output block.

    check_your_own.py BUILD_DIR SOURCE_ROOT

The page marks its three blocks with <!-- your_own: program -->, <!-- your_own: command --> and
<!-- your_own: output -->, each right above a fenced block. Exits 77 (skipped) without pkg-config.
"""
import difflib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import scratch_install
from golden import SKIP


def block(page_text: str, mark: str) -> str:
    m = re.search(r"<!-- your_own: " + mark + r" -->\n```\w*\n(.*?)^```", page_text, re.S | re.M)
    if not m:
        raise SystemExit(f"docs/your_own.md: no fenced block under <!-- your_own: {mark} -->")
    return m.group(1)


def main() -> int:
    build, root = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    if shutil.which("pkg-config") is None:
        print("check_your_own: skipped, no pkg-config (apt-get install pkg-config)")
        return SKIP
    page = (root / "docs" / "your_own.md").read_text(encoding="utf-8")
    program, command, output = block(page, "program"), block(page, "command"), block(page, "output")
    name = re.search(r"^// (\w+\.cpp):", program, re.M)
    if not name:
        print("docs/your_own.md: the program's first line must name its file (// NAME.cpp: ...)")
        return 1
    lines = [line for line in command.splitlines() if line.strip()]
    if len(lines) != 1 or "pkg-config --cflags --libs stepgrad" not in lines[0]:
        print(f"docs/your_own.md: the command block must be one line with pkg-config: {lines}")
        return 1
    compile_line = lines[0].removeprefix("$ ")
    shown = output.splitlines(True)
    if not shown or not shown[0].startswith("$ "):
        print("docs/your_own.md: the output block must start with the '$ ./program' line")
        return 1
    run_line, want = shown[0][2:].strip(), "".join(shown[1:])
    with tempfile.TemporaryDirectory(prefix="stepgrad-your-own-") as tmp:
        tmp = pathlib.Path(tmp)
        # The scratch prefix stands for the real one: its .pc names where the files now are.
        pc = scratch_install.install(build, tmp / "dest")
        work = tmp / "work"
        work.mkdir()
        (work / name.group(1)).write_text(program, encoding="utf-8")
        env = dict(os.environ, PKG_CONFIG_PATH=str(pc.parent))
        built = subprocess.run(["bash", "-c", compile_line], cwd=work, env=env,
                               capture_output=True, text=True)
        if built.returncode != 0:
            print(built.stdout + built.stderr)
            print(f"docs/your_own.md: `{compile_line}` fails against the installed stepgrad")
            return 1
        ran = subprocess.run(["bash", "-c", run_line], cwd=work, capture_output=True, text=True,
                             timeout=120)
        if ran.returncode != 0:
            print(ran.stdout + ran.stderr)
            print(f"docs/your_own.md: `{run_line}` exited {ran.returncode}")
            return 1
        if ran.stdout != want:
            print("".join(difflib.unified_diff(want.splitlines(True), ran.stdout.splitlines(True),
                                               "docs/your_own.md", "the program now")))
            print("docs/your_own.md: the output block is not what the program prints; paste the "
                  "new output into the page if the change is intended")
            return 1
    print(f"docs/your_own.md: {name.group(1)} compiled with `{compile_line}`, "
          f"{len(want.splitlines())} lines of output as on the page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
