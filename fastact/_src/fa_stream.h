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

/* dst[0:nbytes] = src[0:nbytes], dst's 16-byte-aligned part with streaming
 * stores (SSE2: every x86-64 build); plain memcpy elsewhere.  nbytes a
 * multiple of 4.  Streaming stores are weakly ordered: fa_stream_fence()
 * after the last copy, before the caller's threads meet at their barrier. */
static inline void fa_stream_copy(void *dst, const void *src, size_t nbytes)
{
#if defined(__SSE2__)
    char *d = (char *)dst;
    const char *s = (const char *)src;
    size_t head = (size_t)(-(uintptr_t)d & 15);
    if (head > nbytes)
        head = nbytes;
    memcpy(d, s, head);
    d += head;
    s += head;
    nbytes -= head;
    for (; nbytes >= 64; nbytes -= 64, d += 64, s += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)s);
        __m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
        __m128i e = _mm_loadu_si128((const __m128i *)(s + 48));
        _mm_stream_si128((__m128i *)d, a);
        _mm_stream_si128((__m128i *)(d + 16), b);
        _mm_stream_si128((__m128i *)(d + 32), c);
        _mm_stream_si128((__m128i *)(d + 48), e);
    }
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
