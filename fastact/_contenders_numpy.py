"""The NumPy baselines of the benchmark: two forms of every registry function.

``TEXTBOOK`` and ``INPLACE`` map every name of ``fastact._registry.OPS`` (not
the aliases) to a pair ``(forward, backward)`` with the calling convention of
``fastact._bench_cases``::

    forward(x, out, **params)            -> y
    backward(dy, saved, out, **params)   -> dx   (prelu: (dx, dweight))

``saved`` is y or x as ``Op.saves`` says (identity: x, unused); maxout's dy has
the forward output's shape.  Both forms compute in the dtype of their input
(float32 stays float32: parameters are turned into Python floats, which NumPy
does not let widen an array).

* ``TEXTBOOK`` -- the expression a NumPy user writes first: the formula as
  printed, one temporary per operator, ``out`` ignored (e.g. sigmoid
  ``1 / (1 + np.exp(-x))``, backward ``dy * y * (1 - y)``).  Overflow in these
  forms is harmless and silenced with ``np.errstate``.
* ``INPLACE`` -- the best in-place NumPy form: ufuncs writing into ``out``,
  numerically stable (two-sided sigmoid from exp(-|x|), softplus as
  max(v, 0) + log1p(exp(-|v|)), ...) and exact where the textbook is exact.
  Each call allocates at most once: one scratch block from ``_scratch`` (at
  most two arrays of x's dtype and a boolean mask, or two masks), or one
  temporary such as ``x > 0``; reductions (softmax's row sums, prelu's
  dweight) allocate their small results.  Selections are done with arithmetic on
  0/1 masks (``a * m + b * ~m``, both terms exact) or ``np.maximum``, not with
  ``where=`` / ``np.copyto(..., where=)`` / boolean indexing, which NumPy runs
  several times slower.  Returns ``out`` (prelu: ``(out, dweight)``).

GELU (approximate='none') needs erf, which NumPy lacks: both forms use
``scipy.special`` when it is importable (textbook ``x * 0.5 * erfc(-x/sqrt2)``,
in place ``x * ndtr(x)``), otherwise a vectorized Abramowitz & Stegun 7.1.26
rational approximation (absolute error of erf <= 1.5e-7: a speed baseline,
not an accurate GELU).

rrelu is covered in eval mode only (slope (lower + upper) / 2): training mode
raises ``NotImplementedError`` (its slopes come from fastact's generator).
"""

import math

import numpy as np

from ._registry import OPS, SELU_ALPHA, SELU_LAMBDA

try:
    from scipy.special import erfc as _scipy_erfc, ndtr as _scipy_ndtr
except ImportError:  # pragma: no cover - scipy is optional
    _scipy_erfc = _scipy_ndtr = None

__all__ = ["TEXTBOOK", "INPLACE", "HAVE_SCIPY"]

HAVE_SCIPY = _scipy_erfc is not None

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K = math.sqrt(2.0 / math.pi)   # gelu tanh form: u = K (x + C x^3)
_C = 0.044715


# ------------------------------------------------------------------ helpers

def _scratch(x, planes=1, masks=0):
    """Work arrays shaped like x from ONE allocation: `planes` arrays of x's
    dtype, then `masks` boolean arrays.  A single array comes back bare,
    several as a tuple."""
    dtype = x.dtype.newbyteorder("=")
    size = x.size * dtype.itemsize
    buf = np.empty(planes * size + masks * x.size, np.uint8)
    arrays = [buf[i * size:(i + 1) * size].view(dtype).reshape(x.shape) for i in range(planes)]
    start = planes * size
    arrays += [buf[start + i * x.size:start + (i + 1) * x.size].view(np.bool_).reshape(x.shape)
               for i in range(masks)]
    return arrays[0] if len(arrays) == 1 else tuple(arrays)


def _sigmoid_into(v, out, s):
    """out = sigmoid(v), two-sided: e = exp(-|v|), then 1/(1+e) for v >= 0 and
    e/(1+e) for v < 0 (never overflows).  `out` may be `v`; s is scratch."""
    np.copysign(v, -1.0, out=s)          # -|v|
    np.exp(s, out=s)                     # e
    np.greater_equal(v, 0, out=out)      # 1 where v >= 0, else 0
    np.maximum(out, s, out=out)          # numerator: 1 (v >= 0) or e (v < 0)
    np.add(s, 1, out=s)
    np.divide(out, s, out=out)
    return out


def _leaky_into(x, slope, out):
    """out = x where x > 0 else slope * x, exactly; slope a scalar or an array
    broadcasting against x (prelu's per-channel weight)."""
    if np.all(slope <= 1):               # then slope x >= x exactly where x <= 0
        np.multiply(x, slope, out=out)
        return np.maximum(out, x, out=out)
    if np.all(slope >= 1):               # then slope x <= x there
        np.multiply(x, slope, out=out)
        return np.minimum(out, x, out=out)
    np.minimum(x, 0, out=out)            # mixed: min(x, 0) slope + max(x, 0), one term is 0
    np.multiply(out, slope, out=out)
    return np.add(out, np.maximum(x, 0), out=out)


def _slope_factor(s, slope, out):
    """out = 1 where s > 0 else slope, exactly (the leaky derivative)."""
    if np.all((0 <= slope) & (slope <= 1)):
        np.greater(s, 0, out=out)        # 1 / 0
        np.maximum(out, slope, out=out)  # 1 / slope
    else:
        np.less_equal(s, 0, out=out)     # 0 / 1
        np.multiply(out, slope, out=out)  # 0 / slope
        np.add(out, s > 0, out=out)      # 1 / slope
    return out


def _inside(v, lo, hi):
    """Boolean mask lo < v < hi (one allocation: two masks, the second scratch)."""
    m, m2 = _scratch(v, planes=0, masks=2)
    np.greater(v, lo, out=m)
    np.less(v, hi, out=m2)
    return np.logical_and(m, m2, out=m)


def _add_positive_part(x, out, by_maximum):
    """out += max(x, 0), where out is 0 wherever x > 0 (so the sum is exact).
    by_maximum: out >= x wherever x <= 0, so np.maximum does it in one pass."""
    if by_maximum:
        np.maximum(out, x, out=out)
    else:
        np.add(out, np.maximum(x, 0), out=out)
    return out


def _set_where_positive(s, out, value=1.0):
    """out = value where s > 0, unchanged elsewhere, exactly: out (s <= 0) + value (s > 0)."""
    if value == 1:
        m = _scratch(s, planes=0, masks=1)
        np.less_equal(s, 0, out=m)
        np.multiply(out, m, out=out)
        np.logical_not(m, out=m)
        return np.add(out, m, out=out)
    f = _scratch(s)
    np.less_equal(s, 0, out=f)           # 1 / 0
    np.multiply(out, f, out=out)
    np.greater(s, 0, out=f)
    np.multiply(f, value, out=f)         # 0 / value
    return np.add(out, f, out=out)


def _tb_sigmoid(v):
    """The textbook sigmoid 1 / (1 + exp(-v)) (silu and mish reuse it)."""
    return 1 / (1 + np.exp(-v))


# ------------------------------------------------------------------ sigmoid

def tb_sigmoid(x, out):
    """1 / (1 + exp(-x))."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def tb_sigmoid_backward(dy, y, out):
    """dy y (1 - y)."""
    return dy * y * (1 - y)


def ip_sigmoid(x, out):
    """Two-sided sigmoid into out."""
    return _sigmoid_into(x, out, _scratch(x))


def ip_sigmoid_backward(dy, y, out):
    """dy y (1 - y) in out."""
    np.subtract(1, y, out=out)
    np.multiply(out, y, out=out)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ tanh

def tb_tanh(x, out):
    """np.tanh(x)."""
    return np.tanh(x)


def tb_tanh_backward(dy, y, out):
    """dy (1 - y^2)."""
    return dy * (1 - y ** 2)


def ip_tanh(x, out):
    """np.tanh into out."""
    return np.tanh(x, out=out)


def ip_tanh_backward(dy, y, out):
    """dy (1 - y y) in out."""
    np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ relu

def tb_relu(x, out):
    """np.maximum(x, 0)."""
    return np.maximum(x, 0)


def tb_relu_backward(dy, y, out):
    """dy (y > 0)."""
    return dy * (y > 0)


def ip_relu(x, out):
    """np.maximum into out."""
    return np.maximum(x, 0, out=out)


def ip_relu_backward(dy, y, out):
    """dy (y > 0) into out (one boolean temporary)."""
    return np.multiply(dy, y > 0, out=out)


# ------------------------------------------------------------------ leaky_relu

def tb_leaky_relu(x, out, alpha=0.01):
    """np.where(x > 0, x, alpha x)."""
    alpha = float(alpha)
    return np.where(x > 0, x, alpha * x)


def tb_leaky_relu_backward(dy, saved, out, alpha=0.01):
    """np.where(saved > 0, dy, alpha dy); saved is y (alpha > 0) or x."""
    alpha = float(alpha)
    return np.where(saved > 0, dy, alpha * dy)


def ip_leaky_relu(x, out, alpha=0.01):
    """max(alpha x, x) (alpha <= 1) or min (alpha > 1) into out."""
    return _leaky_into(x, float(alpha), out)


def ip_leaky_relu_backward(dy, saved, out, alpha=0.01):
    """dy times the factor (1 where saved > 0, else alpha, exactly) in out."""
    _slope_factor(saved, float(alpha), out)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ prelu

def _channel_weight(weight, x, axis):
    """weight in x's dtype, shaped to broadcast along `axis` (0-d if scalar)."""
    w = np.asarray(weight, dtype=x.dtype)
    if w.size == 1:
        return w.reshape(())
    shape = [1] * x.ndim
    shape[axis] = w.size
    return w.reshape(shape)


def _other_axes(x, weight, axis):
    """The axes dweight sums over: all but the channel axis (all if scalar)."""
    if np.size(weight) == 1:
        return None
    return tuple(i for i in range(x.ndim) if i != axis % x.ndim)


def tb_prelu(x, out, weight, axis=1):
    """np.where(x > 0, x, w x), w broadcast along axis."""
    w = _channel_weight(weight, x, axis)
    return np.where(x > 0, x, w * x)


def tb_prelu_backward(dy, x, out, weight, axis=1):
    """(np.where(x > 0, dy, w dy), sum of where(x > 0, 0, dy x) over non-channel axes)."""
    w = _channel_weight(weight, x, axis)
    dx = np.where(x > 0, dy, w * dy)
    dw = np.where(x > 0, 0, dy * x).sum(axis=_other_axes(x, weight, axis))
    return dx, dw.reshape(np.shape(weight))


def ip_prelu(x, out, weight, axis=1):
    """The exact leaky form with per-channel slopes, into out."""
    return _leaky_into(x, _channel_weight(weight, x, axis), out)


def ip_prelu_backward(dy, x, out, weight, axis=1):
    """dweight from dy x (x <= 0) summed in out, then dx in out: (out, dweight)."""
    w = _channel_weight(weight, x, axis)
    m = x <= 0
    np.multiply(dy, x, out=out)
    np.multiply(out, m, out=out)
    dw = out.sum(axis=_other_axes(x, weight, axis)).reshape(np.shape(weight))
    np.multiply(m, w, out=out)           # w / 0
    np.logical_not(m, out=m)
    np.add(out, m, out=out)              # w / 1, exactly
    np.multiply(out, dy, out=out)
    return out, dw


# ------------------------------------------------------------------ rrelu

def _rrelu_slope(lower, upper, training):
    if training:
        raise NotImplementedError("rrelu training mode draws its slopes from fastact's generator; "
                                  "the NumPy baselines cover eval mode (training=False) only")
    return (float(lower) + float(upper)) / 2.0


def tb_rrelu(x, out, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, seed=None):
    """Eval mode: leaky relu with slope (lower + upper) / 2."""
    a = _rrelu_slope(lower, upper, training)
    return np.where(x > 0, x, a * x)


def tb_rrelu_backward(dy, x, out, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, seed=None):
    """Eval mode: np.where(x > 0, dy, a dy)."""
    a = _rrelu_slope(lower, upper, training)
    return np.where(x > 0, dy, a * dy)


def ip_rrelu(x, out, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, seed=None):
    """Eval mode: the exact leaky form with the mean slope, in out."""
    return _leaky_into(x, _rrelu_slope(lower, upper, training), out)


def ip_rrelu_backward(dy, x, out, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False, seed=None):
    """Eval mode: dy times the factor (1 or the mean slope), in out."""
    _slope_factor(x, _rrelu_slope(lower, upper, training), out)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ relu6

def tb_relu6(x, out):
    """np.clip(x, 0, 6)."""
    return np.clip(x, 0, 6)


def tb_relu6_backward(dy, y, out):
    """dy ((y > 0) & (y < 6))."""
    return dy * ((y > 0) & (y < 6))


def ip_relu6(x, out):
    """np.clip into out."""
    return np.clip(x, 0, 6, out=out)


def ip_relu6_backward(dy, y, out):
    """dy (0 < y < 6) in out."""
    return np.multiply(dy, _inside(y, 0, 6), out=out)


# ------------------------------------------------------------------ leaky_relu6

def tb_leaky_relu6(x, out, alpha=0.01):
    """np.minimum(np.maximum(alpha x, x), 6)."""
    alpha = float(alpha)
    return np.minimum(np.maximum(alpha * x, x), 6)


def tb_leaky_relu6_backward(dy, x, out, alpha=0.01):
    """np.where(x >= 6, 0, np.where(x > 0, dy, alpha dy))."""
    alpha = float(alpha)
    return np.where(x >= 6, 0, np.where(x > 0, dy, alpha * dy))


def ip_leaky_relu6(x, out, alpha=0.01):
    """alpha x, max with x, min with 6, in out (alpha is in [0, 1])."""
    np.multiply(x, float(alpha), out=out)
    np.maximum(out, x, out=out)
    return np.minimum(out, 6, out=out)


def ip_leaky_relu6_backward(dy, x, out, alpha=0.01):
    """dy times the factor (1 / alpha, then 0 where x >= 6), in out."""
    _slope_factor(x, float(alpha), out)
    np.multiply(out, x < 6, out=out)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ hardtanh

def tb_hardtanh(x, out, min_val=-1.0, max_val=1.0):
    """np.clip(x, min_val, max_val)."""
    return np.clip(x, float(min_val), float(max_val))


def tb_hardtanh_backward(dy, x, out, min_val=-1.0, max_val=1.0):
    """dy ((x > min_val) & (x < max_val))."""
    return dy * ((x > float(min_val)) & (x < float(max_val)))


def ip_hardtanh(x, out, min_val=-1.0, max_val=1.0):
    """np.clip into out."""
    return np.clip(x, float(min_val), float(max_val), out=out)


def ip_hardtanh_backward(dy, x, out, min_val=-1.0, max_val=1.0):
    """dy (min_val < x < max_val) in out."""
    return np.multiply(dy, _inside(x, float(min_val), float(max_val)), out=out)


# ------------------------------------------------------------------ silu

def tb_silu(x, out, beta=1.0):
    """x sigmoid(beta x), sigmoid as 1 / (1 + exp(-v))."""
    beta = float(beta)
    with np.errstate(over="ignore"):
        return x * _tb_sigmoid(beta * x)


def tb_silu_backward(dy, x, out, beta=1.0):
    """dy s (1 + beta x (1 - s)), s = sigmoid(beta x)."""
    beta = float(beta)
    with np.errstate(over="ignore"):
        s = _tb_sigmoid(beta * x)
    return dy * s * (1 + beta * x * (1 - s))


def ip_silu(x, out, beta=1.0):
    """x times the two-sided sigmoid of beta x, in out."""
    np.multiply(x, float(beta), out=out)
    _sigmoid_into(out, out, _scratch(x))
    return np.multiply(out, x, out=out)


def ip_silu_backward(dy, x, out, beta=1.0):
    """dy s (1 + beta x (1 - s)) in out, one scratch array."""
    beta = float(beta)
    s = _scratch(x)
    np.multiply(x, beta, out=out)
    _sigmoid_into(out, out, s)           # out = sigmoid(beta x)
    np.subtract(1, out, out=s)
    np.multiply(s, x, out=s)
    np.multiply(s, beta, out=s)
    np.add(s, 1, out=s)                  # s = 1 + beta x (1 - sigmoid)
    np.multiply(out, s, out=out)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ hard_sigmoid

def tb_hard_sigmoid(x, out):
    """np.clip(x + 3, 0, 6) / 6."""
    return np.clip(x + 3, 0, 6) / 6


def tb_hard_sigmoid_backward(dy, x, out):
    """dy ((x > -3) & (x < 3)) / 6."""
    return dy * ((x > -3) & (x < 3)) / 6


def ip_hard_sigmoid(x, out):
    """x + 3, clip, / 6, in out."""
    np.add(x, 3, out=out)
    np.clip(out, 0, 6, out=out)
    return np.divide(out, 6, out=out)


def ip_hard_sigmoid_backward(dy, x, out):
    """dy (-3 < x < 3) / 6 in out."""
    np.multiply(dy, _inside(x, -3, 3), out=out)
    return np.divide(out, 6, out=out)


# ------------------------------------------------------------------ hard_swish

def tb_hard_swish(x, out):
    """x np.clip(x + 3, 0, 6) / 6."""
    return x * np.clip(x + 3, 0, 6) / 6


def tb_hard_swish_backward(dy, x, out):
    """0 below -3, dy (2x + 3) / 6 up to 3, dy above."""
    return np.where(x < -3, 0, np.where(x <= 3, dy * (2 * x + 3) / 6, dy))


def ip_hard_swish(x, out):
    """x + 3, clip, times x, / 6, in out."""
    np.add(x, 3, out=out)
    np.clip(out, 0, 6, out=out)
    np.multiply(out, x, out=out)
    return np.divide(out, 6, out=out)


def ip_hard_swish_backward(dy, x, out):
    """(2x + 3) / 6 masked to [-3, 3], 1 above, times dy, in out."""
    m = _scratch(x, planes=0, masks=1)
    np.multiply(x, 2, out=out)
    np.add(out, 3, out=out)
    np.divide(out, 6, out=out)
    np.greater_equal(x, -3, out=m)
    np.multiply(out, m, out=out)         # 0 below -3
    np.less_equal(x, 3, out=m)
    np.multiply(out, m, out=out)         # 0 above 3 ...
    np.logical_not(m, out=m)
    np.add(out, m, out=out)              # ... then 1 above 3
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ softplus

def tb_softplus(x, out, beta=1.0, threshold=20.0):
    """np.where(beta x > threshold, x, np.log(1 + np.exp(beta x)) / beta)."""
    beta, threshold = float(beta), float(threshold)
    with np.errstate(over="ignore"):
        return np.where(beta * x > threshold, x, np.log(1 + np.exp(beta * x)) / beta)


def tb_softplus_backward(dy, x, out, beta=1.0, threshold=20.0):
    """np.where(beta x > threshold, dy, dy / (1 + exp(-beta x)))."""
    beta, threshold = float(beta), float(threshold)
    with np.errstate(over="ignore"):
        return np.where(beta * x > threshold, dy, dy / (1 + np.exp(-beta * x)))


def ip_softplus(x, out, beta=1.0, threshold=20.0):
    """(max(v, 0) + log1p(exp(-|v|))) / beta, v = beta x; x where v > threshold."""
    beta, threshold = float(beta), float(threshold)
    s, m = _scratch(x, masks=1)
    np.multiply(x, beta, out=out)        # v
    np.greater(out, threshold, out=m)    # the linear region
    np.copysign(out, -1.0, out=s)
    np.exp(s, out=s)
    np.log1p(s, out=s)                   # log1p(exp(-|v|))
    np.maximum(out, 0, out=out)
    np.add(out, s, out=out)
    np.divide(out, beta, out=out)
    np.multiply(x, m, out=s)             # x in the linear region, 0 elsewhere
    np.logical_not(m, out=m)
    np.multiply(out, m, out=out)         # the soft part elsewhere, 0 in it
    return np.add(out, s, out=out)


def ip_softplus_backward(dy, x, out, beta=1.0, threshold=20.0):
    """dy sigmoid(beta x), dy where beta x > threshold, in out."""
    beta, threshold = float(beta), float(threshold)
    s, m = _scratch(x, masks=1)
    np.multiply(x, beta, out=out)
    np.greater(out, threshold, out=m)
    _sigmoid_into(out, out, s)
    np.maximum(out, m, out=out)          # sigmoid in [0, 1]: max with 1 / 0
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ gelu

def _erfc_as(z):
    """erfc by Abramowitz & Stegun 7.1.26, vectorized NumPy, in z's dtype.
    |error of erf| <= 1.5e-7 (absolute; relative error in the far tail of
    erfc is large): good enough for a *speed* baseline only."""
    a = np.abs(z)
    t = 1 / (1 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    q = poly * np.exp(-a * a)            # erfc(|z|)
    return np.where(z >= 0, q, 2 - q)


def _phi_into_as(x, out, s=None):
    """out = Phi(x) = 0.5 erfc(-x / sqrt2) by A&S 7.1.26 in place (s: scratch)."""
    if s is None:
        s = _scratch(x)
    np.abs(x, out=s)
    np.multiply(s, _INV_SQRT2, out=s)    # a = |x| / sqrt2
    np.multiply(s, 0.3275911, out=out)
    np.add(out, 1, out=out)
    np.reciprocal(out, out=out)          # t
    np.multiply(out, 1.061405429, out=s)  # Horner in s
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        np.add(s, c, out=s)
        np.multiply(s, out, out=s)
    np.multiply(x, x, out=out)
    np.multiply(out, -0.5, out=out)
    np.exp(out, out=out)                 # exp(-a^2)
    np.multiply(out, s, out=out)         # q = erfc(a)
    np.multiply(out, 0.5, out=out)       # Phi(-|x|)
    np.subtract(0.5, out, out=out)
    np.copysign(out, x, out=out)
    return np.add(out, 0.5, out=out)     # 0.5 +- (0.5 - Phi(-|x|))


def _phi_into_scipy(x, out, s=None):
    """out = Phi(x) by scipy.special.ndtr (s unused)."""
    return _scipy_ndtr(x, out=out)


# the implementations the gelu functions call (the tests swap in the fallback)
_erfc = _scipy_erfc if HAVE_SCIPY else _erfc_as
_phi_into = _phi_into_scipy if HAVE_SCIPY else _phi_into_as


def tb_gelu(x, out, approximate="none"):
    """x 0.5 erfc(-x / sqrt2), or 0.5 x (1 + tanh(K (x + 0.044715 x^3)))."""
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_K * (x + _C * x ** 3)))
    return x * 0.5 * _erfc(-x / _SQRT2)


def tb_gelu_backward(dy, x, out, approximate="none"):
    """dy (Phi + x phi), or the derivative of the tanh form written with t = tanh(u)."""
    if approximate == "tanh":
        t = np.tanh(_K * (x + _C * x ** 3))
        return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t ** 2) * _K * (1 + 3 * _C * x ** 2))
    return dy * (0.5 * _erfc(-x / _SQRT2) + x * np.exp(-0.5 * x ** 2) * _INV_SQRT_2PI)


def _gelu_v_into(x, out):
    """out = 2u = 2K (x + C x^3), the tanh form's sigmoid argument."""
    np.multiply(x, x, out=out)
    np.multiply(out, _C, out=out)
    np.add(out, 1, out=out)
    np.multiply(out, x, out=out)
    return np.multiply(out, 2 * _K, out=out)


def ip_gelu(x, out, approximate="none"):
    """x Phi(x), or x sigmoid(2u) with the two-sided sigmoid, in out."""
    if approximate == "tanh":
        _gelu_v_into(x, out)
        _sigmoid_into(out, out, _scratch(x))
    else:
        _phi_into(x, out)
    return np.multiply(out, x, out=out)


def ip_gelu_backward(dy, x, out, approximate="none"):
    """dy (Phi + x phi); tanh form: dy (sigmoid(v) + g sigmoid(v)(1 - sigmoid(v))),
    g = 2K x (1 + 3C x^2), sigmoid(1 - sigmoid) = e / (1 + e)^2, e = exp(-|v|)."""
    if approximate == "tanh":
        a, b = _scratch(x, planes=2)
        _gelu_v_into(x, out)             # v
        np.copysign(out, -1.0, out=a)
        np.exp(a, out=a)                 # e
        np.add(a, 1, out=b)              # 1 + e
        np.greater_equal(out, 0, out=out)
        np.maximum(out, a, out=out)
        np.divide(out, b, out=out)       # sigmoid(v), two-sided
        np.divide(a, b, out=a)
        np.divide(a, b, out=a)           # sigmoid (1 - sigmoid)
        np.multiply(x, x, out=b)
        np.multiply(b, 3 * _C, out=b)
        np.add(b, 1, out=b)
        np.multiply(b, x, out=b)
        np.multiply(b, 2 * _K, out=b)    # g
        np.multiply(a, b, out=a)
        np.add(out, a, out=out)
    else:
        s = _scratch(x)
        _phi_into(x, out, s)
        np.multiply(x, x, out=s)
        np.multiply(s, -0.5, out=s)
        np.exp(s, out=s)
        np.multiply(s, x, out=s)
        np.multiply(s, _INV_SQRT_2PI, out=s)  # x phi(x)
        np.add(out, s, out=out)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ elu

def tb_elu(x, out, alpha=1.0):
    """np.where(x > 0, x, alpha (exp(x) - 1))."""
    alpha = float(alpha)
    with np.errstate(over="ignore"):
        return np.where(x > 0, x, alpha * (np.exp(x) - 1))


def tb_elu_backward(dy, y, out, alpha=1.0):
    """np.where(y > 0, dy, dy (y + alpha))."""
    alpha = float(alpha)
    return np.where(y > 0, dy, dy * (y + alpha))


def ip_elu(x, out, alpha=1.0):
    """alpha expm1(min(x, 0)) plus the positive part, in out."""
    alpha = float(alpha)
    np.minimum(x, 0, out=out)
    np.expm1(out, out=out)
    np.multiply(out, alpha, out=out)
    return _add_positive_part(x, out, by_maximum=alpha <= 1)  # alpha (e^x - 1) >= x for x <= 0


def ip_elu_backward(dy, y, out, alpha=1.0):
    """dy (y + alpha), 1 where y > 0, in out."""
    np.add(y, float(alpha), out=out)
    _set_where_positive(y, out, 1.0)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ selu

def tb_selu(x, out):
    """lambda np.where(x > 0, x, alpha (exp(x) - 1))."""
    with np.errstate(over="ignore"):
        return SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))


def tb_selu_backward(dy, y, out):
    """np.where(y > 0, lambda dy, dy (y + lambda alpha))."""
    return np.where(y > 0, SELU_LAMBDA * dy, dy * (y + SELU_LAMBDA * SELU_ALPHA))


def ip_selu(x, out):
    """lambda (alpha expm1(min(x, 0)) + max(x, 0)) in out."""
    np.minimum(x, 0, out=out)
    np.expm1(out, out=out)
    np.multiply(out, SELU_ALPHA, out=out)
    _add_positive_part(x, out, by_maximum=False)  # alpha > 1: needs the add
    return np.multiply(out, SELU_LAMBDA, out=out)


def ip_selu_backward(dy, y, out):
    """dy (y + lambda alpha), lambda where y > 0, in out."""
    np.add(y, SELU_LAMBDA * SELU_ALPHA, out=out)
    _set_where_positive(y, out, SELU_LAMBDA)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ celu

def tb_celu(x, out, alpha=1.0):
    """np.maximum(0, x) + np.minimum(0, alpha (exp(x / alpha) - 1))."""
    alpha = float(alpha)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.maximum(0, x) + np.minimum(0, alpha * (np.exp(x / alpha) - 1))


def tb_celu_backward(dy, x, out, alpha=1.0):
    """np.where(x > 0, dy, dy exp(x / alpha))."""
    alpha = float(alpha)
    with np.errstate(over="ignore"):
        return np.where(x > 0, dy, dy * np.exp(x / alpha))


def ip_celu(x, out, alpha=1.0):
    """alpha expm1(min(x, 0) / alpha) plus the positive part, in out."""
    alpha = float(alpha)
    np.minimum(x, 0, out=out)
    np.divide(out, alpha, out=out)
    with np.errstate(over="ignore"):
        np.expm1(out, out=out)
    np.multiply(out, alpha, out=out)
    return _add_positive_part(x, out, by_maximum=alpha > 0)  # alpha expm1(x/alpha) >= x for x <= 0


def ip_celu_backward(dy, x, out, alpha=1.0):
    """dy exp(min(x, 0) / alpha) in out (exp(0) = 1 covers x > 0)."""
    np.minimum(x, 0, out=out)
    np.divide(out, float(alpha), out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ mish

def tb_mish(x, out):
    """x tanh(log(1 + exp(x)))."""
    with np.errstate(over="ignore"):
        return x * np.tanh(np.log(1 + np.exp(x)))


def tb_mish_backward(dy, x, out):
    """dy (t + x (1 - t^2) sigmoid(x)), t = tanh(log(1 + exp(x)))."""
    with np.errstate(over="ignore"):
        t = np.tanh(np.log(1 + np.exp(x)))
        return dy * (t + x * (1 - t ** 2) * _tb_sigmoid(x))


def ip_mish(x, out):
    """x / (1 + 2 / n), n = e^x (e^x + 2) (= x tanh(softplus(x))), in out."""
    s = _scratch(x)
    with np.errstate(over="ignore", divide="ignore"):
        np.exp(x, out=out)
        np.add(out, 2, out=s)
        np.multiply(out, s, out=out)     # n (inf for large x: 2 / inf = 0)
        np.divide(2, out, out=out)       # (inf for very negative x: x / inf = -0)
    np.add(out, 1, out=out)
    return np.divide(x, out, out=out)


def ip_mish_backward(dy, x, out):
    """dy (t + 4 x e (1 + e) / (n + 2)^2), e = exp(x), n = e (e + 2), t = n / (n + 2),
    in out with two scratch arrays.  x is capped at 40 (where the derivative is 1
    to all digits) so that nothing overflows; e (1 + e) = n - e loses no digits."""
    a, b = _scratch(x, planes=2)
    np.minimum(x, 40.0, out=out)         # xc
    np.exp(out, out=a)                   # e
    np.add(a, 2, out=b)
    np.multiply(b, a, out=b)             # n
    np.subtract(b, a, out=a)             # e (1 + e)
    np.multiply(a, out, out=a)
    np.multiply(a, 4, out=a)             # 4 xc e (1 + e)
    with np.errstate(divide="ignore"):
        np.divide(2, b, out=out)         # (inf where e underflows: t = 0)
    np.add(out, 1, out=out)
    np.reciprocal(out, out=out)          # t = n / (n + 2) = tanh(softplus(x))
    np.add(b, 2, out=b)
    np.divide(a, b, out=a)
    np.divide(a, b, out=a)               # x sech^2(softplus(x)) sigmoid(x)
    np.add(out, a, out=out)
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ softsign

def tb_softsign(x, out):
    """x / (1 + |x|)."""
    return x / (1 + np.abs(x))


def tb_softsign_backward(dy, x, out):
    """dy / (1 + |x|)^2."""
    return dy / (1 + np.abs(x)) ** 2


def ip_softsign(x, out):
    """x / (1 + |x|) in out."""
    np.abs(x, out=out)
    np.add(out, 1, out=out)
    return np.divide(x, out, out=out)


def ip_softsign_backward(dy, x, out):
    """dy / (1 + |x|)^2 in out."""
    np.abs(x, out=out)
    np.add(out, 1, out=out)
    np.multiply(out, out, out=out)
    return np.divide(dy, out, out=out)


# ------------------------------------------------------------------ log_sigmoid

def tb_log_sigmoid(x, out):
    """-np.log(1 + np.exp(-x))."""
    with np.errstate(over="ignore"):
        return -np.log(1 + np.exp(-x))


def tb_log_sigmoid_backward(dy, x, out):
    """dy / (1 + exp(x)) (= dy sigmoid(-x))."""
    with np.errstate(over="ignore"):
        return dy / (1 + np.exp(x))


def ip_log_sigmoid(x, out):
    """min(x, 0) - log1p(exp(-|x|)) in out."""
    s = _scratch(x)
    np.copysign(x, -1.0, out=s)
    np.exp(s, out=s)
    np.log1p(s, out=s)
    np.minimum(x, 0, out=out)
    return np.subtract(out, s, out=out)


def ip_log_sigmoid_backward(dy, x, out):
    """dy sigmoid(-x), two-sided, in out."""
    np.negative(x, out=out)
    _sigmoid_into(out, out, _scratch(x))
    return np.multiply(out, dy, out=out)


# ------------------------------------------------------------------ softmax

def tb_softmax(x, out, axis=-1):
    """e = exp(x - max); e / sum(e), along axis."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def tb_softmax_backward(dy, y, out, axis=-1):
    """y (dy - sum(dy y))."""
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


def ip_softmax(x, out, axis=-1):
    """x - max, exp, / sum, in out."""
    np.subtract(x, x.max(axis=axis, keepdims=True), out=out)
    np.exp(out, out=out)
    return np.divide(out, out.sum(axis=axis, keepdims=True), out=out)


def ip_softmax_backward(dy, y, out, axis=-1):
    """dy y summed, then (dy - sum) y, in out."""
    np.multiply(dy, y, out=out)
    np.subtract(dy, out.sum(axis=axis, keepdims=True), out=out)
    return np.multiply(out, y, out=out)


# ------------------------------------------------------------------ log_softmax

def tb_log_softmax(x, out, axis=-1):
    """z = x - max; z - log(sum(exp(z)))."""
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def tb_log_softmax_backward(dy, y, out, axis=-1):
    """dy - exp(y) sum(dy)."""
    return dy - np.exp(y) * dy.sum(axis=axis, keepdims=True)


def ip_log_softmax(x, out, axis=-1):
    """z = x - max in out, exp(z) in scratch, out -= log(sum)."""
    s = _scratch(x)
    np.subtract(x, x.max(axis=axis, keepdims=True), out=out)
    np.exp(out, out=s)
    return np.subtract(out, np.log(s.sum(axis=axis, keepdims=True)), out=out)


def ip_log_softmax_backward(dy, y, out, axis=-1):
    """dy - exp(y) sum(dy) in out."""
    np.exp(y, out=out)
    np.multiply(out, dy.sum(axis=axis, keepdims=True), out=out)
    return np.subtract(dy, out, out=out)


# ------------------------------------------------------------------ maxout

def _groups(a, pieces, axis):
    """View of a with `axis` moved last and split into (groups, pieces)."""
    a = np.moveaxis(a, axis, -1)
    return a.reshape(a.shape[:-1] + (a.shape[-1] // pieces, pieces))


def tb_maxout(x, out, pieces, axis=-1):
    """x grouped along axis, .max over each group."""
    return np.moveaxis(_groups(x, pieces, axis).max(axis=-1), -1, axis)


def tb_maxout_backward(dy, x, out, pieces, axis=-1):
    """argmax of each group, dy put there (np.put_along_axis) into zeros."""
    g = _groups(x, pieces, axis)
    idx = g.argmax(axis=-1)
    dx = np.zeros_like(g)
    np.put_along_axis(dx, idx[..., None], np.moveaxis(dy, axis, -1)[..., None], axis=-1)
    return np.moveaxis(dx.reshape(dx.shape[:-2] + (-1,)), -1, axis)


def ip_maxout(x, out, pieces, axis=-1):
    """np.maximum over the pieces (strided views), pairwise, into out."""
    g = _groups(x, pieces, axis)
    o = np.moveaxis(out, axis, -1)
    np.copyto(o, g[..., 0])
    for j in range(1, pieces):
        np.maximum(o, g[..., j], out=o)
    return out


def ip_maxout_backward(dy, x, out, pieces, axis=-1):
    """dy to the first arg-max of each group, 0 elsewhere, in out (inputs
    without nan).  The group maximum is kept in out's last piece, which is
    written last; two boolean arrays of the output's size are the scratch."""
    g = _groups(x, pieces, axis)
    go = _groups(out, pieces, axis)
    d = np.moveaxis(dy, axis, -1)
    m = go[..., pieces - 1]
    np.copyto(m, g[..., 0])
    for j in range(1, pieces):
        np.maximum(m, g[..., j], out=m)
    hit, free = np.empty((2,) + d.shape, np.bool_)
    free[...] = True
    for j in range(pieces):
        np.equal(g[..., j], m, out=hit)
        np.logical_and(hit, free, out=hit)      # the first piece equal to the max
        np.logical_xor(free, hit, out=free)     # hit implies free: clears it
        np.multiply(d, hit, out=go[..., j])     # (the last one overwrites m, used by now)
    return out


# ------------------------------------------------------------------ identity

def tb_identity(x, out):
    """x.copy() (a new array, like every textbook form)."""
    return x.copy()


def tb_identity_backward(dy, x, out):
    """dy.copy()."""
    return dy.copy()


def ip_identity(x, out):
    """np.copyto(out, x)."""
    np.copyto(out, x)
    return out


def ip_identity_backward(dy, x, out):
    """np.copyto(out, dy)."""
    np.copyto(out, dy)
    return out


# ------------------------------------------------------------------ tables

TEXTBOOK = {op.name: (globals()["tb_" + op.name], globals()["tb_%s_backward" % op.name]) for op in OPS}
INPLACE = {op.name: (globals()["ip_" + op.name], globals()["ip_%s_backward" % op.name]) for op in OPS}
