#!/usr/bin/env python3
"""`meson install` builds only what it installs (issue 22): from a fresh build folder, the build it
runs first (meson 1.0's `meson install` runs plain `ninja -C BUILD`, ninja's default targets) must
compile the libraries and the Python module, and no test, tutorial, lab, benchmark or cli/ file.

Usage: check_install_targets.py SOURCE_ROOT

It configures a scratch build folder and asks ninja, without building, what its default targets
would compile (`ninja -n`): seconds, where a real install from scratch takes minutes.
"""
import pathlib
import re
import subprocess
import sys
import tempfile

# Object files of these folders (meson names them FOLDER/TARGET.p/FILE.o) must not be compiled.
NOT_INSTALLED = ("tests/", "tutorials/", "labs/", "bench/", "cli/", "web/")
# ... and these, which are installed, must be.
INSTALLED = ("autodiff/libstepgrad_autodiff.a", "io/libstepgrad_io.a", "nn/libstepgrad_nn.a")


def main() -> int:
    source = pathlib.Path(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="stepgrad-install-") as tmp:
        build = pathlib.Path(tmp) / "build"
        setup = subprocess.run(["meson", "setup", str(build), str(source), "--buildtype=release"],
                               capture_output=True, text=True)
        if setup.returncode != 0:
            print(setup.stdout[-2000:], setup.stderr[-2000:])
            return 1
        dry = subprocess.run(["ninja", "-C", str(build), "-n", "-v"], capture_output=True,
                             text=True, check=True).stdout
        # -v prints each command: a compiler's or linker's output follows -o, ar's follows csrD.
        outputs = re.findall(r" (?:-o|csrD) (\S+)", dry)
        bad = [o for o in outputs if o.startswith(NOT_INSTALLED)]
        missing = [t for t in INSTALLED if t not in outputs]
        print(f"`ninja -C BUILD` (what `meson install` runs first) would make {len(outputs)} files")
        if bad:
            print(f"FAIL: it would also build {len(bad)} files that are not installed, e.g.:")
            for o in bad[:10]:
                print("  ", o)
        if missing:
            print(f"FAIL: it would not build the installed libraries {missing}")
        return 1 if bad or missing else 0


if __name__ == "__main__":
    sys.exit(main())
