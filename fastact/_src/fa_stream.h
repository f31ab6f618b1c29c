/* fa_stream.h -- stores that bypass the caches, for outputs larger than them.
 *
 * An ordinary store first reads the line it writes (read for ownership), so
 * an out-of-place elementwise call over arrays far larger than the last-level
 * cache moves three bytes of memory traffic per byte of output where a copy
 * with non-temporal stores (glibc's memcpy at that size) moves two: relu over
 * 4e7 float32 reached 50-60% of the copy roof.  The drivers of _elementwise.pyx.tp
 * therefore compute such outputs block by block into a buffer in L1 and move
 * each block out with fa_stream_copy. */
#ifndef FA_STREAM_H
#define FA_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* dst[0:nbytes] = src[0:nbytes], dst's aligned part with streaming stores
 * of the widest vector the build has (64 bytes under AVX-512: one store
 * writes a whole line; 32 under AVX; 16 under SSE2, every x86-64 build);
 * plain memcpy elsewhere.  nbytes a multiple of 4.  Streaming stores are
 * weakly ordered: fa_stream_fence() after the last copy, before the
 * caller's threads meet at their barrier. */
#if defined(__AVX512F__)
#include <immintrin.h>
#define FA_STREAM_W 64
#define FA_STREAM_ONE(d, s) _mm512_stream_si512((__m512i *)(d), _mm512_loadu_si512((const void *)(s)))
#elif defined(__AVX__)
#include <immintrin.h>
#define FA_STREAM_W 32
#define FA_STREAM_ONE(d, s) _mm256_stream_si256((__m256i *)(d), _mm256_loadu_si256((const __m256i *)(s)))
#elif defined(__SSE2__)
#define FA_STREAM_W 16
#define FA_STREAM_ONE(d, s) _mm_stream_si128((__m128i *)(d), _mm_loadu_si128((const __m128i *)(s)))
#endif

static inline void fa_stream_copy(void *dst, const void *src, size_t nbytes)
{
#if defined(FA_STREAM_W)
    char *d = (char *)dst;
    const char *s = (const char *)src;
    size_t head = (size_t)(-(uintptr_t)d & (FA_STREAM_W - 1)), k;
    if (head > nbytes)
        head = nbytes;
    memcpy(d, s, head);
    d += head;
    s += head;
    nbytes -= head;
    for (; nbytes >= 64; nbytes -= 64, d += 64, s += 64)
        for (k = 0; k < 64; k += FA_STREAM_W)
            FA_STREAM_ONE(d + k, s + k);
    memcpy(d, s, nbytes);
#else
    memcpy(dst, src, nbytes);
#endif
}

static inline void fa_stream_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

#endif
