"""The row kernels of softmax and log_softmax (fastact/_rows.pxi): rows longer
than the per-thread exp buffer, ties at the maximum, rows dominated by one
entry, the log_softmax backward's exp loops, and the C fast path
(same results as the general path, declines what it must)."""

import mpmath as mp
import numpy as np
import pytest

import fastact as fa
from fastact import _accuracy as acc
from fastact import _api
from fastact import reference
from fastact._dispatch import kernels as K
from fastact._registry import lookup

import util

NAMES = ["softmax", "log_softmax"]
DTYPES = [np.float32, np.float64]
ROW_STACK = 2048      # _rows.pxi: softmax rows up to this long keep their exps on the stack,
ROW_HEAP = 1 << 20    # up to this long in a heap buffer, longer ones compute them twice


def _ulp32(name, x):
    """Max ULP error of fastact's float32 name(x) against the float64 reference."""
    exact = getattr(reference, name)(x.astype(np.float64))
    err = acc.ulp_error(getattr(fa, name)(x), exact, np.float32)
    return float(np.max(err[np.abs(exact) >= np.finfo(np.float32).tiny], initial=0.0))


def _ulp64(name, row):
    """Max ULP error of fastact's float64 name(row) against mpmath (one row)."""
    got = getattr(fa, name)(row)
    worst = 0.0
    with mp.workprec(120):
        xs = [mp.mpf(float(v)) for v in row]
        m = max(xs)
        s = mp.fsum(mp.exp(v - m) for v in xs)
        ls = mp.log(s)
        for v, g in zip(xs, got):
            ex = mp.exp(v - m) / s if name == "softmax" else (v - m) - ls
            hi = float(ex)
            if abs(hi) < np.finfo(np.float64).tiny:
                continue
            worst = max(worst, float(acc.ulp_error(g, hi, np.float64, float(ex - hi))))
    return worst


@pytest.mark.parametrize("m", [ROW_STACK - 1, ROW_STACK, ROW_STACK + 1, 3 * ROW_STACK + 5])
@pytest.mark.parametrize("name", NAMES)
def test_long_rows_float32(name, m):
    """Rows around and beyond the exp buffer keep the float32 bound."""
    rng = np.random.default_rng(m)
    x = (rng.standard_normal((3, m)) * rng.uniform(0.5, 20, (3, 1))).astype(np.float32)
    assert _ulp32(name, x) <= lookup(name).ulp[0]


@pytest.mark.parametrize("name", NAMES)
def test_long_row_float64(name):
    row = np.random.default_rng(7).standard_normal(ROW_STACK + 3) * 8
    assert _ulp64(name, row) <= lookup(name).ulp[1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_row_beyond_heap_buffer(dtype):
    """A row too long for the heap buffer computes its exps twice: the same
    values as a row that keeps them (the first ROW_HEAP entries alone)."""
    x = (np.random.default_rng(9).standard_normal((1, ROW_HEAP + 9)) * 5).astype(dtype)
    got = fa.softmax(x)
    want = reference.softmax(x.astype(np.float64))
    if dtype == np.float32:
        assert np.max(acc.ulp_error(got, want, np.float32)) <= lookup("softmax").ulp[0]
    else:
        util.assert_close(got, want, util.TOL[np.dtype(dtype)]["rtol"], 1e-300)
    short = x[:, :ROW_HEAP]
    scale = np.sum(np.exp(short.astype(np.float64) - x.max())) / np.sum(np.exp(x.astype(np.float64) - x.max()))
    util.assert_close(fa.softmax(short) * scale, got[:, :ROW_HEAP], 4 * np.finfo(dtype).eps, 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_long_rows_thread_independent(name, dtype):
    x = (np.random.default_rng(3).standard_normal((5, ROW_STACK + 9)) * 6).astype(dtype)
    dy = np.random.default_rng(4).standard_normal(x.shape).astype(dtype)
    with fa.threads(1):
        y1 = getattr(fa, name)(x)
        g1 = getattr(fa, name + "_backward")(dy, y1)
    for n in (2, 3):
        with fa.threads(n):
            util.assert_same(getattr(fa, name)(x), y1, "%s forward, %d threads" % (name, n))
            util.assert_same(getattr(fa, name + "_backward")(dy, y1), g1, "%s backward, %d threads" % (name, n))


ROWS = {
    "ties": [3.0, 3.0, 3.0, -1.0],
    "all_equal": [0.5] * 9,
    "two_ties_far": [0.0, -40.0, 0.0, -60.0, -80.0],
    "dominated": [0.0, -20.0, -30.0],
    "dominated_tie": [0.0, -15.0, 0.0, -15.0],
    # the sum of exps is 1 + 1.4e-8: a float32 row's double sum has rounded
    # in the lane holding the 1 far more than log_softmax's maximum tolerates
    "dominated_long": [0.0] + [-25.0] * 999,
    "dominated_long_tie": [-25.0] * 500 + [0.0] + [-25.5] * 498 + [0.0],
    "one": [7.0],
    "tiny_gaps": [1.0, 1.0 - 2.0 ** -20, 1.0 - 2.0 ** -21, 1.0],
}


@pytest.mark.parametrize("row", list(ROWS), ids=list(ROWS))
@pytest.mark.parametrize("name", NAMES)
def test_ties_and_dominated_rows(name, row):
    """Ties at the maximum are counted into the sum exactly; a dominated row's
    maximum gets log_softmax = -log1p(tiny) with all its digits."""
    x = np.array(ROWS[row])
    assert _ulp64(name, x) <= lookup(name).ulp[1]
    assert _ulp32(name, x.astype(np.float32)[None, :]) <= lookup(name).ulp[0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_short_rows_in_blocks(name, dtype):
    """Rows up to ROW_SHORT_M long (float32: ROW_SHORT_M_F32) run a block of
    rows at a time: a row's result is its own (the same bits alone, in any
    block, on any thread count, in place), a nan row stays within its row,
    a dominated row keeps its digits among ordinary ones, and every row is
    within the bound.  The longer rows (one at a time) likewise, a nan or
    the +inf maximum in their tail past the 16-element vectors."""
    f = getattr(fa, name)
    short = K.ROW_SHORT_M_F32 if dtype == np.float32 else K.ROW_SHORT_M
    rng = np.random.default_rng(7)
    for m in sorted({1, 2, 3, 10, 16, 31, short, short + 1, 47, 48, 50, 97}):
        rows = 700
        x = rng.standard_normal((rows, m)) * rng.choice([1e-3, 1.0, 30.0], (rows, 1))
        x[17] = -25.0
        x[17, m // 2] = 0.0                       # dominated: sum of exps 1 + (m - 1) 1.4e-11
        x = x.astype(dtype)
        x[5, 0] = np.nan
        x[6, m - 1] = np.nan                      # in a row's tail past its 16-element vectors
        x[9] = -np.inf
        x[13, m - 1] = np.inf
        with fa.threads(1):
            y = f(x)
        with fa.threads(2):
            util.assert_same(f(x), y, "%s, rows of %d, 2 threads" % (name, m))
        for i in (0, 5, 6, 9, 13, 17, 255, 256, rows - 1):
            util.assert_same(f(x[i]), y[i], "%s, row %d of %d alone" % (name, i, m))
        z = x.copy()
        assert f(z, out=z) is z
        util.assert_same(z, y, "%s, rows of %d in place" % (name, m))
        bad = np.zeros(rows, bool)
        bad[[5, 6, 9, 13]] = True
        assert np.isnan(y[bad]).all() and not np.isnan(y[~bad]).any()
        good = x[~bad]
        if dtype == np.float32:
            assert _ulp32(name, good) <= lookup(name).ulp[0], m
        else:
            for i in (0, 17, rows - 1):
                assert _ulp64(name, x[i]) <= lookup(name).ulp[1], (m, i)


@pytest.mark.parametrize("dtype", DTYPES)
def test_neg_inf_entries_give_exact_zeros(dtype):
    """exp(-inf) is exactly 0: the maximum's log_softmax is +0, its softmax 1."""
    x = np.array([[5.0, -np.inf, -np.inf], [-np.inf, 2.0, 1.0]], dtype)
    ls = fa.log_softmax(x)
    assert ls[0, 0] == 0.0 and not np.signbit(ls[0, 0])
    assert fa.softmax(x)[0].tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_backward_short_rows_in_blocks(dtype):
    """float32 rows shorter than 16 go a block at a time where every saved
    row of the block is a log_softmax output, one at a time otherwise: a
    row's result is its own either way (the same bits alone, on 1 and 2
    threads, in place into dy and into y), and close to the float64
    reference.  Rows of nan or of y above 0 sit in some blocks only."""
    rng = np.random.default_rng(11)
    for m in (1, 2, 3, 7, 15, 16, 17):
        rows = 1500                                  # blocks of up to 256 rows
        x = rng.standard_normal((rows, m)) * rng.choice([1e-3, 1.0, 30.0], (rows, 1))
        y = fa.log_softmax(x.astype(dtype))
        dy = rng.uniform(-1, 1, y.shape).astype(dtype)
        y[1000, 0] = np.nan                           # the block of rows 768..1023
        y[1300, m - 1] = 0.5                          # above 0: not a log_softmax output
        with fa.threads(1):
            got = fa.log_softmax_backward(dy, y)
        with fa.threads(2):
            util.assert_same(fa.log_softmax_backward(dy, y), got, "rows of %d, 2 threads" % m)
        for i in (0, 17, 255, 256, 999, 1000, 1001, 1300, rows - 1):
            util.assert_same(fa.log_softmax_backward(dy[i], y[i]), got[i], "row %d of %d alone" % (i, m))
        a = dy.copy()
        util.assert_same(fa.log_softmax_backward(a, y, out=a), got, "rows of %d into dy" % m)
        b = y.copy()
        util.assert_same(fa.log_softmax_backward(dy, b, out=b), got, "rows of %d into y" % m)
        # dy - exp(y) sum(dy) in extended precision, and within a few ULP of
        # the terms' size, |dy| + exp(y) |sum(dy)| (dx cancels: the bound the
        # row kernels document)
        yl, dyl = y.astype(np.longdouble), dy.astype(np.longdouble)
        sl = dyl.sum(axis=1, keepdims=True)
        want = dyl - np.exp(yl) * sl
        size = np.abs(dyl) + np.exp(yl) * np.abs(sl)
        assert np.isnan(got[1000, 0]) and np.array_equal(np.isnan(got), np.isnan(want))
        ok = ~np.isnan(want)
        assert (np.abs(got[ok] - want[ok]) <= 4 * np.finfo(dtype).eps * size[ok]).all(), m


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_backward_any_saved_y(dtype):
    """Rows of y with a nan or values above 709 take the general exp loop,
    float32 rows with values above 0 the double one (rows of y <= 0, -inf
    included, the float one): nan where y is nan, the float64 reference
    elsewhere (other rows, the select-free loops, alike)."""
    y = np.log(np.random.default_rng(5).dirichlet(np.ones(12), 4)).astype(dtype)
    y[1, 3] = np.nan
    y[2, 0] = -np.inf
    y[3, 5] = 800.0 if dtype == np.float64 else 80.0
    dy = np.random.default_rng(6).uniform(-1, 1, y.shape).astype(dtype)
    got = fa.log_softmax_backward(dy, y)
    with np.errstate(over="ignore"):
        want = reference.log_softmax_backward(dy.astype(np.float64), y.astype(np.float64))
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[1, 3]) and not np.isnan(got[1, :3]).any()
    fin = ~np.isnan(want) & np.isfinite(want.astype(dtype))
    util.assert_close(got[fin], want[fin], util.TOL[np.dtype(dtype)]["rtol"] * 4, 1e-30)


# -------------------------------------------------------------- fast path

def _general(name, backward, *arrays, axis=-1, out=None):
    op = lookup(name)
    if backward:
        return _api._softmax_backward(name + "_backward", op, arrays[0], arrays[1], (axis,), out, "y")
    return _api._softmax_forward(name, op, arrays[0], (axis,), out)


@pytest.mark.parametrize("shape", [(1, 1000), (37, 13), (2, 3, 40), (5,), (3, 0), (0, 4)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_fast_equals_general(name, dtype, shape):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    which = K.ROW_KERNELS[name]
    fast = K.rows_fast(which, x, x, None, -1, 1 << 30, fa.get_num_threads)
    assert fast is not None and fast.dtype == dtype and fast.shape == shape
    util.assert_same(fast, _general(name, False, x), "%s forward" % name)
    g = K.rows_fast(K.ROW_KERNELS[name + "_backward"], dy, fast, None, len(shape) - 1, 1 << 30,
                    fa.get_num_threads)
    util.assert_same(g, _general(name, True, dy, fast), "%s backward" % name)


@pytest.mark.parametrize("m", [7, 48, 50])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_fast_in_place(name, dtype, m):
    """In place, forward and backward into dy or into y, on rows with and
    without a tail past their 16-element vectors."""
    x = np.random.default_rng(2).standard_normal((6, m)).astype(dtype)
    want = getattr(fa, name)(x)
    dy = np.random.default_rng(3).standard_normal(x.shape).astype(dtype)
    want_g = getattr(fa, name + "_backward")(dy, want)
    y = x.copy()
    assert getattr(fa, name)(y, out=y) is y
    util.assert_same(y, want, "%s in place" % name)
    y2 = y.copy()
    assert getattr(fa, name + "_backward")(dy, y2, out=y2) is y2
    util.assert_same(y2, want_g, "%s_backward into y" % name)
    assert getattr(fa, name + "_backward")(dy, y, out=dy) is dy
    util.assert_same(dy, want_g, "%s_backward into dy" % name)


def test_fast_declines_what_it_must():
    x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(4, 16)
    k = K.ROW_KERNELS["softmax"]
    args = (1 << 30, fa.get_num_threads)
    assert K.rows_fast(k, x, x, None, True, *args) is None                    # a bool is no axis
    assert K.rows_fast(k, x, x, None, np.int64(1), *args) is None             # not an int
    assert K.rows_fast(k, x, x, None, 2, *args) is None                       # out of range
    assert K.rows_fast(k, x.astype(np.float16), None, None, -1, *args) is None
    assert K.rows_fast(k, x.astype(">f4"), None, None, -1, *args) is None     # byte-swapped
    assert K.rows_fast(k, x.tolist(), None, None, -1, *args) is None          # not an array
    assert K.rows_fast(k, np.float32(1.0) * np.ones((), np.float32), None, None, -1, *args) is None  # 0-d
    assert K.rows_fast(k, x, x, np.empty((4, 16), np.float64), -1, *args) is None
    assert K.rows_fast(k, x, x, np.empty((4, 15), np.float32), -1, *args) is None
    ro = np.empty((4, 16), np.float32)
    ro.flags.writeable = False
    assert K.rows_fast(k, x, x, ro, -1, *args) is None
    buf = np.zeros(65, np.float32)
    assert K.rows_fast(k, buf[:-1].reshape(4, 16), None, buf[1:].reshape(4, 16), -1, *args) is None
    kb = K.ROW_KERNELS["softmax_backward"]
    assert K.rows_fast(kb, x, x[:2], None, -1, *args) is None                 # shapes differ
    assert K.rows_fast(kb, x, x.astype(np.float64), None, -1, *args) is None  # dtypes differ


ROW_NAMES = ["softmax", "log_softmax"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ROW_NAMES)
def test_other_axes_and_layouts_take_the_c_path(name, dtype):
    """Any axis, and strided, Fortran or reversed arrays (the C path: a copy
    with the axis swapped last, the rows put back through the same swap)
    give the general path's bits (an axis that is a NumPy integer takes that
    one), forward and backward, as a new C-order array or into out (plain,
    a slice of a buffer, Fortran order, the input itself); the inputs are
    left alone."""
    rng = np.random.default_rng(11)
    f, b = getattr(fa, name), getattr(fa, name + "_backward")
    base = rng.uniform(-8, 8, (6, 7, 9)).astype(dtype)
    layouts = {"contig": base, "fortran": np.asfortranarray(base), "strided": np.repeat(base, 2, axis=1)[:, ::2],
               "reversed": base[::-1, :, ::-1]}
    for lname, x in layouts.items():
        for axis in (0, 1, 2, -1, -2, -3):
            before = x.copy()
            want = f(x, axis=np.int64(axis))
            kf = K.ROW_KERNELS[name]
            got = K.rows_fast(kf, x, x, None, axis, 1 << 30, fa.get_num_threads)
            assert got is not None and got.flags.c_contiguous and got.dtype == dtype
            util.assert_same(got, want, "%s %s axis=%d" % (name, lname, axis))
            util.assert_same(f(x, axis=axis), want, "%s %s axis=%d (wrapper)" % (name, lname, axis))
            dy = rng.uniform(-2, 2, x.shape).astype(dtype)
            gwant = b(dy, want, axis=np.int64(axis))
            util.assert_same(b(dy, want, axis=axis), gwant, "%s_backward %s axis=%d" % (name, lname, axis))
            for oname in ("plain", "slice", "fortran", "input"):
                buf = np.full(x.shape[:-1] + (2 * x.shape[-1],), 99, dtype)
                xin = x.copy(order="K") if oname == "input" else x
                out = {"plain": np.empty(x.shape, dtype), "slice": buf[..., 1::2],
                       "fortran": np.asfortranarray(np.empty(x.shape, dtype)), "input": xin}[oname]
                assert f(xin, axis=axis, out=out) is out
                util.assert_same(out, want, "%s %s axis=%d out=%s" % (name, lname, axis, oname))
                if oname == "slice":
                    assert (buf[..., ::2] == 99).all()
            util.assert_same(x, before, "input untouched")


def test_declined_calls_raise_as_before():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match="axis"):
        fa.softmax(x, axis=True)
    with pytest.raises(ValueError, match="out of bounds"):
        fa.log_softmax(x, axis=2)
    with pytest.raises(ValueError, match="shape"):
        fa.softmax(x, out=np.empty((3, 2), np.float32))
    with pytest.raises(ValueError, match="same shape"):
        fa.softmax_backward(x, x[:1])


def test_reference_counts_and_no_leak():
    x = np.random.default_rng(0).standard_normal((8, 100))
    out = np.empty_like(x)
    dy = np.ones_like(x)

    def calls():
        fa.softmax(x)
        fa.log_softmax(x, out=out)
        fa.softmax_backward(dy, out, out=dy)
        fa.log_softmax_backward(x, out, out=out)
    util.assert_refcounts_kept((x, out, dy), calls)
    util.assert_no_leak(calls, 5000)
