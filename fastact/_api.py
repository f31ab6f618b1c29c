"""The public wrappers, built from the registry.

Every wrapper validates everything (dtypes, shapes, ``out``, parameters) and
picks a kernel; kernels never check and never raise.  Nothing is written to
``out`` unless every check passed.

Notes
-----
- dtypes: float32 and float64 run natively and keep their dtype; other real
  inputs follow ``np.tanh``'s casting (bool/int8/uint8 -> float16,
  int16/uint16 -> float32, wider ints -> float64); float16 is computed in
  float32 and rounded back.  Anything else is a TypeError.
- Kernels see C-contiguous, aligned, native-endian arrays.  Other layouts are
  copied on the way in; an ``out`` the kernel cannot write directly (layout,
  dtype, or partial overlap with an input) gets a temporary and one copy.
  ``out=x`` (the very same memory) is computed in place without a copy.
- Calls below a grain size (per cost class) run on one thread.
- A dask array argument gets a lazy dask result (fastact._dask, imported
  only then; the check costs a dict lookup while dask.array is not imported).
"""

import math
import numbers
import re
import sys
import textwrap

import numpy as np

from . import _special
from ._docs import DOCS as _DOCS
from ._dispatch import kernels as _elementwise
from ._registry import LAYER_ALIASES, OPS
from ._threads import get_num_threads

__all__ = []  # filled by _install()

_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_KERNEL_INDEX = {k: i for i, k in enumerate(_elementwise.KERNELS)}
_FORWARD = {_F32: _elementwise.forward_f32, _F64: _elementwise.forward_f64}
_BACKWARD = {_F32: _elementwise.backward_f32, _F64: _elementwise.backward_f64}
_ROW_KERNEL = _elementwise.ROW_KERNELS

# Below this many elements a call runs on one thread: starting an OpenMP team
# costs a few microseconds, which only pays on larger arrays.
GRAIN = {"cheap": 1 << 16, "transcendental": 1 << 13, "rowwise": 1 << 13}


_REQUIRED = object()


# ----------------------------------------------------------------- checks

def _dtypes(fname, dt):
    """(result dtype, kernel dtype) for an input dtype, as np.tanh casts."""
    kind = dt.kind
    if kind == "f":
        if dt.itemsize == 4:
            return _F32, _F32
        if dt.itemsize == 8:
            return _F64, _F64
        if dt.itemsize == 2:
            return _F16, _F32
    elif kind in "biu":
        res = np.result_type(dt.newbyteorder("="), _F16)
        return res, (_F32 if res == _F16 else res)
    raise TypeError(
        "fastact.%s: unsupported dtype %s (fastact computes on real float16/32/64, "
        "integer and boolean arrays)" % (fname, dt))


def _asarray(fname, a, what):
    if isinstance(a, np.ndarray):
        return a
    try:
        return np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise TypeError("fastact.%s: %s is not array-like (%s)" % (fname, what, exc)) from None


def _kernel_input(a, kdt):
    """a as a C-contiguous aligned native array of the kernel dtype (no copy if it is one)."""
    if a.dtype == kdt and a.flags.c_contiguous and a.flags.aligned:
        return a
    return np.require(a, kdt, ["C", "A"])


def _check_out(fname, out, shape, rdt):
    if not isinstance(out, np.ndarray):
        raise TypeError("fastact.%s: out must be a numpy.ndarray, got %s" % (fname, type(out).__name__))
    if out.dtype.newbyteorder("=") != rdt:
        raise TypeError("fastact.%s: out has dtype %s, the result is %s" % (fname, out.dtype, rdt))
    if out.shape != shape:
        raise ValueError("fastact.%s: out has shape %s, the result has shape %s" % (fname, out.shape, shape))
    if not out.flags.writeable:
        raise ValueError("fastact.%s: out is read-only" % fname)


def _out_arg(fname, out):
    """out as a ufunc takes it: an array, None, or a 1-tuple of either."""
    if type(out) is tuple:
        if len(out) != 1:
            raise ValueError("fastact.%s: out must be an array or a tuple of one array (one output), "
                             "got a tuple of %d" % (fname, len(out)))
        out = out[0]
    return out


def _same_view(a, b):
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.strides == b.strides and a.shape == b.shape)


def _writable_directly(out, kdt, inputs):
    """True when a kernel may write straight into out (same memory as an input is fine)."""
    if out is None or out.dtype != kdt or not out.flags.c_contiguous or not out.flags.aligned:
        return False
    for a in inputs:
        if a is not out and np.may_share_memory(a, out) and not _same_view(a, out):
            return False  # partial overlap: compute into a temporary
    return True


def _finish(result, out, rdt):
    """Copy the kernel's result to out (if it was not written there) or return it."""
    # (a float32 -> float16 cast may overflow to inf: that is the result, without
    # a warning or a flag left set)
    if out is not None:
        if result is not out:
            _special.copy_keep_flags(out, result)
        return out
    if result.dtype != rdt:
        result = _cast(result, rdt)
    return result if result.ndim else result[()]


def _cast(a, dtype):
    res = np.empty(a.shape, dtype)
    _special.copy_keep_flags(res, a)
    return res


def _threads_for(op, n, grain=None):
    """Threads for n elements of op: one below its grain (GRAIN, or `grain`)."""
    return 1 if n < (GRAIN[op.cls] if grain is None else grain) else get_num_threads()


def _real(fname, name, v):
    if type(v) is float and math.isfinite(v):
        return v                            # the common case, without the ABC checks
    if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "fiu":
        v = v.item()
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError("fastact.%s: %s must be a real number, got %r" % (fname, name, v))
    v = float(v)
    if not np.isfinite(v):
        raise ValueError("fastact.%s: %s must be finite, got %r" % (fname, name, v))
    return v


def _integer(fname, name, v):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError("fastact.%s: %s must be an integer, got %r" % (fname, name, v))
    return int(v)


def _check_param(fname, p, v):
    """The validated value of parameter p (TypeError/ValueError naming fname)."""
    c = p.check
    if c in ("real", "nonzero", "nonneg", "unit"):
        v = _real(fname, p.name, v)
        if c == "nonzero" and v == 0.0:
            raise ValueError("fastact.%s: %s must be nonzero" % (fname, p.name))
        if c == "nonneg" and v < 0.0:
            raise ValueError("fastact.%s: %s must be >= 0, got %r" % (fname, p.name, v))
        if c == "unit" and not 0.0 <= v <= 1.0:
            raise ValueError("fastact.%s: %s must be in [0, 1], got %r" % (fname, p.name, v))
        return v
    if c == "choice":
        if not isinstance(v, str) or v not in p.choices:
            raise ValueError("fastact.%s: %s must be one of %s, got %r" % (fname, p.name, p.choices, v))
        return v
    if c == "bool":
        if not isinstance(v, (bool, np.bool_, numbers.Integral)):
            raise TypeError("fastact.%s: %s must be a bool, got %r" % (fname, p.name, v))
        return bool(v)
    if c == "seed":
        return None if v is None else _integer(fname, p.name, v) & 0xFFFFFFFFFFFFFFFF
    if c == "pieces":
        v = _integer(fname, p.name, v)
        if v < 1:
            raise ValueError("fastact.%s: %s must be a positive integer, got %d" % (fname, p.name, v))
        return v
    if c == "axis":
        return _integer(fname, p.name, v)
    if c == "weight":
        return v  # checked against x in _prelu_*
    raise AssertionError(c)


def _params(fname, op, values):
    p = {param.name: _check_param(fname, param, v) for param, v in zip(op.params, values)}
    if op.validate is not None:
        msg = op.validate(p)
        if msg:
            raise ValueError("fastact.%s: %s" % (fname, msg))
    return p


def _axis(fname, axis, ndim):
    nd = max(ndim, 1)
    if not -nd <= axis < nd:
        raise ValueError("fastact.%s: axis %d is out of bounds for an array of dimension %d" % (fname, axis, ndim))
    return axis % nd


def _pair(fname, dy, s, sname):
    dy = _asarray(fname, dy, "dy")
    s = _asarray(fname, s, sname)
    _dtypes(fname, dy.dtype)
    _dtypes(fname, s.dtype)
    if dy.shape != s.shape:
        raise ValueError("fastact.%s: dy and %s must have the same shape, got dy %s and %s %s"
                         % (fname, sname, dy.shape, sname, s.shape))
    rdt, kdt = _dtypes(fname, np.result_type(dy.dtype, s.dtype))
    return dy, s, rdt, kdt


def _unary(fname, x, out):
    """Checked kernel-ready input and output for a same-shape one-input call:
    (x as a kernel array, where to write, result dtype, kernel dtype)."""
    x = _asarray(fname, x, "x")
    rdt, kdt = _dtypes(fname, x.dtype)
    if out is not None:
        _check_out(fname, out, x.shape, rdt)
    xk = _kernel_input(x, kdt)
    y = out if _writable_directly(out, kdt, (xk,)) else np.empty(x.shape, kdt)
    return xk, y, rdt, kdt


def _binary(fname, dy, s, out, sname):
    """The same for a backward (dy, saved) -> dx call."""
    dy, s, rdt, kdt = _pair(fname, dy, s, sname)
    if out is not None:
        _check_out(fname, out, dy.shape, rdt)
    dyk = _kernel_input(dy, kdt)
    sk = _kernel_input(s, kdt)
    dx = out if _writable_directly(out, kdt, (dyk, sk)) else np.empty(dy.shape, kdt)
    return dyk, sk, dx, rdt, kdt


# ----------------------------------------------------------- elementwise

# (kernel index, p0, p1) of the parameter values already checked, per
# elementwise op, so that a call with other than the defaults (gelu's
# approximate='tanh', leaky_relu's alpha=0.2) takes the fast path from its
# second call on (3.8 -> 1.0 us for gelu(approximate='tanh') on 1000 float32).
# Keyed by each value's type and value (_selected_key; _fast_path writes the
# same tuple inline), so that only a value of the same type that passed the
# checks hits (True is not 1.0, nor a float32 0.2 a float 0.2); at most
# _SELECTED_MAX entries per op, so a sweep over many values cannot grow it.
_SELECTED = {op.name: {} for op in OPS if op.kind == "elementwise"}
_SELECTED_MAX = 64


def _selected_key(values):
    return tuple(t for v in values for t in (type(v), v))


def _select(fname, op, values):
    """(kernel index, p0, p1) for checked parameter values, remembered."""
    kernel, p0, p1 = op.select(_params(fname, op, values))
    kid = _KERNEL_INDEX[kernel]
    cache = _SELECTED.get(op.name)      # (rrelu's eval mode comes here too: not remembered)
    # a zero of either sign is never remembered: -0.0 == 0.0 as a key, but
    # alpha = -0.0 gives other zeros than alpha = 0.0
    if cache is not None and len(cache) < _SELECTED_MAX and not any(isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral)
                                              and v == 0 for v in values):
        try:
            cache[_selected_key(values)] = (kid, p0, p1)
        except TypeError:       # an unhashable value (that passed the checks)
            pass
    return kid, p0, p1


def _ew_forward(fname, op, x, values, out):
    kid, p0, p1 = _select(fname, op, values)
    xk, y, rdt, kdt = _unary(fname, x, out)
    if xk.size:
        _FORWARD[kdt](kid, xk.reshape(-1), y.reshape(-1), p0, p1,
                      _threads_for(op, xk.size))
    return _finish(y, out, rdt)


def _ew_backward(fname, op, dy, s, values, out, sname):
    if s is None:  # identity: the backward needs nothing but dy
        s = dy
    kid, p0, p1 = _select(fname, op, values)
    dyk, sk, dx, rdt, kdt = _binary(fname, dy, s, out, sname)
    if dyk.size:
        _BACKWARD[kdt](kid, dyk.reshape(-1), sk.reshape(-1), dx.reshape(-1), p0, p1,
                       _threads_for(op, dyk.size))
    return _finish(dx, out, rdt)


# ------------------------------------------------------------------ rrelu

def _rrelu_forward(fname, op, x, values, out, starts=None):
    """starts: the flat index of each row of x in a larger array, whose slopes
    x then draws (a dask block; see _elementwise.rrelu_train)."""
    p = _params(fname, op, values)
    if not p["training"]:
        return _ew_forward(fname, op, x, values, out)
    xk, y, rdt, kdt = _unary(fname, x, out)
    seed = p["seed"]
    if seed is None:
        seed = int(np.random.randint(0, 2 ** 63 - 1, dtype=np.int64))
    if xk.size:
        x1 = xk.reshape(-1)
        _elementwise.rrelu_train(x1, x1, y.reshape(-1), p["lower"], p["upper"], seed, False,
                                 _threads_for(op, xk.size), starts)
    return _finish(y, out, rdt)


def _rrelu_backward(fname, op, dy, x, values, out, sname, starts=None):
    p = _params(fname, op, values)
    if not p["training"]:
        return _ew_backward(fname, op, dy, x, values, out, sname)
    if p["seed"] is None:
        raise ValueError("fastact.%s: training=True needs the seed the forward used" % fname)
    dyk, xk, dx, rdt, kdt = _binary(fname, dy, x, out, sname)
    if dyk.size:
        _elementwise.rrelu_train(dyk.reshape(-1), xk.reshape(-1), dx.reshape(-1), p["lower"], p["upper"],
                                 p["seed"], True, _threads_for(op, dyk.size), starts)
    return _finish(dx, out, rdt)


# ------------------------------------------------------------------ prelu

def _prelu_weight(fname, weight, x, axis, kdt):
    """(weight as a 1-D kernel array, (outer, C, inner) view shape of x, weight's shape)."""
    w = _asarray(fname, weight, "weight")
    if w.dtype.kind not in "fiub":
        raise TypeError("fastact.%s: weight has unsupported dtype %s" % (fname, w.dtype))
    if w.ndim > 1:
        raise ValueError("fastact.%s: weight must be a scalar or 1-D, got shape %s" % (fname, w.shape))
    if w.size == 0:
        raise ValueError("fastact.%s: weight is empty" % fname)
    with np.errstate(over="ignore"):                # out of kdt's range: inf, refused below
        wk = _kernel_input(w.reshape(-1), kdt)      # (aligned too: a weight unpickled by dask may not be)
    if not _elementwise.all_finite(wk):
        raise ValueError("fastact.%s: weight must be finite (in %s)" % (fname, kdt))
    if w.size == 1:
        return wk, (1, 1, max(x.size, 0)), w.shape
    if x.ndim == 0:
        raise ValueError("fastact.%s: weight has %d entries but x is 0-d (one channel)" % (fname, w.size))
    ax = _axis(fname, axis, x.ndim)
    if x.shape[ax] != w.size:
        raise ValueError("fastact.%s: weight has %d entries but x has %d channels along axis %d (shape %s)"
                         % (fname, w.size, x.shape[ax], ax, x.shape))
    return wk, (math.prod(x.shape[:ax]), w.size, math.prod(x.shape[ax + 1:])), w.shape


def _prelu_forward(fname, op, x, values, out):
    weight, axis = values       # (the common call took _elementwise.prelu_fast: _fast_path)
    axis = _integer(fname, "axis", axis)
    xk, y, rdt, kdt = _unary(fname, x, out)
    w, view, _ = _prelu_weight(fname, weight, xk, axis, kdt)
    if xk.size:
        _elementwise.prelu_forward(xk.reshape(-1), w, y.reshape(-1), view[1], view[2], _threads_for(op, xk.size))
    return _finish(y, out, rdt)


def _prelu_backward(fname, op, dy, x, values, out, sname, dw64=False):
    """Returns (dx, dweight); dweight has weight's shape (dw64: 1-D float64,
    not rounded to the result dtype, for fastact._dask to add up blocks)."""
    weight, axis = values
    if dw64:    # (fastact._dask's blocks; the common call of fastact.prelu_backward took the fast path)
        r = _elementwise.prelu_backward_fast(dy, x, weight, axis, out, GRAIN[op.cls], get_num_threads, True)
        if r is not None:
            return r
    axis = _integer(fname, "axis", axis)
    dyk, xk, dx, rdt, kdt = _binary(fname, dy, x, out, sname)
    w, view, wshape = _prelu_weight(fname, weight, xk, axis, kdt)
    if xk.size:
        dw = _elementwise.prelu_backward(dyk.reshape(-1), xk.reshape(-1), w, dx.reshape(-1), view[1], view[2],
                                         _threads_for(op, xk.size))
    else:
        dw = np.zeros(w.shape[0], np.float64)
    if dw64:
        return _finish(dx, out, rdt), dw
    # the float64 sum may overflow the result type: inf is right
    return _finish(dx, out, rdt), _cast(dw, rdt).reshape(wshape)


# ------------------------------------------------------ softmax & maxout

def _last_axis_2d(fname, a, axis, kdt):
    """a with `axis` moved last, C-contiguous, as 2-D (rows, length); and the moved shape."""
    a1 = a.reshape(1) if a.ndim == 0 else a
    ax = _axis(fname, axis, a.ndim)
    moved = a1 if ax == a1.ndim - 1 else np.moveaxis(a1, ax, -1)
    mk = _kernel_input(moved, kdt)
    length = moved.shape[-1]
    rows = mk.size // length if length else 0
    return mk.reshape(rows, length), moved.shape, ax


def _place(result2d, moved_shape, ax, shape, out, rdt):
    """Move the kernel's 2-D result back to `shape` (axis restored) and finish."""
    res = result2d.reshape(moved_shape)
    if len(shape) == 0:
        res = res.reshape(())
    elif ax != len(shape) - 1:
        res = np.moveaxis(res, -1, ax)
    if out is None and not res.flags.c_contiguous:
        res = np.ascontiguousarray(res)
    return _finish(res, out, rdt)


def _target_2d(out, kdt, inputs, ax, ndim, shape2d):
    """out itself (as 2-D) when the kernel can write it directly, else a new array."""
    if out is not None and (ax == ndim - 1 or ndim == 0) and _writable_directly(out, kdt, inputs):
        return out.reshape(shape2d), True
    return np.empty(shape2d, kdt), False


def _softmax_forward(fname, op, x, values, out):
    (axis,) = values
    axis = _integer(fname, "axis", axis)
    x = _asarray(fname, x, "x")
    rdt, kdt = _dtypes(fname, x.dtype)
    if out is not None:
        _check_out(fname, out, x.shape, rdt)
    xk, moved_shape, ax = _last_axis_2d(fname, x, axis, kdt)
    y, direct = _target_2d(out, kdt, (xk,), ax, x.ndim, xk.shape)
    _elementwise.softmax_rows(_ROW_KERNEL[op.name], xk, xk, y, _row_threads(op, xk))
    if direct:
        return out
    return _place(y, moved_shape, ax, x.shape, out, rdt)


def _softmax_backward(fname, op, dy, y, values, out, sname):
    (axis,) = values
    axis = _integer(fname, "axis", axis)
    dy, y, rdt, kdt = _pair(fname, dy, y, sname)
    if out is not None:
        _check_out(fname, out, dy.shape, rdt)
    dyk, moved_shape, ax = _last_axis_2d(fname, dy, axis, kdt)
    yk, _, _ = _last_axis_2d(fname, y, axis, kdt)
    dx, direct = _target_2d(out, kdt, (dyk, yk), ax, dy.ndim, dyk.shape)
    _elementwise.softmax_rows(_ROW_KERNEL[op.name + "_backward"], dyk, yk, dx, _row_threads(op, dyk))
    if direct:
        return out
    return _place(dx, moved_shape, ax, dy.shape, out, rdt)


def _row_threads(op, a2d):
    """Thread count of a row kernel: one row, or fewer elements than the grain, run on one thread."""
    return 1 if a2d.shape[0] < 2 else _threads_for(op, a2d.size)


def _maxout_shapes(fname, x, pieces, axis):
    ax = _axis(fname, axis, x.ndim)
    length = x.shape[ax] if x.ndim else 1
    if length % pieces:
        raise ValueError("fastact.%s: the length of axis %d (%d) is not a multiple of pieces=%d"
                         % (fname, ax, length, pieces))
    yshape = list(x.shape)
    if x.ndim:
        yshape[ax] = length // pieces
    return ax, tuple(yshape)


def _maxout_forward(fname, op, x, values, out):
    pieces, axis = values
    pieces = _check_param(fname, op.params[0], pieces)
    axis = _integer(fname, "axis", axis)
    x = _asarray(fname, x, "x")
    rdt, kdt = _dtypes(fname, x.dtype)
    ax, yshape = _maxout_shapes(fname, x, pieces, axis)
    if out is not None:
        _check_out(fname, out, yshape, rdt)
    xk, moved_shape, _ = _last_axis_2d(fname, x, axis, kdt)
    groups = xk.shape[1] // pieces
    y, direct = _target_2d(out, kdt, (xk,), ax, x.ndim, (xk.shape[0], groups))
    flat = xk.reshape(-1)
    _elementwise.maxout_kernel(False, flat, flat, y.reshape(-1), pieces, _threads_for(op, xk.size))
    if direct:
        return out
    return _place(y, moved_shape[:-1] + (groups,), ax, yshape, out, rdt)


def _maxout_pair(fname, op, dy, x, values, sname):
    """Checked maxout_backward arguments: (dy, x, pieces, axis, ax, result dtype, kernel dtype)."""
    pieces, axis = values
    pieces = _check_param(fname, op.params[0], pieces)
    axis = _integer(fname, "axis", axis)
    dy = _asarray(fname, dy, "dy")
    x = _asarray(fname, x, sname)
    _dtypes(fname, dy.dtype)
    _dtypes(fname, x.dtype)
    ax, yshape = _maxout_shapes(fname, x, pieces, axis)
    if dy.shape != yshape:
        raise ValueError("fastact.%s: dy must have the forward's output shape %s (x %s, pieces=%d), got %s"
                         % (fname, yshape, x.shape, pieces, dy.shape))
    rdt, kdt = _dtypes(fname, np.result_type(dy.dtype, x.dtype))
    return dy, x, pieces, axis, ax, rdt, kdt


def _maxout_backward(fname, op, dy, x, values, out, sname):
    dy, x, pieces, axis, ax, rdt, kdt = _maxout_pair(fname, op, dy, x, values, sname)
    if out is not None:
        _check_out(fname, out, x.shape, rdt)
    xk, moved_shape, _ = _last_axis_2d(fname, x, axis, kdt)
    dyk, _, _ = _last_axis_2d(fname, dy, axis, kdt)
    dx, direct = _target_2d(out, kdt, (xk, dyk), ax, x.ndim, xk.shape)
    _elementwise.maxout_kernel(True, dyk.reshape(-1), xk.reshape(-1), dx.reshape(-1), pieces,
                               _threads_for(op, xk.size))
    if direct:
        return out
    return _place(dx, moved_shape, ax, x.shape, out, rdt)


_IMPLS = {
    "elementwise": (_ew_forward, _ew_backward),
    "rrelu": (_rrelu_forward, _rrelu_backward),
    "prelu": (_prelu_forward, _prelu_backward),
    "rowwise": (_softmax_forward, _softmax_backward),
    "maxout": (_maxout_forward, _maxout_backward),
}


# ------------------------------------------------------------ generation

_SAVED_DOC = {  # the backward's second parameter, by what the op saves: (head, description)
    "y": ("y : array_like", "The forward's output, ``{f}(x)``, of dy's shape."),
    "x": ("x : array_like", "The forward's input, of dy's shape."),
    "": ("x : array_like or None, optional",
         "Ignored (the derivative is 1): accepted so that every backward takes (dy, saved)."),
}
_X_DOC = ("Input array. float32 and float64 are computed natively and keep their dtype; float16 is "
          "computed in float32 and returned as float16; integers and booleans give floats as `numpy.tanh` "
          "gives them.")
_PARAM_TYPE = {"real": "float", "nonzero": "float", "nonneg": "float", "unit": "float", "bool": "bool",
               "seed": "int or None", "pieces": "int", "axis": "int", "weight": "array_like"}
_PARAM_RULE = {"nonzero": "Must be nonzero.", "nonneg": "Must be >= 0.", "unit": "Must be in [0, 1].",
               "pieces": "A positive integer."}
_BACKWARD_TITLE = {
    "prelu": "Backward of `{f}`: the gradients with respect to x and to weight.",
    "rowwise": "Gradient of `{f}`: dy times its Jacobian, along an axis.",
    "maxout": "Gradient of `{f}`: dy to each group's maximum; NaN where x is NaN.",
}
_WIDTH = 75  # help() indents by 4


def _paragraphs(*texts, indent=""):
    """Each non-empty text wrapped to _WIDTH as its own line(s), the whole indented."""
    return "\n".join(textwrap.fill(t, _WIDTH, initial_indent=indent, subsequent_indent=indent,
                                   break_long_words=False, break_on_hyphens=False) for t in texts if t)


def _entry(head, *texts):
    """A numpydoc Parameters/Returns entry: the head line and its indented description."""
    return head + "\n" + _paragraphs(" ".join(t for t in texts if t), indent="    ")


def _param_doc(p):
    """The Parameters entry of a registry parameter: type, meaning, rule, default."""
    kind = "{%s}" % ", ".join(map(repr, p.choices)) if p.check == "choice" else _PARAM_TYPE[p.check]
    return _entry("%s : %s%s" % (p.name, kind, "" if p.required else ", optional"),
                  p.doc, _PARAM_RULE.get(p.check), None if p.required else "Default: %r." % (p.default,))


def _formula(f, op):
    """The function and its derivative as an indented block, one line per '; ' clause."""
    rows = [("%s(x) = " % f, op.formula)]
    d = op.derivative
    if re.search(r"\by\b", d):
        d += ", y = %s(x)" % f
    if op.kind == "rowwise":
        d += ", the sums along `axis`"
    rows.append(("", d) if d.startswith(("dx", "dy")) else ("%s'(x) = " % f, d))
    lines = []
    for label, text in rows:
        for i, clause in enumerate(text.split("; ")):
            head = "    " + (label if i == 0 else " " * len(label))
            lines += textwrap.wrap(clause, _WIDTH, initial_indent=head, subsequent_indent=" " * (len(head) + 2),
                                   break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines)


def _examples(op, doc, name, backward):
    """The Examples section's doctest lines, for the forward's public name `name`."""
    f, b = "fa." + name, "fa.%s_backward" % name
    if doc.examples:
        return doc.examples[backward].format(f=f, b=b)
    lines = [">>> x = np.array(%s)" % doc.x]
    if not backward:
        lines += [">>> %s(x).round(4)" % f, doc.forward]
        if doc.call:
            lines += [">>> %s(x, %s).round(4)" % (f, doc.call), doc.call_forward]
    elif op.saves == "y":
        lines += [">>> y = %s(x, out=x)  # in place: the backward needs only y" % f,
                  ">>> %s(np.ones_like(y), y).round(4)  # %s'(x)" % (b, name), doc.backward]
    else:
        saved = ", x" if op.saves else ""
        lines += [">>> dy = np.ones_like(x)",
                  ">>> %s(dy%s).round(4)  # %s'(x)" % (b, saved, name), doc.backward,
                  ">>> %s(dy%s, out=dy) is dy  # in place" % (b, saved), "True"]
    return "\n".join(lines)


def _docstring(op, fname, backward, alias_of=None):
    """The numpydoc docstring of fastact.<fname> or, if backward, of its backward
    (fname: the forward's public name, which may be an alias of op.name)."""
    doc = _DOCS[op.name]
    f, b = fname, fname + "_backward"
    same_shape = op.kind != "maxout"
    if backward:
        title = _BACKWARD_TITLE.get(op.kind, "Gradient of `{f}`: dx = dy * {f}'(x), elementwise.").format(f=f)
    else:
        title = doc.title
    lines = [title, ""]
    if alias_of:
        lines += [_paragraphs("`%s` is another name of `%s`: the same function."
                              % ((b, alias_of + "_backward") if backward else (f, alias_of))), ""]
    lines += ["Computed as::", "", _formula(f, op), ""]
    if op.special:
        lines += [_paragraphs("Special values: %s." % op.special), ""]

    lines += ["Parameters", "----------"]
    if backward:
        dy_shape = (", of the forward's output shape (x's shape with the length along `axis` divided by "
                    "`pieces`)." if not same_shape else "")
        saved = _SAVED_DOC[op.saves] if same_shape else ("x : array_like", "The forward's input.")
        lines += [_entry("dy : array_like", "The gradient of the loss with respect to the forward's output"
                         + (dy_shape or ".")), _entry(*saved).format(f=f)]
    else:
        lines.append(_entry("x : array_like", _X_DOC))
    lines += [_param_doc(p) for p in op.params]
    in_place = ("``out=dy`` computes in place." if backward else "``out=x`` computes in place.") if same_shape else ""
    lines.append(_entry("out : ndarray, None, or tuple of one ndarray or None, optional",
                        "Where to write the %s: an ndarray of the result's shape and dtype, writable (or a "
                        "tuple holding it, as ufuncs take it). It is returned." % ("gradient dx" if backward
                                                                                   else "result"),
                        in_place, "None (default) allocates a new array."))
    lines += [_entry("%s : %s, optional" % (p.torch, _PARAM_TYPE[p.check]),
                     "Keyword only: torch.nn.functional's name for `%s`, which it sets when given (not both)."
                     % p.name) for p in op.params if p.torch]

    lines += ["", "Returns", "-------"]
    if backward:
        lines.append(_entry("dx : ndarray or scalar", "The gradient with respect to x, of x's shape, in the "
                            "dtype the forward gives for ``np.result_type(dy, %s)`` (float32 inputs give "
                            "float32). It is `out` if given, and a scalar if the inputs are scalars or 0-d."
                            % (op.saves or "x")))
        if op.kind == "prelu":
            lines.append(_entry("dweight : ndarray", "The gradient with respect to weight, of weight's shape "
                                "and dx's dtype: per channel, the sum of dy * x over the entries where x <= 0."))
    else:
        shape = ("x's shape, but the length along `axis` divided by `pieces`, and x's dtype rule"
                 if not same_shape else "x's shape and dtype rule")
        lines.append(_entry("y : ndarray or scalar", "``%s(x)``, with %s (see `x`). It is `out` if given, and a "
                            "scalar if `x` is a scalar or 0-d." % (f, shape)))

    lines += ["", "See Also", "--------"]
    names = [a for a in (op.name,) + op.aliases if a != fname]
    same = {a: "The same function (another name)." if a not in LAYER_ALIASES else
            "The identity without a weight (a linear layer with one)." for a in names}
    if backward:
        lines.append("%s : The forward function." % f)
        lines += ["%s_backward : %s" % (a, same[a]) for a in names]
    else:
        lines.append("%s : The gradient%s." % (b, ", dy * %s'(x)" % f if op.kind in ("elementwise", "rrelu") else ""))
        lines += ["%s : %s" % (a, same[a]) for a in names]
        lines += [_paragraphs("%s : %s" % (r, _DOCS[r].title)).replace("\n", "\n    ") for r in doc.related]

    lines += ["", "Notes", "-----"]
    if backward:
        notes = ["It takes the forward's output y, not x: the forward may overwrite x (``out=x``)."
                 if op.saves == "y" else ""]
    else:
        takes = {"y": "takes the output y, so the forward may overwrite its input (``out=x``)",
                 "x": "takes the input x", "": "needs nothing but dy"}[op.saves]
        notes = ["The backward, ``%s(dy%s)``, %s." % (b, ", " + op.saves if op.saves else "", takes)]
        if op.kind in ("elementwise", "rowwise"):
            notes.append("The error is at most %g ULP in float32 and %g ULP in float64 (the test suite "
                         "measures it against a high-precision reference)." % op.ulp)
    notes.append("Inputs of %d elements or more run on `get_num_threads` threads; the result does not depend "
                 "on the thread count." % GRAIN[op.cls])
    lines.append("\n\n".join(_paragraphs(n) for n in notes if n))

    lines += ["", "Examples", "--------", ">>> import numpy as np", ">>> import fastact as fa",
              _examples(op, doc, f, backward), ""]
    return "\n".join(lines)


def _make(fname, op, backward, alias_of=None):
    impl = _IMPLS[op.kind][1 if backward else 0]
    names, defaults = [], []
    for p in op.params:
        names.append(p.name)
        defaults.append(_REQUIRED if p.required else p.default)
    sig = []
    if backward:
        saved = op.saves or "x"
        head = ["dy", saved + ("=None" if not op.saves else "")]
    else:
        saved = None
        head = ["x"]
    sig += head
    for i, (n, d) in enumerate(zip(names, defaults)):
        sig.append(n if d is _REQUIRED else "%s=_defaults[%d]" % (n, i))
    sig.append("out=None")
    # torch.nn.functional's names (Param.torch), by keyword (None: not
    # given): remapped first
    torch = [(i, p) for i, p in enumerate(op.params) if p.torch]
    if torch:
        sig += ["*"] + ["%s=None" % p.torch for _, p in torch]
    remap = "".join("    if %s is not None:\n        %s = _torch_name(%r, %r, %s, _defaults[%d], %r, %s)\n"
                    % (p.torch, p.name, fname, p.name, p.name, i, p.torch, p.torch) for i, p in torch)
    values = "(%s,)" % ", ".join(names) if names else "()"
    untuple = "    if type(out) is tuple:\n        out = _out_arg(%r, out)\n" % fname
    if backward:
        body = "return _impl(%r, _op, dy, %s, %s, out, %r)" % (fname, saved, values, saved)
    else:
        body = "return _impl(%r, _op, x, %s, out)" % (fname, values)
    # a dask array (only possible once dask.array is imported) gets a lazy result
    dask = ("    if 'dask.array' in _modules:\n        r = _on_dask(%r, _op, %r, %s, %s, out)\n"
            "        if r is not None:\n            return r\n"
            % (fname, backward, "(dy, %s)" % saved if backward else "(x,)", values))
    ns = {"_impl": impl, "_op": op, "_defaults": defaults, "_out_arg": _out_arg,
          "_modules": sys.modules, "_on_dask": _on_dask, "_torch_name": _torch_name}
    fast = _fast_path(op, backward, names, saved, ns)
    src = "def %s(%s):\n%s%s%s%s    %s\n" % (fname, ", ".join(sig), remap, untuple, fast, dask, body)
    exec(compile(src, "<fastact.%s>" % fname, "exec"), ns)
    fn = ns[fname]
    fn.__module__ = "fastact"
    fn.__qualname__ = fname
    fn.__doc__ = _docstring(op, fname.replace("_backward", "") if backward else fname, backward, alias_of)
    return fn


def _torch_name(fname, name, value, default, torch_name, torch_value):
    """The value of parameter `name` given by torch's name for it; TypeError
    if `name` was given too."""
    if value is not default:
        raise both_names_error(fname, name, torch_name)
    return torch_value


def both_names_error(fname, name, torch_name):
    """The TypeError of a call giving a parameter by both its names (Param.torch)."""
    return TypeError("fastact.%s: got both %s and %s (torch's name for %s)" % (fname, name, torch_name, name))


def _on_dask(fname, op, backward, arrays, values, out):
    """fastact._dask's lazy result if one of `arrays` is a dask array, else None."""
    from . import _dask
    return _dask.call(fname, op, backward, arrays, values, out)


def _fast_path(op, backward, names, saved, ns):
    """Source lines trying the C fast path when the call is the common one:
    _elementwise.fast_forward/backward when every parameter has its default
    value (the same object), _elementwise.rows_fast for softmax/log_softmax,
    _elementwise.maxout_fast for maxout (any int axis; they decline all
    but the last) and _elementwise.prelu_fast / prelu_backward_fast for prelu
    (a weight per channel or one weight).  Plain float32/float64
    arrays then skip every Python-level step.  The fast path declines (None)
    anything unusual, which falls through to the general path."""
    ns.update(_grain=GRAIN[op.cls], _threads=get_num_threads)
    if op.kind == "rowwise":
        ns.update(_which=_ROW_KERNEL[op.name + ("_backward" if backward else "")],
                  _fast_rows=_elementwise.rows_fast)
        args = "dy, %s" % saved if backward else "x, x"
        return ("    r = _fast_rows(_which, %s, out, axis, _grain, _threads)\n"
                "    if r is not None:\n        return r\n" % args)
    if op.kind == "prelu":
        ns.update(_fast_prelu=_elementwise.prelu_backward_fast if backward else _elementwise.prelu_fast)
        args = "dy, x, weight, axis, out, _grain, _threads, False" if backward else "x, weight, axis, out, _grain, _threads"
        return "    r = _fast_prelu(%s)\n    if r is not None:\n        return r\n" % args
    if op.kind == "maxout":
        ns.update(_fast_maxout=_elementwise.maxout_fast)
        args = "True, dy, x" if backward else "False, x, x"
        return ("    r = _fast_maxout(%s, out, pieces, axis, _grain, _threads)\n"
                "    if r is not None:\n        return r\n" % args)
    if op.kind not in ("elementwise", "rrelu"):
        return ""
    kernel, p0, p1 = op.select({p.name: p.default for p in op.params})
    ns.update(_kid=_KERNEL_INDEX[kernel], _p0=p0, _p1=p1,
              _fast_fwd=_elementwise.fast_forward, _fast_bwd=_elementwise.fast_backward)
    cond = " and ".join("%s is _defaults[%d]" % (n, i) for i, n in enumerate(names)) or "True"
    if backward:
        s_arg = "dy if %s is None else %s" % (saved, saved) if not op.saves else saved
        call = "_fast_bwd(%%s, dy, %s, out, %%s, %%s, _grain, _threads)" % s_arg
    else:
        call = "_fast_fwd(%s, x, out, %s, %s, _grain, _threads)"
    src = ("    if %s:\n        r = %s\n        if r is not None:\n            return r\n"
           % (cond, call % ("_kid", "_p0", "_p1")))
    if op.kind == "elementwise" and names:
        # other values: the fast path once _select has checked them (a miss,
        # or an unhashable value, goes the general way)
        ns.update(_selected=_SELECTED[op.name])
        key = "(%s,)" % ", ".join("type(%s), %s" % (n, n) for n in names)
        src += ("    else:\n        try:\n            sel = _selected.get(%s)\n"
                "        except TypeError:\n            sel = None\n"
                "        if sel is not None:\n            r = %s\n            if r is not None:\n"
                "                return r\n" % (key, call % ("sel[0]", "sel[1]", "sel[2]")))
    return src


def _install(namespace):
    """Define every public function (and alias) of the registry in namespace
    (but LAYER_ALIASES: fastact._fused defines those)."""
    for op in OPS:
        for name in (op.name,) + op.aliases:
            if name in LAYER_ALIASES:
                continue
            alias_of = op.name if name != op.name else None
            for backward in (False, True):
                fname = name + ("_backward" if backward else "")
                namespace[fname] = _make(fname, op, backward, alias_of)
                __all__.append(fname)
