#!/usr/bin/python3
"""notebooks/backprop_from_scratch.ipynb executed headless (nbclient, Debian's ipykernel) on a
subset of MNIST, and its key numbers checked: against the module run here, and against the
bounds the C++ tests hold the same quantities to. Skips (77) without nbclient, ipykernel, the
module, numpy or MNIST.

    STEPGRAD_NB_TRAIN, STEPGRAD_NB_TEST, STEPGRAD_NB_EPOCHS  the subset (default 2000, 2000, 2)
    STEPGRAD_NB_OUT=FILE                                       also write the executed notebook
"""
import json
import os
import sys

import _common

np, sg = _common.imports()
try:
    import nbclient
    import nbformat
    import ipykernel  # noqa: F401  (the kernel nbclient starts)
except ImportError as e:
    print(f"skipped: {e}; apt-get install python3-nbclient python3-ipykernel")
    sys.exit(_common.SKIP)
if not _common.have_mnist():
    print(f"skipped: no MNIST in {_common.MNIST} (scripts/fetch-mnist)")
    sys.exit(_common.SKIP)

NOTEBOOK = _common.SOURCE_ROOT / "notebooks" / "backprop_from_scratch.ipynb"
SUBSET = {"STEPGRAD_NB_TRAIN": "2000", "STEPGRAD_NB_TEST": "2000", "STEPGRAD_NB_EPOCHS": "2"}
for k, v in SUBSET.items():
    os.environ.setdefault(k, v)
os.environ["STEPGRAD_DATA"] = str(_common.MNIST)
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
# the kernel imports the module this test imports
os.environ["PYTHONPATH"] = os.path.dirname(sg.__file__) + os.pathsep + os.environ.get("PYTHONPATH", "")
N_TRAIN, N_TEST, EPOCHS = (int(os.environ[k]) for k in SUBSET)

nb = nbformat.read(str(NOTEBOOK), as_version=4)
client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                 resources={"metadata": {"path": str(NOTEBOOK.parent)}})
client.execute()  # raises CellExecutionError, with the cell and its traceback, if a cell fails
if os.environ.get("STEPGRAD_NB_OUT"):
    nbformat.write(nb, os.environ["STEPGRAD_NB_OUT"])

outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
line = next(l for l in text.splitlines() if l.startswith("KEY_NUMBERS "))
key = json.loads(line[len("KEY_NUMBERS "):])
print(line)

# The same sample and split the notebook used, through the module.
x_train, train_labels, x_val, val_labels = sg.load_mnist(str(_common.MNIST), "article")
x_train, y_train = x_train[:N_TRAIN], np.eye(10)[train_labels[:N_TRAIN]]
x_val, y_val = x_val[:N_TEST], np.eye(10)[val_labels[:N_TEST]]


def test_no_cell_failed_and_the_plots_are_there():
    assert not [o for o in outputs if o.output_type == "error"]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    pngs = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(pngs) == 2, len(pngs)  # the digits and the accuracy per epoch


def test_the_article_and_stepgrad_agree_up_to_the_backward_pass():
    assert key["init_equal"] is True
    assert key["forward_max_abs"] < 1e-12
    assert key["three_way_passed"] is True
    assert key["fixed_vs_tape_max_rel"] <= 1e-12  # the C++ cross-check's bar (test_crosscheck.cpp)


def test_erratum_e1_as_the_cpp_measures_it():
    e1 = {d.name: d for d in sg.measure_erratum_e1(sg.Network(seed=42), x_train[0], y_train[0])}
    assert abs(key["article_cosine_W2"] - 1) < 1e-12 and abs(key["article_ratio_W2"] - 1) < 1e-12
    for l in (1, 0):
        d = e1[f"Delta{l}"]
        assert abs(key[f"article_cosine_W{l}"] - d.cosine) < 1e-12, (l, key, d)
        assert abs(key[f"article_ratio_W{l}"] - d.norm_ratio) < 1e-12, (l, key, d)
        assert d.cosine < 0.9 and d.norm_ratio < 0.1  # E1: shrunk and turned


def test_the_articles_training_is_stepgrads_article_recipe():
    # the tolerances of tests/scripts/check_article_numpy.py, Note [How close numpy and stepgrad
    # must be]
    assert key["article_training_rel_w"] <= 1e-12
    assert key["article_training_rel_change"] <= 1e-10
    assert key["numpy_running_accuracy"] == key["article_running_accuracy"]
    assert len(key["article_running_accuracy"]) == EPOCHS


def test_the_corrected_training_result():
    got = {}
    for recipe, engine in (("article", "deltas"), ("fixed", "tape")):
        net, step = sg.Network(seed=42), sg.TrainingStep()
        got[recipe] = []
        for _ in range(EPOCHS):
            step.train(net, x_train, y_train, engine=engine, recipe=recipe)
            got[recipe].append(sg.evaluate(net, x_val, y_val)[1])
    assert key["test_accuracy"] == got, (key["test_accuracy"], got)
    assert got["fixed"][-1] > got["article"][-1] + 0.05, got
    assert key["reloaded_test_accuracy"] == got["fixed"][-1]


_common.run(globals())
