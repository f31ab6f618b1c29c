"""Shared helpers for fastact's functional tests.

Everything here is driven by the registry (``fastact.OPS``): the tests never
list the functions by hand.  The pieces:

- ``NAMES`` / ``name_params()``: every public name (op names and aliases) as
  readable pytest ids; ``OP_NAMES`` the canonical names only.
- ``param_sets(op)``: the parameter dicts each op is tested with (defaults plus
  a few non-default values); ``fit_params(op, shape, params)`` fills in what
  depends on the input's shape (prelu's weight, maxout's pieces).
- ``sample(op, dtype, ...)``: random + domain-spanning inputs (``op.domain``).
- ``LAYOUTS`` / ``make_layout``: the shared generator of awkward arrays (0-d,
  size 0, 1-D, 4-D, strided, transposed, reversed, Fortran, byte-swapped,
  unaligned, read-only, zero-stride) built from given values.
- ``forward`` / ``backward`` / ``saved_for``: call a public function by name.
- ``ref_forward`` / ``ref_backward``: the float64 expectation from
  ``fastact.reference``.
- ``assert_close``: elementwise |got - want| <= atol + rtol |want| with an
  informative message (atol may be an array).
- ``assert_refcounts_kept`` / ``assert_no_leak``: for the C fast paths.
"""

import ctypes
import ctypes.util
import math
import sys
import tracemalloc

import numpy as np
import pytest

import fastact as fa
from fastact import reference as ref
from fastact import _special
from fastact._registry import OPS, lookup

# ------------------------------------------------------------------ names

NAMES = [(op, name) for op in OPS for name in (op.name,) + op.aliases]
NAME_LIST = [name for _, name in NAMES]
OP_NAMES = [op.name for op in OPS]
FLOATS = (np.float32, np.float64)

# float32: ~8 ulp; float64: ~450 ulp (the reference is plain NumPy, not exact)
TOL = {
    np.dtype(np.float32): dict(rtol=1e-6, atol=1e-30),
    np.dtype(np.float64): dict(rtol=1e-13, atol=1e-300),
    # float16 results: computed in float32, rounded once (half an ulp is 4.9e-4)
    np.dtype(np.float16): dict(rtol=1e-3, atol=3e-8),
}


def name_params(names=None):
    return [pytest.param(n, id=n) for n in (NAME_LIST if names is None else names)]


def dtype_params():
    return [pytest.param(np.dtype(d), id=np.dtype(d).name) for d in FLOATS]


def kind(name):
    return lookup(name).kind


def is_elementwise_like(name, params=None):
    """Elementwise ops and rrelu in eval mode (an elementwise leaky relu)."""
    k = kind(name)
    if k == "elementwise":
        return True
    return k == "rrelu" and not (params or {}).get("training", False)


def takes_axis(op):
    return any(p.check == "axis" for p in op.params)


def real_params(op):
    return [p for p in op.params if p.check in ("real", "nonzero", "nonneg", "unit")]


# -------------------------------------------------------------- parameters

# A few non-default values per op (as the brief names them); any op not listed
# gets one automatic variant of each real parameter.
_EXTRA = {
    "leaky_relu": [dict(alpha=0.2), dict(alpha=1.5)],
    "leaky_relu6": [dict(alpha=0.3)],
    "silu": [dict(beta=2.0), dict(beta=-0.5)],
    "softplus": [dict(beta=2.0, threshold=5.0), dict(beta=0.5), dict(beta=-1.5),
                 # beta x past exp(-beta x) < 2^-30 below the threshold
                 dict(beta=2.5, threshold=100.0), dict(beta=-1.5, threshold=100.0)],
    "hardtanh": [dict(min_val=-2.0, max_val=3.0), dict(min_val=0.25, max_val=0.25)],
    "elu": [dict(alpha=0.5)],
    "celu": [dict(alpha=0.5), dict(alpha=2.0)],
    "gelu": [dict(approximate="tanh")],
    "rrelu": [dict(lower=0.1, upper=0.3), dict(lower=0.2, upper=0.2),
              dict(training=True, seed=12345), dict(lower=0.0, upper=0.9, training=True, seed=7)],
    "prelu": [dict(weight=-0.3)],
    "maxout": [dict(pieces=1), dict(pieces=4)],
    "softmax": [dict(axis=0)],
    "log_softmax": [dict(axis=0)],
}


def _auto_variants(op):
    out = []
    for p in real_params(op):
        v = float(p.default) * 1.5 + 0.1
        if p.check == "unit":
            v = min(max(v, 0.0), 1.0)
        d = {p.name: v}
        full = {q.name: q.default for q in op.params}
        full.update(d)
        if op.validate is None or not op.validate(full):
            out.append(d)
    return out


def param_sets(op):
    """[(id, params)]: the defaults first, then non-default values."""
    extra = _EXTRA.get(op.name)
    if extra is None:
        extra = _auto_variants(op)
    sets = [("default", {})] + [(",".join("%s=%s" % kv for kv in d.items()), dict(d)) for d in extra]
    return sets


def name_param_params(filter_fn=None):
    """pytest params over (name, params) for every name and its parameter sets."""
    out = []
    for op, name in NAMES:
        for pid, p in param_sets(op):
            if filter_fn is None or filter_fn(op, name, p):
                out.append(pytest.param(name, p, id="%s[%s]" % (name, pid)))
    return out


def _smallest_divisor(n):
    if n <= 1:
        return 1 if n == 1 else 2
    for d in range(2, n + 1):
        if n % d == 0:
            return d
    return n


def fit_params(op_or_name, shape, params=None):
    """params completed for an input of `shape` (required parameters filled in)."""
    op = lookup(op_or_name) if isinstance(op_or_name, str) else op_or_name
    p = dict(params or {})
    if op.kind == "prelu" and "weight" not in p:
        axis = p.get("axis", 1)
        if len(shape) >= 2 and -len(shape) <= axis < len(shape) and shape[axis] > 0:
            p["weight"] = np.linspace(-0.2, 0.6, shape[axis])
        else:
            p["weight"] = 0.25
    if op.kind == "maxout":
        axis = p.get("axis", -1)
        length = shape[axis] if len(shape) else 1
        if "pieces" not in p or length % p["pieces"]:
            p["pieces"] = _smallest_divisor(length) if length else 2
    return p


def out_shape(name, shape, params):
    op = lookup(name)
    if op.kind != "maxout" or not shape:
        return tuple(shape)
    s = list(shape)
    s[params.get("axis", -1)] //= params["pieces"]
    return tuple(s)


def full_params(name, params):
    """params with every non-required default filled in."""
    op = lookup(name)
    p = {q.name: q.default for q in op.params if not q.required}
    p.update(params)
    return p


# ------------------------------------------------------------------ calls

def forward(name, x, params=None, out=None):
    return getattr(fa, name)(x, **(params or {}), out=out)


def backward(name, dy, saved, params=None, out=None):
    """The backward's result; for prelu the pair (dx, dweight)."""
    return getattr(fa, name + "_backward")(dy, saved, **(params or {}), out=out)


def backward_dx(name, dy, saved, params=None, out=None):
    r = backward(name, dy, saved, params, out)
    return r[0] if kind(name) == "prelu" else r


def saved_for(name, x, params=None):
    """What the backward takes: the forward's output (saves 'y') or x."""
    if lookup(name).saves == "y":
        return forward(name, x, params)
    return x


# -------------------------------------------------------------- reference

def rrelu_slopes(n, params):
    p = full_params("rrelu", params)
    return _special.rrelu_slopes(n, float(p["lower"]), float(p["upper"]), int(p["seed"]))


def _rowwise_ref(fn, x, axis, *args):
    x = np.asarray(x, np.float64)
    if x.ndim == 0:
        return fn(x.reshape(1), *args, axis=-1).reshape(())
    return fn(x, *args, axis=axis)


def ref_forward(name, x, params=None):
    """float64 reference forward."""
    with np.errstate(all="ignore"):
        return _ref_forward(name, x, params)


def _ref_forward(name, x, params=None):
    op = lookup(name)
    params = dict(params or {})
    x = np.asarray(x, np.float64)
    if is_elementwise_like(name, params):
        return ref.forward(name, x, **params)
    if op.kind == "rrelu":
        return ref.rrelu(x, rrelu_slopes(x.size, params))
    if op.kind == "prelu":
        return ref.prelu(x, params["weight"], params.get("axis", 1))
    if op.kind == "rowwise":
        fn = ref.softmax if op.name == "softmax" else ref.log_softmax
        return _rowwise_ref(fn, x, params.get("axis", -1))
    if op.kind == "maxout":
        if x.ndim == 0:
            return x.copy()
        return ref.maxout(x, params["pieces"], params.get("axis", -1))
    raise AssertionError(op.kind)


def ref_backward(name, dy, x, saved, params=None):
    """float64 reference backward: dx (and dweight for prelu).

    For rowwise ops the reference is evaluated at the *given* saved y.
    """
    with np.errstate(all="ignore"):
        return _ref_backward(name, dy, x, saved, params)


def _ref_backward(name, dy, x, saved, params=None):
    op = lookup(name)
    params = dict(params or {})
    dy = np.asarray(dy, np.float64)
    x = np.asarray(x, np.float64)
    if is_elementwise_like(name, params):
        return dy * ref.derivative(name, x, **params)
    if op.kind == "rrelu":
        return ref.rrelu_backward(dy, x, rrelu_slopes(x.size, params))
    if op.kind == "prelu":
        return ref.prelu_backward(dy, x, params["weight"], params.get("axis", 1))
    if op.kind == "rowwise":
        fn = ref.softmax_backward if op.name == "softmax" else ref.log_softmax_backward
        y = np.asarray(saved, np.float64)
        if dy.ndim == 0:
            return fn(dy.reshape(1), y.reshape(1), axis=-1).reshape(())
        return fn(dy, y, axis=params.get("axis", -1))
    if op.kind == "maxout":
        if x.ndim == 0:
            return np.where(np.isnan(x), x, dy)
        return ref.maxout_backward(dy, x, params["pieces"], params.get("axis", -1))
    raise AssertionError(op.kind)


_K = math.sqrt(2.0 / math.pi)


def _sig(v):
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(v))
        return np.where(v >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def y_error_atol(name, x, params, dy, saved):
    """For backwards that take y: |dy| * |d'(y)| * |y - y_exact| (|d'| <= 3
    for every y-form derivative here) -- what the rounding of y costs."""
    if lookup(name).saves != "y" or not is_elementwise_like(name, params):
        return 0.0
    with np.errstate(all="ignore"):
        s = np.asarray(saved)
        yerr = np.abs(s.astype(np.float64) - ref_forward(name, x, params)) + np.spacing(np.abs(s))
        return 3.0 * np.abs(np.asarray(dy, np.float64)) * np.nan_to_num(yerr.astype(np.float64))


def forward_scale(name, x, params):
    """Magnitude of the terms the reference forward adds (for atol where the
    plain-NumPy reference cancels)."""
    p = full_params(name, params) if kind(name) != "prelu" else params
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        if lookup(name).name == "gelu" and p.get("approximate") == "tanh":
            return np.abs(x)
        if lookup(name).name == "log_softmax":
            ax = params.get("axis", -1)
            x1 = x.reshape(1) if x.ndim == 0 else x
            if x1.size == 0:
                return np.zeros(x.shape)
            z = np.abs(x1 - np.max(x1, axis=ax, keepdims=True))
            return (z + np.log(x1.shape[ax]) + 1e-300).reshape(x.shape)
        return np.abs(ref_forward(name, x, params))


def derivative_scale(name, x, params):
    """Magnitude of the terms of the reference derivative (>= |derivative|):
    where the derivative crosses zero, or the reference cancels, the
    comparison is made with atol = rtol * this."""
    op = lookup(name)
    p = full_params(name, params)
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        d = np.abs(ref.derivative(name, x, **params))
        if op.name == "tanh":
            return 1.0 + d
        if op.name == "silu":
            b = p["beta"]
            s = _sig(b * x)
            return np.maximum(d, s * (1.0 + np.abs(b * x) * (1.0 - s)) + np.abs(b * x) * 1e-3)
        if op.name == "gelu" and p["approximate"] == "tanh":
            u = _K * (x + 0.044715 * x ** 3)
            t = np.tanh(u)
            return np.maximum(d, 0.5 * (1 + np.abs(t)) + 0.5 * np.abs(x) * (1 - t * t) * _K * (1 + 0.134145 * x * x))
        if op.name == "gelu":
            Phi = _sig(1.702 * x)  # a bound of the right size is enough
            return np.maximum(d, Phi + np.abs(x) * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))
        if op.name == "mish":
            sp = np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))
            t = np.tanh(sp)
            return np.maximum(d, np.abs(t) + np.abs(x) * (1 - t * t) * _sig(x))
        return d


def kinks(name, params):
    """Points where the op's derivative jumps (finite differences avoid them)."""
    op = lookup(name)
    p = full_params(name, params)
    pts = [0.0]
    if op.name in ("relu6", "leaky_relu6"):
        pts += [6.0]
    elif op.name == "hardtanh":
        pts += [p["min_val"], p["max_val"]]
    elif op.name in ("hard_sigmoid", "hard_swish"):
        pts += [-3.0, 3.0]
    elif op.name == "softplus":
        pts += [p["threshold"] / p["beta"]]
    return pts


# ------------------------------------------------------------------ inputs

def sample(op_or_name, dtype, rng, n=1200, avoid_kinks=None, span=True):
    """Inputs in op.domain: random, a linspace over the domain, +-small
    magnitudes, and a few exact points; as `dtype` (1-D of length n)."""
    op = lookup(op_or_name) if isinstance(op_or_name, str) else op_or_name
    lo, hi = op.domain
    parts = [rng.uniform(lo, hi, n // 2)]
    if span:
        parts.append(np.linspace(lo, hi, n // 4))
        m = n - n // 2 - n // 4 - 8
        mags = np.logspace(-30, math.log10(max(abs(lo), abs(hi))), m // 2)
        parts += [mags, -mags[: m - m // 2]]
        parts.append(np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0]))
    x = np.concatenate(parts)[:n]
    if len(x) < n:
        x = np.concatenate([x, rng.uniform(lo, hi, n - len(x))])
    x = x.astype(dtype)
    if avoid_kinks is not None:
        xd = x.astype(np.float64)
        keep = np.ones(x.shape, bool)
        for k in avoid_kinks:
            keep &= np.abs(xd - k) > 1e-3 * max(1.0, abs(k))
        x = x[keep]
    rng.shuffle(x)
    return x


# The shared generator of awkward arrays.  Each layout maps a C-contiguous
# (6, 10) float64 array of values onto an array of the given dtype; the same
# layout applied to two value arrays gives two arrays of one shape (dy, saved).

def make_unaligned(a):
    """A copy of a whose data starts one byte off alignment (np.frombuffer, offset=1)."""
    buf = np.empty(a.nbytes + 1, np.uint8)
    u = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    u[...] = a
    return u


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


LAYOUTS = {
    "contig": lambda v, dt: v.astype(dt),
    "0d": lambda v, dt: np.array(v.flat[7], dtype=dt),
    "size0": lambda v, dt: np.empty((0,), dt),
    "size0_3d": lambda v, dt: np.empty((2, 0, 3), dt),
    "1d": lambda v, dt: v.astype(dt).ravel(),
    "4d": lambda v, dt: v.astype(dt).reshape(2, 3, 2, 5),
    "step2": lambda v, dt: np.repeat(v.astype(dt), 2, axis=0)[::2],
    "step3_1d": lambda v, dt: np.repeat(v.astype(dt).ravel(), 3)[1::3],
    "transposed": lambda v, dt: np.ascontiguousarray(v.T).astype(dt).T,
    "reversed": lambda v, dt: v.astype(dt)[::-1, ::-1].copy()[::-1, ::-1],
    "reversed_1d": lambda v, dt: v.astype(dt).ravel()[::-1].copy()[::-1],
    "fortran": lambda v, dt: np.asfortranarray(v.astype(dt)),
    "byteswapped": lambda v, dt: v.astype(np.dtype(dt).newbyteorder(">")),
    "unaligned": lambda v, dt: make_unaligned(v.astype(dt)),
    "readonly": lambda v, dt: _readonly(v.astype(dt)),
    "zero_stride": lambda v, dt: np.broadcast_to(v.astype(dt)[:1, :], (6, 10)),
}

BASE_SHAPE = (6, 10)


def make_layout(layout, values, dtype):
    return LAYOUTS[layout](np.asarray(values, np.float64).reshape(BASE_SHAPE), np.dtype(dtype))


def layout_params():
    return [pytest.param(k, id=k) for k in LAYOUTS]


# ------------------------------------------------------------ comparisons

def assert_close(got, want, rtol, atol=0.0, x=None, what=""):
    """|got - want| <= atol + rtol |want| elementwise; equal infinities and
    NaN in both places count as equal.  atol may be an array."""
    got64 = np.asarray(got, np.float64)
    want64 = np.asarray(want, np.float64)
    assert got64.shape == want64.shape, "%s: shape %s != %s" % (what, got64.shape, want64.shape)
    with np.errstate(all="ignore"):
        diff = np.abs(got64 - want64)
        tol = atol + rtol * np.abs(want64)
        ok = (np.isnan(got64) & np.isnan(want64)) | (got64 == want64) | (diff <= tol)
    if ok.all():
        return
    bad = np.flatnonzero(~ok.reshape(-1))
    with np.errstate(all="ignore"):
        rel = (diff / np.maximum(tol, 1e-300)).reshape(-1)
    order = bad[np.argsort(-np.nan_to_num(rel[bad], nan=np.inf))][:8]
    lines = ["%s: %d of %d elements differ (rtol=%g)" % (what, bad.size, ok.size, rtol)]
    xs = None if x is None else np.broadcast_to(np.asarray(x, np.float64), got64.shape).reshape(-1)
    tol_flat = np.broadcast_to(tol, got64.shape).reshape(-1)
    for i in order:
        lines.append("  [%d]%s got %r want %r (|diff| %.3g, tol %.3g)" % (
            i, "" if xs is None else " x=%r" % xs[i], got64.reshape(-1)[i], want64.reshape(-1)[i],
            diff.reshape(-1)[i], tol_flat[i]))
    raise AssertionError("\n".join(lines))


def assert_same(a, b, what=""):
    """Bitwise equality (same dtype, shape and bytes; NaNs compared by bits)."""
    a = np.asarray(a)
    b = np.asarray(b)
    assert a.dtype == b.dtype, "%s: dtype %s != %s" % (what, a.dtype, b.dtype)
    assert a.shape == b.shape, "%s: shape %s != %s" % (what, a.shape, b.shape)
    ac = np.ascontiguousarray(a)
    bc = np.ascontiguousarray(b)
    if ac.dtype.byteorder not in "=|":
        ac = ac.astype(ac.dtype.newbyteorder("="))
        bc = bc.astype(bc.dtype.newbyteorder("="))
    if ac.tobytes() != bc.tobytes():
        neq = np.flatnonzero(ac.reshape(-1).view(np.uint8 if ac.itemsize == 1 else "u%d" % ac.itemsize)
                             != bc.reshape(-1).view(np.uint8 if bc.itemsize == 1 else "u%d" % bc.itemsize))
        i = neq[:5]
        raise AssertionError("%s: %d elements differ bitwise, e.g. at %s: %r vs %r"
                             % (what, neq.size, i.tolist(), ac.reshape(-1)[i], bc.reshape(-1)[i]))


def rounded_overflow(want, dtype):
    """The float64 reference with the values beyond dtype's range made the
    infinity they round to (the result a kernel of that dtype must give)."""
    want = np.asarray(want, np.float64)
    with np.errstate(all="ignore"):
        w = want.astype(dtype).astype(np.float64)
    return np.where(np.isinf(w) & np.isfinite(want), w, want)


def check_forward(name, p, x, got, what):
    """got (fastact's forward of x) within TOL of the float64 reference."""
    dtype = np.dtype(got.dtype)
    if got.size == 0:  # (nothing to compare; the reference of softmax needs a row)
        return
    t = TOL[dtype]
    atol = t["atol"] + t["rtol"] * forward_scale(name, x, p)
    assert_close(got, rounded_overflow(ref_forward(name, x, p), dtype), t["rtol"], atol,
                 x=x if np.shape(got) == np.shape(x) else None, what=what)


def check_backward(name, p, x, dy, saved, got, what):
    """got (fastact's backward; (dx, dweight) for prelu) within TOL of the
    float64 reference backward, with the error terms each kind carries: the
    rounding of a saved y, the size of the derivative's terms, the row sums
    of softmax, the dweight sum of prelu; maxout exactly."""
    op = lookup(name)
    dtype = np.dtype((got[0] if op.kind == "prelu" else got).dtype)  # the result dtype (x may be an int)
    if np.size(x) == 0 and op.kind == "rowwise":
        assert got.shape == x.shape and got.dtype == dtype, what
        return
    want = ref_backward(name, dy, x, saved, p)
    want = tuple(rounded_overflow(w, dtype) for w in want) if op.kind == "prelu" else rounded_overflow(want, dtype)
    t = TOL[dtype]
    rtol = t["rtol"]
    if op.kind == "prelu":
        dx, dw = got
        wdx, wdw = want
        assert dx.dtype == dtype and dx.shape == x.shape
        assert dw.dtype == dtype and dw.shape == np.shape(p["weight"])
        assert_close(dx, wdx, rtol, t["atol"], x=x, what=what + " dx")
        axis = p.get("axis", 1) % max(x.ndim, 1)
        with np.errstate(all="ignore"):
            xd = x.astype(np.float64)  # dweight sums dy x over x <= 0 only
            contrib = np.where(xd > 0, 0.0, np.abs(dy.astype(np.float64) * xd))
            axes = tuple(i for i in range(x.ndim) if i != axis) if np.size(p["weight"]) > 1 else None
            scale = np.sum(contrib, axis=axes).reshape(np.shape(p["weight"]))
        assert_close(dw, wdw, rtol, t["atol"] + 4 * rtol * scale, what=what + " dweight")
        return
    assert isinstance(got, np.ndarray) and got.dtype == dtype and got.shape == x.shape
    if op.kind == "maxout":
        assert_same(got, want.astype(dtype), what)
        return
    if op.kind == "rowwise":
        y = saved.astype(np.float64)
        d = dy.astype(np.float64)
        ax = p.get("axis", -1)
        with np.errstate(all="ignore"):
            if op.name == "softmax":
                s = np.sum(d * y, axis=ax, keepdims=True)
                scale = np.abs(y) * (np.abs(d) + np.abs(s))
            else:
                scale = np.abs(d) + np.exp(y) * np.sum(np.abs(d), axis=ax, keepdims=True)
        assert_close(got, want, rtol, t["atol"] + 2 * rtol * scale, what=what)
        return
    atol = t["atol"] + y_error_atol(name, x, p, dy, saved)
    if is_elementwise_like(name, p):
        atol = atol + rtol * np.abs(dy.astype(np.float64)) * derivative_scale(name, x, p)
    assert_close(got, want, rtol, atol, x=x, what=what)


def snapshot(*arrays):
    return [None if a is None else (np.asarray(a).copy(), np.asarray(a).dtype) for a in arrays]


def assert_unchanged(snap, *arrays, what=""):
    for s, a in zip(snap, arrays):
        if s is None:
            continue
        assert_same(np.asarray(a), s[0], what or "input modified")


def assert_refcounts_kept(arrays, call, times=100):
    """call() `times` times leaves the reference counts of `arrays` as they were."""
    before = [sys.getrefcount(a) for a in arrays]
    for _ in range(times):
        call()
    assert [sys.getrefcount(a) for a in arrays] == before


def assert_no_leak(call, times, warmup=1000, limit=64 * 1024):
    """call() `times` times (after `warmup` untraced calls) grows traced memory by < limit bytes."""
    for _ in range(warmup):
        call()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(times):
        call()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < limit


# ------------------------------------------------------------ subprocesses

def run_python(tmp_path, code, *args, drop_env=(), timeout=240):
    """Run `code` as a script in a fresh interpreter that imports this fastact;
    the environment variables in drop_env are removed. Returns the
    CompletedProcess (text output)."""
    import os
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(code)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(fa.__file__))] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    for k in drop_env:
        env.pop(k, None)
    return subprocess.run([sys.executable, str(script)] + list(args), env=env, capture_output=True, text=True,
                          timeout=timeout)


# ------------------------------------------------- floating-point flags

_libm_path = ctypes.util.find_library("m")
try:
    _LIBM = ctypes.CDLL(_libm_path) if _libm_path else None
    _LIBM.fetestexcept  # noqa: B018
except (OSError, AttributeError):
    _LIBM = None
_FE_INVALID, _FE_DIVBYZERO, _FE_OVERFLOW, _FE_UNDERFLOW, _FE_ALL = 0x01, 0x04, 0x08, 0x10, 0x3D  # x86


def flags_after(fn):
    """fn() with the FP exception flags cleared first; the invalid, divide,
    overflow and underflow flags it leaves (0 where libm cannot be loaded)."""
    if _LIBM is None:
        return fn(), 0
    _LIBM.feclearexcept(_FE_ALL)
    r = fn()
    return r, _LIBM.fetestexcept(_FE_INVALID | _FE_DIVBYZERO | _FE_OVERFLOW | _FE_UNDERFLOW)
