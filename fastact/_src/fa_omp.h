/* fa_omp.h -- OpenMP and build facts, with no-op fallbacks when the extension
 * is built without OpenMP (it then runs single-threaded). */
#ifndef FA_OMP_H
#define FA_OMP_H

#include <stdio.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
static int fa_omp_enabled(void) { return 1; }
static int fa_omp_max_threads(void) { return omp_get_max_threads(); }
static int fa_omp_version(void) { return _OPENMP; }
#else
static int fa_omp_enabled(void) { return 0; }
static int fa_omp_max_threads(void) { return 1; }
static int fa_omp_version(void) { return 0; }
#endif

static const char *fa_compiler_version(void)
{
#ifdef __VERSION__
    return __VERSION__;
#else
    return "unknown";
#endif
}

/* The SIMD level this extension was compiled for. */
static const char *fa_compiled_simd(void)
{
#if defined(__AVX512F__)
    return "AVX512F";
#elif defined(__AVX2__) && defined(__FMA__)
    return "AVX2+FMA";
#elif defined(__AVX2__)
    return "AVX2";
#elif defined(__AVX__)
    return "AVX";
#elif defined(__SSE4_2__)
    return "SSE4.2";
#elif defined(__SSE2__)
    return "SSE2";
#elif defined(__ARM_NEON)
    return "NEON";
#else
    return "scalar";
#endif
}

/* The CPU features seen at run time, space separated, into buf. */
static void fa_cpu_features(char *buf, size_t size)
{
    buf[0] = '\0';
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
#define FA_FEAT(name) if (__builtin_cpu_supports(name)) { strncat(buf, name " ", size - strlen(buf) - 1); }
    FA_FEAT("sse2") FA_FEAT("sse3") FA_FEAT("ssse3") FA_FEAT("sse4.1") FA_FEAT("sse4.2")
    FA_FEAT("avx") FA_FEAT("avx2") FA_FEAT("fma") FA_FEAT("avx512f") FA_FEAT("avx512dq")
    FA_FEAT("avx512bw") FA_FEAT("avx512vl") FA_FEAT("bmi") FA_FEAT("bmi2")
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    /* the psABI levels as a whole (GCC 12+) */
    FA_FEAT("x86-64-v2") FA_FEAT("x86-64-v3") FA_FEAT("x86-64-v4")
#endif
#undef FA_FEAT
#else
    strncat(buf, "unknown", size - 1);
#endif
}

#endif /* FA_OMP_H */
