"""Accuracy measurement in ULPs, for the tests, the README table and the report.

float32 results are compared with the float64 reference (``fastact.reference``,
computed from the same float32 inputs, which float64 represents exactly) over
a sweep of float32 bit patterns covering the whole range plus a dense sample of
each function's interesting domain.  float64 results are compared with mpmath
(an optional dependency) on a sample.

The error of a result y against the exact value r is |y - r| / ulp(r), with
ulp(r) the spacing of the result's type at |r| for normal r; where r is
subnormal or zero the error is counted against the smallest normal's ulp, so
"absolute error below the smallest normal" reads as an error of at most
2^(p-1) ULP (p the precision) and is reported separately as ``subnormal_ok``.

    python -m fastact._accuracy          # prints the Markdown table of the README
"""

import math

import numpy as np

from . import reference
from ._registry import OPS, SELU_ALPHA, SELU_LAMBDA, lookup

__all__ = ["float32_inputs", "float64_inputs", "ulp_error", "measure_float32", "measure_float64",
           "CASES", "mp_forward"]

# (function, parameters) pairs measured: defaults, plus the non-default
# parameters whose code path differs (beta != 1 changes silu/softplus).
CASES = tuple((op.name, {}) for op in OPS if op.kind == "elementwise") + tuple(
    (op.name, dict(params)) for op in OPS for _, params in op.forms) + (   # gelu's tanh form
    ("silu", {"beta": 1.7}),
    ("silu", {"beta": 0.3}),  # beta < 1: the tail runs to |x| ~ 350, beta x's low part large
    ("softplus", {"beta": 2.5, "threshold": 20.0}),
    ("softplus", {"beta": 0.3}),   # beta < 1: e^(beta x) / beta normal where e^(beta x) is not
    ("celu", {"alpha": 0.7}),
    ("celu", {"alpha": 10.0}),     # x / alpha subnormal where x is normal
    ("elu", {"alpha": 0.5}),
)

_INFO = {np.float32: (24, -126), np.float64: (53, -1022)}


def float32_inputs(domain, n_bits=1 << 21, n_domain=1 << 20, seed=0):
    """Every (2^32 / n_bits)-th float32 bit pattern (both signs, all finite
    exponents) plus n_domain uniform points in domain."""
    step = (1 << 32) // n_bits
    bits = np.arange(0, 1 << 32, step, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[np.isfinite(x)]
    rng = np.random.default_rng(seed)
    dense = rng.uniform(domain[0], domain[1], n_domain).astype(np.float32)
    near0 = (rng.standard_normal(n_domain // 4) * 1e-3).astype(np.float32)
    return np.concatenate([x, dense, near0])


def float64_inputs(domain, n=4000, seed=0):
    """n/2 random float64 bit patterns with exponents spread over the range, n/2 in domain."""
    rng = np.random.default_rng(seed)
    mant = rng.uniform(1.0, 2.0, n // 2)
    expo = rng.integers(-1074, 1023, n // 2)
    sign = rng.choice([-1.0, 1.0], n // 2)
    wide = sign * np.ldexp(mant, expo)
    dense = rng.uniform(domain[0], domain[1], n - n // 2)
    x = np.concatenate([wide, dense])
    return x[np.isfinite(x)]


def ulp_error(y, exact, dtype, exact_lo=None):
    """|y - exact| in ULPs of dtype at exact (float64 arrays of the same shape;
    exact_lo, if given, is the exact value's low part: exact + exact_lo)."""
    p, emin = _INFO[np.dtype(dtype).type]
    exact = np.asarray(exact, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        _, e = np.frexp(np.abs(exact))
        e = np.maximum(e - 1, emin)
        ulp = np.ldexp(1.0, e - (p - 1))
        diff = y - exact                  # exact (Sterbenz) when y is near exact
        if exact_lo is not None:
            diff = diff - np.where(np.isfinite(exact), exact_lo, 0.0)
        err = np.abs(diff) / ulp
    same = ((y == exact) & ((exact_lo is None) or (np.asarray(exact_lo) == 0))) | (np.isnan(y) & np.isnan(exact))
    return np.where(same, 0.0, err)


def _call(fa, name, x, params):
    return getattr(fa, name)(x, **params)


def measure_float32(name, params=None, inputs=None):
    """(max ULP error where the exact result is normal, worst input, max abs error where not)."""
    import fastact as fa

    params = params or {}
    op = lookup(name)
    x = float32_inputs(op.domain) if inputs is None else inputs
    exact = reference.forward(name, x.astype(np.float64), **params)
    y = _call(fa, name, x, params).astype(np.float64)
    return _summarise(x, y, exact, np.float32)


def _summarise(x, y, exact, dtype, exact_lo=None):
    p, emin = _INFO[np.dtype(dtype).type]
    smallest_normal = math.ldexp(1.0, emin)
    # where the exact value is beyond the type's range the correctly rounded
    # result is an infinity: compare with that
    with np.errstate(over="ignore"):
        rounded = exact.astype(dtype).astype(np.float64)
    exact = np.where(np.isinf(rounded), rounded, exact)
    finite = np.isfinite(exact)
    normal = finite & (np.abs(exact) >= smallest_normal)
    err = ulp_error(y, exact, dtype, exact_lo)
    err_n = np.where(normal, err, 0.0)
    worst = int(np.argmax(err_n))
    sub = finite & ~normal
    abs_sub = float(np.max(np.abs(y[sub] - exact[sub]), initial=0.0))
    bad_nonfinite = int(np.sum(~finite & ~((y == exact) | (np.isnan(y) & np.isnan(exact)))))
    return {"max_ulp": float(err_n[worst]), "worst_x": float(x[worst]), "subnormal_abs_err": abs_sub,
            "subnormal_ok": abs_sub < smallest_normal, "nonfinite_mismatches": bad_nonfinite}


# ------------------------------------------------------------------ mpmath

def mp_forward(name, x, params=None):
    """The exact value (mpmath, 120 bits) of elementwise function `name` at float x,
    as a double-double (hi, lo): hi the nearest float64, lo the rest."""
    import mpmath as mp

    params = params or {}
    op = lookup(name)
    p = {q.name: q.default for q in op.params}
    p.update(params)
    with mp.workprec(120):
        v = mp.mpf(float(x))
        if mp.isnan(v):
            return float("nan"), 0.0
        r = mp.mpf(_mp_value(mp, name, v, p))
        hi = float(r)
        lo = float(r - hi) if math.isfinite(hi) else 0.0
        return hi, lo


def _mp_value(mp, name, x, p):
    inf = mp.isinf(x)
    if name == "sigmoid":
        return 1 / (1 + mp.exp(-x))
    if name == "tanh":
        return mp.tanh(x)
    if name == "silu":
        b = mp.mpf(p["beta"])
        return 0 if inf and b * x < 0 else x / (1 + mp.exp(-b * x))
    if name == "softplus":
        b = mp.mpf(p["beta"])
        if float(b * x) > p["threshold"]:  # torch's rule, with beta*x rounded as the kernel does
            return x
        return mp.log1p(mp.exp(b * x)) / b
    if name == "gelu":
        if inf:
            return x if x > 0 else 0
        if p["approximate"] == "tanh":
            u = mp.sqrt(2 / mp.pi) * (x + mp.mpf("0.044715") * x ** 3)
            return x / (1 + mp.exp(-2 * u))
        if abs(x) > 60:  # Phi(-60) < 1e-780: far below any double; mpmath's erfc overflows out there
            return x if x > 0 else mp.mpf(0)
        return x * mp.erfc(-x / mp.sqrt(2)) / 2
    if name == "elu":
        return x if x > 0 else p["alpha"] * mp.expm1(x)
    if name == "selu":
        lam, al = mp.mpf(repr(SELU_LAMBDA)), mp.mpf(repr(SELU_ALPHA))
        return lam * (x if x > 0 else al * mp.expm1(x))
    if name == "celu":
        a = mp.mpf(p["alpha"])
        return x if x > 0 else a * mp.expm1(x / a)
    if name == "mish":
        if inf:
            return x if x > 0 else 0
        return x * mp.tanh(mp.log1p(mp.exp(x)))
    if name == "softsign":
        return mp.sign(x) if inf else x / (1 + abs(x))
    if name == "log_sigmoid":
        return -mp.log1p(mp.exp(-x))
    if name == "hard_sigmoid":
        return min(max(x + 3, 0), 6) / 6
    if name == "hard_swish":
        return 0 if x <= -3 else x * min(max(x + 3, 0), 6) / 6
    if name == "relu":
        return x if x > 0 else mp.mpf(0)
    if name == "leaky_relu":
        return x if x > 0 else mp.mpf(p["alpha"]) * x
    if name == "relu6":
        return min(max(x, 0), 6)
    if name == "leaky_relu6":
        return min(max(mp.mpf(p["alpha"]) * x, x), 6)
    if name == "hardtanh":
        return min(max(x, p["min_val"]), p["max_val"])
    if name == "identity":
        return x
    raise KeyError(name)


def measure_float64(name, params=None, n=4000, seed=0):
    """Like measure_float32 for float64, against mpmath on n sample points."""
    import fastact as fa

    params = params or {}
    op = lookup(name)
    x = float64_inputs(op.domain, n, seed)
    exact = np.array([mp_forward(name, v, params) for v in x])
    y = _call(fa, name, x, params)
    return _summarise(x, y, exact[:, 0], np.float64, exact[:, 1])


def softmax_rows(dtype, seed=0):
    """Test rows for softmax/log_softmax: mixed scales, a wide range, one dominant entry."""
    rng = np.random.default_rng(seed)
    rows = [rng.standard_normal(17) * 3, rng.uniform(-700, 0, 9), rng.standard_normal(1000),
            np.array([0.0, -200.0, -300.0]), np.array([5.0]), rng.standard_normal(64) * 30]
    return [r.astype(dtype) for r in rows]


def measure_rows_float32(name, seed=2):
    """Max ULP error of softmax/log_softmax (float32) on 2000 rows of 37, against float64."""
    import fastact as fa

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2000, 37)).astype(np.float32) * rng.uniform(0.1, 40, (2000, 1)).astype(np.float32)
    exact = getattr(reference, name)(x.astype(np.float64))
    err = ulp_error(getattr(fa, name)(x), exact, np.float32)
    return float(np.max(err[np.abs(exact) >= np.finfo(np.float32).tiny]))


def measure_rows_float64(name, seed=3):
    """Max ULP error of softmax/log_softmax (float64) on softmax_rows, against mpmath."""
    import mpmath as mp

    import fastact as fa

    worst = 0.0
    with mp.workprec(160):
        for row in softmax_rows(np.float64, seed):
            y = getattr(fa, name)(row)
            xs = [mp.mpf(float(v)) for v in row]
            m = max(xs)
            s = mp.fsum(mp.exp(v - m) for v in xs)
            for v, got in zip(xs, y):
                ex = mp.exp(v - m) / s if name == "softmax" else (v - m) - mp.log(s)
                hi = float(ex)
                if abs(hi) < np.finfo(np.float64).tiny:
                    continue
                worst = max(worst, float(ulp_error(got, hi, np.float64, float(ex - hi))))
    return worst


def _label(name, params):
    return name + ("(%s)" % ", ".join("%s=%r" % kv for kv in params.items()) if params else "")


ROW_FUNCTIONS = ("softmax", "log_softmax")


def measure_all(n64=4000):
    """[(label, float32 max ULP, float64 max ULP)] for CASES and the row
    functions, under the kernel variant this process runs."""
    rows = []
    for name, params in CASES:
        rows.append((_label(name, params), measure_float32(name, params)["max_ulp"],
                     measure_float64(name, params, n64)["max_ulp"]))
    for name in ROW_FUNCTIONS:
        rows.append(("%s (rows)" % name, measure_rows_float32(name), measure_rows_float64(name)))
    return rows


def table(n64=4000, variants=None):
    """The README's accuracy table (Markdown): one column per kernel variant
    this CPU runs (default: all of them, best first) and dtype, each
    measured in a child process started with FASTACT_CPU set."""
    import json
    import os
    import subprocess
    import sys

    from . import _dispatch

    variants = list(variants or _dispatch.runnable())
    cols = []
    for v in variants:
        env = dict(os.environ, FASTACT_CPU=v)
        out = subprocess.run([sys.executable, "-m", "fastact._accuracy", "--json", str(n64)],
                             env=env, capture_output=True, text=True, check=True).stdout
        cols.append(json.loads(out))
    head = (["float32 %s" % v for v in variants] + ["float64 %s" % v for v in variants]
            + ["bound asserted (float32 / float64)"])
    rows = ["Max ULP per kernel variant (`FASTACT_CPU`): float32 over ≈3.3M inputs, float64 over %d "
            "mpmath samples; the last column is the bound the tests assert (`Op.ulp`) and the one "
            "fastact guarantees: a denser search can find errors above a sample's maximum, never above "
            "the bound." % n64, "",
            "| function | %s |" % " | ".join(head), "|---|%s" % ("---|" * len(head))]
    names = [name for name, _ in CASES] + list(ROW_FUNCTIONS)
    for i, (label, _, _) in enumerate(cols[0]):
        bound = lookup(names[i]).ulp
        cells = (["%.2f" % c[i][1] for c in cols] + ["%.2f" % c[i][2] for c in cols]
                 + ["%g / %g" % bound])
        rows.append("| %s | %s |" % (label, " | ".join(cells)))
    return "\n".join(rows)


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "--json":   # used by table(): this process's variant
        import json

        print(json.dumps(measure_all(int(sys.argv[2]) if len(sys.argv) > 2 else 4000)))
    else:
        print(table())
