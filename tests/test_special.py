"""Special values: NaN, +-inf limits, signed zeros, subnormals, the largest
finite values, softmax's special rows, and no floating-point warnings or
exception flags."""

import warnings

import numpy as np
import pytest

from fastact import reference as ref
from fastact._registry import SELU_ALPHA, SELU_LAMBDA, lookup

import util
from util import TOL

FLOAT_PARAMS = util.dtype_params()


def _shaped(name, flat, params=None):
    """flat values arranged for the op's kind, and its fitted params."""
    op = lookup(name)
    x = np.asarray(flat)
    if op.kind in ("rowwise", "maxout") and x.size % 2 == 0:
        x = x.reshape(2, -1)
    elif op.kind == "prelu" and x.size % 2 == 0:
        x = x.reshape(1, 2, -1)
    return x, util.fit_params(op, x.shape, params)


# -------------------------------------------------------------------- NaN

@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name,params", util.name_param_params())
def test_nan_in_nan_out_forward(name, params, dtype, rng):
    flat = rng.uniform(-5, 5, 24)
    flat[[0, 5, 13, 22]] = np.nan
    x, p = _shaped(name, flat.astype(dtype), params)
    got = np.asarray(util.forward(name, x, p))
    want = util.ref_forward(name, x, p)
    assert np.isnan(want).any()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg="%s: NaN pattern" % name)
    if lookup(name).kind in ("elementwise", "rrelu", "prelu"):
        assert np.isnan(got[np.isnan(x)]).all(), "%s(nan) is not nan" % name


@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("where", ["saved", "dy"])
@pytest.mark.parametrize("name,params", util.name_param_params())
def test_nan_in_nan_out_backward(name, params, where, dtype, rng):
    """A NaN saved value (x or y) or a NaN dy gives NaN in dx: at that element
    for the elementwise ops, prelu, rrelu and maxout (a NaN dy at its group's
    arg-max); over the row for softmax."""
    op = lookup(name)
    flat = rng.uniform(-5, 5, 24)
    if where == "saved":
        flat[[0, 5, 9]] = np.nan  # all in the first half (row) of the array
    x, p = _shaped(name, flat.astype(dtype), params)
    dy = rng.uniform(-2, 2, util.out_shape(name, x.shape, p)).astype(dtype)
    nan_dy = [1, 2]
    if where == "dy":
        dy.flat[nan_dy] = np.nan
    saved = util.saved_for(name, x, p)
    got = util.backward(name, dy, saved, p)
    want = util.ref_backward(name, dy, x, saved, p)
    if op.kind == "prelu":
        (got, gw), (want, ww) = got, want
        np.testing.assert_array_equal(np.isnan(gw), np.isnan(ww), err_msg="prelu dweight NaN pattern")
    if op.kind in ("elementwise", "rrelu", "prelu"):
        # NaN wherever x (or y) or dy is NaN
        expect = np.isnan(x) if op.saves else np.zeros(x.shape, bool)
        expect = expect | np.isnan(dy)
        np.testing.assert_array_equal(np.isnan(want), expect)
    else:
        expect = np.isnan(want)
        if where == "dy" or op.kind == "rowwise":
            assert expect.any() and not expect.all()
        if op.kind == "maxout" and where == "saved":
            np.testing.assert_array_equal(expect, np.isnan(x))
    np.testing.assert_array_equal(np.isnan(got), expect, err_msg="%s_backward%r: NaN pattern (got %r)"
                                  % (name, p, got))
    fin = ~expect
    t = TOL[dtype]
    atol = t["atol"] + np.broadcast_to(util.y_error_atol(name, x, p, dy, saved), x.shape)[fin]
    util.assert_close(got[fin], want[fin], 1e-5, atol, what="%s_backward%r: non-NaN elements" % (name, p))


# ------------------------------------------------- the special-value table

@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("label,name,params", [pytest.param(*r, id=r[0]) for r in ref.special_rows()])
def test_special_value_table(label, name, params, dtype):
    """fastact at NaN, +-inf, +-max, +-1, +-smallest subnormal and +-0 gives
    the README's table (fastact.reference.special_values, in this dtype):
    NaN where it says nan, the same infinities, zeros of the same sign in the
    forward, the other values within the usual tolerance (absolute: the
    smallest normal).  The backward takes what the forward saved (y or x),
    with dy = 1."""
    x = ref.special_points(dtype)
    want_y, want_d = ref.special_values(name, dtype, **params)
    t = TOL[dtype]
    tiny = float(np.finfo(dtype).tiny)
    y = util.forward(name, x, params)
    want_y = _table_matches(y, want_y, dtype, "%s %s forward" % (label, dtype.name), signed_zeros=True)
    util.assert_close(y, want_y, t["rtol"], tiny, x=x, what="%s %s forward" % (label, dtype.name))
    saved = y if lookup(name).saves == "y" else x
    g = util.backward(name, np.ones_like(x), saved, params)
    if lookup(name).kind == "prelu":
        g = g[0]
    want_d = _table_matches(g, want_d, dtype, "%s %s backward" % (label, dtype.name), signed_zeros=False)
    atol = tiny + util.y_error_atol(name, x, params, np.ones_like(x), saved)
    util.assert_close(g, want_d, t["rtol"], atol, x=x, what="%s %s backward" % (label, dtype.name))


def _table_matches(got, want, dtype, what, signed_zeros):
    """NaN, infinities and (forward) zero signs as the table says; returns
    the table's values in dtype."""
    with np.errstate(all="ignore"):
        want = np.asarray(want).astype(dtype)  # the table's value in this dtype (may overflow to inf)
    for label, g, w in zip(ref.SPECIAL_LABELS, got, want):
        where = "%s at %s: got %r, the table says %r" % (what, label, g, w)
        assert np.isnan(g) == np.isnan(w), where
        if np.isinf(w) or np.isinf(g):
            assert g == w, where
        if signed_zeros and g == 0 and w == 0:
            assert np.signbit(g) == np.signbit(w), where
    return want


# -------------------------------------------------------------------- inf

_SPEC_LIMITS = [
    # (name, params, x, expected) -- the limits SPEC.md / the registry list
    ("sigmoid", {}, -np.inf, 0.0), ("sigmoid", {}, np.inf, 1.0),
    ("silu", {}, -np.inf, 0.0), ("silu", {}, np.inf, np.inf),
    ("gelu", {}, -np.inf, 0.0), ("gelu", {}, np.inf, np.inf),
    ("gelu", {"approximate": "tanh"}, -np.inf, 0.0), ("gelu", {"approximate": "tanh"}, np.inf, np.inf),
    ("softplus", {}, np.inf, np.inf), ("softplus", {}, -np.inf, 0.0),
    ("tanh", {}, np.inf, 1.0), ("tanh", {}, -np.inf, -1.0),
    ("softsign", {}, np.inf, 1.0), ("softsign", {}, -np.inf, -1.0),
    ("elu", {}, -np.inf, -1.0), ("elu", {"alpha": 0.5}, -np.inf, -0.5),
    ("selu", {}, -np.inf, -SELU_LAMBDA * SELU_ALPHA),
    ("celu", {}, -np.inf, -1.0), ("celu", {"alpha": 0.5}, -np.inf, -0.5),
    ("mish", {}, -np.inf, 0.0), ("mish", {}, np.inf, np.inf),
    ("hard_swish", {}, -np.inf, 0.0), ("hard_swish", {}, np.inf, np.inf),
    ("hard_sigmoid", {}, -np.inf, 0.0), ("hard_sigmoid", {}, np.inf, 1.0),
    ("log_sigmoid", {}, -np.inf, -np.inf), ("log_sigmoid", {}, np.inf, 0.0),
    ("relu", {}, -np.inf, 0.0), ("relu", {}, np.inf, np.inf),
    ("relu6", {}, np.inf, 6.0), ("leaky_relu6", {}, np.inf, 6.0),
    ("hardtanh", {}, np.inf, 1.0), ("hardtanh", {}, -np.inf, -1.0),
    ("leaky_relu", {}, -np.inf, -np.inf),
]


@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name,params,x,expected", [
    pytest.param(*c, id="%s%s(%s)" % (c[0], "".join("-%s=%s" % kv for kv in c[1].items()), c[2]))
    for c in _SPEC_LIMITS])
def test_spec_limits_at_infinity(name, params, x, expected, dtype):
    got = util.forward(name, np.array([x], dtype), params)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, np.array([expected], dtype), rtol=TOL[dtype]["rtol"] * 4, atol=0,
                               err_msg="%s%r(%r)" % (name, params, x))


# parameters at which a factor of the formula is 0: the limits at +-inf,
# not 0 * inf = nan; (name, params, x, forward, backward at dy = 2).
# (leaky_relu(-inf, alpha=0) stays alpha x = nan, as torch's.)
_ZERO_PARAM_LIMITS = [
    ("silu", {"beta": 0.0}, np.inf, np.inf, 1.0), ("silu", {"beta": 0.0}, -np.inf, -np.inf, 1.0),
    ("silu", {"beta": 0.0}, 3.0, 1.5, 1.0), ("silu", {"beta": 0.0}, np.nan, np.nan, np.nan),
    ("leaky_relu6", {"alpha": 0.0}, -np.inf, 0.0, 0.0), ("leaky_relu6", {"alpha": 0.0}, np.inf, 6.0, 0.0),
    ("leaky_relu6", {"alpha": 0.0}, 3.0, 3.0, 2.0), ("leaky_relu6", {"alpha": 0.0}, np.nan, np.nan, np.nan),
]


@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name,params,x,fwd,bwd", [
    pytest.param(*c, id="%s%s(%s)" % (c[0], "".join("-%s=%s" % kv for kv in c[1].items()), c[2]))
    for c in _ZERO_PARAM_LIMITS])
def test_zero_parameter_limits(name, params, x, fwd, bwd, dtype):
    xs = np.full(5, x, dtype)          # 5: the C fast path and the general one agree
    for got in (util.forward(name, xs, params), util.forward(name, xs[:1], params)):
        np.testing.assert_array_equal(got, np.full(got.shape, fwd, dtype), err_msg="%s%r(%r)" % (name, params, x))
    saved = util.saved_for(name, xs, params)
    g = util.backward(name, np.full(5, 2.0, dtype), saved, params)
    np.testing.assert_array_equal(g, np.full(5, bwd, dtype), err_msg="%s_backward%r(%r)" % (name, params, x))


@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name,params", [("elu", {}), ("elu", {"alpha": 0.3}), ("elu", {"alpha": 1.7}),
                                         ("elu", {"alpha": 0.1}), ("elu", {"alpha": 2.5}), ("selu", {})])
def test_output_form_derivative_saturates_at_zero(name, params, dtype):
    """elu's and selu's backward from y (the derivative y + alpha, lambda
    alpha) at every 997th x <= 0 down to where the forward saturates and at
    -inf: never negative, exactly 0 at -inf, and 0 or the float64 derivative
    within y's rounding where the true one is below it.  (float32 used to
    give alpha - RN(alpha) there: 2.3e-8 for selu, -1.2e-8 for alpha 0.3.)"""
    itype = np.uint32 if dtype == np.float32 else np.uint64
    sign = itype(1) << itype(8 * dtype.itemsize - 1)
    lo = np.array([-120.0 if dtype == np.float32 else -760.0], dtype).view(itype)[0]
    x = np.arange(sign, lo, 997 if dtype == np.float32 else 997 << 31, dtype=itype).view(dtype)
    x = np.concatenate([x, np.array([-1e30, -50.0, -np.inf], dtype)])
    y = util.forward(name, x, params)
    g = util.backward(name, np.ones_like(x), y, params)
    assert g[-1] == 0, "%s_backward%r at -inf: %r" % (name, params, g[-1])
    assert (g >= 0).all(), "%s_backward%r: %r at x = %r" % (name, params, g.min(), x[np.argmin(g)])
    c = SELU_LAMBDA * SELU_ALPHA if name == "selu" else params.get("alpha", 1.0)
    exact = c * np.exp(x.astype(np.float64))
    # y's rounding, half an ulp of c, is the derivative's absolute error
    util.assert_close(g, exact, TOL[dtype]["rtol"], float(np.spacing(dtype.type(c))), x=x,
                      what="%s_backward%r from y" % (name, params))


@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name,params", util.name_param_params(
    lambda op, name, p: op.kind in ("elementwise", "rrelu", "prelu")))
def test_infinities_match_reference(name, params, dtype):
    """forward and backward (dy = 1, 2) at +-inf equal the reference's limits;
    never NaN where the reference is not."""
    x, p = _shaped(name, np.array([-np.inf, np.inf, -np.inf, np.inf], dtype), params)
    got = util.forward(name, x, p)
    want = util.ref_forward(name, x, p)
    t = TOL[dtype]
    util.assert_close(got, want, t["rtol"], t["atol"], x=x, what="%s%r at inf" % (name, p))
    dy = np.array([1.0, 1.0, 2.0, 2.0], dtype).reshape(x.shape)
    saved = util.saved_for(name, x, p)
    g = util.backward(name, dy, saved, p)
    w = util.ref_backward(name, dy, x, saved, p)
    if lookup(name).kind == "prelu":
        g, w = g[0], w[0]
    # a backward from y: y = f(-inf) rounded to the dtype, and the derivative
    # of that y (e.g. selu: y + lambda alpha) may differ from the limit by the rounding
    atol = t["atol"] + util.y_error_atol(name, x, p, dy, saved)
    util.assert_close(g, w, t["rtol"], atol, x=x, what="%s_backward%r at inf" % (name, p))


# ------------------------------------------------------------------ kinks

@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name,at_kinks", [
    # SPEC: hard_sigmoid' = 1/6 inside (-3, 3), 0 outside; hard_swish' "see
    # hard_sigmoid": 0 up to -3, (2x + 3)/6 inside, 1 from 3 on (torch's
    # values at the kinks too)
    ("hard_sigmoid", (0.0, 0.0)),
    ("hard_swish", (0.0, 1.0)),
])
def test_hard_derivatives_at_the_kinks(name, at_kinks, dtype):
    kinks = np.array([-3.0, 3.0], dtype)
    x = np.concatenate([kinks, np.nextafter(kinks, np.zeros(2, dtype))])      # at them, then just inside
    got = util.backward(name, np.full(4, 2.0, dtype), x, {})
    inside = 1 / 6 if name == "hard_sigmoid" else (2 * x[2:].astype(np.float64) + 3) / 6
    want = np.concatenate([2 * np.array(at_kinks), 2 * np.broadcast_to(inside, (2,))])
    np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dtype).eps, atol=0, err_msg=name)


# ------------------------------------------------------------------ zeros

@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name,x,negative", [
    pytest.param("tanh", -0.0, True, id="tanh(-0)=-0"),
    pytest.param("tanh", 0.0, False, id="tanh(+0)=+0"),
    pytest.param("relu", -0.0, False, id="relu(-0)=+0"),
    pytest.param("relu", 0.0, False, id="relu(+0)=+0"),
    pytest.param("identity", -0.0, True, id="identity(-0)=-0"),
    pytest.param("gelu", -0.0, True, id="gelu(-0)=-0"),
    pytest.param("gelu", 0.0, False, id="gelu(+0)=+0"),
])
def test_signed_zero(name, x, negative, dtype):
    for arr in (np.array([x, x], dtype), np.array(x, dtype)):
        got = np.asarray(util.forward(name, arr))
        assert (got == 0).all()
        assert np.signbit(got).all() == negative, "%s(%r) has the wrong sign: %r" % (name, x, got)


@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name,params", util.name_param_params())
def test_zeros_match_reference(name, params, dtype):
    x, p = _shaped(name, np.array([0.0, -0.0, 0.0, -0.0], dtype), params)
    t = TOL[dtype]
    util.assert_close(util.forward(name, x, p), util.ref_forward(name, x, p), t["rtol"], t["atol"],
                      what="%s%r at +-0" % (name, p))


# ------------------------------------------------------------- subnormals

@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name,params", util.name_param_params())
def test_subnormals(name, params, dtype):
    """Subnormal inputs: finite results within the smallest normal (absolute)
    of the reference, forward and backward."""
    fi = np.finfo(dtype)
    tiny, sub = float(fi.tiny), float(fi.smallest_subnormal)
    vals = np.array([tiny / 2, -tiny / 2, tiny / 1024, -tiny / 1024, sub, -sub, tiny, -tiny])
    x, p = _shaped(name, vals.astype(dtype), params)
    rtol = TOL[dtype]["rtol"]
    got = util.forward(name, x, p)
    assert np.isfinite(got).all(), got
    util.assert_close(got, util.ref_forward(name, x, p), rtol, tiny, x=x, what="%s%r subnormal" % (name, p))
    dy = np.ones(util.out_shape(name, x.shape, p), dtype)
    saved = util.saved_for(name, x, p)
    g = util.backward(name, dy, saved, p)
    w = util.ref_backward(name, dy, x, saved, p)
    if lookup(name).kind == "prelu":
        assert np.isfinite(g[1]).all()
        util.assert_close(g[1], w[1], rtol, tiny, what="prelu dweight subnormal")
        g, w = g[0], w[0]
    assert np.isfinite(g).all(), g
    if lookup(name).kind == "rowwise":
        # a row of (sub)normals is a row of equal entries: dy - exp(y) sum(dy)
        # cancels, so the row kernels' backward is held to its terms, as
        # everywhere else (util.check_backward)
        util.check_backward(name, p, x, dy, saved, g, "%s_backward%r subnormal" % (name, p))
        return
    util.assert_close(g, w, rtol, tiny, x=x, what="%s_backward%r subnormal" % (name, p))


# ---------------------------------------------------------- largest finite

def _check_limit(got, want, dtype, what):
    with np.errstate(all="ignore"):
        want_d = np.asarray(want).astype(dtype).astype(np.float64)
    got = np.asarray(got, np.float64)
    assert not np.isnan(got).any(), "%s: NaN from finite input: %r" % (what, got)
    fin = np.isfinite(want_d)
    util.assert_close(got[fin], want_d[fin], TOL[dtype]["rtol"], TOL[dtype]["atol"], what=what)
    # where the exact result overflows the dtype: inf of the right sign, or
    # (where the plain reference overflowed an intermediate) a huge finite value
    big = ~fin & ~np.isnan(want_d)
    fmax = float(np.finfo(dtype).max)
    ok = (got[big] == want_d[big]) | ((np.sign(got[big]) == np.sign(want_d[big])) & (np.abs(got[big]) >= fmax / 8))
    assert ok.all(), "%s: got %r where the limit is %r" % (what, got[big], want_d[big])


@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name,params", util.name_param_params())
def test_largest_finite(name, params, dtype):
    fmax = float(np.finfo(dtype).max)
    x, p = _shaped(name, np.array([fmax, -fmax, fmax / 2, -fmax / 2], dtype), params)
    got = util.forward(name, x, p)
    _check_limit(got, util.ref_forward(name, x, p), dtype, "%s%r at +-max" % (name, p))
    dy = np.ones(util.out_shape(name, x.shape, p), dtype)
    saved = util.saved_for(name, x, p)
    g = util.backward(name, dy, saved, p)
    if lookup(name).kind == "prelu":
        g = g[0]
    assert not np.isnan(g).any(), "%s_backward at +-max gives NaN: %r" % (name, g)
    if lookup(name).saves != "y" and lookup(name).kind != "rowwise":
        w = util.ref_backward(name, dy, x, saved, p)
        if lookup(name).kind == "prelu":
            w = w[0]
        _check_limit(g, w, dtype, "%s_backward%r at +-max" % (name, p))


# --------------------------------------------------------------- softmax

SOFTMAX_NAMES = [n for op, n in util.NAMES if op.kind == "rowwise"]

_SPECIAL_ROWS = {
    "pos_inf": [np.inf, 1.0, 2.0, -3.0],
    "two_pos_inf": [np.inf, np.inf, 0.0, 0.0],
    "pos_and_neg_inf": [np.inf, -np.inf, 0.0, 1.0],
    "all_neg_inf": [-np.inf, -np.inf, -np.inf, -np.inf],
    "nan": [np.nan, 0.0, 1.0, 2.0],
}


@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("row", list(_SPECIAL_ROWS), ids=list(_SPECIAL_ROWS))
@pytest.mark.parametrize("name", util.name_params(SOFTMAX_NAMES))
def test_softmax_special_rows_all_nan(name, row, dtype):
    """A row holding +inf, only -inf, or NaN gives all NaN (as PyTorch); other
    rows are unaffected."""
    x = np.array([_SPECIAL_ROWS[row], [0.0, 1.0, 2.0, 3.0]], dtype)
    got = util.forward(name, x)
    assert np.isnan(got[0]).all(), "%s(%r) = %r, expected all NaN" % (name, x[0], got[0])
    util.assert_close(got[1], util.ref_forward(name, x[1]), TOL[dtype]["rtol"], TOL[dtype]["atol"])
    # along axis 0 too
    got0 = util.forward(name, np.ascontiguousarray(x.T), {"axis": 0})
    assert np.isnan(got0[:, 0]).all() and not np.isnan(got0[:, 1]).any()


@pytest.mark.parametrize("dtype", FLOAT_PARAMS)
@pytest.mark.parametrize("name", util.name_params(SOFTMAX_NAMES))
def test_softmax_some_neg_inf(name, dtype):
    x = np.array([[-np.inf, 0.0, 1.0, -np.inf], [-np.inf, 5.0, -np.inf, -np.inf]], dtype)
    got = util.forward(name, x)
    want = util.ref_forward(name, x)
    assert not np.isnan(got).any()
    util.assert_close(got, want, TOL[dtype]["rtol"], TOL[dtype]["atol"], what=name)
    if lookup(name).name == "softmax":
        assert got[1].tolist() == [0.0, 1.0, 0.0, 0.0]
    else:
        assert got[1].tolist() == [-np.inf, 0.0, -np.inf, -np.inf]


@pytest.mark.parametrize("row", list(_SPECIAL_ROWS), ids=list(_SPECIAL_ROWS))
@pytest.mark.parametrize("name", util.name_params(SOFTMAX_NAMES))
def test_softmax_special_rows_match_torch(name, row):
    torch = pytest.importorskip("torch")
    x = np.array([_SPECIAL_ROWS[row], [-np.inf, 0.0, 1.0, -np.inf]], np.float64)
    fn = torch.softmax if lookup(name).name == "softmax" else torch.log_softmax
    want = fn(torch.from_numpy(x), dim=-1).numpy()
    util.assert_close(util.forward(name, x), want, 1e-13, 0, what="%s vs torch" % name)


# ------------------------------------------------- no warnings, no flags

_EXTREMES = {
    "extremes": [1e30, -1e30, 1e300, -1e300, np.inf, -np.inf, np.nan, 0.0],
    "large_finite": [1e30, -1e30, 1e300, -1e300, 3e38, -3e38, 65504.0, -1.0],
    # sums past the range: prelu's weight gradient (a channel of these), the
    # backwards' row sums
    "sum_overflow": [-1.7e308, -1.7e308, -1.7e308, -1.7e308, -3e38, -3e38, -3e38, -3e38],
}

_flags_after = util.flags_after


@pytest.mark.parametrize("dtype", [pytest.param(np.dtype(d), id=np.dtype(d).name)
                                   for d in (np.float16, np.float32, np.float64)])
@pytest.mark.parametrize("values", list(_EXTREMES))
@pytest.mark.parametrize("name,params", util.name_param_params())
def test_no_warnings_no_fp_flags(name, params, values, dtype):
    """Every function, forward and backward, on +-1e30, +-1e300, inf, nan
    and values whose sums overflow: no warning, no FloatingPointError under
    errstate(all='raise'), and no invalid/divide/overflow/underflow flag left
    set."""
    with np.errstate(all="ignore"):
        x = np.array(_EXTREMES[values], np.float64).astype(dtype)
    x, p = _shaped(name, x, params)
    dys = [np.ones(util.out_shape(name, x.shape, p), dtype)]
    if util.out_shape(name, x.shape, p) == x.shape:
        dys.append(x.ravel()[::-1].copy().reshape(x.shape))
        dys.append(x.copy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            y, flags = _flags_after(lambda: util.forward(name, x, p))
            assert flags == 0, "%s%r left FP flags 0x%x" % (name, p, flags)
            saved = x if lookup(name).saves != "y" else y
            for dy in dys:
                _, flags = _flags_after(lambda: util.backward(name, dy, saved, p))
                assert flags == 0, "%s_backward%r left FP flags 0x%x" % (name, p, flags)


# ---------------------------------------- the process's floating-point mode

# Run in a fresh interpreter: the floating-point mode before fastact is
# imported, after, after calling every function (threaded too), and whether
# subnormals survive -- in NumPy's own arithmetic (flush-to-zero / denormals-
# are-zero would flush them) and in fastact's threaded kernels.
_FP_MODE_SCRIPT = r'''
import ctypes, ctypes.util, json, platform, sys
import numpy as np

libm = ctypes.CDLL(ctypes.util.find_library("m"))

def control():
    """MXCSR's control bits (FTZ, DAZ, rounding, masks) and the x87 control word."""
    if platform.machine() not in ("x86_64", "AMD64") or not sys.platform.startswith("linux"):
        return None
    env = (ctypes.c_uint32 * 8)()          # glibc's x86-64 fenv_t: x87 env, then MXCSR
    libm.fegetenv(env)
    return [env[7] & ~0x3F, env[0] & 0xFFFF]

def subnormals_survive():
    ok = []
    for dt in (np.float32, np.float64):
        fi = np.finfo(dt)
        a = np.full(64, fi.tiny, dt) * dt(0.5)                  # FTZ would give 0
        b = np.full(64, fi.smallest_subnormal, dt) * dt(3)      # DAZ would give 0
        ok.append(bool((a > 0).all() and (b == 3 * fi.smallest_subnormal).all()))
    return ok

state = {"before": [control(), subnormals_survive()]}
# subnormal inputs and what tanh (x itself) and leaky_relu(alpha=0.5) (-3.5 -> -4
# subnormals, to even) give, built while the mode is known to be the default
SUB = {dt: (np.full(300_001, -7 * np.finfo(dt).smallest_subnormal, dt),
            np.full(300_001, -4 * np.finfo(dt).smallest_subnormal, dt)) for dt in (np.float32, np.float64)}
import fastact as fa
state["import"] = [control(), subnormals_survive()]
x = np.linspace(-5, 5, 300_001)
for op in fa.OPS:
    kw = {"weight": 0.25} if op.kind == "prelu" else {"pieces": 1} if op.kind == "maxout" else {}
    for dt in (np.float32, np.float64):
        for n in (1000, 300_001):
            for nt in (1, 2):
                with fa.threads(nt):
                    y = getattr(fa, op.name)(x[:n].astype(dt), **kw)
                    getattr(fa, op.name + "_backward")(np.ones_like(y), y, **kw)
state["calls"] = [control(), subnormals_survive()]
kernel_subnormals = []
for dt in (np.float32, np.float64):
    s, half = SUB[dt]
    with fa.threads(2):
        y1, y2 = fa.tanh(s), fa.leaky_relu(s, alpha=0.5)
    kernel_subnormals.append(bool(y1.tobytes() == s.tobytes() and y2.tobytes() == half.tobytes()))
state["kernels"] = kernel_subnormals
print(json.dumps(state))
'''


def test_floating_point_mode_unchanged(tmp_path):
    """Importing fastact and calling every function (1 and 2 threads) leaves
    the process's floating-point mode alone: MXCSR's flush-to-zero,
    denormals-are-zero and rounding bits and the x87 control word (x86-64
    Linux), and NumPy's subnormal arithmetic; the kernels themselves keep
    subnormals, on every thread."""
    import json

    r = util.run_python(tmp_path, _FP_MODE_SCRIPT)
    assert r.returncode == 0, r.stderr[-2000:]
    state = json.loads(r.stdout.strip().splitlines()[-1])
    assert state["before"][1] == [True, True], state
    assert state["import"] == state["before"], "importing fastact changed the FP mode: %s" % state
    assert state["calls"] == state["before"], "calling fastact changed the FP mode: %s" % state
    assert state["kernels"] == [True, True], "fastact's kernels flushed subnormals: %s" % state


def test_build_uses_no_fast_math():
    """No compile flag that changes floating-point semantics or (through
    crtfastmath.o) the process's flush-to-zero mode."""
    from fastact import _build_info

    banned = ("-ffast-math", "-Ofast", "-funsafe-math-optimizations", "-ffinite-math-only",
              "-fno-signed-zeros", "-freciprocal-math", "-fassociative-math", "-mdaz-ftz")
    flags = list(_build_info.COMPILE_ARGS) + list(_build_info.LINK_ARGS) + \
        [f for v in _build_info.VARIANTS.values() for f in v]
    assert not [f for f in flags if f in banned], flags
