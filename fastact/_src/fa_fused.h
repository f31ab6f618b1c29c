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
            T xv = x[j], dv = dy[j], wv = w[j];                                              \
            acc[j] += xv > 0 ? 0.0 : (double)dv * (double)xv;                                \
            dx[j] = xv > 0 ? dv : (xv != xv ? xv : dv * wv);                                 \
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

/* relu(x + b) with a vector bias, counting the active outputs (> 0) per
 * position into acc (the mask subtracted), over one row or four rows at once
 * (AVX2 builds; FA_RELU_COUNT is 0 elsewhere and the generic loops of
 * _elementwise.pyx.tp run).  The output is max(0, u) (maxps returns its
 * second operand, u, when u is NaN), and the count's compare u > 0 is the
 * only other one: per vector of x, x + b, max, compare and an add into the
 * rows' sum (and a quarter of b + 0 below), where the generic loop's relu
 * (u <= 0 ? 0 : u, a compare and an and) and count (a second compare) took
 * one operation more.  maxps(0, -0) would be -0
 * where relu gives +0, so the bias is first made +0 where it is -0 (b + 0):
 * then x + b is never -0, and it differs from the generic x + b only where
 * both are -0, whose relu is +0 either way.  The bits are the generic
 * loop's.  bias_act(x, b, "relu", counts=True) over 1000 x 1000 float32
 * on 2 threads (arrays in L3), against the same call without counts:
 * +12 to +15% before, -5 to +6% after; 100 x 1000 (in L2): +41 to +49%
 * before, +21 to +23% after. */
#if defined(__AVX2__)
#include <immintrin.h>
#define FA_RELU_COUNT 1
#define FA_RELU_COUNT_LOOPS(T, IT, sfx, W, v, s, e)                                              \
    static inline __m256i fa_relu_active_##sfx(__m256##v u) {                                    \
        return _mm256_cast##s##_si256(_mm256_cmp_##s(u, _mm256_setzero_##s(), _CMP_GT_OQ));     \
    }                                                                                            \
    static inline void fa_relu_store_##sfx(T *y, __m256##v u) {                                  \
        _mm256_storeu_##s(y, _mm256_max_##s(_mm256_setzero_##s(), u));                          \
    }                                                                                            \
    /* b + 0: -0 becomes +0, everything else stays */                                           \
    static inline __m256##v fa_relu_bias_##sfx(const T *b) {                                     \
        return _mm256_add_##s(_mm256_loadu_##s(b), _mm256_setzero_##s());                       \
    }                                                                                            \
    static inline void fa_relu_tail_##sfx(const T *x, T b, T *y, IT *acc) {                      \
        T u = *x + b;                                                                            \
        *y = u <= 0 ? (T)0 : u;                                                                  \
        *acc += u > 0;                                                                           \
    }                                                                                            \
    static inline void fa_relu_count_##sfx(const T *x, const T *b, T *y, IT *acc, ptrdiff_t n) { \
        ptrdiff_t i = 0;                                                                         \
        for (; i + W <= n; i += W) {                                                             \
            __m256##v u = _mm256_add_##s(_mm256_loadu_##s(x + i), fa_relu_bias_##sfx(b + i));    \
            fa_relu_store_##sfx(y + i, u);                                                       \
            __m256i a = _mm256_loadu_si256((const __m256i *)(acc + i));                          \
            _mm256_storeu_si256((__m256i *)(acc + i), _mm256_sub_##e(a, fa_relu_active_##sfx(u))); \
        }                                                                                        \
        for (; i < n; i++)                                                                       \
            fa_relu_tail_##sfx(x + i, b[i], y + i, acc + i);                                     \
    }                                                                                            \
    static inline void fa_relu_count4_##sfx(const T *x0, const T *x1, const T *x2, const T *x3,  \
                                            const T *b, T *y0, T *y1, T *y2, T *y3, IT *acc,     \
                                            ptrdiff_t n) {                                       \
        ptrdiff_t i = 0;                                                                         \
        for (; i + W <= n; i += W) {                                                             \
            __m256##v bv = fa_relu_bias_##sfx(b + i);                                            \
            __m256##v u0 = _mm256_add_##s(_mm256_loadu_##s(x0 + i), bv);                         \
            __m256##v u1 = _mm256_add_##s(_mm256_loadu_##s(x1 + i), bv);                         \
            __m256##v u2 = _mm256_add_##s(_mm256_loadu_##s(x2 + i), bv);                         \
            __m256##v u3 = _mm256_add_##s(_mm256_loadu_##s(x3 + i), bv);                         \
            fa_relu_store_##sfx(y0 + i, u0);                                                     \
            fa_relu_store_##sfx(y1 + i, u1);                                                     \
            fa_relu_store_##sfx(y2 + i, u2);                                                     \
            fa_relu_store_##sfx(y3 + i, u3);                                                     \
            __m256i c = _mm256_add_##e(                                                          \
                _mm256_add_##e(fa_relu_active_##sfx(u0), fa_relu_active_##sfx(u1)),              \
                _mm256_add_##e(fa_relu_active_##sfx(u2), fa_relu_active_##sfx(u3)));             \
            __m256i a = _mm256_loadu_si256((const __m256i *)(acc + i));                          \
            _mm256_storeu_si256((__m256i *)(acc + i), _mm256_sub_##e(a, c));                     \
        }                                                                                        \
        for (; i < n; i++) {                                                                     \
            fa_relu_tail_##sfx(x0 + i, b[i], y0 + i, acc + i);                                   \
            fa_relu_tail_##sfx(x1 + i, b[i], y1 + i, acc + i);                                   \
            fa_relu_tail_##sfx(x2 + i, b[i], y2 + i, acc + i);                                   \
            fa_relu_tail_##sfx(x3 + i, b[i], y3 + i, acc + i);                                   \
        }                                                                                        \
    }
FA_RELU_COUNT_LOOPS(float, int32_t, f32, 8, , ps, epi32)
FA_RELU_COUNT_LOOPS(double, fa_count_f64_t, f64, 4, d, pd, epi64)
#else
#define FA_RELU_COUNT 0
/* never called (FA_RELU_COUNT is 0): declared so that the callers compile */
static inline void fa_relu_count_f32(const float *x, const float *b, float *y, int32_t *acc, ptrdiff_t n) {}
static inline void fa_relu_count4_f32(const float *x0, const float *x1, const float *x2, const float *x3,
                                      const float *b, float *y0, float *y1, float *y2, float *y3,
                                      int32_t *acc, ptrdiff_t n) {}
static inline void fa_relu_count_f64(const double *x, const double *b, double *y, fa_count_f64_t *acc,
                                     ptrdiff_t n) {}
static inline void fa_relu_count4_f64(const double *x0, const double *x1, const double *x2, const double *x3,
                                      const double *b, double *y0, double *y1, double *y2, double *y3,
                                      fa_count_f64_t *acc, ptrdiff_t n) {}
#endif

FA_FUSED_REDUCTIONS(float, int32_t, f32)
FA_FUSED_REDUCTIONS(double, fa_count_f64_t, f64)
FA_PRELU_BACKWARD(float, f32)
FA_PRELU_BACKWARD(double, f64)

#endif
