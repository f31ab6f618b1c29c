"""The C fast path of the elementwise wrappers (plain float32/float64 arrays,
default parameters): same results as the general path, declines what it must,
keeps reference counts, does not leak."""

import numpy as np
import pytest

import fastact as fa
from fastact import _api
from fastact._dispatch import kernels as K
from fastact._registry import OPS

import util

ELEMENTWISE = [op for op in OPS if op.kind == "elementwise"]


def _general_forward(op, x, out=None):
    values = tuple(p.default for p in op.params)
    return _api._ew_forward(op.name, op, x, values, out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ELEMENTWISE, ids=lambda op: op.name)
def test_fast_equals_general(op, dtype):
    x = (np.random.default_rng(0).standard_normal((7, 33)) * 5).astype(dtype)
    kernel, p0, p1 = op.select({p.name: p.default for p in op.params})
    kid = _api._KERNEL_INDEX[kernel]
    fast = K.fast_forward(kid, x, None, p0, p1, 1 << 30, fa.get_num_threads)
    assert fast is not None and fast.dtype == dtype and fast.shape == x.shape
    assert np.array_equal(fast, _general_forward(op, x), equal_nan=True)
    saved = fast if op.saves == "y" else x
    dy = np.ones_like(x)
    g = K.fast_backward(kid, dy, saved, None, p0, p1, 1 << 30, fa.get_num_threads)
    values = tuple(p.default for p in op.params)
    want = _api._ew_backward(op.name + "_backward", op, dy, saved, values, None, "saved")
    assert np.array_equal(g, want, equal_nan=True)


def test_declines_what_it_must():
    x = np.linspace(-1, 1, 64, dtype=np.float32)
    k = _api._KERNEL_INDEX["relu"]
    args = (0.0, 0.0, 1 << 30, fa.get_num_threads)
    assert K.fast_forward(k, x.astype(np.float16), None, *args) is None        # other dtype
    assert K.fast_forward(k, x.astype(">f4"), None, *args) is None            # byte-swapped
    assert K.fast_forward(k, x[::2], None, *args) is None                     # strided
    assert K.fast_forward(k, list(x), None, *args) is None                    # not an array
    assert K.fast_forward(k, x, np.empty(64, np.float64), *args) is None      # out of another dtype
    assert K.fast_forward(k, x, np.empty(63, np.float32), *args) is None      # out of another shape
    ro = np.empty(64, np.float32)
    ro.flags.writeable = False
    assert K.fast_forward(k, x, ro, *args) is None                            # read-only out
    buf = np.zeros(65, np.float32)
    assert K.fast_forward(k, buf[:-1], buf[1:], *args) is None                # partial overlap
    assert K.fast_forward(k, buf, buf, *args) is buf                          # exact in place is fine
    assert K.fast_backward(k, x, x[:32], None, *args) is None                 # shapes differ


def test_zero_d_and_empty():
    assert isinstance(fa.relu(np.float32(-2.0) * np.ones((), np.float32)), np.float32)
    assert fa.relu(np.array(3.0)) == 3.0 and np.ndim(fa.relu(np.array(3.0))) == 0
    e = fa.sigmoid(np.empty((2, 0, 3), np.float32))
    assert e.shape == (2, 0, 3) and e.dtype == np.float32


def test_reference_counts_unchanged():
    x = np.linspace(-3, 3, 1000, dtype=np.float32)
    out = np.empty_like(x)
    dy = np.ones_like(x)

    def calls():
        fa.relu(x)
        fa.relu(x, out=out)
        fa.sigmoid_backward(dy, out, out=dy)
        fa.tanh(np.float64(0.5) * np.ones(()))
    util.assert_refcounts_kept((x, out, dy), calls)


def test_no_leak():
    x = np.linspace(-3, 3, 100, dtype=np.float64)
    out = np.empty_like(x)

    def calls():
        fa.gelu(x)
        fa.gelu(x, out=out)
        fa.gelu_backward(x, x, out=out)
    util.assert_no_leak(calls, 20000)
