"""Every contender of the benchmark, behind one calling convention (see _bench_cases).

Order: fastact, NumPy's best in-place form, NumPy's textbook form, then the
peers that are installed (SciPy, numexpr, PyTorch, JAX).  "Peers" for the
speed-ups are all contenders but fastact and the textbook form.
"""

import importlib

import numpy as np

import fastact as fa

from ._registry import OPS

__all__ = ["NAMES", "PEER_NAMES", "available", "get", "versions"]

NAMES = ("fastact", "numpy", "numpy-textbook", "scipy", "numexpr", "torch", "jax")
# the contenders a speed-up "over the fastest peer" is taken against
PEER_NAMES = ("numpy", "scipy", "numexpr", "torch", "jax")


def _fastact_table():
    table = {}
    for op in OPS:
        f = getattr(fa, op.name)
        b = getattr(fa, op.name + "_backward")

        def forward(x, out, _f=f, **params):
            return _f(x, out=out, **params)

        def backward(dy, saved, out, _b=b, **params):
            return _b(dy, saved, out=out, **params)

        table[op.name] = (forward, backward)
    return table


_TABLES = {}


def _table(name):
    if name not in _TABLES:
        if name == "fastact":
            _TABLES[name] = _fastact_table()
        elif name in ("numpy", "numpy-textbook"):
            mod = importlib.import_module("fastact._contenders_numpy")
            _TABLES[name] = mod.INPLACE if name == "numpy" else mod.TEXTBOOK
        else:
            mod = importlib.import_module("fastact._contenders_peers")
            _TABLES[name] = mod.table(name)
    return _TABLES[name]


def available():
    """The contenders whose library is installed, in NAMES order."""
    return [n for n in NAMES if _table(n) is not None]


def get(contender, name, backward=False):
    """The forward (or backward) of function `name` by `contender`, or None."""
    table = _table(contender)
    if not table or name not in table:
        return None
    return table[name][1 if backward else 0]


def versions():
    """{contender: version} for the installed contenders."""
    out = {"fastact": fa.__version__, "numpy": np.__version__, "numpy-textbook": np.__version__}
    peers = importlib.import_module("fastact._contenders_peers")
    for p in peers.PEERS:
        v = peers.version(p)
        if v:
            out[p] = v
    return out
