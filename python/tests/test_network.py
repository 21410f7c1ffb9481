#!/usr/bin/python3
"""The article's network from Python against the article's numpy code (bench/article_numpy.py):
the same initial weights, forward pass, deltas with both recipes, training steps; the three-way
check; model files; the GIL released while training."""
import sys
import tempfile
import threading
import time

import _common

np, sg = _common.imports()
sys.path.insert(0, str(_common.SOURCE_ROOT / "bench"))
import article_numpy as article  # noqa: E402  (the article's numpy code)


def sample(seed=3):
    rng = np.random.RandomState(seed)
    x = rng.randint(0, 256, 784) * (rng.rand(784) < 0.2) / 255.0  # a sparse "image"
    return x, np.eye(10)[seed % 10]


def article_params(seed=42):
    np.random.seed(seed)
    return article.nn_init()


def test_initial_weights_are_nn_inits():
    net, params = sg.Network(seed=7), article_params(7)
    for k in ("W0", "W1", "W2"):
        assert np.array_equal(getattr(net, k).value, params[k]), k
    assert net.parameter_count() == 109184


def test_forward_and_both_recipes_against_the_articles_code():
    net, params = sg.Network(), article_params()
    x, y = sample()
    a = sg.forward_pass(net, x)
    O3 = article.forward_pass(x, params)
    assert np.allclose(np.asarray(a.O3), O3, rtol=1e-13, atol=0)
    change = article.backward_pass(y, O3, params)  # erratum E1 included
    d = sg.backward_pass(net, a, y, "article")
    for l in range(3):
        assert np.allclose(np.asarray(getattr(d, f"Delta{l}")), change[f"W{l}"], rtol=1e-12,
                           atol=1e-300), l
    # the tape agrees with the fixed recipe, and not with the article's for W1, W0 (E1)
    tape = sg.Tape()
    sg.tape_gradients(tape, net, x, y)
    fixed = sg.backward_pass(net, a, y, "fixed")
    for l in range(3):
        g = net.weight(l).grad
        assert np.allclose(g, np.asarray(getattr(fixed, f"Delta{l}")), rtol=1e-12, atol=1e-300), l
    assert np.array_equal(net.W2.grad, change["W2"]) or np.allclose(net.W2.grad, change["W2"], rtol=1e-13)
    assert not np.allclose(net.W1.grad, change["W1"], rtol=0.1)
    assert not np.allclose(net.W0.grad, change["W0"], rtol=0.1)
    e1 = {d.name: d for d in sg.measure_erratum_e1(net, x, y)}
    assert e1["Delta2"].cosine > 1 - 1e-12
    assert e1["Delta1"].cosine < 0.99 and e1["Delta1"].norm_ratio < 0.5


def test_the_three_way_check():
    net = sg.Network()
    x, y = sample(5)
    c = sg.cross_check(net, x, y, 300)
    assert c.passed(), c
    assert [g.name for g in c.parameters] == ["W0", "W1", "W2"]
    assert all(g.tape_vs_deltas.max_rel <= 1e-12 for g in c.parameters)
    assert "all three agree" in repr(c)


def test_training_steps_equal_the_articles_numpy_training():
    rng = np.random.RandomState(11)
    X = rng.rand(40, 784) * (rng.rand(40, 784) < 0.2)
    Y = np.eye(10)[rng.randint(0, 10, 40)]
    params = article_params()
    cost, acc = article.train(params, X, Y)
    net = sg.Network()
    step = sg.TrainingStep()
    my_cost, correct = 0.0, 0
    for x, y in zip(X, Y):  # one step per call, as a Python loop would
        r = step.step(net, x, y, engine="deltas", recipe="article", lr=0.001)
        my_cost += r.cost
        correct += r.correct
    assert abs(my_cost / 40 - cost) < 1e-12 and correct / 40 == acc
    for k in ("W0", "W1", "W2"):
        assert np.allclose(getattr(net, k).value, params[k], rtol=1e-12, atol=1e-15), k
    # the loop in C++ gives the same weights as the Python loop
    net2 = sg.Network()
    c2, a2 = sg.TrainingStep().train(net2, X, Y, engine="deltas", recipe="article")
    assert np.array_equal(net2.W0.value, net.W0.value) and c2 == my_cost / 40 and a2 == acc


def test_both_engines_train_the_same_weights_with_the_fixed_recipe():
    rng = np.random.RandomState(12)
    X = rng.rand(20, 784) * (rng.rand(20, 784) < 0.2)
    Y = np.eye(10)[rng.randint(0, 10, 20)]
    a, b = sg.Network(), sg.Network()
    sg.TrainingStep().train(a, X, Y, engine="tape")
    sg.TrainingStep().train(b, X, Y, engine="deltas")
    for k in ("W0", "W1", "W2"):
        assert np.allclose(getattr(a, k).value, getattr(b, k).value, rtol=1e-12, atol=1e-15), k


def test_model_files_round_trip():
    net = sg.Network(seed=3)
    with tempfile.TemporaryDirectory() as d:
        path = d + "/model.npz"
        sg.save_model(path, net, "recipe=fixed engine=tape")
        back, options = sg.load_model(path)
        assert "recipe=fixed" in options
        for k in ("W0", "W1", "W2"):
            assert np.array_equal(getattr(back, k).value, getattr(net, k).value)
        saved = np.load(path)  # the same .npz numpy reads
        assert np.array_equal(saved["W0"], net.W0.value)


def test_weights_are_a_live_view():
    net = sg.Network()
    w = net.W2.value
    w[0, 0] = 5.0
    assert net.W2.value[0, 0] == 5.0
    net.W2.value = np.zeros((10, 64))
    assert w[0, 0] == 0.0  # assigning copies into the same memory


def test_training_releases_the_gil():
    rng = np.random.RandomState(13)
    X = rng.rand(3000, 784) * (rng.rand(3000, 784) < 0.2)
    Y = np.eye(10)[rng.randint(0, 10, 3000)]
    net, step = sg.Network(), sg.TrainingStep()
    t = threading.Thread(target=step.train, args=(net, X, Y))
    ticks = 0
    t.start()
    time.sleep(0.01)
    while t.is_alive():  # runs only if train() let go of the GIL
        ticks += 1
        time.sleep(0.001)
    t.join()
    assert ticks >= 5, ticks


def test_evaluate_and_mnist():
    if not _common.have_mnist():
        print("  (no MNIST in data/mnist: evaluate on synthetic samples only)")
        X, labels = sample()[0][None, :], np.array([3])
    else:
        X, labels, Xt, lt = sg.load_mnist(str(_common.MNIST), "article", 50)
        assert X.shape == (50, 784) and labels.dtype == np.uint8
        assert labels[2] == 4 and labels[6] == 2  # the article split's check
        assert Xt.shape == (21000, 784)
    cost, acc = sg.evaluate(sg.Network(), X, np.eye(10)[labels])
    assert cost > 0 and 0 <= acc <= 1


_common.run(globals())
