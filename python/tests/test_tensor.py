#!/usr/bin/python3
"""Tensor <-> numpy (Note [Tensors and numpy] in python/stepgrad_module.cpp), in PyTorch's words:
numpy views a Tensor's memory without a copy; sg.from_numpy(a) is a Tensor over the array's memory
(torch.from_numpy), sg.as_tensor(a) shares or copies (torch.as_tensor), sg.Tensor(a) copies
(torch.tensor); functions read arrays in place; printing as the tutorials."""
import gc
import subprocess
import sys
import threading
import weakref

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


def test_tensor_of_an_array_is_a_copy():
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


def address(a):
    return a.__array_interface__["data"][0]


def test_from_numpy_shares_the_arrays_memory_both_ways():
    a = np.arange(6.0).reshape(2, 3)
    t = sg.from_numpy(a)
    assert t.borrowed and t.shape == (2, 3)
    v = np.asarray(t)
    assert address(v) == address(a) and np.shares_memory(v, a)  # the same doubles
    a[0, 1] = 41.0  # written in numpy, seen in the Tensor
    assert "41.0000" in str(t), str(t)
    t.numpy()[1, 2] = -7.0  # written through the Tensor, seen in the array
    assert a[1, 2] == -7.0
    for shape in [(), (5,), (0,), (3, 1), (1, 4)]:
        b = np.ones(shape)
        assert np.shares_memory(sg.from_numpy(b).numpy(), b) or b.size == 0, shape
        assert sg.from_numpy(b).shape == shape


def test_from_numpy_keeps_the_array_alive_and_then_lets_it_go():
    # R50 (docs/reliability.md): the shared array lives as long as the Tensor, then goes.
    a = np.full(1000, 2.0)
    alive = weakref.ref(a)
    refs = sys.getrefcount(a)
    t = sg.from_numpy(a)
    assert sys.getrefcount(a) == refs + 1  # the Tensor holds one reference
    del a
    gc.collect()
    assert alive() is not None  # the Tensor keeps it
    assert t.numpy().sum() == 2000.0
    v = t.numpy()  # a view of the Tensor keeps the Tensor, which keeps the array
    del t
    gc.collect()
    assert alive() is not None and v.sum() == 2000.0
    del v
    gc.collect()
    assert alive() is None  # released with the last holder: nothing leaks


def test_from_numpy_is_released_from_another_thread():
    # The reference is dropped with the GIL held, in whichever thread the Tensor goes.
    a = np.ones(10)
    alive = weakref.ref(a)
    box = [sg.from_numpy(a)]
    del a

    def drop():
        box.clear()
        gc.collect()

    th = threading.Thread(target=drop)
    th.start()
    th.join()
    assert alive() is None


def raises(kind, f, *words):
    try:
        f()
    except kind as e:
        for w in words:
            assert w in str(e), f"{w!r} not in {e}"
        return str(e)
    raise AssertionError(f"no {kind.__name__}")


def test_from_numpy_refuses_what_it_cannot_share_and_says_why():
    # R50: one exception naming the dtype or the layout, and what copies instead.
    raises(TypeError, lambda: sg.from_numpy(np.arange(3)), "from_numpy:", "dtype is int64",
           "float64", "sg.as_tensor(a)")
    raises(TypeError, lambda: sg.from_numpy(np.zeros(3, np.float32)), "dtype is float32")
    raises(TypeError, lambda: sg.from_numpy(np.zeros(3, ">f8")), "dtype is >f8")
    raises(ValueError, lambda: sg.from_numpy(np.zeros((3, 2)).T),
           "not C-contiguous (shape (2, 3), strides (8, 16))")
    raises(ValueError, lambda: sg.from_numpy(np.zeros(6)[::2]), "not C-contiguous")
    raises(ValueError, lambda: sg.from_numpy(np.zeros((2, 2, 2))), "rank 0, 1 or 2",
           "3 dimensions")
    raises(ValueError, lambda: sg.from_numpy(np.frombuffer(bytes(16))), "read-only")
    unaligned = np.frombuffer(bytearray(33), offset=1, count=4)
    raises(ValueError, lambda: sg.from_numpy(unaligned), "not aligned")
    raises(TypeError, lambda: sg.from_numpy([1.0, 2.0]), "expected a numpy.ndarray, got list")


def test_as_tensor_shares_when_it_can_and_copies_otherwise():
    a = np.zeros(4)
    t = sg.as_tensor(a)
    assert t.borrowed and np.shares_memory(t.numpy(), a)
    assert sg.as_tensor(t) is t  # a Tensor is returned as it is
    for other in [np.arange(4), np.zeros((4, 2)).T, np.frombuffer(bytes(32)), [0.0, 1.0]]:
        c = sg.as_tensor(other)
        assert not c.borrowed and np.array_equal(c.numpy(), np.asarray(other, dtype=float))
    assert not sg.Tensor(a).borrowed  # sg.Tensor always copies


def test_what_keeps_a_tensor_copies_a_borrowed_one():
    a = np.ones((2, 2))
    p = sg.Parameter("W", sg.from_numpy(a))
    tape = sg.Tape()
    x = tape.input(a)
    a[0, 0] = 5.0
    assert p.value[0, 0] == 1.0 and x.value[0, 0] == 1.0
    assert not np.shares_memory(p.value, a)


# Peak memory (kB) of a fresh Python that makes a 32 MB array and hands it to CALL.
RSS = """
import resource, numpy as np, stepgrad as sg
a = np.ones((4000, 1000))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
{call}
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def peak_growth_kb(call):
    out = subprocess.run([sys.executable, "-c", RSS.format(call=call)], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1])


def test_functions_read_an_array_argument_in_place():
    # A function taking a Tensor reads an array as sg.as_tensor(array): no 32 MB copy. The same
    # call on a strided view (copied) shows that the measure sees a copy.
    shared = peak_growth_kb("sg.summary(a); sg.compare(a, a)")
    copied = peak_growth_kb("sg.summary(a[:, ::2])")
    assert shared < 4000 and copied > 12000, (shared, copied)


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
