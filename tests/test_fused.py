"""bias_act, linear and activity monitoring (fastact._fused) against plain NumPy.

Every elementwise activation of the registry (every name and alias, with its
parameter sets) goes through bias_act and linear, forward and backward,
float32 and float64, bias on the first and on the last axis:

- the forward equals ``fa.<act>(x + b)`` bit for bit (NumPy's add, rounded to
  the dtype, then the activation: what a user would write), and matches the
  float64 reference ``fastact.reference`` at x + b within the suite's
  tolerances;
- the backward's dx matches ``dy * reference.derivative(x + b)`` and dbias the
  float64 sum of dx over the other axes;
- linear matches ``act(x @ W.T + b)`` with NumPy's matmul;
- reductions (dbias, counts) are bitwise independent of the thread count;
- planted dead units and saturated units are found exactly.
"""

import numpy as np
import pytest

import fastact as fa
from fastact import reference as ref
from fastact._registry import OPS, lookup

import util

ELEMENTWISE = util.name_param_params(lambda op, name, p: util.is_elementwise_like(name, p))
MONITORED = [op.name for op in OPS if op.monitor]

# (shape, axis): bias on the last axis (tiles), on the first (segments of >= 256
# elements, and short ones), on a middle axis (NCHW channels)
LAYOUTS = [((37, 11), -1), ((11, 37), 0), ((3, 5, 300), 1), ((2, 3, 4, 5), 1), ((6, 300), 0), ((4097,), 0)]
LAYOUT_IDS = ["%s-axis%d" % ("x".join(map(str, s)), a) for s, a in LAYOUTS]


def _bias_shape(shape, axis):
    shp = [1] * len(shape)
    shp[axis] = shape[axis]
    return shp


def _inputs(name, params, shape, axis, dtype, rng):
    lo, hi = lookup(name).domain
    x = rng.uniform(max(lo, -12), min(hi, 12), shape).astype(dtype)
    b = rng.uniform(-1, 1, shape[axis]).astype(dtype)
    pre = x + b.reshape(_bias_shape(shape, axis))     # what NumPy computes: rounded to dtype
    assert pre.dtype == dtype
    return x, b, pre


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", ELEMENTWISE)
def test_bias_act_fast_path_is_the_general_path(name, params, dtype, rng):
    """The common call (axis=-1, plain arrays) runs in C; the same call with
    the axis spelled positively takes the Python path: the same bits, for a
    fresh result, out=x and another out, with and without a bias; and calls
    the C path declines (a scalar bias, partial overlap) give the same values."""
    x, b, _ = _inputs(name, params, (9, 70), -1, dtype, rng)
    for bias in (b, None):
        want = fa.bias_act(x, bias, name, axis=1, **params)
        util.assert_same(fa.bias_act(x, bias, name, **params), want, "fresh result")
        out = np.empty_like(x)
        assert fa.bias_act(x, bias, name, out=out, **params) is out
        util.assert_same(out, want, "out")
        xx = x.copy()
        assert fa.bias_act(xx, bias, name, out=xx, **params) is xx
        util.assert_same(xx, want, "in place")
    util.assert_same(fa.bias_act(x, 0.5, name, **params), fa.bias_act(x, np.full(70, 0.5, dtype), name, **params),
                     "scalar bias")
    big = np.zeros(x.size + 1, dtype)
    big[:x.size] = x.reshape(-1)
    want = fa.bias_act(x, b, name, **params)
    got = fa.bias_act(big[:x.size].reshape(x.shape), b, name, out=big[1:].reshape(x.shape), **params)
    util.assert_same(got, want, "out overlapping x by all but one element")


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", ELEMENTWISE)
def test_bias_act_matches_numpy(name, params, dtype, layout, rng):
    shape, axis = layout
    x, b, pre = _inputs(name, params, shape, axis, dtype, rng)
    want = util.forward(name, pre, params)
    got = fa.bias_act(x, b, name, axis=axis, **params)
    assert got.dtype == dtype and got.shape == shape
    util.assert_same(got, want, "bias_act(%s) vs %s(x + b)" % (name, name))
    util.check_forward(name, params, pre, got, "bias_act %s%r %s" % (name, params, dtype))
    # in place, and with one thread against two
    xc = x.copy()
    assert fa.bias_act(xc, b, name, axis=axis, out=xc, **params) is xc
    util.assert_same(xc, want, "bias_act in place")
    with fa.threads(1):
        util.assert_same(fa.bias_act(x, b, name, axis=axis, **params), want, "bias_act 1 thread")


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", ELEMENTWISE)
def test_bias_act_backward_matches_numpy(name, params, dtype, layout, rng):
    shape, axis = layout
    op = lookup(name)
    x, b, pre = _inputs(name, params, shape, axis, dtype, rng)
    y = fa.bias_act(x, b, name, axis=axis, **params)
    saved = {"y": y, "x": x, "": None}[op.saves]
    dy = rng.uniform(-2, 2, shape).astype(dtype)
    dx, db = fa.bias_act_backward(dy, saved, b, name, axis=axis, **params)
    assert dx.dtype == dtype and db.dtype == dtype and db.shape == b.shape
    # the same as the activation's own backward at x + b
    want = util.backward(name, dy, {"y": y, "x": pre, "": pre}[op.saves], params)
    util.assert_same(dx, want, "bias_act_backward(%s) dx" % name)
    util.check_backward(name, params, pre, dy, {"y": y, "x": pre, "": pre}[op.saves], dx,
                        "bias_act_backward %s%r %s" % (name, params, dtype))
    others = tuple(i for i in range(len(shape)) if i != axis % len(shape))
    want_db = dx.astype(np.float64).sum(axis=others)
    scale = np.abs(dx.astype(np.float64)).sum(axis=others) + np.finfo(dtype).tiny
    err = np.abs(db.astype(np.float64) - want_db) / scale
    assert err.max() <= 2 * np.finfo(dtype).eps, (name, err.max())
    # one thread gives the same bits (dx and dbias)
    with fa.threads(1):
        dx1, db1 = fa.bias_act_backward(dy, saved, b, name, axis=axis, **params)
    util.assert_same(dx1, dx, "dx 1 vs default threads")
    util.assert_same(db1, db, "dbias 1 vs default threads")


@pytest.mark.parametrize("dtype", util.dtype_params())
def test_reductions_independent_of_thread_count(dtype, rng):
    """Large arrays (several work units per thread), bias on each layout:
    dbias and the counts have the same bits for 1, 2 and 3 threads."""
    for shape, axis in [((3000, 129), -1), ((64, 40, 300), 1), ((2, 300000), 1), ((5, 70000), 0)]:
        x = rng.standard_normal(shape).astype(dtype)
        b = rng.standard_normal(shape[axis]).astype(dtype)
        dy = rng.standard_normal(shape).astype(dtype)
        res = []
        for nt in (1, 2, 3):
            with fa.threads(nt):
                y, c = fa.bias_act(x, b, "relu", axis=axis, counts=True)
                dx, db = fa.bias_act_backward(dy, x, b, "silu", axis=axis)
                res.append((y, c, dx, db))
        for r in res[1:]:
            for a, w in zip(r, res[0]):
                util.assert_same(a, w, "threads %s" % (shape,))
        others = tuple(i for i in range(len(shape)) if i != axis % len(shape))
        assert np.array_equal(res[0][1], (res[0][0] > 0).sum(axis=others))


@pytest.mark.parametrize("dtype", util.dtype_params())
def test_bias_forms(dtype, rng):
    """bias None (the activation alone), a scalar, a 1-element array; 0-d x;
    float16 and integer inputs follow the activation's dtype rules."""
    x = rng.standard_normal((5, 4)).astype(dtype)
    util.assert_same(fa.bias_act(x, None, "tanh"), fa.tanh(x), "bias None")
    util.assert_same(fa.bias_act(x, 0.5, "gelu"), fa.gelu(x + dtype.type(0.5)), "scalar bias")
    util.assert_same(fa.bias_act(x, np.array([0.5]), "gelu", axis=0), fa.gelu(x + dtype.type(0.5)), "1-element bias")
    dx, db = fa.bias_act_backward(np.ones_like(x), x, 0.5, "silu")
    assert db.shape == () and np.isclose(float(db), dx.astype(np.float64).sum(), rtol=1e-6)
    dx, db = fa.bias_act_backward(np.ones_like(x), x, None, "silu")
    assert db is None
    util.assert_same(dx, fa.silu_backward(np.ones_like(x), x), "no-bias backward")
    assert fa.bias_act(dtype.type(-1.0), 2.0, "relu") == 1.0
    h = fa.bias_act(np.array([[-1.0, 2.0]], np.float16), np.array([0.5, 0.5]), "sigmoid")
    assert h.dtype == np.float16
    util.assert_same(h, fa.sigmoid(np.array([[-0.5, 2.5]], np.float16)), "float16")
    i = fa.bias_act(np.array([[1, -2]], np.int64), np.array([0.5, 0.5]), "relu")
    assert i.dtype == np.float64 and i.tolist() == [[1.5, 0.0]]


def test_bias_act_errors_write_nothing(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    b = np.zeros(3, np.float32)
    out = np.full_like(x, 7.0)
    bad = [
        (dict(bias=np.zeros(4)), ValueError, "bias must be a scalar or have shape \\(3,\\)"),
        (dict(activation="softmax"), ValueError, "not elementwise"),
        (dict(activation="nope"), ValueError, "unknown function 'nope'"),
        (dict(activation=3), TypeError, "activation must be a function name"),
        (dict(alpha=0.1), TypeError, "unexpected parameter"),
        (dict(activation="leaky_relu", alpha="x"), TypeError, "alpha must be a real number"),
        (dict(activation="rrelu", training=True, seed=1), ValueError, "training=True"),
        (dict(counts=True, activation="gelu"), ValueError, "activity counts are defined"),
        (dict(counts=True, saturation=2.0, activation="sigmoid"), ValueError, "saturation must be in"),
        (dict(axis=2), ValueError, "axis 2 is out of bounds"),
        (dict(monitor=fa.ActivityMonitor("relu"), activation="tanh"), ValueError, "monitor watches"),
        (dict(out=np.empty((3, 4), np.float32)), ValueError, "out has shape"),
        (dict(out=np.empty((4, 3))), TypeError, "out has dtype"),
    ]
    for kw, exc, msg in bad:
        args = dict(bias=b, activation="relu", out=out)
        args.update(kw)
        with pytest.raises(exc, match="fastact.bias_act: .*" + msg):
            fa.bias_act(x, **args)
        if args["out"] is out:
            assert (out == 7.0).all(), kw
    # the checked parameters are cached: a valid alpha=1 must not let alpha=True through
    fa.bias_act(x, b, "leaky_relu", alpha=1)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        fa.bias_act(x, b, "leaky_relu", alpha=True)
    with pytest.raises(ValueError, match="fastact.bias_act_backward: dy and saved must have the same shape"):
        fa.bias_act_backward(x, x[:2], b, "silu")


# ------------------------------------------------------------------ linear

def _linear_ref(x, w, b, name, params):
    z = x.astype(np.float64) @ w.astype(np.float64).T
    if b is not None:
        z = z + b.astype(np.float64)
    return z


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", ELEMENTWISE)
def test_linear_matches_numpy(name, params, dtype, bias, rng):
    op = lookup(name)
    x = rng.uniform(-1, 1, (2, 7, 24)).astype(dtype)
    w = (rng.uniform(-1, 1, (19, 24)) / 3).astype(dtype)
    b = rng.uniform(-1, 1, 19).astype(dtype) if bias else None
    z = np.matmul(x, w.T)
    if b is not None:
        z = z + b
    want = util.forward(name, z, params)
    got = fa.linear(x, w, b, name, **params)
    assert got.dtype == dtype and got.shape == (2, 7, 19)
    # NumPy's matmul on the 2-D view and on the 3-D array may differ in the last bit
    # (different BLAS calls): compare with the float64 product instead
    z64 = _linear_ref(x, w, b, name, params)
    util.check_forward(name, params, z.astype(dtype), want, "numpy %s" % name)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(got, util.ref_forward(name, z64, params), **tol)
    out = np.empty_like(got)
    assert fa.linear(x, w, b, name, out=out, **params) is out
    util.assert_same(out, got, "linear out=")
    # backward
    dy = rng.uniform(-1, 1, got.shape).astype(dtype)
    dx, dw, db = fa.linear_backward(dy, x, w, b, name, y=got, **params)
    dz = dy.astype(np.float64) * ref.derivative(op.name if name == op.name else name, z64, **params) \
        if util.is_elementwise_like(name, params) else None
    assert dx.shape == x.shape and dw.shape == w.shape and (db is None) == (b is None)
    w64, x64 = w.astype(np.float64), x.astype(np.float64).reshape(-1, 24)
    dz2 = dz.reshape(-1, 19)
    scale = np.abs(dy.astype(np.float64)).reshape(-1, 19)
    np.testing.assert_allclose(dx, (dz2 @ w64).reshape(x.shape), atol=tol["atol"] * 50 + (scale @ np.abs(w64)).max()
                               * (3e-5 if dtype == np.float32 else 1e-12))
    np.testing.assert_allclose(dw, dz2.T @ x64, atol=(scale.T @ np.abs(x64)).max()
                               * (3e-5 if dtype == np.float32 else 1e-12))
    if b is not None:
        np.testing.assert_allclose(db, dz2.sum(0), atol=scale.sum(0).max() * (3e-5 if dtype == np.float32 else 1e-12))


def test_linear_errors(rng):
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((5, 3))
    with pytest.raises(ValueError, match="fastact.linear: x's last axis must have in_features = 3"):
        fa.linear(x[:, :2], w)
    with pytest.raises(ValueError, match="fastact.linear: weight must be 2-D"):
        fa.linear(x, w[0])
    with pytest.raises(ValueError, match="fastact.linear: bias must have shape \\(5,\\)"):
        fa.linear(x, w, np.zeros(4))
    with pytest.raises(ValueError, match="fastact.linear: out overlaps x"):
        big = np.zeros((4, 8))
        fa.linear(big[:, :3], w, out=big[:, 3:8])
    with pytest.raises(ValueError, match="fastact.linear_backward: activation 'relu' needs y"):
        fa.linear_backward(np.ones((4, 5)), x, w, None, "relu")
    with pytest.raises(ValueError, match="fastact.linear_backward: dy must have the output's shape"):
        fa.linear_backward(np.ones((4, 4)), x, w)
    assert fa.linear(x.astype(np.float32), w.astype(np.float32)).dtype == np.float32
    assert fa.linear(x.astype(np.float32), w).dtype == np.float64


@pytest.mark.parametrize("dtype", util.dtype_params())
def test_linear_without_weight_is_the_identity(dtype, rng):
    """SPEC's catalogue: identity, alias linear.  linear(x) and linear_backward(dy)
    without a weight are the identity and its backward (new arrays, or out),
    and 'linear' names the identity wherever an activation is named."""
    assert fa.ALIASES["linear"] == "identity"
    x = rng.standard_normal((3, 4)).astype(dtype)
    x[0, :3] = [np.nan, np.inf, -0.0]
    y = fa.linear(x)
    assert y is not x and y.dtype == dtype
    util.assert_same(y, x, "linear(x)")
    out = np.empty_like(x)
    assert fa.linear(x, out=out) is out and fa.linear(x, out=(out,)) is out
    util.assert_same(out, x, "linear(x, out=)")
    dy = rng.standard_normal(x.shape).astype(dtype)
    util.assert_same(fa.linear_backward(dy), dy, "linear_backward(dy)")
    util.assert_same(fa.linear_backward(dy, x), dy, "linear_backward(dy, x)")
    want = dy.copy()
    assert fa.linear_backward(dy, x, out=dy) is dy
    util.assert_same(dy, want, "linear_backward(dy, x, out=dy)")
    assert fa.linear(2.5) == 2.5 and type(fa.linear(np.float32(2.5))) is np.float32
    util.assert_same(fa.bias_act(x, np.ones(4, dtype), "linear"), x + np.ones(4, dtype), "bias_act 'linear'")
    util.assert_same(fa.linear(x[1:], np.eye(4, dtype=dtype), None, "linear"), x[1:], "linear(x, I, None, 'linear')")


def test_linear_without_weight_errors(rng):
    """The identity form takes none of the layer's operands; the layer's backward no out."""
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((5, 3))
    for kw in ({"bias": np.zeros(3)}, {"activation": "relu"}, {"counts": True}, {"alpha": 0.1}, {"beta": None}):
        with pytest.raises(TypeError, match="fastact.linear: without a weight it is the identity"):
            fa.linear(x, **kw)
    for kw in ({"bias": np.zeros(3)}, {"activation": "tanh"}, {"y": x}):
        with pytest.raises(TypeError, match="fastact.linear_backward: without a weight it is the identity"):
            fa.linear_backward(x, x, **kw)
    with pytest.raises(TypeError, match="fastact.linear_backward: out= is for the identity form"):
        fa.linear_backward(np.ones((4, 5)), x, w, out=np.empty((4, 3)))
    with pytest.raises(TypeError, match="fastact.linear_backward: x, the forward's input, is required"):
        fa.linear_backward(np.ones((4, 5)), None, w)
    with pytest.raises(ValueError, match="fastact.linear: out has shape"):
        fa.linear(x, out=np.empty((3, 4)))


# -------------------------------------------------------------- monitoring

@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name", MONITORED)
def test_counts_match_numpy(name, dtype, rng):
    """counts=True returns, per unit, NumPy's count of active outputs (y > 0)
    or of saturated ones (float64 derivative at the rounded y below 1e-3 of its
    maximum), for the bias on either axis."""
    op = lookup(name)
    for shape, axis in [((300, 17), -1), ((17, 300), 0), ((4, 9, 257), 1)]:
        x = (rng.standard_normal(shape) * 6).astype(dtype)
        b = rng.uniform(-2, 2, shape[axis]).astype(dtype)
        y, c = fa.bias_act(x, b, name, axis=axis, counts=True)
        util.assert_same(y, fa.bias_act(x, b, name, axis=axis), "counts do not change y")
        others = tuple(i for i in range(len(shape)) if i != axis % len(shape))
        y64 = y.astype(np.float64)
        if op.monitor == "active":
            want = (y64 > 0).sum(axis=others)
        else:
            d = y64 * (1 - y64) / 0.25 if name == "sigmoid" else 1 - y64 * y64
            want = (d < 1e-3).sum(axis=others)
        assert c.dtype == np.int64 and np.array_equal(c, want), (name, shape)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name", MONITORED)
def test_counted_fast_path_is_the_general_path(name, dtype, rng):
    """A counted call on the last axis (counts=True or a monitor) runs in C; the
    same call with the axis spelled positively takes the Python path: the same
    y bits, the same int64 counts, the same monitor totals, for short and long
    rows, row counts around the four-row loop, and a non-default saturation."""
    op = lookup(name)
    sats = (1e-3, 0.05) if op.monitor == "saturated" else (1e-3,)
    for shape in ((9, 70), (7, 300), (5, 2500), (1, 4096)):
        x = (rng.standard_normal(shape) * 6).astype(dtype)
        b = rng.uniform(-2, 2, shape[-1]).astype(dtype)
        for bias in (b, None):
            for sat in sats:
                y, c = fa.bias_act(x, bias, name, counts=True, saturation=sat)
                y2, c2 = fa.bias_act(x, bias, name, axis=1, counts=True, saturation=sat)
                util.assert_same(y, y2, "%s %s y" % (name, shape))
                assert c.dtype == np.int64 and np.array_equal(c, c2), (name, shape, sat)
                xx = x.copy()
                y3, c3 = fa.bias_act(xx, bias, name, out=xx, counts=True, saturation=sat)
                assert y3 is xx and np.array_equal(c3, c2)
                util.assert_same(y3, y2, "%s %s in place" % (name, shape))
        m, m2 = fa.ActivityMonitor(name, saturation=sats[-1]), fa.ActivityMonitor(name, saturation=sats[-1])
        for _ in range(2):
            assert fa.bias_act(x, b, name, monitor=m) is not None
            fa.bias_act(x, b, name, axis=1, monitor=m2)
        assert np.array_equal(m.counts, m2.counts) and m.samples == m2.samples == 2 * shape[0]
    assert fa.bias_act(np.empty((0, 5), dtype), None, name, counts=True)[1].tolist() == [0] * 5


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name", [n for n in MONITORED if lookup(n).monitor == "active"])
def test_counts_whole_and_partial_row_groups(name, dtype, rng):
    """Rows of at least 256 units run four at a time through the count loop,
    the rest one by one: every row count mod 4, rows longer than one block,
    in place and not, with NaN, infinities, signed zeros in x and in the bias
    (relu's AVX2 count loop makes a -0 bias +0, fa_fused.h) and outputs exactly
    at 0: y is the uncounted forward's and the counts are NumPy's."""
    for rows in (1, 3, 4, 5, 6, 7, 8, 13):
        for units in (256, 259, 300, 2500):
            x = rng.standard_normal((rows, units)).astype(dtype)
            x.flat[::7] = 0.0
            x.flat[1::11] = -0.0
            x.flat[2::13] = np.nan
            x.flat[3::17] = np.inf
            x.flat[4::19] = -np.inf
            b = rng.uniform(-1, 1, units).astype(dtype)
            b[::5] = 0.0
            b[1::5] = -0.0
            b[2::31] = np.nan
            b[3::37] = np.inf
            want_y = fa.bias_act(x, b, name)
            want_c = (want_y.astype(np.float64) > 0).sum(axis=0)
            for inplace in (False, True):
                xx = x.copy()
                y, c = fa.bias_act(xx, b, name, out=xx if inplace else None, counts=True)
                util.assert_same(y, want_y, "%s rows=%d units=%d in place=%s" % (name, rows, units, inplace))
                assert np.array_equal(c, want_c), (name, rows, units, inplace)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name", MONITORED)
def test_counts_on_every_thread_count(name, dtype, rng):
    """Arrays above the thread grain: one group of rows per thread, each
    group's partials a row of their own (spread a page apart); on 1, 2 and 3
    threads the counts equal NumPy's count of the kernel's predicate on y
    (y > 0; outside the saturation band, whose bounds test_counts_match_numpy
    checks), rows of 1000 (whole tiles) and of 17 (tiles of several rows), row
    counts not dividing evenly."""
    from fastact._fused import _count_band
    hi, lo = _count_band("bias_act", lookup(name), 1e-3, np.dtype(dtype))
    for shape in ((97, 1000), (5003, 17)):
        x = (rng.standard_normal(shape) * 6).astype(dtype)
        b = rng.uniform(-2, 2, shape[1]).astype(dtype)
        for nt in (1, 2, 3):
            with fa.threads(nt):
                y, c = fa.bias_act(x, b, name, counts=True)
            assert np.array_equal(c, ((y > hi) | (y < lo)).sum(axis=0)), (name, shape, nt)


@pytest.mark.parametrize("dtype", util.dtype_params())
def test_monitor_finds_planted_dead_units(dtype, rng):
    """Units 3, 10 and 11 of 16 get pre-activations <= 0 on every sample of
    every batch (the rest are active somewhere); the monitor reports exactly
    those, through bias_act, linear and its own call."""
    dead = [3, 10, 11]
    m_ba, m_lin, m_call = fa.ActivityMonitor("relu"), fa.ActivityMonitor("relu"), fa.ActivityMonitor("relu")
    w = rng.standard_normal((16, 8)).astype(dtype)
    bias = rng.uniform(0.1, 0.5, 16).astype(dtype)
    bias[dead] = -100.0                      # no input can bring these units above 0
    for batch in range(5):
        x = rng.uniform(-1, 1, (32, 8)).astype(dtype)
        z = x @ w.T
        fa.bias_act(z, bias, "relu", monitor=m_ba)
        fa.linear(x, w, bias, "relu", monitor=m_lin)
        m_call(z, bias)
    for m in (m_ba, m_lin, m_call):
        assert m.never_active().tolist() == dead
        assert m.samples == 5 * 32 and m.batches == 5
        assert m.dead_fraction() == 3 / 16
    assert np.array_equal(m_ba.counts, m_lin.counts) and np.array_equal(m_ba.counts, m_call.counts)
    assert "3 of 16 units never active" in m_ba.report()


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_monitor_finds_planted_saturated_units(name, rng):
    """Units 0 and 5 see |pre-activation| >= 12 (derivative < 1e-5 of its
    maximum), the others |pre-activation| <= 2 (derivative > 0.07 of it)."""
    m = fa.ActivityMonitor(name)
    x = rng.uniform(-2, 2, (64, 8)).astype(np.float32)
    x[:, [0, 5]] = rng.choice([-1.0, 1.0], (64, 2)) * rng.uniform(12, 30, (64, 2))
    for _ in range(3):
        m(x)
    assert m.counts.tolist() == [192, 0, 0, 0, 0, 192, 0, 0]
    assert m.saturated_fraction() == 2 / 8
    with pytest.raises(ValueError, match="never_active\\(\\) is for the ReLU family"):
        m.never_active()


def test_monitor_update_and_errors():
    m = fa.ActivityMonitor("leaky_relu")
    m.update(np.array([0, 3, 5]), 5)
    m.update(np.array([0, 0, 1]), 2)
    assert m.counts.tolist() == [0, 3, 6] and m.samples == 7 and m.never_active().tolist() == [0]
    np.testing.assert_allclose(m.fraction(), [0, 3 / 7, 6 / 7])
    with pytest.raises(ValueError, match="4 units, this monitor has 3"):
        m.update(np.zeros(4, np.int64), 1)
    with pytest.raises(ValueError, match="need 0 <= counts <= samples"):
        m.update(np.array([9, 0, 0]), 5)
    m.reset()
    assert m.counts is None and m.samples == 0
    with pytest.raises(ValueError, match="ReLU family or sigmoid/tanh"):
        fa.ActivityMonitor("gelu")


@pytest.mark.parametrize("axis", [-1, 1])
def test_counts_flag_and_saturation_spellings(axis, rng):
    """counts takes Python and NumPy bools alike on the C fast path (axis=-1) and
    the general one: a true value returns (y, counts), a false one y alone;
    saturation may be a NumPy float, and a bad one raises on either path."""
    x = rng.standard_normal((8, 300)).astype(np.float32)
    b = rng.standard_normal(300).astype(np.float32)
    want = fa.bias_act(x, b, "relu", axis=axis)
    for flag in (True, np.True_):
        y, c = fa.bias_act(x, b, "relu", axis=axis, counts=flag)
        util.assert_same(y, want, "counts=%r" % (flag,))
        assert np.array_equal(c, (want > 0).sum(axis=0))
    y = fa.bias_act(x, b, "relu", axis=axis, counts=np.False_)
    assert isinstance(y, np.ndarray)
    util.assert_same(y, want, "counts=np.False_")
    s, c = fa.bias_act(x, b, "sigmoid", axis=axis, counts=True, saturation=np.float32(0.05))
    assert np.array_equal(c, fa.bias_act(x, b, "sigmoid", axis=axis, counts=True, saturation=0.05)[1])
    for bad in (0.0, 1.0, float("nan"), -1e-3):
        with pytest.raises(ValueError, match="fastact.bias_act: saturation must be"):
            fa.bias_act(x, b, "sigmoid", axis=axis, counts=True, saturation=bad)
