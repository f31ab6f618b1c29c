"""Shapes and layouts, axis handling, out= and in place, overlap, dtype rules,
Python scalars and lists, inputs left alone."""

import numpy as np
import pytest

import fastact as fa
from fastact._registry import lookup

import util
from util import TOL

ALL = util.name_param_params()


def _native(a):
    a = np.asarray(a)
    return a.astype(a.dtype.newbyteorder("=")) if a.dtype.byteorder not in "=|" else a


def _contig(a):
    return np.array(_native(a), order="C", copy=True)


def _values(name, rng, shape=util.BASE_SHAPE):
    lo, hi = lookup(name).domain
    v = rng.uniform(max(lo, -8), min(hi, 8), shape)
    v.flat[:4] = [0.0, -1.0, 1.0, -0.5]
    return v


def _dy_like(rng, shape, dtype):
    return rng.uniform(-2, 2, shape).astype(dtype)


# ------------------------------------------------------- shapes & layouts

@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("layout", util.layout_params())
@pytest.mark.parametrize("name,params", ALL)
def test_layout_forward(name, params, layout, dtype, rng):
    """Any layout gives the result of its C-contiguous native copy, bit for
    bit, with the input's shape and the native dtype; 0-d gives a NumPy scalar."""
    x = util.make_layout(layout, _values(name, rng), dtype)
    p = util.fit_params(name, x.shape, params)
    got = util.forward(name, x, p)
    want = util.forward(name, _contig(x), p)
    shape = util.out_shape(name, x.shape, p)
    if x.ndim == 0:
        assert isinstance(got, np.generic) and got.dtype == dtype, type(got)
    else:
        assert isinstance(got, np.ndarray)
    assert got.shape == shape and got.dtype == dtype
    util.assert_same(got, want, "%s%r on %s" % (name, p, layout))
    if x.size:
        t = TOL[dtype]
        util.assert_close(got, util.ref_forward(name, _contig(x), p), t["rtol"],
                          t["atol"] + t["rtol"] * util.forward_scale(name, _contig(x), p),
                          what="%s%r on %s vs reference" % (name, p, layout))


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("layout", util.layout_params())
@pytest.mark.parametrize("name,params", ALL)
def test_layout_backward(name, params, layout, dtype, rng):
    """The backward on dy and saved in any layout equals the backward on their
    C-contiguous copies, bit for bit."""
    op = lookup(name)
    xv = _values(name, rng)
    x = util.make_layout(layout, xv, dtype)
    p = util.fit_params(name, x.shape, params)
    if op.saves == "y":
        saved = util.make_layout(layout, util.forward(name, xv.astype(dtype), util.fit_params(name, xv.shape, params)
                                                      ).astype(np.float64), dtype)
    else:
        saved = x
    yshape = util.out_shape(name, x.shape, p)
    if op.kind == "maxout":  # dy has the output's shape: a Fortran-order one
        dy = np.array(rng.uniform(-2, 2, yshape).astype(dtype), order="F")
    else:
        dy = util.make_layout(layout, rng.uniform(-2, 2, util.BASE_SHAPE), dtype)
    assert dy.shape == yshape and saved.shape == x.shape
    got = util.backward(name, dy, saved, p)
    want = util.backward(name, _contig(dy), _contig(saved), p)
    if op.kind == "prelu":
        util.assert_same(got[1], want[1], "prelu dweight on %s" % layout)
        got, want = got[0], want[0]
    if x.ndim == 0:
        assert isinstance(got, np.generic), type(got)
    assert got.shape == x.shape and got.dtype == dtype
    util.assert_same(got, want, "%s_backward%r on %s" % (name, p, layout))


AXIS_OPS = [n for op, n in util.NAMES if util.takes_axis(op)]


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize("transposed", [False, True], ids=["C", "transposed"])
@pytest.mark.parametrize("name", util.name_params(AXIS_OPS))
def test_axis_3d(name, axis, transposed, dtype, rng):
    """Ops with an axis, on 3-D inputs along every axis, forward and backward
    against the reference (and the transposed input gives the same)."""
    op = lookup(name)
    shape = (4, 6, 10)
    if transposed:
        x = np.transpose(rng.uniform(-4, 4, shape[::-1]), (2, 1, 0)).astype(dtype)
        x = np.asarray(x)
        assert not x.flags.c_contiguous
    else:
        x = rng.uniform(-4, 4, shape).astype(dtype)
    x.flat[:6] = [0.0, 1.0, -1.0, 2.0, 2.0, -3.0]
    p = util.fit_params(op, x.shape, {"axis": axis})
    if op.kind == "prelu":
        p["weight"] = rng.uniform(-0.5, 0.5, shape[axis])
    if op.kind == "maxout":
        p["pieces"] = 2
    t = TOL[dtype]
    got = util.forward(name, x, p)
    want = util.ref_forward(name, x, p)
    assert got.shape == util.out_shape(name, x.shape, p) and got.dtype == dtype
    util.assert_close(got, want, t["rtol"], t["atol"] + t["rtol"] * util.forward_scale(name, x, p),
                      what="%s(axis=%d)" % (name, axis))
    util.assert_same(got, util.forward(name, np.ascontiguousarray(x), p), "%s(axis=%d) layout" % (name, axis))
    dy = rng.uniform(-2, 2, got.shape).astype(dtype)
    saved = got if op.saves == "y" else x
    g = util.backward(name, dy, saved, p)
    w = util.ref_backward(name, dy, x, saved, p)
    if op.kind == "prelu":
        util.assert_close(g[1], w[1], t["rtol"], t["atol"] + 4 * t["rtol"] * np.sum(np.abs(dy * x)),
                          what="prelu dweight axis=%d" % axis)
        g, w = g[0], w[0]
    if op.kind == "maxout":
        util.assert_same(g, w.astype(dtype), "maxout_backward(axis=%d)" % axis)
    else:
        scale = np.abs(saved.astype(np.float64)) * 0 + np.sum(np.abs(dy.astype(np.float64)), axis=axis, keepdims=True)
        util.assert_close(g, w, t["rtol"], t["atol"] + 2 * t["rtol"] * scale, what="%s_backward(axis=%d)" % (name, axis))


@pytest.mark.parametrize("name", util.name_params(AXIS_OPS))
def test_axis_out_of_bounds(name):
    op = lookup(name)
    x = np.ones((2, 4))
    p = util.fit_params(op, x.shape, {})
    if op.kind == "prelu":
        p["weight"] = np.ones(4)
    for axis in (2, -3, 100):
        out = np.full(util.out_shape(name, x.shape, p), 7.0)
        with pytest.raises(ValueError, match="fastact.%s" % name):
            util.forward(name, x, dict(p, axis=axis), out=out)
        assert (out == 7.0).all()


# ----------------------------------------------------------------- out=

OUT_LAYOUTS = {
    "C": lambda shape, dt: np.empty(shape, dt),
    "F": lambda shape, dt: np.empty(shape, dt, order="F"),
    "strided": lambda shape, dt: np.empty((2 * shape[0],) + shape[1:], dt)[::2] if shape else np.empty(shape, dt),
    "reversed": lambda shape, dt: np.empty(shape, dt)[::-1] if shape else np.empty(shape, dt),
    "byteswapped": lambda shape, dt: np.empty(shape, np.dtype(dt).newbyteorder(">")),
    "unaligned": lambda shape, dt: util.make_unaligned(np.empty(shape, dt)),
}


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("out_layout", list(OUT_LAYOUTS), ids=list(OUT_LAYOUTS))
@pytest.mark.parametrize("name,params", ALL)
def test_out_new_array(name, params, out_layout, dtype, rng):
    x = _values(name, rng).astype(dtype)
    p = util.fit_params(name, x.shape, params)
    want = util.forward(name, x, p)
    out = OUT_LAYOUTS[out_layout](want.shape, dtype)
    out[...] = 12345
    r = util.forward(name, x, p, out=out)
    assert r is out and np.shares_memory(r, out)
    util.assert_same(_native(out), want, "%s%r into %s out" % (name, p, out_layout))

    op = lookup(name)
    dy = _dy_like(rng, want.shape, dtype)
    saved = util.saved_for(name, x, p)
    wb = util.backward(name, dy, saved, p)
    outb = OUT_LAYOUTS[out_layout](x.shape, dtype)
    outb[...] = 12345
    rb = util.backward(name, dy, saved, p, out=outb)
    if op.kind == "prelu":
        util.assert_same(rb[1], wb[1], "prelu dweight with out")
        rb, wb = rb[0], wb[0]
    assert rb is outb
    util.assert_same(_native(outb), wb, "%s_backward%r into %s out" % (name, p, out_layout))


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", ALL)
def test_out_zero_d(name, params, dtype):
    x = np.array(0.75, dtype)
    p = util.fit_params(name, x.shape, params)
    out = np.empty((), dtype)
    r = util.forward(name, x, p, out=out)
    assert r is out and isinstance(r, np.ndarray) and r.shape == ()
    util.assert_same(out, np.asarray(util.forward(name, x, p)))


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("view", ["contig", "step2", "transposed", "reversed"])
@pytest.mark.parametrize("name,params", ALL)
def test_in_place(name, params, view, dtype, rng):
    """out=x computes in place and equals the out-of-place result."""
    x = util.make_layout(view, _values(name, rng), dtype)
    p = util.fit_params(name, x.shape, params)
    want = util.forward(name, x.copy(), p)
    if want.shape != x.shape:
        pytest.skip("maxout with pieces > 1 changes the shape")
    r = util.forward(name, x, p, out=x)
    assert r is x
    util.assert_same(x, want, "%s%r in place on %s" % (name, p, view))


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("into", ["dy", "saved", "both"])
@pytest.mark.parametrize("name,params", ALL)
def test_backward_in_place(name, params, into, dtype, rng):
    """Backward with out=dy or out=saved (or dy, saved and out one array) equals
    the out-of-place result."""
    x = _values(name, rng).astype(dtype)
    p = util.fit_params(name, x.shape, params)
    saved = np.array(util.saved_for(name, x, p), copy=True)
    dy = _dy_like(rng, util.out_shape(name, x.shape, p), dtype)
    if into == "both":
        if dy.shape != saved.shape:
            pytest.skip("maxout: dy has the output's shape, not x's")
        dy = saved
    want = util.backward(name, dy.copy(), saved.copy(), p)
    target = dy if into == "dy" else saved
    if target.shape != x.shape:
        pytest.skip("maxout: dy has the output's shape, not x's")
    r = util.backward(name, dy, saved, p, out=target)
    if lookup(name).kind == "prelu":
        util.assert_same(r[1], want[1], "prelu dweight in place")
        r, want = r[0], want[0]
    assert r is target
    util.assert_same(target, want, "%s_backward%r out=%s" % (name, p, into))


_OTHER_VIEWS = {
    "reversed": lambda a: a[::-1],
    "transposed": lambda a: a.T,
    "reversed_both": lambda a: a[::-1, ::-1],
}


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("view", list(_OTHER_VIEWS), ids=list(_OTHER_VIEWS))
@pytest.mark.parametrize("name,params", util.name_param_params(lambda op, name, p: op.kind != "maxout"))
def test_out_is_another_view_of_the_input(name, params, view, dtype, rng):
    """out covering exactly the input's memory in another order (x[::-1],
    x.T): the result is the non-overlapping one, forward and backward (out a
    view of dy, and of saved)."""
    op = lookup(name)
    make = _OTHER_VIEWS[view]
    x = _values(name, rng, (8, 8)).astype(dtype)
    p = util.fit_params(name, x.shape, params)
    want = util.forward(name, x.copy(), p)
    assert util.forward(name, x, p, out=make(x)) is not None
    util.assert_same(x, make(want), "%s%r into out=%s(x)" % (name, p, view))
    x = _values(name, rng, (8, 8)).astype(dtype)
    dy = _dy_like(rng, x.shape, dtype)
    saved = np.array(util.saved_for(name, x, p), copy=True)
    want = util.backward(name, dy.copy(), saved.copy(), p)
    if op.kind == "prelu":
        want = want[0]
    for which in ("dy", "saved"):
        d, s = dy.copy(), saved.copy()
        target = d if which == "dy" else s
        util.backward(name, d, s, p, out=make(target))
        util.assert_same(target, make(want), "%s_backward%r into out=%s(%s)" % (name, p, view, which))


def _peak_bytes(fn):
    """The peak of the memory NumPy (and Python) allocate while fn runs."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", util.name_param_params(
    lambda op, name, p: (op.kind != "maxout" or p.get("pieces") == 1) and p.get("axis", -1) == -1))
def test_in_place_makes_no_copy(name, params, dtype, rng):
    """out=x (and a backward's out=dy, out=saved) on C-contiguous arrays
    writes in place: the call allocates nothing of the array's size (traced
    by tracemalloc, which sees NumPy's data buffers), and returns out itself.
    (softmax along another axis than the last moves that axis: a copy.)"""
    shape = (1024, 512)
    x = _values(name, rng, shape).astype(dtype)
    p = util.fit_params(name, shape, params)
    dy = _dy_like(rng, shape, dtype)
    saved = np.array(util.saved_for(name, x, p), copy=True)
    limit = x.nbytes // 2  # a copy is x.nbytes (prelu's backward keeps <= 512 KiB of partial sums)
    calls = {
        "forward out=x": lambda: util.forward(name, x, p, out=x),
        "backward out=dy": lambda: util.backward(name, dy, saved, p, out=dy),
        "backward out=saved": lambda: util.backward(name, dy, saved, p, out=saved),
    }
    targets = {"forward out=x": x, "backward out=dy": dy, "backward out=saved": saved}
    for what, call in calls.items():
        res = []
        with fa.threads(1):  # (the same buffers whatever the thread count; quicker on a busy machine)
            peak = _peak_bytes(lambda: res.append(call()))
        r = res[0][0] if lookup(name).kind == "prelu" and what != "forward out=x" else res[0]
        assert r is targets[what], "%s%r %s did not return out" % (name, params, what)
        assert peak < limit, "%s%r %s allocated %d bytes (the array has %d)" % (name, params, what, peak, x.nbytes)


def _sentinel_out(shape, dtype):
    return np.full(shape, 12345, dtype)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", ALL)
def test_bad_out(name, params, dtype, rng):
    """out of the wrong shape (ValueError), dtype (TypeError), read-only
    (ValueError) or not an array (TypeError): raised before anything is
    written; out and the inputs are unchanged."""
    x = _values(name, rng).astype(dtype)
    p = util.fit_params(name, x.shape, params)
    shape = util.out_shape(name, x.shape, p)
    other = np.float64 if dtype == np.float32 else np.float32
    ro = _sentinel_out(shape, dtype)
    ro.flags.writeable = False
    bad = [
        ("shape", _sentinel_out(shape[:-1] + (shape[-1] + 1,), dtype), ValueError),
        ("shape_T", _sentinel_out(shape[::-1], dtype) if shape[::-1] != shape else None, ValueError),
        ("flat", _sentinel_out((int(np.prod(shape)),), dtype), ValueError),
        ("dtype", _sentinel_out(shape, other), TypeError),
        ("dtype_f16", _sentinel_out(shape, np.float16), TypeError),
        ("dtype_int", _sentinel_out(shape, np.int32), TypeError),
        ("readonly", ro, ValueError),
    ]
    dy = _dy_like(rng, shape, dtype)
    saved = np.array(util.saved_for(name, x, p), copy=True)
    snap = util.snapshot(x, dy, saved)
    for what, out, exc in bad:
        if out is None:
            continue
        before = out.copy()
        with pytest.raises(exc, match="fastact.%s" % name):
            util.forward(name, x, p, out=out)
        util.assert_same(out, before, "%s: out written on a failing call (%s)" % (name, what))
    with pytest.raises(TypeError, match="fastact.%s" % name):
        util.forward(name, x, p, out=[0.0] * x.size)
    bshape = x.shape
    bad_b = [
        ("shape", _sentinel_out(bshape[:-1] + (bshape[-1] + 1,), dtype), ValueError),
        ("dtype", _sentinel_out(bshape, other), TypeError),
        ("readonly", None, ValueError),
    ]
    for what, out, exc in bad_b:
        if out is None:
            out = _sentinel_out(bshape, dtype)
            out.flags.writeable = False
        before = out.copy()
        with pytest.raises(exc, match="fastact.%s_backward" % name):
            util.backward(name, dy, saved, p, out=out)
        util.assert_same(out, before, "%s_backward: out written on a failing call (%s)" % (name, what))
    util.assert_unchanged(snap, x, dy, saved)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("shift", [1, -1, 7], ids=["fwd1", "back1", "fwd7"])
@pytest.mark.parametrize("name,params", ALL)
def test_partial_overlap(name, params, shift, dtype, rng):
    """An out that partially overlaps the input (two views of one buffer)
    gives the same as without overlap (or raises ValueError naming the
    function, which SPEC allows) -- never garbage."""
    op = lookup(name)
    n = int(np.prod(util.BASE_SHAPE))
    buf = np.concatenate([_values(name, rng).ravel(), _values(name, rng).ravel()[:abs(shift)]]).astype(dtype)
    a, b = (0, shift) if shift > 0 else (-shift, 0)
    x = buf[a:a + n].reshape(util.BASE_SHAPE)
    p = util.fit_params(name, x.shape, params)
    want = util.forward(name, x.copy(), p)
    out_n = int(np.prod(want.shape))
    out = buf[b:b + out_n].reshape(want.shape)
    assert np.shares_memory(x, out)
    try:
        r = util.forward(name, x, p, out=out)
    except ValueError as exc:
        assert "fastact.%s" % name in str(exc)
    else:
        assert r is out
        util.assert_same(out, want, "%s%r with out overlapping x (shift %d)" % (name, p, shift))

    # backward: out overlapping dy, and out overlapping saved
    xs = _values(name, rng).astype(dtype)
    saved0 = np.array(util.saved_for(name, xs, p), copy=True)
    yshape = util.out_shape(name, xs.shape, p)
    for which in ("dy", "saved"):
        if which == "dy" and yshape != xs.shape:
            continue
        buf = rng.uniform(-2, 2, n + abs(shift)).astype(dtype)
        if which == "dy":
            dy = buf[a:a + n].reshape(xs.shape)
            saved = saved0
        else:
            buf[a:a + n] = saved0.ravel()
            saved = buf[a:a + n].reshape(xs.shape)
            dy = _dy_like(rng, yshape, dtype)
        want = util.backward(name, dy.copy(), saved.copy(), p)
        out = buf[b:b + n].reshape(xs.shape)
        try:
            r = util.backward(name, dy, saved, p, out=out)
        except ValueError as exc:
            assert "fastact.%s_backward" % name in str(exc)
            continue
        if op.kind == "prelu":
            util.assert_same(r[1], want[1], "prelu dweight with overlapping out")
            want = want[0]
        util.assert_same(out, want, "%s_backward%r with out overlapping %s (shift %d)" % (name, p, which, shift))


# ------------------------------------------------------------ dtype rules

OTHER_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
                np.float16, np.longlong, np.ulonglong, np.intp, np.uintp, ">i4", ">u2", ">f2"]


def _dtype_id(d):
    d = np.dtype(d)
    return d.name + ("" if d.isnative else "-swapped") + ("-longlong" if d.char in "qQ" else "")


def _small_ints(dt, shape, rng):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(dt)
    lo = 0 if dt.kind == "u" else -4
    return rng.integers(lo, 5, shape).astype(dt)


def _expected_dtypes(dt):
    rdt = np.tanh(np.zeros(1, dt)).dtype
    kdt = np.dtype(np.float32) if rdt == np.float16 else rdt
    return rdt, kdt


@pytest.mark.parametrize("dt", [pytest.param(np.dtype(d), id=i) for i, d in
                                {_dtype_id(d): d for d in OTHER_DTYPES}.items()])
@pytest.mark.parametrize("name,params", ALL)
def test_dtype_rules(name, params, dt, rng):
    """ints, bools and float16 follow np.tanh's casting (int8 -> float16,
    int32 -> float64, ...); float16 is computed in float32 and rounded."""
    x = (_small_ints(dt, util.BASE_SHAPE, rng) if dt.kind != "f"
         else rng.uniform(-4, 4, util.BASE_SHAPE).astype(dt))
    p = util.fit_params(name, x.shape, params)
    rdt, kdt = _expected_dtypes(dt)
    got = util.forward(name, x, p)
    assert got.dtype == rdt, "%s(%s) gave %s, np.tanh gives %s" % (name, dt, got.dtype, rdt)
    util.assert_same(got, util.forward(name, x.astype(kdt), p).astype(rdt), "%s on %s" % (name, dt))
    dy = (_small_ints(dt, got.shape, rng) if dt.kind != "f" else rng.uniform(-2, 2, got.shape).astype(dt))
    saved = x if lookup(name).saves != "y" else (got if dt.kind == "f" else x)
    g = util.backward(name, dy, saved, p)
    w = util.backward(name, dy.astype(kdt), saved.astype(kdt), p)
    if lookup(name).kind == "prelu":
        assert g[1].dtype == rdt
        util.assert_same(g[1], w[1].astype(rdt), "prelu dweight on %s" % dt)
        g, w = g[0], w[0]
    assert g.dtype == rdt
    util.assert_same(g, w.astype(rdt), "%s_backward on %s" % (name, dt))


@pytest.mark.parametrize("name,params", ALL)
def test_python_scalars_and_lists(name, params):
    """Python scalars, lists and nested lists are accepted as NumPy accepts
    them; 0-d input without out gives a NumPy scalar, like a ufunc."""
    p0 = util.fit_params(name, (), params)
    for v in (0.75, -2, True):
        r = util.forward(name, v, p0)
        want = util.forward(name, np.asarray(v), p0)
        assert isinstance(r, np.generic) and not isinstance(r, np.ndarray), type(r)
        assert r.dtype == np.tanh(np.asarray(v)).dtype
        util.assert_same(r, want, "%s(%r)" % (name, v))
    r32 = util.forward(name, np.float32(0.75), p0)
    assert type(r32) is np.float32
    lst = [[0.5, -1.0, 2.0, 3.0], [-0.25, 0.0, 1.5, -3.0]]
    p = util.fit_params(name, (2, 4), params)
    r = util.forward(name, lst, p)
    assert isinstance(r, np.ndarray) and r.dtype == np.float64
    util.assert_same(r, util.forward(name, np.array(lst), p), "%s(list)" % name)
    dy = np.ones(r.shape).tolist()
    saved = util.saved_for(name, np.array(lst), p).tolist()
    g = util.backward(name, dy, saved, p)
    w = util.backward(name, np.array(dy), np.array(saved), p)
    if lookup(name).kind == "prelu":
        g, w = g[0], w[0]
    util.assert_same(g, w, "%s_backward(list, list)" % name)
    gs = util.backward(name, 1.0, 0.5, p0)
    assert isinstance(gs, tuple if lookup(name).kind == "prelu" else np.generic)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("layout", ["contig", "byteswapped", "transposed", "readonly"])
@pytest.mark.parametrize("name,params", ALL)
def test_inputs_not_modified(name, params, layout, dtype, rng):
    x = util.make_layout(layout, _values(name, rng), dtype)
    p = util.fit_params(name, x.shape, params)
    weight = p.get("weight")
    snap = util.snapshot(x, weight if isinstance(weight, np.ndarray) else None)
    y = util.forward(name, x, p)
    util.assert_unchanged(snap, x, weight if isinstance(weight, np.ndarray) else None, what="forward modified x")
    dy = _dy_like(rng, np.shape(y), dtype)
    saved = y if lookup(name).saves == "y" else x
    snap = util.snapshot(x, dy, saved)
    util.backward(name, dy, saved, p)
    util.assert_unchanged(snap, x, dy, saved, what="backward modified an input")
    out = np.empty(np.shape(y), dtype)
    util.forward(name, x, p, out=out)
    util.assert_unchanged(snap, x, dy, saved, what="forward with out modified an input")


@pytest.mark.parametrize("dt", [pytest.param(np.dtype(d), id=np.dtype(d).name)
                                for d in (np.int8, np.int32, np.float16, np.bool_)])
@pytest.mark.parametrize("name,params", util.name_param_params(lambda op, name, p: p == {}))
def test_out_for_cast_dtypes(name, params, dt, rng):
    """For inputs that are cast, out must have the *result* dtype (np.tanh's):
    then it receives the result; any other dtype is a TypeError, out untouched."""
    x = _small_ints(dt, util.BASE_SHAPE, rng) if dt.kind != "f" else rng.uniform(-4, 4, util.BASE_SHAPE).astype(dt)
    p = util.fit_params(name, x.shape, params)
    rdt, _ = _expected_dtypes(dt)
    want = util.forward(name, x, p)
    out = np.full(want.shape, 7, rdt)
    assert util.forward(name, x, p, out=out) is out
    util.assert_same(out, want, "%s(%s) into a %s out" % (name, dt, rdt))
    for odt in (np.float32, np.float64):
        if np.dtype(odt) == rdt:
            continue
        bad = np.full(want.shape, 7, odt)
        with pytest.raises(TypeError, match="fastact.%s" % name):
            util.forward(name, x, p, out=bad)
        assert (bad == 7).all()


class _HasArray:
    """An object NumPy converts through __array__ (like a pandas Series or an xarray DataArray)."""

    def __init__(self, a):
        self.a = a

    def __array__(self, dtype=None, copy=None):
        return self.a if dtype is None else self.a.astype(dtype)


@pytest.mark.parametrize("name,params", ALL)
def test_array_protocols_and_tuple_out(name, params, rng):
    """Whatever np.asarray accepts is accepted (memoryview, buffer, __array__
    objects) and gives the ndarray answer; out may be a 1-tuple as for a ufunc,
    (None,) meaning "allocate"."""
    x = _values(name, rng, (2, 4)).astype(np.float32)
    p = util.fit_params(name, x.shape, params)
    want = util.forward(name, x, p)
    for arg in (memoryview(x), _HasArray(x)):
        util.assert_same(util.forward(name, arg, p), want, "%s(%s)" % (name, type(arg).__name__))
    out = np.empty(np.shape(want), np.float32)
    assert util.forward(name, x, p, out=(out,)) is out
    util.assert_same(out, want, "%s(out=(out,))" % name)
    util.assert_same(util.forward(name, x, p, out=(None,)), want, "%s(out=(None,))" % name)
    with pytest.raises(ValueError, match="fastact.%s: out must be an array or a tuple of one" % name):
        util.forward(name, x, p, out=(out, out))
    dy = np.ones(np.shape(want), np.float32)
    saved = util.saved_for(name, x, p)
    g_want = util.backward(name, dy, saved, p)
    dx = np.empty(x.shape, np.float32)
    g = util.backward(name, _HasArray(dy), memoryview(np.ascontiguousarray(saved)), p, out=(dx,))
    if lookup(name).kind == "prelu":
        g, g_want = g[0], g_want[0]
    assert g is dx
    util.assert_same(g, g_want, "%s_backward(__array__, memoryview, out=(dx,))" % name)


# The names SciPy and PyTorch users know, each the same function as fastact's.
KNOWN_NAMES = {"expit": "sigmoid", "logistic": "sigmoid", "log_expit": "log_sigmoid", "logsigmoid": "log_sigmoid",
               "swish": "silu", "hardswish": "hard_swish", "hardsigmoid": "hard_sigmoid"}


@pytest.mark.parametrize("alias,canonical", sorted(KNOWN_NAMES.items()))
def test_scipy_and_torch_names(alias, canonical, rng):
    x = rng.uniform(-8, 8, 64)
    util.assert_same(getattr(fa, alias)(x), getattr(fa, canonical)(x), alias)
    util.assert_same(getattr(fa, alias + "_backward")(x, x), getattr(fa, canonical + "_backward")(x, x), alias)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unaligned_weight_and_bias(dtype, rng):
    """A prelu weight or a bias_act / linear bias whose data is not aligned
    (as dask hands a worker an unpickled array) is taken as its aligned copy
    would be, forward and backward, not refused."""
    x = rng.standard_normal((6, 5)).astype(dtype)
    dy = rng.standard_normal((6, 5)).astype(dtype)
    w = np.linspace(0.05, 0.3, 5).astype(dtype)
    wu = util.make_unaligned(w)
    assert not wu.flags.aligned
    util.assert_same(fa.prelu(x, wu, axis=1), fa.prelu(x, w, axis=1), "prelu, unaligned weight")
    for got, want in zip(fa.prelu_backward(dy, x, wu, axis=1), fa.prelu_backward(dy, x, w, axis=1)):
        util.assert_same(got, want, "prelu_backward, unaligned weight")
    b = rng.standard_normal(5).astype(dtype)
    bu = util.make_unaligned(b)
    util.assert_same(fa.bias_act(x, bu, "gelu"), fa.bias_act(x, b, "gelu"), "bias_act, unaligned bias")
    W = rng.standard_normal((5, 5)).astype(dtype)
    util.assert_same(fa.linear(x, W, bu, "relu"), fa.linear(x, W, b, "relu"), "linear, unaligned bias")
