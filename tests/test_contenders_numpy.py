"""The NumPy baselines of the benchmark (fastact._contenders_numpy) against
fastact.reference: every op, both tables, float32 and float64, forward and
backward, on the benchmark's own cases (make_case) and on non-default
parameters.

Tolerance: |got - want| <= rtol (|want| + S) + floor, rtol 2e-5 (float32) or
1e-10 (float64) and S the magnitude of the terms the formula adds or cancels
(0 where the form keeps relative accuracy; e.g. the textbook softplus
log(1 + exp(v)) is only absolutely accurate, S = 1 / |beta|).  Backwards scale
S by |dy|.  The one exception is the Abramowitz-Stegun erf used for GELU when
SciPy is missing: its error is absolute (|erf error| <= 1.5e-7, so |gelu error|
<= 7.5e-8 |x|, i.e. a relative error up to ~1e-6 and worse in the tails), so
that test adds atol 1e-7 |x| (forward) and 1e-7 |dy| (backward).
"""

import inspect
import math
import tracemalloc

import numpy as np
import pytest

import fastact as fa
from fastact import _contenders_numpy as cn
from fastact import reference as ref
from fastact._bench_cases import make_case
from fastact._registry import OPS, SELU_ALPHA, SELU_LAMBDA, lookup

NAMES = [op.name for op in OPS]
TABLES = {"textbook": cn.TEXTBOOK, "inplace": cn.INPLACE}
DTYPES = [np.dtype(np.float32), np.dtype(np.float64)]
RTOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-10}
FLOOR = {np.dtype(np.float32): 1e-30, np.dtype(np.float64): 1e-300}
K = math.sqrt(2.0 / math.pi)

# Non-default parameters; callables get the input's shape.
VARIANTS = {
    "leaky_relu": [dict(alpha=0.2), dict(alpha=1.5), dict(alpha=-0.3)],
    "prelu": [dict(weight=-0.3), lambda shape: dict(weight=np.linspace(-0.5, 1.5, shape[1]))],
    "rrelu": [dict(lower=0.1, upper=0.3), dict(lower=0.5, upper=2.5)],
    "leaky_relu6": [dict(alpha=0.3)],
    "hardtanh": [dict(min_val=-2.0, max_val=3.0)],
    "silu": [dict(beta=2.0), dict(beta=-0.5)],
    "softplus": [dict(beta=2.0, threshold=5.0), dict(beta=-1.5)],
    "gelu": [dict(approximate="tanh")],
    "elu": [dict(alpha=0.5), dict(alpha=1.5)],
    "celu": [dict(alpha=0.5), dict(alpha=-1.5)],
    "softmax": [dict(axis=0)],
    "log_softmax": [dict(axis=0)],
    "maxout": [dict(pieces=4), lambda shape: dict(pieces=_divisor(shape[0]), axis=0)],
}


def _divisor(n):
    return next((d for d in range(2, n + 1) if n % d == 0), 1)


def _variant_id(v):
    if callable(v):
        return "shaped"
    return ",".join("%s=%s" % kv for kv in v.items())


CASES = [pytest.param(name, {}, id="%s[default]" % name) for name in NAMES]
CASES += [pytest.param(name, v, id="%s[%s]" % (name, _variant_id(v))) for name in NAMES for v in VARIANTS.get(name, ())]


def build(name, n, dtype, variant):
    """x, dy, params, saved for `name`: make_case's, with `variant` applied."""
    c = make_case(name, n, dtype)
    params = dict(c.params)
    params.update(variant(c.x.shape) if callable(variant) else variant)
    if "weight" in params:
        params["weight"] = np.asarray(params["weight"], dtype)
    y = getattr(fa, name)(c.x, **params)
    dy = c.dy if y.shape == c.dy.shape else np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    saved = y if lookup(name).saves == "y" else c.x
    if name == "leaky_relu" and params["alpha"] <= 0:
        saved = c.x  # the registry: pass x when alpha <= 0
    return c.x, dy, params, saved


# ----------------------------------------------------------- expectations

def want_forward(name, x, p):
    op = lookup(name)
    if op.kind in ("elementwise", "rrelu"):
        return ref.forward(name, x, **p)
    if op.kind == "prelu":
        return ref.prelu(x, p["weight"], p["axis"])
    if op.kind == "rowwise":
        return (ref.softmax if name == "softmax" else ref.log_softmax)(x, axis=p["axis"])
    return ref.maxout(x, p["pieces"], p["axis"])


def want_backward(name, dy, x, saved, p):
    """float64 dx (prelu: (dx, dweight)); rowwise at the saved y."""
    op = lookup(name)
    if op.kind in ("elementwise", "rrelu"):
        return np.float64(1.0) * dy * ref.derivative(name, x, **p)
    if op.kind == "prelu":
        return ref.prelu_backward(dy, x, p["weight"], p["axis"])
    if op.kind == "rowwise":
        fn = ref.softmax_backward if name == "softmax" else ref.log_softmax_backward
        return fn(dy, saved, axis=p["axis"])
    return ref.maxout_backward(dy, x, p["pieces"], p["axis"])


def forward_scale(table, name, x, p):
    """S of the forward: the magnitude the form is only absolutely accurate to."""
    x = np.asarray(x, np.float64)
    if name == "log_softmax":
        return 1.0  # z - log(sum): log(sum) near 0 for a dominant maximum
    if table == "inplace":
        return 0.0
    return {
        "softplus": lambda: 1.0 / abs(p["beta"]),     # log(1 + exp(v)) / beta
        "log_sigmoid": lambda: 1.0,                    # log(1 + exp(-x))
        "mish": lambda: np.abs(x),                     # x tanh(log(1 + exp(x)))
        "gelu": lambda: np.abs(x) if p["approximate"] == "tanh" else 0.0,  # 0.5 x (1 + tanh(u))
        "elu": lambda: p["alpha"],                     # alpha (exp(x) - 1)
        "selu": lambda: SELU_LAMBDA * SELU_ALPHA,
        "celu": lambda: abs(p["alpha"]),
    }.get(name, lambda: 0.0)()


def backward_scale(name, x, dy, saved, p):
    """S of the backward (already times |dy|)."""
    x, dy_signed = np.asarray(x, np.float64), np.asarray(dy, np.float64)
    dy = np.abs(dy_signed)
    if name == "softmax":                               # y (dy - sum(dy y))
        y = np.asarray(saved, np.float64)
        s = np.sum(dy_signed * y, axis=p["axis"], keepdims=True)
        return np.abs(y) * (dy + np.abs(s))
    if name == "log_softmax":                           # dy - exp(y) sum(dy)
        y = np.asarray(saved, np.float64)
        return dy + np.exp(y) * np.abs(np.sum(dy_signed, axis=p["axis"], keepdims=True))
    if name == "gelu" and p["approximate"] == "tanh":
        t = np.tanh(K * (x + 0.044715 * x ** 3))
        # 1 - t^2 from a rounded t: absolute error ~eps, times 0.5 K x (1 + 3c x^2)
        return dy * (1 + np.abs(x) * (1 + 0.134145 * x * x) * (0.5 * K * (1 - t * t) + 0.01))
    d = {
        "sigmoid": 1.0,                                 # y (1 - y), y rounded
        "tanh": 1.0,                                    # 1 - y^2
        "elu": p.get("alpha", 1.0),                     # y + alpha
        "selu": SELU_LAMBDA * SELU_ALPHA,               # y + lambda alpha
        "silu": 1 + np.abs(p.get("beta", 1.0) * x),     # s (1 + beta x (1 - s)) crosses 0
        "gelu": 1.0,                                    # Phi + x phi crosses 0
        "mish": 1 + np.abs(x),                          # t + x (1 - t^2) sigmoid crosses 0
    }.get(name)
    return 0.0 if d is None else dy * d


def assert_close(got, want, rtol, scale, floor, what):
    got64 = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    assert got64.shape == want.shape, (what, got64.shape, want.shape)
    err = np.abs(got64 - want)
    tol = rtol * (np.abs(want) + scale) + floor
    bad = ~(err <= tol)
    if bad.any():
        i = np.flatnonzero(bad.ravel())[:5]
        raise AssertionError("%s: %d of %d beyond tolerance; got %s want %s err %s tol %s" % (
            what, bad.sum(), bad.size, got64.ravel()[i], want.ravel()[i], err.ravel()[i],
            np.broadcast_to(tol, err.shape).ravel()[i]))


def check_result(table, r, out, dtype, what):
    if table == "inplace":
        assert r is out, "%s: INPLACE must return out itself" % what
        assert np.shares_memory(r, out)
    assert r.dtype == dtype, "%s: dtype %s, want %s" % (what, r.dtype, dtype)


# ------------------------------------------------------------------ tests

def test_tables_cover_the_registry():
    for table in TABLES.values():
        assert list(table) == NAMES
        for fwd, bwd in table.values():
            assert callable(fwd) and callable(bwd)


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("name", NAMES)
def test_signatures_follow_the_registry(table, name):
    """Parameter names and defaults after (x, out) / (dy, saved, out) are the registry's."""
    want = [(p.name, inspect.Parameter.empty if p.required else p.default) for p in lookup(name).params]
    fwd, bwd = TABLES[table][name]
    for f, lead in ((fwd, 2), (bwd, 3)):
        ps = list(inspect.signature(f).parameters.values())
        assert [(q.name, q.default) for q in ps[lead:]] == want, f.__name__


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("n", [1000, 5000])
@pytest.mark.parametrize("name,variant", CASES)
def test_against_reference(name, variant, n, dtype, table):
    x, dy, p, saved = build(name, n, dtype, variant)
    fwd, bwd = TABLES[table][name]
    rtol, floor = RTOL[dtype], FLOOR[dtype]
    as_fallback = name == "gelu" and p.get("approximate") == "none" and not cn.HAVE_SCIPY
    copies = [a.copy() for a in (x, dy, saved)]
    tag = "%s %s %s n=%d %s" % (table, name, p if lookup(name).kind != "prelu" else "prelu", n, dtype.name)

    y_out = np.empty(fa_shape(name, x, p), dtype)
    y = fwd(x, y_out, **p)
    check_result(table, y, y_out, dtype, tag + " forward")
    # without SciPy, GELU's Phi is the A&S approximation (see test_gelu_without_scipy)
    f_floor = floor + 1e-7 * np.abs(np.asarray(x, np.float64)) if as_fallback else floor
    assert_close(y, want_forward(name, x, p), rtol, forward_scale(table, name, x, p), f_floor, tag + " forward")

    dx_out = np.empty_like(x)
    r = bwd(dy, saved, dx_out, **p)
    want = want_backward(name, dy, x, saved, p)
    if name == "prelu":
        (dx, dw), (want, want_dw) = r, want
        assert np.shape(dw) == np.shape(p["weight"]) and dw.dtype == dtype
        contrib = np.where(x > 0, 0.0, np.float64(1.0) * dy * x)
        axes = None if np.size(p["weight"]) == 1 else 0
        assert_close(dw, want_dw, rtol, np.sum(np.abs(contrib), axis=axes), floor, tag + " dweight")
    else:
        dx = r
    check_result(table, dx, dx_out, dtype, tag + " backward")
    b_floor = floor + 1e-7 * np.abs(np.asarray(dy, np.float64)) if as_fallback else floor
    assert_close(dx, want, rtol, backward_scale(name, x, dy, saved, p), b_floor, tag + " backward")

    for a, c in zip((x, dy, saved), copies):
        assert np.array_equal(a, c), tag + ": an input was modified"


def fa_shape(name, x, p):
    if lookup(name).kind != "maxout":
        return x.shape
    s = list(x.shape)
    s[p["axis"]] //= p["pieces"]
    return tuple(s)


@pytest.mark.parametrize("table", list(TABLES))
def test_rrelu_training_not_implemented(table):
    x = np.linspace(-1, 1, 10)
    fwd, bwd = TABLES[table]["rrelu"]
    with pytest.raises(NotImplementedError):
        fwd(x, np.empty_like(x), training=True, seed=1)
    with pytest.raises(NotImplementedError):
        bwd(x, x, np.empty_like(x), training=True, seed=1)


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("axis", [-1, 0])
def test_maxout_ties_go_to_the_first(table, axis):
    x = np.array([[1.0, 1.0, 0.0, 2.0, 3.0, 3.0], [5.0, 4.0, 4.0, 4.0, -1.0, -1.0]])
    if axis == 0:
        x = np.ascontiguousarray(x.T)
    fwd, bwd = TABLES[table]["maxout"]
    y = fwd(x, np.empty(fa_shape("maxout", x, dict(pieces=2, axis=axis))), pieces=2, axis=axis)
    assert np.array_equal(y, ref.maxout(x, 2, axis))
    dy = np.arange(1.0, y.size + 1).reshape(y.shape)
    dx = bwd(dy, x, np.empty_like(x), pieces=2, axis=axis)
    assert np.array_equal(dx, ref.maxout_backward(dy, x, 2, axis))


def test_as_erfc_accuracy():
    """A&S 7.1.26: |erf error| <= 1.5e-7, so |erfc error| too, both signs."""
    z = np.linspace(-6, 6, 20001)
    want = np.array([math.erfc(v) for v in z])
    assert np.max(np.abs(cn._erfc_as(z) - want)) <= 1.5e-7
    out = np.empty_like(z)
    phi = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    assert np.max(np.abs(cn._phi_into_as(z, out) - phi)) <= 0.75e-7 + 1e-15


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_gelu_without_scipy(monkeypatch, table, dtype):
    """The A&S fallback: absolute error <= 7.5e-8 |x| (forward), 7.5e-8 |dy| (backward)."""
    monkeypatch.setattr(cn, "_erfc", cn._erfc_as)
    monkeypatch.setattr(cn, "_phi_into", cn._phi_into_as)
    x, dy, p, saved = build("gelu", 5000, dtype, {})
    fwd, bwd = TABLES[table]["gelu"]
    rtol, floor = RTOL[dtype], FLOOR[dtype]
    y = fwd(x, np.empty_like(x), **p)
    assert y.dtype == dtype
    assert_close(y, want_forward("gelu", x, p), rtol, 0.0, floor + 1e-7 * np.abs(x), "A&S gelu forward")
    dx = bwd(dy, saved, np.empty_like(x), **p)
    assert dx.dtype == dtype
    assert_close(dx, want_backward("gelu", dy, x, saved, p), rtol,
                 backward_scale("gelu", x, dy, saved, p), floor + 1e-7 * np.abs(dy), "A&S gelu backward")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("name", NAMES)
def test_inplace_scratch_is_bounded(name, dtype):
    """INPLACE allocates at most one scratch block: two arrays of x's size plus
    a boolean one (softmax/prelu reductions and maxout's masks are smaller)."""
    x, dy, p, saved = build(name, 20000, dtype, {})
    fwd, bwd = cn.INPLACE[name]
    y_out, dx_out = np.empty(fa_shape(name, x, p), dtype), np.empty_like(x)
    budget = 2 * x.nbytes + x.size + 8192
    for call in (lambda: fwd(x, y_out, **p), lambda: bwd(dy, saved, dx_out, **p)):
        call()  # warm up caches
        tracemalloc.start()
        try:
            call()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= budget, (name, peak, budget)
    # the measurement sees NumPy's allocations at all
    tracemalloc.start()
    try:
        cn.TEXTBOOK[name][0](x, y_out, **p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak >= x.nbytes * (0.5 if name == "maxout" else 1)
