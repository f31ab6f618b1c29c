"""The C math helpers under the kernels, against mpmath: the bounds documented
in fastact/_src/fa_math.h and fa_special.h."""

import numpy as np
import pytest

from fastact import _special
from fastact._accuracy import ulp_error

mp = pytest.importorskip("mpmath")

TINY = np.finfo(np.float64).tiny


def _inputs(name, rng):
    if name == "exp":
        return np.concatenate([rng.uniform(-745, 709.7, 3000), rng.uniform(-1, 1, 1000),
                               rng.uniform(-745, -708, 1000), [0.0, -0.0, 1e-300, -1e-300, 709.78]])
    if name == "expm1":
        return np.concatenate([rng.uniform(-50, 709.7, 2000), rng.uniform(-1, 1, 2000),
                               rng.uniform(-1e-5, 1e-5, 1000), [1e-300, -1e-300, 5e-324]])
    if name == "log1p01":
        return np.concatenate([rng.uniform(0, 1, 3000), 10 ** rng.uniform(-300, 0, 2000), [0.0, 1.0, 5e-324]])
    hi = 38.4 if name == "phi_lower64" else 13.0
    return np.concatenate([rng.uniform(0, hi, 3000), rng.uniform(0, 3, 2000), [0.0]])


EXACT = {
    "exp": mp.exp,
    "expm1": mp.expm1,
    "log1p01": mp.log1p,
    "phi_lower64": lambda a: mp.erfc(a / mp.sqrt(2)) / 2,
    "phi_lower32": lambda a: mp.erfc(a / mp.sqrt(2)) / 2,
}
BOUND_ULP = {"exp": 1.0, "expm1": 2.0, "log1p01": 1.5, "phi_lower64": 2.0,
             "phi_lower32": 2.0 ** -31 / 2.0 ** -52}   # 2^-31 relative, in double ULPs


@pytest.mark.parametrize("name", sorted(EXACT))
def test_helper_bound(name):
    x = _inputs(name, np.random.default_rng(11))
    got = np.empty_like(x)
    _special.math_helper(name, x, got)
    with mp.workprec(130):
        ex = [EXACT[name](mp.mpf(float(v))) for v in x]
        hi = np.array([float(e) for e in ex])
        lo = np.array([float(e - mp.mpf(float(e))) for e in ex])
    normal = np.abs(hi) >= TINY
    err = ulp_error(got, hi, np.float64, lo)
    assert np.max(err[normal]) <= BOUND_ULP[name]
    assert np.all(np.abs(got[~normal] - hi[~normal]) < TINY)


def test_helper_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 1000.0, -1000.0, -0.0])
    got = np.empty_like(x)
    _special.math_helper("exp", x, got)
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == 0 and got[3] == np.inf and got[4] == 0
    assert got[5] == 1.0
    _special.math_helper("expm1", x, got)
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == -1 and got[3] == np.inf and got[4] == -1
    assert got[5] == 0 and np.signbit(got[5])
    a = np.array([np.inf, 40.5, np.nan])
    q = np.empty_like(a)
    _special.math_helper("phi_lower64", a, q)
    assert q[0] == 0 and q[1] == 0 and np.isnan(q[2])
