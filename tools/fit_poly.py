#!/usr/bin/env python3
"""Fit the double-precision polynomials of fastact/_src/fa_math.h.

    exp     fa_exp_poly:  exp(r) = 1 + r + r^2 q(r), |r| <= 0.347 (ln2/2 and
            the reduction's slack); q of degree 9, minimax for the error
            r^2 (q_fit - q) relative to exp(r), the error the exps see (their
            result is 2^n (1 + r + r^2 q)).  Its constant term is held at 1/2
            exactly: a rounded one costs r^2 2^-54, which nothing can absorb.
    log1p   fa_log1p01:   log(1 + f) = 2 atanh(s) = 2 s + s R(z), s = f / (2 + f),
            z = s^2 <= 0.02944 (f in [sqrt(1/2) - 1, sqrt(2) - 1]); R(z) = z P(z),
            P of degree 6, minimax for R's absolute error z (P_fit - P)
            (relative to log(1 + f) ~ 2 s that is half of it).
    mills   fa_special.h's FA_PHI_M64 (the float64 GELU backward): the normal
            lower tail Phi(-a) = t M(s) exp(-a^2/2), t = 1 / (1 + a/4), s = 2t - 1
            in [-1, 1] (a >= 0); M = exp(g) of tools/fit_phi.py's g, degree 22,
            minimax relative to M (about 1.6e-16).

Method: mpmath (60 digits) gives the target on 2000 Chebyshev points; the
minimax fit is a linear program (scipy's HiGHS) on the residual of the
previous iterate, scaled to order 1 so that the solver's tolerances do not
limit it.  The coefficients are rounded to double from the highest degree
down, the lower ones refitted after each rounding; the error is then
checked on 20001 points in mpmath with the rounded coefficients, and the
coefficients printed as C.

    python tools/fit_poly.py exp
    python tools/fit_poly.py log1p
    python tools/fit_poly.py mills
"""

import argparse

import mpmath as mp
import numpy as np
from scipy.optimize import linprog

mp.mp.dps = 60
NODES = 2000


def _lp_minimax(M, t, w):
    """x minimising max |w (M x - t)| (all of order 1)."""
    m, k = M.shape
    cost = np.zeros(k + 1)
    cost[-1] = 1.0
    wm = w[:, None] * M
    a_ub = np.vstack([np.hstack([wm, -np.ones((m, 1))]), np.hstack([-wm, -np.ones((m, 1))])])
    b_ub = np.concatenate([w * t, -w * t])
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * (k + 1), method="highs")
    return res.x[:-1]


def _fit(deg, nodes, fx, w, fixed, span, iters=3):
    """coefficients 0..deg (mpf), those in `fixed` (degree -> double) held."""
    c = {k: mp.mpf(fixed.get(k, 0.0)) for k in range(deg + 1)}
    free = [k for k in range(deg + 1) if k not in fixed]
    M = np.array([[float((x / span) ** k) for k in free] for x in nodes])
    for _ in range(iters):
        res = [f - mp.polyval([c[k] for k in reversed(range(deg + 1))], x) for x, f in zip(nodes, fx)]
        scale = max(abs(v) for v in res) or mp.mpf(1)
        d = _lp_minimax(M, np.array([float(v / scale) for v in res]), w)
        for j, k in enumerate(free):
            c[k] += mp.mpf(float(d[j])) * scale / mp.mpf(span) ** k
    return c


def minimax_rounded(f, deg, lo, hi, weight, fixed=None):
    """double coefficients 0..deg of the weighted minimax fit of f on [lo, hi]."""
    mid, half = (mp.mpf(lo) + mp.mpf(hi)) / 2, (mp.mpf(hi) - mp.mpf(lo)) / 2
    nodes = [mid + half * mp.cos(mp.pi * (i + 0.5) / NODES) for i in range(NODES)]
    fx = [f(x) for x in nodes]
    w = np.array([float(weight(x)) for x in nodes])
    fixed = dict(fixed or {})
    span = max(abs(mp.mpf(lo)), abs(mp.mpf(hi)))
    for k in range(deg, -1, -1):
        if k not in fixed:
            fixed[k] = float(_fit(deg, nodes, fx, w, fixed, span)[k])
    return [fixed[k] for k in range(deg + 1)]


def _grid(lo, hi, n=20001):
    return [mp.mpf(lo) + (mp.mpf(hi) - mp.mpf(lo)) * i / (n - 1) for i in range(n)]


def fit_exp():
    a = 0.347
    q = lambda r: mp.mpf(1) / 2 if r == 0 else (mp.expm1(r) - r) / (r * r)
    c = minimax_rounded(q, 9, -a, a, lambda r: r * r / mp.exp(r), {0: 0.5})
    worst = worst_m1 = mp.mpf(0)
    for r in _grid(-a, a):
        if r != 0:
            p = r + r * r * mp.polyval([mp.mpf(v) for v in reversed(c)], r)
            worst = max(worst, abs(p - mp.expm1(r)) / mp.exp(r))
            worst_m1 = max(worst_m1, abs(p - mp.expm1(r)) / abs(mp.expm1(r)))
    print("/* q, degree 9, |r| <= %g: 1 + r + r^2 q within 2^%.2f of exp(r), relative"
          % (a, float(mp.log(worst, 2))))
    print(" * (relative to expm1(r): 2^%.2f, too coarse for the expm1s) */" % float(mp.log(worst_m1, 2)))
    return "FA_EXP_Q", c


def fit_log1p():
    zmax = 0.02944
    p_exact = lambda z: mp.mpf(2) / 3 if z == 0 else (2 * mp.atanh(mp.sqrt(z)) / mp.sqrt(z) - 2) / z
    c = minimax_rounded(p_exact, 6, 0, zmax, lambda z: z)
    worst = max(abs(z * (mp.polyval([mp.mpf(v) for v in reversed(c)], z) - p_exact(z)))
                for z in _grid(0, zmax) if z != 0)
    print("/* P, degree 6, z in [0, %g]: R = z P within 2^%.2f absolute */" % (zmax, float(mp.log(worst, 2))))
    return "FA_LOG1P_P", c


def fit_mills():
    mp.mp.dps = 40
    quarter = mp.mpf(1) / 4

    def m_exact(s):
        t = (s + 1) / 2
        if t == 0:
            return quarter / mp.sqrt(2 * mp.pi)
        a = (1 / t - 1) / quarter
        return mp.erfc(a / mp.sqrt(2)) * mp.exp(a * a / 2) / (2 * t)

    c = minimax_rounded(m_exact, 22, -1, 1, lambda s: 1 / m_exact(s))
    worst = max(abs(mp.polyval([mp.mpf(v) for v in reversed(c)], s) / m_exact(s) - 1) for s in _grid(-1, 1, 4001))
    print("/* M, degree 22, s in [-1, 1]: within %.2e of M(s), relative */" % float(worst))
    return "FA_PHI_M64_C", c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("which", choices=("exp", "log1p", "mills"))
    name, c = {"exp": fit_exp, "log1p": fit_log1p, "mills": fit_mills}[ap.parse_args().which]()
    for k, v in enumerate(c):
        print("#define %s%d %s" % (name, k, v.hex()))


if __name__ == "__main__":
    main()
