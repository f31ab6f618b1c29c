/*
 * fa_rows.h -- helpers of the row kernels (softmax, log_softmax; the loops
 * are in fastact/_rows.pxi).
 *
 * Notes
 * -----
 * - The exps are static inline and branch-free (selects only, no libm), like
 *   fa_math.h, so that the loops calling them vectorize; the build's
 *   -ffp-contract=off makes a loop's vector body and scalar tail round alike.
 * - float32 forward rows are computed in double: x - max is then exact, and
 *   an exp good to 2^-28 (fa_rows_exp32: a degree-6 polynomial instead of
 *   fa_exp's 11) keeps every float32 result within 0.5 ULP and a little,
 *   with or without an FMA.  float64 rows carry x - max as a double-double
 *   into fa_rows_exp64 (fa_exp_poly, degree 11).  (A float exp would need x - max's
 *   rounding error carried, a two-sum, and the exps summed in double: about
 *   as many vector operations per element as the double exp's two halves.)
 *   The float32 backwards compute in float (fa_rows_lsm_bwd_f32).
 * - Both exps take d <= 709 (x - max <= 0 in the forward, a saved
 *   log_softmax output in the backward) and flush to 0 below -709
 *   (exp(-709) is below the smallest normal double, and a row's sum holds a
 *   1): one max for the range, a single 2^n scaling.  They do not propagate
 *   nan: the callers find nan rows with fa_rows_max_* first.
 * - The row maximum is a reduction GCC does not vectorize on its own (a
 *   floating-point max is not associative for it without -ffinite-math-only):
 *   fa_rows_max_* take it in 16 lanes of their own (the maximum does not
 *   depend on the order).  The row sums fix their lanes (16, in the
 *   order of the entries), so their results depend on the row alone; the
 *   forward's exp sums are fa_rows_expsum_*, float64's compensated sums of
 *   dy fa_rows_csum_f64 (GCC's generic vector types: the scalar fallback
 *   gives the same bits).
 * - A row's last n % 16 entries: by a vector over its last 16 where that
 *   gives the same bits (exps computed, maxima), not a scalar loop.
 * - Forward rows up to FA_SHORT_M long (float32: FA_SHORT_M_F32), and
 *   float32 log_softmax's backward rows shorter than 16: a block of rows at
 *   a time (fa_short_rows_*, fa_short_lsm_bwd_f32, at the end).
 */
#ifndef FA_ROWS_H
#define FA_ROWS_H

#include <stddef.h>
#include <string.h>
#include "fa_math.h"
#include "fa_math32.h"

/* FA_SHIFT + 1023: t = d log2(e) + FA_SHIFT_BIAS holds n + 1023 in its low
 * bits, so t << 52 is 2^n itself (for -1023 <= n <= 1023; -1023 gives +0). */
#define FA_SHIFT_BIAS (0x1.8p52 + 1023.0)
#define FA_LN2 0x1.62e42fefa39efp-1

/* The sum of 16 lanes by a fixed tree (lane k + lane k + 8, then + 4, + 2,
 * + 1): a chain of 4 additions where adding them in order took 16, which
 * was most of a short row's fixed cost (a float32 softmax row of 32 spent
 * about 50 cycles there); the order is still fixed, so a row's sums depend
 * on the row alone. */
FA_INLINE double fa_lanes16_total(const double *acc)
{
    double b[8], c[4];
    int k;
    for (k = 0; k < 8; k++)
        b[k] = acc[k] + acc[k + 8];
    for (k = 0; k < 4; k++)
        c[k] = b[k] + b[k + 4];
    return (c[0] + c[2]) + (c[1] + c[3]);
}

/* exp(d) for float32 rows (d = x - max, exact in double, or a saved
 * output), d <= 709: within 2^-28 relative above -708 (1/20 of a float32
 * ULP; the degree-7 fit's 2^-34 cost an FMA more in the forward's sum
 * loop, 4-8% of softmax), 0 below -709.
 * d = n ln2 + r, |r| <= ln2/2 (ln2 rounded to double is enough at this
 * accuracy), exp(r) a degree-6 minimax fit of relative error (3.1e-9 =
 * 2^-28.3 against mpmath; Lawson iteration on Chebyshev nodes, leading
 * coefficients 1 and 1, so exp(0) is exactly 1), by Horner's rule. */
FA_INLINE double fa_rows_exp32(double d)
{
    double dc = d > -709.0 ? d : -709.0;
    double t = FA_FMA(dc, FA_LOG2E, FA_SHIFT_BIAS);
    double n = t - FA_SHIFT_BIAS;
    double r = FA_FMA(n, -FA_LN2, dc);
    double p = 0x1.6a23cecc38046p-10;
    p = FA_FMA(p, r, 0x1.123a1f5093b1ep-7);
    p = FA_FMA(p, r, 0x1.5558f2f6fe226p-5);
    p = FA_FMA(p, r, 0x1.5554910417d41p-3);
    p = FA_FMA(p, r, 0x1.fffffb97a4a9fp-2);
    p = FA_FMA(p, r, 1.0);
    p = FA_FMA(p, r, 1.0);
    return p * fa_asdouble(fa_asuint64(t) << 52);
}

/* The sum of exp(x[j] - mx) over a float32 row of n (x[j] <= mx, not
 * nan), by fa_rows_exp32 in double.  mode FA_EXPSUM_STORE: the exps also
 * go to buf[0:n] (softmax keeps them for its division); FA_EXPSUM_BELOW:
 * the sum less 1, the exps of the entries below mx added apart from the 1s
 * of the entries equal to mx (counted: small integers, exact), for
 * log_softmax's rows whose sum is within a few ulp of 1, where the plain
 * double sum holds too few of its digits.  16 lanes, each adding the exps
 * of the entries j = k mod 16 in order, the lanes then added by fa_lanes16_total and
 * the last n % 16 exps after them: the order is fixed by n alone.
 * (Written here with `omp simd` over the lanes: the same loops in Cython
 * went to 32-byte vectors with their sums kept in memory.) */
enum { FA_EXPSUM_PLAIN, FA_EXPSUM_STORE, FA_EXPSUM_BELOW };

FA_INLINE double fa_rows_expsum_f32_(const float *x, ptrdiff_t n, float mx, double *buf, int mode)
{
    double acc[16] = {0}, cnt[16] = {0};
    double s = 0.0, ties = -1.0, dmx = (double)mx;
    ptrdiff_t j, full = n - n % 16;
    int k;
#define FA_EXPSUM_ADD(j, d, e, sum, count)                                    \
    do {                                                                      \
        double e_ = (e);                                                      \
        if (mode == FA_EXPSUM_STORE)                                          \
            buf[j] = e_;                                                      \
        if (mode == FA_EXPSUM_BELOW) {                                        \
            e_ = (d) < 0.0 ? e_ : 0.0;                                        \
            count += (d) == 0.0 ? 1.0 : 0.0;                                  \
        }                                                                     \
        sum += e_;                                                            \
    } while (0)
    for (j = 0; j < full; j += 16)
        _Pragma("omp simd")
        for (k = 0; k < 16; k++) {
            double d = (double)x[j + k] - dmx;
            FA_EXPSUM_ADD(j + k, d, fa_rows_exp32(d), acc[k], cnt[k]);
        }
    s = fa_lanes16_total(acc);
    ties += fa_lanes16_total(cnt);
    if (j < n && n >= 16) {
        /* the last n % 16: the exps of the row's last 16 entries in one
         * vector loop (its loads in bounds), those past `full` added in
         * order; the same bits as one exp at a time, which took most of a
         * row's fixed cost (one thread, Zen 5: a float32 softmax row of 20
         * cost 61 ns, one of 16 22 ns) */
        double dt[16], et[16];
        _Pragma("omp simd")
        for (k = 0; k < 16; k++) {
            dt[k] = (double)x[n - 16 + k] - dmx;
            et[k] = fa_rows_exp32(dt[k]);
        }
        for (k = (int)(16 - (n - j)); k < 16; k++)
            FA_EXPSUM_ADD(n - 16 + k, dt[k], et[k], s, ties);
    } else {
        for (; j < n; j++) {
            double d = (double)x[j] - dmx;
            FA_EXPSUM_ADD(j, d, fa_rows_exp32(d), s, ties);
        }
    }
#undef FA_EXPSUM_ADD
    return mode == FA_EXPSUM_BELOW ? s + ties : s;
}

static inline double fa_rows_expsum_f32(const float *x, ptrdiff_t n, float mx, double *buf)
{
    return buf != NULL ? fa_rows_expsum_f32_(x, n, mx, buf, FA_EXPSUM_STORE)
                       : fa_rows_expsum_f32_(x, n, mx, NULL, FA_EXPSUM_PLAIN);
}

static inline double fa_rows_expsum_below_f32(const float *x, ptrdiff_t n, float mx)
{
    return fa_rows_expsum_f32_(x, n, mx, NULL, FA_EXPSUM_BELOW);
}

/* exp(dh + dl) for float64 rows (dh + dl = x - max as a double-double, or
 * a saved output and 0), dh <= 709:
 * the reduction of fa_exp_dd (Cody-Waite, lo added to r) and the exps'
 * polynomial (fa_exp_poly), one power of two, 0 below -709. */
FA_INLINE double fa_rows_exp64(double dh, double dl)
{
    int in = dh > -709.0;
    double dc = in ? dh : -709.0;
    dl = in ? dl : 0.0;                 /* (nan where dh is -inf) */
    double t = FA_FMA(dc, FA_LOG2E, FA_SHIFT_BIAS);
    double n = t - FA_SHIFT_BIAS;
    double r = FA_FMA(n, -FA_LN2HI, dc) + FA_FMA(n, -FA_LN2LO, dl);
    double p = 1.0 + fa_exp_poly(r);
    return p * fa_asdouble(fa_asuint64(t) << 52);
}

/* L[k] = log1p(s[k]) for k < FA_ROWS_GROUP (s >= 0, inf or nan): the
 * log1p of log_softmax's row sums, a group of rows at once (libm's scalar
 * log1p took a third of the time of a float32 row of 32). */
#define FA_ROWS_GROUP 8
static inline void fa_rows_log1p_group(const double *s, double *L)
{
    int k;
    _Pragma("omp simd")
    for (k = 0; k < FA_ROWS_GROUP; k++)
        L[k] = fa_log1p_pos(s[k]);
}

/* exp(x - mx) for a float64 row's entry x <= mx (not nan): x - mx as a
 * double-double into fa_rows_exp64. */
FA_INLINE double fa_rows_exp_diff64(double x, double mx)
{
    double dh, dl;
    fa_two_sum(x, -mx, &dh, &dl);
    return fa_rows_exp64(dh, dl);
}

/* hi + lo = the sum of exp(x[j] - mx) over a float64 row of n (x[j] <=
 * mx, not nan) by fa_rows_exp_diff64, in 16 lanes (lane k: the entries j =
 * k mod 16, in order), the lanes then in order, their errors apart, and the
 * last n % 16 exps after them; buf not NULL: the exps also go to buf[0:n].
 * The order is fixed by n alone.  Each lane starts at 1, so that it stays
 * >= 1 >= every exp and Fast2Sum (3 operations) gives each addition's
 * error exactly, where two-sum took 6; the 16 ones are taken off again
 * (exactly) before the lanes are added. */
FA_INLINE void fa_rows_expsum_f64_(const double *x, ptrdiff_t n, double mx, double *buf, int store,
                                   double *hi, double *lo)
{
    double acc[16], cmp[16] = {0};
    double s = -16.0, c = 0.0, t, err;
    ptrdiff_t j, full = n - n % 16;
    int k;
    for (k = 0; k < 16; k++)
        acc[k] = 1.0;
    for (j = 0; j < full; j += 16)
        _Pragma("omp simd")
        for (k = 0; k < 16; k++) {
            double e = fa_rows_exp_diff64(x[j + k], mx);
            double st = acc[k] + e;
            if (store)
                buf[j + k] = e;
            cmp[k] += e - (st - acc[k]);        /* exact: acc[k] >= e */
            acc[k] = st;
        }
    for (k = 0; k < 16; k++) {
        fa_two_sum(s, acc[k], &t, &err);
        s = t;
        c += err + cmp[k];
    }
    /* the last n % 16 after them: as float32's tail (fa_rows_expsum_f32_),
     * the exps of the row's last 16 entries in one vector loop */
    if (j < n && n >= 16) {
        double et[16];
        _Pragma("omp simd")
        for (k = 0; k < 16; k++)
            et[k] = fa_rows_exp_diff64(x[n - 16 + k], mx);
        for (k = (int)(16 - (n - j)); k < 16; k++) {
            if (store)
                buf[n - 16 + k] = et[k];
            fa_two_sum(s, et[k], &t, &err);
            s = t;
            c += err;
        }
    } else {
        for (; j < n; j++) {
            double e = fa_rows_exp_diff64(x[j], mx);
            if (store)
                buf[j] = e;
            fa_two_sum(s, e, &t, &err);
            s = t;
            c += err;
        }
    }
    fa_two_sum(s, c, hi, lo);
}

static inline void fa_rows_expsum_f64(const double *x, ptrdiff_t n, double mx, double *buf, double *hi, double *lo)
{
    if (buf != NULL)
        fa_rows_expsum_f64_(x, n, mx, buf, 1, hi, lo);
    else
        fa_rows_expsum_f64_(x, n, mx, NULL, 0, hi, lo);
}

/* num / (dh + dl) for dh > 0, |dl| <= ulp(dh) and rcp = 1 / dh rounded:
 * with an FMA, the quotient by a multiplication and its remainder put back
 * (the division's result and a little, without its latency); otherwise a
 * division (dl ignored).  (A double-double reciprocal, num rh + num rl in
 * one FMA, saved three operations but misrounded results near 2^-1022:
 * num rl is subnormal there.) */
FA_INLINE double fa_rows_div(double num, double dh, double dl, double rcp)
{
#ifdef __FMA__
    double q = num * rcp;
    double rem = __builtin_fma(-q, dh, num) - q * dl;
    return __builtin_fma(rem, rcp, q);
#else
    (void)dl;
    (void)rcp;
    return num / dh;
#endif
}

/* dy - exp(y) (sh + sl) for float32 log_softmax's backward, y <= 0 and not
 * nan (a log_softmax output): exp(y) in float (fa_expn2_lean, ~1 ULP; 0
 * below -104), the product and the difference rounded once with an FMA
 * where the target has one.  Its error is ~1 ULP of exp(y) s, the size of
 * the terms; 16 lanes instead of the double exp's 8. */
FA_INLINE32 float fa_rows_lsm_bwd_f32(float dy, float y, float sh, float sl)
{
    float e = fa_expn2_lean(y) * 0x1p-32f;
    return FA_FMAF(-e, sh, dy) - e * sl;
}

/* y (dy - sh - sl) for float32 softmax's backward, s = sh + sl as a float
 * pair: dy - sh is exact where it cancels. */
FA_INLINE32 float fa_rows_sm_bwd_f32(float dy, float y, float sh, float sl)
{
    return y * ((dy - sh) - sl);
}

/* dx[j] = f(dy[j], y[j], sh, sl) over a float32 row of m, f
 * fa_rows_lsm_bwd_f32 (lsm; y a log_softmax output: <= 0, no nan) or
 * fa_rows_sm_bwd_f32, in 16-lane vectors; the last m % 16 from a vector over
 * the row's last 16 entries, computed before the main loop (dx may be dy or
 * y) and stored whole after it (its lanes over entries the main loop wrote
 * hold the same values), where a scalar tail took a sixth of a row of 100
 * (log_softmax) and half of a row of 47 (softmax).  The same bits either
 * way.  fa_rows_lsm_bwd_row_f32, fa_rows_sm_bwd_row_f32 below. */
FA_INLINE void fa_rows_bwd_row_f32_(const float *dy, const float *y, float *dx, ptrdiff_t m, float sh, float sl,
                                    int lsm)
{
    float tail[16];
    ptrdiff_t j, full = m - m % 16;
    int k;
#define FA_BWD_F(a, b) (lsm ? fa_rows_lsm_bwd_f32(a, b, sh, sl) : fa_rows_sm_bwd_f32(a, b, sh, sl))
    if (m < 16) {
        for (j = 0; j < m; j++)
            dx[j] = FA_BWD_F(dy[j], y[j]);
        return;
    }
    if (full < m)
        _Pragma("omp simd")
        for (k = 0; k < 16; k++)
            tail[k] = FA_BWD_F(dy[m - 16 + k], y[m - 16 + k]);
    for (j = 0; j < full; j += 16)
        _Pragma("omp simd")
        for (k = 0; k < 16; k++)
            dx[j + k] = FA_BWD_F(dy[j + k], y[j + k]);
#undef FA_BWD_F
    if (full < m)                       /* (a 64-byte copy: GCC's, no loop) */
        memcpy(dx + m - 16, tail, sizeof tail);
}

static inline void fa_rows_lsm_bwd_row_f32(const float *dy, const float *y, float *dx, ptrdiff_t m, float sh,
                                           float sl)
{
    fa_rows_bwd_row_f32_(dy, y, dx, m, sh, sl, 1);
}

static inline void fa_rows_sm_bwd_row_f32(const float *dy, const float *y, float *dx, ptrdiff_t m, float sh,
                                          float sl)
{
    fa_rows_bwd_row_f32_(dy, y, dx, m, sh, sl, 0);
}

/* The kind of a saved y row of log_softmax's backward from its maximum top
 * and nan flag: 2, no nan and none above 0 (a log_softmax output: the float
 * exp of fa_rows_lsm_bwd_f32); 1, none above 709 (the double exp without
 * its clamp); 0, any y.  (_rows.pxi's _row_dot and _saved_kind, and
 * fa_short_lsm_bwd_f32.) */
FA_INLINE int fa_rows_kind(double top, int has_nan)
{
    if (has_nan)
        return 0;
    return top <= 0.0 ? 2 : (top <= 709.0 ? 1 : 0);
}

/* ------------------------------------------------------------- row max */

/* one step of every row maximum here: top = the larger of top and v, a nan
 * v ignored but flagged in seen (v is read more than once: no side effects) */
#define FA_MAX_STEP(top, seen, v)                                             \
    do {                                                                      \
        (top) = (v) > (top) ? (v) : (top);                                    \
        (seen) |= (v) != (v);                                                 \
    } while (0)

/* FA_LANES16_MAX(name, T): T name(T *tp, int *seen, int *has_nan) returns
 * the largest of the 16 lanes tp (nan ignored) and sets *has_nan when a
 * lane of seen is set, halving them 16 -> 8 -> 4 -> 2 -> 1 (in fixed
 * loops GCC vectorizes, as fa_lanes16_total). */
#define FA_LANES16_MAX(name, T)                                               \
static inline T name(T *tp, int *seen, int *has_nan)                          \
{                                                                             \
    T b[8], c[4];                                                             \
    int sb[8], sc[4], k;                                                      \
    for (k = 0; k < 8; k++) {                                                 \
        b[k] = tp[k + 8] > tp[k] ? tp[k + 8] : tp[k];                         \
        sb[k] = seen[k] | seen[k + 8];                                        \
    }                                                                         \
    for (k = 0; k < 4; k++) {                                                 \
        c[k] = b[k + 4] > b[k] ? b[k + 4] : b[k];                             \
        sc[k] = sb[k] | sb[k + 4];                                            \
    }                                                                         \
    c[0] = c[2] > c[0] ? c[2] : c[0];                                         \
    c[1] = c[3] > c[1] ? c[3] : c[1];                                         \
    *has_nan = sc[0] | sc[1] | sc[2] | sc[3];                                 \
    return c[1] > c[0] ? c[1] : c[0];                                         \
}

FA_LANES16_MAX(fa_lanes16_max_f32, float)
FA_LANES16_MAX(fa_lanes16_max_f64, double)

/* FA_ROWS_MAX(name, T, lanes_max): T name(const T *x, ptrdiff_t m, int
 * *has_nan) returns the largest entry of x[0:m], nan ignored (-inf for a row
 * of -inf and nan), and sets *has_nan when the row holds a nan.  In 16
 * lanes (lane k: the entries j = k mod 16), the row's last m % 16 entries
 * by a vector over its last 16 (the maximum does not mind entries seen
 * twice), the lanes then halved: GCC's own reduction (`omp simd
 * reduction(max)`) kept its partial maxima on the stack and ended in a
 * scalar epilogue, some 15 ns of a float32 row of 97.  The maximum of the
 * entries other than nan does not depend on the order, and a row with a nan
 * is flagged apart.  Rows under 16 in one scalar-sized loop. */
#define FA_ROWS_MAX(name, T, lanes_max)                                       \
static inline T name(const T *x, ptrdiff_t m, int *has_nan)                   \
{                                                                             \
    T tp[16];                                                                 \
    int seen[16] = {0};                                                       \
    ptrdiff_t j;                                                              \
    int k;                                                                    \
    for (k = 0; k < 16; k++)                                                  \
        tp[k] = -INFINITY;                                                    \
    if (m < 16) {                                                             \
        for (j = 0; j < m; j++)                                               \
            FA_MAX_STEP(tp[0], seen[0], x[j]);                                \
        *has_nan = seen[0];                                                   \
        return tp[0];                                                         \
    }                                                                         \
    for (j = 0; j + 16 <= m; j += 16)                                         \
        _Pragma("omp simd")                                                   \
        for (k = 0; k < 16; k++)                                              \
            FA_MAX_STEP(tp[k], seen[k], x[j + k]);                            \
    if (j < m)                                                                \
        _Pragma("omp simd")                                                   \
        for (k = 0; k < 16; k++)                                              \
            FA_MAX_STEP(tp[k], seen[k], x[m - 16 + k]);                       \
    return lanes_max(tp, seen, has_nan);                                      \
}

FA_ROWS_MAX(fa_rows_max_f32, float, fa_lanes16_max_f32)
FA_ROWS_MAX(fa_rows_max_f64, double, fa_lanes16_max_f64)

/* ------------------------------------------------------- float64 sums */

/* The compensated partial sums of a float64 row: for the first
 * m - m % 8 entries, lane k (k < 8) adds the terms of the entries j = k
 * mod 8 in order with Knuth's two-sum, acc[k] the sum and cmp[k] the
 * rounding errors; the caller adds the rest of the row (log_softmax's
 * backward: the row's sum of dy; softmax's products go to fa_rows_dot_f64).
 * Written with GCC's generic vector types (32 bytes: SSE2 splits them,
 * AVX2 takes them whole; AVX-512 takes the 8 lanes as one 64-byte vector,
 * the same additions in half the instructions: log_softmax's float64
 * backward spent a third of its time here): GCC does not vectorize this
 * reduction (a two-sum chain) by itself; the scalar fallback gives the
 * same bits. */
#if defined(__GNUC__)
/* the 8 lanes as FA_CSUM_NV vectors of 8 / FA_CSUM_NV doubles each */
#if defined(__AVX512F__)
#define FA_CSUM_NV 1
#else
#define FA_CSUM_NV 2
#endif
typedef double fa_csum_vec __attribute__((vector_size(64 / FA_CSUM_NV)));

static inline void fa_rows_csum_f64(const double *a, ptrdiff_t m, double *acc, double *cmp)
{
    fa_csum_vec s[FA_CSUM_NV] = {{0}}, c[FA_CSUM_NV] = {{0}}, v, t, b;
    ptrdiff_t j, full = m - m % 8;
    int k;
    for (j = 0; j < full; j += 8)
        for (k = 0; k < FA_CSUM_NV; k++) {
            memcpy(&v, a + j + k * (8 / FA_CSUM_NV), sizeof v);
            t = s[k] + v;
            b = t - s[k];
            c[k] += (s[k] - (t - b)) + (v - b);
            s[k] = t;
        }
    memcpy(acc, s, sizeof s);
    memcpy(cmp, c, sizeof c);
}
#else
static inline void fa_rows_csum_f64(const double *a, ptrdiff_t m, double *acc, double *cmp)
{
    ptrdiff_t j, full = m - m % 8;
    int k;
    for (k = 0; k < 8; k++)
        acc[k] = cmp[k] = 0.0;
    for (j = 0; j < full; j++) {
        double t, e;
        k = (int)(j % 8);
        fa_two_sum(acc[k], a[j], &t, &e);
        acc[k] = t;
        cmp[k] += e;
    }
}
#endif

/* sum(a b) (b not NULL: softmax's backward) or sum(a) (log_softmax's) of a
 * float32 row (t not NULL, b NULL: also *top, *has_nan of t, see
 * fa_rows_sum_max_f32): in float, with an FMA per product where the target has one,
 * in 16 lanes, each lane restarted every 8 terms (a block of 128) and the
 * blocks added in double; the last m % 16 terms in double.  Each lane then
 * rounds at most 8 times before its block reaches double, so the sum is
 * within 8 2^-24 of the sum of the terms' magnitudes over a block (against
 * m/16 roundings for one float accumulator per lane), at a third of the
 * cost of the exact terms in double (whose conversions took 0.43
 * ns/element against 0.18 on a Zen 1).  The order of the additions is fixed
 * by m alone.  (`omp simd`: without it GCC left the lane loops scalar.) */
FA_INLINE double fa_rows_blocksum_f32(const float *a, const float *b, ptrdiff_t m, const float *t, float *top,
                                      int *has_nan)
{
    double dacc[16] = {0};
    float acc[16], tp[16];
    int seen[16] = {0};
    ptrdiff_t j = 0, end, full = m - m % 16;
    int k;
    double s = 0.0;
    for (k = 0; k < 16; k++)
        tp[k] = -INFINITY;
    while (j < full) {
        end = j + 128 < full ? j + 128 : full;
        for (k = 0; k < 16; k++)
            acc[k] = 0.0f;
        if (b != NULL) {
            for (; j < end; j += 16)
                _Pragma("omp simd")
                for (k = 0; k < 16; k++)
                    acc[k] = FA_FMAF(a[j + k], b[j + k], acc[k]);
        } else if (t != NULL) {
            for (; j < end; j += 16)
                _Pragma("omp simd")
                for (k = 0; k < 16; k++) {
                    acc[k] = a[j + k] + acc[k];
                    FA_MAX_STEP(tp[k], seen[k], t[j + k]);
                }
        } else {
            for (; j < end; j += 16)
                _Pragma("omp simd")
                for (k = 0; k < 16; k++)
                    acc[k] = a[j + k] + acc[k];
        }
        _Pragma("omp simd")
        for (k = 0; k < 16; k++)
            dacc[k] += (double)acc[k];
    }
    s = fa_lanes16_total(dacc);
    for (; j < m; j++) {
        s += (double)a[j] * (b != NULL ? (double)b[j] : 1.0);
        if (t != NULL)
            FA_MAX_STEP(tp[j % 16], seen[j % 16], t[j]);
    }
    if (t != NULL) {
        /* the maximum of t, in any order (nan flagged apart, as FA_ROWS_MAX) */
        *top = fa_lanes16_max_f32(tp, seen, has_nan);
    }
    return s;
}

static inline double fa_rows_dot_f32(const float *a, const float *b, ptrdiff_t m)
{
    return fa_rows_blocksum_f32(a, b, m, NULL, NULL, NULL);
}

static inline double fa_rows_sum_f32(const float *a, ptrdiff_t m)
{
    return fa_rows_blocksum_f32(a, NULL, m, NULL, NULL, NULL);
}

/* sum(a) as fa_rows_sum_f32, and in the same pass the maximum of t[0:m]
 * (*top, nan ignored; *has_nan set when t holds a nan): log_softmax's
 * backward reads its saved y for the kind of exp it takes along with the
 * sum of dy, instead of in a pass of its own (a tenth of a float32 row of
 * 1000) */
static inline double fa_rows_sum_max_f32(const float *a, const float *t, ptrdiff_t m, float *top, int *has_nan)
{
    return fa_rows_blocksum_f32(a, NULL, m, t, top, has_nan);
}

/* sum(a b) of a float64 row, for softmax's backward: 16 lanes of FMAs, the
 * lanes then added by fa_lanes16_total, the last m % 16 terms after them.  Within
 * m/16 2^-53 of the sum of |a b| (7e-15 on a row of 1000), like a float32
 * row's blocks (fa_rows_dot_f32); the compensated sums (fa_rows_csum_f64)
 * took 1.4 ns/element of the backward against torch's 1.0.  The order of
 * the additions is fixed by m alone. */
static inline double fa_rows_dot_f64(const double *a, const double *b, ptrdiff_t m)
{
    double acc[16] = {0};
    ptrdiff_t j, full = m - m % 16;
    int k;
    double s = 0.0;
    for (j = 0; j < full; j += 16)
        _Pragma("omp simd")
        for (k = 0; k < 16; k++)
            acc[k] = FA_FMA(a[j + k], b[j + k], acc[k]);
    s = fa_lanes16_total(acc);
    for (; j < m; j++)
        s = FA_FMA(a[j], b[j], s);
    return s;
}

/* --------------------------------------------------------- short rows */

/* Forward softmax / log_softmax over rows of m <= FA_SHORT_M (float32:
 * FA_SHORT_M_F32), a block of up to FA_SHORT_ROWS rows at a time, each loop
 * running across the rows of the block (lane g: row g) and along the row in its outer loop.  A row
 * taken alone (fa_rows_max_*, fa_rows_expsum_*) spends some 80 cycles on
 * its vector loops' set-up, lane sums and tails whatever its length: a
 * float32 softmax row of 10 cost 24 ns, 2.4 ns/element against 0.2 on long
 * rows, and a row of 100 was slower than PyTorch's.  Here a row's max, exp
 * sum (in order along the row, compensated for float64) and outputs are
 * computed by the same formulas as a long row's (fa_rows_exp32,
 * fa_rows_exp_diff64, fa_rows_div, log1p of the sum less 1, with
 * fa_rows_expsum_below_f32 for the float32 rows whose sum is that close to
 * 1), only the order of a row's additions differs; it is fixed by the row
 * alone.  A row holding a nan, or whose max is +inf, or that is all -inf,
 * is all nan.  In place is safe: a block's outputs are written after all
 * of its reads, element j of a row (log_softmax) after reading it. */
#define FA_SHORT_M 47
/* float32 rows go in blocks up to FA_SHORT_M_F32 only under AVX-512: there a
 * float32 row of 32 or more taken alone is faster (one thread, 1e5 elements,
 * ns/element softmax / log_softmax, blocks -> alone: 32: 0.78 / 0.82 -> 0.67
 * / 0.73; 33: 1.02 / 1.09 -> 0.81 / 0.89; 44: 1.10 / 1.18 -> 0.80 / 0.78; 47:
 * 1.03 / 1.09 -> 0.84 / 0.79; and 28 stays faster in blocks, 0.87 / 0.93
 * against 1.05 / 1.02).  Under v3 and baseline the blocks win or tie up to
 * 47, as float64's do everywhere. */
#ifdef __AVX512F__
#define FA_SHORT_M_F32 31
#else
#define FA_SHORT_M_F32 FA_SHORT_M
#endif
#define FA_SHORT_ROWS 256
#define FA_SHORT_ELEMS 2048

#define FA_SHORT_MAX(name, T)                                                 \
static inline void name(const T *x, ptrdiff_t G, ptrdiff_t m, T *mx, int *bad) \
{                                                                             \
    ptrdiff_t g, j;                                                           \
    for (g = 0; g < G; g++) {                                                 \
        mx[g] = -INFINITY;                                                    \
        bad[g] = 0;                                                           \
    }                                                                         \
    for (j = 0; j < m; j++)                                                   \
        _Pragma("omp simd")                                                   \
        for (g = 0; g < G; g++)                                               \
            FA_MAX_STEP(mx[g], bad[g], x[g * m + j]);                         \
    for (g = 0; g < G; g++) {                                                 \
        bad[g] |= !(mx[g] - mx[g] == 0);                                      \
        mx[g] = bad[g] ? 0 : mx[g];   /* finite work on a row set to nan */   \
    }                                                                         \
}

FA_SHORT_MAX(fa_short_max_f32, float)
FA_SHORT_MAX(fa_short_max_f64, double)

static inline void fa_short_nan_rows(void *y, int dbl, ptrdiff_t G, ptrdiff_t m, const int *bad)
{
    ptrdiff_t g, j;
    for (g = 0; g < G; g++)
        if (bad[g])
            for (j = 0; j < m; j++) {
                if (dbl)
                    ((double *)y)[g * m + j] = NAN;
                else
                    ((float *)y)[g * m + j] = NAN;
            }
}

/* L[g] = log1p(s[g]) for g < G, FA_ROWS_GROUP rows at a time (s and L hold
 * G rounded up to FA_ROWS_GROUP; the rows past G get 0) */
static inline void fa_short_log1p(double *s, double *L, ptrdiff_t G)
{
    ptrdiff_t g;
    for (g = G; g < G + (-G & (FA_ROWS_GROUP - 1)); g++)
        s[g] = 0.0;
    for (g = 0; g < G; g += FA_ROWS_GROUP)
        fa_rows_log1p_group(s + g, L + g);
}

static inline ptrdiff_t fa_short_block(ptrdiff_t rows, ptrdiff_t m)
{
    ptrdiff_t G = FA_SHORT_ELEMS / m;
    G = G < FA_SHORT_ROWS ? G : FA_SHORT_ROWS;
    return G < rows ? G : rows;
}

/* rows of float32 softmax (logsm 0) or log_softmax (1) */
static void fa_short_rows_f32(const float *x, float *y, ptrdiff_t rows, ptrdiff_t m, int logsm)
{
    float mx[FA_SHORT_ROWS], Lf[FA_SHORT_ROWS];
    int bad[FA_SHORT_ROWS];
    double s[FA_SHORT_ROWS], L[FA_SHORT_ROWS], e[FA_SHORT_ELEMS];
    ptrdiff_t r, g, j, G;
    for (r = 0; r < rows; r += G, x += G * m, y += G * m) {
        G = fa_short_block(rows - r, m);
        fa_short_max_f32(x, G, m, mx, bad);
        for (g = 0; g < G; g++)
            s[g] = 0.0;
        for (j = 0; j < m; j++)
            _Pragma("omp simd")
            for (g = 0; g < G; g++) {
                double ex = fa_rows_exp32((double)x[g * m + j] - (double)mx[g]);
                e[j * G + g] = ex;
                s[g] += ex;
            }
        if (!logsm) {
            _Pragma("omp simd")
            for (g = 0; g < G; g++)
                s[g] = 1.0 / s[g];
            for (j = 0; j < m; j++)
                _Pragma("omp simd")
                for (g = 0; g < G; g++)
                    y[g * m + j] = (float)(e[j * G + g] * s[g]);
        } else {
            for (g = 0; g < G; g++) {
                s[g] -= 1.0;                             /* exact */
                if (s[g] < (double)m * 0x1p-24)
                    s[g] = fa_rows_expsum_below_f32(x + g * m, m, mx[g]);
            }
            fa_short_log1p(s, L, G);
            for (g = 0; g < G; g++)
                Lf[g] = (float)L[g];
            for (j = 0; j < m; j++)
                _Pragma("omp simd")
                for (g = 0; g < G; g++)
                    y[g * m + j] = (x[g * m + j] - mx[g]) - Lf[g];
        }
        fa_short_nan_rows(y, 0, G, m, bad);
    }
}

/* rows of float64 softmax (logsm 0) or log_softmax (1): each row's sum
 * starts at 1, so that it stays >= every exp and Fast2Sum gives each
 * addition's error exactly (as fa_rows_expsum_f64_'s lanes) */
static void fa_short_rows_f64(const double *x, double *y, ptrdiff_t rows, ptrdiff_t m, int logsm)
{
    double mx[FA_SHORT_ROWS], s[FA_SHORT_ROWS], c[FA_SHORT_ROWS], r1[FA_SHORT_ROWS];
    double L[FA_SHORT_ROWS], e[FA_SHORT_ELEMS];
    int bad[FA_SHORT_ROWS];
    ptrdiff_t r, g, j, G;
    for (r = 0; r < rows; r += G, x += G * m, y += G * m) {
        G = fa_short_block(rows - r, m);
        fa_short_max_f64(x, G, m, mx, bad);
        for (g = 0; g < G; g++) {
            s[g] = 1.0;
            c[g] = 0.0;
        }
        for (j = 0; j < m; j++)
            _Pragma("omp simd")
            for (g = 0; g < G; g++) {
                double ex = fa_rows_exp_diff64(x[g * m + j], mx[g]);
                double st = s[g] + ex;
                /* stored for log_softmax too, where it is unused: a store
                 * made conditional kept the baseline loop scalar */
                e[j * G + g] = ex;
                c[g] += ex - (st - s[g]);               /* exact: s[g] >= ex */
                s[g] = st;
            }
        if (!logsm) {
            /* the sum: (s - 1) + c (s - 1 is exact), as a pair s, c */
            _Pragma("omp simd")
            for (g = 0; g < G; g++) {
                double h, l;
                fa_two_sum(s[g] - 1.0, c[g], &h, &l);
                s[g] = h;
                c[g] = l;
                r1[g] = 1.0 / h;
            }
            for (j = 0; j < m; j++)
                _Pragma("omp simd")
                for (g = 0; g < G; g++)
                    y[g * m + j] = fa_rows_div(e[j * G + g], s[g], c[g], r1[g]);
        } else {
            /* the sum less 1: (s - 2) + c (exact: s >= 2) */
            for (g = 0; g < G; g++)
                s[g] = (s[g] - 2.0) + c[g];
            fa_short_log1p(s, L, G);
            for (j = 0; j < m; j++)
                _Pragma("omp simd")
                for (g = 0; g < G; g++) {
                    double dh, dl;
                    fa_two_sum(x[g * m + j], -mx[g], &dh, &dl);
                    y[g * m + j] = (dh - L[g]) + (dh - dh == 0.0 ? dl : 0.0);
                }
        }
        fa_short_nan_rows(y, 1, G, m, bad);
    }
}

/* log_softmax's float32 backward over G <= FA_SHORT_ROWS rows of m < 16,
 * the block at once, loops across its rows (the rows' exps in 16 lanes
 * where one row takes them one at a time: rows of 2 cost 2.6 ns/element,
 * about PyTorch's).  The same bits as a row taken alone (fa_rows_sum_max_f32
 * adds a row this short in order in double, fa_rows_lsm_bwd_row_f32 takes
 * fa_rows_lsm_bwd_f32 per entry).  Returns 0, having written nothing, unless
 * every row of y is a log_softmax output (no nan, none above 0: the caller
 * then takes the rows one at a time).  In place is safe: an entry is written
 * after the block's sums and maxima have read it, and after its own reads. */
static int fa_short_lsm_bwd_f32(const float *dy, const float *y, float *dx, ptrdiff_t G, ptrdiff_t m)
{
    double s[FA_SHORT_ROWS];
    float top[FA_SHORT_ROWS], sh[FA_SHORT_ROWS], sl[FA_SHORT_ROWS];
    int seen[FA_SHORT_ROWS], bad = 0;
    ptrdiff_t g, j;
    for (g = 0; g < G; g++) {
        s[g] = 0.0;
        top[g] = -INFINITY;
        seen[g] = 0;
    }
    for (j = 0; j < m; j++)
        _Pragma("omp simd")
        for (g = 0; g < G; g++) {
            s[g] += (double)dy[g * m + j];
            FA_MAX_STEP(top[g], seen[g], y[g * m + j]);
        }
    for (g = 0; g < G; g++)
        bad |= fa_rows_kind(top[g], seen[g]) != 2;
    if (bad)
        return 0;
    for (g = 0; g < G; g++) {
        sh[g] = (float)s[g];
        sl[g] = (float)(s[g] - (double)sh[g]);
    }
    for (j = 0; j < m; j++)
        _Pragma("omp simd")
        for (g = 0; g < G; g++)
            dx[g * m + j] = fa_rows_lsm_bwd_f32(dy[g * m + j], y[g * m + j], sh[g], sl[g]);
    return 1;
}

/* Ask for the bytes at p (the next row a row loop reads), 64-byte lines.
 * float32 rows of 1000 out of memory (4e7 elements, 2 threads, against
 * torch): softmax forward 0.87 -> 0.93x, log_softmax backward 0.90 ->
 * 1.02x.  float64's rows lost with it (log_softmax backward 1.01 -> 0.90x):
 * they run at the memory's speed already, and are left to the hardware. */
static inline void fa_rows_prefetch(const void *p, ptrdiff_t bytes)
{
    const char *c = (const char *)p;
    ptrdiff_t k;
    for (k = 0; k < bytes; k += 64)
        __builtin_prefetch(c + k, 0, 3);
}

#endif /* FA_ROWS_H */
