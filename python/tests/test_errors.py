#!/usr/bin/python3
"""C++ errors arrive as Python exceptions carrying the C++ message."""
import _common

np, sg = _common.imports()


def raises(exc, fn, *needles):
    try:
        fn()
    except exc as e:
        for n in needles:
            assert n in str(e), (n, str(e))
        return e
    raise AssertionError(f"{fn} did not raise {exc.__name__}")


def test_shape_errors_are_value_errors_with_the_message():
    tape = sg.Tape()
    a = tape.variable(np.zeros((2, 3)))
    b = tape.variable(np.zeros((2, 3)))
    e = raises(sg.ShapeError, lambda: sg.matmul(a, b), "matmul", "(2, 3)")
    assert isinstance(e, ValueError)
    raises(ValueError, lambda: sg.Tensor(np.zeros((2, 2, 2))), "rank 0, 1 or 2")


def test_a_stale_var_is_refused():
    tape = sg.Tape()
    a = tape.variable(np.ones(2), "a")
    tape.clear()
    raises(RuntimeError, lambda: a.value, "cleared")


def test_bad_names_and_files():
    raises(ValueError, lambda: sg.TrainingStep().step(sg.Network(), np.zeros(784), np.zeros(10),
                                                      recipe="best"), "recipe 'best'", "article")
    raises(ValueError, lambda: sg.Network(activation="swish"), "activation 'swish'")
    raises(RuntimeError, lambda: sg.load_model("/nonexistent/model.npz"), "/nonexistent/model.npz")
    raises(RuntimeError, lambda: sg.load_mnist("/nonexistent"), "/nonexistent")


def test_a_parameter_keeps_its_shape():
    p = sg.Parameter("W", np.zeros((2, 2)))
    raises(sg.ShapeError, lambda: setattr(p, "value", np.zeros(3)), "W")


_common.run(globals())
