#!/usr/bin/env python3
"""The layers of docs/architecture.md, held by the includes: every #include <stepgrad/LAYER/...>
in a layer's files names a layer it may use, the network's own files use autodiff/ alone, and
the internal header autodiff/kernels.hpp is included only inside autodiff/ and by its tests.
Also the page's sizes: the tape with its ops "about N lines" (within 15%), autodiff/ "under M".

    check_layers.py SOURCE_ROOT
"""
import pathlib
import re
import sys

# Which layers each folder's files may include (its own among them).
ALLOWED = {
    "autodiff": {"autodiff"},
    "io": {"autodiff", "io"},
    "nn": {"autodiff", "io", "nn"},
    "tutorials": {"autodiff", "io", "nn"},
    "labs": {"autodiff", "io", "nn"},
    "bench": {"autodiff", "io", "nn"},
    "python": {"autodiff", "io", "nn"},
}
# The network itself (docs/architecture.md): these use autodiff/ and each other, nothing else.
NETWORK_CORE = {"network", "linear", "toy_data", "deltas", "fused", "crosscheck", "step"}
INTERNAL = {"autodiff/kernels.hpp"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]stepgrad/([a-z_]+)/([a-z_]+\.hpp)[>"]', re.M)


def lines(paths) -> int:
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in paths)


def check_sizes(root: pathlib.Path) -> list:
    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    m = re.search(r"is about ([\d,]+) lines, and all of `autodiff/` under ([\d,]+)", page)
    if not m:
        return ["docs/architecture.md: the sentence with the engine's size is gone"]
    about, under = (int(g.replace(",", "")) for g in m.groups())
    autodiff = root / "autodiff"
    tape = lines(list(autodiff.glob("tape.*")) + list(autodiff.glob("op*.?pp")))
    everything = lines(list(autodiff.glob("*.?pp")))
    out = []
    if abs(tape - about) > 0.15 * about:
        out.append(f"docs/architecture.md: the tape and its ops are {tape} lines, not about {about}")
    if everything >= under:
        out.append(f"docs/architecture.md: autodiff/ is {everything} lines, not under {under}")
    return out


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    problems = []
    checked = 0
    for path in sorted(root.glob("*/**/*.[ch]pp")):
        rel = path.relative_to(root)
        folder = rel.parts[0]
        text = path.read_text(encoding="utf-8")
        for layer, header in INCLUDE.findall(text):
            checked += 1
            where = f"{rel}: includes <stepgrad/{layer}/{header}>"
            if folder in ALLOWED and layer not in ALLOWED[folder]:
                problems.append(f"{where}, but {folder}/ may use only {sorted(ALLOWED[folder])}")
            if folder == "nn" and path.stem in NETWORK_CORE:
                if layer == "io" or (layer == "nn" and header[:-4] not in NETWORK_CORE):
                    problems.append(f"{where}, but the network's own files use autodiff/ alone")
            internal = f"{layer}/{header}" in INTERNAL
            ok_here = folder == "autodiff" or rel.parts[:2] == ("tests", "autodiff")
            if internal and not ok_here:
                problems.append(f"{where}, an internal header of autodiff/")
    problems += check_sizes(root)
    for p in problems:
        print(p)
    print(f"{checked} includes checked, {len(problems)} out of place")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
