"""Every fastact function on dask arrays: lazy, blockwise, with fastact's kernels.

When an argument of ``fastact.NAME`` or ``fastact.NAME_backward`` is a
``dask.array.Array``, the wrapper (``fastact._api``) hands the call to
:func:`call`, which checks it and returns a lazy dask array whose blocks
fastact's own function computes from the matching input blocks.  This module
is imported only then: ``import fastact`` does not import dask.

Notes
-----
- Everything is checked at call time, by the NumPy path's own checks run on
  zero-copy stand-ins of the dask inputs' shapes and dtypes (``_stub``): a bad
  parameter, dtype or shape raises then, not at compute time, and nothing is
  computed.  ``out=`` is a TypeError (a dask array is not written in place).
- Elementwise functions and rrelu keep the chunks.  softmax / log_softmax
  need whole rows: the reduced axis is rechunked to one chunk.  maxout needs
  whole groups: the chunk boundaries along the grouped axis move down to
  multiples of `pieces`.  prelu gives each block its channels' slice of the
  weight.
- A backward's two arguments get the same chunks: a NumPy (or array-like) one
  becomes a dask array with the chunks of the dask one, and a dask saved
  array is rechunked to dy's chunks.
- The results equal the in-memory ones bit for bit (the same kernels, per
  element, row or group), rrelu's training noise included: an element's noise
  is a function of (seed, its flat index in the whole array), and each block
  is given its rows' flat indices (``_row_starts``).  So a training rrelu
  needs an explicit seed here: the backward must be given the same one.
- The exception is prelu_backward's dweight: each block returns its float64
  partial sums and dask adds them in a fixed tree (the same bits on every
  compute, with any scheduler), rounded to the result dtype at the end; the
  additions are not in the in-memory order, so the last bits may differ.
"""

import functools
import math
import operator

import dask.array as da
import numpy as np

import fastact
from . import _api
from ._registry import BY_NAME

__all__ = ["call"]


def call(fname, op, backward, arrays, values, out):
    """fastact.<fname> of `arrays` ((x,) or (dy, saved)) and the parameter
    `values`: a lazy dask array (prelu_backward: the pair (dx, dweight)), or
    None when none of `arrays` is a dask array."""
    for a in arrays:
        if isinstance(a, da.Array):
            break
    else:
        return None
    if out is not None:
        raise TypeError("fastact.%s: out= is not supported with dask arrays (the result is a new lazy "
                        "dask array); call it without out" % fname)
    fn = getattr(fastact, fname)
    if backward:
        return _BACKWARD[op.kind](fname, op, fn, arrays[0], arrays[1], values)
    return _FORWARD[op.kind](fname, op, fn, arrays[0], values)


# ----------------------------------------------------------------- helpers

def _stub(fname, a, what):
    """An ndarray of a's shape and dtype for the checks: a dask array becomes a
    zero-copy stand-in (nothing is computed), anything else an ndarray (then
    the argument itself, see _concrete)."""
    if not isinstance(a, da.Array):
        return _api._asarray(fname, a, what)
    if any(math.isnan(n) for n in a.shape):
        raise ValueError("fastact.%s: %s has unknown chunk sizes; call %s.compute_chunk_sizes() first"
                         % (fname, what, what))
    return np.broadcast_to(np.zeros((), a.dtype), a.shape)


def _concrete(a, stub):
    """The argument a dask array, or else its ndarray (its stub)."""
    return a if isinstance(a, da.Array) else stub


def _chunked(a, chunks):
    """a (a dask array or an ndarray) as a dask array with these chunks."""
    if isinstance(a, da.Array):
        return a if a.chunks == chunks else a.rechunk(chunks)
    return da.from_array(a, chunks=chunks)


def _lazy(func, arrays, rdt, chunks=None):
    """The dask array of func(*blocks) over blocks of equal chunking (the
    output's chunks are the first array's unless given)."""
    ndim = arrays[0].ndim
    # (map_blocks does not align the arrays' chunks: the callers give them the right ones)
    return da.map_blocks(func, *arrays, dtype=rdt, meta=np.empty((0,) * ndim, rdt), chunks=chunks or None)


def _bound(fn, op, values):
    """fn with the parameter values bound by name (blocks are the positional arguments)."""
    return functools.partial(fn, **{p.name: v for p, v in zip(op.params, values)}) if values else fn


def _chunks_of(*arrays):
    """The chunks of the first dask array among `arrays`."""
    return next(a.chunks for a in arrays if isinstance(a, da.Array))


def _backward_pair(fname, op, dy, s):
    """dy and the saved array checked as the NumPy path checks them: (dy, s,
    the chunks to give both (those of dy if it is a dask array), result dtype)."""
    sname = op.saves or "x"
    if s is None:  # identity: the backward needs nothing but dy
        s = dy
    dys, ss = _stub(fname, dy, "dy"), _stub(fname, s, sname)
    _, _, rdt, _ = _api._pair(fname, dys, ss, sname)
    dy, s = _concrete(dy, dys), _concrete(s, ss)
    return dy, s, _chunks_of(dy, s), rdt


# ------------------------------------------------------------ elementwise

def _ew_forward(fname, op, fn, x, values):
    _api._params(fname, op, values)
    rdt, _ = _api._dtypes(fname, _stub(fname, x, "x").dtype)
    return _lazy(_bound(fn, op, values), [x], rdt)


def _ew_backward(fname, op, fn, dy, s, values):
    _api._params(fname, op, values)
    dy, s, chunks, rdt = _backward_pair(fname, op, dy, s)
    return _lazy(_bound(fn, op, values), [_chunked(dy, chunks), _chunked(s, chunks)], rdt)


# ------------------------------------------------------------------ rrelu

def _rrelu_forward(fname, op, fn, x, values):
    if not _rrelu_training(fname, op, values):
        return _ew_forward(fname, op, fn, x, values)
    rdt, _ = _api._dtypes(fname, _stub(fname, x, "x").dtype)
    return _lazy(functools.partial(_rrelu_block, fname, values), [x], rdt)


def _rrelu_backward(fname, op, fn, dy, s, values):
    if not _rrelu_training(fname, op, values):
        return _ew_backward(fname, op, fn, dy, s, values)
    dy, s, chunks, rdt = _backward_pair(fname, op, dy, s)
    return _lazy(functools.partial(_rrelu_block, fname, values), [_chunked(dy, chunks), _chunked(s, chunks)], rdt)


def _rrelu_training(fname, op, values):
    p = _api._params(fname, op, values)
    if p["training"] and p["seed"] is None:
        raise ValueError("fastact.%s: training=True on a dask array needs a seed (every block draws its "
                         "noise from it, and the backward must be given the same one)" % fname)
    return p["training"]


def _rrelu_block(fname, values, *blocks, block_info=None):
    """One block of a training rrelu (blocks: x, or dy and x), drawing the
    noise of its elements' flat indices in the whole array."""
    info = block_info[0]
    starts = _row_starts(info["array-location"], info["shape"])
    op = BY_NAME["rrelu"]
    if len(blocks) == 1:
        return _api._rrelu_forward(fname, op, blocks[0], values, None, starts=starts)
    return _api._rrelu_backward(fname, op, blocks[0], blocks[1], values, None, "x", starts=starts)


def _row_starts(location, shape):
    """The flat C-order index, in an array of `shape`, of the first element of
    each row (along the last axis) of the block at `location` ((start, stop)
    per axis), rows in C order: an int64 array."""
    if not shape:
        return np.zeros(1, np.int64)
    starts = np.zeros((), np.int64)
    stride = 1
    for (lo, hi), n in zip(location[-2::-1], shape[:0:-1]):   # axes ndim-2 .. 0 and the length after each
        stride *= n
        starts = np.add.outer(np.arange(lo, hi, dtype=np.int64) * stride, starts)
    return starts.reshape(-1) + location[-1][0]


# ------------------------------------------------------------------ prelu

def _prelu_weight(fname, weight, x, axis, kdt):
    """(weight as an ndarray, the axis a block slices it along or None for a
    scalar weight, weight's shape), checked against the stand-in x."""
    if isinstance(weight, da.Array):
        raise TypeError("fastact.%s: weight must be a NumPy array or a scalar, not a dask array "
                        "(compute it first: it has one entry per channel)" % fname)
    # (w is 1-D in the kernel dtype: a block converts its slice as the whole converts w)
    w, _, wshape = _api._prelu_weight(fname, weight, x, axis, kdt)
    return w, (_api._axis(fname, axis, x.ndim) if w.size > 1 else None), wshape


def _prelu_forward(fname, op, fn, x, values):
    weight, axis = values
    axis = _api._integer(fname, "axis", axis)
    xs = _stub(fname, x, "x")
    rdt, kdt = _api._dtypes(fname, xs.dtype)
    w, ax, _ = _prelu_weight(fname, weight, xs, axis, kdt)
    return _lazy(functools.partial(_prelu_block, fname, w, ax, axis), [x], rdt)


def _prelu_backward(fname, op, fn, dy, x, values):
    weight, axis = values
    axis = _api._integer(fname, "axis", axis)
    dy, x, chunks, rdt = _backward_pair(fname, op, dy, x)
    w, ax, wshape = _prelu_weight(fname, weight, _stub(fname, x, "x"), axis, _api._dtypes(fname, rdt)[1])
    dy, x = _chunked(dy, chunks), _chunked(x, chunks)
    # each block gives (dx, its float64 dweight part); dx and the parts are read out of it
    both = _lazy(functools.partial(_prelu_block, fname, w, ax, axis), [dy, x], rdt)
    dx = _lazy(operator.itemgetter(0), [both], rdt)
    nd = x.ndim
    part_chunks = tuple(c if i == ax else (1,) * len(c) for i, c in enumerate(x.chunks))
    parts = _lazy(functools.partial(_dweight_part, ax), [both], np.dtype(np.float64), chunks=part_chunks)
    dw = parts.sum(axis=tuple(i for i in range(nd) if i != ax), dtype=np.float64)
    # (the float64 sum may overflow the result type: inf is right, without a warning)
    dw = da.map_blocks(_api._cast, dw, rdt, dtype=rdt, meta=np.empty((0,) * dw.ndim, rdt))
    return dx, dw.reshape(wshape)


def _prelu_block(fname, weight, ax, axis, *blocks, block_info=None):
    """One block of prelu (blocks: x) or prelu_backward (dy, x: then the pair
    (dx, float64 dweight)), with its channels' slice of the weight (ax is None
    for a scalar weight)."""
    if ax is not None:
        lo, hi = block_info[0]["array-location"][ax]
        weight = weight[lo:hi]
    if len(blocks) == 1:
        return getattr(fastact, fname)(blocks[0], weight, axis)
    return _api._prelu_backward(fname, BY_NAME["prelu"], blocks[0], blocks[1], (weight, axis), None, "x",
                                dw64=True)


def _dweight_part(ax, pair):
    """A block's float64 dweight as one block of the parts array: its channels
    along ax (one entry if ax is None), length 1 along every other axis."""
    dx, dw = pair
    shape = [1] * np.ndim(dx)
    if ax is not None:
        shape[ax] = dw.size
    return dw.reshape(shape)


# ------------------------------------------------------ softmax & maxout

def _whole(chunks, ax):
    """chunks with axis ax in one chunk (no axis for 0-d)."""
    if not chunks:
        return chunks
    return chunks[:ax] + ((sum(chunks[ax]),),) + chunks[ax + 1:]


def _rows_forward(fname, op, fn, x, values):
    (axis,) = values
    axis = _api._integer(fname, "axis", axis)
    xs = _stub(fname, x, "x")
    rdt, _ = _api._dtypes(fname, xs.dtype)
    chunks = _whole(x.chunks, _api._axis(fname, axis, xs.ndim))
    return _lazy(_bound(fn, op, values), [_chunked(x, chunks)], rdt)


def _rows_backward(fname, op, fn, dy, y, values):
    (axis,) = values
    axis = _api._integer(fname, "axis", axis)
    dy, y, chunks, rdt = _backward_pair(fname, op, dy, y)
    chunks = _whole(chunks, _api._axis(fname, axis, dy.ndim))
    return _lazy(_bound(fn, op, values), [_chunked(dy, chunks), _chunked(y, chunks)], rdt)


def _grouped(chunks, ax, pieces):
    """chunks with the boundaries along ax moved down to multiples of pieces
    (every block holds whole groups; the length is a multiple of pieces)."""
    if not chunks:
        return chunks
    sizes, done, end = [], 0, 0
    for c in chunks[ax]:
        end += c
        edge = end - end % pieces
        if edge > done:
            sizes.append(edge - done)
            done = edge
    return chunks[:ax] + (tuple(sizes) or (0,),) + chunks[ax + 1:]


def _scaled(chunks, ax, num, den):
    """chunks with the sizes along ax times num // den (maxout's groups <-> entries)."""
    if not chunks:
        return chunks
    return chunks[:ax] + (tuple(c * num // den for c in chunks[ax]),) + chunks[ax + 1:]


def _maxout_forward(fname, op, fn, x, values):
    pieces, axis = values
    pieces = _api._check_param(fname, op.params[0], pieces)
    axis = _api._integer(fname, "axis", axis)
    xs = _stub(fname, x, "x")
    rdt, _ = _api._dtypes(fname, xs.dtype)
    ax, _ = _api._maxout_shapes(fname, xs, pieces, axis)
    xchunks = _grouped(x.chunks, ax, pieces)
    return _lazy(_bound(fn, op, values), [_chunked(x, xchunks)], rdt,
                 chunks=_scaled(xchunks, ax, 1, pieces))


def _maxout_backward(fname, op, fn, dy, x, values):
    dys, xs = _stub(fname, dy, "dy"), _stub(fname, x, "x")
    _, _, pieces, axis, ax, rdt, _ = _api._maxout_pair(fname, op, dys, xs, values, "x")
    if isinstance(x, da.Array):
        xchunks = _grouped(x.chunks, ax, pieces)
    else:  # dy's blocks hold whole groups already
        xchunks = _scaled(dy.chunks, ax, pieces, 1)
    dy, x = _concrete(dy, dys), _concrete(x, xs)
    return _lazy(_bound(fn, op, values), [_chunked(dy, _scaled(xchunks, ax, 1, pieces)), _chunked(x, xchunks)], rdt,
                 chunks=xchunks)


_FORWARD = {"elementwise": _ew_forward, "rrelu": _rrelu_forward, "prelu": _prelu_forward,
            "rowwise": _rows_forward, "maxout": _maxout_forward}
_BACKWARD = {"elementwise": _ew_backward, "rrelu": _rrelu_backward, "prelu": _prelu_backward,
             "rowwise": _rows_backward, "maxout": _maxout_backward}
