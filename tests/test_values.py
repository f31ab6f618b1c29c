"""Values: every function and alias, forward and backward, float32 and float64,
against fastact.reference (float64 NumPy) and against finite differences of
the reference forward."""

import numpy as np
import pytest

import fastact as fa
from fastact import reference as ref
from fastact._registry import lookup
from fastact._accuracy import ulp_error

import util
from util import TOL

SHAPES = {"prelu": (8, 5, 30), "rowwise": (40, 30), "maxout": (20, 60)}


def values_input(name, dtype, rng, params, n=1200, avoid_kinks=None):
    op = lookup(name)
    x = util.sample(op, dtype, rng, n=n, avoid_kinks=avoid_kinks)
    shape = SHAPES.get(op.kind)
    if shape is not None:
        x = x[: int(np.prod(shape))]
        if x.size < np.prod(shape):
            x = np.concatenate([x, rng.uniform(*op.domain, int(np.prod(shape)) - x.size).astype(dtype)])
        x = x.reshape(shape)
    return x, util.fit_params(op, x.shape, params)


# ----------------------------------------------------------------- forward

@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", util.name_param_params())
def test_forward_matches_reference(name, params, dtype, rng):
    x, p = values_input(name, dtype, rng, params)
    got = util.forward(name, x, p)
    assert isinstance(got, np.ndarray) and got.dtype == dtype and got.shape == util.out_shape(name, x.shape, p)
    util.check_forward(name, p, x, got, "%s%r %s forward" % (name, p, dtype))


# ---------------------------------------------------------------- backward

@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", util.name_param_params())
def test_backward_matches_reference(name, params, dtype, rng):
    """(a) dx against dy * reference.derivative (elementwise), or the
    reference backward of softmax/log_softmax (at the same y), maxout, prelu,
    rrelu (training: with the seed's slopes)."""
    x, p = values_input(name, dtype, rng, params)
    yshape = util.out_shape(name, x.shape, p)
    dy = rng.uniform(-2, 2, yshape).astype(dtype)
    dy.flat[:3] = [1.0, -1.0, 0.5]
    saved = util.saved_for(name, x, p)
    got = util.backward(name, dy, saved, p)
    util.check_backward(name, p, x, dy, saved, got, "%s_backward%r %s" % (name, p, dtype))


def _fd_step(x):
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    xp, xm = x + h, x - h
    return xp, xm, xp - xm


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", util.name_param_params(
    lambda op, name, p: op.kind in ("elementwise", "rrelu")))
def test_backward_matches_finite_differences(name, params, dtype, rng):
    """(b) dx against dy * a central difference of the float64 reference
    forward, away from the kinks."""
    x = util.sample(name, dtype, rng, n=500, avoid_kinks=util.kinks(name, params))
    p = dict(params)
    dy = rng.uniform(-2, 2, x.shape).astype(dtype)
    saved = util.saved_for(name, x, p)
    got = util.backward(name, dy, saved, p)
    xd = x.astype(np.float64)
    xp, xm, step = _fd_step(xd)
    with np.errstate(all="ignore"):
        F = lambda v: util.ref_forward(name, v, p)  # noqa: E731  (rrelu training: the seed's slopes)
        fd = (F(xp) - F(xm)) / step
        f0 = np.abs(F(xd))
    d = np.abs(dy.astype(np.float64))
    want = dy.astype(np.float64) * fd
    atol = d * (1e-8 + 1e-9 * f0 / np.maximum(1.0, np.abs(xd))) + util.y_error_atol(name, xd, p, dy, saved)
    util.assert_close(got, want, 2e-6, atol, x=x, what="%s_backward%r %s vs finite differences" % (name, p, dtype))


def _batched_fd(G, x, h=1e-6):
    """Gradient of the scalar function G (vectorised over a leading axis) at x."""
    n = x.size
    e = np.eye(n).reshape((n,) + x.shape)
    hs = h * np.maximum(1.0, np.abs(x))
    xp = x[None] + e * hs[None]
    xm = x[None] - e * hs[None]
    steps = (xp - xm).reshape(n, -1)[np.arange(n), np.arange(n)]
    return ((G(xp) - G(xm)) / steps).reshape(x.shape)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("name", util.name_params([n for op, n in util.NAMES if op.kind == "rowwise"]))
def test_rowwise_backward_finite_differences(name, axis, dtype, rng):
    x = rng.uniform(-4, 4, (3, 7)).astype(dtype)
    dy = rng.uniform(-2, 2, x.shape).astype(dtype)
    p = {"axis": axis}
    y = util.forward(name, x, p)
    got = util.backward(name, dy, y, p)
    dyd = dy.astype(np.float64)
    G = lambda v: np.sum(util.ref_forward(name, v, {"axis": axis + 1 if axis >= 0 else axis}) * dyd,  # noqa: E731
                         axis=(1, 2))
    fd = _batched_fd(G, x.astype(np.float64))
    atol = (1e-8 if dtype == np.float64 else 2e-6) * np.max(np.abs(dyd))
    util.assert_close(got, fd, 2e-6, atol, x=x, what="%s_backward(axis=%d) %s vs finite differences" % (name, axis, dtype))


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name", util.name_params([n for op, n in util.NAMES if op.kind == "maxout"]))
def test_maxout_backward_finite_differences_and_ties(name, dtype, rng):
    x = rng.uniform(-3, 3, (4, 12)).astype(dtype)
    dy = rng.uniform(-2, 2, (4, 4)).astype(dtype)
    got = util.backward(name, dy, x, {"pieces": 3})
    dyd = dy.astype(np.float64)
    G = lambda v: np.sum(ref.maxout(v, 3, axis=-1) * dyd, axis=(1, 2))  # noqa: E731
    util.assert_close(got, _batched_fd(G, x.astype(np.float64)), 1e-6, 1e-8, what="maxout_backward vs fd")
    # ties: the gradient goes to the first maximum of each group, once
    xt = rng.integers(0, 3, (6, 12)).astype(dtype)
    dyt = rng.uniform(1, 2, (6, 3)).astype(dtype)
    got = util.backward(name, dyt, xt, {"pieces": 4})
    util.assert_same(got, ref.maxout_backward(dyt, xt, 4).astype(dtype), "maxout_backward with ties")
    assert np.count_nonzero(got) == dyt.size
    util.assert_same(util.forward(name, xt, {"pieces": 4}), ref.maxout(xt, 4).astype(dtype), "maxout with ties")


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("pieces", [1, 2, 3, 4, 5, 7])
def test_maxout_groups_first_maximum_first_nan(pieces, dtype, rng):
    """Every group size (2, 3 and 4 have loops of their own): the group's first
    maximum, -0.0 and +0.0 in the order given, the first NaN (its payload) when
    a group holds one; over more than one block of groups."""
    x = rng.integers(-2, 3, (3, 1500 * pieces)).astype(dtype)
    x[x == 0] = np.where(rng.random(np.count_nonzero(x == 0)) < 0.5, -0.0, 0.0).astype(dtype)
    nans = np.array([np.nan, -np.nan], dtype)
    x.flat[rng.choice(x.size, x.size // 50, replace=False)] = nans[rng.integers(0, 2, x.size // 50)]
    g = x.reshape(3, -1, pieces).astype(np.float64)
    want = np.empty(g.shape[:2])
    for i in np.ndindex(*g.shape[:2]):          # the rule, element by element
        top = g[i][0]
        for v in g[i][1:]:
            if v > top or (np.isnan(v) and not np.isnan(top)):
                top = v
        want[i] = top
    got = fa.maxout(x, pieces)
    assert np.array_equal(got, want.astype(dtype), equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want.astype(dtype)))


@pytest.mark.parametrize("dtype", util.dtype_params())
def test_prelu_fast_path_is_the_general_path(dtype, rng):
    """The common prelu call (plain arrays, a weight per channel, an int axis)
    runs in C; with the axis as a NumPy integer it takes the Python path: the
    same bits forward and backward (dweight too), fresh, in place and into out."""
    for shape, axis in [((16, 64), 1), ((3, 5, 300), 1), ((7,), 0), ((4, 3, 2), -1), ((2, 3), 0)]:
        x = rng.uniform(-3, 3, shape).astype(dtype)
        dy = rng.uniform(-2, 2, shape).astype(dtype)
        w = rng.uniform(-0.5, 0.7, shape[axis]).astype(dtype)
        slow = np.int64(axis)
        want = fa.prelu(x, w, axis=slow)
        util.assert_same(fa.prelu(x, w, axis=axis), want, "prelu %s" % (shape,))
        xx = x.copy()
        assert fa.prelu(xx, w, axis=axis, out=xx) is xx
        util.assert_same(xx, want, "prelu in place")
        wdx, wdw = fa.prelu_backward(dy, x, w, axis=slow)
        for out in ("new", "other", "dy"):
            d = dy.copy()
            o = {"new": None, "other": np.empty_like(x), "dy": d}[out]
            dx, dw = fa.prelu_backward(d, x, w, axis=axis, out=o)
            util.assert_same(dx, wdx, "prelu_backward dx %s out=%s" % (shape, out))
            util.assert_same(dw, wdw, "prelu_backward dweight %s" % (shape,))
            assert dw.dtype == dtype and dw.shape == w.shape


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("form", ["float", "np.float64", "np.float32", "0-d", "1-entry", "1-entry-other-dtype", "int"])
def test_prelu_one_weight_fast_path(form, dtype, rng):
    """One weight for the whole array, as a Python or NumPy scalar or an array
    of one entry: the C path gives the Python path's bits (an axis that is a
    NumPy integer takes that one) and the reference's values, forward and
    backward; dweight has the weight's shape and x's dtype; the axis is not
    used (out of range is fine, as on the general path)."""
    value = -0.3 if form != "int" else -1
    weight = {"float": value, "np.float64": np.float64(value), "np.float32": np.float32(value),
              "0-d": np.array(value, dtype), "1-entry": np.array([value], dtype),
              "1-entry-other-dtype": np.array([value], np.float64 if dtype == np.float32 else np.float32),
              "int": value}[form]
    wk = np.float64(np.asarray(weight, dtype))        # the weight in x's dtype
    t = TOL[dtype]
    for shape in [(7,), (10, 100), (3, 5, 300), (2, 4500)]:
        x = rng.uniform(-3, 3, shape).astype(dtype)
        dy = rng.uniform(-2, 2, shape).astype(dtype)
        want = fa.prelu(x, weight, axis=np.int64(1))
        util.assert_same(fa.prelu(x, weight), want, "prelu %s %s" % (form, shape))
        util.assert_same(fa.prelu(x, weight, axis=5), want, "prelu %s %s axis=5" % (form, shape))
        util.assert_close(want, ref.prelu(x.astype(np.float64), wk, 1), t["rtol"], t["atol"],
                          what="prelu %s vs reference" % form)
        o = np.empty_like(x)
        assert fa.prelu(x, weight, out=o) is o
        util.assert_same(o, want, "prelu %s out=" % form)
        wdx, wdw = fa.prelu_backward(dy, x, weight, axis=np.int64(1))
        for out in ("new", "other", "dy"):
            d = dy.copy()
            o = {"new": None, "other": np.empty_like(x), "dy": d}[out]
            dx, dw = fa.prelu_backward(d, x, weight, out=o)
            util.assert_same(dx, wdx, "prelu_backward dx %s out=%s" % (form, out))
            util.assert_same(dw, wdw, "prelu_backward dweight %s" % form)
            assert dw.dtype == dtype and dw.shape == np.shape(weight), (dw.dtype, dw.shape)
        rdx, rdw = ref.prelu_backward(dy.astype(np.float64), x.astype(np.float64), wk, 1)
        util.assert_close(wdx, rdx, t["rtol"], t["atol"], what="prelu_backward dx %s vs reference" % form)
        util.assert_close(np.float64(wdw), rdw, 1e-6, 1e-6 * np.sum(np.abs(x.astype(np.float64) * dy)),
                          what="prelu_backward dweight %s vs reference" % form)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("weight", [np.inf, -np.inf, np.nan, 1e300, np.array([np.nan]), np.array(np.inf)],
                         ids=["inf", "-inf", "nan", "1e300", "[nan]", "0-d inf"])
def test_prelu_one_weight_not_finite(weight, dtype):
    """A weight that is not finite in x's dtype (1e300 is inf in float32)
    raises, on the C path's inputs too, and writes nothing."""
    x = np.linspace(-2, 2, 50).astype(dtype)
    o = np.full_like(x, 7)
    if dtype == np.float64 and np.isfinite(weight).all():
        assert np.isfinite(fa.prelu(x, weight)).all()
        return
    with np.errstate(all="raise"):
        with pytest.raises(ValueError, match="prelu.*finite"):
            fa.prelu(x, weight, out=o)
        with pytest.raises(ValueError, match="prelu_backward.*finite"):
            fa.prelu_backward(x, x, weight, out=o)
    assert (o == 7).all()


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("weight", ["scalar", "channels"])
@pytest.mark.parametrize("name", util.name_params([n for op, n in util.NAMES if op.kind == "prelu"]))
def test_prelu_backward_finite_differences(name, weight, dtype, rng):
    x = rng.uniform(-3, 3, (3, 4, 5)).astype(dtype)
    x[np.abs(x) < 1e-3] = 0.5
    dy = rng.uniform(-2, 2, x.shape).astype(dtype)
    w = np.float64(-0.3) if weight == "scalar" else np.linspace(-0.5, 0.7, 4)
    dx, dw = util.backward(name, dy, x, {"weight": w})
    xd, dyd = x.astype(np.float64), dy.astype(np.float64)
    fdx = _batched_fd(lambda V: np.array([np.sum(ref.prelu(v, w, 1) * dyd) for v in V]), xd)
    tol = 1e-8 if dtype == np.float64 else 2e-6
    util.assert_close(dx, fdx, 2e-6, tol, what="prelu_backward dx vs fd")
    wv = np.atleast_1d(np.asarray(w, np.float64))
    fdw = np.empty(wv.shape)
    for c in range(wv.size):
        h = 1e-6
        wp, wm = wv.copy(), wv.copy()
        wp[c] += h
        wm[c] -= h
        fdw[c] = (np.sum(ref.prelu(xd, wp.reshape(np.shape(w)), 1) * dyd)
                  - np.sum(ref.prelu(xd, wm.reshape(np.shape(w)), 1) * dyd)) / (wp[c] - wm[c])
    assert dw.shape == np.shape(w)
    util.assert_close(np.reshape(dw, -1), fdw, 2e-6, tol * np.sum(np.abs(xd * dyd)), what="prelu dweight vs fd")


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("training", [False, True], ids=["eval", "training"])
def test_rrelu_forward_backward_against_slopes(training, dtype, rng):
    """rrelu against reference.rrelu / rrelu_backward with the slopes the seed
    gives (training) or the mean slope (eval)."""
    x = rng.uniform(-5, 5, 2001).astype(dtype)
    dy = rng.uniform(-2, 2, x.shape).astype(dtype)
    lower, upper, seed = 0.05, 0.4, 99
    p = dict(lower=lower, upper=upper, training=training, seed=seed)
    slopes = (fa._special.rrelu_slopes(x.size, lower, upper, seed) if training
              else np.full(x.size, (lower + upper) / 2))
    t = TOL[dtype]
    util.assert_close(fa.rrelu(x, **p), ref.rrelu(x, slopes), t["rtol"], t["atol"], x=x, what="rrelu")
    util.assert_close(fa.rrelu_backward(dy, x, **p), ref.rrelu_backward(dy, x, slopes), t["rtol"], t["atol"],
                      x=x, what="rrelu_backward")


@pytest.mark.parametrize("threshold", [0.3, -0.3, -5.05, 1e-40, -1e-40, 3.0000001, 2.9999999, 0.0, 1e39, -1e39])
def test_softplus_float32_threshold_is_exact(threshold):
    """float32 softplus compares beta x with the double threshold exactly, also
    where the threshold is no float (rounded up or down to one): at the floats
    next to it, the forward is x itself exactly where x > threshold and log1p(e^x)
    elsewhere, the backward dy itself and dy sigmoid(x) elsewhere."""
    with np.errstate(over="ignore"):
        t32 = np.float32(threshold)             # 1e39 rounds to inf
    near = [np.nextafter(t32, np.float32(-np.inf)), t32, np.nextafter(t32, np.float32(np.inf))]
    x = np.array(near + [np.float32(-np.inf), np.float32(np.inf)], np.float32)
    above = x.astype(np.float64) > threshold
    dy = np.full(x.shape, 3.0, np.float32)
    y = fa.softplus(x, threshold=threshold)
    dx = fa.softplus_backward(dy, x, threshold=threshold)
    xd = x.astype(np.float64)
    with np.errstate(over="ignore"):
        sp = np.logaddexp(0.0, xd)
        sg = 3.0 / (1.0 + np.exp(-xd))
    for i in range(x.size):
        if above[i]:
            assert y[i] == x[i] and dx[i] == 3.0, (threshold, x[i], y[i], dx[i])
        else:
            assert y[i] == np.float32(sp[i]) or abs(y[i] - sp[i]) <= 2 * abs(np.spacing(np.float32(sp[i]))), \
                (threshold, x[i], y[i], sp[i])
            assert abs(dx[i] - sg[i]) <= 4 * np.spacing(np.float32(max(sg[i], 1e-38))), (threshold, x[i], dx[i], sg[i])


# ------------------------------------------------- review findings (values)

def _ulps(got, exact, dtype):
    """|got - exact| in ULPs of the exact value (exact: mpmath mpf or float)."""
    import mpmath as mp

    e = float(exact)
    if not abs(e) <= float(np.finfo(dtype).max):   # beyond the type: inf of e's sign
        return 0.0 if got == np.copysign(np.inf, e) else np.inf
    return float(abs(mp.mpf(float(got)) - exact) / mp.mpf(float(np.spacing(np.abs(np.asarray(e, dtype))))))


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("alpha", [-0.7, -1.0, -3.0])
def test_celu_negative_alpha_against_mpmath(alpha, dtype):
    """celu with alpha < 0 (a kernel of its own: x / alpha > 0 where x < 0, so
    the exps grow): forward alpha expm1(x / alpha) and backward exp(x / alpha)
    against mpmath, up to where they overflow to -inf / inf; and the limits."""
    import mpmath as mp

    mp.mp.prec = 120
    big = 88.0 if dtype == np.float32 else 709.0
    x = np.concatenate([-np.geomspace(1e-6, 0.999 * big * abs(alpha), 300), [-0.5, -2.0]]).astype(dtype)
    y = fa.celu(x, alpha=alpha)
    g = fa.celu_backward(np.ones_like(x), x, alpha=alpha)
    worst_f = worst_b = 0.0
    for v, yf, gb in zip(x.astype(float), y, g):
        q = mp.mpf(v) / alpha
        worst_f = max(worst_f, _ulps(yf, alpha * mp.expm1(q), dtype))
        worst_b = max(worst_b, _ulps(gb, mp.exp(q), dtype))
    # float64: fa_expm1 (<= 1.87 ULP) and the product; the registry's doc says 2.5
    assert worst_f <= (2.0 if dtype == np.float32 else 2.5) and worst_b <= 2.0, (worst_f, worst_b)
    # beyond: -inf and inf (not the decaying branch's -alpha); nan stays nan
    top = float(np.log(np.finfo(dtype).max)) + 2.0       # x / alpha past overflow, also times |alpha|
    far = np.array([-top * abs(alpha), -np.finfo(dtype).max / 2, -np.inf], dtype)
    assert np.all(fa.celu(far, alpha=alpha) == -np.inf)
    assert np.all(fa.celu_backward(np.ones_like(far), far, alpha=alpha) == np.inf)
    assert np.isnan(fa.celu(np.array([np.nan], dtype), alpha=alpha)).all()
    assert np.isnan(fa.celu_backward(np.ones(1, dtype), np.array([np.nan], dtype), alpha=alpha)).all()
    # x > 0 is x, derivative 1
    pos = np.array([0.5, 3.0, np.inf], dtype)
    assert np.array_equal(fa.celu(pos, alpha=alpha), pos)
    assert np.array_equal(fa.celu_backward(np.ones_like(pos), pos, alpha=alpha), np.ones_like(pos))


@pytest.mark.parametrize("dtype", util.dtype_params())
def test_elu_alpha_negative_zero_keeps_zero_signs(dtype):
    """alpha = -0.0 (allowed: 'nonneg') gives alpha * expm1(x) at x = +-0, as
    the reference: -0.0 * expm1(-0) = +0, -0.0 * expm1(+0) = -0; alpha = 0.0
    and the default alike."""
    x = np.array([-0.0, 0.0], dtype)
    for alpha in (-0.0, 0.0, 1.0, 0.3):
        want = ref.forward("elu", x.astype(np.float64), alpha=alpha)
        got = fa.elu(x, alpha=alpha)
        assert np.array_equal(np.signbit(got), np.signbit(want)), (alpha, got, want)


def test_softmax_float64_tiny_results_correctly_rounded():
    """float64 softmax near the smallest normal: rows of zeros and one entry
    in [-707.5, -705], whose result is just above 2^-1022.  The division
    through a double-double reciprocal misrounded these (num * rl is
    subnormal there): 1.78 ULP for the first row, 1.46 over the others.  The
    result is exp(v) / (k + exp(v)): the exp within 1 ULP (0.98 seen on this
    range) and the quotient rounded once, 1.5 ULP in all (1.25 measured with
    the Taylor polynomial the exp had until fa_exp_poly, 1.45 with it, 0.78
    for the first row)."""
    import mpmath as mp

    mp.mp.prec = 160
    rng = np.random.default_rng(3)
    rows = [np.array([0.0] * 7 + [-705.9386632698886])]
    for k in (3, 5, 7, 11):
        for v in rng.uniform(-707.5, -705.0, 300):
            rows.append(np.array([0.0] * k + [v]))
    worst = 0.0
    for row in rows:
        got = fa.softmax(row[None, :])[0, -1]
        xs = [mp.mpf(float(t)) for t in row]
        exact = mp.exp(xs[-1]) / mp.fsum(mp.exp(t) for t in xs)
        if exact >= mp.mpf(2) ** -1022:
            worst = max(worst, _ulps(got, exact, np.float64))
    assert worst <= 1.5, worst


# float64 results that are normal where an intermediate exp is subnormal: x
# e^x for x in [-715, -708.4] (silu, mish; silu at beta: beta x there), x
# Phi(x) and Phi(x) + x phi(x) near x = -37.6 (gelu), x sigma(w) with w
# there (the tanh form), e^(beta x) / beta for beta < 1 (softplus).  The
# exp's subnormal rounding cost these up to 34000 ULP before the kernels
# took it scaled by 2^64.
_SUBNORMAL_BANDS = [
    ("silu", {}, -715.5, -708.0),
    ("silu", {"beta": 0.01}, -71550.0, -70800.0),
    ("silu", {"beta": -1.0}, 708.0, 715.5),
    ("mish", {}, -715.5, -708.0),
    ("gelu", {}, -37.75, -37.3),
    ("gelu", {"approximate": "tanh"}, -21.4, -20.8),
    ("softplus", {"beta": 0.01}, -71500.0, -70800.0),
]


@pytest.mark.parametrize("name,params,lo,hi", _SUBNORMAL_BANDS,
                         ids=["%s%s" % (c[0], c[1] or "") for c in _SUBNORMAL_BANDS])
def test_float64_normal_results_of_subnormal_exps(name, params, lo, hi):
    import mpmath as mp
    from fastact._accuracy import _mp_value

    mp.mp.prec = 300
    op = lookup(name)
    p = {q.name: q.default for q in op.params}
    p.update(params)
    x = np.linspace(lo, hi, 61)
    y = getattr(fa, name)(x, **params)
    g = getattr(fa, name + "_backward")(np.ones_like(x), x, **params)
    tiny = np.finfo(np.float64).tiny
    worst_f = worst_b = 0.0
    checked = 0
    for v, yf, gb in zip(x, y, g):
        f = lambda t: _mp_value(mp, name, t, p)      # noqa: E731
        exact, dexact = f(mp.mpf(v)), mp.diff(f, mp.mpf(v))
        if abs(exact) >= tiny:
            worst_f = max(worst_f, _ulps(yf, exact, np.float64))
            checked += 1
        if abs(dexact) >= tiny:
            worst_b = max(worst_b, _ulps(gb, dexact, np.float64))
    assert checked >= 20                                 # the band is where the test looks
    assert worst_f <= op.ulp[1] and worst_b <= 4.0, (worst_f, worst_b)


# float32 results that are normal where an intermediate is subnormal in
# float32: e^(beta x) / beta for beta < 1 (softplus; up to 47 ULP before its
# kernel took e from fa_expn2's 2^32-scaled pair), and celu's alpha expm1(x /
# alpha) for x near the smallest normal and alpha > 1 (x / alpha subnormal: up
# to 12 ULP before celu returned x itself where |x| < alpha 2^-26)
_SUBNORMAL_BANDS_F32 = [
    ("softplus", {"beta": 0.01}, -10400.0, -8700.0),
    ("softplus", {"beta": 0.3}, -346.0, -290.0),
    ("celu", {"alpha": 10.0}, -4e-38, -1.1754944e-38),
    ("celu", {"alpha": 3.0}, -4e-38, -1.1754944e-38),
]


@pytest.mark.parametrize("name,params,lo,hi", _SUBNORMAL_BANDS_F32,
                         ids=["%s%s" % (c[0], c[1]) for c in _SUBNORMAL_BANDS_F32])
def test_float32_normal_results_of_subnormal_intermediates(name, params, lo, hi):
    x = np.linspace(lo, hi, 20001).astype(np.float32)
    exact = ref.forward(name, x.astype(np.float64), **params)
    normal = np.abs(exact) >= np.finfo(np.float32).tiny
    assert normal.sum() >= 1000                          # the band is where the test looks
    err = ulp_error(getattr(fa, name)(x, **params), exact, np.float32)
    assert err[normal].max() <= lookup(name).ulp[0], err[normal].max()


def test_softsign_backward_float32_within_2_ulp():
    """dy / (1 + |x|)^2 rounded three times in float was 3.46 ULP off; in
    double, rounded once, it is within 2."""
    from fastact._accuracy import float32_inputs, _summarise

    x = float32_inputs((-40.0, 40.0), n_bits=1 << 19, n_domain=1 << 18)
    rng = np.random.default_rng(3)
    for dy in (np.ones_like(x), rng.standard_normal(x.size).astype(np.float32)):
        exact = dy.astype(np.float64) * ref.derivative("softsign", x.astype(np.float64))
        r = _summarise(x, fa.softsign_backward(dy, x).astype(np.float64), exact, np.float32)
        assert r["max_ulp"] <= 2.0 and r["subnormal_ok"], r


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_softsign_backward_huge_x(dtype):
    """dy / (1 + |x|)^2 where (1 + |x|)^2 leaves the dtype's range but the
    result does not: squared in float beyond |x| = 2^64 (float32, v3 and v4)
    and in double beyond 2^512 (float64) it gave 0 (dy = 1e30, x = 1e20:
    1e-10).  Against mpmath: within 2 (float32) / 4 (float64) ULP where the
    result is normal, below the smallest normal where it is not."""
    mpmath = pytest.importorskip("mpmath")
    fi = np.finfo(dtype)
    rng = np.random.default_rng(6)
    n = 3000
    sign = rng.choice([-1.0, 1.0], (2, n))
    x = (np.exp(rng.uniform(np.log(1e15), np.log(float(fi.max)), n)) * sign[0]).astype(dtype)
    dy = (np.exp(rng.uniform(np.log(1e-3), np.log(float(fi.max)), n)) * sign[1]).astype(dtype)
    with mpmath.workprec(120):
        exact = np.array([float(mpmath.mpf(float(d)) / (1 + abs(mpmath.mpf(float(v)))) ** 2)
                          for d, v in zip(dy, x)])
    got = fa.softsign_backward(dy, x).astype(np.float64)
    normal = np.abs(exact) >= float(fi.tiny)
    assert normal.sum() > n // 4
    err = ulp_error(got, exact, dtype)
    assert err[normal].max() <= (2.0 if dtype == np.float32 else 4.0), err[normal].max()
    assert np.abs(got - exact)[~normal].max() < float(fi.tiny)


@pytest.mark.parametrize("beta", [2.5, 0.3, -3.0, 100.0])
def test_softplus_backward_float32_beta_within_2_ulp(beta):
    """dy sigma(beta x) at beta != 1 through a lean sigma pair was 3.06 ULP
    (3.7 with a random dy) off; now dy sigma(v) in one division."""
    from fastact._accuracy import float32_inputs, _summarise

    x = float32_inputs((-40.0 / abs(beta), 40.0 / abs(beta)), n_bits=1 << 19, n_domain=1 << 18)
    rng = np.random.default_rng(4)
    for dy in (np.ones_like(x), rng.standard_normal(x.size).astype(np.float32)):
        exact = dy.astype(np.float64) * ref.derivative("softplus", x.astype(np.float64), beta=beta)
        r = _summarise(x, fa.softplus_backward(dy, x, beta=beta).astype(np.float64), exact, np.float32)
        assert r["max_ulp"] <= 2.0 and r["subnormal_ok"] and not r["nonfinite_mismatches"], r


def test_gelu_backward_float32_normal_below_the_forward_cut():
    """Phi(x) + x phi(x) is a normal float32 down to x = -13.34 (7.6e-38 at
    -13.2, where the forward's cut is); it was 0 below -13.2, now computed with
    2^(n + 64) and scaled back last."""
    x = np.linspace(-13.34, -13.2, 2001).astype(np.float32)
    exact = ref.derivative("gelu", x.astype(np.float64))
    assert (np.abs(exact) >= np.finfo(np.float32).tiny).all()
    err = ulp_error(fa.gelu_backward(np.ones_like(x), x), exact, np.float32)
    assert err.max() <= 4.0, err.max()


def test_celu_float64_tiny_x():
    """celu(x) = x (1 + x / (2 alpha) + ..) rounds to x for |x| < alpha 2^-55;
    x / alpha subnormal there cost up to 5 ULP (alpha = 10)."""
    x = -np.linspace(np.finfo(np.float64).tiny, 1e-306, 2001)
    for alpha in (10.0, 3.0, 0.7):
        util.assert_same(fa.celu(x, alpha=alpha), x, "celu(x, alpha=%g)" % alpha)


@pytest.mark.parametrize("alpha", [0.7, 0.1, 3.0])
def test_celu_float64_carries_x_over_alpha(alpha):
    """celu's exp(x / alpha) with x / alpha's rounding carried: the backward
    (the exp itself, where an error d in the argument is d relative) was off
    by up to 16 ULP for alpha not a power of two, the forward by 2.5."""
    import mpmath as mp

    mp.mp.prec = 120
    x = -np.geomspace(1e-3, 30 * alpha, 400)
    y = fa.celu(x, alpha=alpha)
    g = fa.celu_backward(np.ones_like(x), x, alpha=alpha)
    worst_f = max(_ulps(a, alpha * mp.expm1(mp.mpf(v) / alpha), np.float64) for v, a in zip(x, y))
    worst_b = max(_ulps(b, mp.exp(mp.mpf(v) / alpha), np.float64) for v, b in zip(x, g))
    assert worst_f <= 2.0 and worst_b <= 1.0, (worst_f, worst_b)


# ------------------------------------------------------------- tame loops

# a call that runs each kernel of TAME_LOOPS (_registry.py)
_TAME_CALLS = {"silu_unit": ("silu", {})}


def test_tame_calls_cover_the_registry():
    from fastact._registry import TAME_LOOPS
    assert {loop.rsplit("_", 2)[0] for loop in TAME_LOOPS} <= set(_TAME_CALLS)


def _tame_cases():
    from fastact._registry import TAME_LOOPS
    for loop, bound in sorted(TAME_LOOPS.items()):
        kernel, direction, dt = loop.rsplit("_", 2)
        yield pytest.param(kernel, direction, np.float32 if dt == "f32" else np.float64, bound, id=loop)


@pytest.mark.parametrize("kernel,direction,dtype,bound", list(_tame_cases()))
def test_tame_form_is_the_full_kernel(kernel, direction, dtype, bound, rng):
    """A block of 2048 whose |x| all lie within the bound takes the tame form,
    one with a value beyond it (or nan) the full kernel: the same bits for
    the values they share, the bound itself included; and both agree with
    the bias loops (fastact.bias_act, always the full kernel)."""
    name, params = _TAME_CALLS[kernel]
    x = rng.uniform(-bound, bound, 4096).astype(dtype)
    x[[5, 9, 2100]] = [bound, -bound, 0.0]
    x[[7, 11]] = np.nextafter(np.array([bound, -bound], dtype), np.zeros(2, dtype))
    dy = rng.standard_normal(x.size).astype(dtype)
    run = ((lambda v: util.forward(name, v, params)) if direction == "fwd"
           else (lambda v: util.backward(name, dy, v, params)))
    tame = run(x)
    for outlier in (np.nextafter(dtype(bound), dtype(np.inf)), -np.inf, np.nan):
        for at in (0, 2047, 2048, 4095):
            xo = x.copy()
            xo[at] = outlier
            full = run(xo)
            keep = np.arange(x.size) != at
            np.testing.assert_array_equal(full[keep], tame[keep], err_msg="%s %r at %d" % (kernel, outlier, at))
    if direction == "fwd":
        np.testing.assert_array_equal(fa.bias_act(x.reshape(2, -1), np.zeros(x.size // 2, dtype), name, **params),
                                      tame.reshape(2, -1))
