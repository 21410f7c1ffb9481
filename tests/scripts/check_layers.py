#!/usr/bin/env python3
"""The layers of docs/architecture.md, held by the includes: every #include <stepgrad/LAYER/...>
in a folder's files names a layer that folder may use, the network's own files use autodiff/
alone, the internal header autodiff/kernels.hpp is included only inside autodiff/ and by its
tests, nothing includes web/ or tutorials/, and labs/ only the explorer (web/, whose "Your turn"
grades with the labs' grader) and the tests do. The layers' own files include every project
header by its layer path, never by a quoted path that would step around these rules.

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
    "cli": {"autodiff", "io", "nn", "cli"},
    "tutorials": {"autodiff", "io", "nn", "cli"},
    "labs": {"autodiff", "io", "nn", "cli"},
    "web": {"autodiff", "io", "nn", "labs"},
    "bench": {"autodiff", "io", "nn"},
    "python": {"autodiff", "io", "nn"},
}
# Folders whose headers nothing includes: the programs, the labs and the explorer are leaves; the
# labs' grader is shared with the explorer and tested (labs/your_turn.hpp), and only so.
LEAVES = {"tutorials", "labs", "web"}
LEAF_USERS = {"labs": {"web", "tests"}}
# The network itself (docs/architecture.md): these use autodiff/ and each other, nothing else.
NETWORK_CORE = {"network", "linear", "toy_data", "deltas", "fused", "crosscheck", "step"}
INTERNAL = {"autodiff/kernels.hpp"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]stepgrad/([a-z_]+)/([a-z_]+\.hpp)[>"]', re.M)
ANY = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    problems = []
    checked = 0
    for path in sorted(root.glob("*/**/*.[ch]pp")):
        rel = path.relative_to(root)
        folder = rel.parts[0]
        if folder.startswith("build"):
            continue
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
        for quote, included in ANY.findall(text):
            parts = pathlib.PurePosixPath(included).parts
            ours = quote == '"' or parts[0] == "stepgrad"  # not a system or library header
            leaf = next((p for p in parts if p in LEAVES), None)
            if ours and leaf is not None and folder in LEAF_USERS.get(leaf, set()):
                pass  # <stepgrad/labs/...> from web/ or tests/
            elif ours and leaf is not None:
                shown = f"<{included}>" if quote == "<" else f'"{included}"'
                problems.append(f"{rel}: includes {shown}, but nothing includes {leaf}/")
            elif quote == '"' and folder in LEAVES and ".." not in parts:
                pass  # a leaf's own header beside it (labs/labs.hpp); nothing else includes it
            elif quote == '"' and folder in ALLOWED and folder != "bench":
                problems.append(f"{rel}: includes \"{included}\", but a layer's files include "
                                "every header by its layer's path, <stepgrad/LAYER/...>")
    for p in problems:
        print(p)
    print(f"{checked} includes checked, {len(problems)} out of place")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
