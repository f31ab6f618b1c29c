"""Accuracy in ULPs against independent references.

float32: >= 3 million inputs per function (every 2048th float32 bit pattern,
both signs, every exponent, plus a dense sample of the function's domain and
of the neighbourhood of 0), against the float64 reference of
fastact.reference.  float64: a sample against mpmath at 120 bits.  The bounds
asserted are the registry's (Op.ulp); the README's table lists what is reached.
"""


import numpy as np
import pytest

import fastact as fa
from fastact import _accuracy as acc
from fastact import reference
from fastact._registry import lookup

mpmath = pytest.importorskip("mpmath")


def _label(case):
    name, params = case
    return name + "".join("-%s=%s" % kv for kv in params.items())


@pytest.mark.parametrize("case", acc.CASES, ids=_label)
def test_float32_sweep(case):
    name, params = case
    x = acc.float32_inputs(lookup(name).domain)
    assert x.size >= 10 ** 6
    r = acc.measure_float32(name, params, x)
    assert r["nonfinite_mismatches"] == 0
    assert r["subnormal_ok"], r
    assert r["max_ulp"] <= lookup(name).ulp[0], r


@pytest.mark.parametrize("case", acc.CASES, ids=_label)
def test_float64_mpmath(case):
    name, params = case
    r = acc.measure_float64(name, params, n=1500)
    assert r["nonfinite_mismatches"] == 0
    assert r["subnormal_ok"], r
    assert r["max_ulp"] <= lookup(name).ulp[1], r


def test_ulp_error_measure_itself():
    # the measure must see a 1-ulp difference as 1 and a correctly rounded value as <= 0.5
    one = np.float64(1.0)
    assert acc.ulp_error(np.nextafter(one, 2), one, np.float64) == pytest.approx(1.0)
    assert acc.ulp_error(np.float32(1 / 3), 1 / 3, np.float32) <= 0.5
    assert acc.ulp_error(np.nextafter(np.float32(1 / 3), np.float32(1)), 1 / 3, np.float32) > 0.5


@pytest.mark.parametrize("name", ["tanh", "gelu_tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_identity_near_zero_and_tails(name, dtype):
    """tanh via 2 sigma(2x) - 1 without cancellation, and GELU-tanh via x sigma(2u):
    both hold their bound next to 0 (where the naive form loses every digit) and in
    the tails (where the naive 1 + tanh(u) underflows to 0)."""
    params = {"approximate": "tanh"} if name == "gelu_tanh" else {}
    fname = "gelu" if name == "gelu_tanh" else "tanh"
    rng = np.random.default_rng(1)
    near0 = np.concatenate([rng.uniform(-1e-3, 1e-3, 500), np.ldexp(1.0, -np.arange(1, 120))])
    tails = rng.uniform(-15, -3, 500) if name == "gelu_tanh" else rng.uniform(3, 19, 500)
    x = np.concatenate([near0, -near0, tails, -tails]).astype(dtype)
    y = getattr(fa, fname)(x, **params)
    if dtype == np.float32:
        exact = reference.forward(fname, x.astype(np.float64), **params)
        err = acc.ulp_error(y, exact, dtype)
        bound = lookup(fname).ulp[0]
    else:
        ex = np.array([acc.mp_forward(fname, v, params) for v in x])
        err = acc.ulp_error(y, ex[:, 0], dtype, ex[:, 1])
        bound = lookup(fname).ulp[1]
    normal = np.abs(y) >= np.finfo(dtype).tiny
    assert np.max(err[normal]) <= bound
    # the naive forms really do fail here, so this test can tell them apart
    if name == "tanh" and dtype == np.float32:
        naive = (2.0 / (1.0 + np.exp(-2.0 * x)) - 1.0).astype(dtype)
        assert np.max(acc.ulp_error(naive, reference.forward("tanh", x.astype(np.float64)), dtype)[normal]) > 100


def test_mish_backward_float32_near_its_root():
    """mish's derivative crosses 0 near x = -1.1924 as the difference of two
    terms of about 0.3: the float32 backward keeps its relative accuracy there
    (its exp in double: the float exp's 1e-9 would cost ~2000 ULP), checked
    against mpmath."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-1.2, -1.185, 300), rng.uniform(-20, 20, 100)]).astype(np.float32)
    got = fa.mish_backward(np.ones_like(x), x).astype(np.float64)
    mpmath.mp.prec = 120

    def exact(v):
        v = mpmath.mpf(float(v))
        t = mpmath.tanh(mpmath.log1p(mpmath.exp(v)))
        return float(t + v * (1 - t * t) / (1 + mpmath.exp(-v)))

    want = np.array([exact(v) for v in x])
    err = acc.ulp_error(got.astype(np.float32), want, np.float32)
    assert np.min(np.abs(want)) < 1e-5  # the sample reaches the root's neighbourhood
    assert np.max(err) <= 2.0, (np.max(err), x[np.argmax(err)])

@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_rows_float32(name):
    assert acc.measure_rows_float32(name) <= lookup(name).ulp[0]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_rows_float64_mpmath(name):
    assert acc.measure_rows_float64(name) <= lookup(name).ulp[1]
