/*
 * fa_math.h -- branchless double-precision math helpers for fastact's kernels.
 *
 * Notes
 * -----
 * - Every helper is `static inline` and free of branches and libm calls, so that
 *   GCC can inline it into a kernel loop and vectorize that loop.  Special values
 *   are handled by selects (`c ? a : b`), never by early returns.
 * - float32 kernels call these double helpers and round once at the end, so their
 *   results are within about 0.5 ULP of float32 (see the README's accuracy table).
 * - Products that must be exact (double-double arithmetic) use a hardware FMA when
 *   the target has one (__FMA__) and Veltkamp/Dekker splitting otherwise.  The
 *   build uses -ffp-contract=off so that the compiler never fuses on its own: the
 *   vectorized body and the scalar remainder of a loop then round identically,
 *   which keeps results bitwise independent of how the array is split among
 *   threads.
 * - Error bounds (measured against mpmath and asserted by
 *   tests/test_math_helpers.py; ULPs of double where the result is normal,
 *   absolute error below the smallest normal where it is not):
 *
 *   fa_exp      exp(x)                 ~1 ULP (1.01 seen over 2e7 x), overflow to inf, subnormals rounded once
 *   fa_exp_dd   exp(hi + lo)           <= 1 ULP for a double-double argument
 *   fa_expneg_dd  the same for hi <= 0, a quarter cheaper
 *   fa_expm1    expm1(x)               <= 2 ULP (1.87 seen)
 *   fa_log1p01  log1p(t), t in [0, 1]  <= 1.5 ULP (1.23 seen over 4e7 t; any t >= 0 below 2^1022)
 *   fa_phi_lower64 / 32 (fa_special.h): <= 2 ULP (1.83 seen) / 2^-31 relative
 */
#ifndef FA_MATH_H
#define FA_MATH_H

#include <stdint.h>
#include <string.h>
#include <math.h>
#include <fenv.h>

#if defined(__GNUC__)
#define FA_INLINE static inline __attribute__((always_inline))
#else
#define FA_INLINE static inline
#endif

#ifdef __FMA__
#define FA_FMA(a, b, c) __builtin_fma((a), (b), (c))
#else
#define FA_FMA(a, b, c) ((a) * (b) + (c))
#endif

/* ------------------------------------------------------------------ bits */

FA_INLINE double fa_asdouble(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }
FA_INLINE uint64_t fa_asuint64(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

/* Adding FA_SHIFT to a double of magnitude < 2^51 rounds it to the nearest
 * integer n and leaves n in the low bits of the sum's representation. */
#define FA_SHIFT 0x1.8p52

/* 2^n from t = FA_SHIFT + n, for integer n in [-1022, 1023] (n = 1024 gives inf). */
FA_INLINE double fa_pow2_shifted(double t)
{
    return fa_asdouble((fa_asuint64(t) << 52) + ((uint64_t)1023 << 52));
}

/* ------------------------------------------------------------ constants */

#define FA_LOG2E 0x1.71547652b82fep0
/* ln 2 split so that n * FA_LN2HI is exact for |n| < 2^11 */
#define FA_LN2HI 0x1.62e42fefa3800p-1
#define FA_LN2LO 0x1.ef35793c76730p-45

/* ---------------------------------------------------- double-double bits */

/* s + e == a + b exactly (Knuth's two-sum). */
FA_INLINE void fa_two_sum(double a, double b, double *s, double *e)
{
    double sum = a + b;
    double bb = sum - a;
    *e = (a - (sum - bb)) + (b - bb);
    *s = sum;
}

/* p + e == a * b exactly. */
FA_INLINE void fa_two_prod(double a, double b, double *p, double *e)
{
    double prod = a * b;
#ifdef __FMA__
    *e = __builtin_fma(a, b, -prod);
#else
    const double split = 134217729.0; /* 2^27 + 1 */
    double ca = split * a, cb = split * b;
    double ah = ca - (ca - a), bh = cb - (cb - b);
    double al = a - ah, bl = b - bh;
    *e = ((ah * bh - prod) + ah * bl + al * bh) + al * bl;
#endif
    *p = prod;
}

/* a / 6 correctly rounded, as the division gives it, for finite a whose
 * quotient is normal or zero: with an FMA by Markstein's correction (q = a
 * RN(1/6) is within an ulp, its remainder a - 6 q is exact, and q + rem
 * RN(1/6) rounds to the quotient), three multiply-adds in place of a
 * division (vdivpd: 8 doubles per ~8.5 cycles on Zen 4, the FMA units 1 a
 * cycle), and a's sign put back, which a = -0 loses (q + rem c is -0 + 0;
 * GCC folds the negations of a remainder formed the other way round, so
 * that does not keep it either).  Without an FMA, the division.  Infinite
 * a gives nan instead of inf: the callers select their limits there. */
FA_INLINE double fa_div6(double a)
{
#ifdef __FMA__
    const double c = 1.0 / 6.0;
    double q = a * c;
    return __builtin_copysign(__builtin_fma(__builtin_fma(-q, 6.0, a), c, q), a);
#else
    return a / 6.0;
#endif
}

/* ------------------------------------------------------------- exp family */

/* expm1(r) for |r| <= 0.35: the Taylor series to degree 13, whose truncation
 * error is below 2^-58 relative.  Written as r + r^2 q(r) so the final add
 * rounds once; q from pairs (c_2j + c_2j+1 r) by Horner's rule in r^2: 13
 * multiplies and FMAs with a dependency chain of 6 (Estrin's scheme, powers
 * r^2, r^4, r^8, had a chain of 4 but 15 operations, and the float64 loops
 * are bound by the FMA units' throughput: 4-10% slower; Horner's rule in r,
 * a chain of 12, was slower still). */
FA_INLINE double fa_expm1_poly(double r)
{
    double r2 = r * r;
    double a0 = FA_FMA(1.0 / 6.0, r, 0.5);                  /* 1/3!, 1/2! */
    double a1 = FA_FMA(1.0 / 120.0, r, 1.0 / 24.0);
    double a2 = FA_FMA(1.0 / 5040.0, r, 1.0 / 720.0);
    double a3 = FA_FMA(1.0 / 362880.0, r, 1.0 / 40320.0);
    double a4 = FA_FMA(1.0 / 39916800.0, r, 1.0 / 3628800.0);
    double a5 = FA_FMA(1.0 / 6227020800.0, r, 1.0 / 479001600.0);   /* 1/13!, 1/12! */
    double q = FA_FMA(FA_FMA(FA_FMA(FA_FMA(FA_FMA(a5, r2, a4), r2, a3), r2, a2), r2, a1), r2, a0);
    return FA_FMA(r2, q, r);
}

/* exp(r) - 1 = r + r^2 q(r) for |r| <= 0.347, q of degree 9 fitted by
 * tools/fit_poly.py exp (minimax for the error relative to exp(r), 2^-57.2 with
 * these double coefficients): the exps' polynomial, two terms shorter than
 * fa_expm1_poly's Taylor series (11 instead of 13 vector operations; the
 * exps 7-11% faster), whose 2^-56 relative to expm1(r) itself the expm1s
 * keep (this fit's is 2^-54.3).  The same pairs-and-Horner form. */
#define FA_EXP_Q0 0x1.0000000000000p-1
#define FA_EXP_Q1 0x1.5555555555500p-3
#define FA_EXP_Q2 0x1.55555555531b4p-5
#define FA_EXP_Q3 0x1.1111111128bbep-7
#define FA_EXP_Q4 0x1.6c16c17ce053fp-10
#define FA_EXP_Q5 0x1.a01a011b48f87p-13
#define FA_EXP_Q6 0x1.a019aac8ba39fp-16
#define FA_EXP_Q7 0x1.71df56735a86cp-19
#define FA_EXP_Q8 0x1.289ff71ff1478p-22
#define FA_EXP_Q9 0x1.ad1f773994f2ep-26
FA_INLINE double fa_exp_poly(double r)
{
    double r2 = r * r;
    double a0 = FA_FMA(FA_EXP_Q1, r, FA_EXP_Q0);
    double a1 = FA_FMA(FA_EXP_Q3, r, FA_EXP_Q2);
    double a2 = FA_FMA(FA_EXP_Q5, r, FA_EXP_Q4);
    double a3 = FA_FMA(FA_EXP_Q7, r, FA_EXP_Q6);
    double a4 = FA_FMA(FA_EXP_Q9, r, FA_EXP_Q8);
    double q = FA_FMA(FA_FMA(FA_FMA(FA_FMA(a4, r2, a3), r2, a2), r2, a1), r2, a0);
    return FA_FMA(r2, q, r);
}

/* exp(hi + lo) where |lo| is at most a few ulp of hi (a double-double argument;
 * lo = 0 gives plain exp).  Cody-Waite reduction hi + lo = n ln2 + r, then
 * 2^n applied in two steps (2^n1 * 2^n2, n1 ~ n/2) so that subnormal results are
 * rounded once and huge n does not overflow the exponent field. */
FA_INLINE double fa_exp_dd(double hi, double lo)
{
    double xc = hi < -746.0 ? -746.0 : hi;
    xc = xc > 710.0 ? 710.0 : xc;
    /* lo only matters inside the range, and must not turn an infinite hi
     * (whose exact-product error term is nan) into nan */
    lo = (xc == hi) & (lo - lo == 0.0) ? lo : 0.0;
    double t = xc * FA_LOG2E + FA_SHIFT;
    double n = t - FA_SHIFT;
    double r = ((xc - n * FA_LN2HI) + lo) - n * FA_LN2LO;
    double p = fa_exp_poly(r);
    double t1 = n * 0.5 + FA_SHIFT;
    double n1 = t1 - FA_SHIFT;
    double t2 = (n - n1) + FA_SHIFT;
    double y = ((1.0 + p) * fa_pow2_shifted(t1)) * fa_pow2_shifted(t2);
    return hi != hi ? hi : y;
}

FA_INLINE double fa_exp(double x) { return fa_exp_dd(x, 0.0); }

/* r with xc + lo = n ln2 + r (|r| <= ln2/2), n and t = FA_SHIFT + n: the
 * reduction the exps and expm1s share (lo = -0.0, an exact x + -0.0 = x,
 * folds away where there is no low part). */
FA_INLINE double fa_exp_reduce(double xc, double lo, double *t, double *n)
{
    *t = FA_FMA(xc, FA_LOG2E, FA_SHIFT);
    *n = *t - FA_SHIFT;
    return FA_FMA(*n, -FA_LN2LO, FA_FMA(*n, -FA_LN2HI, xc) + lo);
}

/* exp(hi + lo) for hi <= 0 (or nan), fa_exp_dd's method (same bounds) at
 * a quarter less work: no upper clamp, and one power of two, 2^(n+64), which
 * is normal for every n >= -1086, applied before an exact (or, for a
 * subnormal result, once-rounding) scaling by 2^-64.  The reduction uses
 * FMAs where the target has them.  Below -746 the result is 0.  The same
 * holds for any hi <= 664 (2^(n+64) stays finite), so a caller that clamps
 * its argument lower than that (mish: 20, 25) needs no fa_exp_dd. */
FA_INLINE double fa_expneg_core_s64(double xc, double lo)
{
    double t, n;
    double p = fa_exp_poly(fa_exp_reduce(xc, lo, &t, &n));
    double sc = fa_asdouble((fa_asuint64(t) << 52) + ((uint64_t)(1023 + 64) << 52));
    return (1.0 + p) * sc;
}

/* (The clamp at -746 needs no select after it: exp(-746) = 2^-1076.3
 * rounds to 0 in the last, scaling step.) */
FA_INLINE double fa_expneg_dd_s64(double hi, double lo)
{
    int clamp = hi < -746.0;
    return fa_expneg_core_s64(clamp ? -746.0 : hi, clamp ? 0.0 : lo);   /* hi = -inf: lo may be nan */
}

FA_INLINE double fa_expneg_dd(double hi, double lo) { return fa_expneg_dd_s64(hi, lo) * 0x1p-64; }

/* exp(x), x <= 0 (or <= 664): a max and no low part (x + -0.0 is x, so
 * no add either). */
FA_INLINE double fa_expneg_s64(double x) { return fa_expneg_core_s64(x < -746.0 ? -746.0 : x, -0.0); }

FA_INLINE double fa_expneg(double x) { return fa_expneg_s64(x) * 0x1p-64; }

/* The _s64 forms above return exp 2^64 before that last scaling: normal
 * wherever exp is not 0 (from exp(-746) 2^64 = 2^-1012.3 up), so that the
 * float64 kernels whose results stay normal where their exp is subnormal
 * (x e^x for x in [-715, -708.4]: silu, mish; x Phi(x) near x = -37.6:
 * gelu; e^(beta x) / beta: softplus with beta < 1) can scale by 2^-64
 * after their last product instead: the exp's subnormal rounding cost
 * those results up to 34000 ULP.  fa_expneg* = fa_expneg*_s64 * 2^-64
 * bit for bit.  Past the clamp (exp = 0) the _s64 value is exp(-746) 2^64,
 * not 0: the callers keep their unscaled path there.  FA_EXP_FAR: the
 * exponent below which the kernels (fastact/_ops.pxd) take the scaled path. */
#define FA_EXP_FAR -600.0

/* expm1(x) = 2^n (expm1(r) + 1) - 1, evaluated as 2 (s p + (s - 1/2)) with
 * s = 2^(n-1) (2^n overflows for x near 710): every step is exact but the
 * last add. */
FA_INLINE double fa_expm1(double x)
{
    double xc = x < -45.0 ? -45.0 : x;    /* expm1(-45) == -1 in double */
    xc = xc > 710.0 ? 710.0 : xc;
    double t, n;
    double p = fa_expm1_poly(fa_exp_reduce(xc, -0.0, &t, &n));
    double s = fa_pow2_shifted(t - 1.0);
    double y = 2.0 * FA_FMA(s, p, s - 0.5);   /* s p is exact (s a power of 2) */
    y = n == 0.0 ? p : y;                 /* exact for tiny and subnormal x */
    y = x == 0.0 ? x : y;                 /* expm1(-0) = -0 (r^2 q + r gives +0) */
    return x != x ? x : y;
}

/* expm1(x) for x <= 0 or nan, for callers that select x = -0 themselves
 * (elu: x >= 0 gives x) or take the sign from x (tanh): S p + (S - 1) with
 * S = 2^n, which cannot overflow here, in one rounding -- fa_expm1's bits,
 * and p itself for n = 0 (subnormal x too), so no selects: a -march=
 * x86-64-v4 loop of it has 24 vector instructions (load and store
 * included, register copies not) against fa_expm1's 33.  +0 for x = -0;
 * NaN stays NaN (the clamp keeps it, and so does every step after it). */
FA_INLINE double fa_expm1_nonpos(double x)
{
    double t, n;
    double p = fa_expm1_poly(fa_exp_reduce(x < -45.0 ? -45.0 : x, -0.0, &t, &n));
    double S = fa_pow2_shifted(t);
    return FA_FMA(S, p, S - 1.0);
}

/* celu for alpha < 0, x <= 0: x / alpha >= 0, so the exps grow (to inf).
 * x / alpha as a double-double q + ql (its rounding would cost |x / alpha|
 * ulps of the exp; ql is nan where q is not finite, and fa_exp_dd and the
 * select on em drop it there):
 * alpha (expm1(q) + ql (1 + expm1(q))), within 2.5 ULP (fa_expm1's 1.87 and
 * the product), and the derivative exp(q + ql) by fa_exp_dd.  (A nan check
 * of ql's own, beside fa_exp_dd's, left the derivative's loop scalar: GCC
 * merged the two into a select it cannot vectorize.) */
FA_INLINE double fa_x_over_lo(double x, double alpha, double q)
{
    /* the remainder is exact; its quotient needs few digits: times 1/alpha,
     * which the compiler hoists out of a loop (a division per element
     * otherwise) */
#ifdef __FMA__
    double l = __builtin_fma(-q, alpha, x) * (1.0 / alpha);
#else
    double p, pe;
    fa_two_prod(q, alpha, &p, &pe);
    double l = ((x - p) - pe) * (1.0 / alpha);
#endif
    return l;       /* nan where q is not finite: the callers drop it there */
}

/* q = x / alpha rounded, and *lo = (x - q alpha) / alpha to a few digits
 * (fa_x_over_lo): x / alpha as a double-double, for celu in both signs of
 * alpha (fastact/_ops.pxd's celu kernels, fa_celu_neg*64 below). */
FA_INLINE double fa_div_dd(double x, double alpha, double *lo)
{
    double q = x / alpha;
    *lo = fa_x_over_lo(x, alpha, q);
    return q;
}

/* a b + c rounded once where the target has an FMA; otherwise a b as an
 * exact pair whose low part joins c first (one rounding of p + (e + c),
 * for |c| small next to a b: celu's correction term). */
FA_INLINE double fa_mul_add1(double a, double b, double c)
{
#ifdef __FMA__
    return __builtin_fma(a, b, c);
#else
    double p, e;
    fa_two_prod(a, b, &p, &e);
    return p + (e + c);
#endif
}

/* softsign'(x) dy = dy / (1 + |x|)^2.  Beyond |x| = 2^500 the square would
 * leave double's range (0 where the result is normal: dy = 1e20, x = 1e160
 * gives 1e-300), so there 1 + |x| is scaled by ks = 2^(1 - E), E its
 * exponent, into [2, 4) (exactly) and the quotient scaled back by ks twice:
 * the scalings are exact wherever the result is normal (the first product
 * is normal then too); a subnormal result is rounded once more.  inf gives 0 (ks from the
 * largest double's exponent), nan nan. */
FA_INLINE double fa_softsign_grad64(double dy, double x)
{
    double a = 1.0 + __builtin_fabs(x);
    double am = a < 0x1.fffffffffffffp1023 ? a : 0x1.fffffffffffffp1023;
    double ks = a > 0x1p500 ? fa_asdouble(((uint64_t)2047 << 52) - (fa_asuint64(am) & 0x7ff0000000000000ull))
                            : 1.0;
    double as = a * ks;
    return ((dy / (as * as)) * ks) * ks;
}

FA_INLINE double fa_celu_neg64(double x, double alpha)
{
    double ql, q = fa_div_dd(x, alpha, &ql);
    double em = fa_expm1(q);
    /* the correction where em is finite (ql may be huge where q is) */
    em = em < 0x1.fffffffffffffp1023 ? em + ql * (1.0 + em) : em;
    return alpha * em;
}

FA_INLINE double fa_celu_neg_grad64(double x, double alpha)
{
    double ql, q = fa_div_dd(x, alpha, &ql);
    return fa_exp_dd(q, ql);
}

/* ------------------------------------------------------------- log family */

/* log1p(t) for t >= 0 below 2^1022 (softplus and log-sigmoid need [0, 1],
 * log_softmax a row's sum of exps less 1).  u = 1 + t = 2^k (1 + f), f in
 * [sqrt(1/2) - 1, sqrt(2) - 1]; log(1 + f) = f - (f^2/2 - s (f^2/2 +
 * R(s^2))) with s = f / (2 + f); the rounding of 1 + t is put back as (t -
 * (u - 1)) / u.  nan gives nan; fa_log1p_pos takes +inf too. */
#define FA_LOG1P_P0 0x1.5555555555592p-1
#define FA_LOG1P_P1 0x1.999999997fd77p-2
#define FA_LOG1P_P2 0x1.24924941f5038p-2
#define FA_LOG1P_P3 0x1.c71c5205faf0fp-3
#define FA_LOG1P_P4 0x1.74663fa62520ep-3
#define FA_LOG1P_P5 0x1.39a1a671ccfd2p-3
#define FA_LOG1P_P6 0x1.2f063ad034170p-3
FA_INLINE double fa_log1p01(double t)
{
    double u = 1.0 + t;
    double c = (t - (u - 1.0)) / u;
    /* the scale m = 2^-k and k itself from u's bits with integer arithmetic
     * alone (k as a double by the 2^52 trick: int64 conversions vectorize
     * only with AVX-512): selects on u > sqrt 2 let GCC split the paths
     * after them and compute s and R for both cases (two divisions more per
     * vector), and the comparison's bit as an integer did not vectorize for
     * SSE2 */
    uint64_t e = (fa_asuint64(u) + (0x3ff0000000000000ULL - 0x3fe6a09e667f3bcdULL)) >> 52;  /* 1023 + k */
    double m = fa_asdouble((2046ULL << 52) - (e << 52));
    double f = u * m - 1.0;                  /* exact */
    double k = fa_asdouble(0x4330000000000000ULL | e) - (0x1p52 + 1023.0);
    double s = f / (2.0 + f);
    double z = s * s;
    /* R = sum_{j>=1} 2 z^j / (2j + 1) for z <= 0.0295 as z P(z), P of
     * degree 6 fitted by tools/fit_poly.py log1p (minimax, R within 2^-57.9
     * absolute; the series to j = 11 it replaces took 4 FMAs more), from
     * pairs by Horner's rule in z^2, as fa_exp_poly */
    double z2 = z * z;
    double a0 = FA_FMA(FA_LOG1P_P1, z, FA_LOG1P_P0);
    double a1 = FA_FMA(FA_LOG1P_P3, z, FA_LOG1P_P2);
    double a2 = FA_FMA(FA_LOG1P_P5, z, FA_LOG1P_P4);
    double P = FA_FMA(FA_FMA(FA_FMA(FA_LOG1P_P6, z2, a2), z2, a1), z2, a0);
    double R = P * z;
    double hfsq = 0.5 * f * f;
    double lf = f - (hfsq - s * (hfsq + R));
    return k * FA_LN2HI + (lf + (k * FA_LN2LO + c));
}

FA_INLINE double fa_log1p_pos(double t) { return t == INFINITY ? t : fa_log1p01(t); }

/* ------------------------------------------------------ logistic pieces */

/* sigma(v) and sigma(-v) = 1 - sigma(v), both without cancellation, from
 * e = exp(-|v|).  *e_out lets callers detect the saturated tails (e == 0). */
FA_INLINE void fa_sigmoid_pair(double v, double *sp, double *sm, double *e_out)
{
    double e = fa_expneg(-fabs(v));
    double d = 1.0 + e;
    int pos = v >= 0.0;
    *sp = (pos ? 1.0 : e) / d;
    *sm = (pos ? e : 1.0) / d;
    *e_out = e;
}

/* ---------------------------------------------- floating-point state */

/* Kernels may raise overflow/underflow/invalid flags internally (they compute
 * with infinities and NaNs on purpose); the caller's flags are restored after
 * each kernel so nothing is left set.  On x86-64 the kernels' arithmetic is
 * all SSE/AVX, whose flags live in MXCSR: saving and restoring that register
 * (two instructions) costs a few nanoseconds, where fegetexceptflag /
 * fesetexceptflag also store and reload the x87 environment (~0.1 us a call,
 * a fifth of a 1000-element relu).  Restoring MXCSR also keeps its rounding
 * and flush-to-zero bits, which no kernel changes.  Code that is not ours
 * (NumPy's casts raise overflow through the x87 unit) is wrapped in the full
 * fa_fenv_flags_save/restore instead. */
typedef fexcept_t fa_fenv_flags_t;
FA_INLINE fa_fenv_flags_t fa_fenv_flags_save(void)
{
    fexcept_t f;
    fegetexceptflag(&f, FE_ALL_EXCEPT);
    return f;
}
FA_INLINE void fa_fenv_flags_restore(fa_fenv_flags_t f) { fesetexceptflag(&f, FE_ALL_EXCEPT); }

#if defined(__x86_64__) && defined(__SSE2__)
#include <xmmintrin.h>
typedef unsigned int fa_fpflags_t;
FA_INLINE fa_fpflags_t fa_fpflags_save(void) { return _mm_getcsr(); }
FA_INLINE void fa_fpflags_restore(fa_fpflags_t f) { _mm_setcsr(f); }
#else
typedef fa_fenv_flags_t fa_fpflags_t;
#define fa_fpflags_save fa_fenv_flags_save
#define fa_fpflags_restore fa_fenv_flags_restore
#endif

/* --------------------------------------------------------- rrelu noise */

/* A counter-based generator (splitmix64 finaliser): the noise of element i
 * depends only on (seed, i), never on the thread that computes it. Returns a
 * double uniform in [0, 1) with 52 random bits. */
FA_INLINE double fa_uniform(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    /* 52 random bits as the mantissa of a double in [1, 2), minus 1 */
    return fa_asdouble((z >> 12) | 0x3FF0000000000000ULL) - 1.0;
}

#endif /* FA_MATH_H */
