/*
 * fa_math32.h -- branchless single-precision math helpers for fastact's float32
 * kernels.
 *
 * Notes
 * -----
 * - The float32 kernels of the transcendental functions compute in float, so a
 *   vector register holds 8 lanes (AVX2) or 16 (AVX-512) instead of 4 or 8.
 *   Every helper is `static inline`, free of branches and libm calls; special
 *   values go through selects, so GCC vectorizes the loops that call them.
 * - Exact products use an FMA where the target has one (x86-64-v3/v4) and
 *   Dekker splitting otherwise; Cody-Waite constants are short enough to
 *   multiply exactly; sums recover their rounding error with Fast2Sum.  The
 *   one step that is only exact with an FMA is a division's remainder
 *   (fa_divf_dd2), so the baseline build is a little less accurate; both stay
 *   within SPEC's 2 ULP (tests/test_accuracy.py runs under every variant).
 * - Errors of the helpers, measured with a C harness over every 13th float32
 *   bit pattern against glibc's double functions (normal results; subnormal
 *   ones, which SPEC holds to an absolute error, stay within 1e-43):
 *
 *                                        x86-64-v3   baseline (no FMA)
 *   fa_expn2     exp(x), x <= 0           0.67 ULP    0.69 ULP
 *   fa_sigmoidf  sigmoid(x)               1.67        1.67  (every 7th; 1.68 every float32, v4)
 *   fa_siluf     x sigmoid(x)             1.68        1.68  (every 7th; 1.77 every float32, v4)
 *   fa_gelu_tanhf  x sigmoid(2u)          1.80        1.78  (every 7th; v4 as v3)
 *   fa_tanhf     tanh(x)                  1.46        1.44  (every float in [0.5, 9.2])
 *   fa_expm1f    expm1(x)                 0.89 for x <= 0, 1.45 above 0.35
 *   fa_log1pf01_dd log1p(t), t in [0, 1]  0.65
 */
#ifndef FA_MATH32_H
#define FA_MATH32_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define FA_INLINE32 static inline __attribute__((always_inline))
#else
#define FA_INLINE32 static inline
#endif

FA_INLINE32 float fa_asfloat(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
FA_INLINE32 uint32_t fa_asuint32(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }

/* a b - p exactly, for p = fl(a b) (the FMA form where the target has one,
 * Dekker's split otherwise). */
FA_INLINE32 float fa_prod_errf(float a, float b, float p)
{
#ifdef __FMA__
    return __builtin_fmaf(a, b, -p);
#else
    const float split = 4097.0f;                /* 2^12 + 1 */
    float ca = split * a, cb = split * b;
    float ah = ca - (ca - a), bh = cb - (cb - b);
    float al = a - ah, bl = b - bh;
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
}

/* hi + lo == a * b exactly. */
FA_INLINE32 void fa_two_prodf(float a, float b, float *hi, float *lo)
{
    float p = a * b;
    *lo = fa_prod_errf(a, b, p);
    *hi = p;
}

/* Adding FA_SHIFTF to a float of magnitude < 2^22 rounds it to the nearest
 * integer n and leaves n (plus 2^22) in the low bits of the sum. */
#define FA_SHIFTF 0x1.8p23f
#define FA_LOG2EF 0x1.715476p0f
/* ln 2 = FA_LN2HIF + FA_LN2LOF; n * FA_LN2HIF is exact for |n| < 2^8 */
#define FA_LN2HIF 0x1.62e4p-1f
#define FA_LN2LOF 0x1.7f7d1cp-20f

/* Fused multiply-add where the target has one (a*b + c rounded twice
 * elsewhere).  Only used where either form meets the bounds above; the
 * vector body and the scalar remainder of a loop use the same form, so
 * results never depend on how an array is split. */
#ifdef __FMA__
#define FA_FMAF(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define FA_FMAF(a, b, c) ((a) * (b) + (c))
#endif

/* 2^n from t = FA_SHIFTF + n, for integer n in [-126, 128] (128 gives inf). */
FA_INLINE32 float fa_pow2f_shifted(float t)
{
    return fa_asfloat((fa_asuint32(t) << 23) + ((uint32_t)127 << 23));
}

/* q(r) with expm1(r) = r + r^2 q(r), |r| <= 0.35: a degree-5 fit with relative
 * error 1.1e-8 (Lawson iteration on Chebyshev nodes, float coefficients),
 * evaluated by Estrin's scheme (short dependency chains: the loops are
 * latency-bound otherwise). */
FA_INLINE32 float fa_expm1f_q(float r, float r2)
{
    float a = FA_FMAF(0x1.555556p-3f, r, 0.5f);
    float b = FA_FMAF(0x1.11114cp-7f, r, 0x1.5554e8p-5f);
    float c = FA_FMAF(0x1.a07342p-13f, r, 0x1.6d4486p-10f);
    return FA_FMAF(r2 * r2, c, FA_FMAF(r2, b, a));
}

/* Cody-Waite reduction x + lo = n ln2 + r + rlo (to ~2^-36 absolute);
 * *t = FA_SHIFTF + n. */
FA_INLINE32 float fa_reduce_ln2f(float x, float lo, float *t, float *rlo)
{
    float tt = x * FA_LOG2EF + FA_SHIFTF;
    float n = tt - FA_SHIFTF;
    float a = x - n * FA_LN2HIF;                /* exact */
    float c = lo - n * FA_LN2LOF;               /* small: its rounding is below 2^-36 */
    float r = a + c;
    *rlo = (a - r) + c;                         /* Fast2Sum (or below 2^-36 where |a| < |c|) */
    *t = tt;
    return r;
}

/* c ? a : b on the bit patterns.  GCC turns `c ? a : b` into control flow
 * and may then sink the operation that consumes it into both arms (two
 * divisions where one would do); this form stays one blend-like step. */
FA_INLINE32 float fa_selectf(int c, float a, float b)
{
    uint32_t m = (uint32_t)0 - (uint32_t)(c != 0);
    return fa_asfloat((fa_asuint32(a) & m) | (fa_asuint32(b) & ~m));
}

/* exp(v + vl) 2^32 for v in [-104, 0] (|vl| a few ulp of v at most),
 * returned unrounded as y + *yl: the lean exp of the sigmoid family.  The
 * 2^32 keeps every result normal down to v = -104 (exp(v) alone goes
 * subnormal below -87.3), so one power of two built from the exponent bits
 * is enough, and the caller's final scaling by 2^-32 rounds a subnormal
 * result once.  Cody-Waite reduction with the rounding of r kept (rlo),
 * 1 + r split exactly (Fast2Sum), a degree-5 fit for the rest.  Below -104
 * the result is exp(-104) 2^32 (exp(-104) rounds to 0 in float: callers
 * whose result does not vanish with it select the limit); NaN gives NaN. */
FA_INLINE32 float fa_expn2(float v, float vl, float *yl)
{
    int clamp = v < -104.0f;
    float vc = clamp ? -104.0f : v;
    vl = clamp ? 0.0f : vl;                     /* v = -inf: vl may be nan */
    float tt = FA_FMAF(vc, FA_LOG2EF, FA_SHIFTF);
    float n = tt - FA_SHIFTF;
    float r0 = FA_FMAF(n, -FA_LN2HIF, vc);      /* exact: n ln2hi has 17 bits */
    float c = FA_FMAF(n, -FA_LN2LOF, vl);
    float r = r0 + c;
    float rlo = (r0 - r) + c;
    float r2 = r * r;
    float s = 1.0f + r;
    float slo = (1.0f - s) + r;
    float w = FA_FMAF(r2, fa_expm1f_q(r, r2), slo + rlo);
    float p = s + w;
    float plo = (s - p) + w;
    float sc = fa_asfloat((fa_asuint32(tt) << 23) + ((uint32_t)(127 + 32) << 23));
    *yl = plo * sc;
    return p * sc;
}

/* exp(x) = 2^n (1 + w) for |x| <= 110, w = expm1(r) (r + r^2 q(r)), x = n ln2
 * + r by Cody-Waite (ln2 in two parts); *tt = FA_SHIFTF + n.  The core of
 * the lean exps: fa_expn2_pair, fa_exp_tanh_rangef, fa_sig_D. */
/* The lean exps' core, with an optional low part xlo of x (has_lo a
 * constant; a few 2^-8 at most): xlo and ln2's low part are added first, so
 * that r still rounds once (r + xlo after the reduction rounded twice: 1.98
 * ULP for the tanh form of GELU against 1.77 for silu); without one, ln2's
 * low part takes one FMA (adding xlo = 0 took a vector operation more). */
FA_INLINE32 float fa_exp_lean_core2(float x, int has_lo, float xlo, float *tt)
{
    float t = FA_FMAF(x, FA_LOG2EF, FA_SHIFTF);
    float n = t - FA_SHIFTF;
    float r = has_lo ? FA_FMAF(n, -FA_LN2HIF, x) + FA_FMAF(n, -FA_LN2LOF, xlo)
                     : FA_FMAF(n, -FA_LN2LOF, FA_FMAF(n, -FA_LN2HIF, x));
    float r2 = r * r;
    *tt = t;
    return FA_FMAF(r2, fa_expm1f_q(r, r2), r);
}

FA_INLINE32 float fa_exp_lean_core(float x, float *tt)
{
    return fa_exp_lean_core2(x, 0, 0.0f, tt);
}

/* exp(v) 2^32 for v in [-104, 0] (below, exp(-104) 2^32; nan gives nan),
 * left unrounded as y + *yl: fa_expn2 without the reduction's low part and
 * with 1 + r rounded, 15 vector operations instead of 22; ~1 ULP as y
 * alone, a few tenths with *yl. */
FA_INLINE32 float fa_expn2_pair(float v, float *yl)
{
    float vc = v < -104.0f ? -104.0f : v;
    float tt;
    float w = fa_exp_lean_core(vc, &tt);
    float p = 1.0f + w;
    float sc = fa_asfloat((fa_asuint32(tt) << 23) + ((uint32_t)(127 + 32) << 23));
    *yl = ((1.0f - p) + w) * sc;                /* Fast2Sum: |w| < 1 */
    return p * sc;
}

/* exp(v) 2^32 for v in [-104, 0] rounded, to about 1 ULP, for the backwards,
 * whose tolerance is far wider than their forwards' (the pair's low part is
 * dead code here). */
FA_INLINE32 float fa_expn2_lean(float v)
{
    float yl;
    return fa_expn2_pair(v, &yl);
}

/* 1/d within 0.2% for positive normal d: the exponent-flip estimate and one
 * Newton step.  Only for correction terms, where 0.2% is invisible. */
FA_INLINE32 float fa_rcpf_rough(float d)
{
    float r = fa_asfloat(0x7ef311c3u - fa_asuint32(d));
    return r * (2.0f - d * r);
}

/* 1 + exp(-(x + xlo)) = den / s1 for sigmoid, silu and the tanh form of
 * GELU, x clamped to *xn (the numerator silu uses); xlo, x's low part (0 for
 * sigmoid and silu, where it folds away), enters the reduced argument r, so
 * it may be as large as the exponential's fit allows past |r| = ln2/2 (a
 * few 2^-8) and must be finite.  With e = exp(-x) = 2^n (1 + w) (Cody-Waite,
 * w = expm1(r)), 1 + e = 2^n D, D = (1 + 2^-n) + w: 1 + 2^-n is split
 * exactly (c + cl), so D rounds once, and every power of two is exact, so
 * sigmoid = s1 / den and silu = xn s1 / den round once more, in a division
 * for both signs of x, with no low parts to carry.  D is within
 * 2^-24/D + 2^-26 relative: over every float32 (v4), silu is within 1.77
 * ULP and sigmoid within 1.68 (1.68 and 1.67 over every 7th under v3 and
 * baseline), against 1.53 and 1.35 for the corrected quotient this
 * replaced (a division, its remainder and the low parts of the numerator
 * and the denominator), at 0.40 instead of 0.71 and 0.52 ns/element (one
 * thread, v4).
 * - The powers of two: 2^-n = s1 / s2, n1 = min(n, 64), s2 = 2^n1, s1 =
 *   2^(n1 - n), so that x s1 and den = D s2 stay normal for n in [-43, 159]
 *   and a subnormal result is rounded once, by the division; 1 + 2^-n1
 *   stands for 1 + 2^-n (equal in float beyond n = 25).
 * - Clamps: x below -110 (-inf too) is -110, whose silu rounds to -0 and
 *   sigmoid to 0; the exponent's argument stops at x = 30, beyond which
 *   den = s1 = 1 (sigmoid 1, silu x, inf too).  NaN stays in *xn (not in
 *   den).  The upper clamp and min(n, 64) on the bit patterns: GCC's float
 *   selects became four compares and a second division. */
#define FA_SIG_LO -110.0f
#define FA_SIG_HI 30.0f
/* fa_sig_D: D (den = D s2) with the pieces: *xn and *xc the clamped x (the
 * lower clamp, and both), e^-x = 2^n (1 + *w), *s1 = 2^(n1 - n), *s2 = 2^n1.
 * has_lo a constant (fa_exp_lean_core2): 0 for sigmoid and silu. */
FA_INLINE32 float fa_sig_D(float x, int has_lo, float xlo, float *xn, float *xc, float *w, float *s1,
                           float *s2)
{
    float xl = x < FA_SIG_LO ? FA_SIG_LO : x;
    int32_t xb = (int32_t)fa_asuint32(xl), hb = (int32_t)fa_asuint32(FA_SIG_HI);
    float xh = fa_asfloat((uint32_t)(xb < hb ? xb : hb));  /* min(xl, HI): a float below
                                                              HI has smaller bits as int32 */
    float t;                                                /* FA_SHIFTF + n */
    float wv = fa_exp_lean_core2(-xh, has_lo, -xlo, &t);
    uint32_t tb = fa_asuint32(t), tk = fa_asuint32(FA_SHIFTF + 64.0f);
    uint32_t tmb = tb < tk ? tb : tk;                        /* FA_SHIFTF + n1 */
    float u = fa_asfloat((fa_asuint32(FA_SHIFTF) + 127u - tmb) << 23);   /* 2^-n1 */
    float c = 1.0f + u;
    /* c + cl = 1 + 2^-n1 exactly for n >= -24 (Fast2Sum for n >= 0; c and
     * 1 - c are integers below 2^24 otherwise); beyond (x > 16.6) D >= 2^25
     * and the 1 is below its rounding anyway */
    float cl = (1.0f - c) + u;
    *xn = xl;
    *xc = xh;
    *w = wv;
    *s1 = fa_asfloat(((tmb - tb) << 23) + (127u << 23));
    *s2 = fa_pow2f_shifted(fa_asfloat(tmb));
    return c + (wv + cl);
}

/* den = D s2 (the above) for the callers that need no more of it */
FA_INLINE32 float fa_sig_den2(float x, int has_lo, float xlo, float *xn, float *s1)
{
    float xc, w, s2;
    float D = fa_sig_D(x, has_lo, xlo, xn, &xc, &w, s1, &s2);
    return D * s2;
}

FA_INLINE32 float fa_sig_den(float x, float *xn, float *s1)
{
    return fa_sig_den2(x, 0, 0.0f, xn, s1);
}

FA_INLINE32 float fa_siluf(float x)
{
    float xn, s1;
    float den = fa_sig_den(x, &xn, &s1);
    return (xn * s1) / den;
}

FA_INLINE32 float fa_sigmoidf(float x)
{
    float xn, s1;
    float den = fa_sig_den(x, &xn, &s1);
    float y = s1 / den;
    return x != x ? x : y;
}

/* sigma(x) and sigma(-x) (x + xlo, has_lo as fa_sig_D) from fa_sig_D's
 * pieces and one division, for the derivatives: sigma(x) = s1 / den,
 * sigma(-x) = e^-x / (1 + e^-x) = (1 + w) s2 / den; a few roundings, well
 * inside the backward's tolerance.  *xc is x clamped to [-110, 30]. */
FA_INLINE32 void fa_sig_pm_den(float x, int has_lo, float xlo, float *xc, float *sp, float *sm)
{
    float xn, w, s1, s2;
    float D = fa_sig_D(x, has_lo, xlo, &xn, xc, &w, &s1, &s2);
    float q = 1.0f / (D * s2);
    *sp = s1 * q;
    *sm = ((1.0f + w) * s2) * q;
}

/* silu'(x) = sigma(x) (1 + x sigma(-x)), x clamped in the product
 * (silu'(inf) = 1, not inf * 0).  Through fa_sigmoid_pm2f, with its selects
 * per sign and per limit, it took 0.62 ns/element; 0.50 now (one thread,
 * 1e6, v4). */
FA_INLINE32 float fa_silu_gradf(float x)
{
    float xc, sp, sm;
    fa_sig_pm_den(x, 0, 0.0f, &xc, &sp, &sm);
    float g = sp * FA_FMAF(xc, sm, 1.0f);
    return x != x ? x : g;
}

/* m sigma(v + vl) in fa_sig_den's one division, m s1 / den: silu at
 * beta != 1 (m = x, v + vl = beta x exactly).  Where v < FA_SIG_LO the
 * limit, a zero of m's sign (the clamped den would turn m = inf into inf),
 * as it is where |m| is not astronomically large (|beta| >= 2^-70 or so);
 * vl only where |v| <= 110 (it is nan for an infinite v). */
FA_INLINE32 float fa_mul_sig_denf(float m, float v, float vl)
{
    vl = __builtin_fabsf(v) <= 110.0f ? vl : 0.0f;
    float vn, s1;
    float den = fa_sig_den2(v, 1, vl, &vn, &s1);
    float y = (m * s1) / den;
    return v < FA_SIG_LO ? __builtin_copysignf(0.0f, m) : y;
}

/* The argument of the tanh form of GELU, v = K1 x + K3 x^3 (K1 = 2 sqrt(2/pi),
 * K3 = 0.044715 K1), as vh + vl (a rounded v would carry |v| 2^-25 into the
 * result's relative error: 4 ULP at v = -100), in float: the double form
 * spent 0.4 ns/element on its conversions alone (v4).  v = x A, A = K1 +
 * K3 x^2 = A + Al: K1H has 12 bits, a multiple of ulp(K3H x^2) for every
 * |x| <= FA_GELU_XCF, so A = K1H + p rounds with its error recovered by
 * Fast2Sum (checked for every such float); x^2, K3H x^2 and x A are exact
 * pairs; K1L and K3L (the constants' remainders, K1L up to 2^-13 relative)
 * go into Al, so vl can be ~2^-7.5: it only ever enters an exponential's
 * reduced argument.  x is clamped to |x| <= FA_GELU_XCF on its bits (|v| <=
 * 109.8, where sigma(v) is 0 or 1 in float), NaN to +-FA_GELU_XCF: callers
 * carry NaN in another operand. */
#define FA_GELU_K1HF 0x1.988p+0f
#define FA_GELU_K1LF 0x1.14cf5p-14f
#define FA_GELU_K3HF 0x1.2444f2p-4f
#define FA_GELU_K3LF 0x1.49b16ap-29f
#define FA_GELU_XCF 0x1.5cccccp+3f               /* 10.9 */
FA_INLINE32 float fa_gelu_tanh_argf(float x, float *vl)
{
    uint32_t ub = fa_asuint32(x), ab = ub & 0x7fffffffu, cb = fa_asuint32(FA_GELU_XCF);
    float xc = fa_asfloat((ab < cb ? ab : cb) | (ub & 0x80000000u));
    float s = xc * xc, se = fa_prod_errf(xc, xc, s);
    float p = FA_GELU_K3HF * s, pe = fa_prod_errf(FA_GELU_K3HF, s, p);
    float A = FA_GELU_K1HF + p;
    float Al = p - (A - FA_GELU_K1HF);                      /* Fast2Sum */
    Al = Al + FA_FMAF(FA_GELU_K3HF, se, pe) + FA_FMAF(FA_GELU_K3LF, s, FA_GELU_K1LF);
    float vh = xc * A;
    *vl = FA_FMAF(xc, Al, fa_prod_errf(xc, A, vh));
    return vh;
}

/* gelu, tanh form: x sigma(v) = x s1 / den in fa_sig_den's one division.
 * Below -FA_GELU_XCF the numerator is -FA_GELU_XCF, whose result rounds to
 * -0 like the exact one (gelu(-inf) = -0, not -inf * 0); NaN stays in it. */
FA_INLINE32 float fa_gelu_tanhf(float x)
{
    float xn = x < -FA_GELU_XCF ? -FA_GELU_XCF : x;
    float vl, vh = fa_gelu_tanh_argf(x, &vl);
    float vn, s1;
    float den = fa_sig_den2(vh, 1, vl, &vn, &s1);
    return (xn * s1) / den;
}

/* gelu'(x), tanh form: sigma(v) + x v' sigma(v) sigma(-v), v' = K1 + 3 K3
 * x^2, with fa_sig_pm_den as fa_silu_gradf; beyond |x| = 10.75 (|v| > 105) the limits 1 and 0, on x,
 * which keeps a NaN (fa_gelu_tanh_argf makes its v finite); a bitwise
 * select, which GCC cannot turn into a merge-masked division. */
FA_INLINE32 float fa_gelu_tanh_gradf(float x)
{
    float vl, vh = fa_gelu_tanh_argf(x, &vl);
    float vc, sp, sm;
    fa_sig_pm_den(vh, 1, vl, &vc, &sp, &sm);
    float dv = FA_FMAF(3.0f * FA_GELU_K3HF, x * x, FA_GELU_K1HF + FA_GELU_K1LF);
    float g = sp * FA_FMAF(x * dv, sm, 1.0f);
    return fa_selectf(__builtin_fabsf(x) > 10.75f, x > 0.0f ? 1.0f : 0.0f, g);
}

/* sigma(v) and sigma(-v) for v = vh + vl, each within ~4 ULP (one
 * division shared; vl enters to first order): silu's derivative at beta !=
 * 1 (at beta = 1, and for log_sigmoid and the tanh form of GELU,
 * fa_sig_pm_den and fa_sigmoidf serve; softplus's backward at beta != 1
 * takes fa_mul_sig_denf, 3.06 -> 1.6 ULP).  Beyond |v| = 104 the limits
 * (1, 0) or (0, 1). */
FA_INLINE32 void fa_sigmoid_pm2f(float vh, float vl, float *sp, float *sm)
{
    int pos = vh >= 0.0f;
    float a = __builtin_fabsf(vh);
    float e = fa_expn2_lean(-a) * 0x1p-32f;
    e = FA_FMAF(e, pos ? -vl : vl, e);          /* exp(-|v|), to first order in vl */
    float rd = 1.0f / (1.0f + e);
    float se = e * rd;
    int big = a > 104.0f;
    *sp = fa_selectf(pos, rd, se);
    *sm = fa_selectf(pos, se, rd);
    *sp = big ? (pos ? 1.0f : 0.0f) : *sp;
    *sm = big ? (pos ? 0.0f : 1.0f) : *sm;
}

/* 1 - y^2, rounded once with an FMA (the tanh derivative; no cancellation
 * near |y| = 1), as (1 - y)(1 + y) without one. */
FA_INLINE32 float fa_one_minus_sqf(float y)
{
#ifdef __FMA__
    return __builtin_fmaf(-y, y, 1.0f);
#else
    return (1.0f - y) * (1.0f + y);
#endif
}

/* expm1(x) = 2 (s p + (s - 1/2)), s = 2^(n-1), p = expm1(r): every step exact
 * but the last add when x <= 0 (the range the ELU family uses); for x > 0.35
 * the error of p is scaled up by up to 2 (<= 1.5 ULP). */
FA_INLINE32 float fa_expm1f(float x)
{
    float xc = x < -18.0f ? -18.0f : x;         /* expm1(-18) == -1 in float */
    xc = xc > 89.0f ? 89.0f : xc;
    float t, rlo;
    float r = fa_reduce_ln2f(xc, 0.0f, &t, &rlo);
    float r2 = r * r;
    float p = r + FA_FMAF(r2, fa_expm1f_q(r, r2), rlo);
    float s = fa_pow2f_shifted(t - 1.0f);
    float y = 2.0f * (s * p + (s - 0.5f));
    y = t == FA_SHIFTF ? p : y;                 /* n == 0: exact for tiny x */
    y = x == 0.0f ? x : y;                      /* expm1(-0) = -0 */
    return x != x ? x : y;
}

/* (num + numlo) / (d + dlo) where numlo, dlo are rounding errors and d > 0:
 * one division, then its remainder (exact with an FMA) and the input errors
 * divided by d.  0.5 ULP and a little with an FMA; without one the remainder
 * is not exact and the bound is ~1.1 ULP.  *qlo receives what the float
 * result misses. */
FA_INLINE32 float fa_divf_dd2(float num, float numlo, float d, float dlo, float *qlo)
{
    float q = num / d;
    float rem = FA_FMAF(-q, d, num) + (numlo - q * dlo);
    *qlo = rem * fa_rcpf_rough(d);
    return q;
}

/* log1p(t + tlo) for t in [0, 1], tlo a rounding error: 2 atanh(s) with
 * s = t / (2 + t) <= 1/3 carried as a float pair, atanh(s) = s + s z P(z),
 * z = s^2 <= 1/9, P a degree-4 fit (relative error 3e-8). */
FA_INLINE32 float fa_log1pf01_parts(float t, float tlo, float *w)
{
    /* log1p(t + tlo) = 2 (s + *w), unrounded (s the larger part; softplus
     * at beta != 1 carries the pair on), for t >= 2^-30; below, that of
     * 2^-30, and the callers take t + tlo (log1p(t) = t (1 - t/2 + ...):
     * off by 2^-31 relative at most).  t is raised so that no step here is
     * subnormal: z^2 and q dlo were from t < 2^-31 and 2^-63 on, and each
     * subnormal result costs AMD cores a microcode assist (softplus float32
     * over the benchmark's inputs, N(0, 10): 0.78 ns/element, against 0.58
     * over inputs a quarter as wide).  A nan t stays nan.  As integers
     * (t >= 0, or nan): a float select let GCC specialize the steps after
     * it for the constant, in blends (0.48 -> 0.55 ns/element).  Not in the
     * baseline (SSE2) build, which has no unsigned max: there it cost 10%
     * over narrow and wide inputs alike (softplus 3.27 -> 3.61 ns/element),
     * and the wide ones stayed 1.2x slower. */
#ifdef __FMA__
    uint32_t ut = fa_asuint32(t);
    t = fa_asfloat(ut < 0x30800000u ? 0x30800000u : ut);      /* 2^-30 */
#endif
    float d = 2.0f + t;
    float dlo = ((2.0f - d) + t) + tlo;         /* Fast2Sum: 2 >= t */
    float slo;
    float s = fa_divf_dd2(t, tlo, d, dlo, &slo);
    float z = s * s;
    float P = FA_FMAF(z * z, FA_FMAF(FA_FMAF(0x1.dbd2cap-4f, z, 0x1.bc8242p-4f), z, 0x1.24c986p-3f),
                      FA_FMAF(0x1.9998d2p-3f, z, 0x1.555556p-2f));
    *w = FA_FMAF(s * z, P, slo);
    return s;
}

FA_INLINE32 float fa_log1pf01_dd(float t, float tlo)
{
    float w, s = fa_log1pf01_parts(t, tlo, &w);
    float y = 2.0f * s + 2.0f * w;
    return t < 0x1p-30f ? t + tlo : y;
}

/* exp(x) for x in [0, 18.5] as 1 + (r + r^2 q(r)), ~1 ULP, no special
 * values but nan in, nan out (tanh's large-argument branch, whose 2/(1 + E)
 * halves E's error: carrying 1 + r's rounding (Fast2Sum, 0.55 ULP) made
 * tanh no more accurate, 1.50 against 1.46 ULP over every float in [0.5,
 * 9.2], and 4% slower). */
FA_INLINE32 float fa_exp_tanh_rangef(float x)
{
    float tt;
    float w = fa_exp_lean_core(x, &tt);
    return (1.0f + w) * fa_pow2f_shifted(tt);
}

/* tanh(x): x + x^3 P(x^2) below 0.55 (P a degree-4 fit, relative error
 * 6e-8); above, 1 - 2 / (1 + E) with E = exp(2|x|) >= 3, sign restored: the
 * identity tanh = 2 sigma(2x) - 1 without its cancellation.  2/(1+E) <= 1/2
 * scales its own rounding errors by a half in the result, so a plain exp
 * is enough there: 1.5 ULP (v3 and baseline).  |x| is clamped at 9.1, past
 * which tanh rounds to 1. */
FA_INLINE32 float fa_tanhf(float x)
{
    float a = __builtin_fabsf(x);
    float z = a * a;
    float P = FA_FMAF(z * z, FA_FMAF(FA_FMAF(-0x1.b137c0p-8f, z, 0x1.5d2270p-6f), z, -0x1.b9a04ep-5f),
                      FA_FMAF(0x1.110feap-3f, z, -0x1.555554p-2f));
    float small = FA_FMAF(a * z, P, a);
    /* a > 9.1 ? 9.1 : a keeps a nan, which then runs through big (the
     * select below takes big for it) into the result: no select for nan */
    float big = 1.0f - 2.0f / (1.0f + fa_exp_tanh_rangef(2.0f * (a > 9.1f ? 9.1f : a)));
    return __builtin_copysignf(a < 0.55f ? small : big, x);
}

/* softsign(x) = x / (1 + |x|): with an FMA in float, the sum's error (Fast2Sum)
 * and the division's remainder (exact) corrected in one final rounding (0.501
 * ULP over every 3rd float32; 0.86 ns/element against 1.2-1.4 for the double
 * form on this machine); without one in double, rounded once.  Beyond |x| =
 * 2^25 the result rounds to +-1 (inf too). */
FA_INLINE32 float fa_softsignf(float x)
{
    float a = __builtin_fabsf(x);
#ifdef __FMA__
    float d = 1.0f + a;
    float hi = a > 1.0f ? a : 1.0f, lo = a > 1.0f ? 1.0f : a;
    float dl = (hi - d) + lo;
    float q = x / d;
    float t = __builtin_fmaf(-q, dl, __builtin_fmaf(-q, d, x));
    float y = __builtin_copysignf(__builtin_fmaf(t, fa_rcpf_rough(d), q), x);   /* -0 stays -0 */
#else
    float y = (float)((double)x / (1.0 + (double)a));
#endif
    return a > 0x1p25f ? __builtin_copysignf(1.0f, x) : y;
}

/* softsign'(x) dy = dy / (1 + |x|)^2 in double (the square and the quotient
 * each rounded in double, far below float's ulp), then rounded to float.  The
 * float form this replaced (1 + |x| as a pair, its square, a division and a
 * Newton step) squared past float's range beyond |x| = 2^64, returning 0
 * where the result is normal (dy = 1e30, x = 1e20: 1e-10), and was no
 * faster: 0.143-0.151 against 0.142 ns/element (v4), 0.30 against 0.27
 * (v3), one thread, 2e4 elements in cache. */
FA_INLINE32 float fa_softsign_gradf(float dy, float x)
{
    double da = 1.0 + (double)__builtin_fabsf(x);
    return (float)((double)dy / (da * da));
}

/* The largest float <= v and the smallest float >= v (v not NaN): for
 * every float x, x > v <=> x > fa_float_down(v) and x < v <=> x < fa_float_up(v),
 * so a float kernel can compare with a double parameter exactly. */
FA_INLINE32 float fa_float_down(double v)
{
    float f = (float)v;
    if ((double)f > v) {
        uint32_t u = fa_asuint32(f);
        f = f > 0.0f ? fa_asfloat(u - 1u) : (f < 0.0f ? fa_asfloat(u + 1u) : -0x1p-149f);
    }
    return f;
}

FA_INLINE32 float fa_float_up(double v) { return -fa_float_down(-v); }

/* c = *hi + *lo for a double parameter c, so that c x can be formed in float
 * without c's rounding (fa_mulf_split).  hi is c rounded toward zero, so lo
 * has c's sign or is 0 (c a float). */
FA_INLINE32 void fa_splitf(double c, float *hi, float *lo)
{
    float h = (float)c;
    /* one ulp nearer zero where the rounding went away from it; a select, not
     * a branch: a branch here kept elu's loop from vectorizing */
    uint32_t down = (uint32_t)(__builtin_fabs((double)h) > __builtin_fabs(c));
    h = fa_asfloat(fa_asuint32(h) - down);
    *hi = h;
    *lo = (float)(c - (double)h);
}

/* fa_splitf's pair for a c that changes from element to element (rrelu's
 * slopes), c in float's normal range: hi is c's leading 24 bits (its low 29
 * bits cleared: c rounded toward zero), lo the rest rounded.  fa_splitf's
 * comparison of doubles steering a float (a mask narrowed from 64 to 32 bits)
 * kept such loops scalar under SSE2; here everything but the last two
 * conversions is in double. */
FA_INLINE32 void fa_splitf_trunc(double c, float *hi, float *lo)
{
    double h = fa_asdouble(fa_asuint64(c) & ~(uint64_t)0x1fffffff);
    *hi = (float)h;                     /* exact */
    *lo = (float)(c - h);
}

/* (hi + lo) x rounded once, for hi and lo from fa_splitf: with an FMA in
 * float (lo x within 2^-48 of the product, so the correctly rounded product
 * but within 2^-48 of a tie; exactly it where lo = 0), without one in double
 * (hi + lo and the product exact to 2^-48, then one rounding to float).  At
 * x = +-inf, hi x and lo x are infinities of one sign, or lo x is left out
 * (lo = 0; a select on a loop invariant), so the result is not nan; a zero
 * product keeps its sign (hi x and lo x are zeros of one sign). */
FA_INLINE32 float fa_mulf_split(float x, float hi, float lo)
{
#ifdef __FMA__
    return FA_FMAF(hi, x, lo != 0.0f ? lo * x : -0.0f);     /* -0: hi x + -0 is hi x, -0 too */
#else
    /* hi x + lo x: both exact in double, so this is (hi + lo) x rounded to
     * double, as before; -0 for lo = 0 as above, so that a zero has the
     * product's sign (alpha = -0.0: hi = -0, lo = +0, and (hi + lo) x was
     * +0 x) */
    return (float)((double)hi * (double)x + (lo != 0.0f ? (double)lo * (double)x : -0.0));
#endif
}

/* (hi + lo)(xh + xl) rounded once, for hi and lo from fa_splitf and a
 * small xl (|xl| a few ulp of xh at most): fa_mulf_split of an unrounded
 * pair.  The caller handles xh = +-inf. */
FA_INLINE32 float fa_mulf_split_pair(float xh, float xl, float hi, float lo)
{
#ifdef __FMA__
    return FA_FMAF(hi, xh, FA_FMAF(lo, xh, hi * xl));
#else
    return (float)(((double)hi + (double)lo) * ((double)xh + (double)xl));
#endif
}

/* (x + 3) / 6 rounded once, for |x| <= 3 (hard_sigmoid's ramp): x + 3 as an
 * exact pair (Fast2Sum, 3 >= |x|), times 1/6 split in two floats; with an FMA
 * in float (the correctly rounded quotient but within 2^-47 of a tie; 10
 * vector operations with the caller's selects instead of the double form's
 * 16), without one in double. */
FA_INLINE32 float fa_hard_sigmoid_rampf(float x)
{
#ifdef __FMA__
    const float h6 = 0x1.555556p-3f, l6 = -0x1.555556p-28f;   /* 1/6 = h6 + l6 + 1e-16 */
    float s = x + 3.0f;
    float e = (3.0f - s) + x;
    return FA_FMAF(s, h6, FA_FMAF(s, l6, e * h6));
#else
    return (float)(((double)x + 3.0) * (1.0 / 6.0));
#endif
}

/* x (x + 3) / 6 for |x| < 3 (hard_swish's middle piece), rounded once: x
 * times A + C, where A = (x + 3) h6 rounded and C its error plus the low
 * parts of x + 3 (Fast2Sum, 3 >= |x|) and of 1/6 = h6 + l6: 0.5 ULP over
 * every 3rd float32 pattern of (-3.5, 3.5) (C harness); 14 vector operations
 * with the caller's selects instead of the double form's 16 (0.65 -> 0.56
 * ns/element).  h6 is rounded down so that l6 > 0 and C >= 0 at x = +-0:
 * x C then has x's sign, so hard_swish(-0) = -0 (the form x (x + 3) split
 * as a product and its error gives +0 there).  Without an FMA in double
 * (0.5 ULP). */
FA_INLINE32 float fa_hard_swish_midf(float x)
{
#ifdef __FMA__
    const float h6 = 0x1.555554p-3f, l6 = 0x1.555556p-27f;   /* 1/6 = h6 + l6 - 3e-16 */
    float s = x + 3.0f;
    float e = (3.0f - s) + x;
    float a = s * h6;
    float c = FA_FMAF(s, l6, FA_FMAF(e, h6, FA_FMAF(s, h6, -a)));
    return FA_FMAF(x, a, x * c);
#else
    return (float)((double)x * ((double)x + 3.0) * (1.0 / 6.0));
#endif
}

/* (hi + lo) x as a float pair, for arguments that feed exp. */
FA_INLINE32 void fa_mulf_split2(float x, float hi, float lo, float *vh, float *vl)
{
    float h, l;
    fa_two_prodf(hi, x, &h, &l);
    *vh = h;
    *vl = l + lo * x;
}

#endif
