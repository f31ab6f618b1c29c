"""rrelu in training mode: per-element slopes drawn from (seed, flat C-order
index), reproducible, in [lower, upper), independent of thread count and layout."""

import numpy as np
import pytest

import fastact as fa
from fastact import _special
from fastact import reference as ref

import util

RRELU = [n for op, n in util.NAMES if op.kind == "rrelu"]


def _slopes_from_forward(name, n, dtype, **p):
    """The slopes, read back from the forward at x = -1."""
    y = util.forward(name, -np.ones(n, dtype), dict(p, training=True))
    return -y.astype(np.float64)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name", util.name_params(RRELU))
def test_reproducible_from_seed(name, dtype, rng):
    x = rng.uniform(-3, 3, 10_001).astype(dtype)
    a = util.forward(name, x, {"training": True, "seed": 42})
    b = util.forward(name, x.copy(), {"training": True, "seed": 42})
    util.assert_same(a, b, "same seed")
    c = util.forward(name, x, {"training": True, "seed": 43})
    neg = x < 0
    assert np.mean(a[neg] != c[neg]) > 0.99, "different seeds give (almost) the same slopes"
    # seeds are taken modulo 2**64: negative and huge seeds work
    for s in (0, -1, 2 ** 64 - 1, 2 ** 63):
        r = util.forward(name, x, {"training": True, "seed": s})
        assert np.isfinite(r).all()
    util.assert_same(util.forward(name, x, {"training": True, "seed": -1}),
                     util.forward(name, x, {"training": True, "seed": 2 ** 64 - 1}), "seed -1 == 2**64-1")
    # without a seed, two calls draw different slopes
    d = util.forward(name, x, {"training": True})
    e = util.forward(name, x, {"training": True})
    assert (d[neg] != e[neg]).any()


@pytest.mark.parametrize("lower,upper", [(1 / 8, 1 / 3), (0.0, 1.0), (0.3, 0.31), (0.2, 0.2), (0.0, 0.0)])
@pytest.mark.parametrize("name", util.name_params(RRELU))
def test_slopes_in_range(name, lower, upper):
    n = 200_001
    s = _slopes_from_forward(name, n, np.float64, lower=lower, upper=upper, seed=2024)
    assert s.min() >= lower
    if upper > lower:
        assert s.max() < upper
        # roughly uniform: mean and spread
        width = upper - lower
        assert abs(s.mean() - (lower + upper) / 2) < 0.01 * width
        assert abs(s.std() - width / np.sqrt(12)) < 0.01 * width
        assert np.unique(s).size > 0.99 * n
    else:
        assert (s == lower).all()
    util.assert_same(s, _special.rrelu_slopes(n, lower, upper, 2024), "slopes vs rrelu_slopes")


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("layout", ["transposed", "fortran", "reversed", "step2", "byteswapped", "4d"])
@pytest.mark.parametrize("name", util.name_params(RRELU))
def test_slopes_follow_logical_c_order(name, layout, dtype, rng):
    """Element i of the logical C-order gets slope i, whatever the memory layout."""
    v = rng.uniform(-3, 3, util.BASE_SHAPE)
    x = util.make_layout(layout, v, dtype)
    p = {"training": True, "seed": 77, "lower": 0.1, "upper": 0.5}
    got = util.forward(name, x, p)
    slopes = _special.rrelu_slopes(x.size, 0.1, 0.5, 77)
    t = util.TOL[dtype]
    util.assert_close(got, ref.rrelu(x, slopes), t["rtol"], t["atol"], what="rrelu %s" % layout)
    dy = util.make_layout(layout, rng.uniform(-2, 2, util.BASE_SHAPE), dtype)
    util.assert_close(util.backward(name, dy, x, p), ref.rrelu_backward(dy, x, slopes), t["rtol"], t["atol"],
                      what="rrelu_backward %s" % layout)


@pytest.mark.parametrize("name", util.name_params(RRELU))
def test_training_thread_independent(name, rng):
    x = rng.uniform(-3, 3, 300_001)
    dy = rng.uniform(-2, 2, x.shape)
    p = {"training": True, "seed": 3}
    out = []
    for n in (1, 2, 3):
        with fa.threads(n):
            out.append((util.forward(name, x, p), util.backward(name, dy, x, p)))
    for y, g in out[1:]:
        util.assert_same(y, out[0][0], "rrelu training forward vs threads")
        util.assert_same(g, out[0][1], "rrelu training backward vs threads")


@pytest.mark.parametrize("name", util.name_params(RRELU))
def test_eval_mode_uses_mean_slope(name):
    x = np.array([-4.0, -1.0, 0.0, 2.0])
    got = util.forward(name, x, {"lower": 0.1, "upper": 0.3})
    np.testing.assert_allclose(got, [-0.8, -0.2, 0.0, 2.0], rtol=1e-15)
    g = util.backward(name, np.ones(4), x, {"lower": 0.1, "upper": 0.3})
    np.testing.assert_allclose(g, [0.2, 0.2, 0.2, 1.0], rtol=1e-15)
    # training=False ignores the seed
    util.assert_same(util.forward(name, x, {"lower": 0.1, "upper": 0.3, "seed": 5}), got)


@pytest.mark.parametrize("dtype", util.dtype_params())
def test_training_is_leaky_relu_with_each_slope(dtype, rng):
    """Training mode gives, bit for bit, leaky_relu (and its backward) at each
    element's slope from rrelu_slopes, across the kernel's blocks of 2048
    elements and on one thread or two."""
    n = 5000
    x = rng.uniform(-3, 3, n).astype(dtype)
    x[::7] = -x[::7]
    dy = rng.uniform(-2, 2, n).astype(dtype)
    p = {"training": True, "seed": 12345, "lower": 0.05, "upper": 0.45}
    slopes = _special.rrelu_slopes(n, 0.05, 0.45, 12345)
    picks = sorted(set(range(0, n, 17)) | {0, 2047, 2048, 2049, 4095, 4096, n - 1})
    for nt in (1, 2):
        with fa.threads(nt):
            y = fa.rrelu(x, **p)
            dx = fa.rrelu_backward(dy, x, **p)
        for i in picks:
            a = float(slopes[i])
            util.assert_same(y[i:i + 1], fa.leaky_relu(x[i:i + 1], alpha=a), "rrelu[%d] vs leaky_relu" % i)
            util.assert_same(dx[i:i + 1], fa.leaky_relu_backward(dy[i:i + 1], x[i:i + 1], alpha=a),
                             "rrelu_backward[%d] vs leaky_relu_backward" % i)
