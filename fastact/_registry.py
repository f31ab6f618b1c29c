"""The catalogue of fastact's functions: the single source of truth.

Every public function is one :class:`Op` below.  The build reads
``ELEMENTWISE_KERNELS`` to generate the Cython loops (``_elementwise.pyx.tp``);
``fastact._api`` builds the public wrappers (forward, backward, aliases,
signatures, docstrings, parameter checks) from these entries; the tests and
the benchmarks iterate over ``OPS``.  Adding a function is adding an entry here,
its per-element math in ``_ops.pxd``, its plain NumPy twin in
``fastact.reference`` and its docstring's title and examples in
``fastact._docs``.

This module imports nothing but the standard library so that ``setup.py`` can
load it before the package is built.
"""

from dataclasses import dataclass
import math

__all__ = ["Param", "Op", "OPS", "BY_NAME", "ALIASES", "LAYER_ALIASES", "ELEMENTWISE_KERNELS", "COUNT_KERNELS",
           "INTERLEAVED_LOOPS", "TAME_LOOPS", "STREAM_KERNELS", "lookup"]


@dataclass(frozen=True)
class Param:
    """One parameter of a function.

    ``check`` names the rule the wrapper enforces: ``real`` (finite real
    number), ``nonzero``, ``nonneg``, ``unit`` (in [0, 1]), ``choice`` (one of
    ``choices``), ``bool``, ``seed`` (None or an integer), ``pieces`` (a
    positive integer), ``axis`` (an integer), ``weight`` (a real scalar or
    1-D array), ``required`` marks a parameter without default.
    ``torch`` is torch.nn.functional's name for it where that differs
    (softmax's ``dim``, leaky_relu's ``negative_slope``): the functions
    accept it too, by keyword.
    """

    name: str
    default: object = None
    check: str = "real"
    choices: "tuple[str, ...]" = ()
    doc: str = ""
    required: bool = False
    torch: str = ""


@dataclass(frozen=True)
class Op:
    """One activation function.

    name        public name: ``fastact.<name>`` and ``fastact.<name>_backward``
    kind        'elementwise', 'prelu', 'rrelu', 'rowwise' or 'maxout'
    formula     the forward, as text (docstrings, README)
    derivative  the derivative, as text
    saves       what the backward takes besides dy: 'y' (the forward's output),
                'x' (its input) or '' (nothing: identity)
    params      the parameters after x (forward) / after the saved array (backward)
    aliases     other public names of the same function
    kernels     elementwise kernels (names of ``_ops.pxd`` functions) this op uses
    select      params dict -> (kernel name, p0, p1): how an elementwise op maps
                its parameters onto its kernel's two double slots
    cls         cost class: 'cheap', 'transcendental' or 'rowwise' (grain size)
    domain      (lo, hi): where its values are interesting, for tests/benchmarks
    special     the special values, as text (README table)
    ulp         (float32, float64): the accuracy bound in ULPs the tests assert
                (tests/test_accuracy.py; measured values in the README)
    monitor     what activity monitoring counts per unit (fastact.bias_act,
                fastact.ActivityMonitor): 'active' (outputs > 0: the ReLU
                family, whose units can die), 'saturated' (outputs where the
                derivative is below a fraction of its maximum), or '' (none)
    band        for 'saturated': t -> (lo, hi), the outputs y with lo <= y <= hi
                are those where the derivative is at least t times its maximum
    forms       other parameter settings the benchmark reports as functions of
                their own, as (label, ((param, value), ...)): gelu's tanh form
    """

    name: str
    kind: str
    formula: str
    derivative: str
    saves: str
    params: "tuple[Param, ...]" = ()
    aliases: "tuple[str, ...]" = ()
    kernels: "tuple[str, ...]" = ()
    select: object = None
    cls: str = "cheap"
    domain: "tuple[float, float]" = (-10.0, 10.0)
    special: str = ""
    validate: object = None
    ulp: "tuple[float, float]" = (1.0, 2.0)
    monitor: str = ""
    band: object = None
    forms: "tuple[tuple[str, tuple[tuple[str, object], ...]], ...]" = ()


def _sigmoid_band(t):
    # y (1 - y) >= t / 4  <=>  e <= y <= 1 - e,  e = (1 - sqrt(1 - t)) / 2 without cancellation
    e = t / (2.0 * (1.0 + math.sqrt(1.0 - t)))
    return e, 1.0 - e


def _tanh_band(t):
    # 1 - y^2 >= t  <=>  |y| <= sqrt(1 - t)
    c = math.sqrt(1.0 - t)
    return -c, c


def _one(kernel):
    """select for ops whose parameters map in order onto p0, p1."""

    def select(p):
        vals = [float(v) for v in p.values()] + [0.0, 0.0]
        return kernel, vals[0], vals[1]

    return select


def _check_hardtanh(p):
    if not p["min_val"] <= p["max_val"]:
        return "min_val must be <= max_val, got min_val=%r, max_val=%r" % (p["min_val"], p["max_val"])
    return None


def _check_rrelu(p):
    if not 0.0 <= p["lower"] <= p["upper"]:
        return "need 0 <= lower <= upper, got lower=%r, upper=%r" % (p["lower"], p["upper"])
    return None


def _select_rrelu(p):
    # eval mode: a leaky ReLU with the mean slope; training uses its own kernel
    return "leaky_relu", (float(p["lower"]) + float(p["upper"])) / 2.0, 0.0


def _select_leaky_relu6(p):
    # alpha = 0 is relu6, whose limit at x = -inf is 0 (min(max(alpha x, x), 6)
    # from 0 * -inf = nan is not, -inf on the kernel's rounded path neither).
    # leaky_relu(alpha=0) keeps alpha x, as torch.nn.functional.leaky_relu:
    # -0 for x < 0 and nan at -inf.
    alpha = float(p["alpha"])
    return ("relu6", 0.0, 0.0) if alpha == 0.0 else ("leaky_relu6", alpha, 0.0)


def _select_silu(p):
    beta = float(p["beta"])
    if beta == 0.0:
        return "silu_half", 0.0, 0.0
    return ("silu_unit", 0.0, 0.0) if beta == 1.0 else ("silu", beta, 0.0)


def _select_elu(p):
    alpha = float(p["alpha"])
    return ("elu_unit" if alpha == 1.0 else "elu"), alpha, 0.0


def _select_celu(p):
    alpha = float(p["alpha"])
    if alpha == 1.0:
        return "celu_unit", 1.0, 0.0
    return ("celu_neg" if alpha < 0 else "celu"), alpha, 0.0


def _select_softplus(p):
    beta = float(p["beta"])
    return ("softplus_unit" if beta == 1.0 else "softplus"), beta, float(p["threshold"])


def _select_gelu(p):
    return ("gelu_tanh" if p["approximate"] == "tanh" else "gelu"), 0.0, 0.0


# SELU's constants (Klambauer et al. 2017), as torch.nn.SELU uses them.
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717

_ALPHA = Param("alpha", 0.01, "real", doc="The slope for x <= 0.", torch="negative_slope")
_AXIS = Param("axis", -1, "axis", doc="The axis along which the function is computed (each 1-D slice alone).",
              torch="dim")

OPS = (
    Op("sigmoid", "elementwise", "1 / (1 + exp(-x))", "y (1 - y)", "y",
       aliases=("logistic", "expit"), kernels=("sigmoid",), select=_one("sigmoid"),
       ulp=(2.0, 3.0), cls="transcendental", domain=(-40.0, 40.0),
       special="sigmoid(-inf) = 0, sigmoid(inf) = 1",
       monitor="saturated", band=_sigmoid_band),
    Op("tanh", "elementwise", "2 sigmoid(2x) - 1 = -expm1(-2|x|) / (2 + expm1(-2|x|)) with the sign of x",
       "1 - y^2", "y", kernels=("tanh",), select=_one("tanh"),
       ulp=(2.0, 3.0), cls="transcendental", domain=(-20.0, 20.0), special="tanh(+-inf) = +-1, tanh(-0) = -0",
       monitor="saturated", band=_tanh_band),
    Op("relu", "elementwise", "max(0, x)", "1 if x > 0 else 0", "y",
       kernels=("relu",), select=_one("relu"), special="relu(-0) = +0, relu(nan) = nan",
       monitor="active"),
    Op("leaky_relu", "elementwise", "x if x > 0 else alpha x", "1 if x > 0 else alpha", "y",
       params=(_ALPHA,), kernels=("leaky_relu",), select=_one("leaky_relu"),
       special="the backward accepts y or x (same sign for alpha > 0; pass x if alpha <= 0); "
               "alpha = 0: alpha x, -0 for x < 0 and nan at -inf, as torch",
       monitor="active"),
    Op("prelu", "prelu", "x if x > 0 else weight[c] x, c the index along `axis`",
       "dx = dy (1 if x > 0 else weight[c]); dweight[c] = sum of dy x over x <= 0", "x",
       params=(Param("weight", None, "weight", required=True,
                     doc="The slopes for x <= 0: a scalar, or one per channel (1-D, as long as x along `axis`)."),
               Param("axis", 1, "axis", doc="The channel axis of x (unused when weight is a scalar).")),
       kernels=(), domain=(-10.0, 10.0)),
    Op("rrelu", "rrelu",
       "x if x > 0 else a x; training: a ~ U(lower, upper) per element from `seed`; eval: a = (lower + upper) / 2",
       "1 if x > 0 else a (the same a as the forward)", "x",
       params=(Param("lower", 1.0 / 8.0, "nonneg", doc="The smallest slope for x <= 0."),
               Param("upper", 1.0 / 3.0, "nonneg", doc="The largest slope for x <= 0, >= lower."),
               Param("training", False, "bool",
                     doc="True: a random slope per element; False (eval): their mean, (lower + upper) / 2."),
               Param("seed", None, "seed",
                     doc="Where the training slopes come from; the backward needs the forward's seed "
                         "(None: a fresh random seed, for a forward without backward).")),
       kernels=("leaky_relu",), select=_select_rrelu, validate=_check_rrelu,
       monitor="active"),
    Op("relu6", "elementwise", "min(max(0, x), 6)", "1 if 0 < x < 6 else 0", "y",
       kernels=("relu6",), select=_one("relu6"),
       monitor="active"),
    Op("leaky_relu6", "elementwise", "min(max(alpha x, x), 6)", "0 if x >= 6, 1 if 0 < x < 6, alpha if x <= 0", "x",
       params=(Param("alpha", 0.01, "unit", doc="The slope for x <= 0."),),
       kernels=("leaky_relu6",), select=_select_leaky_relu6, special="alpha = 0: relu6, 0 at -inf",
       monitor="active"),
    Op("hardtanh", "elementwise", "clip(x, min_val, max_val)", "1 if min_val < x < max_val else 0", "x",
       params=(Param("min_val", -1.0, doc="The lower bound."),
               Param("max_val", 1.0, doc="The upper bound, >= min_val.")), kernels=("hardtanh",),
       select=_one("hardtanh"), validate=_check_hardtanh),
    Op("silu", "elementwise", "x sigmoid(beta x)",
       "sigmoid(beta x) (1 + beta x (1 - sigmoid(beta x)))", "x",
       params=(Param("beta", 1.0, doc="The scale of x inside the sigmoid."),),
       aliases=("swish",), kernels=("silu", "silu_unit", "silu_half"), select=_select_silu,
       ulp=(2.0, 3.0), cls="transcendental", domain=(-40.0, 40.0), special="silu(-inf) = -0 (not nan); beta = 0: x / 2, +-inf at +-inf"),
    Op("hard_sigmoid", "elementwise", "relu6(x + 3) / 6", "1/6 if -3 < x < 3 else 0", "x",
       aliases=("hardsigmoid",), kernels=("hard_sigmoid",), select=_one("hard_sigmoid")),
    Op("hard_swish", "elementwise", "x relu6(x + 3) / 6", "0 if x <= -3, (2x + 3) / 6 if -3 < x < 3, 1 if x >= 3", "x",
       aliases=("hardswish",), kernels=("hard_swish",), select=_one("hard_swish"), special="hard_swish(-inf) = 0"),
    Op("softplus", "elementwise", "log(1 + exp(beta x)) / beta, x where beta x > threshold",
       "sigmoid(beta x) (1 where beta x > threshold)", "x",
       params=(Param("beta", 1.0, "nonzero", doc="The sharpness: larger beta is closer to relu."),
               Param("threshold", 20.0, doc="Where beta x > threshold the result is x (as in PyTorch).")),
       kernels=("softplus", "softplus_unit"), select=_select_softplus, ulp=(2.0, 3.0), cls="transcendental",
       domain=(-40.0, 40.0),
       special="softplus(-inf) = 0, softplus(inf) = inf"),
    Op("gelu", "elementwise",
       "x Phi(x) (approximate='none'); x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3) (approximate='tanh')",
       "Phi(x) + x phi(x); the exact derivative of the tanh form for approximate='tanh'", "x",
       params=(Param("approximate", "none", "choice", choices=("none", "tanh"),
                     doc="'none': the exact form x Phi(x); 'tanh': the tanh approximation."),),
       kernels=("gelu", "gelu_tanh"), select=_select_gelu, ulp=(2.0, 3.0), cls="transcendental", domain=(-12.0, 12.0),
       special="gelu(-inf) = -0, gelu(inf) = inf", forms=(("gelu_tanh", (("approximate", "tanh"),)),)),
    Op("elu", "elementwise", "x if x > 0 else alpha (exp(x) - 1)", "1 if x > 0 else y + alpha", "y",
       params=(Param("alpha", 1.0, "nonneg", doc="The negative saturation value: elu(-inf) = -alpha."),),
       kernels=("elu", "elu_unit"), select=_select_elu,
       ulp=(2.0, 2.0), cls="transcendental", domain=(-20.0, 20.0), special="elu(-inf) = -alpha",
       monitor="active"),
    Op("selu", "elementwise", "lambda elu(x, alpha), lambda = %.16g, alpha = %.16g" % (SELU_LAMBDA, SELU_ALPHA),
       "lambda if x > 0 else y + lambda alpha", "y", kernels=("selu",), select=_one("selu"),
       ulp=(2.0, 2.0), cls="transcendental", domain=(-20.0, 20.0), special="selu(-inf) = -lambda alpha",
       monitor="active"),
    Op("celu", "elementwise", "max(0, x) + min(0, alpha (exp(x / alpha) - 1))", "1 if x > 0 else exp(x / alpha)", "x",
       params=(Param("alpha", 1.0, "nonzero", doc="The scale of the negative part: celu(-inf) = -alpha for alpha > 0; for alpha < 0 the "
                 "negative part alpha (exp(x / alpha) - 1) grows to -inf (float64: within 2.5 ULP there)."),),
       kernels=("celu", "celu_neg", "celu_unit"), select=_select_celu,
       ulp=(2.0, 2.0), cls="transcendental", domain=(-20.0, 20.0), special="celu(-inf) = -alpha",
       monitor="active"),
    Op("mish", "elementwise", "x tanh(softplus(x)) = x n / (n + 2), n = e^x (e^x + 2)",
       "tanh(softplus(x)) + x sech^2(softplus(x)) sigmoid(x)", "x", kernels=("mish",), select=_one("mish"),
       ulp=(1.5, 4.0), cls="transcendental", domain=(-40.0, 40.0), special="mish(-inf) = -0"),
    Op("softsign", "elementwise", "x / (1 + |x|)", "1 / (1 + |x|)^2", "x",
       kernels=("softsign",), select=_one("softsign"), special="softsign(+-inf) = +-1"),
    Op("log_sigmoid", "elementwise", "-softplus(-x) = min(x, 0) - log1p(exp(-|x|))", "sigmoid(-x)", "x",
       aliases=("logsigmoid", "log_expit"), kernels=("log_sigmoid",), select=_one("log_sigmoid"), ulp=(2.0, 2.0), cls="transcendental", domain=(-40.0, 40.0),
       special="log_sigmoid(-inf) = -inf, log_sigmoid(inf) = 0"),
    Op("softmax", "rowwise", "exp(x - max) / sum exp(x - max) along `axis`", "dx = y (dy - sum(dy y))", "y",
       params=(_AXIS,), ulp=(1.0, 3.0), cls="rowwise",
       special="a row holding +inf or only -inf gives nan (as PyTorch)"),
    Op("log_softmax", "rowwise", "x - max - log sum exp(x - max) along `axis`", "dx = dy - exp(y) sum(dy)", "y",
       params=(_AXIS,), ulp=(1.5, 3.0), cls="rowwise",
       special="a row holding +inf or only -inf gives nan (as PyTorch)"),
    Op("maxout", "maxout", "max over groups of `pieces` consecutive entries along `axis`",
       "dy goes to the (first) arg-max of each group; NaN where x is NaN", "x",
       params=(Param("pieces", None, "pieces", required=True,
                     doc="The group size; the length of x along `axis` must be a multiple of it."),
               Param("axis", -1, "axis", doc="The axis along which the groups are taken."))),
    Op("identity", "elementwise", "x", "1", "", aliases=("linear",), kernels=("identity",),
       select=_one("identity")),
)

BY_NAME = {op.name: op for op in OPS}
ALIASES = {alias: op.name for op in OPS for alias in op.aliases}
# Aliases whose public functions are fastact._fused's (the layer ``linear(x,
# weight, ...)`` of the inference API): called without their extra operands
# (weight None) they are the registry function, and every name lookup
# (bias_act's activation, the benchmark's --ops) resolves them as aliases.
# fastact._api does not define them; the stubs and the tests call them with out
# by keyword only (positionally, the second argument is the weight).
LAYER_ALIASES = ("linear",)

# The elementwise kernels the build generates, in a stable order.
ELEMENTWISE_KERNELS = tuple(dict.fromkeys(k for op in OPS for k in op.kernels))
# The kernels whose bias loops (fastact.bias_act; every kernel has them) also count
# active/saturated outputs in the same loop: the cheap ones
COUNT_KERNELS = tuple(dict.fromkeys(k for op in OPS if op.cls == "cheap" and op.monitor for k in op.kernels))
# The kernels whose out-of-place outputs larger than the caches are written with
# streaming stores (fastact/_src/fa_stream.h; the threshold is
# FASTACT_STREAM_MIN_BYTES): the cheap ones, which run at the memory's speed
# there.  On a Zen 4 (2 threads, 4e7 elements) streaming took them 1.2-1.4x
# faster and cost sigmoid, compute-bound, 0.83-0.94x.
STREAM_KERNELS = tuple(dict.fromkeys(k for op in OPS if op.cls == "cheap" and op.kind in ("elementwise", "rrelu")
                                     for k in op.kernels))
# The plain loops (kernel_direction_dtype) compiled as two interleaved vector
# chains (fastact/_src/fa_loop.h: restrict pointers, unrolled twice, GCC's
# pre-allocation scheduler).  Their kernels are latency-bound; the rest gain
# nothing or lose (celu's backward 0.67x, gelu in double is no longer inlined:
# 0.44x).  Chosen by measurement: 1e5 elements, one thread, against the plain
# loop, kept where each of the three builds gained 5% or more (sigmoid_fwd_f64:
# where each gained and v4, the build this machine runs, 7%: 1.07 v4, 1.03 v3,
# 1.18 baseline; by that rule also celu_unit_bwd_f32 1.06 / 1.04 / 1.06,
# softplus_unit_bwd_f64 1.05 / 1.06 / 1.17 and elu_unit_fwd_f64 1.06 / 1.02 /
# 1.07, on a Zen 5); elu_unit_fwd_f32 as elu_fwd_f32 (1.01 / 1.01 / 1.08),
# the backwards as elu's.
INTERLEAVED_LOOPS = frozenset((
    "sigmoid_fwd_f32", "softplus_bwd_f32", "softplus_unit_bwd_f32", "gelu_fwd_f32", "gelu_bwd_f32", "elu_fwd_f32",
    "elu_bwd_f32", "elu_unit_fwd_f32", "elu_unit_bwd_f32", "selu_bwd_f32", "mish_fwd_f32", "mish_bwd_f32", "log_sigmoid_fwd_f32",
    "tanh_fwd_f64", "elu_bwd_f64", "elu_unit_bwd_f64", "celu_fwd_f64", "celu_bwd_f64", "mish_fwd_f64", "mish_bwd_f64",
    "log_sigmoid_fwd_f64", "gelu_tanh_fwd_f32", "sigmoid_fwd_f64", "celu_unit_bwd_f32", "celu_unit_bwd_f64",
    "elu_unit_fwd_f64", "softplus_unit_bwd_f64", "gelu_tanh_bwd_f64",
))
# celu_unit's forward is elu_unit's (_ops.pxd): the same loops
INTERLEAVED_LOOPS |= frozenset("celu_unit_fwd_" + t for t in ("f32", "f64") if "elu_unit_fwd_" + t in INTERLEAVED_LOOPS)

# The plain loops whose kernel K also has a tame form, K_tame_fwd / K_tame_bwd
# in _ops.pxd: the same bits for every input with |x| <= the bound here (x: the
# forward's input, or the backward's saved value), nan excluded, without the
# selects that only the tails and nan need.  The loop tests each block of
# 2048 elements (fa_within_*, fa_loop.h) and runs the tame form where the
# whole block passes, the full kernel otherwise.  silu's float64 backward:
# 59 -> 39 instructions per 8 elements in its AVX-512 loop.
TAME_LOOPS = {
    "silu_unit_fwd_f64": 600.0, "silu_unit_bwd_f64": 600.0,
}


def lookup(name):
    """The Op for a public name or alias; ValueError naming the known ones otherwise."""
    try:
        return BY_NAME[ALIASES.get(name, name)]
    except KeyError:
        raise ValueError("fastact: unknown function %r; known: %s"
                         % (name, ", ".join(sorted(list(BY_NAME) + list(ALIASES))))) from None


def _selfcheck():
    for op in OPS:
        assert op.kind in ("elementwise", "prelu", "rrelu", "rowwise", "maxout"), op.name
        assert op.saves in ("x", "y", ""), op.name
        assert op.cls in ("cheap", "transcendental", "rowwise"), op.name
        if op.kind == "elementwise":
            assert op.kernels and op.select is not None, op.name
        assert op.monitor in ("", "active", "saturated") and (op.band is not None) == (op.monitor == "saturated")
    for loop in INTERLEAVED_LOOPS:
        kernel, direction, dtype = loop.rsplit("_", 2)
        assert kernel in ELEMENTWISE_KERNELS and direction in ("fwd", "bwd") and dtype in ("f32", "f64"), loop
    assert math.isfinite(SELU_LAMBDA)


_selfcheck()


def catalogue_markdown():
    """The README's function table, from this registry."""
    rows = ["| function | aliases | forward | derivative | backward takes | parameters (defaults) |",
            "|---|---|---|---|---|---|"]
    for op in OPS:
        params = ", ".join((p.name if p.required else "%s=%r" % (p.name, p.default))
                           + (" (or torch's `%s=`)" % p.torch if p.torch else "") for p in op.params)
        rows.append("| `%s` | %s | %s | %s | %s | %s |" % (
            op.name, ", ".join("`%s`" % a for a in op.aliases), op.formula.replace("|", "\\|"),
            op.derivative.replace("|", "\\|"), op.saves or "(nothing)", params))
    return "\n".join(rows)


if __name__ == "__main__":
    print(catalogue_markdown())
