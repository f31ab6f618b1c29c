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
    assert K.fast_forward(k, [1, 2], None, *args) is None                      # ints (general path: float64)
    assert K.fast_forward(k, [[1.0], [2.0, 3.0]], None, *args) is None         # ragged
    assert K.fast_forward(k, 2, None, *args) is None                           # a Python int
    assert K.fast_forward(k, 2.0, np.empty((), np.float64), *args) is None     # a scalar with out
    assert K.fast_forward(k, np.float16(2), None, *args) is None               # a float16 scalar
    assert K.fast_forward(k, "2.0", None, *args) is None                       # a string
    assert K.fast_forward(k, x, np.empty(64, np.float64), *args) is None      # out of another dtype
    assert K.fast_forward(k, x, np.empty(63, np.float32), *args) is None      # out of another shape
    ro = np.empty(64, np.float32)
    ro.flags.writeable = False
    assert K.fast_forward(k, x, ro, *args) is None                            # read-only out
    buf = np.zeros(65, np.float32)
    assert K.fast_forward(k, buf[:-1], buf[1:], *args) is None                # partial overlap
    assert K.fast_forward(k, buf, buf, *args) is buf                          # exact in place is fine
    assert K.fast_backward(k, x, x[:32], None, *args) is None                 # shapes differ


SCALARS = [0.5, -3.25, 0.0, -0.0, 7.5, -40.0, 1e300, -1e300, float("inf"), float("-inf"), float("nan")]


@pytest.mark.parametrize("kind", ["float", "np.float64", "np.float32"])
@pytest.mark.parametrize("op", ELEMENTWISE, ids=lambda op: op.name)
def test_scalars_are_0d_calls(op, kind):
    """A Python float or a NumPy float64/float32 scalar (the C path) gives
    what the 0-d array of its dtype gives (the general path), bit for bit, as
    a NumPy scalar of that type, as np.tanh does; no FP flag is left set."""
    f = getattr(fa, op.name)
    dtype = np.float32 if kind == "np.float32" else np.float64
    for v in SCALARS:
        with np.errstate(over="ignore"):
            x = {"float": v, "np.float64": np.float64(v), "np.float32": np.float32(v)}[kind]
        want = f(np.array(x, dtype))
        got, flags = util.flags_after(lambda: f(x))
        assert type(got) is type(want) is dtype, (type(got), type(want))
        assert np.array_equal(np.array(got), np.array(want), equal_nan=True) and \
            np.signbit(got) == np.signbit(want), (op.name, v, got, want)
        assert flags == 0, "%s(%r) left FP flags 0x%x" % (op.name, x, flags)


@pytest.mark.parametrize("op", ELEMENTWISE, ids=lambda op: op.name)
def test_lists_are_their_arrays(op):
    """A list or tuple (the C path once numpy.asarray has made it an array of
    floats) gives what its array gives; a list of ints still gives float64."""
    f = getattr(fa, op.name)
    vals = [0.5, -3.25, 0.0, 7.5, float("nan"), -float("inf")]
    for x in (vals, tuple(vals), [vals, vals[::-1]], [np.float32(v) for v in vals]):
        want = f(np.asarray(x))
        got = f(x)
        assert type(got) is np.ndarray and got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want, equal_nan=True)
    assert f([1, 2, 3]).dtype == np.float64


LAYOUTS = ["step2", "reversed", "transposed", "fortran", "unaligned", "step2-reversed"]


def _layout(name, v, dtype):
    if name == "step2-reversed":                # the values of v, every other column, backwards
        big = np.full((v.shape[0], 2 * v.shape[1]), 99, dtype)
        big[:, ::2] = v[:, ::-1]
        return big[:, ::2][:, ::-1]
    return util.LAYOUTS[name](np.asarray(v, np.float64), np.dtype(dtype))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ELEMENTWISE, ids=lambda op: op.name)
def test_other_layouts_take_the_c_path(op, dtype, layout):
    """Strided, reversed, Fortran-order and unaligned inputs (the C path,
    which copies what is not one block, or computes a Fortran block in its
    order) give the general path's bits for the same values, forward and
    backward, with and without out=, and leave the inputs alone."""
    rng = np.random.default_rng(5)
    v = rng.uniform(-6, 6, (12, 35))
    x = _layout(layout, v, dtype)
    before = x.copy()
    kernel, p0, p1 = op.select({p.name: p.default for p in op.params})
    kid = _api._KERNEL_INDEX[kernel]
    xc = np.ascontiguousarray(x)
    want = _general_forward(op, xc)
    got = K.fast_forward(kid, x, None, p0, p1, 1 << 30, fa.get_num_threads)
    assert got is not None and got.shape == x.shape and got.dtype == dtype
    assert np.array_equal(got, want, equal_nan=True)
    out = np.empty(x.shape, dtype)
    assert K.fast_forward(kid, x, out, p0, p1, 1 << 30, fa.get_num_threads) is out
    assert np.array_equal(out, want, equal_nan=True)
    assert np.array_equal(getattr(fa, op.name)(x), want, equal_nan=True)
    saved = _layout(layout, np.asarray(want, np.float64), dtype) if op.saves == "y" else x
    dy = _layout(layout, rng.uniform(-2, 2, v.shape), dtype)
    values = tuple(p.default for p in op.params)
    gwant = _api._ew_backward(op.name + "_backward", op, np.ascontiguousarray(dy), np.ascontiguousarray(saved),
                              values, None, "saved")
    g = K.fast_backward(kid, dy, saved, None, p0, p1, 1 << 30, fa.get_num_threads)
    assert g is not None and np.array_equal(g, gwant, equal_nan=True)
    assert np.array_equal(x, before, equal_nan=True)


@pytest.mark.parametrize("out_layout", ["step2", "fortran", "reversed", "same-strided-as-x", "tuple"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ELEMENTWISE, ids=lambda op: op.name)
def test_out_in_other_layouts(op, dtype, out_layout):
    """out= a slice of a larger buffer, a Fortran or reversed array, x itself
    when x is strided (in place), or a 1-tuple: the C path computes as
    without out and copies into it (the buffer around it untouched); the same
    bits as the general path, forward and backward; the call returns out."""
    rng = np.random.default_rng(9)
    v = rng.uniform(-6, 6, (12, 35))
    f, b = getattr(fa, op.name), getattr(fa, op.name + "_backward")
    kernel, p0, p1 = op.select({p.name: p.default for p in op.params})
    kid = _api._KERNEL_INDEX[kernel]
    for backward in (False, True):
        buf = np.full((12, 70), 99, dtype)
        x = buf[:, ::2] if out_layout == "same-strided-as-x" else v.astype(dtype)
        if out_layout == "same-strided-as-x":
            x[...] = v
        xc = np.ascontiguousarray(x)
        dy = rng.uniform(-2, 2, v.shape).astype(dtype)
        if backward:
            saved = f(xc) if op.saves == "y" else x
            want = b(dy, np.ascontiguousarray(saved))
        else:
            want = f(xc)
        out = {"step2": buf[:, 1::2], "fortran": np.asfortranarray(np.zeros(v.shape, dtype)),
               "reversed": buf[:, ::-2], "same-strided-as-x": x, "tuple": buf[:, 1::2]}[out_layout]
        arg = (out,) if out_layout == "tuple" else out
        got = b(dy, saved, out=arg) if backward else f(x, out=arg)
        assert got is out
        assert np.array_equal(out, want, equal_nan=True), (op.name, backward, out_layout)
        if out_layout in ("step2", "tuple"):
            assert (buf[:, ::2] == 99).all()
        # (the kernel entry itself, with plain inputs)
        if backward:
            assert K.fast_backward(kid, dy, np.ascontiguousarray(want), out, p0, p1, 1 << 30,
                                   fa.get_num_threads) is out
        else:
            assert K.fast_forward(kid, xc, out, p0, p1, 1 << 30, fa.get_num_threads) is out
            assert np.array_equal(out, want, equal_nan=True)


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


# ------------------------------------------- other than the default values

PARAM_CASES = [pytest.param(name, p, id="%s%r" % (name, p)) for name, p in
               ((v.values[0], v.values[1]) for v in util.name_param_params(
                   lambda op, name, p: op.kind == "elementwise" and bool(p) and name == op.name))]


def _fresh(name):
    _api._SELECTED[util.lookup(name).name].clear()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,params", PARAM_CASES)
def test_remembered_values_give_the_general_paths_results(name, params, dtype):
    """A call with non-default parameters takes the fast path from its second
    call on (the values remembered once checked): the same bits as the first,
    general-path call, forward and backward, with and without out=."""
    _fresh(name)
    x = (np.random.default_rng(1).standard_normal((5, 41)) * 5).astype(dtype)
    x.flat[:4] = [0.0, -0.0, np.inf, -np.inf]
    first = util.forward(name, x, params)
    assert _api._SELECTED[util.lookup(name).name], "the checked values were not remembered"
    again = util.forward(name, x, params)
    out = np.empty_like(x)
    assert util.forward(name, x, params, out=out) is out
    for got in (again, out):
        assert np.array_equal(first.view(np.uint8), got.view(np.uint8))
    op = util.lookup(name)
    saved = first if op.saves == "y" else x
    dy = np.random.default_rng(2).uniform(-2, 2, x.shape).astype(dtype)
    _fresh(name)
    g1 = util.backward(name, dy, saved, params)
    g2 = util.backward(name, dy, saved, params)
    assert np.array_equal(g1.view(np.uint8), g2.view(np.uint8))


def test_remembered_values_still_check_the_others():
    x = np.linspace(-3, 3, 11, dtype=np.float32)
    fa.gelu(x, approximate="tanh")
    fa.leaky_relu(x, alpha=0.2)
    with pytest.raises(ValueError, match="gelu"):
        fa.gelu(x, approximate="Tanh")
    with pytest.raises(TypeError, match="leaky_relu"):
        fa.leaky_relu(x, alpha="0.2")
    with pytest.raises(ValueError, match="hardtanh"):
        fa.hardtanh(x, min_val=2.0, max_val=1.0)
    # bad input arrays are still refused on the remembered path
    with pytest.raises((TypeError, ValueError), match="gelu"):
        fa.gelu(x, approximate="tanh", out=np.empty(11, np.float64)[::-1].copy().astype(np.int32))


def test_zeros_of_both_signs_are_not_confused():
    x = np.array([-1.0, -2.0], np.float64)
    for first, second in ((0.0, -0.0), (-0.0, 0.0)):
        _fresh("leaky_relu")
        a = fa.leaky_relu(x, alpha=first)
        b = fa.leaky_relu(x, alpha=second)
        assert np.signbit(a).tolist() == [np.signbit(first * -1.0)] * 2
        assert np.signbit(b).tolist() == [np.signbit(second * -1.0)] * 2


def test_values_of_other_types_are_checked_as_their_type():
    x = np.linspace(-3, 3, 11)
    _fresh("elu")
    fa.elu(x, alpha=1.0)
    key_types = {k[0] for k in _api._SELECTED["elu"]}
    assert key_types == {float}
    # the same value as another type goes its own way (and is remembered apart)
    want = fa.elu(x, alpha=np.float32(1.0))
    assert np.array_equal(want, fa.elu(x, alpha=1.0))
    assert {k[0] for k in _api._SELECTED["elu"]} == {float, np.float32}


def test_the_memory_is_bounded():
    x = np.linspace(-3, 3, 11)
    _fresh("leaky_relu")
    for i in range(3 * _api._SELECTED_MAX):
        fa.leaky_relu(x, alpha=0.001 * (i + 1))
    assert len(_api._SELECTED["leaky_relu"]) == _api._SELECTED_MAX


def test_the_wrappers_look_up_the_key_select_stores():
    """The generated wrappers build the key inline: it must be the one
    _select stores, or every call would miss.  A planted entry (identity's
    kernel under leaky_relu's key for alpha=0.3) is what the second call runs."""
    x = np.linspace(-3, 3, 11)
    _fresh("leaky_relu")
    fa.leaky_relu(x, alpha=0.3)
    key = _api._selected_key((0.3,))
    assert key in _api._SELECTED["leaky_relu"]
    _api._SELECTED["leaky_relu"][key] = (_api._KERNEL_INDEX["identity"], 0.0, 0.0)
    try:
        assert np.array_equal(fa.leaky_relu(x, alpha=0.3), x)
    finally:
        _fresh("leaky_relu")
    assert not np.array_equal(fa.leaky_relu(x, alpha=0.3), x)


# ------------------------------------------------------------------ maxout

MAXOUT = util.lookup("maxout")


def _maxout_x(dtype, shape=(6, 60)):
    x = (np.random.default_rng(3).standard_normal(shape) * 4).astype(dtype)
    x[0, :6] = [1.0, 1.0, np.nan, 2.0, -np.inf, -np.inf]    # a tie, a nan, all -inf
    x[1, :4] = [2.0, np.nan, np.nan, 0.0]                   # nan after a number, two nans
    x[2, ::7] = np.round(x[2, ::7])
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pieces", [1, 2, 3, 4, 5, 12])
def test_maxout_fast_equals_general_and_reference(pieces, dtype):
    """maxout's fast path (last axis, plain arrays) gives the general path's
    bits, and both are NumPy's max / first arg-max (nan first)."""
    import fastact.reference as ref
    x = _maxout_x(dtype)
    dy = np.random.default_rng(4).standard_normal((6, 60 // pieces)).astype(dtype)
    for nt in (1, 2):
        with fa.threads(nt):
            fast = K.maxout_fast(False, x, x, None, pieces, -1, 8, fa.get_num_threads)
            general = _api._maxout_forward("maxout", MAXOUT, x, (pieces, -1), None)
            assert fast.dtype == dtype and fast.shape == (6, 60 // pieces)
            assert np.array_equal(fast, general, equal_nan=True)
            assert np.array_equal(fast, ref.maxout(x, pieces).astype(dtype), equal_nan=True)
            g = K.maxout_fast(True, dy, x, None, pieces, 1, 8, fa.get_num_threads)
            want = _api._maxout_backward("maxout_backward", MAXOUT, dy, x, (pieces, 1), None, "x")
            assert g.shape == x.shape and np.array_equal(g, want, equal_nan=True)
            assert np.array_equal(g, ref.maxout_backward(dy, x, pieces).astype(dtype), equal_nan=True)


def test_maxout_fast_declines_what_it_must():
    x = _maxout_x(np.float32)
    dy = np.ones((6, 30), np.float32)
    args = (1 << 30, fa.get_num_threads)
    f = K.maxout_fast
    assert f(False, x, x, None, 2, -1, *args) is not None
    assert f(False, x, x, None, 2, 0, *args) is None                       # not the last axis
    assert f(False, x, x, None, True, -1, *args) is None                   # a bool
    assert f(False, x, x, None, 2.0, -1, *args) is None                    # a float
    assert f(False, x, x, None, 7, -1, *args) is None                      # does not divide 60
    assert f(False, x, x, None, 0, -1, *args) is None
    assert f(False, x, x, None, 1 << 70, -1, *args) is None                # no overflow
    assert f(False, x, x[:, ::2], None, 2, -1, *args) is None              # strided
    assert f(False, x, x.astype(">f4"), None, 2, -1, *args) is None        # byte-swapped
    assert f(True, dy[:, ::-1], x, None, 2, -1, *args) is None             # strided dy
    assert f(False, x, x, np.empty((6, 30), np.float64), 2, -1, *args) is None
    assert f(False, x, x, np.empty((6, 60), np.float32), 2, -1, *args) is None   # out of x's shape
    ro = np.empty((6, 30), np.float32)
    ro.flags.writeable = False
    assert f(False, x, x, ro, 2, -1, *args) is None
    assert f(False, x, x, x[:3], 2, -1, *args) is None                     # out inside x
    assert f(True, dy[:, :15], x, None, 2, -1, *args) is None              # dy of another shape
    assert f(True, dy, x, dy.reshape(6, 30).repeat(2, 1), 2, -1, *args) is not None
    buf = np.zeros(6 * 60 + 6 * 30, np.float32)
    dyb, dxb = buf[:180].reshape(6, 30), buf[:360].reshape(6, 60)
    assert f(True, dyb, x, dxb, 2, -1, *args) is None                      # out overlaps dy


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maxout_calls_through_the_wrapper(dtype):
    """The public functions: out= and a new array agree; the backward in place
    on x (out=x) is right; 1-D, 3-D and a size past the grain (threads)."""
    import fastact.reference as ref
    for shape in [(60,), (2, 3, 60), (700, 64)]:
        x = _maxout_x(dtype, shape) if len(shape) == 2 else \
            (np.random.default_rng(5).standard_normal(shape) * 3).astype(dtype)
        y = fa.maxout(x, pieces=4)
        out = np.full(y.shape, 7, dtype)
        assert fa.maxout(x, 4, out=out) is out and np.array_equal(out, y, equal_nan=True)
        assert np.array_equal(y, ref.maxout(x, 4).astype(dtype), equal_nan=True)
        dy = np.random.default_rng(6).standard_normal(y.shape).astype(dtype)
        want = ref.maxout_backward(dy, x, 4).astype(dtype)
        assert np.array_equal(fa.maxout_backward(dy, x, pieces=4), want, equal_nan=True)
        xc = x.copy()
        assert fa.maxout_backward(dy, xc, pieces=4, out=xc) is xc and np.array_equal(xc, want, equal_nan=True)
