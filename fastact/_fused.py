"""Inference forms: bias + activation in one pass, a linear layer with that
fused epilogue, and activity monitoring computed in the same pass.

- ``bias_act(x, bias, activation)``: ``act(x + bias)``, the bias broadcast
  along one axis; ``bias_act_backward`` gives ``(dx, dbias)``.
- ``linear(x, weight, bias, activation)``: ``act(x @ weight.T + bias)``; the
  product is NumPy's (BLAS), written into the output buffer, then bias and
  activation run in place over it.  ``linear_backward`` gives
  ``(dx, dweight, dbias)``.
- ``ActivityMonitor``: per-unit counts of active (ReLU family) or saturated
  (sigmoid, tanh) outputs accumulated over batches.

Notes
-----
- The activation is any elementwise function of the registry, by name or
  alias, with its parameters as keywords (rrelu in eval mode only).
- x + bias is rounded to the kernel's dtype before the activation, exactly as
  ``act(x + bias)`` in NumPy.  The bias is cast to the result's dtype.
- The bias gradient and the counts are reduced in blocks fixed by the shape
  and folded in a fixed order: the same bits for any thread count.
"""

import math
import numbers

import numpy as np

from . import _api
from ._dispatch import kernels as _kernels
from ._registry import lookup

__all__ = ["bias_act", "bias_act_backward", "linear", "linear_backward", "ActivityMonitor"]

_RED_NONE, _RED_COUNT, _RED_SUM = 0, 1, 2
_MISSING = object()


# ------------------------------------------------------------------ checks

_ACTIVATIONS = {}   # (activation, params) -> (op, kernel index, p0, p1), for hashable params


def _activation(fname, activation, params):
    """(op, kernel index, p0, p1) for an activation name and its keyword parameters
    (checked once per distinct call: the answer is cached)."""
    try:
        # (the value's type is part of the key: True == 1 == 1.0, but a bool is no real)
        key = (activation, tuple(sorted((k, type(v), v) for k, v in params.items())) if params else ())
        return _ACTIVATIONS[key]
    except (KeyError, TypeError):
        pass
    res = _activation_checked(fname, activation, params)
    try:
        if len(_ACTIVATIONS) < 4096:
            _ACTIVATIONS[key] = res
    except TypeError:   # unhashable parameter values
        pass
    return res


def _activation_checked(fname, activation, params):
    if activation is None:
        activation = "identity"
    if not isinstance(activation, str):
        raise TypeError("fastact.%s: activation must be a function name (str) or None, got %r"
                        % (fname, activation))
    try:
        op = lookup(activation)
    except ValueError as exc:
        raise ValueError("fastact.%s: %s" % (fname, str(exc).split(": ", 1)[1])) from None
    if op.kind not in ("elementwise", "rrelu"):
        raise ValueError("fastact.%s: activation %r is not elementwise (%s); use fastact.%s on the result"
                         % (fname, activation, op.kind, op.name))
    for q in op.params:   # torch.nn.functional's names (Param.torch)
        if q.torch in params:
            if q.name in params:
                raise _api.both_names_error(fname, q.name, q.torch)
            params = dict(params)
            params[q.name] = params.pop(q.torch)
    unknown = set(params) - {p.name for p in op.params}
    if unknown:
        raise TypeError("fastact.%s: unexpected parameter(s) %s for activation %r (it takes: %s)"
                        % (fname, ", ".join(sorted(map(repr, unknown))), op.name,
                           ", ".join(p.name for p in op.params) or "none"))
    values = tuple(params.get(p.name, p.default) for p in op.params)
    p = _api._params(fname, op, values)
    if op.kind == "rrelu" and p["training"]:
        raise ValueError("fastact.%s: rrelu with training=True is not a fixed function; "
                         "use fastact.rrelu on x + bias" % fname)
    kernel, p0, p1 = op.select(p)
    return op, _api._KERNEL_INDEX[kernel], p0, p1


def _saturation(fname, t):
    if type(t) is float and 0.0 < t < 1.0:
        return t                        # the common call, without _real's ~0.5 us
    t = _api._real(fname, "saturation", t)
    if not 0.0 < t < 1.0:
        raise ValueError("fastact.%s: saturation must be in (0, 1), got %r" % (fname, t))
    return t


_ACTIVE = (0.0, -np.inf)      # the count band of active outputs: y > 0


def _count_band(fname, op, t, kdt):
    """(hi, lo) of the kernel's count predicate y > hi or y < lo, exact in kdt."""
    if op.monitor == "active":
        return _ACTIVE
    if op.monitor == "saturated":
        lo, hi = op.band(t)
        # y > hi (real) <=> y > hi rounded down; y < lo <=> y < lo rounded up (y in kdt)
        hi_k, lo_k = kdt.type(hi), kdt.type(lo)
        if hi_k > hi:
            hi_k = np.nextafter(hi_k, kdt.type(-np.inf))
        if lo_k < lo:
            lo_k = np.nextafter(lo_k, kdt.type(np.inf))
        return float(hi_k), float(lo_k)
    raise ValueError("fastact.%s: activity counts are defined for the ReLU family (active outputs) and "
                     "sigmoid/tanh (saturated outputs), not for %r" % (fname, op.name))


_BANDS = {}


def _fast_band(op, t, dtype):
    """_count_band for the fast path, remembered (dtype float32 or float64:
    the fast path declines any other, whatever the band)."""
    if op.monitor == "active":
        return _ACTIVE
    key = (op.name, t, dtype.char)
    band = _BANDS.get(key)
    if band is None:
        band = _count_band("bias_act", op, t, dtype if dtype.kind == "f" else np.dtype(np.float64))
        if len(_BANDS) < 256:
            _BANDS[key] = band
    return band


_NEVER = 1 << 62          # a grain no array reaches


def _epilogue_grain(op):
    """The thread grain of linear's epilogue.  It runs right after NumPy's BLAS
    product, when fastact's team is asleep (GOMP_SPINCOUNT, see __init__) and
    the BLAS's own workers may still spin on the other cores; measured on 2
    cores, a second thread made a cheap epilogue slower (relu + bias over
    32 x 4096 float32 after the product: 132 us on one thread, 250 on two; 115
    and 215 with the BLAS on one thread), so cheap activations stay on the
    calling thread.  Transcendental ones keep their grain: 256 x 4096 sigmoid
    takes 2.6 ms on two threads against 4.2 on one with a single-threaded
    BLAS, and 4.3 against 4.2 when the BLAS's workers spin."""
    return _NEVER if op.cls == "cheap" else _api.GRAIN[op.cls]


def _units(fname, shape, axis):
    """(axis, outer, C, inner) of shape viewed along axis (0-d: one unit)."""
    if len(shape) == 0:
        return 0, 1, 1, 1
    if axis == -1 and type(axis) is int:
        return len(shape) - 1, math.prod(shape[:-1]), shape[-1], 1
    ax = _api._axis(fname, _api._integer(fname, "axis", axis), len(shape))
    outer = math.prod(shape[:ax])
    inner = math.prod(shape[ax + 1:])
    return ax, outer, shape[ax], inner


def _bias_array(fname, bias, C, kdt):
    """The bias as a C-contiguous aligned kdt array of C entries (a scalar or 1-element bias is repeated)."""
    b = _api._asarray(fname, bias, "bias")
    if b.dtype.kind not in "fiub":
        raise TypeError("fastact.%s: bias has unsupported dtype %s" % (fname, b.dtype))
    if b.size == 1 and b.ndim <= 1:
        return np.full(max(C, 1), b.reshape(()), kdt)
    if b.ndim != 1 or b.shape[0] != C:
        raise ValueError("fastact.%s: bias must be a scalar or have shape (%d,) (the length of the unit "
                         "axis), got shape %s" % (fname, C, b.shape))
    return _api._kernel_input(b, kdt)


def _monitor_args(fname, op, counts, monitor, saturation):
    """(want counts, saturation threshold) after checking monitor against the activation."""
    if counts is True and monitor is None:
        return True, _saturation(fname, saturation)
    if monitor is not None:
        if not isinstance(monitor, ActivityMonitor):
            raise TypeError("fastact.%s: monitor must be a fastact.ActivityMonitor, got %s"
                            % (fname, type(monitor).__name__))
        if monitor.activation != op.name:
            raise ValueError("fastact.%s: the monitor watches %r, the activation is %r"
                             % (fname, monitor.activation, op.name))
        return True, monitor.saturation
    if not isinstance(counts, (bool, np.bool_)):
        raise TypeError("fastact.%s: counts must be a bool, got %r" % (fname, counts))
    return bool(counts), _saturation(fname, saturation) if counts else None


def _with_counts(y, raw, units, samples, want, counts, monitor):
    """What a forward returns: y, or (y, counts per unit); the monitor gets the counts."""
    if not want:
        return y
    cnt = raw if raw is not None else np.zeros(units, np.int64)     # the kernel's int64 counts
    if monitor is not None:
        monitor.update(cnt, samples)
        if not counts:
            return y
    return y, cnt


# ------------------------------------------------------------ bias_act

def _run(fname, op, kernel, p0, p1, backward, a, s, bias_k, out_k, C, inner, red, band, grain=None):
    hi, lo = band if band is not None else (0.0, 0.0)
    nt = _api._threads_for(op, a.size, grain)
    return _kernels.bias_act(kernel, backward, a.reshape(-1), None if s is None else s.reshape(-1), bias_k,
                             out_k.reshape(-1), max(C, 1), max(inner, 1), red, hi, lo, p0, p1, nt)


def bias_act(x, bias, activation, axis=-1, out=None, *, counts=False, monitor=None, saturation=1e-3, **params):
    """Bias and activation in one pass: ``activation(x + bias)``.

    The bias is broadcast along `axis` (the units, e.g. the features of a
    ``(batch, features)`` array or the channels of NCHW with ``axis=1``);
    ``x + bias`` is rounded to the result's dtype, then the activation runs on
    it, in one pass over memory.  ``out=x`` works in place.

    Parameters
    ----------
    x : array_like
        Input, e.g. a matrix product's result.
    bias : array_like or None
        A scalar or one value per unit: shape ``(x.shape[axis],)``.  None adds
        nothing (the activation alone, e.g. to monitor it).
    activation : str or None
        Any elementwise function of fastact by name or alias (``'relu'``,
        ``'gelu'``, ``'swish'``, ...); None is the identity.
    axis : int, optional
        The unit axis the bias runs along (default -1).
    out : ndarray, optional
        Where to write the result (same shape, the result's dtype); may be x.
    counts : bool, optional
        Also return the activity counts per unit (see Returns).
    monitor : ActivityMonitor, optional
        Accumulate the counts into this monitor (its activation must match).
    saturation : float, optional
        For sigmoid/tanh counts: an output is saturated where the derivative is
        below ``saturation`` times its maximum (default 1e-3).
    **params
        The activation's parameters (e.g. ``alpha=0.1`` for leaky_relu,
        ``approximate='tanh'`` for gelu).

    Returns
    -------
    y : ndarray
        ``activation(x + bias)``; `out` if given.
    counts : ndarray of int64, shape (units,)
        Only with ``counts=True``: per unit (over every other axis), the
        outputs that are active (> 0: relu, leaky_relu, relu6, leaky_relu6,
        rrelu, elu, selu, celu) or saturated (sigmoid, tanh).

    See Also
    --------
    bias_act_backward, linear, ActivityMonitor

    Examples
    --------
    >>> import numpy as np, fastact as fa
    >>> x = np.array([[-1.0, 0.5, 2.0], [0.25, -3.0, 1.0]])
    >>> fa.bias_act(x, np.array([0.5, 0.0, -1.0]), "relu")
    array([[0.  , 0.5 , 1.  ],
           [0.75, 0.  , 0.  ]])
    >>> b = np.array([0.5, 0.0, -1.0])
    >>> y, active = fa.bias_act(x, b, "relu", counts=True)
    >>> active
    array([1, 1, 1])
    """
    fname = "bias_act"
    op, kernel, p0, p1 = _activation(fname, activation, params)
    want = None
    if axis == -1 and type(axis) is int:
        # the common call in C (Python's checks cost ~15 us); None for anything else
        if counts is False and monitor is None:
            y = _kernels.bias_act_fast(kernel, x, bias, out, p0, p1, _api.GRAIN[op.cls], _api.get_num_threads)
            if y is not None:
                return y
        elif op.monitor is not None and type(x) is np.ndarray:
            want, t = _monitor_args(fname, op, counts, monitor, saturation)
            hi, lo = _fast_band(op, t, x.dtype)
            r = _kernels.bias_act_fast(kernel, x, bias, out, p0, p1, _api.GRAIN[op.cls], _api.get_num_threads,
                                       _RED_COUNT, hi, lo)
            if r is not None and monitor is None and want:
                return r                         # (y, counts)
            if r is not None:
                C = x.shape[-1]
                return _with_counts(r[0], r[1], C, x.size // C if C else math.prod(x.shape[:-1]), want,
                                    counts, monitor)
    if want is None:
        want, t = _monitor_args(fname, op, counts, monitor, saturation)
    if type(out) is tuple:
        out = _api._out_arg(fname, out)
    xk, y, rdt, kdt = _api._unary(fname, x, out)
    ax, outer, C, inner = _units(fname, xk.shape, axis)
    band = _count_band(fname, op, t, kdt) if want else None
    b = None if bias is None else _bias_array(fname, bias, C, kdt)
    raw = None
    if xk.size:
        raw = _run(fname, op, kernel, p0, p1, False, xk, None, b, y, C, inner,
                   _RED_COUNT if want else _RED_NONE, band)
    y = _api._finish(y, out, rdt)
    return _with_counts(y, raw, C, outer * inner, want, counts, monitor)


def bias_act_backward(dy, saved, bias, activation, axis=-1, out=None, **params):
    """Backward of `bias_act`: ``(dx, dbias)``.

    ``dx = dy * activation'(x + bias)`` and ``dbias = dx`` summed over every
    axis but `axis` (in float64, in an order fixed by the shape: the same bits
    for any thread count).

    Parameters
    ----------
    dy : array_like
        Gradient arriving at bias_act's output.
    saved : array_like
        What the activation's backward takes: bias_act's output y for
        activations that save y (sigmoid, tanh, relu, elu, ...), else
        bias_act's input x (silu, gelu, softplus, ...; the bias is added
        again in the kernel).  ``fastact.OPS`` lists which
        (``Op.saves``); the identity needs nothing (None).
    bias : array_like or None
        The forward's bias (its shape is dbias's); None: no bias gradient.
    activation : str or None
        As in `bias_act`.
    axis : int, optional
        As in `bias_act`.
    out : ndarray, optional
        Where to write dx; may be dy or saved.
    **params
        The activation's parameters.

    Returns
    -------
    dx : ndarray
        Gradient with respect to x (and to x + bias).
    dbias : ndarray or None
        Gradient with respect to bias, shaped like bias (None without a bias).

    See Also
    --------
    bias_act

    Examples
    --------
    >>> import numpy as np, fastact as fa
    >>> x = np.array([[-1.0, 0.5], [0.25, -3.0]]); b = np.array([0.5, 0.0])
    >>> y = fa.bias_act(x, b, "relu")
    >>> dx, db = fa.bias_act_backward(np.ones_like(x), y, b, "relu")
    >>> dx
    array([[0., 1.],
           [1., 0.]])
    >>> db
    array([1., 1.])
    """
    fname = "bias_act_backward"
    op, kernel, p0, p1 = _activation(fname, activation, params)
    if not op.saves and saved is None:
        saved = dy
    if type(out) is tuple:
        out = _api._out_arg(fname, out)
    dyk, sk, dx, rdt, kdt = _api._binary(fname, dy, saved, out, "saved")
    ax, outer, C, inner = _units(fname, dyk.shape, axis)
    b = None if bias is None else _bias_array(fname, bias, C, kdt)
    raw = None
    if dyk.size:
        raw = _run(fname, op, kernel, p0, p1, True, dyk, sk, b if op.saves == "x" else None, dx, C, inner,
                   _RED_SUM if b is not None else _RED_NONE, None)
    dx = _api._finish(dx, out, rdt)
    if b is None:
        return dx, None
    db = raw if raw is not None else np.zeros(C, np.float64)
    if np.ndim(bias) == 0 or np.size(bias) == 1 and C != 1:
        db = np.array(db.sum())       # a scalar bias: its gradient is the total
    db = _api._cast(db, rdt).reshape(np.shape(bias))
    return dx, db


# -------------------------------------------------------------- linear

def _linear_operands(fname, x, weight, bias):
    x = _api._asarray(fname, x, "x")
    w = _api._asarray(fname, weight, "weight")
    for name, a in (("x", x), ("weight", w)):
        _api._dtypes(fname, a.dtype)
    if w.ndim != 2:
        raise ValueError("fastact.%s: weight must be 2-D (out_features, in_features), got shape %s"
                         % (fname, w.shape))
    if x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ValueError("fastact.%s: x's last axis must have in_features = %d entries (weight %s), got x %s"
                         % (fname, w.shape[1], w.shape, x.shape))
    dts = [x.dtype, w.dtype]
    if bias is not None:
        bias = _api._asarray(fname, bias, "bias")
        if bias.dtype.kind not in "fiub":
            raise TypeError("fastact.%s: bias has unsupported dtype %s" % (fname, bias.dtype))
        if bias.shape not in ((w.shape[0],), (), (1,)):
            raise ValueError("fastact.%s: bias must have shape (%d,) (out_features), got %s"
                             % (fname, w.shape[0], bias.shape))
        dts.append(bias.dtype)
    rdt, kdt = _api._dtypes(fname, np.result_type(*dts))
    xk = _api._kernel_input(x, kdt).reshape(-1, w.shape[1])
    wk = _api._kernel_input(w, kdt)
    return x, xk, wk, bias, rdt, kdt




# linear and linear_backward without a weight: the registry's identity under
# the names linear and linear_backward (its alias, LAYER_ALIASES)
_IDENTITY = {backward: _api._make("linear" + ("_backward" if backward else ""), lookup("identity"), backward,
                                  "identity") for backward in (False, True)}


def _identity_form(fname, params, **given):
    """The identity form's check: none of the layer's operands or options
    given, and no activation parameter at all."""
    extra = sorted([k for k, v in given.items() if v is not None and v is not False] + list(params))
    if extra:
        raise TypeError("fastact.%s: without a weight it is the identity (fastact.identity's alias), which takes "
                        "no %s; pass weight= for the linear layer" % (fname, ", ".join(extra)))
    return _IDENTITY[fname.endswith("_backward")]


def linear(x, weight=None, bias=None, activation=None, out=None, *, counts=False, monitor=None, saturation=1e-3,
           **params):
    """A linear layer with a fused epilogue: ``activation(x @ weight.T + bias)``.

    The convention of ``torch.nn.functional.linear``: x is
    ``(..., in_features)``, weight ``(out_features, in_features)``, bias
    ``(out_features,)``.  The
    product is NumPy's matmul (BLAS) written straight into the output buffer;
    bias and activation then run in place over it in one pass (`bias_act`).

    Without a weight, ``linear(x, out=None)`` is the linear activation, the
    identity: an alias of `identity` (``fastact.ALIASES['linear']``), as
    ``bias_act(x, b, 'linear')`` and ``linear_backward(dy)`` are.

    Parameters
    ----------
    x : array_like
        Input, ``(..., in_features)``.
    weight : array_like or None
        ``(out_features, in_features)``.  None (the default): the identity,
        which takes no bias, activation or counts.
    bias : array_like, optional
        ``(out_features,)`` or a scalar.
    activation : str or None, optional
        Any elementwise function of fastact by name; None (default) is none.
    out : ndarray, optional
        Where to write the result, ``(..., out_features)``; must not overlap x
        or weight.
    counts : bool, optional
        Also return the activity counts of the output units (see `bias_act`).
    monitor : ActivityMonitor, optional
        Accumulate the counts into this monitor.
    saturation : float, optional
        The saturation threshold for sigmoid/tanh counts (default 1e-3).
    **params
        The activation's parameters.

    Returns
    -------
    y : ndarray
        ``(..., out_features)``, float32 when every operand is float32 (or
        narrower), else float64.
    counts : ndarray of int64
        Only with ``counts=True`` (see `bias_act`).

    See Also
    --------
    linear_backward, bias_act

    Examples
    --------
    >>> import numpy as np, fastact as fa
    >>> x = np.array([[1.0, 2.0]]); w = np.array([[1.0, -1.0], [0.5, 0.5]])
    >>> fa.linear(x, w, np.array([0.0, 1.0]), "relu")
    array([[0. , 2.5]])
    >>> fa.linear(x)  # no weight: the identity
    array([[1., 2.]])
    """
    fname = "linear"
    if weight is None:
        return _identity_form(fname, params, bias=bias, activation=activation, counts=counts,
                              monitor=monitor)(x, out=out)
    op, kernel, p0, p1 = _activation(fname, activation, params)
    if counts is False and monitor is None:
        # the common call in C (a batch-1 layer costs microseconds); None for anything else
        y = _kernels.linear_fast(kernel, x, weight, bias, out, p0, p1, op.name != "identity",
                                 _epilogue_grain(op), _api.get_num_threads)
        if y is not None:
            return y
    want, t = _monitor_args(fname, op, counts, monitor, saturation)
    x, xk, wk, bias, rdt, kdt = _linear_operands(fname, x, weight, bias)
    shape = x.shape[:-1] + (wk.shape[0],)
    if type(out) is tuple:
        out = _api._out_arg(fname, out)
    if out is not None:
        _api._check_out(fname, out, shape, rdt)
        if np.may_share_memory(out, x) or np.may_share_memory(out, weight):
            raise ValueError("fastact.%s: out overlaps x or weight" % fname)
    direct = _api._writable_directly(out, kdt, ())
    z = out if direct else np.empty(shape, kdt)
    z2 = z.reshape(-1, wk.shape[0])
    np.matmul(xk, wk.T, out=z2)
    b = None if bias is None else _bias_array(fname, bias, wk.shape[0], kdt)
    band = _count_band(fname, op, t, kdt) if want else None
    raw = None
    if z2.size and (b is not None or op.name != "identity" or want):
        raw = _run(fname, op, kernel, p0, p1, False, z2, None, b, z2, wk.shape[0], 1,
                   _RED_COUNT if want else _RED_NONE, band, _epilogue_grain(op))
    y = _api._finish(z, out, rdt)
    return _with_counts(y, raw, wk.shape[0], z2.shape[0], want, counts, monitor)


def linear_backward(dy, x=None, weight=None, bias=None, activation=None, y=None, out=None, **params):
    """Backward of `linear`: ``(dx, dweight, dbias)``.

    With ``dz = dy * activation'(z)``, ``z = x @ weight.T + bias``:
    ``dx = dz @ weight``, ``dweight = dz.T @ x`` (over every leading axis of
    x), ``dbias = dz`` summed over every axis but the last.

    Without a weight it is `identity_backward` (``linear_backward(dy, x=None,
    out=None)`` returns dx = dy, into `out` if given), the backward of
    ``linear(x)``.

    Parameters
    ----------
    dy : array_like
        Gradient at linear's output, ``(..., out_features)``.
    x : array_like
        The forward's input (ignored without a weight).
    weight : array_like or None
        The forward's weight; None (the default): the identity's backward.
    bias : array_like or None, optional
        The forward's bias (None: no bias, no dbias).
    activation : str or None, optional
        As in `linear`.
    y : array_like, optional
        The forward's output: required for activations whose backward
        takes y (sigmoid, tanh, relu, elu, ...).  For those that take their
        input (silu, gelu, softplus, ...) z is recomputed (one more matrix
        product).
    out : ndarray, optional
        The identity form's output (without a weight) only; the layer's
        gradients are new arrays.
    **params
        The activation's parameters.

    Returns
    -------
    dx : ndarray
        Like x.
    dweight : ndarray
        Like weight.
    dbias : ndarray or None
        Like bias (None without a bias).

    See Also
    --------
    linear, bias_act_backward

    Examples
    --------
    >>> import numpy as np, fastact as fa
    >>> x = np.array([[1.0, 2.0]]); w = np.array([[1.0, -1.0], [0.5, 0.5]])
    >>> b = np.array([0.0, 1.0])
    >>> y = fa.linear(x, w, b, "relu")
    >>> dx, dw, db = fa.linear_backward(np.ones_like(y), x, w, b, "relu", y=y)
    >>> dx
    array([[0.5, 0.5]])
    >>> dw
    array([[0., 0.],
           [1., 2.]])
    >>> db
    array([0., 1.])
    """
    fname = "linear_backward"
    if weight is None:
        return _identity_form(fname, params, bias=bias, activation=activation, y=y)(dy, x, out=out)
    if out is not None:
        raise TypeError("fastact.%s: out= is for the identity form (no weight); the layer's gradients "
                        "(dx, dweight, dbias) are new arrays" % fname)
    if x is None:
        raise TypeError("fastact.%s: x, the forward's input, is required with a weight" % fname)
    op, kernel, p0, p1 = _activation(fname, activation, params)
    x, xk, wk, bias, rdt, kdt = _linear_operands(fname, x, weight, bias)
    dy = _api._asarray(fname, dy, "dy")
    _api._dtypes(fname, dy.dtype)
    shape = x.shape[:-1] + (wk.shape[0],)
    if dy.shape != shape:
        raise ValueError("fastact.%s: dy must have the output's shape %s, got %s" % (fname, shape, dy.shape))
    dyk = _api._kernel_input(dy, kdt).reshape(-1, wk.shape[0])
    b = None if bias is None else _bias_array(fname, bias, wk.shape[0], kdt)
    if op.saves == "y":
        if y is None:
            raise ValueError("fastact.%s: activation %r needs y, the forward's output (y=...)" % (fname, op.name))
        s = _api._asarray(fname, y, "y")
        if s.shape != shape:
            raise ValueError("fastact.%s: y must have the output's shape %s, got %s" % (fname, shape, s.shape))
        s = _api._kernel_input(s, kdt).reshape(dyk.shape)
    elif op.saves == "x":
        s = np.matmul(xk, wk.T)               # z without the bias: the kernel adds it
    else:
        s = dyk
    dz = np.empty(dyk.shape, kdt)
    raw = None
    if dz.size:
        raw = _run(fname, op, kernel, p0, p1, True, dyk, s, b if op.saves == "x" else None, dz, wk.shape[0], 1,
                   _RED_SUM if b is not None else _RED_NONE, None)
    dx = (dz @ wk).reshape(x.shape)
    dw = dz.T @ xk
    db = None
    if b is not None:
        db = raw if raw is not None else np.zeros(wk.shape[0])
        if bias.ndim == 0 or bias.size == 1 and wk.shape[0] != 1:
            db = np.array(db.sum())
        db = _api._cast(db, rdt).reshape(bias.shape)
    return _api._finish(dx, None, rdt), _api._finish(dw, None, rdt), db


# ---------------------------------------------------------- monitoring

class ActivityMonitor:
    """Accumulates per-unit activity counts over batches.

    For the ReLU family it counts active outputs (> 0) per unit, so that
    units that were never active -- dead units -- stand out; for sigmoid and
    tanh it counts saturated outputs (derivative below ``saturation`` times
    its maximum).  Feed it with ``fastact.bias_act(..., monitor=m)`` or
    ``fastact.linear(..., monitor=m)`` (counted in the same pass), by calling
    it like `bias_act`, or with `update` from counts of your own.

    Parameters
    ----------
    activation : str
        The monitored activation (a name or alias of the ReLU family, sigmoid
        or tanh).
    saturation : float, optional
        The saturation threshold (sigmoid, tanh), default 1e-3.

    Attributes
    ----------
    kind : str
        'active' or 'saturated'.
    counts : ndarray of int64 or None
        Per unit, the outputs counted so far (None before the first batch).
    samples : int
        Outputs per unit seen so far (the product of the other axes' lengths,
        summed over batches).
    batches : int
        How many batches were added.

    See Also
    --------
    bias_act, linear

    Examples
    --------
    >>> import numpy as np, fastact as fa
    >>> m = fa.ActivityMonitor("relu")
    >>> x = np.array([[1.0, -2.0, 0.5], [2.0, -1.0, -0.5]])
    >>> y = m(x, bias=np.zeros(3))
    >>> m.counts, m.samples
    (array([2, 0, 1]), 2)
    >>> m.never_active()
    array([1])
    >>> m.fraction()
    array([1. , 0. , 0.5])
    """

    def __init__(self, activation, saturation=1e-3):
        op = lookup(activation) if isinstance(activation, str) else None
        if op is None or not op.monitor:
            raise ValueError("fastact.ActivityMonitor: activation must be one of the ReLU family or "
                             "sigmoid/tanh, got %r" % (activation,))
        self.activation = op.name
        self.kind = op.monitor
        self.saturation = _saturation("ActivityMonitor", saturation)
        self.reset()

    def reset(self):
        """Forget every batch."""
        self.counts = None
        self.samples = 0
        self.batches = 0

    def update(self, counts, samples):
        """Add one batch: `counts` per unit out of `samples` outputs per unit."""
        c = np.asarray(counts)
        if c.ndim != 1 or c.dtype.kind not in "iu":
            raise ValueError("fastact.ActivityMonitor.update: counts must be a 1-D integer array, got %s %s"
                             % (c.dtype, c.shape))
        if not isinstance(samples, numbers.Integral) or samples < 0 or (c.size and c.max() > samples) \
                or (c.size and c.min() < 0):
            raise ValueError("fastact.ActivityMonitor.update: need 0 <= counts <= samples (an integer), "
                             "got samples=%r" % (samples,))
        if self.counts is None:
            self.counts = np.zeros(c.shape, np.int64)
        elif self.counts.shape != c.shape:
            raise ValueError("fastact.ActivityMonitor.update: %d units, this monitor has %d"
                             % (c.size, self.counts.size))
        self.counts += c
        self.samples += int(samples)
        self.batches += 1

    def __call__(self, x, bias=None, axis=-1, out=None, **params):
        """``bias_act(x, bias, activation, axis, out, **params)``, counted into this monitor."""
        return bias_act(x, bias, self.activation, axis, out, monitor=self, **params)

    def fraction(self):
        """Per unit, the fraction of outputs counted (active or saturated)."""
        if self.counts is None:
            raise ValueError("fastact.ActivityMonitor: no batch seen yet")
        return self.counts / max(self.samples, 1)

    def never_active(self):
        """Indices of the units that were never active (dead units); ReLU family only."""
        if self.kind != "active":
            raise ValueError("fastact.ActivityMonitor: never_active() is for the ReLU family; %r counts "
                             "saturated outputs" % self.activation)
        if self.counts is None:
            raise ValueError("fastact.ActivityMonitor: no batch seen yet")
        return np.flatnonzero(self.counts == 0)

    def dead_fraction(self):
        """The fraction of units never active (ReLU family)."""
        return self.never_active().size / max(self.counts.size, 1)

    def saturated_fraction(self):
        """The fraction of all outputs that were saturated (sigmoid, tanh)."""
        if self.kind != "saturated":
            raise ValueError("fastact.ActivityMonitor: saturated_fraction() is for sigmoid/tanh; %r counts "
                             "active outputs" % self.activation)
        if self.counts is None:
            raise ValueError("fastact.ActivityMonitor: no batch seen yet")
        return float(self.counts.sum()) / max(self.samples * self.counts.size, 1)

    def report(self):
        """A one-line summary."""
        if self.counts is None:
            return "%s: no batch seen" % self.activation
        if self.kind == "active":
            dead = self.never_active()
            return "%s: %d of %d units never active over %d batches (%d outputs per unit)" % (
                self.activation, dead.size, self.counts.size, self.batches, self.samples)
        return "%s: %.2f%% of outputs saturated (derivative < %g of its maximum) over %d batches" % (
            self.activation, 100.0 * self.saturated_fraction(), self.saturation, self.batches)

    def __repr__(self):
        return "ActivityMonitor(%r, saturation=%g): %s" % (self.activation, self.saturation, self.report())


for _f in (bias_act, bias_act_backward, linear, linear_backward, ActivityMonitor):
    _f.__module__ = "fastact"
