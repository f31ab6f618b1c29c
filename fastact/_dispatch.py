"""Choose the elementwise (and softmax row) kernels compiled for the best
instruction set this CPU runs.

The build compiles the same kernel source for several x86-64 levels
(``baseline``: SSE2; ``v3``: AVX2 + FMA + BMI2; ``v4``: AVX-512) where the
compiler knows them, one build elsewhere.  At import the best level the CPU
supports is chosen; ``FASTACT_CPU=baseline|v3|v4`` overrides the choice (and
fails clearly if the CPU cannot run it or it was not built).
"""

import importlib
import importlib.util
import os

from . import _special

__all__ = ["ORDER", "built", "runnable", "kernels", "VARIANT"]

ORDER = ("v4", "v3", "baseline")                 # best first
MODULE = {"baseline": "_elementwise", "v3": "_elementwise_v3", "v4": "_elementwise_v4"}
DESCRIPTION = {"baseline": "x86-64 baseline / generic (SSE2 on x86-64)",
               "v3": "x86-64-v3 (AVX2, FMA, BMI2)", "v4": "x86-64-v4 (AVX-512)"}
# without GCC 12's level builtins, the features that decide each level
_LEVEL_FEATURES = {"v3": {"avx2", "fma", "bmi", "bmi2"},
                   "v4": {"avx2", "fma", "bmi", "bmi2", "avx512f", "avx512bw", "avx512dq", "avx512vl"}}


# what the CPU reports: fixed for the life of the process
_FEATURES = frozenset(_special.build_facts()["cpu_features"])


def cpu_supports(variant):
    """True when this CPU can execute the given variant."""
    if variant == "baseline":
        return True
    feats = _FEATURES
    level = "x86-64-" + variant
    if any(f.startswith("x86-64-") for f in feats):
        return level in feats
    return _LEVEL_FEATURES[variant] <= feats


def _present(variant):
    # find, never import: a module built for a level the CPU lacks executes
    # illegal instructions as soon as its initialisation code runs
    return importlib.util.find_spec("fastact." + MODULE[variant]) is not None


def built():
    """The variants present in this installation, best first."""
    return [v for v in ORDER if _present(v)]


def runnable():
    """The variants present that this CPU can execute, best first."""
    return [v for v in built() if cpu_supports(v)]


def _choose():
    forced = os.environ.get("FASTACT_CPU", "").strip().lower()
    if not forced:
        return runnable()[0]
    if forced not in MODULE:
        raise ImportError("FASTACT_CPU=%r: expected one of %s" % (forced, ", ".join(reversed(ORDER))))
    if forced not in built():
        raise ImportError("FASTACT_CPU=%s: this fastact was built without the %s kernels (built: %s)"
                          % (forced, forced, ", ".join(built())))
    if not cpu_supports(forced):
        raise ImportError("FASTACT_CPU=%s: this CPU cannot run %s; it runs: %s"
                          % (forced, DESCRIPTION[forced], ", ".join(runnable())))
    return forced


VARIANT = _choose()
kernels = importlib.import_module("fastact." + MODULE[VARIANT])
