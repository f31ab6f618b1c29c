"""The peer contenders (fastact._contenders_peers) compute what fastact computes.

Each installed peer (SciPy, numexpr, PyTorch, JAX), every function it covers,
float32 and float64, forward and backward, against fastact.reference, on the
benchmark's own inputs (make_case) and on a few non-default parameters.  CI
installs none of the peers: there these tests skip.
"""

import importlib.util

import numpy as np
import pytest

import fastact as fa
from fastact import reference
from fastact._bench_cases import make_case
from fastact._contenders_peers import PEERS, supports, table, version
from fastact._registry import BY_NAME, lookup

N = 3000
DTYPES = (np.float32, np.float64)

# non-default parameters: the peers must honour them, not fall back to defaults
EXTRA = {
    "leaky_relu": [{"alpha": 0.2}],
    "rrelu": [{"lower": 0.1, "upper": 0.5}, {"training": True, "seed": 1}],
    "leaky_relu6": [{"alpha": 0.3}],
    "hardtanh": [{"min_val": -2.0, "max_val": 0.5}],
    "silu": [{"beta": 1.7}],
    "softplus": [{"beta": 2.0, "threshold": 10.0}, {"beta": 0.5}],
    "gelu": [{"approximate": "tanh"}],
    "elu": [{"alpha": 0.5}],
    "celu": [{"alpha": 2.0}, {"alpha": -0.7}],
    "softmax": [{"axis": 0}],
    "log_softmax": [{"axis": 0}],
    "maxout": [{"pieces": 4}, {"pieces": 2, "axis": 0}],
    "prelu": [{"weight": 0.25}],
}


def _installed(peer):
    return importlib.util.find_spec(peer) is not None


def _covered():
    """(peer, name) for every function of every installed peer."""
    out = []
    for peer in PEERS:
        if not _installed(peer):
            continue
        try:
            t = table(peer)
        except Exception:   # a broken install: test_tables reports it
            continue
        out += [(peer, name) for name in sorted(t or ())]
    return out


COVERED = _covered()


def _variants(name):
    return [None] + EXTRA.get(name, [])


CASES = [pytest.param(peer, name, i, dtype, id="%s-%s-%d-%s" % (peer, name, i, np.dtype(dtype).name))
         for peer, name in COVERED for i in range(len(_variants(name))) for dtype in DTYPES]


def _case(name, variant, dtype):
    """make_case, with the variant's parameters (y and saved recomputed by fastact)."""
    case = make_case(name, N, dtype)
    extra = _variants(name)[variant]
    if extra:
        case.params = dict(case.params, **extra)
        if case.params.get("axis") == 0 and name == "maxout":
            case.x = case.x[: case.x.shape[0] // 2 * 2]
            case.dy = None
        case.y = getattr(fa, name)(case.x, **case.params)
        if case.dy is None or case.dy.shape != case.y.shape:
            case.dy = np.random.default_rng(1).standard_normal(case.y.shape).astype(dtype)
        case.saved = case.y if lookup(name).saves == "y" else case.x
    return case


def _reference(case):
    """(forward, backward) in float64; backward is (dx, dweight) for prelu."""
    op, x, dy, p = case.op, case.x, case.dy, case.params
    if op.kind in ("elementwise", "rrelu"):
        return reference.forward(op.name, x, **p), dy * reference.derivative(op.name, x, **p)
    if op.name == "softmax":
        return reference.softmax(x, p["axis"]), reference.softmax_backward(dy, case.y, p["axis"])
    if op.name == "log_softmax":
        return reference.log_softmax(x, p["axis"]), reference.log_softmax_backward(dy, case.y, p["axis"])
    if op.kind == "maxout":
        return reference.maxout(x, p["pieces"], p["axis"]), reference.maxout_backward(dy, x, p["pieces"], p["axis"])
    if op.kind == "prelu":
        return reference.prelu(x, p["weight"], p["axis"]), reference.prelu_backward(dy, x, p["weight"], p["axis"])
    raise AssertionError(op.name)


# (rtol, atol relative to the largest magnitude of the expected values)
TOL = {np.dtype(np.float32): (2e-5, 2e-6), np.dtype(np.float64): (1e-10, 1e-12)}
# scipy's softplus is exact where torch's threshold returns x: they differ by < e^-20
LOOSER = {("scipy", "softplus", np.dtype(np.float64)): (1e-10, 1e-9),
          # torch's CPU hardsigmoid_backward multiplies by 1.0f / 6.0f, a float32 constant
          ("torch", "hard_sigmoid", np.dtype(np.float64)): (1e-7, 1e-12)}


def _close(got, want, dtype, what, key=None):
    got = np.asarray(got)
    assert got.dtype == dtype, "%s: dtype %s, expected %s" % (what, got.dtype, dtype)
    assert got.shape == np.shape(want), "%s: shape %s, expected %s" % (what, got.shape, np.shape(want))
    rtol, atol = LOOSER.get(key, TOL[np.dtype(dtype)])
    scale = max(1.0, float(np.max(np.abs(want))))
    err = np.abs(got.astype(np.float64) - want)
    bad = ~(err <= rtol * np.abs(want) + atol * scale)
    assert not bad.any(), "%s: %d of %d off; worst at %s: got %r, expected %r" % (
        what, bad.sum(), bad.size, np.argmax(np.where(bad, err, -1)),
        got.ravel()[np.argmax(np.where(bad, err, -1))], np.ravel(want)[np.argmax(np.where(bad, err, -1))])


@pytest.mark.parametrize("peer", PEERS)
def test_tables(peer):
    pytest.importorskip(peer)
    t = table(peer)
    assert t is table(peer)            # cached
    assert isinstance(version(peer), str)
    assert t, peer
    for name, (fwd, bwd) in t.items():
        assert name in BY_NAME, name
        assert callable(fwd) and (bwd is None or callable(bwd)), name


def test_unknown_peer():
    with pytest.raises(ValueError):
        table("cupy")


@pytest.mark.parametrize("peer,name,variant,dtype", CASES)
def test_peer(peer, name, variant, dtype):
    pytest.importorskip(peer)
    fwd, bwd = table(peer)[name]
    case = _case(name, variant, dtype)
    dtype = np.dtype(dtype)
    x0, dy0, saved0 = case.x.copy(), case.dy.copy(), case.saved.copy()

    if not supports(peer, name, case.params):
        with pytest.raises(NotImplementedError):
            fwd(case.x, case.out_forward(), **case.params)
        return

    want_y, want_b = _reference(case)
    key = (peer, name, dtype)
    _close(fwd(case.x, case.out_forward(), **case.params), want_y, dtype, "forward", key)
    if bwd is not None:
        got = bwd(case.dy, case.saved, case.out_backward(), **case.params)
        if name == "prelu":
            _close(got[0], want_b[0], dtype, "backward dx", key)
            _close(got[1], want_b[1], dtype, "backward dweight", key)
        else:
            _close(got, want_b, dtype, "backward", key)
        # out=None is accepted as well
        got2 = bwd(case.dy, case.saved, None, **case.params)
        np.testing.assert_array_equal(np.asarray(got2 if name != "prelu" else got2[0]),
                                      np.asarray(got if name != "prelu" else got[0]))
    np.testing.assert_array_equal(np.asarray(fwd(case.x, None, **case.params)),
                                  np.asarray(fwd(case.x, case.out_forward(), **case.params)))
    # the inputs are left alone
    np.testing.assert_array_equal(case.x, x0)
    np.testing.assert_array_equal(case.dy, dy0)
    np.testing.assert_array_equal(case.saved, saved0)


def test_coverage_is_what_the_libraries_have():
    """Spot checks of the coverage table (a peer's missing entry means it has no such function)."""
    if _installed("scipy"):
        assert not any(n in table("scipy") for n in ("relu", "tanh", "maxout"))
        assert all(b is None for _, b in table("scipy").values())
    if _installed("numexpr"):
        assert not any(n in table("numexpr") for n in ("softmax", "log_softmax", "maxout", "prelu"))
        assert not supports("numexpr", "gelu") and supports("numexpr", "gelu", {"approximate": "tanh"})
    if _installed("torch"):
        assert "leaky_relu6" not in table("torch")
        assert not supports("torch", "rrelu", {"training": True})
    if _installed("jax"):
        assert "rrelu" not in table("jax") and "leaky_relu6" not in table("jax")


def test_numexpr_computes_in_the_arrays_dtype():
    """numexpr turns float32 work into float64 when handed a Python float: the constants must not."""
    pytest.importorskip("numexpr")
    import numexpr as ne

    from fastact._contenders_peers import _NUMEXPR

    x = make_case("sigmoid", 100, np.float32).x
    p = {q.name: q.default for op in BY_NAME.values() for q in op.params if not q.required}
    p.update(alpha=0.1, approximate="tanh")
    for name, (fexpr, bexpr, consts) in _NUMEXPR.items():
        env = {k: np.float32(v) for k, v in (consts(p) if consts else {}).items()}
        env.update(x=x, dy=x, s=x, o=x)
        for expr in [fexpr] + list(bexpr if isinstance(bexpr, tuple) else [bexpr]):
            assert ne.evaluate(expr, local_dict=env).dtype == np.float32, (name, expr)
