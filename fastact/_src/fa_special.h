/*
 * fa_special.h -- the normal distribution and the GELU pieces, on top of fa_math.h.
 *
 * Notes
 * -----
 * Phi(-a) = 0.5 erfc(a / sqrt 2) for a >= 0 is evaluated as
 *     t = 1 / (1 + C a),   Phi(-a) = t exp(-a^2/2 + g(t)),
 * with g a polynomial fitted by tools/fit_phi.py (fa_phi_coeffs.h).  One formula
 * for the whole range, no branch: the same shape as the classic Chebyshev fit
 * of erfc, taken to double precision.  The exponent is formed exactly
 * (a^2 as a double-double) because an error d in it is an error d relative in
 * the result, and -a^2/2 reaches -740 before Phi underflows.
 */
#ifndef FA_SPECIAL_H
#define FA_SPECIAL_H

#include "fa_math.h"
#include "fa_phi_coeffs.h"

/* c2, the constant term of FA_PHI_TAIL2_64 (for g'(s) ~ c1 + 2 c2 s) */
#define FA_PHI_TAIL2_C0 FA_PHI_TAIL2_64(0.0)

#define FA_SELU_LAMBDA 0x1.0cfabd6a91132p+0
#define FA_SELU_LAMBDA_ALPHA 0x1.c212cc640f031p+0   /* lambda * alpha, rounded once */
/* 2 sqrt(2/pi) (rounded; fa_gelu_tanh_arg64 splits it as FA_GELU_K1H + K1L)
 * and 2 sqrt(2/pi) 0.044715 as a double-double */
#define FA_GELU_K1 0x1.9884533d43651p+0
#define FA_GELU_K3 0x1.2444f2a4d8b4bp-4
#define FA_GELU_K3_LO -0x1.6c843a29d1c70p-61
#define FA_INV_SQRT_2PI 0x1.9884533d43651p-2

/* t = 1/(1 + a/4) for a >= 0 and *r, its relative error (t_true = t (1 +
 * r)) from the rounding of 1 + a/4 and of the division, to first order:
 * the argument of both Phi polynomials (g's and M's). */
FA_INLINE double fa_phi_t64(double a, double *r)
{
    double d, e1, u, ue;
    fa_two_sum(1.0, FA_PHI_C * a, &d, &e1);          /* FA_PHI_C * a is exact */
    double t = 1.0 / d;
    fa_two_prod(t, d, &u, &ue);
    *r = ((1.0 - u) - ue) - t * e1;
    return t;
}

/* Phi(-a) for a >= 0, double accuracy (float64 kernels).
 * Every rounding that would be amplified is carried:
 *  - t = 1/(1 + a/4) and its relative error r (from the rounding of 1 + a/4 and
 *    of the division); r goes into the exponent (t_true = t (1 + r)) and, through
 *    s = 2t - 1, into g (first-order, with g'(s) ~ c1 + 2 c2 s);
 *  - the last two Horner steps of g in double-double;
 *  - -a^2/2 + g as a double-double exponent. */
FA_INLINE double fa_phi_lower64_s(double a, double *q_s64)
{
    double r, e;
    double t = fa_phi_t64(a, &r);
    double s, sl;
    fa_two_sum(2.0 * t, -1.0, &s, &sl);
    sl += 2.0 * t * r;                               /* s_true = s + sl */
    /* g(s) = c0 + s (c1 + s P2(s)), the last two steps in double-double */
    double p2 = FA_PHI_TAIL2_64(s);
    double h, l, h2, l2;
    fa_two_prod(p2, s, &h, &l);
    fa_two_sum(FA_PHI_64_C1, h, &h, &e);
    l += e;
    fa_two_prod(h, s, &h2, &l2);
    l2 += l * s;
    fa_two_sum(FA_PHI_G64_C0, h2, &h, &e);
    l = l2 + e + (FA_PHI_64_C1 + 2.0 * FA_PHI_TAIL2_C0 * s) * sl;
    /* exponent -a^2/2 + g + r */
    double p, pe, S, E;
    fa_two_prod(a, a, &p, &pe);
    fa_two_sum(-0.5 * p, h, &S, &E);
    E += (l + r) - 0.5 * pe;
    /* S <= 0: g(t) < 0 (g(0) = log(C/sqrt(2 pi))).  Beyond a = 38.6, S <
     * -746 and fa_expneg_dd's clamp gives 0 (a = inf too: S = -inf, and
     * the nan that 0 * inf leaves in E is dropped with it), so no select
     * of the limit is needed; nan stays nan.  *q_s64 = Phi(-a) 2^64
     * (fa_expneg_dd_s64), and Phi(-a) itself the same product scaled. */
    double es = fa_expneg_dd_s64(S, E);
    *q_s64 = t * es;
    return t * (es * 0x1p-64);
}

FA_INLINE double fa_phi_lower64(double a)
{
    double qs;
    return fa_phi_lower64_s(a, &qs);
}

/* Phi(-a) for a >= 0, to ~1e-9 relative, computed in double.  No kernel uses
 * it since the float32 GELU moved to fa_phi32.h (float arithmetic); it stays
 * as a helper of fastact._special (tests/test_math_helpers.py). */
FA_INLINE double fa_phi_lower32(double a)
{
    double t = 1.0 / (1.0 + FA_PHI_C * a);
    double q = t * fa_exp(FA_PHI_G32(t) - 0.5 * a * a);
    return a > 40.0 ? 0.0 : q;
}

/* gelu(x) = x Phi(x), from Phi(-|x|).
 * (Whole functions here, always inlined: as Cython inline functions they
 * grew past GCC's inlining limit once several loops called them, and a loop
 * with a call does not vectorize.) */
FA_INLINE double fa_gelu64(double x)
{
    double qs, q = fa_phi_lower64_s(fabs(x), &qs);            /* Phi(-|x|) */
    double cdf = x >= 0 ? 1.0 - q : q;
    /* x clamped below at -1e300 (where cdf is 0 long before): x cdf is then
     * -0 for x = -inf, not -inf * 0, without a select of the limit */
    double y = (x < -1e300 ? -1e300 : x) * cdf;
    /* x < 0, q not 0: x (q 2^64) 2^-64, the same bits where q is normal and
     * one rounding where it is subnormal but x q is not (x near -37.6) */
    return (x < 0.0) & (q != 0.0) ? (x * qs) * 0x1p-64 : y;
}

/* gelu'(x) = Phi(x) + x phi(x) = (x >= 0 ? 1 - G : G), G = Phi(-a) - a phi(a),
 * a = |x|, with one exp: Phi(-a) = t M(s) E, E = exp(-a^2/2) (a^2 as a
 * double-double, so the exponent is exact), t = 1/(1 + a/4) with its relative error
 * r, s = 2t - 1, M = exp(g) fitted directly (FA_PHI_M64, within 1.6e-16):
 * G = E (t M (1 + r) - a / sqrt(2 pi)).  The forward's Phi(-a) (fa_phi_lower64_s,
 * g in the exponent, its last steps in double-double) and the density took
 * two exps and the double-double steps: 5.0 -> 2.4 ns/element (one thread,
 * 1e5, v4).  K = t M - a/sqrt(2 pi) cancels only near the derivative's zero at
 * x = -0.75; E as exp(-a^2/2) 2^64 (fa_expneg_dd_s64) and G scaled back
 * last, rounded once where it is subnormal (x near -37.6); past the exp's
 * clamp (a > 38.6, E = 0) G = 0: the limits 0 and 1, and K's nan at a = inf
 * dropped with it. */
/* M(s) = exp(g(s)), tools/fit_poly.py mills prints this block: */
#define FA_PHI_M64_C0 0x1.82b4bb8c94dcdp-3
#define FA_PHI_M64_C1 0x1.373e3a893c287p-3
#define FA_PHI_M64_C2 0x1.8c6dbf2cfc37fp-4
#define FA_PHI_M64_C3 0x1.7dff2bff684f6p-5
#define FA_PHI_M64_C4 0x1.eec4cc3e3e936p-7
#define FA_PHI_M64_C5 0x1.ee276104d39e3p-10
#define FA_PHI_M64_C6 -0x1.c81719c6064b9p-11
#define FA_PHI_M64_C7 -0x1.ab825fed4664cp-12
#define FA_PHI_M64_C8 0x1.17a4a535d1755p-15
#define FA_PHI_M64_C9 0x1.e4a43475cd029p-15
#define FA_PHI_M64_C10 -0x1.0011632254d6ap-21
#define FA_PHI_M64_C11 -0x1.26d1ef7c2a6cdp-17
#define FA_PHI_M64_C12 0x1.7ff3c18c6e6a6p-23
#define FA_PHI_M64_C13 0x1.8d6fc112e1988p-20
#define FA_PHI_M64_C14 -0x1.501f06e6f0434p-23
#define FA_PHI_M64_C15 -0x1.1376e94fb0b78p-22
#define FA_PHI_M64_C16 0x1.1dc3c89633316p-24
#define FA_PHI_M64_C17 0x1.5b0c624a430b1p-25
#define FA_PHI_M64_C18 -0x1.5708994748bb1p-26
#define FA_PHI_M64_C19 -0x1.4b7f76346252dp-28
#define FA_PHI_M64_C20 0x1.1c1d37571f20cp-28
#define FA_PHI_M64_C21 0x1.50e9956fcbf7ap-32
#define FA_PHI_M64_C22 -0x1.e83de51c8ed56p-32
FA_INLINE double fa_phi_m64(double s)
{
    /* pairs c_2k + c_2k+1 s, then Horner's rule in s^2 (a chain of 12) */
    double s2 = s * s;
    double q = FA_PHI_M64_C22;
    q = FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C21, s, FA_PHI_M64_C20));
    q = FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C19, s, FA_PHI_M64_C18));
    q = FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C17, s, FA_PHI_M64_C16));
    q = FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C15, s, FA_PHI_M64_C14));
    q = FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C13, s, FA_PHI_M64_C12));
    q = FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C11, s, FA_PHI_M64_C10));
    q = FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C9, s, FA_PHI_M64_C8));
    q = FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C7, s, FA_PHI_M64_C6));
    q = FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C5, s, FA_PHI_M64_C4));
    q = FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C3, s, FA_PHI_M64_C2));
    return FA_FMA(q, s2, FA_FMA(FA_PHI_M64_C1, s, FA_PHI_M64_C0));
}

FA_INLINE double fa_gelu_grad64(double x)
{
    double a = fabs(x);
    double r, p, pe;
    double t = fa_phi_t64(a, &r);
    double tm = t * fa_phi_m64(2.0 * t - 1.0);
    double K = FA_FMA(-a, FA_INV_SQRT_2PI, FA_FMA(tm, r, tm));
    fa_two_prod(a, a, &p, &pe);
    double es = fa_expneg_dd_s64(-0.5 * p, -0.5 * pe);
    double G = (es * K) * 0x1p-64;
    G = es * 0x1p-64 == 0.0 ? 0.0 : G;
    return x >= 0.0 ? 1.0 - G : G;
}

/* w = 2 sqrt(2/pi) (x + 0.044715 x^3) = x (K1 + K3 x^2) as a double-double
 * wh + wl (relative error ~2^-100).  K1 is split as K1H (20 significant bits)
 * + K1L: K1H + t (t = K3 x^2 <= 714) then rounds to a multiple of ulp <=
 * 2^-19 and Fast2Sum recovers its error exactly whichever term is larger.
 * x is clamped to |x| <= 100 (two selects GCC makes a min and a max; a nested
 * ternary made it compute the pair three times and blend), where sigma(w) is
 * already exactly 0 or 1; NaN passes. */
#define FA_GELU_K1H 0x1.98844p+0
#define FA_GELU_K1L 0x1.33d436508d0fdp-20
FA_INLINE void fa_gelu_tanh_arg64(double x, double *wh, double *wl)
{
    double xc = x < -100.0 ? -100.0 : x;
    xc = xc > 100.0 ? 100.0 : xc;
    double p, pe, t, te;
    fa_two_prod(xc, xc, &p, &pe);               /* x^2 */
    fa_two_prod(FA_GELU_K3, p, &t, &te);        /* K3 x^2 (its high part) */
    double s = FA_GELU_K1H + t;
    double se = t - (s - FA_GELU_K1H);          /* Fast2Sum: exact (see above) */
    double lo = se + (te + FA_FMA(FA_GELU_K3, pe, FA_FMA(FA_GELU_K3_LO, p, FA_GELU_K1L)));
    double h, he;
    fa_two_prod(xc, s, &h, &he);
    *wl = FA_FMA(xc, lo, he);
    *wh = h;
}

#endif /* FA_SPECIAL_H */
