"""What every benchmark contender is called with: one case per (function, size, dtype).

The report (``fastact.bench``), the pytest-benchmark suite (``benchmarks/``)
and every contender (``fastact._contenders``) share this: the same arrays, of
realistic values (not zeros), the same parameters.

Calling convention of a contender, for function ``name``:

    forward(x, out, **params)            -> the result (out itself where it can write there)
    backward(dy, saved, out, **params)   -> dx   (prelu: (dx, dweight))

``saved`` is y (the forward's output) or x, as the registry's ``Op.saves`` says
(identity: x).  ``out`` is a preallocated array of the result's shape and dtype
that a contender may ignore.  ``params`` are the function's parameters with the
values of ``Case.params`` (defaults, plus the required ones: prelu's weight and
axis, maxout's pieces).

A case is named by a function of the registry (or an alias) or by one of its
forms (``Op.forms``: ``gelu_tanh`` is gelu with approximate='tanh'), which
the reports show as a function of its own.
"""

from dataclasses import dataclass

import numpy as np

from ._registry import OPS, lookup

__all__ = ["Case", "make_case", "case_names", "resolve", "ROW_LENGTH", "CHANNELS"]

ROW_LENGTH = 1000   # softmax / log_softmax rows (a classifier's logits)
CHANNELS = 64       # prelu channels and maxout group axis length


@dataclass
class Case:
    name: str                 # registry name: what the contenders are called by
    dtype: np.dtype
    n: int                    # elements of x
    x: np.ndarray             # forward input
    y: np.ndarray             # forward output (fastact's, float64-checked by the tests)
    dy: np.ndarray            # gradient arriving at the forward's output
    params: dict              # keyword parameters for every contender
    saved: np.ndarray         # what the backward takes: y or x
    label: str = ""           # what the reports call it: name, or the form's label

    @property
    def op(self):
        return lookup(self.name)

    def out_forward(self):
        return np.empty_like(self.y)

    def out_backward(self):
        return np.empty_like(self.x)


def _shape(op, n):
    if op.kind == "rowwise":
        return (max(n // ROW_LENGTH, 1), min(n, ROW_LENGTH))
    if op.kind in ("prelu", "maxout"):
        return (max(n // CHANNELS, 1), min(n, CHANNELS))
    return (n,)


def _forms():
    return {label: (op, dict(params)) for op in OPS for label, params in op.forms}


def resolve(name):
    """(op, parameter values, label) of a case name: a function or alias of
    the registry (its defaults), or one of the functions' forms."""
    form = _forms().get(name)
    if form is not None:
        return form[0], form[1], name
    op = lookup(name)
    return op, {}, op.name


def case_names():
    """Every function of the registry, each followed by its forms."""
    return [label for op in OPS for label in (op.name,) + tuple(f[0] for f in op.forms)]


def make_case(name, n, dtype, seed=0):
    """The inputs and parameters of case `name` (see resolve) at (about) n elements."""
    import fastact as fa

    op, form, label = resolve(name)
    rng = np.random.default_rng(seed)
    shape = _shape(op, n)
    lo, hi = op.domain
    # realistic pre-activations: mostly in the function's interesting range
    x = (rng.standard_normal(shape) * (hi - lo) / 8).astype(dtype)
    params = {p.name: p.default for p in op.params if not p.required}
    params.update(form)
    if op.kind == "prelu":
        params["weight"] = np.linspace(0.05, 0.3, shape[1]).astype(dtype)
        params["axis"] = 1
    elif op.kind == "maxout":
        params["pieces"] = 2
    y = getattr(fa, op.name)(x, **params)
    dy = rng.standard_normal(y.shape).astype(dtype)
    saved = y if op.saves == "y" else x
    return Case(op.name, np.dtype(dtype), x.size, x, y, dy, params, saved, label)
