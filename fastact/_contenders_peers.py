"""The peer libraries as benchmark contenders: SciPy, numexpr, PyTorch (CPU), JAX (CPU).

For each peer, ``table(peer)`` maps registry names (``fastact._registry.OPS``)
to ``(forward, backward)`` pairs with the calling convention of
``fastact._bench_cases``::

    forward(x, out, **params)            -> the result (out itself where the peer can write there)
    backward(dy, saved, out, **params)   -> dx   (prelu: (dx, dweight))

``saved`` is what the registry's ``Op.saves`` names (y or x).  A name missing
from a table means the peer has no such function; ``backward is None`` means
it has no backward worth timing.  Where a peer has the function only for some
parameter values (numexpr has no erf, so no exact GELU; PyTorch's training-mode
RReLU draws from its own generator, ...), the callables raise
``NotImplementedError`` for the others and ``supports(peer, name, params)``
says so beforehand.

Each peer is used the way an expert user of it would call it from NumPy, at
its fastest: no conversion to float64, results written into ``out`` wherever
the library can write into a caller's buffer, and the library's own
multithreading left alone (the report sets thread counts, not this module).

* **scipy** -- ``scipy.special`` ufuncs with ``out=``: ``expit``,
  ``log_expit``, ``softplus``, ``ndtr`` (GELU = x ndtr(x), the multiply done in
  place with NumPy), and ``softmax`` / ``log_softmax`` (these allocate).
  No backward: SciPy has no derivatives.
* **numexpr** -- one ``ne.evaluate(expr, local_dict=..., out=out)`` per
  function (two where the derivative reuses a subexpression: the first writes
  it into ``out``, the second reads it back, elementwise).  Parameters and
  constants that are not integers are passed as scalars of the array's dtype,
  since a Python float would make numexpr compute in float64.
* **torch** -- ``torch.from_numpy`` (zero copy) views of the arrays and ATen's
  own kernels with ``out=``: the forward through the bindings
  ``torch.nn.functional`` itself calls (``torch._C._nn.gelu``, ``torch._softmax``,
  ...; they take ``out=``, F's wrappers do not), else ``torch.ops.aten.<op>.out``;
  so the kernels F and autograd run, minus the allocation of the result (at
  4e7 elements as costly as the computation).  The backward ops are the ones
  autograd calls (``sigmoid_backward``, ``gelu_backward``, ``elu_backward``,
  ``_softmax_backward_data``, ...) through their ``grad_input=`` overloads,
  without building a graph; where torch has none that fits the saved array, a
  short expression in torch ops.
* **jax** -- ``jax.jit``-compiled ``jax.nn`` functions, float64 enabled
  (``jax_enable_x64``; a process-wide switch); the backward is the jitted
  ``jax.vjp`` of the forward where the backward gets x.  Where it gets y
  (sigmoid, tanh, relu, ..., softmax) a vjp is impossible (it needs x), so the
  backward is the derivative written in ``jnp`` from y -- the rule JAX's own
  jvp rules apply (``logistic``: t y (1 - y); ``softmax``: y (t - sum(t y))),
  jitted.  NumPy arrays are handed to the jitted function as they are (JAX
  copies them to its device buffers on every call -- the price of using JAX
  from NumPy, and cheaper than an explicit ``jnp.asarray``, which costs ~0.1 ms
  of Python per call); results are waited for (``block_until_ready``) and
  returned as ``np.asarray`` views (zero copy, read-only).  JAX cannot write
  into ``out``; XLA's CPU thread pool is its own.
"""

import importlib
import math

import numpy as np

from ._registry import SELU_ALPHA, SELU_LAMBDA, lookup

__all__ = ["PEERS", "table", "version", "supports", "available"]

PEERS = ("scipy", "numexpr", "torch", "jax")

_DISTRIBUTION = {"scipy": "scipy", "numexpr": "numexpr", "torch": "torch", "jax": "jax"}

_TABLES = {}
_LIMITS = {}   # peer -> {name: params -> reason (str) or None}


def _module(peer):
    if peer not in PEERS:
        raise ValueError("unknown peer %r; the peers are %s" % (peer, ", ".join(PEERS)))
    try:
        return importlib.import_module(_DISTRIBUTION[peer])
    except Exception:   # not installed, or installed but broken: not a contender
        return None


def available(peer):
    """True if the peer library imports."""
    return _module(peer) is not None


def version(peer):
    """The installed version of the peer library, or None if it does not import."""
    mod = _module(peer)
    return None if mod is None else str(getattr(mod, "__version__", "unknown"))


def table(peer):
    """{registry name: (forward, backward)} for `peer`, or None if it is not installed."""
    if peer not in _TABLES:
        mod = _module(peer)
        if mod is None:
            _TABLES[peer] = None
        else:
            limits = {}
            _TABLES[peer] = _BUILDERS[peer](limits)
            _LIMITS[peer] = limits
    return _TABLES[peer]


def supports(peer, name, params=None):
    """True if `peer` computes registry function `name` with these parameters.

    ``params`` defaults to the function's defaults.  False where the peer lacks
    the function or the parameter values (its callables raise NotImplementedError).
    """
    t = table(peer)
    op = lookup(name)
    if t is None or op.name not in t:
        return False
    p = {q.name: q.default for q in op.params}
    p.update(params or {})
    check = _LIMITS[peer].get(op.name)
    return check is None or check(p) is None


def _limited(limits, name, check, pair):
    """Register `check` (params -> reason or None) and wrap both callables with it."""
    limits[name] = check
    fwd, bwd = pair

    def guard(p):
        reason = check(p)
        if reason is not None:
            raise NotImplementedError(reason)

    def forward(x, out=None, **params):
        guard(params)
        return fwd(x, out, **params)

    if bwd is None:
        return forward, None

    def backward(dy, saved, out=None, **params):
        guard(params)
        return bwd(dy, saved, out, **params)

    return forward, backward


def _out(out, like):
    return np.empty_like(like) if out is None else out


# the tanh-form GELU: x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)
_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _eval_only(p):
    if p.get("training"):
        return "training-mode rrelu draws its slopes from fastact's seeded generator; only eval mode compares"
    return None


# --------------------------------------------------------------------------- scipy

def _build_scipy(limits):
    import scipy.special as sc

    t = {}
    t["sigmoid"] = (lambda x, out=None, **p: sc.expit(x, out=_out(out, x)), None)
    if hasattr(sc, "log_expit"):
        t["log_sigmoid"] = (lambda x, out=None, **p: sc.log_expit(x, out=_out(out, x)), None)
    t["softmax"] = (lambda x, out=None, axis=-1: sc.softmax(x, axis=axis), None)
    t["log_softmax"] = (lambda x, out=None, axis=-1: sc.log_softmax(x, axis=axis), None)

    def gelu(x, out=None, approximate="none"):
        out = sc.ndtr(x, out=_out(out, x))
        return np.multiply(x, out, out=out)

    t["gelu"] = _limited(limits, "gelu", lambda p: None if p["approximate"] == "none" else
                         "scipy.special has no tanh-form GELU", (gelu, None))

    if hasattr(sc, "softplus"):
        def softplus(x, out=None, beta=1.0, threshold=20.0):
            out = _out(out, x)
            if beta == 1.0:
                return sc.softplus(x, out=out)
            np.multiply(x, x.dtype.type(beta), out=out)
            sc.softplus(out, out=out)
            return np.divide(out, out.dtype.type(beta), out=out)

        # scipy's softplus is exact everywhere; torch's threshold switches to x where
        # beta x > threshold, which differs from it by < exp(-threshold) / |beta|:
        # invisible for threshold >= 20, not below.
        t["softplus"] = _limited(limits, "softplus", lambda p: None if p["threshold"] >= 20 else
                                 "scipy.special.softplus has no threshold", (softplus, None))
    return t


# --------------------------------------------------------------------------- numexpr

# name -> (forward expression in x, backward expression in dy and s (the saved
# array), constants: params -> {name: value}).  A backward given as a tuple of
# two expressions first writes the first into out, then evaluates the second,
# which reads it back as `o`.
_SOFTPLUS = "where({0} > 0, {0}, 0) + log1p(exp(-abs({0})))"   # stable log(1 + e^v)

_NUMEXPR = {
    "sigmoid": ("1 / (1 + exp(-x))", "dy * s * (1 - s)", None),
    "tanh": ("tanh(x)", "dy * (1 - s * s)", None),
    "relu": ("where(x > 0, x, 0)", "where(s > 0, dy, 0)", None),
    "leaky_relu": ("where(x > 0, x, a * x)", "where(s > 0, dy, a * dy)", lambda p: {"a": p["alpha"]}),
    "rrelu": ("where(x > 0, x, a * x)", "where(s > 0, dy, a * dy)",
              lambda p: {"a": (p["lower"] + p["upper"]) / 2.0}),
    "relu6": ("where(x > 6, 6, where(x > 0, x, 0))", "where((s > 0) & (s < 6), dy, 0)", None),
    "leaky_relu6": ("where(x > 6, 6, where(x > 0, x, a * x))", "where(s >= 6, 0, where(s > 0, dy, a * dy))",
                    lambda p: {"a": p["alpha"]}),
    "hardtanh": ("where(x > hi, hi, where(x < lo, lo, x))", "where((s > lo) & (s < hi), dy, 0)",
                 lambda p: {"lo": p["min_val"], "hi": p["max_val"]}),
    "silu": ("x / (1 + exp(-b * x))",
             ("1 / (1 + exp(-b * s))", "dy * o * (1 + b * s * (1 - o))"), lambda p: {"b": p["beta"]}),
    "hard_sigmoid": ("where(x > 3, 1, where(x < -3, 0, (x + 3) / 6))",
                     "where((s > -3) & (s < 3), dy / 6, 0)", None),
    "hard_swish": ("where(x > 3, x, where(x < -3, 0, x * (x + 3) / 6))",
                   "where(s < -3, 0, where(s <= 3, dy * (2 * s + 3) / 6, dy))", None),
    "softplus": ("where(b * x > t, x, (where(b * x > 0, b * x, 0) + log1p(exp(-abs(b * x)))) / b)",
                 "where(b * s > t, dy, dy / (1 + exp(-b * s)))",
                 lambda p: {"b": p["beta"], "t": p["threshold"]}),
    "gelu": ("x / (1 + exp(-g * (x + c * x * x * x)))",
             ("1 / (1 + exp(-g * (s + c * s * s * s)))", "dy * (o + s * o * (1 - o) * g * (1 + c3 * s * s))"),
             lambda p: {"g": 2.0 * _GELU_K, "c": _GELU_C, "c3": 3.0 * _GELU_C}),
    "elu": ("where(x > 0, x, a * expm1(x))", "where(s > 0, dy, dy * (s + a))", lambda p: {"a": p["alpha"]}),
    "selu": ("where(x > 0, lam * x, la * expm1(x))", "where(s > 0, lam * dy, dy * (s + la))",
             lambda p: {"lam": SELU_LAMBDA, "la": SELU_LAMBDA * SELU_ALPHA}),
    "celu": ("where(x > 0, x, a * expm1(x / a))", "where(s > 0, dy, dy * exp(s / a))", lambda p: {"a": p["alpha"]}),
    "mish": ("x * tanh(%s)" % _SOFTPLUS.format("x"),
             ("tanh(%s)" % _SOFTPLUS.format("s"), "dy * (o + s * (1 - o * o) / (1 + exp(-s)))"), None),
    "softsign": ("x / (1 + abs(x))", "dy / ((1 + abs(s)) * (1 + abs(s)))", None),
    "log_sigmoid": ("where(x < 0, x, 0) - log1p(exp(-abs(x)))", "dy / (1 + exp(s))", None),
    "identity": ("x", "dy", None),
}


def _build_numexpr(limits):
    import numexpr as ne

    def make(fexpr, bexpr, consts):
        def constants(dtype, params):
            # dtype-typed scalars: a Python float would turn the evaluation into float64
            return {} if consts is None else {k: dtype.type(v) for k, v in consts(params).items()}

        def forward(x, out=None, **params):
            env = constants(x.dtype, params)
            env["x"] = x
            return ne.evaluate(fexpr, local_dict=env, out=_out(out, x))

        def backward(dy, saved, out=None, **params):
            env = constants(dy.dtype, params)
            env["dy"] = dy
            env["s"] = saved
            out = _out(out, dy)
            if isinstance(bexpr, tuple):
                ne.evaluate(bexpr[0], local_dict=env, out=out)
                env["o"] = out
                return ne.evaluate(bexpr[1], local_dict=env, out=out)
            return ne.evaluate(bexpr, local_dict=env, out=out)

        return forward, backward

    t = {name: make(*spec) for name, spec in _NUMEXPR.items()}
    t["gelu"] = _limited(limits, "gelu", lambda p: None if p["approximate"] == "tanh" else
                         "numexpr has no erf: only the tanh-form GELU", t["gelu"])
    t["rrelu"] = _limited(limits, "rrelu", _eval_only, t["rrelu"])
    return t


# --------------------------------------------------------------------------- torch

def _build_torch(limits):
    import torch
    import torch.nn.functional as F

    aten = torch.ops.aten
    T = torch.from_numpy

    def overload(name, which):
        if which is None:
            return None
        try:
            return getattr(getattr(aten, name), which)
        except (AttributeError, RuntimeError):
            return None

    def unary(name, *args, **kw):
        """x -> name(x, *args(params), out=out): the torch._C._nn binding F.<name> calls,
        else ATen's out= overload, else (neither exists) the allocating op."""
        op = getattr(torch._C._nn, name, None) or overload(name, "out")

        def forward(x, out=None, **params):
            a = [f(params) if callable(f) else f for f in args]
            k = {key: (f(params) if callable(f) else f) for key, f in kw.items()}
            if op is None:
                return getattr(aten, name)(T(x), *a, **k).numpy()
            out = _out(out, x)
            op(T(x), *a, out=T(out), **k)
            return out

        return forward

    def grad(name, *args, kwname="grad_input", which="grad_input", **kw):
        """(dy, saved) -> aten.name(dy, <args with "S" for saved>, grad_input=out)."""
        op = overload(name, which)
        if op is None and overload(name, "default") is None:
            return None

        def backward(dy, saved, out=None, **params):
            a = [T(saved) if f == "S" else (f(params) if callable(f) else f) for f in args]
            k = {key: (f(params) if callable(f) else f) for key, f in kw.items()}
            if op is None:
                return getattr(aten, name)(T(dy), *a, **k).numpy()
            out = _out(out, dy)
            op(T(dy), *a, **k, **{kwname: T(out)})
            return out

        return backward

    def P(key):
        return lambda p: p[key]

    def slope(p):
        return (p["lower"] + p["upper"]) / 2.0

    t = {}

    def sigmoid(x, out=None):
        out = _out(out, x)
        torch.sigmoid(T(x), out=T(out))
        return out

    def tanh(x, out=None):
        out = _out(out, x)
        torch.tanh(T(x), out=T(out))
        return out

    t["sigmoid"] = (sigmoid, grad("sigmoid_backward", "S"))
    t["tanh"] = (tanh, grad("tanh_backward", "S"))
    t["relu"] = (unary("relu"), grad("threshold_backward", "S", 0))
    # leaky_relu_backward only tests the sign of its second argument: y works as x (alpha > 0)
    t["leaky_relu"] = (unary("leaky_relu", P("alpha")), grad("leaky_relu_backward", "S", P("alpha"), False))
    t["rrelu"] = _limited(limits, "rrelu", _eval_only,
                          (unary("leaky_relu", slope), grad("leaky_relu_backward", "S", slope, False)))
    # F.relu6 is hardtanh(x, 0, 6); 0 < y < 6 exactly where 0 < x < 6
    t["relu6"] = (unary("hardtanh", 0.0, 6.0), grad("hardtanh_backward", "S", 0.0, 6.0))
    t["hardtanh"] = (unary("hardtanh", P("min_val"), P("max_val")),
                     grad("hardtanh_backward", "S", P("min_val"), P("max_val")))

    silu_fwd = unary("silu")
    silu_bwd = grad("silu_backward", "S")

    def silu(x, out=None, beta=1.0):
        if beta == 1.0:
            return silu_fwd(x, out)
        out = _out(out, x)
        o, tx = T(out), T(x)
        torch.mul(tx, beta, out=o)
        torch.sigmoid(o, out=o)
        torch.mul(o, tx, out=o)
        return out

    def silu_backward(dy, x, out=None, beta=1.0):
        if beta == 1.0 and silu_bwd is not None:
            return silu_bwd(dy, x, out)
        tx = T(x)
        s = torch.sigmoid(tx * beta)
        return (T(dy) * s * (1 + beta * tx * (1 - s))).numpy()

    t["silu"] = (silu, silu_backward)
    t["hard_sigmoid"] = (unary("hardsigmoid"), grad("hardsigmoid_backward", "S"))
    t["hard_swish"] = (unary("hardswish"), grad("hardswish_backward", "S", kwname="out", which="out"))
    t["softplus"] = (unary("softplus", P("beta"), P("threshold")),
                     grad("softplus_backward", "S", P("beta"), P("threshold")))
    t["gelu"] = (unary("gelu", approximate=P("approximate")),
                 grad("gelu_backward", "S", approximate=P("approximate")))
    # elu(x, alpha, scale, input_scale): ELU, SELU and CELU are one ATen kernel, as in torch
    t["elu"] = (unary("elu", P("alpha"), 1.0, 1.0), grad("elu_backward", P("alpha"), 1.0, 1.0, True, "S"))
    t["selu"] = (unary("elu", SELU_ALPHA, SELU_LAMBDA, 1.0),
                 grad("elu_backward", SELU_ALPHA, SELU_LAMBDA, 1.0, True, "S"))
    t["celu"] = (unary("celu", P("alpha")),
                 grad("elu_backward", P("alpha"), 1.0, lambda p: 1.0 / p["alpha"], False, "S"))
    t["mish"] = (unary("mish"), grad("mish_backward", "S", which=None))   # no out= overload

    def softsign(x, out=None):
        # F.softsign is x / (1 + |x|) in torch ops; the same with out= (no temporaries)
        out = _out(out, x)
        o = T(out)
        torch.abs(T(x), out=o)
        o.add_(1)
        torch.div(T(x), o, out=o)
        return out

    def softsign_backward(dy, x, out=None):
        out = _out(out, x)
        o = T(out)
        torch.abs(T(x), out=o)
        o.add_(1)
        o.square_()
        torch.div(T(dy), o, out=o)
        return out

    t["softsign"] = (softsign, softsign_backward)

    def log_sigmoid_backward(dy, x, out=None):
        # aten.log_sigmoid_backward needs the forward's buffer (exp(-|x|)), which the
        # convention does not keep; its derivative sigmoid(-x), in place
        out = _out(out, x)
        o = T(out)
        torch.neg(T(x), out=o)
        torch.sigmoid(o, out=o)
        o.mul_(T(dy))
        return out

    t["log_sigmoid"] = (unary("log_sigmoid"), log_sigmoid_backward)

    def rowwise(fname, bname, bkw):
        # torch._softmax & co: the bindings F.softmax and autograd end in, with out=
        fop = getattr(torch, fname, None) or overload(fname, "out")
        bop = getattr(torch, bname, None) or overload(bname, "out")

        def forward(x, out=None, axis=-1):
            out = _out(out, x)
            fop(T(x), axis, False, out=T(out))
            return out

        def backward(dy, y, out=None, axis=-1):
            out = _out(out, y)
            ty = T(y)
            bop(T(dy), ty, axis, ty.dtype, **{bkw: T(out)})
            return out

        return forward, backward

    t["softmax"] = rowwise("_softmax", "_softmax_backward_data", "grad_input")
    t["log_softmax"] = rowwise("_log_softmax", "_log_softmax_backward_data", "out")

    def prelu_weight(weight, x, axis):
        w = torch.as_tensor(np.asarray(weight, dtype=x.dtype)).reshape(-1)
        shape = [1] * x.ndim
        if w.numel() > 1:
            shape[axis % x.ndim] = w.numel()
        return w, w.reshape(shape)

    def prelu(x, out=None, weight=None, axis=1):
        w, _ = prelu_weight(weight, x, axis)
        ax = axis % x.ndim
        if ax == 1 or w.numel() == 1:
            return F.prelu(T(x), w).numpy()
        return F.prelu(T(x).movedim(ax, 1), w).movedim(1, ax).numpy()

    def prelu_backward(dy, x, out=None, weight=None, axis=1):
        # the kernel autograd runs; its weight gradient comes unreduced, as in autograd
        _, wb = prelu_weight(weight, x, axis)
        dx, dwf = aten._prelu_kernel_backward(T(dy), T(x), wb)
        ax = axis % x.ndim
        if np.size(weight) == 1:
            dw = dwf.sum()
        else:
            dw = dwf.sum(dim=[d for d in range(x.ndim) if d != ax])
        return dx.numpy(), dw.reshape(np.shape(weight)).numpy()

    t["prelu"] = (prelu, prelu_backward)

    def groups(tx, pieces, axis):
        """(view of tx as (..., groups, pieces) with the channel axis last, its axis)."""
        ax = axis % tx.ndim
        if ax != tx.ndim - 1:
            tx = tx.movedim(ax, -1)
        return tx.reshape(tx.shape[:-1] + (tx.shape[-1] // pieces, pieces)), ax

    def maxout(x, out=None, pieces=2, axis=-1):
        g, ax = groups(T(x), pieces, axis)
        if ax == x.ndim - 1:
            if out is None:
                out = np.empty(tuple(g.shape[:-1]), x.dtype)
            torch.amax(g, dim=-1, out=T(out))
            return out
        return torch.amax(g, dim=-1).movedim(-1, ax).numpy()

    def maxout_backward(dy, x, out=None, pieces=2, axis=-1):
        g, ax = groups(T(x), pieces, axis)
        idx = torch.argmax(g, dim=-1, keepdim=True)
        tdy = T(dy)
        if ax == x.ndim - 1 and out is not None:
            o = T(out).view(g.shape)
            o.zero_()
            o.scatter_(-1, idx, tdy.unsqueeze(-1))
            return out
        if ax != x.ndim - 1:
            tdy = tdy.movedim(ax, -1)
        dx = torch.zeros(g.shape, dtype=g.dtype).scatter_(-1, idx, tdy.unsqueeze(-1))
        return dx.reshape(dx.shape[:-2] + (-1,)).movedim(-1, ax).numpy()

    t["maxout"] = (maxout, maxout_backward)

    def identity(x, out=None):
        out = _out(out, x)
        T(out).copy_(T(x))
        return out

    t["identity"] = (identity, lambda dy, saved, out=None: identity(dy, out))
    return t


# --------------------------------------------------------------------------- jax

def _build_jax(limits):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    nn = jax.nn

    def hardtanh(x, min_val, max_val):
        if (min_val, max_val) == (-1.0, 1.0):
            return nn.hard_tanh(x)
        return jnp.clip(x, min_val, max_val)

    def silu(x, beta):
        return nn.silu(x) if beta == 1.0 else x * nn.sigmoid(beta * x)

    def softplus(x, beta, threshold):
        # jax.nn.softplus has neither beta nor torch's threshold
        return jnp.where(beta * x > threshold, x, nn.softplus(beta * x) / beta)

    def maxout(x, pieces, axis):
        x = jnp.moveaxis(x, axis, -1)
        g = x.reshape(x.shape[:-1] + (x.shape[-1] // pieces, pieces))
        return jnp.moveaxis(jnp.max(g, axis=-1), -1, axis)

    def prelu(x, w, axis):
        if w.size > 1:
            shape = [1] * x.ndim
            shape[axis % x.ndim] = w.size
            w = w.reshape(shape)
        return jnp.where(x > 0, x, w * x)

    # name -> (forward of (x, **static params), the parameter names it takes)
    fwd = {
        "sigmoid": (nn.sigmoid, ()),
        "tanh": (jnp.tanh, ()),
        "relu": (nn.relu, ()),
        "leaky_relu": (lambda x, alpha: nn.leaky_relu(x, negative_slope=alpha), ("alpha",)),
        "relu6": (nn.relu6, ()),
        "hardtanh": (hardtanh, ("min_val", "max_val")),
        "silu": (silu, ("beta",)),
        "hard_sigmoid": (nn.hard_sigmoid, ()),
        "hard_swish": (nn.hard_silu, ()),
        "softplus": (softplus, ("beta", "threshold")),
        "gelu": (lambda x, approximate: nn.gelu(x, approximate=approximate == "tanh"), ("approximate",)),
        "elu": (lambda x, alpha: nn.elu(x, alpha), ("alpha",)),
        "selu": (nn.selu, ()),
        "celu": (lambda x, alpha: nn.celu(x, alpha), ("alpha",)),
        "mish": (getattr(nn, "mish", None) or (lambda x: x * jnp.tanh(nn.softplus(x))), ()),
        "softsign": (nn.soft_sign, ()),
        "log_sigmoid": (nn.log_sigmoid, ()),
        "softmax": (lambda x, axis: nn.softmax(x, axis=axis), ("axis",)),
        "log_softmax": (lambda x, axis: nn.log_softmax(x, axis=axis), ("axis",)),
        "maxout": (maxout, ("pieces", "axis")),
        "identity": (getattr(nn, "identity", None) or (lambda x: x), ()),
    }

    # The backward of the functions whose backward gets y: JAX's vjp needs x, so the
    # derivative in terms of y, as JAX's own jvp rules write it where they use y.
    def _sum(a, axis):
        return jnp.sum(a, axis=axis, keepdims=True)

    from_y = {
        "sigmoid": (lambda dy, y: dy * y * (1 - y), ()),
        "tanh": (lambda dy, y: dy * (1 - y * y), ()),
        "relu": (lambda dy, y: jnp.where(y > 0, dy, 0), ()),
        "leaky_relu": (lambda dy, y, alpha: jnp.where(y > 0, dy, alpha * dy), ("alpha",)),
        "relu6": (lambda dy, y: jnp.where((y > 0) & (y < 6), dy, 0), ()),
        "elu": (lambda dy, y, alpha: jnp.where(y > 0, dy, dy * (y + alpha)), ("alpha",)),
        "selu": (lambda dy, y: jnp.where(y > 0, SELU_LAMBDA * dy, dy * (y + SELU_LAMBDA * SELU_ALPHA)), ()),
        "softmax": (lambda dy, y, axis: y * (dy - _sum(dy * y, axis)), ("axis",)),
        "log_softmax": (lambda dy, y, axis: dy - jnp.exp(y) * _sum(dy, axis), ("axis",)),
    }

    def ready(a):
        return np.asarray(a.block_until_ready())

    def entry(name, f, names):
        jf = jax.jit(f, static_argnames=names)
        if name in from_y:
            g, gnames = from_y[name]
            jb = jax.jit(g, static_argnames=gnames)
        else:
            gnames = names

            def g(dy, x, **p):
                return jax.vjp(lambda a: f(a, **p), x)[1](dy)[0]

            jb = jax.jit(g, static_argnames=names)

        def forward(x, out=None, **params):
            return ready(jf(x, **{k: params[k] for k in names}))

        def backward(dy, saved, out=None, **params):
            return ready(jb(dy, saved, **{k: params[k] for k in gnames}))

        return forward, backward

    t = {name: entry(name, f, names) for name, (f, names) in fwd.items()}

    jprelu = jax.jit(prelu, static_argnames=("axis",))

    def prelu_grads(dy, x, w, axis):
        return jax.vjp(lambda a, b: prelu(a, b, axis), x, w)[1](dy)

    jprelu_b = jax.jit(prelu_grads, static_argnames=("axis",))

    def prelu_forward(x, out=None, weight=None, axis=1):
        return ready(jprelu(x, np.asarray(weight, dtype=x.dtype), axis=axis))

    def prelu_backward(dy, x, out=None, weight=None, axis=1):
        dx, dw = jprelu_b(dy, x, np.asarray(weight, dtype=x.dtype), axis=axis)
        return ready(dx), ready(dw).reshape(np.shape(weight))

    t["prelu"] = (prelu_forward, prelu_backward)
    return t


_BUILDERS = {"scipy": _build_scipy, "numexpr": _build_numexpr, "torch": _build_torch, "jax": _build_jax}
