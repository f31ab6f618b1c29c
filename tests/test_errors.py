"""Bad input: unsupported dtypes, backward shape mismatches, bad parameters.
Every error names the function, and nothing is written to a provided out."""

import numpy as np
import pytest

import fastact as fa
from fastact._registry import lookup

import util

SENTINEL = 12345.0

BAD_ARRAYS = {
    "complex64": lambda shape: (np.ones(shape) + 1j).astype(np.complex64),
    "complex128": lambda shape: np.ones(shape) + 1j,
    "object": lambda shape: np.full(shape, 1.5, dtype=object),
    "str": lambda shape: np.full(shape, "ab"),
    "bytes": lambda shape: np.full(shape, b"ab"),
    "datetime64": lambda shape: np.full(shape, np.datetime64("2020-01-01", "D")),
    "timedelta64": lambda shape: np.full(shape, np.timedelta64(3, "s")),
    "void": lambda shape: np.zeros(shape, dtype="V8"),
    "clongdouble": lambda shape: np.ones(shape, np.clongdouble),
    # np.tanh computes float128 in float128: fastact has no such kernel
    "longdouble": lambda shape: np.ones(shape, np.longdouble),
    "StringDType": lambda shape: np.full(shape, "1.5", dtype=np.dtypes.StringDType()),
    "datetime64[ns]": lambda shape: np.full(shape, np.datetime64(5, "ns")),
    "timedelta64-generic": lambda shape: np.zeros(shape, "m8"),
    "structured": lambda shape: np.zeros(shape, dtype=[("a", "f8")]),
    "unicode": lambda shape: np.full(shape, "1.5", dtype="U3"),
    "object-floats": lambda shape: np.full(shape, 1.5, dtype=object),
}

SHAPE = (3, 4)


def _raises(exc, fname, fn, *protect):
    """fn() raises exc whose message names fastact.<fname>; the arrays in
    `protect` (out, inputs) are unchanged."""
    snap = util.snapshot(*protect)
    with pytest.raises(exc) as info:
        fn()
    assert "fastact.%s" % fname in str(info.value), "message does not name fastact.%s: %s" % (fname, info.value)
    util.assert_unchanged(snap, *protect, what="fastact.%s wrote on a failing call" % fname)
    return info.value


@pytest.mark.parametrize("bad", list(BAD_ARRAYS), ids=list(BAD_ARRAYS))
@pytest.mark.parametrize("name", util.name_params())
def test_bad_dtype(name, bad):
    """complex, object, strings, datetimes: TypeError naming the function and the dtype."""
    x = BAD_ARRAYS[bad](SHAPE)
    p = util.fit_params(name, SHAPE, {})
    yshape = util.out_shape(name, SHAPE, p)
    out = np.full(yshape, SENTINEL)
    err = _raises(TypeError, name, lambda: util.forward(name, x, p, out=out), out)
    assert str(x.dtype) in str(err), "message does not name the dtype %s: %s" % (x.dtype, err)
    _raises(TypeError, name, lambda: util.forward(name, x, p))
    # backward: a bad dy, and a bad saved array
    good = np.ones(SHAPE)
    dy_good = np.ones(yshape)
    dx_out = np.full(SHAPE, SENTINEL)
    if yshape == SHAPE:
        err = _raises(TypeError, name + "_backward",
                      lambda: util.backward(name, x, good, p, out=dx_out), dx_out, good)
        assert str(x.dtype) in str(err)
    err = _raises(TypeError, name + "_backward",
                  lambda: util.backward(name, dy_good, x, p, out=dx_out), dx_out, dy_good)
    assert str(x.dtype) in str(err)


def test_every_numpy_dtype_is_in_the_matrix():
    """Every dtype NumPy has (np.typecodes["All"]) is either run by the dtype
    rule tests (test_layout.py::test_dtype_rules, the float tests) or by
    test_bad_dtype above, and which one is NumPy's own answer: np.tanh gives
    float16/32/64 (fastact casts the same way) or anything else (TypeError)."""
    from test_layout import OTHER_DTYPES

    accepted = [np.dtype(d) for d in OTHER_DTYPES + list(util.FLOATS)]
    rejected = [make(SHAPE).dtype for make in BAD_ARRAYS.values()]
    for code in np.typecodes["All"]:
        dt = np.dtype(code)
        try:
            tanh_dt = np.tanh(np.zeros(2, dt)).dtype
        except TypeError:
            tanh_dt = None
        if tanh_dt in (np.float16, np.float32, np.float64):
            assert dt in accepted, "%s (np.tanh gives %s) is not in the dtype rule tests" % (dt, tanh_dt)
        else:
            assert dt in rejected or dt.kind in "SUVMm" and dt.kind in {d.kind for d in rejected}, \
                "%s (np.tanh gives %s) is not in BAD_ARRAYS" % (dt, tanh_dt)


@pytest.mark.parametrize("name", util.name_params())
def test_ragged_list(name):
    p = util.fit_params(name, (2,), {})
    with pytest.raises((TypeError, ValueError)) as info:
        util.forward(name, [[1.0, 2.0], [3.0]], p)
    assert "fastact.%s" % name in str(info.value)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("shapes", [((3, 4), (4, 3)), ((3, 4), (3, 1)), ((3, 4), (4,)), ((3, 4), (1, 3, 4)),
                                    ((5,), ()), ((0,), (1,))],
                         ids=lambda s: "dy%s-saved%s" % s)
@pytest.mark.parametrize("name", util.name_params())
def test_backward_shape_mismatch(name, shapes, dtype):
    """dy and saved of different shapes (no silent broadcasting): ValueError
    naming both shapes; out untouched."""
    op = lookup(name)
    dshape, sshape = shapes
    if op.kind == "maxout":
        # dy must have the forward's output shape
        p = util.fit_params(op, sshape, {})
        yshape = util.out_shape(name, sshape, p)
        if dshape == yshape:
            pytest.skip("these shapes are consistent for maxout")
    else:
        p = util.fit_params(op, sshape, {})
        if op.kind == "prelu" and np.size(p["weight"]) > 1:
            p["weight"] = 0.25
    dy = np.ones(dshape, dtype)
    saved = np.ones(sshape, dtype)
    out = np.full(sshape, SENTINEL, dtype)
    err = _raises(ValueError, name + "_backward", lambda: util.backward(name, dy, saved, p, out=out), out, dy, saved)
    assert str(dy.shape) in str(err) and str(saved.shape) in str(err), \
        "message does not name both shapes %s and %s: %s" % (dy.shape, saved.shape, err)


# ------------------------------------------------------------- parameters

def _explicit_bad_params():
    """(name, params, x shape, exception) for the bad parameters the brief lists."""
    cases = []
    for op, name in util.NAMES:
        if op.kind == "maxout":
            for pieces, exc in [(0, ValueError), (-1, ValueError), (3, ValueError), (2.5, TypeError),
                                ("2", TypeError), (None, TypeError), (True, TypeError)]:
                cases.append((name, {"pieces": pieces}, (2, 4), exc, "pieces=%r" % (pieces,)))
            cases.append((name, {"pieces": 2, "axis": 1.0}, (2, 4), TypeError, "axis=1.0"))
        if op.kind == "rrelu":
            cases += [
                (name, {"lower": 0.4, "upper": 0.2}, SHAPE, ValueError, "lower>upper"),
                (name, {"lower": 0.4, "upper": 0.2, "training": True, "seed": 1}, SHAPE, ValueError,
                 "lower>upper-training"),
                (name, {"lower": -0.1}, SHAPE, ValueError, "lower<0"),
                (name, {"training": True, "seed": "abc"}, SHAPE, TypeError, "seed=str"),
                (name, {"training": True, "seed": 1.5}, SHAPE, TypeError, "seed=float"),
                (name, {"training": "yes", "seed": 1}, SHAPE, TypeError, "training=str"),
            ]
        if op.kind == "prelu":
            cases += [
                (name, {"weight": [0.1, 0.2]}, SHAPE, ValueError, "weight-wrong-length"),
                (name, {"weight": [0.1, 0.2, 0.3]}, SHAPE, ValueError, "weight-length-of-other-axis"),
                (name, {"weight": np.full((4, 1), 0.1)}, SHAPE, ValueError, "weight-2d"),
                (name, {"weight": np.full((1, 4), 0.1)}, SHAPE, ValueError, "weight-2d-row"),
                (name, {"weight": np.array([], float)}, SHAPE, ValueError, "weight-empty"),
                (name, {"weight": np.nan}, SHAPE, ValueError, "weight-nan"),
                (name, {"weight": [0.1, np.inf, 0.2]}, SHAPE, ValueError, "weight-inf"),
                (name, {"weight": 1j}, SHAPE, TypeError, "weight-complex"),
                (name, {"weight": "abc"}, SHAPE, TypeError, "weight-str"),
                (name, {"weight": None}, SHAPE, TypeError, "weight-None"),
                (name, {"weight": [0.1, 0.2, 0.3], "axis": 5}, SHAPE, ValueError, "axis-out-of-range"),
                (name, {"weight": 0.25, "axis": 1.5}, SHAPE, TypeError, "axis-float"),
            ]
        if op.kind == "rowwise":
            cases += [(name, {"axis": 2}, SHAPE, ValueError, "axis=2"), (name, {"axis": "0"}, SHAPE, TypeError, "axis=str"),
                      (name, {"axis": 0.0}, SHAPE, TypeError, "axis=float")]
        if op.name == "hardtanh":
            cases.append((name, {"min_val": 2.0, "max_val": 1.0}, SHAPE, ValueError, "min>max"))
        if op.name == "gelu":
            cases += [(name, {"approximate": "bogus"}, SHAPE, ValueError, "approximate=bogus"),
                      (name, {"approximate": None}, SHAPE, ValueError, "approximate=None"),
                      (name, {"approximate": True}, SHAPE, ValueError, "approximate=True")]
        if op.name == "softplus":
            cases.append((name, {"beta": 0.0}, SHAPE, ValueError, "beta=0"))
        if op.name == "celu":
            cases.append((name, {"alpha": 0.0}, SHAPE, ValueError, "alpha=0"))
        if op.name == "elu":
            cases.append((name, {"alpha": -1.0}, SHAPE, ValueError, "alpha<0"))
        if op.name == "leaky_relu6":
            cases.append((name, {"alpha": 1.5}, SHAPE, ValueError, "alpha>1"))
        # every real parameter: NaN, inf, non-numeric
        for prm in util.real_params(op):
            for v, exc, vid in [(np.nan, ValueError, "nan"), (np.inf, ValueError, "inf"), (-np.inf, ValueError, "-inf"),
                                ("abc", TypeError, "str"), (None, TypeError, "None"), ([1.0], TypeError, "list"),
                                (1 + 2j, TypeError, "complex")]:
                cases.append((name, {prm.name: v}, SHAPE, exc, "%s=%s" % (prm.name, vid)))
    return [pytest.param(*c[:4], id="%s-%s" % (c[0], c[4])) for c in cases]


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params,shape,exc", _explicit_bad_params())
def test_bad_parameters(name, params, shape, exc, dtype):
    """Bad parameters raise (forward and backward) naming the function;
    nothing is written to out, the inputs are untouched."""
    op = lookup(name)
    x = np.linspace(-2, 2, int(np.prod(shape))).reshape(shape).astype(dtype)
    p = dict(params)
    if op.kind == "prelu" and "weight" not in p:
        p["weight"] = 0.25
    out = np.full(shape, SENTINEL, dtype)
    _raises(exc, name, lambda: util.forward(name, x, p, out=out), out, x)
    _raises(exc, name, lambda: util.forward(name, x, p))
    dy = np.ones(shape, dtype)
    if op.kind == "maxout":
        dy = np.ones(shape[:-1] + (2,), dtype)
    _raises(exc, name + "_backward", lambda: util.backward(name, dy, x, p, out=out), out, x, dy)


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name", util.name_params([n for op, n in util.NAMES if op.kind == "rrelu"]))
def test_rrelu_backward_training_needs_seed(name, dtype):
    x = np.linspace(-2, 2, 12).astype(dtype)
    dy = np.ones_like(x)
    out = np.full(x.shape, SENTINEL, dtype)
    err = _raises(ValueError, name + "_backward",
                  lambda: util.backward(name, dy, x, {"training": True}, out=out), out, x, dy)
    assert "seed" in str(err)
    # eval mode needs no seed; training forward without a seed draws one
    util.backward(name, dy, x, {"training": False})
    y = util.forward(name, x, {"training": True})
    assert y.shape == x.shape and np.isfinite(y).all()


@pytest.mark.parametrize("name", util.name_params([n for op, n in util.NAMES if any(p.required for p in op.params)]))
def test_missing_required_parameter(name):
    with pytest.raises(TypeError):
        getattr(fa, name)(np.ones(4))
    with pytest.raises(TypeError):
        getattr(fa, name + "_backward")(np.ones(4), np.ones(4))


@pytest.mark.parametrize("name,params", util.name_param_params())
def test_valid_parameter_types(name, params):
    """Numpy scalars and 0-d arrays are valid real parameters and give the
    same as Python floats."""
    op = lookup(name)
    reals = util.real_params(op)
    if not reals:
        pytest.skip("no real parameters")
    x = np.linspace(-3, 3, 12)
    p = util.full_params(name, params)
    want = util.forward(name, x, p)
    for conv in (np.float64, np.array):
        q = dict(p)
        for prm in reals:
            q[prm.name] = conv(q[prm.name])
        util.assert_same(util.forward(name, x, q), want, "%s with numpy parameters" % name)


_TORCH_NAMED = [(op, n, p) for op, n in util.NAMES for p in op.params if p.torch]


@pytest.mark.parametrize("op,name,param", [pytest.param(*t, id="%s-%s" % (t[1], t[2].torch)) for t in _TORCH_NAMED])
def test_torch_parameter_names(op, name, param):
    """torch.nn.functional's name of a parameter (softmax's dim, leaky_relu's
    negative_slope) works by keyword, forward, backward and in bias_act,
    as the parameter itself; both at once is a TypeError naming the
    function, with nothing written."""
    assert _TORCH_NAMED and {p.torch for _, _, p in _TORCH_NAMED} >= {"dim", "negative_slope"}
    x = np.linspace(-3, 3, 24).reshape(4, 6)
    value = 0 if param.name == "axis" else 0.2
    fwd, bwd = getattr(fa, name), getattr(fa, name + "_backward")
    want = fwd(x, **{param.name: value})
    util.assert_same(fwd(x, **{param.torch: value}), want, "%s(%s=)" % (name, param.torch))
    dy = np.cos(x)
    saved = want if op.saves == "y" else x
    util.assert_same(bwd(dy, saved, **{param.torch: value}), bwd(dy, saved, **{param.name: value}),
                     "%s_backward(%s=)" % (name, param.torch))
    if op.kind == "elementwise":
        b = np.zeros(6)
        util.assert_same(fa.bias_act(x, b, name, **{param.torch: value}), want, "bias_act(%s=)" % param.torch)
        _raises(TypeError, "bias_act", lambda: fa.bias_act(x, b, name, **{param.name: value, param.torch: value}), x)
    out = np.full_like(x, SENTINEL)
    _raises(TypeError, name, lambda: fwd(x, **{param.name: value, param.torch: value}, out=out), out, x)
    _raises(TypeError, name + "_backward", lambda: bwd(dy, saved, **{param.name: value, param.torch: value}, out=out),
            out, dy)
