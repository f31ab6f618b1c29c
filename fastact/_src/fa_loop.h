/*
 * fa_loop.h -- the interleaved form of _elementwise.pyx.tp's plain loops,
 * for what Cython cannot say: `restrict`, an unroll pragma and a per-function
 * optimization option.
 *
 * Notes
 * -----
 * - The transcendental kernels are latency-bound: one vector's chain of
 *   dependent operations (reduction, polynomial, division, correction) is
 *   longer than the out-of-order window covers, so the core runs well below
 *   its throughput (measured on a Zen 1 EPYC).  Unrolling the vector loop
 *   twice puts two independent chains in each iteration, and GCC's
 *   pre-register-allocation scheduler (-fschedule-insns, off by default on
 *   x86) interleaves them.  It may only do so when the output cannot alias
 *   the inputs: the second vector's loads move above the first one's store.
 * - Each map therefore has a form per aliasing case, chosen at run time: the
 *   output distinct from every input (all pointers `restrict`), or the very
 *   same array as one or both inputs (in place: those are read through the
 *   output's pointer, the others are `restrict`).  A partial overlap never
 *   reaches a kernel (_api.py computes into a temporary then).  GCC honours
 *   `restrict` on parameters (kept through inlining), not on block-scope
 *   pointers, hence the small functions.
 * - Every form evaluates the same expression per element, so results do not
 *   depend on the form, the unrolling or the thread count.
 * - `f` is an _ops.pxd kernel by name (a fused specialization such as
 *   `_ops.sigmoid_fwd[float]` in Cython), a constant after inlining, so GCC
 *   inlines the kernel as in a plain loop.  (It did not for gelu's double
 *   kernels, whose bodies are the largest: they keep the plain loop.)
 * - The scheduler is turned on per function (FA_SCHED_VOID) because it helps
 *   only some loops and costs others: the list, measured, is
 *   INTERLEAVED_LOOPS in _registry.py.
 */
#ifndef FA_LOOP_H
#define FA_LOOP_H

#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__)
#define FA_UNROLL2 _Pragma("GCC unroll 2")
/* the return type of an interleaved loop function */
#define FA_SCHED_VOID __attribute__((optimize("schedule-insns", "sched-pressure"))) void
#elif defined(__clang__)
#define FA_UNROLL2 _Pragma("clang loop unroll_count(2)")
#define FA_SCHED_VOID void
#else
#define FA_UNROLL2
#define FA_SCHED_VOID void
#endif

#if defined(__GNUC__)
#define FA_LOOP_INLINE static inline __attribute__((always_inline))
#else
#define FA_LOOP_INLINE static inline
#endif

#define FA_DEFINE_MAPS(T, sfx)                                                               \
typedef T (*fa_f1_##sfx)(T, double, double);                                                 \
typedef T (*fa_f2_##sfx)(T, T, double, double);                                              \
FA_LOOP_INLINE void fa_map1r_##sfx(fa_f1_##sfx f, const T *__restrict x, T *__restrict y,    \
                                   ptrdiff_t n, double p0, double p1)                        \
{ FA_UNROLL2 for (ptrdiff_t i = 0; i < n; i++) y[i] = f(x[i], p0, p1); }                      \
FA_LOOP_INLINE void fa_map1i_##sfx(fa_f1_##sfx f, T *y, ptrdiff_t n, double p0, double p1)   \
{ FA_UNROLL2 for (ptrdiff_t i = 0; i < n; i++) y[i] = f(y[i], p0, p1); }                      \
/* y[i] = f(x[i], p0, p1) for i < n; y is x or does not overlap it */                        \
FA_LOOP_INLINE void fa_map1_##sfx(fa_f1_##sfx f, const T *x, T *y, ptrdiff_t n,              \
                                  double p0, double p1)                                      \
{                                                                                            \
    if (x == y) fa_map1i_##sfx(f, y, n, p0, p1);                                             \
    else fa_map1r_##sfx(f, x, y, n, p0, p1);                                                 \
}                                                                                            \
FA_LOOP_INLINE void fa_map2r_##sfx(fa_f2_##sfx f, const T *__restrict a,                     \
                                   const T *__restrict b, T *__restrict y,                   \
                                   ptrdiff_t n, double p0, double p1)                        \
{ FA_UNROLL2 for (ptrdiff_t i = 0; i < n; i++) y[i] = f(a[i], b[i], p0, p1); }                \
FA_LOOP_INLINE void fa_map2a_##sfx(fa_f2_##sfx f, const T *__restrict b, T *y,               \
                                   ptrdiff_t n, double p0, double p1)                        \
{ FA_UNROLL2 for (ptrdiff_t i = 0; i < n; i++) y[i] = f(y[i], b[i], p0, p1); }                \
FA_LOOP_INLINE void fa_map2b_##sfx(fa_f2_##sfx f, const T *__restrict a, T *y,               \
                                   ptrdiff_t n, double p0, double p1)                        \
{ FA_UNROLL2 for (ptrdiff_t i = 0; i < n; i++) y[i] = f(a[i], y[i], p0, p1); }                \
FA_LOOP_INLINE void fa_map2ab_##sfx(fa_f2_##sfx f, T *y, ptrdiff_t n, double p0, double p1)  \
{ FA_UNROLL2 for (ptrdiff_t i = 0; i < n; i++) y[i] = f(y[i], y[i], p0, p1); }                \
/* y[i] = f(a[i], b[i], p0, p1) for i < n; y is a, or b, or both, or overlaps neither */     \
FA_LOOP_INLINE void fa_map2_##sfx(fa_f2_##sfx f, const T *a, const T *b, T *y,               \
                                  ptrdiff_t n, double p0, double p1)                         \
{                                                                                            \
    if (a == y && b == y) fa_map2ab_##sfx(f, y, n, p0, p1);                                  \
    else if (a == y) fa_map2a_##sfx(f, b, y, n, p0, p1);                                     \
    else if (b == y) fa_map2b_##sfx(f, a, y, n, p0, p1);                                     \
    else fa_map2r_##sfx(f, a, b, y, n, p0, p1);                                              \
}

FA_DEFINE_MAPS(float, f32)
FA_DEFINE_MAPS(double, f64)

/* 1 when every |x[i]|, i < n, is <= lim (so none is nan), else 0: the test
 * of a block before the tame form of a kernel (TAME_LOOPS in _registry.py).
 * An and of the comparisons, which GCC vectorizes as a reduction. */
#define FA_DEFINE_WITHIN(T, sfx)                                                              \
static inline int fa_within_##sfx(const T *x, ptrdiff_t n, double lim)                        \
{                                                                                            \
    T l = (T)lim;                                                                            \
    int ok = 1;                                                                              \
    _Pragma("omp simd reduction(&:ok)")                                                      \
    for (ptrdiff_t i = 0; i < n; i++)                                                        \
        ok &= __builtin_fabs(x[i]) <= l;                                                     \
    return ok;                                                                               \
}

FA_DEFINE_WITHIN(float, f32)
FA_DEFINE_WITHIN(double, f64)

#endif /* FA_LOOP_H */
