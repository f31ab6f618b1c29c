/* fa_fused.h -- the reductions of the fused bias + activation kernels
 * (_elementwise.pyx.tp, "bias + activation"): per-position sums into double
 * accumulators, and whole-block sums, of either the block's values (the bias
 * gradient) or of a predicate on them (the activity counts).
 *
 * A "count" predicate is  v > hi || v < lo  (active: hi = 0, lo = -inf;
 * saturated: outside [lo, hi]); nan counts as neither.  Per-position counts
 * accumulate in an integer of the data's width (int32 for float, int64 for
 * double; the caller keeps them below 2^31), which keeps the loop at one
 * vector width: the compare's mask (-1 or 0) is subtracted.  Plain SSE2 has
 * no vector select of a double compare into int64 lanes (GCC leaves such a
 * loop scalar), so there double data counts in double, exact below 2^53.
 *
 * The whole-block sums use `omp simd reduction`: the order of the additions
 * depends on the vector width of the build only (never on the thread count).
 * Counts are integers, exact in any order.
 */
#ifndef FA_FUSED_H
#define FA_FUSED_H

#include <stddef.h>
#include <stdint.h>

#if defined(_OPENMP)
#define FA_SIMD_SUM_S _Pragma("omp simd reduction(+:s)")
#define FA_SIMD_SUM_C _Pragma("omp simd reduction(+:c)")
#define FA_SIMD _Pragma("omp simd")
#else
#define FA_SIMD_SUM_S
#define FA_SIMD_SUM_C
#define FA_SIMD
#endif

#if (defined(__x86_64__) || defined(__i386__)) && !defined(__SSE4_2__)
typedef double fa_count_f64_t;
#else
typedef int64_t fa_count_f64_t;
#endif

#define FA_FUSED_REDUCTIONS(T, IT, sfx)                                                    \
    /* acc[j] += v[j] */                                                                   \
    static inline void fa_sum_into_##sfx(const T *v, double *acc, ptrdiff_t n) {           \
        FA_SIMD for (ptrdiff_t j = 0; j < n; j++) acc[j] += (double)v[j];                  \
    }                                                                                      \
    /* acc[j] += 1 where v[j] > hi or v[j] < lo */                                         \
    static inline void fa_count_into_##sfx(const T *v, IT *acc, ptrdiff_t n, T hi, T lo) { \
        FA_SIMD for (ptrdiff_t j = 0; j < n; j++)                                          \
            acc[j] -= (v[j] > hi || v[j] < lo) ? (IT)-1 : (IT)0;                           \
    }                                                                                      \
    /* sum of v[0..n) in double */                                                         \
    static inline double fa_sum_##sfx(const T *v, ptrdiff_t n) {                           \
        double s = 0.0;                                                                    \
        FA_SIMD_SUM_S for (ptrdiff_t j = 0; j < n; j++) s += (double)v[j];          \
        return s;                                                                          \
    }                                                                                      \
    /* how many v[j] > hi or v[j] < lo */                                                  \
    static inline double fa_count_##sfx(const T *v, ptrdiff_t n, T hi, T lo) {             \
        int64_t c = 0;                                                                     \
        FA_SIMD_SUM_C for (ptrdiff_t j = 0; j < n; j++) c += (v[j] > hi || v[j] < lo); \
        return (double)c;                                                                  \
    }

/* prelu's backward: dx = dy where x > 0, dy w elsewhere (NaN where x is NaN),
 * and the weight gradient's terms dy x where x <= 0 (or NaN), exact products
 * summed in double: per position into acc (a weight per element) or over the
 * block (one weight).  dx may be dy or x (each element is read first). */
#define FA_PRELU_BACKWARD(T, sfx)                                                          \
    static inline void fa_prelu_bwd_into_##sfx(const T *dy, const T *x, const T *w, T *dx,   \
                                               double *acc, ptrdiff_t n) {                   \
        FA_SIMD for (ptrdiff_t j = 0; j < n; j++) {                                          \
            T xv = x[j], dv = dy[j];                                                         \
            acc[j] += xv > 0 ? 0.0 : (double)dv * (double)xv;                                \
            dx[j] = xv > 0 ? dv : (xv != xv ? xv : dv * w[j]);                               \
        }                                                                                    \
    }                                                                                        \
    static inline double fa_prelu_bwd_##sfx(const T *dy, const T *x, T w, T *dx, ptrdiff_t n) { \
        double s = 0.0;                                                                      \
        FA_SIMD_SUM_S for (ptrdiff_t j = 0; j < n; j++) {                                    \
            T xv = x[j], dv = dy[j];                                                         \
            s += xv > 0 ? 0.0 : (double)dv * (double)xv;                                     \
            dx[j] = xv > 0 ? dv : (xv != xv ? xv : dv * w);                                  \
        }                                                                                    \
        return s;                                                                            \
    }

FA_FUSED_REDUCTIONS(float, int32_t, f32)
FA_FUSED_REDUCTIONS(double, fa_count_f64_t, f64)
FA_PRELU_BACKWARD(float, f32)
FA_PRELU_BACKWARD(double, f64)

#endif
