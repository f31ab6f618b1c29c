"""Property tests (hypothesis) over dtype x shape x layout x values for every
function: the forward and the backward against fastact.reference, with the
dtype np.tanh gives, the input's shape, the same bits through out= and in
place; values include NaN, +-inf, +-0, subnormals and the largest finite ones.

Derandomised in the suite (the "ci" profile of conftest.py: the same examples
every run); ``python tools/fuzz.py --minutes 10`` runs the same property with
fresh randomness for as long as asked.
"""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from fastact._registry import lookup

import util

DTYPES = [np.float32, np.float64, np.float16, np.int16, np.uint8, np.bool_]
LAYOUTS = ["C", "F", "reversed", "strided", "transposed", "byteswapped", "unaligned", "readonly", "broadcast"]


def _specials(dtype):
    fi = np.finfo(dtype)
    return [np.nan, np.inf, -np.inf, 0.0, -0.0, float(fi.max), -float(fi.max), float(fi.tiny),
            float(fi.smallest_subnormal), -float(fi.smallest_subnormal), 1.0, -1.0]


def _elements(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        width = 8 * dtype.itemsize
        return st.one_of(st.floats(width=width, allow_subnormal=True),
                         st.floats(-30, 30, width=width),
                         st.sampled_from(_specials(dtype)).map(dtype.type))
    return hnp.from_dtype(dtype)


def _dy_elements(dtype):
    """dy: finite values of moderate size, zeros, subnormals and NaN.  (An
    infinite dy times a derivative that is 0 -- or underflows to 0 in the
    result's dtype -- is NaN or inf depending on rounding: not a property.)"""
    dtype = np.dtype(dtype)
    fi = np.finfo(dtype)
    width = 8 * dtype.itemsize
    return st.one_of(st.floats(-1e4, 1e4, width=width, allow_subnormal=True),
                     st.sampled_from([np.nan, 0.0, -0.0, float(fi.smallest_subnormal), 1.0]).map(dtype.type))


def _layout(a, layout):
    """a (C-contiguous) as the given layout, same values."""
    if layout == "F" and a.ndim:
        return np.asfortranarray(a)
    if layout == "reversed" and a.ndim:
        return a[::-1].copy()[::-1]
    if layout == "strided" and a.ndim:
        return np.repeat(a, 2, axis=-1)[..., ::2]
    if layout == "transposed" and a.ndim:
        return np.ascontiguousarray(a.T).T
    if layout == "byteswapped" and a.dtype.itemsize > 1:
        return a.astype(a.dtype.newbyteorder())
    if layout == "unaligned":
        return util.make_unaligned(a)
    if layout == "readonly":
        a = a.copy()
        a.flags.writeable = False
        return a
    if layout == "broadcast" and a.ndim and a.shape[0]:
        return np.broadcast_to(a[:1], a.shape)
    return a


@st.composite
def cases(draw, op):
    """(params, x, dy) for op: x of any dtype/shape/layout, dy a float array
    of the result's shape."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9))
    pid, params = draw(st.sampled_from(util.param_sets(op)))
    p = util.fit_params(op, shape, params)
    x = _layout(draw(hnp.arrays(dtype, shape, elements=_elements(dtype))), draw(st.sampled_from(LAYOUTS)))
    rdt = np.tanh(np.zeros(1, dtype)).dtype
    yshape = util.out_shape(op.name, shape, p)
    dy = _layout(draw(hnp.arrays(rdt, yshape, elements=_dy_elements(rdt))), draw(st.sampled_from(LAYOUTS)))
    return p, x, dy


def check_op(name, p, x, dy):
    """The property: reference values, dtype, shape, out= and in place."""
    op = lookup(name)
    rdt = np.tanh(np.zeros(1, x.dtype)).dtype
    what = "%s%r on %s %s %s" % (name, p, x.dtype, x.shape, "C" if x.flags.c_contiguous else x.strides)
    y = np.asarray(util.forward(name, x, p))
    assert y.dtype == rdt and y.shape == util.out_shape(name, x.shape, p), what
    util.check_forward(name, p, x, y, what + " forward")
    saved = y if op.saves == "y" else x
    g = util.backward(name, dy, saved, p)
    g = (np.asarray(g[0]), g[1]) if op.kind == "prelu" else np.asarray(g)  # (0-d: a NumPy scalar)
    util.check_backward(name, p, x, dy, saved, g, what + " backward")
    g0 = g[0] if op.kind == "prelu" else g
    # out=: the same bits; in place where the input can take the result
    out = np.full(y.shape, 7, rdt)
    assert util.forward(name, x, p, out=out) is out
    util.assert_same(out, y, what + " into out")
    if x.dtype == rdt and x.shape == y.shape and x.flags.writeable and x.base is None:
        xc = x.copy()
        assert util.forward(name, xc, p, out=xc) is xc
        util.assert_same(xc, y, what + " in place")
    dxo = np.full(np.shape(x), 7, rdt)
    gg = util.backward(name, dy, saved, p, out=dxo)
    assert (gg[0] if op.kind == "prelu" else gg) is dxo
    util.assert_same(dxo, g0, what + " backward into out")


@pytest.mark.parametrize("name", util.name_params(util.OP_NAMES))
def test_property(name):
    op = lookup(name)

    @given(cases(op))
    def run(case):
        check_op(name, *case)

    run()

