"""fastact on dask arrays (fastact._dask): every function, forward and
backward, returns a lazy dask array computed blockwise that equals the
in-memory result (bit for bit; prelu's dweight, a sum in another order, to
rounding); every error is raised at call time; and a LocalCluster of two
worker processes computes them all."""

import dask
import dask.array as da
import numpy as np
import pytest
from dask.distributed import Client, LocalCluster

import fastact as fa
from fastact import _dispatch
from fastact._registry import OPS

import util

# (id, shape, chunks, axis given to the ops that take one: None keeps the
# parameter sets' own); chunks cut every axis, the reduced/grouped one too
GRIDS = [
    ("1d", (50,), (16,), None),
    ("2d", (7, 12), (3, 5), None),
    ("3d", (4, 6, 12), (3, 4, 5), None),
    ("3d_axis0", (4, 6, 12), (3, 4, 5), 0),
]


def _refuse(*args, **kwargs):
    raise AssertionError("something was computed at call time")


def _cases():
    out = []
    for op in OPS:
        for gid, shape, chunks, axis in GRIDS:
            if axis is not None and not util.takes_axis(op):
                continue
            for pid, params in util.param_sets(op):
                for dt in util.FLOATS:
                    out.append(pytest.param(op, shape, chunks, axis, params, np.dtype(dt),
                                            id="%s[%s]-%s-%s" % (op.name, pid, gid, np.dtype(dt).name)))
    return out


def _inputs(op, shape, axis, params, dtype, rng):
    """(params fitted to shape, x, dy, the saved array) for an op, in memory."""
    p = dict(params)
    if axis is not None:
        p["axis"] = axis
    p = util.fit_params(op, shape, p)
    x = util.sample(op, dtype, rng, n=int(np.prod(shape))).reshape(shape)
    dy = rng.standard_normal(util.out_shape(op.name, shape, p)).astype(dtype)
    return p, x, dy, util.saved_for(op.name, x, p)


def _assert_dweight(got, want, dy, x, p, what):
    """prelu's dweight: the per-block float64 partial sums add up in another
    order than in memory, so equal to a few ulps of the sum of |terms|."""
    assert got.dtype == want.dtype and got.shape == want.shape, what
    ax = p.get("axis", 1) % x.ndim
    terms = np.where(x > 0, 0.0, np.abs(dy.astype(np.float64) * x))
    axes = tuple(i for i in range(x.ndim) if i != ax) if np.size(p["weight"]) > 1 else None
    scale = np.sum(terms, axis=axes).reshape(want.shape)
    rtol = util.TOL[want.dtype]["rtol"]
    util.assert_close(got, want, rtol, 4 * rtol * scale, what=what)


@pytest.mark.parametrize("op, shape, chunks, axis, params, dtype", _cases())
def test_blockwise_equals_in_memory(op, shape, chunks, axis, params, dtype, rng):
    """Forward and backward (dy and saved both dask, or one of them NumPy, or
    differently chunked) are lazy at call time and compute the in-memory bits."""
    p, x, dy, s = _inputs(op, shape, axis, params, dtype, rng)
    xd, dyd, sd = (da.from_array(a, chunks=chunks if a.shape == x.shape else 4) for a in (x, dy, s))
    other = tuple(max(1, c - 1) for c in chunks)
    with dask.config.set(scheduler=_refuse):
        y = util.forward(op.name, xd, p)
        grads = [util.backward(op.name, a, b, p) for a, b in
                 [(dyd, sd), (dy, sd), (dyd, s), (dyd, sd.rechunk(other))]]
    with dask.config.set(scheduler="sync"):
        assert isinstance(y, da.Array) and y.dtype == dtype
        util.assert_same(y.compute(), util.forward(op.name, x, p), "forward")
        want = util.backward(op.name, dy, s, p)
        for i, g in enumerate(grads):
            what = "backward, arguments %d" % i
            if op.kind == "prelu":
                assert all(isinstance(r, da.Array) for r in g)
                dx, dw = dask.compute(*g)
                util.assert_same(dx, want[0], what + " dx")
                _assert_dweight(dw, want[1], dy, x, p, what + " dweight")
            else:
                assert isinstance(g, da.Array) and g.dtype == dtype
                util.assert_same(g.compute(), want, what)


def test_rrelu_training_noise_is_the_in_memory_draw(rng):
    """rrelu's training noise depends on (seed, flat index in the whole array):
    any chunking and any scheduler give the in-memory bits."""
    x = rng.standard_normal((5, 4, 7))
    dy = rng.standard_normal(x.shape)
    kw = dict(lower=0.05, upper=0.6, training=True, seed=2 ** 64 - 3)
    want, gwant = fa.rrelu(x, **kw), fa.rrelu_backward(dy, x, **kw)
    for chunks in [(5, 4, 7), (1, 1, 1), (2, 3, 7), (5, 4, 3), (2, 3, 4)]:
        xd = da.from_array(x, chunks=chunks)
        for scheduler in ("sync", "threads"):
            y, g = dask.compute(fa.rrelu(xd, **kw), fa.rrelu_backward(dy, xd, **kw), scheduler=scheduler)
            util.assert_same(y, want, "forward %s %s" % (chunks, scheduler))
            util.assert_same(g, gwant, "backward %s %s" % (chunks, scheduler))


def test_prelu_dweight_is_deterministic(rng):
    x = rng.standard_normal((16, 8, 20)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    xd = da.from_array(x, chunks=(5, 3, 7))
    for weight in (np.linspace(-0.5, 0.5, 8), 0.25):
        dw = fa.prelu_backward(dy, xd, weight)[1]
        a = dw.compute(scheduler="sync")
        b = dw.compute(scheduler="threads")
        c = fa.prelu_backward(da.from_array(dy, chunks=(5, 3, 7)), xd, weight)[1].compute(scheduler="threads")
        util.assert_same(a, b, "sync vs threads")
        util.assert_same(a, c, "recomputed")


def test_other_dtypes_cast_as_in_memory():
    """ints, bools and float16 follow the NumPy path's casting (np.tanh's)."""
    for a in (np.arange(-6, 6, dtype=np.int16).reshape(3, 4), np.arange(12, dtype=np.int64).reshape(3, 4) - 6,
              np.array([[True, False], [False, True]]),
              np.linspace(-5, 5, 12).astype(np.float16).reshape(3, 4)):
        ad = da.from_array(a, chunks=2)
        for name, kw in [("gelu", {}), ("softmax", dict(axis=0)), ("maxout", dict(pieces=2)),
                         ("prelu", dict(weight=np.arange(a.shape[1]) / 4.0)), ("rrelu", dict(training=True, seed=1))]:
            y = getattr(fa, name)(ad, **kw)
            want = getattr(fa, name)(a, **kw)
            assert y.dtype == want.dtype
            util.assert_same(y.compute(scheduler="sync"), want, "%s %s" % (name, a.dtype))


def test_zero_d_and_empty():
    for a in (np.array(-1.5, np.float32), np.zeros((0, 4)), np.zeros((3, 0))):
        ad = da.from_array(a)
        for name, kw in [("tanh", {}), ("softmax", {}), ("maxout", dict(pieces=1)), ("prelu", dict(weight=0.5)),
                         ("rrelu", dict(training=True, seed=4))]:
            util.assert_same(getattr(fa, name)(ad, **kw).compute(scheduler="sync"), getattr(fa, name)(a, **kw),
                             "%s %s" % (name, a.shape))
            got = getattr(fa, name + "_backward")(ad, ad, **kw)
            want = getattr(fa, name + "_backward")(a, a, **kw)
            for g, w in zip(*((got, want) if name == "prelu" else ((got,), (want,)))):
                util.assert_same(g.compute(scheduler="sync"), w, "%s_backward %s" % (name, a.shape))


_COMPUTED = []


def _source(block):
    _COMPUTED.append(1)
    return block


@pytest.mark.parametrize("op", [pytest.param(op, id=op.name) for op in OPS])
def test_lazy_until_compute(op, rng):
    """Nothing runs at call time (no block of the input is even produced);
    compute runs the graph."""
    p, x, dy, s = _inputs(op, (6, 8), None, {}, np.dtype(np.float32), rng)
    counted = [da.from_array(a, chunks=3).map_blocks(_source, dtype=a.dtype) for a in (x, dy, s)]
    del _COMPUTED[:]
    with dask.config.set(scheduler=_refuse):
        y = util.forward(op.name, counted[0], p)
        g = util.backward(op.name, counted[1], counted[2], p)
    assert not _COMPUTED
    for r in [y] + list(g if op.kind == "prelu" else [g]):
        assert isinstance(r, da.Array)
    dask.compute(y, g, scheduler="sync")
    assert _COMPUTED


def test_aliases_reach_dask():
    x = da.from_array(np.linspace(-3, 3, 10), chunks=4)
    util.assert_same(fa.expit(x).compute(scheduler="sync"), fa.sigmoid(np.linspace(-3, 3, 10)), "expit")


# ------------------------------------------------------------------ errors

def _x(dtype=np.float64, shape=(6, 8)):
    return da.from_array(np.ones(shape, dtype), chunks=3)


ERRORS = [
    ("out", lambda: fa.sigmoid(_x(), out=np.empty((6, 8))), TypeError, r"fastact\.sigmoid: out="),
    ("out_backward", lambda: fa.gelu_backward(_x(), _x(), out=np.empty((6, 8))), TypeError,
     r"fastact\.gelu_backward: out="),
    ("out_numpy_dy", lambda: fa.relu_backward(np.ones((6, 8)), _x(), out=np.empty((6, 8))), TypeError,
     r"fastact\.relu_backward: out="),
    ("alpha", lambda: fa.leaky_relu6(_x(), alpha=2.0), ValueError, r"fastact\.leaky_relu6: alpha must be in"),
    ("alpha_type", lambda: fa.elu_backward(_x(), _x(), alpha="a"), TypeError, r"fastact\.elu_backward: alpha"),
    ("hardtanh", lambda: fa.hardtanh(_x(), min_val=2.0, max_val=1.0), ValueError, r"fastact\.hardtanh: min_val"),
    ("choice", lambda: fa.gelu(_x(), approximate="x"), ValueError, r"fastact\.gelu: approximate"),
    ("dtype", lambda: fa.tanh(_x(np.complex128)), TypeError, r"fastact\.tanh: unsupported dtype complex128"),
    ("shapes", lambda: fa.sigmoid_backward(_x(), _x(shape=(6, 7))), ValueError,
     r"fastact\.sigmoid_backward: dy and y must have the same shape"),
    ("shapes_numpy", lambda: fa.silu_backward(_x(), np.ones((6, 7))), ValueError,
     r"fastact\.silu_backward: dy and x must have the same shape"),
    ("axis", lambda: fa.softmax(_x(), axis=2), ValueError, r"fastact\.softmax: axis 2 is out of bounds"),
    ("axis_backward", lambda: fa.log_softmax_backward(_x(), _x(), axis=-3), ValueError,
     r"fastact\.log_softmax_backward: axis -3 is out of bounds"),
    ("pieces", lambda: fa.maxout(_x(), pieces=3), ValueError, r"fastact\.maxout: the length of axis 1"),
    ("pieces_type", lambda: fa.maxout(_x(), pieces=2.0), TypeError, r"fastact\.maxout: pieces must be an integer"),
    ("maxout_dy", lambda: fa.maxout_backward(_x(), _x(), pieces=2), ValueError,
     r"fastact\.maxout_backward: dy must have the forward's output shape"),
    ("weight", lambda: fa.prelu(_x(), np.ones(5)), ValueError, r"fastact\.prelu: weight has 5 entries"),
    ("weight_backward", lambda: fa.prelu_backward(_x(), _x(), [0.1, np.nan] * 4), ValueError,
     r"fastact\.prelu_backward: weight must be finite"),
    ("weight_dask", lambda: fa.prelu(_x(), da.ones(8)), TypeError, r"fastact\.prelu: weight must be a NumPy array"),
    ("rrelu_seed", lambda: fa.rrelu(_x(), training=True), ValueError, r"fastact\.rrelu: training=True .* needs a seed"),
    ("rrelu_seed_backward", lambda: fa.rrelu_backward(_x(), _x(), training=True), ValueError,
     r"fastact\.rrelu_backward: training=True"),
    ("rrelu_bounds", lambda: fa.rrelu(_x(), lower=0.5, upper=0.1), ValueError, r"fastact\.rrelu: need 0 <= lower"),
    ("unknown_chunks", lambda: fa.softmax(_x()[_x()[:, 0] > 0]), ValueError,
     r"fastact\.softmax: x has unknown chunk sizes"),
]


@pytest.mark.parametrize("call, exc, match", [pytest.param(c, e, m, id=i) for i, c, e, m in ERRORS])
def test_errors_at_call_time(call, exc, match):
    with dask.config.set(scheduler=_refuse):
        with pytest.raises(exc, match=match):
            call()


def test_import_does_not_import_dask(tmp_path):
    r = util.run_python(tmp_path, "import sys, fastact\nassert 'dask' not in sys.modules, 'dask imported'\n"
                                  "import numpy as np\nfastact.rrelu(np.ones(3), training=True)\n"
                                  "assert 'dask' not in sys.modules\nprint('ok')\n")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


# ------------------------------------------------------------- distributed

@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread (they inherit the environment, so
    FASTACT_CPU too), started once for this module."""
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster, set_as_default=False) as c:
            yield c


def test_local_cluster_computes_every_function(client, rng):
    """Every function, forward and backward (default parameters, and rrelu in
    training), float32 and float64, on a chunked array, each backward taking
    its forward's lazy output or input as a training step does: the two
    worker processes compute the in-memory result."""
    workers = client.run(lambda: (fa.__file__, _dispatch.VARIANT))
    assert len(workers) == 2 and set(workers.values()) == {(fa.__file__, _dispatch.VARIANT)}
    shape, chunks = (16, 12), (8, 7)    # 4 blocks (few tasks: each costs milliseconds on a busy machine)
    lazy, want, info = [], [], []
    for dt in util.FLOATS:
        x = (rng.standard_normal(shape) * 4).astype(dt)
        xd = da.from_array(x, chunks=chunks)
        dys = {}
        for op in OPS:
            for pid, params in util.param_sets(op):
                if pid != "default" and not params.get("training"):
                    continue  # the defaults, and rrelu's training noise (drawn per block)
                p = util.fit_params(op, shape, params)
                y, yd = util.forward(op.name, x, p), util.forward(op.name, xd, p)
                if y.shape not in dys:
                    dy = rng.standard_normal(y.shape).astype(dt)
                    dys[y.shape] = dy, da.from_array(dy, chunks=yd.chunks)
                dy, dyd = dys[y.shape]
                saved, saved_d = (y, yd) if op.saves == "y" else (x, xd)
                lazy += [yd, util.backward(op.name, dyd, saved_d, p)]
                want += [y, util.backward(op.name, dy, saved, p)]
                info.append((op, p, x, dy, "%s[%s] %s" % (op.name, pid, np.dtype(dt).name)))
    (got,) = dask.compute(lazy, scheduler=client)
    for i, (op, p, x, dy, what) in enumerate(info):
        util.assert_same(got[2 * i], want[2 * i], what + " forward")
        g, w = got[2 * i + 1], want[2 * i + 1]
        if op.kind == "prelu":
            util.assert_same(g[0], w[0], what + " backward dx")
            _assert_dweight(g[1], w[1], dy, x, p, what + " backward dweight")
        else:
            util.assert_same(g, w, what + " backward")
