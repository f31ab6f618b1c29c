"""Sizes around the SIMD width, the 64-element chunk granule of the threaded
drivers and the grain sizes, for every function, forward and backward:

- correct against the float64 reference (specials placed at the edges);
- bitwise the same for 1, 2 and 3 threads (softmax, maxout and the prelu
  weight gradient included);
- elementwise: bitwise the same wherever an element sits (vector body,
  scalar tail, chunk edge): f(x[1:]) equals f(x)[1:].
"""

import math
import os

import numpy as np
import pytest

import fastact as fa
from fastact._api import GRAIN
from fastact._dispatch import kernels
from fastact._registry import OPS, lookup

import util

EDGES = (1, 7, 15, 16, 17, 63, 64, 65, 1023, 1025)


def sizes(op, params):
    """Every edge for the default parameters; a few for the others."""
    g = GRAIN[op.cls]
    if params:
        return (17, 1025, 2 * g + 129)
    return EDGES + (g - 1, g, g + 1, 2 * g + 129)


def _cases():
    out = []
    for op in OPS:
        for pid, params in util.param_sets(op):
            for n in sizes(op, params):
                out.append(pytest.param(op.name, params, n, id="%s[%s]-%d" % (op.name, pid, n)))
    return out


def _specials(dtype):
    fi = np.finfo(dtype)
    return np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, fi.smallest_subnormal, -fi.tiny / 4, 1.0], dtype)


def _shape(op, n, params):
    """An input shape of about n elements for op (n exactly for elementwise
    ops; rows of n for softmax/maxout; channels along axis 1 for prelu)."""
    if op.kind in ("rowwise", "maxout"):
        g = GRAIN[op.cls]
        length = n if op.kind == "rowwise" else 2 * n
        rows = max(2, math.ceil((g + 1) / length)) if n < g else 2
        return (rows, length) if params.get("axis", -1) != 0 else (length, rows)
    if op.kind == "prelu":
        return (max(1, math.ceil(n / 6)), 3, 2)
    return (n,)


def _input(op, n, params, dtype, rng):
    shape = _shape(op, n, params)
    lo, hi = op.domain
    x = rng.uniform(lo, hi, shape).astype(dtype)
    flat = x.reshape(-1)
    sp = _specials(dtype)
    if op.kind == "rowwise":
        # NaN and inf make a whole row NaN: keep them to the first row
        sp = sp[np.isfinite(sp)]
    # at the start, the end, and either side of the middle (a chunk edge for 2 threads)
    for at in (0, flat.size - len(sp), flat.size // 2 - len(sp) // 2):
        if at >= 0:
            flat[at:at + len(sp)] = sp[:flat.size - at]
    return x, util.fit_params(op, shape, params)


def _run(name, x, p, dy, saved, nthreads):
    with fa.threads(nthreads):
        return util.forward(name, x, p), util.backward(name, dy, saved, p)


def _same(got, want, what):
    if isinstance(want, tuple):  # prelu: (dx, dweight)
        util.assert_same(got[0], want[0], what + " dx")
        util.assert_same(got[1], want[1], what + " dweight")
    else:
        util.assert_same(got, want, what)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params,n", _cases())
def test_sizes(name, params, n, dtype, rng):
    op = lookup(name)
    x, p = _input(op, n, params, dtype, rng)
    y = util.forward(name, x, p)
    dy = rng.uniform(-2, 2, y.shape).astype(dtype)
    saved = y if op.saves == "y" else x
    y1, g1 = _run(name, x, p, dy, saved, 1)
    what = "%s%r %s shape %s" % (name, params, np.dtype(dtype).name, x.shape)
    assert y1.shape == util.out_shape(name, x.shape, p) and y1.dtype == dtype
    for nt in (2, 3) if x.size >= GRAIN[op.cls] else ():  # (smaller calls run on one thread)
        y_nt, g_nt = _run(name, x, p, dy, saved, nt)
        _same(y_nt, y1, "%s forward, %d threads vs 1" % (what, nt))
        _same(g_nt, g1, "%s backward, %d threads vs 1" % (what, nt))
    if util.is_elementwise_like(name, p):
        # the reference on the edges and the middle (where the specials are)
        k = min(n, 2100)
        idx = np.unique(np.concatenate([np.arange(k), np.arange(n - k, n), (n // 2 - 50 + np.arange(100)) % n]))
        util.check_forward(name, p, x[idx], y1[idx], what + " forward")
        util.check_backward(name, p, x[idx], dy[idx], saved[idx], g1[idx], what + " backward")
        if n > 1:  # every element moves one lane: same bits
            util.assert_same(util.forward(name, x[1:], p), y1[1:], what + " forward shifted by one")
            util.assert_same(util.backward(name, dy[1:], saved[1:], p), g1[1:], what + " backward shifted by one")
    else:
        util.check_forward(name, p, x, y1, what + " forward")
        util.check_backward(name, p, x, dy, saved, g1, what + " backward")


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("shape", [(70_001, 3), (300, 4099), (5, 3, 70_001)], ids=str)
def test_prelu_dweight_over_many_slabs(shape, dtype, rng):
    """A (batch, channels) prelu backward sums dweight over slabs of rows
    (bounded scratch): against the reference, and the same bits for 1, 2, 3 threads."""
    x = rng.uniform(-3, 3, shape).astype(dtype)
    dy = rng.uniform(-2, 2, shape).astype(dtype)
    p = {"weight": np.linspace(-0.3, 0.5, shape[1])}
    g1 = _run("prelu", x, p, dy, x, 1)[1]
    util.check_backward("prelu", p, x, dy, x, g1, "prelu_backward %s" % (shape,))
    for nt in (2, 3):
        _same(_run("prelu", x, p, dy, x, nt)[1], g1, "prelu_backward %s, %d threads vs 1" % (shape, nt))


def _stream_cases():
    return [pytest.param(op.name, id=op.name) for op in OPS if util.is_elementwise_like(op.name)]


STREAM_TEST_BYTES = 1 << 20


@pytest.fixture
def streaming():
    """Streaming stores from STREAM_TEST_BYTES for the test (32 MiB unless
    FASTACT_STREAM_MIN_BYTES says otherwise)."""
    old = kernels.set_stream_min_bytes(STREAM_TEST_BYTES)
    yield
    kernels.set_stream_min_bytes(old)


def test_streaming_threshold():
    """32 MiB by default (no FASTACT_STREAM_MIN_BYTES in the test run), a
    number of bytes from the variable, never for "off", a clear error
    otherwise."""
    import sys

    if not os.environ.get("FASTACT_STREAM_MIN_BYTES"):
        assert kernels.stream_min_bytes() == 32 << 20
    assert kernels._parse_stream_min(None) == 32 << 20
    assert kernels._parse_stream_min(" ") == 32 << 20
    assert kernels._parse_stream_min(" Off ") == sys.maxsize
    assert kernels._parse_stream_min("8388608") == 8 << 20
    for bad in ("8M", "-1", "1.5"):
        with pytest.raises(ValueError, match="FASTACT_STREAM_MIN_BYTES"):
            kernels._parse_stream_min(bad)
    with pytest.raises(ValueError, match="set_stream_min_bytes"):
        kernels.set_stream_min_bytes(-1)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name", _stream_cases())
def test_streamed_outputs(name, dtype, rng, streaming):
    """Out-of-place outputs at or above the streaming threshold are written
    with streaming stores through a block buffer (fa_stream.h): the same bits
    as in place (which never streams) and as small calls, on 1 and 2
    threads, with an output aligned to its array's allocation, 16 bytes off
    it or an element off it, over a length that is no multiple of the block.
    (Only STREAM_KERNELS stream; the others must give the same bits anyway.)"""
    op = lookup(name)
    itemsize = np.dtype(dtype).itemsize
    n = STREAM_TEST_BYTES // itemsize + 2048 + 37
    x = rng.uniform(*op.domain, n).astype(dtype)
    x[:8] = _specials(dtype)
    p = util.fit_params(op, x.shape, {})
    dy = rng.uniform(-2, 2, n).astype(dtype)
    y_in = x.copy()
    util.forward(name, y_in, p, out=y_in)
    saved = y_in if op.saves == "y" else x
    g_in = dy.copy()
    util.backward(name, g_in, saved, p, out=g_in)
    for nt in (1, 2):
        for shift in (0, 1, 16 // itemsize):
            what = "%s %s, %d threads, output shifted by %d" % (name, np.dtype(dtype).name, nt, shift)
            y = np.empty(n + 16, dtype)[shift:shift + n]
            g = np.empty(n + 16, dtype)[shift:shift + n]
            with fa.threads(nt):
                util.forward(name, x, p, out=y)
                util.backward(name, dy, saved, p, out=g)
            util.assert_same(y, y_in, what + " forward")
            util.assert_same(g, g_in, what + " backward")
    util.assert_same(util.forward(name, x[-3000:], p), y_in[-3000:], name + " forward, small call")


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("shape, axis", [((STREAM_TEST_BYTES // 4 + 4133,), 0), ((2, 3, 70_001), 1),
                                         ((70_001, 5), 1), ((130, 2100), 1)], ids=str)
def test_prelu_streamed_forward(shape, axis, dtype, rng, streaming):
    """prelu's out-of-place forward at or above the streaming threshold goes
    out through a block buffer (_fused.pxi's _prelu_unit), in both of its
    layouts (segments of one channel: a scalar weight; tiles of the weight
    pattern): the same bits as in place (never streamed), on 1 and 2 threads,
    with an output aligned to its allocation or an element or 16 bytes off it."""
    x = rng.uniform(-3, 3, shape).astype(dtype)
    x.reshape(-1)[:8] = _specials(dtype)
    w = np.linspace(-0.3, 0.5, shape[axis]).astype(dtype) if len(shape) > 1 else np.asarray(0.25, dtype)
    assert x.nbytes >= STREAM_TEST_BYTES
    y_in = x.copy()
    fa.prelu(y_in, w, axis=axis, out=y_in)
    util.check_forward("prelu", {"weight": w, "axis": axis}, x, y_in, "prelu in place %s" % (shape,))
    itemsize = np.dtype(dtype).itemsize
    for nt in (1, 2):
        for shift in (0, 1, 16 // itemsize):
            y = np.empty(x.size + 16, dtype)[shift:shift + x.size].reshape(shape)
            with fa.threads(nt):
                fa.prelu(x, w, axis=axis, out=y)
            util.assert_same(y, y_in, "prelu %s %s, %d threads, output shifted by %d" % (shape, np.dtype(dtype).name, nt, shift))
