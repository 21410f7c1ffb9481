"""`meson install` of a build into a scratch folder, for the tests that compile a page's program
against the installed stepgrad (check_doc_op.py, check_your_own.py)."""
import pathlib
import re
import subprocess


def install(build: pathlib.Path, dest: pathlib.Path) -> pathlib.Path:
    """Installs `build` under `dest` (meson's --destdir) and returns the installed stepgrad.pc,
    its prefix rewritten to where the files now are, so that pkg-config with PKG_CONFIG_PATH set
    to its folder finds them. Raises RuntimeError unless exactly one stepgrad.pc was installed."""
    subprocess.run(["meson", "install", "-C", str(build), "--no-rebuild", "--quiet",
                    "--destdir", str(dest)], check=True, stdout=subprocess.DEVNULL)
    pcs = list(dest.rglob("stepgrad.pc"))
    if len(pcs) != 1:
        raise RuntimeError(f"expected one installed stepgrad.pc, found {pcs}")
    pc = pcs[0]
    text = pc.read_text()
    prefix = re.search(r"^prefix=(.*)$", text, re.M).group(1)
    pc.write_text(text.replace(f"prefix={prefix}\n", f"prefix={dest}{prefix}\n", 1))
    return pc
