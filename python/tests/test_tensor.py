#!/usr/bin/python3
"""Tensor <-> numpy (Note [Tensors and numpy] in python/stepgrad_module.cpp): a Tensor's memory is
numpy's view of it, no copy; an array becomes a Tensor by one copy; printing as the tutorials."""
import _common

np, sg = _common.imports()


def test_numpy_view_of_a_tensor_shares_its_memory():
    t = sg.Tensor(np.arange(6.0).reshape(2, 3))
    a = np.asarray(t)  # the buffer protocol
    assert a.shape == (2, 3) and a.dtype == np.float64
    a[1, 2] = 42.0  # writing into the view writes into the Tensor
    assert np.asarray(t)[1, 2] == 42.0
    v = t.numpy()
    assert np.shares_memory(a, v)
    v[0, 0] = -1.0
    assert a[0, 0] == -1.0


def test_a_view_keeps_its_tensor_alive():
    a = sg.Tensor(np.ones(1000)).numpy()  # the Tensor has no other reference
    import gc
    gc.collect()
    assert a.sum() == 1000.0


def test_an_array_becomes_a_tensor_by_one_copy():
    x = np.arange(4.0)
    t = sg.Tensor(x)
    x[0] = 99.0
    assert np.asarray(t)[0] == 0.0
    assert t.shape == (4,) and t.rank == 1 and t.size == 4


def test_ranks_zero_to_two_and_conversions():
    assert sg.Tensor(np.float64(2.5)).item() == 2.5
    assert sg.Tensor(np.zeros((3, 1))).shape == (3, 1)
    assert np.asarray(sg.Tensor([1, 2, 3])).dtype == np.float64  # ints are converted
    f = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    assert np.array_equal(np.asarray(sg.Tensor(f)), f)  # any layout, stored row-major


def test_printing_is_the_tutorials():
    t = sg.Tensor(np.array([[1.0, 2.0], [3.0, 4.5]]))
    text = str(t)
    assert text.startswith("tensor(2, 2)"), text
    assert "4.5000" in text
    assert sg.show("W", t).startswith("W (2, 2)\n"), sg.show("W", t)


def test_randomstate_is_numpys():
    a = sg.RandomState(42).randn(3, 4)
    b = np.random.RandomState(42).randn(3, 4)
    assert np.array_equal(np.asarray(a), b)


_common.run(globals())
