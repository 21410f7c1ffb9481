#!/usr/bin/python3
"""The tape from Python: ops, backward, gradients against numpy's own formulas and against the
gradient check (finite differences), the tape's listing as 08_tape prints it."""
import _common

np, sg = _common.imports()


def test_a_neuron_backward_matches_the_formulas():
    rng = np.random.RandomState(0)
    W = sg.Parameter("W", rng.randn(3, 4))
    x = rng.randn(4)
    tape = sg.Tape()
    z = sg.matmul(tape.param(W), tape.input(x, "x")).named("z")
    o = sg.sigmoid(z).named("o")
    loss = sg.sum(o * o)
    tape.backward(loss)
    s = 1 / (1 + np.exp(-np.asarray(W.value) @ x))
    expect_dW = np.outer(2 * s * s * (1 - s), x)  # d sum(s^2) / dW
    assert np.allclose(W.grad, expect_dW, rtol=1e-13, atol=0)
    assert np.allclose(o.value, s, rtol=1e-15, atol=0)
    assert loss.item() == np.sum(o.value * o.value)


def test_operators_and_their_gradients():
    tape = sg.Tape()
    a = tape.variable(np.array([1.0, 2.0, 3.0]), "a")
    b = tape.variable(np.array([0.5, -1.0, 2.0]), "b")
    y = sg.sum((a + b) * a - 2.0 * b + (1.0 - a) - (-b))
    tape.backward(y)
    # d/da = 2a + b - 1, d/db = a - 2 + 1
    assert np.allclose(a.grad, 2 * a.value + b.value - 1, rtol=1e-15)
    assert np.allclose(b.grad, a.value - 1, rtol=1e-15)


def test_gradcheck_passes_on_the_tape_and_fails_on_a_wrong_gradient():
    rng = np.random.RandomState(1)
    W = sg.Parameter("W", rng.randn(5, 6) * 0.5)
    x = rng.rand(6)
    y = np.eye(5)[2]

    def loss(tape):
        z = sg.matmul(tape.param(W), tape.input(x, "x"))
        return sg.cross_entropy_logits(sg.tanh(z), tape.input(y, "y"))

    reports = sg.gradcheck([W], loss)
    assert len(reports) == 1 and reports[0].passed, reports[0]
    assert reports[0].max_rel < 1e-7
    assert "W" in repr(reports[0])
    # the same check catches a loss whose gradient the tape gets wrong: a Parameter changed
    # behind the tape's back between recording and the check is not that; a wrong formula is,
    # so compare the tape against finite differences of a different function.
    tape = sg.Tape()
    loss(tape).backward()
    good = W.grad
    bad = good * 1.001
    assert not np.allclose(bad, reports[0].numeric, rtol=1e-7, atol=0)
    assert np.allclose(good, reports[0].numeric, rtol=1e-7, atol=1e-12)


def test_a_second_backward_is_refused_and_backward_accumulating_adds():
    """R46 from Python: a second backward() over one recording would double W's gradient, so it is
    refused with the fixes named, the gradient untouched; backward_accumulating() adds on purpose."""
    W = sg.Parameter("W", np.array([[1.0, -2.0], [0.5, 3.0]]))
    tape = sg.Tape()
    loss = sg.sum(sg.matmul(tape.param(W), tape.input(np.array([2.0, 1.0]), "x")))
    tape.backward(loss)
    once = W.grad
    try:
        loss.backward()
    except RuntimeError as e:
        assert "backward_accumulating()" in str(e) and "zero_grad()" in str(e), str(e)
    else:
        raise AssertionError("a second backward() was not refused")
    assert np.array_equal(W.grad, once)
    tape.backward_accumulating(loss)
    assert np.array_equal(W.grad, 2 * once)
    tape.backward_accumulating(loss, seed=0.5)
    assert np.array_equal(W.grad, 2.5 * once)


def test_the_listing_is_08_tapes():
    net = sg.Network()
    x = np.zeros(784)
    y = np.eye(10)[3]
    tape = sg.Tape()
    f = sg.record_forward(tape, net, x, y)
    assert len(tape) == 13
    listing = repr(tape)
    assert "Z1 = W0 · O0" in listing, listing
    assert repr(f.Z1) == "Z1 = W0 · O0"
    assert f.O3.shape == (10,)
    assert abs(np.sum(f.O3.value) - 1) < 1e-15


def test_explain_backward_prints_the_rule_with_numbers():
    tape = sg.Tape()
    a = tape.variable(np.array([1.0, -2.0]), "a")
    s = sg.sum(sg.relu(a).named("r")).named("s")
    tape.backward(s)
    text = tape.explain_backward(1)
    assert "grad" in text, text


_common.run(globals())
