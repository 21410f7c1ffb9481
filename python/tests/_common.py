"""What every test file of python/ shares: the skip when the module or numpy is missing (exit 77,
meson's "skipped") and a small runner for its test_* functions, pytest-style (plain asserts).

    import _common
    np, sg = _common.imports()      # numpy and stepgrad, or exit 77
    ...
    _common.run(globals())          # every test_* function; exit 1 if one fails
"""
import os
import pathlib
import sys
import traceback

SOURCE_ROOT = pathlib.Path(os.environ.get("STEPGRAD_SOURCE_ROOT",
                                          pathlib.Path(__file__).resolve().parents[2]))
MNIST = SOURCE_ROOT / "data" / "mnist"
SKIP = 77


def imports():
    try:
        import numpy as np
    except ImportError as e:
        print(f"skipped: numpy is not importable ({e}); apt-get install python3-numpy")
        sys.exit(SKIP)
    try:
        import stepgrad as sg
    except ImportError as e:
        print(f"skipped: the module stepgrad is not importable ({e}); "
              "build it (python/meson.build) and put build/python on PYTHONPATH")
        sys.exit(SKIP)
    return np, sg


def have_mnist():
    return all((MNIST / n).exists() or (MNIST / (n + ".gz")).exists()
               for n in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))


def run(namespace):
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    failed = 0
    for name, f in tests:
        try:
            f()
            print(f"ok    {name}")
        except Exception:  # noqa: BLE001 - a test's failure, whatever it is
            failed += 1
            print(f"FAIL  {name}")
            traceback.print_exc(file=sys.stdout)
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
