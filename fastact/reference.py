"""Plain NumPy twins of fastact's functions: float64, written for clarity.

Deliberately independent of the compiled kernels (no shared code, no shared
formulas where a textbook one exists): the tests compare the kernels against
these, and these against mpmath.  ``forward(name, x, **params)`` and
``derivative(name, x, **params)`` (d forward / dx as a function of x) cover the
elementwise functions; softmax, log_softmax, maxout and prelu have their own
functions below.  Inputs are converted to float64; results are float64.
"""

import math

import numpy as np

from ._registry import OPS, SELU_ALPHA, SELU_LAMBDA, lookup

__all__ = ["forward", "derivative", "special_points", "special_values", "special_rows", "SPECIAL_LABELS", "softmax", "log_softmax", "softmax_backward", "log_softmax_backward",
           "maxout", "maxout_backward", "prelu", "prelu_backward", "rrelu", "rrelu_backward"]

_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _f(x):
    return np.asarray(x, dtype=np.float64)


def _sigmoid(x):
    # the two-sided form so that neither branch overflows
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _Phi(x):
    return 0.5 * np.asarray(_erfc(-x / math.sqrt(2.0)), dtype=np.float64)


def _softplus(x, beta=1.0, threshold=20.0):
    v = beta * x
    with np.errstate(over="ignore", invalid="ignore"):
        soft = (np.maximum(v, 0.0) + np.log1p(np.exp(-np.abs(v)))) / beta
    return np.where(v > threshold, x, soft)


_K = math.sqrt(2.0 / math.pi)


def _fwd(name, x, p):
    with np.errstate(all="ignore"):
        if name == "sigmoid":
            return _sigmoid(x)
        if name == "tanh":
            return np.tanh(x)
        if name == "relu":
            return np.where(np.isnan(x), x, np.where(x > 0, x, 0.0))
        if name in ("leaky_relu", "rrelu"):
            a = p["alpha"] if name == "leaky_relu" else (p["lower"] + p["upper"]) / 2
            return np.where(x > 0, x, a * x)
        if name == "relu6":
            # relu, then the clip at 6 (np.clip would keep a -0)
            return np.where(np.isnan(x), x, np.where(x > 0, np.minimum(x, 6.0), 0.0))
        if name == "leaky_relu6":
            return np.where(np.isnan(x), x, np.minimum(np.maximum(p["alpha"] * x, x), 6.0))
        if name == "hardtanh":
            return np.where(np.isnan(x), x, np.clip(x, p["min_val"], p["max_val"]))
        if name == "silu":
            return np.where(np.isneginf(x * np.sign(p["beta"])), -0.0, x * _sigmoid(p["beta"] * x))
        if name == "hard_sigmoid":
            return np.where(np.isnan(x), x, np.clip(x + 3.0, 0.0, 6.0) / 6.0)
        if name == "hard_swish":
            return np.where(x <= -3, 0.0, x * (np.clip(x + 3.0, 0.0, 6.0) / 6.0))  # (no overflow at max)
        if name == "softplus":
            return _softplus(x, p["beta"], p["threshold"])
        if name == "gelu":
            if p["approximate"] == "tanh":
                # 0.5 x (1 + tanh(u)) == x sigma(2u); the latter keeps its digits for x << 0
                y = x * _sigmoid(2.0 * _K * (x + 0.044715 * x ** 3))
            else:
                y = x * _Phi(x)
            return np.where(np.isneginf(x), -0.0, y)
        if name == "elu":
            return np.where(x > 0, x, p["alpha"] * np.expm1(x))
        if name == "selu":
            return SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))
        if name == "celu":
            return np.where(x > 0, x, p["alpha"] * np.expm1(x / p["alpha"]))
        if name == "mish":
            return np.where(np.isneginf(x), -0.0, x * np.tanh(_softplus(x)))
        if name == "softsign":
            return np.where(np.isinf(x), np.sign(x), x / (1.0 + np.abs(x)))
        if name == "log_sigmoid":
            # -softplus(-x), written so that log_sigmoid(+inf) = log(1) = +0
            return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))
        if name == "identity":
            return x.copy()
    raise KeyError(name)


def _der(name, x, p):
    with np.errstate(all="ignore"):
        nan = np.isnan(x)
        # (the derivatives below take 1 - sigma(v) as sigma(-v) and 1 - tanh(v)^2
        # as 1 / cosh(v)^2: the differences lose every digit in the tails)
        if name == "sigmoid":
            return _sigmoid(x) * _sigmoid(-x)
        if name == "tanh":
            return 1.0 / np.cosh(x) ** 2
        if name == "relu":
            return np.where(nan, x, (x > 0) * 1.0)
        if name in ("leaky_relu", "rrelu"):
            a = p["alpha"] if name == "leaky_relu" else (p["lower"] + p["upper"]) / 2
            return np.where(nan, x, np.where(x > 0, 1.0, a))
        if name == "relu6":
            return np.where(nan, x, ((x > 0) & (x < 6)) * 1.0)
        if name == "leaky_relu6":
            return np.where(nan, x, np.where(x >= 6, 0.0, np.where(x > 0, 1.0, p["alpha"])))
        if name == "hardtanh":
            return np.where(nan, x, ((x > p["min_val"]) & (x < p["max_val"])) * 1.0)
        if name == "silu":
            b = p["beta"]
            s = _sigmoid(b * x)
            # where beta x overflows the derivative is its limit, 1 or 0
            return np.where(np.isinf(b * x), (b * x > 0) * 1.0, s * (1.0 + b * x * _sigmoid(-b * x)))
        if name == "hard_sigmoid":
            return np.where(nan, x, ((x > -3) & (x < 3)) / 6.0)
        if name == "hard_swish":
            return np.where(nan, x, np.where(x <= -3, 0.0, np.where(x < 3, (2 * x + 3) / 6.0, 1.0)))
        if name == "softplus":
            v = p["beta"] * x
            return np.where(v > p["threshold"], 1.0, _sigmoid(v))
        if name == "gelu":
            if p["approximate"] == "tanh":
                # d/dx x sigma(2u) = sigma(2u) (1 + x sigma(-2u) 2u')
                u = _K * (x + 0.044715 * x ** 3)
                d = _sigmoid(2 * u) * (1.0 + x * _sigmoid(-2 * u) * 2 * _K * (1.0 + 3 * 0.044715 * x * x))
            else:
                d = _Phi(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
            # beyond 1e100 the derivative is exactly 0 or 1 (and x**3 would overflow)
            return np.where(np.abs(x) > 1e100, (x > 0) * 1.0, d)
        if name == "elu":
            return np.where(x > 0, 1.0, p["alpha"] * np.exp(x))
        if name == "selu":
            return SELU_LAMBDA * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(x))
        if name == "celu":
            return np.where(x > 0, 1.0, np.exp(x / p["alpha"]))
        if name == "mish":
            sp = _softplus(x)
            d = np.tanh(sp) + x * _sigmoid(x) / np.cosh(sp) ** 2
            return np.where(np.isinf(x), (x > 0) * 1.0, d)
        if name == "softsign":
            return 1.0 / (1.0 + np.abs(x)) ** 2
        if name == "log_sigmoid":
            return _sigmoid(-x)
        if name == "identity":
            return np.ones_like(x)
    raise KeyError(name)


def _defaults(name, params):
    op = lookup(name)
    p = {q.name: q.default for q in op.params}
    p.update(params)
    return op.name, p


def forward(name, x, **params):
    """The forward of elementwise function `name` (or alias) in float64."""
    name, p = _defaults(name, params)
    return _fwd(name, _f(x), p)


def derivative(name, x, **params):
    """d forward / dx of elementwise function `name` at x, in float64."""
    name, p = _defaults(name, params)
    return _der(name, _f(x), p)


def softmax(x, axis=-1):
    x = _f(x)
    with np.errstate(invalid="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    x = _f(x)
    with np.errstate(invalid="ignore"):
        z = x - np.max(x, axis=axis, keepdims=True)
        # log(sum) = log1p(sum - 1): the maximum contributes exactly 1, and
        # log() of 1 + tiny would lose the tiny part's digits
        rest = np.sum(np.where(z < 0, np.exp(z), 0.0), axis=axis, keepdims=True)
        ties = np.sum(z == 0, axis=axis, keepdims=True) - 1.0
        return z - np.log1p(rest + ties)


def softmax_backward(dy, y, axis=-1):
    dy, y = _f(dy), _f(y)
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))


def log_softmax_backward(dy, y, axis=-1):
    dy, y = _f(dy), _f(y)
    return dy - np.exp(y) * np.sum(dy, axis=axis, keepdims=True)


def maxout(x, pieces, axis=-1):
    x = np.moveaxis(_f(x), axis, -1)
    g = x.reshape(x.shape[:-1] + (x.shape[-1] // pieces, pieces))
    return np.moveaxis(np.max(g, axis=-1), -1, axis)


def maxout_backward(dy, x, pieces, axis=-1):
    x = np.moveaxis(_f(x), axis, -1)
    dy = np.moveaxis(_f(dy), axis, -1)
    g = x.reshape(x.shape[:-1] + (x.shape[-1] // pieces, pieces))
    idx = np.argmax(g, axis=-1)  # first maximum; numpy's argmax picks the first nan too
    dx = np.zeros_like(g)
    np.put_along_axis(dx, idx[..., None], dy[..., None], axis=-1)
    dx = np.where(np.isnan(g), g, dx)  # NaN in, NaN out (x's own)
    return np.moveaxis(dx.reshape(x.shape), -1, axis)


def _prelu_w(w, x, axis):
    w = _f(w).reshape(-1)
    if w.size == 1:
        return w[0]
    shape = [1] * x.ndim
    shape[axis] = w.size
    return w.reshape(shape)


def prelu(x, weight, axis=1):
    x = _f(x)
    return np.where(x > 0, x, _prelu_w(weight, x, axis) * x)


def prelu_backward(dy, x, weight, axis=1):
    """(dx, dweight) in float64; dweight has weight's shape."""
    dy, x = _f(dy), _f(x)
    w = _prelu_w(weight, x, axis)
    dx = dy * np.where(np.isnan(x), x, np.where(x > 0, 1.0, w))  # a NaN x gives NaN (SPEC)
    contrib = np.where(x > 0, 0.0, dy * x)
    wshape = np.shape(weight)
    if np.size(weight) == 1:
        return dx, np.sum(contrib).reshape(wshape)
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    return dx, np.sum(contrib, axis=axes).reshape(wshape)


def rrelu(x, slopes):
    """Training-mode rrelu given the per-element slopes (C order)."""
    x = _f(x)
    return np.where(x > 0, x, np.reshape(slopes, x.shape) * x)


def rrelu_backward(dy, x, slopes):
    x = _f(x)
    return _f(dy) * np.where(np.isnan(x), x, np.where(x > 0, 1.0, np.reshape(slopes, x.shape)))  # NaN x: NaN


# --------------------------------------------------------- special values
# The README's special-value table is generated from these (tools/update_readme.py)
# and tests/test_special.py holds fastact to them, in float32 and float64.

SPECIAL_LABELS = ("nan", "-inf", "-max", "-1", "-sub", "-0", "+0", "+sub", "+1", "+max", "+inf")


def special_points(dtype=np.float64):
    """The inputs of the special-value table in `dtype` (max: its largest
    finite value; sub: its smallest subnormal)."""
    fi = np.finfo(dtype)
    return np.array([np.nan, -np.inf, -fi.max, -1.0, -fi.smallest_subnormal, -0.0, 0.0,
                     fi.smallest_subnormal, 1.0, fi.max, np.inf], dtype)


def special_values(name, dtype=np.float64, **params):
    """(forward, dx for dy = 1) of elementwise function `name` (prelu with
    its `weight`) at special_points(dtype), in float64."""
    x = special_points(dtype)
    if lookup(name).kind == "prelu":
        return prelu(x, params["weight"]), prelu_backward(np.ones(x.shape), x, params["weight"])[0]
    return forward(name, x, **params), derivative(name, x, **params)


def special_rows():
    """[(label, name, params)]: the rows of the special-value table -- every
    elementwise function with its defaults (prelu with weight 0.25, rrelu in
    eval mode) and the tanh form of gelu."""
    rows = []
    for op in OPS:
        if op.kind == "prelu":
            rows.append(("prelu(weight=0.25)", op.name, {"weight": 0.25}))
        elif op.kind in ("elementwise", "rrelu"):
            rows.append((op.name, op.name, {}))
        if op.name == "gelu":
            rows.append(("gelu(approximate='tanh')", op.name, {"approximate": "tanh"}))
    return rows
