# Bias + activation in one pass: out = K(a + bias) (forward) or
# out = K_bwd(dy, s [+ bias]) (backward), with the bias broadcast along one
# axis, and optionally a per-unit reduction of out in the same pass (while the
# block is in cache): a count of a predicate (activity monitoring) or a sum
# (the bias gradient).  Included by _elementwise.pyx.tp: compiled per
# instruction-set variant.  Every kernel has loops of its own (the
# template's K_fwdb/K_fwds/K_bwdb/K_bwds: vector bias b[i], scalar bias b):
# adding the bias in a pass of its own, then the plain loop in place, cost
# the transcendental kernels 20-30% on a Zen 4 (tanh bias_act over 1000 x
# 1000 float32, one thread: 583 against 487 us; tanh alone 463); setup.py
# gives GCC the inlining room those call sites need.  prelu (a weight per channel
# instead of a bias) and its weight gradient use the same layout.
#
# Notes
# -----
# - The caller views the arrays as (outer, C, inner), C the units (the bias
#   axis).  Two layouts:
#   * inner >= SEG_MIN ("segments", e.g. NCHW with the bias on C): each run of
#     `inner` elements has one bias value b[c]; work items are pieces of at
#     most BLOCK elements of one segment, each reduced to one number.
#   * otherwise ("tiles", e.g. (batch, C) with the bias on the last axis): the
#     bias pattern repeats every P = C inner elements; a pattern shorter than
#     SEG_MIN is expanded once to a tile of T elements (a multiple of P, >=
#     VEC_TILE elements unless the array is smaller; else T = P, and no copy
#     when inner == 1), and the array is
#     cut into tiles, each tile into column blocks of at most BLOCK elements.
#     A work unit is one column block of GROUP consecutive tiles; its
#     reduction goes to that group's row of T per-position partials.
# - Work units depend on the shape only, each is computed serially by one
#   thread, and the partials are folded in a fixed order: the reductions are
#   bitwise independent of the thread count (counts are integers anyway).
# - In place (out is an input) is safe: each kernel loop reads element i
#   before writing it, and a unit's reduction reads only what it wrote.
# - maxout (max over groups of k consecutive entries of the last axis) and
#   its backward are here too, per ISA, with maxout_fast taking the common
#   call from the wrapper in C, as fast_forward does for the elementwise
#   kernels (the general path cost about 6 us per call of 1000 float32).

from libc.math cimport INFINITY
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy

cdef extern from "fa_fused.h" nogil:
    void fa_sum_into_f32(const float *v, double *acc, Py_ssize_t n)
    void fa_sum_into_f64(const double *v, double *acc, Py_ssize_t n)
    void fa_count_into_f32(const float *v, int32_t *acc, Py_ssize_t n, float hi, float lo)
    void fa_count_into_f64(const double *v, fa_count_f64_t *acc, Py_ssize_t n, double hi, double lo)
    double fa_sum_f32(const float *v, Py_ssize_t n)
    double fa_sum_f64(const double *v, Py_ssize_t n)
    double fa_count_f32(const float *v, Py_ssize_t n, float hi, float lo)
    double fa_count_f64(const double *v, Py_ssize_t n, double hi, double lo)
    void fa_prelu_bwd_into_f32(const float *dy, const float *x, const float *w, float *dx, double *acc,
                               Py_ssize_t n)
    void fa_prelu_bwd_into_f64(const double *dy, const double *x, const double *w, double *dx, double *acc,
                               Py_ssize_t n)
    double fa_prelu_bwd_f32(const float *dy, const float *x, float w, float *dx, Py_ssize_t n)
    double fa_prelu_bwd_f64(const double *dy, const double *x, double w, double *dx, Py_ssize_t n)

cdef enum:
    SEG_MIN = 256        # segments at least this long take the scalar-bias kernels
    VEC_TILE = 1024      # smallest tile of the expanded bias pattern
    BLOCK = 2048         # longest kernel call: its slices of bias and partials stay in L1
    GROUP_ELEMS = 65536  # a tile group covers at least this many elements ...
    GROUP_MIN = 16       # ... and at least this many tiles

# the per-position partials of a tile group: counts in an integer of the data's
# width (the compare's lanes; fa_fused.h), sums in double; a group's count stays
# below 2^31
ctypedef fused partial_t:
    double
    int32_t
    fa_count_f64_t

# the per-unit totals: sums in double, counts in int64
ctypedef fused total_t:
    double
    int64_t

cdef enum:
    RED_NONE = 0
    RED_COUNT = 1
    RED_SUM = 2


cdef inline void _kernel_loop(int kernel, bint backward, const floating* a, const floating* s, floating* out,
                        Py_ssize_t n, double p0, double p1) noexcept nogil:
    # the kernel's own loop: out = K(a) or K_bwd(a, s)
    if floating is float:
        if backward:
            _BWD_f32[kernel](a, s, out, n, p0, p1)
        else:
            _FWD_f32[kernel](a, out, n, p0, p1)
    else:
        if backward:
            _BWD_f64[kernel](a, s, out, n, p0, p1)
        else:
            _FWD_f64[kernel](a, out, n, p0, p1)


cdef inline void _fused_loop(int kernel, bint backward, const floating* a, const floating* s, const floating* b,
                             floating bsc, int bias_mode, floating* out, Py_ssize_t n, double p0,
                             double p1) noexcept nogil:
    # the kernel's bias loop (bias_mode 1: vector b, 2: scalar bsc)
    if floating is float:
        if backward:
            if bias_mode == 1:
                _BWDB_f32[kernel](a, s, b, out, n, p0, p1)
            else:
                _BWDS_f32[kernel](a, s, bsc, out, n, p0, p1)
        elif bias_mode == 1:
            _FWDB_f32[kernel](a, b, out, n, p0, p1)
        else:
            _FWDS_f32[kernel](a, bsc, out, n, p0, p1)
    else:
        if backward:
            if bias_mode == 1:
                _BWDB_f64[kernel](a, s, b, out, n, p0, p1)
            else:
                _BWDS_f64[kernel](a, s, bsc, out, n, p0, p1)
        elif bias_mode == 1:
            _FWDB_f64[kernel](a, b, out, n, p0, p1)
        else:
            _FWDS_f64[kernel](a, bsc, out, n, p0, p1)


cdef inline Py_ssize_t _count_loop(int kernel, const floating* a, const floating* b, floating bsc, int bias_mode,
                                   floating* out, void* acc, Py_ssize_t n, double p0, double p1, floating hi,
                                   floating lo) noexcept nogil:
    # the kernel's forward-and-count loop with a bias: vector b counts into acc (returns 0),
    # scalar bsc returns the count; -1 if the kernel has no such loop.  These loops count
    # y > hi only (active outputs, lo = -inf); a band (saturation) takes the second pass.
    if lo != -INFINITY:
        return -1
    if floating is float:
        if bias_mode == 1 and _FWDBC_f32[kernel] != NULL:
            _FWDBC_f32[kernel](a, b, out, <int32_t*>acc, n, p0, p1, hi, lo)
            return 0
        if bias_mode == 2 and _FWDSC_f32[kernel] != NULL:
            return _FWDSC_f32[kernel](a, bsc, out, n, p0, p1, hi, lo)
    else:
        if bias_mode == 1 and _FWDBC_f64[kernel] != NULL:
            _FWDBC_f64[kernel](a, b, out, <fa_count_f64_t*>acc, n, p0, p1, hi, lo)
            return 0
        if bias_mode == 2 and _FWDSC_f64[kernel] != NULL:
            return _FWDSC_f64[kernel](a, bsc, out, n, p0, p1, hi, lo)
    return -1


cdef inline bint _count4(int kernel, const floating* a, Py_ssize_t stride, const floating* b, floating* out,
                         void* acc, Py_ssize_t n, double p0, double p1, floating hi, floating lo) noexcept nogil:
    # four rows `stride` apart through the kernel's four-row count loop; False if it has none
    if lo != -INFINITY:
        return False
    if floating is float:
        if _FWDBC4_f32[kernel] == NULL:
            return False
        _FWDBC4_f32[kernel](a, a + stride, a + 2 * stride, a + 3 * stride, b, out, out + stride, out + 2 * stride,
                            out + 3 * stride, <int32_t*>acc, n, p0, p1, hi)
    else:
        if _FWDBC4_f64[kernel] == NULL:
            return False
        _FWDBC4_f64[kernel](a, a + stride, a + 2 * stride, a + 3 * stride, b, out, out + stride, out + 2 * stride,
                            out + 3 * stride, <fa_count_f64_t*>acc, n, p0, p1, hi)
    return True


cdef inline void _bias_block(int kernel, bint backward, const floating* a, const floating* s,
                             const floating* b, floating bsc, int bias_mode, floating* out, Py_ssize_t n,
                             double p0, double p1) noexcept nogil:
    # one block: bias_mode 0 no bias, 1 vector b, 2 scalar bsc (added to a, or to s backward)
    if bias_mode == 0:
        _kernel_loop(kernel, backward, a, s, out, n, p0, p1)
    else:
        _fused_loop(kernel, backward, a, s, b, bsc, bias_mode, out, n, p0, p1)


cdef inline void _reduce_into(int red, const floating* v, void* acc, Py_ssize_t n, floating hi,
                              floating lo) noexcept nogil:
    # per-position partials: counts in an integer of the data's width, sums in double
    if floating is float:
        if red == RED_COUNT:
            fa_count_into_f32(v, <int32_t*>acc, n, hi, lo)
        elif red == RED_SUM:
            fa_sum_into_f32(v, <double*>acc, n)
    else:
        if red == RED_COUNT:
            fa_count_into_f64(v, <fa_count_f64_t*>acc, n, hi, lo)
        elif red == RED_SUM:
            fa_sum_into_f64(v, <double*>acc, n)


cdef inline double _reduce(int red, const floating* v, Py_ssize_t n, floating hi, floating lo) noexcept nogil:
    if floating is float:
        return fa_count_f32(v, n, hi, lo) if red == RED_COUNT else fa_sum_f32(v, n)
    else:
        return fa_count_f64(v, n, hi, lo) if red == RED_COUNT else fa_sum_f64(v, n)


cdef struct _Layout:
    Py_ssize_t n, C, inner
    bint seg             # segments (scalar bias) or tiles (expanded vector bias)
    Py_ssize_t T, m, G   # tiles: tile length, column blocks per tile, tiles per group
    Py_ssize_t units     # parallel work units
    Py_ssize_t nparts    # partials of the reduction
    Py_ssize_t ps        # tiles: the stride of a group's row of partials (T, or more: _spread_partials)


cdef _Layout _layout(Py_ssize_t n, Py_ssize_t C, Py_ssize_t inner):
    cdef _Layout L
    cdef Py_ssize_t P, npieces
    if C == 1:
        # one unit (one weight, one bias value): the whole array is one
        # segment, whatever its length, not a tile of copies of that value
        inner = max(n, 1)
    P = C * inner
    L.n, L.C, L.inner = n, C, inner
    L.seg = inner >= SEG_MIN or C == 1
    if L.seg:
        npieces = (inner + BLOCK - 1) // BLOCK
        L.T, L.m, L.G, L.ps = inner, npieces, 1, inner
        L.units = (n // inner) * npieces
        L.nparts = L.units
    else:
        # rows of at least SEG_MIN run as they are; shorter ones are tiled
        L.T = P if P >= SEG_MIN else P * max(1, min((VEC_TILE + P - 1) // P, n // P))
        L.m = (L.T + BLOCK - 1) // BLOCK
        _group_tiles(&L, max(<Py_ssize_t>GROUP_MIN, (GROUP_ELEMS + L.T - 1) // L.T))
    return L


cdef inline Py_ssize_t _ntiles(_Layout* L) noexcept nogil:
    return (L.n + L.T - 1) // L.T


cdef void _group_tiles(_Layout* L, Py_ssize_t G) noexcept nogil:
    # tiles: G tiles per group, and the work units and partials that follow
    cdef Py_ssize_t ngroups = (_ntiles(L) + G - 1) // G
    L.G = G
    L.units = ngroups * L.m
    L.ps = L.T
    L.nparts = ngroups * L.ps


cdef void _spread_partials(_Layout* L, Py_ssize_t itemsize) noexcept nogil:
    # groups' rows of partials at least a page apart, for groups that threads
    # update at the same time: rows 4000 bytes apart (1000 float32 units) made
    # relu + bias with counts 62% slower than without on 2 threads, rows with a
    # gap of 2 KiB or more 16% (C harness, in place, arrays in L3): a row's end
    # and the next row's start otherwise share a cache line, or sit within the
    # other core's prefetch of the lines that follow its own
    L.ps = ((L.T * itemsize + 4095) // 4096 + 1) * 4096 // itemsize
    L.nparts = (L.nparts // L.T) * L.ps


cdef cnp.ndarray _tile_values(cnp.ndarray v, _Layout* L):
    # what the kernels read per position: v itself, or (tiles whose pattern is
    # not v) the pattern of one tile
    if L.seg or (L.T == L.C and L.inner == 1):
        return v
    return _pattern(v, L.C, L.inner, L.T)


cdef cnp.ndarray _pattern(cnp.ndarray v, Py_ssize_t C, Py_ssize_t inner, Py_ssize_t T):
    # the per-unit values of one tile: e[j] = v[(j // inner) % C], j < T (T a
    # multiple of C inner); in C, as np.tile(np.repeat(v, inner), ...) costs
    # more than a small call's kernel (v float32 or float64)
    cdef cnp.npy_intp dim = T
    cdef cnp.ndarray e = cnp.PyArray_EMPTY(1, &dim, cnp.PyArray_TYPE(v), 0)
    if cnp.PyArray_TYPE(v) == cnp.NPY_FLOAT32:
        _fill_pattern(<const float*>cnp.PyArray_DATA(v), <float*>cnp.PyArray_DATA(e), C, inner, T)
    else:
        _fill_pattern(<const double*>cnp.PyArray_DATA(v), <double*>cnp.PyArray_DATA(e), C, inner, T)
    return e


cdef void _fill_pattern(const floating* v, floating* e, Py_ssize_t C, Py_ssize_t inner, Py_ssize_t T) noexcept nogil:
    # one period of C inner typed stores (a memcpy of the item's size per
    # element, its size not known to the compiler, cost 2.6 us of a prelu over
    # 10 x 100 float32 with 1000 elements), then copies of it
    cdef Py_ssize_t c, j, P = C * inner
    if inner == 1:
        memcpy(e, v, C * sizeof(floating))
    else:
        for c in range(C):
            for j in range(inner):
                e[c * inner + j] = v[c]
    j = P
    while j < T:
        memcpy(e + j, e, min(P, T - j) * sizeof(floating))
        j += P


cdef inline void _bias_unit(_Layout* L, Py_ssize_t u, int kernel, bint backward, const floating* a,
                            const floating* s, const floating* b, bint bias_in, floating* out, int red,
                            floating hi, floating lo, void* part, double p0, double p1) noexcept nogil:
    # part: segments, one double per unit; tiles, a row of T per group (partial_t)
    cdef Py_ssize_t g, q, r, off, ln, rend, c
    cdef int mode = 0
    cdef floating bsc = 0
    cdef void* acc
    if L.seg:
        g = u // L.m                       # the segment
        q = u % L.m                        # its piece
        off = g * L.inner + q * BLOCK
        ln = min(<Py_ssize_t>BLOCK, L.inner - q * BLOCK)
        if bias_in:
            mode = 2
            bsc = b[g % L.C]
        c = -1
        if red == RED_COUNT and bias_in:
            c = _count_loop(kernel, a + off, NULL, bsc, mode, out + off, NULL, ln, p0, p1, hi, lo)
        if c < 0:
            _bias_block(kernel, backward, a + off, (s + off) if s != NULL else NULL, NULL, bsc, mode,
                        out + off, ln, p0, p1)
            if red != RED_NONE:
                (<double*>part)[u] = _reduce(red, out + off, ln, hi, lo)
        else:
            (<double*>part)[u] = c
        return
    g = u // L.m                           # the group of tiles
    q = u % L.m                            # the column block
    if bias_in:
        mode = 1
    if red == RED_COUNT:
        acc = <void*>(<char*>part + (g * L.ps + q * BLOCK) * sizeof(floating))   # partial_t, of floating's width
    else:
        acc = <void*>((<double*>part) + g * L.ps + q * BLOCK)
    rend = min((g + 1) * L.G, _ntiles(L))
    r = g * L.G
    if red == RED_COUNT and bias_in:
        # four whole tiles at a time where the kernel has the loop
        ln = min(<Py_ssize_t>BLOCK, L.T - q * BLOCK)
        while r + 4 <= rend and (r + 4) * L.T <= L.n and _count4(kernel, a + r * L.T + q * BLOCK, L.T,
                                                                b + q * BLOCK, out + r * L.T + q * BLOCK,
                                                                acc, ln, p0, p1, hi, lo):
            r += 4
    while r < rend:
        off = r * L.T + q * BLOCK
        ln = min(min(<Py_ssize_t>BLOCK, L.T - q * BLOCK), L.n - off)
        r += 1
        if ln <= 0:
            break
        if red == RED_COUNT and bias_in and _count_loop(kernel, a + off, b + q * BLOCK, bsc, mode, out + off,
                                                        acc, ln, p0, p1, hi, lo) == 0:
            continue
        _bias_block(kernel, backward, a + off, (s + off) if s != NULL else NULL,
                    (b + q * BLOCK) if bias_in else NULL, bsc, mode, out + off, ln, p0, p1)
        if red != RED_NONE:
            _reduce_into(red, out + off, acc, ln, hi, lo)


cdef void _bias_run(_Layout* L, int kernel, bint backward, const floating* a, const floating* s,
                    const floating* b, bint bias_in, floating* out, int red, floating hi, floating lo,
                    void* part, double p0, double p1, int nthreads) noexcept nogil:
    cdef Py_ssize_t u
    cdef fa_fpflags_t flags = fa_fpflags_save()
    if nthreads <= 1 or L.units < 2:
        for u in range(L.units):
            _bias_unit(L, u, kernel, backward, a, s, b, bias_in, out, red, hi, lo, part, p0, p1)
    else:
        for u in prange(L.units, num_threads=nthreads, schedule='static'):
            _bias_unit(L, u, kernel, backward, a, s, b, bias_in, out, red, hi, lo, part, p0, p1)
    fa_fpflags_restore(flags)


def bias_act(int kernel, bint backward, cnp.ndarray a, object s, object bias, cnp.ndarray out,
             Py_ssize_t C, Py_ssize_t inner, int red, double hi, double lo, double p0, double p1, int nthreads):
    """out = K(a + bias) (forward) or K_bwd(a, s [+ bias]) (backward, a = dy),
    the arrays viewed as (outer, C, inner) with bias[c] added along C; bias None
    adds nothing (a backward whose K takes y).  red: 0 nothing, 1 count of
    out > hi or out < lo (an int64 array of C, returned), 2 sum of out (a
    float64 array of C, returned), per unit c; else None.  Arrays C-contiguous, aligned, native, of one float
    dtype (ValueError otherwise); K = KERNELS[kernel]."""
    cdef int typenum = cnp.PyArray_TYPE(a)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise ValueError("bias_act: float32 or float64 arrays")
    _kernel_array(a, typenum, False)
    _kernel_array(out, typenum, True)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(out)
    if cnp.PyArray_SIZE(a) != n or C < 1 or inner < 1 or n % (C * inner):
        raise ValueError("bias_act: arrays differ in size or do not split into (outer, C, inner)")
    if not 0 <= kernel < len(KERNELS) or not 0 <= red <= 2:
        raise ValueError("bias_act: bad kernel or reduction")
    cdef void* sp = NULL
    if backward:
        _kernel_array(s, typenum, False)
        if cnp.PyArray_SIZE(s) != n:
            raise ValueError("bias_act: arrays differ in size")
        sp = cnp.PyArray_DATA(s)
    cdef _Layout L = _layout(n, C, inner)
    if red == RED_COUNT and not L.seg:
        # counts are exact integers in any grouping: one group of tiles per thread
        # (fewer partials to zero and fold), as long as a position's count per
        # group fits its int32 (< 2^31)
        _group_tiles(&L, max(L.G, min((_ntiles(&L) + max(nthreads, 1) - 1) // max(nthreads, 1),
                                      <Py_ssize_t>0x7fffffff)))
        _spread_partials(&L, cnp.PyArray_ITEMSIZE(a))
    cdef cnp.ndarray e = None
    if bias is not None:
        _kernel_array(bias, typenum, False)
        if cnp.PyArray_SIZE(bias) != C:
            raise ValueError("bias_act: the bias must have C entries")
        e = _tile_values(bias, &L)
    # partials: tile counts in an integer of the data's width (see partial_t), the
    # rest in double; C memory, zeroed (tile partials accumulate)
    cdef Py_ssize_t itemsize = cnp.PyArray_ITEMSIZE(a) if red == RED_COUNT and not L.seg else sizeof(double)
    cdef void* pp = NULL
    if red != RED_NONE:
        pp = calloc(max(L.nparts, 1), itemsize)
        if pp == NULL:
            raise MemoryError()
    cdef const void* ep = cnp.PyArray_DATA(e) if e is not None else NULL
    cdef void* ap = cnp.PyArray_DATA(a)
    cdef void* op = cnp.PyArray_DATA(out)
    cdef bint bias_in = e is not None
    cdef cnp.ndarray res
    cdef cnp.npy_intp dim = C
    try:
        if n:
            with nogil:
                if typenum == cnp.NPY_FLOAT32:
                    _bias_run(&L, kernel, backward, <const float*>ap, <const float*>sp, <const float*>ep, bias_in,
                              <float*>op, red, <float>hi, <float>lo, pp, p0, p1, nthreads)
                else:
                    _bias_run(&L, kernel, backward, <const double*>ap, <const double*>sp, <const double*>ep,
                              bias_in, <double*>op, red, hi, lo, pp, p0, p1, nthreads)
        if red == RED_NONE:
            return None
        # counts as int64, sums as float64
        res = cnp.PyArray_ZEROS(1, &dim, cnp.NPY_INT64 if red == RED_COUNT else cnp.NPY_FLOAT64, 0)
        if n:
            with nogil:
                if red == RED_SUM:
                    _fold(&L, <const double*>pp, <double*>cnp.PyArray_DATA(res))
                elif L.seg:
                    _fold(&L, <const double*>pp, <int64_t*>cnp.PyArray_DATA(res))
                elif typenum == cnp.NPY_FLOAT32:
                    _fold(&L, <const int32_t*>pp, <int64_t*>cnp.PyArray_DATA(res))
                else:
                    _fold(&L, <const fa_count_f64_t*>pp, <int64_t*>cnp.PyArray_DATA(res))
        return res
    finally:
        free(pp)


cdef void _fold(_Layout* L, const partial_t* p, total_t* r) noexcept nogil:
    # _fold_sums with the caller's floating-point flags restored: a sum past
    # the double range is inf, its overflow flag not left set (as the kernels'
    # drivers do: prelu_backward's weight gradient over -1.7e308 left it)
    cdef fa_fpflags_t flags = fa_fpflags_save()
    _fold_sums(L, p, r)
    fa_fpflags_restore(flags)


cdef void _fold_sums(_Layout* L, const partial_t* p, total_t* r) noexcept nogil:
    # the per-unit totals into r (zeroed; counts are whole numbers in any
    # partial_t, so the casts are exact), adding the partials in a
    # fixed order: segments, the pieces of each segment; tiles, position by
    # position through the groups' rows of T partials (T is a multiple of the
    # bias pattern C inner)
    cdef Py_ssize_t i, g, c, k, ngroups, P = L.C * L.inner
    cdef const partial_t* q
    cdef total_t t
    if L.seg:
        # p[segment * m + piece]: segments cycle through the units
        c = k = 0
        t = 0
        for i in range(L.units):
            t += <total_t>p[i]
            k += 1
            if k == L.m:
                r[c] += t
                t = 0
                k = 0
                c += 1
                if c == L.C:
                    c = 0
        return
    ngroups = L.nparts // L.ps
    for g in range(ngroups):
        i = 0
        while i < L.T:
            q = p + g * L.ps + i
            if L.inner == 1:
                for c in range(L.C):
                    r[c] += <total_t>q[c]
            else:
                for c in range(L.C):
                    t = 0
                    for k in range(c * L.inner, (c + 1) * L.inner):
                        t += <total_t>q[k]
                    r[c] += t
            i += P


# ================================================================ prelu

cdef inline bint _finite(const floating* a, Py_ssize_t n) noexcept nogil:
    # no inf or NaN in a (x - x is 0 for finite x, NaN otherwise)
    cdef Py_ssize_t i
    cdef floating z = 0
    for i in range(n):
        z = z + (a[i] - a[i])
    return z == 0


def all_finite(cnp.ndarray a):
    """True if the C-contiguous float32/float64 array a holds no inf or NaN."""
    cdef int typenum = cnp.PyArray_TYPE(a)
    _kernel_array(a, typenum, False)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise ValueError("all_finite: float32 or float64 array")
    return _arr_finite(a)


cdef inline bint _arr_finite(cnp.ndarray a):
    # all_finite for a checked float32/float64 array
    if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32:
        return _finite(<const float*>cnp.PyArray_DATA(a), cnp.PyArray_SIZE(a))
    return _finite(<const double*>cnp.PyArray_DATA(a), cnp.PyArray_SIZE(a))


cdef inline void _prelu_vec(const floating* x, const floating* w, floating* y, Py_ssize_t n) noexcept nogil:
    # y = x if x > 0 else w x, a weight per element (w x is exact before its one
    # rounding, as leaky_relu's product in double).  w[i] is read whatever x:
    # read in the select's branch it became a masked load, and GCC kept the
    # vector it merged into on the stack (0.85 -> 0.47 us, 10 x 100 float32)
    cdef Py_ssize_t i
    cdef floating v, wv
    for i in range(n):
        v = x[i]
        wv = w[i]
        y[i] = v if v > 0 else wv * v


cdef inline void _prelu_sc(const floating* x, floating w, floating* y, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = x[i]
        y[i] = v if v > 0 else w * v


cdef inline double _prelu_bwd_block(const floating* dy, const floating* x, const floating* w, floating wsc,
                                    floating* dx, double* acc, Py_ssize_t n) noexcept nogil:
    if floating is float:
        if w != NULL:
            fa_prelu_bwd_into_f32(dy, x, w, dx, acc, n)
            return 0.0
        return fa_prelu_bwd_f32(dy, x, wsc, dx, n)
    else:
        if w != NULL:
            fa_prelu_bwd_into_f64(dy, x, w, dx, acc, n)
            return 0.0
        return fa_prelu_bwd_f64(dy, x, wsc, dx, n)


cdef inline void _prelu_unit(_Layout* L, Py_ssize_t u, const floating* dy, const floating* x, const floating* w,
                             floating* out, double* part, bint stream) noexcept nogil:
    # work unit u of bias_act's layout: a piece of a segment (its channel's
    # weight as a scalar) or a column block of a group of tiles (the weight
    # pattern of one tile).  Forward (dy NULL): out = prelu(x); backward: out
    # = dx, the weight gradient's partials into part as bias_act's sums.
    # stream: each block is computed into buf (L1) and streamed out (as the
    # elementwise drivers' large outputs; the caller fences)
    cdef Py_ssize_t g = u // L.m, q = u % L.m, off, ln, r, rend
    cdef floating buf[BLOCK]
    cdef floating* dst
    if L.seg:
        off = g * L.inner + q * BLOCK
        ln = min(<Py_ssize_t>BLOCK, L.inner - q * BLOCK)
        dst = &buf[0] if stream else out + off
        if dy == NULL:
            _prelu_sc(x + off, w[g % L.C], dst, ln)
        else:
            part[u] = _prelu_bwd_block(dy + off, x + off, NULL, w[g % L.C], dst, NULL, ln)
        if stream:
            fa_stream_copy(out + off, buf, ln * sizeof(floating))
        return
    rend = min((g + 1) * L.G, _ntiles(L))
    for r in range(g * L.G, rend):
        off = r * L.T + q * BLOCK
        ln = min(min(<Py_ssize_t>BLOCK, L.T - q * BLOCK), L.n - off)
        if ln <= 0:
            break
        dst = &buf[0] if stream else out + off
        if dy == NULL:
            _prelu_vec(x + off, w + q * BLOCK, dst, ln)
        else:
            _prelu_bwd_block(dy + off, x + off, w + q * BLOCK, 0, dst, part + g * L.ps + q * BLOCK, ln)
        if stream:
            fa_stream_copy(out + off, buf, ln * sizeof(floating))


cdef void _prelu_run(_Layout* L, const floating* dy, const floating* x, const floating* w, floating* out,
                     double* part, int nthreads) noexcept nogil:
    # the work units over the threads, or in order on one (no OpenMP team);
    # the forward's output, of _stream_min_bytes or more and not over x,
    # streamed out.  4e7 elements, 2 threads, against the parallel memcpy,
    # streamed / not, while the machine's memory ran slow (copy 5300 Melem/s
    # float32, 2600 float64): forward 1.17-1.26 / 0.99-1.04 (float32),
    # 1.08-1.10 / 0.99-1.01 (float64); backward 1.02-1.14 / 0.94-1.03 and
    # 0.96-1.00 / 1.01-1.07.  While it ran fast (9000, 4200): forward mixed
    # (0.83-1.18 / 0.97, 0.89-1.01 / 1.04-1.08), backward lost (0.65 / 0.71-
    # 0.81).  So the backward, which also sums the weight's gradient, is not
    # streamed
    cdef Py_ssize_t u
    cdef bint stream = (dy == NULL and L.n >= _stream_min_bytes // <Py_ssize_t>sizeof(floating)
                        and <const floating*>out != x)
    cdef fa_fpflags_t flags = fa_fpflags_save()
    if nthreads <= 1 or L.units < 2:
        for u in range(L.units):
            _prelu_unit(L, u, dy, x, w, out, part, stream)
        if stream:
            fa_stream_fence()
    else:
        with parallel(num_threads=nthreads):
            for u in prange(L.units, schedule='static'):
                _prelu_unit(L, u, dy, x, w, out, part, stream)
            if stream:
                fa_stream_fence()
    fa_fpflags_restore(flags)


cdef cnp.ndarray _prelu_go(int typenum, const void* dp, const void* xp, cnp.ndarray w, const void* wsc, void* op,
                           Py_ssize_t n, Py_ssize_t C, Py_ssize_t inner, int nthreads):
    # prelu over n > 0 elements of typenum viewed as (outer, C, inner), with
    # the weights w (C entries of typenum) or, w None, the one at wsc (C = 1):
    # the forward (dp NULL) op = prelu(xp), returning None, or the backward
    # op = dx from dy = dp and x, returning dweight (float64, C entries: per
    # channel the sum of dy x where x <= 0, in an order fixed by the shape, so
    # the same bits for any thread count).
    cdef _Layout L = _layout(n, C, inner)
    if dp != NULL and not L.seg:
        _group_tiles(&L, max(L.G, 64))     # at most one partial per 64 elements
    cdef cnp.ndarray e = _tile_values(w, &L) if w is not None else None
    cdef const void* ep = (<const void*>cnp.PyArray_DATA(e)) if e is not None else wsc
    cdef cnp.npy_intp dim = C
    cdef cnp.ndarray res = None
    cdef double* pp = NULL
    if dp != NULL:
        res = cnp.PyArray_ZEROS(1, &dim, cnp.NPY_FLOAT64, 0)
        pp = <double*>calloc(max(L.nparts, 1), sizeof(double))
        if pp == NULL:
            raise MemoryError()
    try:
        with nogil:
            if typenum == cnp.NPY_FLOAT32:
                _prelu_run(&L, <const float*>dp, <const float*>xp, <const float*>ep, <float*>op, pp, nthreads)
            else:
                _prelu_run(&L, <const double*>dp, <const double*>xp, <const double*>ep, <double*>op, pp, nthreads)
            if pp != NULL:
                _fold(&L, <const double*>pp, <double*>cnp.PyArray_DATA(res))
    finally:
        free(pp)
    return res


cdef int _prelu_arrays(str fname, cnp.ndarray dy, cnp.ndarray x, cnp.ndarray w, cnp.ndarray out, Py_ssize_t C,
                       Py_ssize_t inner) except -1:
    # the checks of prelu_forward / prelu_backward (dy None: the forward)
    cdef int typenum = cnp.PyArray_TYPE(x)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise ValueError("%s: float32 or float64 arrays" % fname)
    _kernel_array(x, typenum, False)
    _kernel_array(out, typenum, True)
    _kernel_array(w, typenum, False)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(out)
    if dy is not None:
        _kernel_array(dy, typenum, False)
    if (cnp.PyArray_SIZE(x) != n or (dy is not None and cnp.PyArray_SIZE(dy) != n) or C < 1 or inner < 1
            or n % (C * inner) or cnp.PyArray_SIZE(w) != C):
        raise ValueError("%s: arrays differ in size or do not split into (outer, C, inner)" % fname)
    return typenum


def prelu_forward(cnp.ndarray x, cnp.ndarray w, cnp.ndarray y, Py_ssize_t C, Py_ssize_t inner, int nthreads):
    """y = x if x > 0 else w[c] x, the arrays viewed as (outer, C, inner) (w has
    C entries); C-contiguous, aligned, native arrays of one float dtype."""
    cdef int typenum = _prelu_arrays("prelu_forward", None, x, w, y, C, inner)
    if cnp.PyArray_SIZE(y):
        _prelu_go(typenum, NULL, cnp.PyArray_DATA(x), w, NULL, cnp.PyArray_DATA(y), cnp.PyArray_SIZE(y), C, inner,
                  nthreads)


def prelu_backward(cnp.ndarray dy, cnp.ndarray x, cnp.ndarray w, cnp.ndarray dx, Py_ssize_t C, Py_ssize_t inner,
                   int nthreads):
    """dx = dy where x > 0, else dy w[c]; returns dweight (float64, C entries):
    per channel, the sum of dy x where x <= 0, in an order fixed by the shape
    (the same bits for any thread count).  Arrays as prelu_forward's; dx may
    be dy or x."""
    cdef int typenum = _prelu_arrays("prelu_backward", dy, x, w, dx, C, inner)
    cdef cnp.npy_intp dim = C
    if cnp.PyArray_SIZE(dx) == 0:
        return cnp.PyArray_ZEROS(1, &dim, cnp.NPY_FLOAT64, 0)
    return _prelu_go(typenum, cnp.PyArray_DATA(dy), cnp.PyArray_DATA(x), w, NULL, cnp.PyArray_DATA(dx),
                     cnp.PyArray_SIZE(dx), C, inner, nthreads)


cdef int _prelu_plain(object x, object w, object axis, Py_ssize_t* C, Py_ssize_t* inner, double* wsc,
                      int* wnd) except -2:
    # the typenum of the common prelu call, -1 otherwise: x plain, axis an
    # int, and a finite weight that is either
    # - a plain 1-D array of x's dtype with x.shape[axis] entries (*wnd = -1);
    # - one weight for every element (C = 1, *wsc its value in x's dtype): a
    #   Python float, a NumPy float64 or float32 scalar (*wnd = 0), or a plain
    #   array of x's dtype with one entry, 0-d or 1-D (*wnd: its ndim, which
    #   dweight takes); the axis is not used then (as on the general path)
    if not cnp.PyArray_Check(x) or type(axis) is not int:
        return -1
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef int typenum = cnp.PyArray_TYPE(xa), nd = cnp.PyArray_NDIM(xa), i
    cdef Py_ssize_t ax = <Py_ssize_t>axis
    cdef double v
    cdef float vf
    cdef fa_fpflags_t flags
    if (typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64) or nd == 0 or not _plain(x, typenum):
        return -1                               # (0-d x: the general path returns a NumPy scalar)
    wnd[0] = 0
    wsc[0] = 0.0        # (_prelu_fast_go converts it to float whatever the weight: garbage left
                        # MXCSR's underflow flag set)
    if isinstance(w, float) or type(w) is _NP_FLOAT32:
        v = w
    elif _plain(w, typenum) and cnp.PyArray_NDIM(<cnp.ndarray>w) <= 1 and cnp.PyArray_SIZE(<cnp.ndarray>w) == 1:
        wnd[0] = cnp.PyArray_NDIM(<cnp.ndarray>w)
        if typenum == cnp.NPY_FLOAT32:
            v = (<const float*>cnp.PyArray_DATA(<cnp.ndarray>w))[0]
        else:
            v = (<const double*>cnp.PyArray_DATA(<cnp.ndarray>w))[0]
    else:
        wnd[0] = -1
    if wnd[0] >= 0:
        if typenum == cnp.NPY_FLOAT32:
            flags = fa_fpflags_save()           # (a double beyond float's range: inf, the flag not left set)
            vf = <float>v
            fa_fpflags_restore(flags)
            v = vf
        if not v - v == 0:                      # inf or nan: the general path says so
            return -1
        wsc[0] = v
        C[0] = 1
        inner[0] = cnp.PyArray_SIZE(xa)
        return typenum
    if ax < 0:
        ax += nd
    if not 0 <= ax < nd or not _plain(w, typenum) or cnp.PyArray_NDIM(<cnp.ndarray>w) != 1 \
            or cnp.PyArray_DIM(<cnp.ndarray>w, 0) != cnp.PyArray_DIM(xa, ax) or cnp.PyArray_DIM(xa, ax) == 0:
        return -1
    if not _arr_finite(<cnp.ndarray>w):
        return -1
    C[0] = cnp.PyArray_DIM(xa, ax)
    inner[0] = 1
    for i in range(ax + 1, nd):
        inner[0] *= cnp.PyArray_DIM(xa, i)
    return typenum



cdef cnp.ndarray _prelu_fast_go(int typenum, object dy, object x, object w, double wsc, int wnd, object out,
                                Py_ssize_t C, Py_ssize_t inner, Py_ssize_t grain, object threads):
    # _prelu_go for prelu_fast / prelu_backward_fast (dy None: the forward)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    cdef float wf = <float>wsc
    cdef const void* wp = (<const void*>&wf) if typenum == cnp.NPY_FLOAT32 else (<const void*>&wsc)
    return _prelu_go(typenum, cnp.PyArray_DATA(<cnp.ndarray>dy) if dy is not None else NULL,
                     cnp.PyArray_DATA(<cnp.ndarray>x), w if wnd < 0 else None, wp,
                     cnp.PyArray_DATA(<cnp.ndarray>out), n, C, inner, threads() if n >= grain else 1)


def prelu_fast(object x, object w, object axis, object out, Py_ssize_t grain, object threads):
    """prelu's forward for the common call (see _prelu_plain; out None, x or a
    disjoint plain array of x's shape), or None to decline."""
    cdef Py_ssize_t C, inner
    cdef double wsc
    cdef int wnd
    cdef int typenum = _prelu_plain(x, w, axis, &C, &inner, &wsc, &wnd)
    if typenum < 0:
        return None
    y = _fast_target(out, cnp.PyArray_NDIM(<cnp.ndarray>x), cnp.PyArray_DIMS(<cnp.ndarray>x), typenum, (x,))
    if y is None:
        return None
    if cnp.PyArray_SIZE(<cnp.ndarray>x):
        _prelu_fast_go(typenum, None, x, w, wsc, wnd, y, C, inner, grain, threads)
    return y


def prelu_backward_fast(object dy, object x, object w, object axis, object out, Py_ssize_t grain, object threads,
                        bint dw64):
    """prelu's backward for the common call (x and the weight as prelu_fast's,
    dy a plain array of x's shape and dtype, out None, dy, x or disjoint):
    (dx, dweight in x's dtype and the weight's shape, or 1-D float64 with
    dw64), or None to decline."""
    cdef Py_ssize_t C, inner, c
    cdef double wsc
    cdef int wnd
    cdef int typenum = _prelu_plain(x, w, axis, &C, &inner, &wsc, &wnd)
    if typenum < 0 or not _plain(dy, typenum) or not _same_shape(<cnp.ndarray>dy, <cnp.ndarray>x):
        return None
    dx = _fast_target(out, cnp.PyArray_NDIM(<cnp.ndarray>x), cnp.PyArray_DIMS(<cnp.ndarray>x), typenum, (x, dy))
    if dx is None:
        return None
    cdef cnp.npy_intp dim = C
    cdef cnp.ndarray dw
    if cnp.PyArray_SIZE(<cnp.ndarray>x):
        dw = _prelu_fast_go(typenum, dy, x, w, wsc, wnd, dx, C, inner, grain, threads)
    else:
        dw = cnp.PyArray_ZEROS(1, &dim, cnp.NPY_FLOAT64, 0)
    if dw64:
        return dx, dw
    # in x's dtype (float32: a sum beyond its range is inf, the overflow flag
    # not left behind) and the weight's shape
    cdef cnp.ndarray res = cnp.PyArray_EMPTY(wnd if wnd >= 0 else 1, &dim, typenum, 0)
    cdef const double* src = <const double*>cnp.PyArray_DATA(dw)
    cdef fa_fpflags_t flags = fa_fpflags_save()
    if typenum == cnp.NPY_FLOAT32:
        for c in range(C):
            (<float*>cnp.PyArray_DATA(res))[c] = <float>src[c]
    else:
        memcpy(cnp.PyArray_DATA(res), src, C * sizeof(double))
    fa_fpflags_restore(flags)
    return dx, res


# ================================================================ rrelu

cdef extern from "fa_math.h" nogil:
    double fa_uniform(uint64_t seed, uint64_t i)


cdef inline void _rrelu_fwd_block(const floating* x, floating* y, Py_ssize_t n, uint64_t seed, uint64_t base,
                                  double lower, double width) noexcept nogil:
    # n elements drawing indices base, base + 1, ...: the slope of index i is
    # lower + width U(seed, i) (fa_uniform, whose 64-bit products AVX-512
    # vectorizes), applied as leaky_relu applies alpha (float32: the same
    # split product, the slope split by fa_splitf_trunc, whose loop SSE2
    # vectorizes; the same pair for slopes in float's normal range)
    cdef Py_ssize_t i
    cdef double s
    cdef float sh, sl
    cdef floating v
    for i in range(n):
        s = lower + width * fa_uniform(seed, base + <uint64_t>i)
        if floating is float:
            _ops.fa_splitf_trunc(s, &sh, &sl)
            v = x[i]
            y[i] = _ops.fa_mulf_split(v, sh, sl) if v < 0 else v
        else:
            y[i] = _ops.leaky_relu_fwd(x[i], s, 0.0)


cdef inline void _rrelu_bwd_block(const floating* dy, const floating* x, floating* dx, Py_ssize_t n, uint64_t seed,
                                  uint64_t base, double lower, double width) noexcept nogil:
    # the same slopes as leaky_relu's backward applies alpha
    cdef Py_ssize_t i
    for i in range(n):
        dx[i] = _ops.leaky_relu_bwd(dy[i], x[i], lower + width * fa_uniform(seed, base + <uint64_t>i), 0.0)


cdef void _rrelu_run(const floating* a, const floating* b, floating* out, Py_ssize_t rows, Py_ssize_t run,
                     const int64_t* starts, uint64_t seed, double lower, double width, bint backward,
                     int nthreads) noexcept nogil:
    # rows of run elements, row r's element j drawing index starts[r] + j (r
    # run + j without starts), in blocks of BLOCK over the threads or in
    # order on one (no OpenMP team)
    cdef Py_ssize_t nb = (run + BLOCK - 1) // BLOCK, u
    cdef fa_fpflags_t flags = fa_fpflags_save()
    if nthreads <= 1 or rows * nb < 2:
        for u in range(rows * nb):
            _rrelu_unit(a, b, out, u, nb, run, starts, seed, lower, width, backward)
    else:
        for u in prange(rows * nb, num_threads=nthreads, schedule='static'):
            _rrelu_unit(a, b, out, u, nb, run, starts, seed, lower, width, backward)
    fa_fpflags_restore(flags)


cdef inline void _rrelu_unit(const floating* a, const floating* b, floating* out, Py_ssize_t u, Py_ssize_t nb,
                             Py_ssize_t run, const int64_t* starts, uint64_t seed, double lower, double width,
                             bint backward) noexcept nogil:
    cdef Py_ssize_t r = u // nb, q = u % nb, off = r * run + q * BLOCK
    cdef uint64_t base = (<uint64_t>starts[r] if starts != NULL else <uint64_t>(r * run)) + <uint64_t>(q * BLOCK)
    cdef Py_ssize_t ln = min(<Py_ssize_t>BLOCK, run - q * BLOCK)
    if backward:
        _rrelu_bwd_block(a + off, b + off, out + off, ln, seed, base, lower, width)
    else:
        _rrelu_fwd_block(a + off, out + off, ln, seed, base, lower, width)


def rrelu_train(cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, double lower, double upper, uint64_t seed,
                bint backward, int nthreads, cnp.ndarray starts=None):
    """Training-mode rrelu with slopes s_i = lower + (upper - lower) U(seed, i):
    forward (a = x, b unused): out = x if x > 0 else s_i x;
    backward (a = dy, b = x): out = dy (1 if x > 0 else s_i), the same s_i.
    C-contiguous, aligned, native arrays of one float dtype and size.

    i is the element's index in the arrays; with `starts` (int64, C-contiguous),
    the arrays are len(starts) rows of equal length and element j of row r has
    the index starts[r] + j instead: a block of a larger array, given its rows'
    flat indices there, draws the slopes that array draws (fastact._dask).
    The slopes depend on (seed, i) alone: the same bits for any thread count
    and instruction set."""
    cdef int typenum = cnp.PyArray_TYPE(out)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise ValueError("rrelu_train: float32 or float64 arrays")
    _kernel_array(a, typenum, False)
    _kernel_array(b, typenum, False)
    _kernel_array(out, typenum, True)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(out), rows = 1
    cdef const int64_t* sp = NULL
    if starts is not None:
        if cnp.PyArray_TYPE(starts) != cnp.NPY_INT64 or not cnp.PyArray_IS_C_CONTIGUOUS(starts) \
                or not cnp.PyArray_ISALIGNED(starts) or not cnp.PyArray_ISNOTSWAPPED(starts):
            raise ValueError("rrelu_train: starts must be a C-contiguous native int64 array")
        rows = cnp.PyArray_SIZE(starts)
        sp = <const int64_t*>cnp.PyArray_DATA(starts)
    if cnp.PyArray_SIZE(a) != n or cnp.PyArray_SIZE(b) != n or (rows and n % rows):
        raise ValueError("rrelu_train: arrays differ in size or do not split into len(starts) rows")
    if n == 0 or rows == 0:
        return
    cdef const void* ap = cnp.PyArray_DATA(a)
    cdef const void* bp = cnp.PyArray_DATA(b)
    cdef void* op = cnp.PyArray_DATA(out)
    with nogil:
        if typenum == cnp.NPY_FLOAT32:
            _rrelu_run(<const float*>ap, <const float*>bp, <float*>op, rows, n // rows, sp, seed, lower,
                       upper - lower, backward, nthreads)
        else:
            _rrelu_run(<const double*>ap, <const double*>bp, <double*>op, rows, n // rows, sp, seed, lower,
                       upper - lower, backward, nthreads)


# ================================================================ maxout

cdef inline bint _wins(floating v, floating top) noexcept nogil:
    # v replaces the running maximum of a group: the first maximum, the first NaN wins
    # (bitwise, not short-circuit: the branches of `or` kept the float64 loops
    # scalar under SSE2)
    return (v > top) | ((v != v) & (top == top))


cdef inline floating _max2(floating top, floating v) noexcept nogil:
    return v if _wins(v, top) else top


cdef inline void _maxout_block(const floating* x, floating* y, Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    # y[i] = max(x[i k : i k + k]); k = 2, 3, 4 with the stride known to the
    # vectorizer, any other k one group at a time
    cdef Py_ssize_t i, j
    cdef floating top
    if k == 2:
        for i in range(n):
            y[i] = _max2(x[2 * i], x[2 * i + 1])
    elif k == 3:
        for i in range(n):
            y[i] = _max2(_max2(x[3 * i], x[3 * i + 1]), x[3 * i + 2])
    elif k == 4:
        for i in range(n):
            y[i] = _max2(_max2(_max2(x[4 * i], x[4 * i + 1]), x[4 * i + 2]), x[4 * i + 3])
    else:
        for i in range(n):
            top = x[i * k]
            for j in range(1, k):
                top = _max2(top, x[i * k + j])
            y[i] = top


cdef inline void _maxout_bwd_block(const floating* dy, const floating* x, floating* dx, Py_ssize_t n,
                                   Py_ssize_t k) noexcept nogil:
    # dx[i k + j] = dy[i] where j is the first arg-max of x[i k : i k + k] (the
    # first NaN wins), else 0, and NaN wherever x is NaN (NaN in, NaN out: the
    # arg-max PyTorch routes dy to); k = 2 in one vector loop, any other k a
    # group at a time.  A group is read before it is written (dx may be x).
    cdef Py_ssize_t i, j, jb
    cdef floating top, g, a, b, ga, gb
    cdef bint second
    if k == 2:
        for i in range(n):
            a = x[2 * i]
            b = x[2 * i + 1]
            second = _wins(b, a)
            g = dy[i]
            ga = 0 if second else g
            gb = g if second else 0
            ga = a if a != a else ga
            gb = b if b != b else gb
            dx[2 * i] = ga
            dx[2 * i + 1] = gb
        return
    for i in range(n):
        top = x[i * k]
        jb = 0
        for j in range(1, k):
            if _wins(x[i * k + j], top):
                top = x[i * k + j]
                jb = j
        g = dy[i]
        for j in range(k):
            a = x[i * k + j]
            dx[i * k + j] = a if a != a else (g if j == jb else 0)


cdef inline void _maxout_part(int typenum, bint backward, const char* dp, const char* xp, char* op,
                              Py_ssize_t lo, Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    # groups lo .. lo+m-1: forward y = op from x = xp (dp unused); backward
    # dx = op from dy = dp and x = xp
    cdef Py_ssize_t sz = 4 if typenum == cnp.NPY_FLOAT32 else 8
    if typenum == cnp.NPY_FLOAT32 and backward:
        _maxout_bwd_block(<const float*>(dp + lo * sz), <const float*>(xp + lo * k * sz),
                          <float*>(op + lo * k * sz), m, k)
    elif typenum == cnp.NPY_FLOAT32:
        _maxout_block(<const float*>(xp + lo * k * sz), <float*>(op + lo * sz), m, k)
    elif backward:
        _maxout_bwd_block(<const double*>(dp + lo * sz), <const double*>(xp + lo * k * sz),
                          <double*>(op + lo * k * sz), m, k)
    else:
        _maxout_block(<const double*>(xp + lo * k * sz), <double*>(op + lo * sz), m, k)


cdef void _maxout_run(int typenum, bint backward, const char* dp, const char* xp, char* op, Py_ssize_t n,
                      Py_ssize_t k, int nthreads) noexcept nogil:
    # n groups of k: blocks of BLOCK groups over the threads, or all at once
    # on one (no OpenMP team)
    cdef Py_ssize_t nb = (n + BLOCK - 1) // BLOCK, u
    cdef fa_fpflags_t flags = fa_fpflags_save()
    if nb < 2 or nthreads < 2:
        _maxout_part(typenum, backward, dp, xp, op, 0, n, k)
    else:
        for u in prange(nb, num_threads=nthreads, schedule='static'):
            _maxout_part(typenum, backward, dp, xp, op, u * BLOCK, min(<Py_ssize_t>BLOCK, n - u * BLOCK), k)
    fa_fpflags_restore(flags)


def maxout_kernel(bint backward, cnp.ndarray dy, cnp.ndarray x, cnp.ndarray out, Py_ssize_t k, int nthreads):
    """maxout over flat C-contiguous arrays, x of k elements per group: forward
    out[g] = max(x[g k : g k + k]) (the first maximum; the first NaN wins; dy
    unused), backward out[g k + j] = dy[g] where j is that arg-max, else 0."""
    cdef int typenum = cnp.PyArray_TYPE(x)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise ValueError("maxout_kernel: float32 or float64 arrays")
    _kernel_array(x, typenum, False)
    _kernel_array(out, typenum, True)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x) // k if k >= 1 else -1
    if backward:
        _kernel_array(dy, typenum, False)
    if (k < 1 or cnp.PyArray_SIZE(x) != n * k or (backward and cnp.PyArray_SIZE(dy) != n)
            or cnp.PyArray_SIZE(out) != (n * k if backward else n)):
        raise ValueError("maxout_kernel: x must hold k elements per group, dy one, out as many as the result")
    cdef const char* dp = <const char*>cnp.PyArray_DATA(dy if backward else x)
    cdef const char* xp = <const char*>cnp.PyArray_DATA(x)
    cdef char* op = <char*>cnp.PyArray_DATA(out)
    if n:
        with nogil:
            _maxout_run(typenum, backward, dp, xp, op, n, k, nthreads)


def maxout_fast(bint backward, object a, object x, object out, object pieces, object axis, Py_ssize_t grain,
                object threads):
    """maxout (a unused) or its backward (a = dy) over the last axis for the
    common call, or None to decline: x a plain float32/float64 array (see
    _plain) of ndim >= 1, axis its last (an int), pieces an int dividing its
    length, dy a plain array of the forward's output shape, out as
    _fast_target takes it (an input itself only where the shapes allow: x in
    the backward, either at pieces = 1; a group is read before it is
    written).  threads() is asked only for grain elements of x or more."""
    if type(pieces) is not int or type(axis) is not int or not cnp.PyArray_Check(x):
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef int typenum = cnp.PyArray_TYPE(xa), nd = cnp.PyArray_NDIM(xa)
    if (typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64) or nd == 0 or not _plain(x, typenum) \
            or (axis != -1 and axis != nd - 1):
        return None
    cdef Py_ssize_t length = cnp.PyArray_DIM(xa, nd - 1), k
    if not 0 < pieces <= length:
        return None
    k = pieces
    if length % k:
        return None
    cdef cnp.npy_intp ydims[cnp.NPY_MAXDIMS]
    memcpy(ydims, cnp.PyArray_DIMS(xa), nd * sizeof(cnp.npy_intp))
    ydims[nd - 1] = length // k
    if backward and (not _plain(a, typenum) or not _has_shape(<cnp.ndarray>a, nd, ydims)):
        return None
    r = _fast_target(out, nd, cnp.PyArray_DIMS(xa) if backward else ydims, typenum, (x, a) if backward else (x,))
    if r is None:
        return None
    cdef cnp.ndarray res = <cnp.ndarray>r
    cdef Py_ssize_t size = cnp.PyArray_SIZE(xa)
    cdef int nt = threads() if size >= grain else 1
    cdef const char* dp = <const char*>cnp.PyArray_DATA(<cnp.ndarray>a if backward else xa)
    cdef const char* xp = <const char*>cnp.PyArray_DATA(xa)
    cdef char* op = <char*>cnp.PyArray_DATA(res)
    if size >= NOGIL_MIN or nt > 1:
        with nogil:
            _maxout_run(typenum, backward, dp, xp, op, size // k, k, nt)
    elif size:
        _maxout_run(typenum, backward, dp, xp, op, size // k, k, nt)
    return out if out is not None else res


# ================================================================ linear

_matmul = numpy.matmul


cdef inline bint _disjoint(cnp.ndarray a, cnp.ndarray b):
    # C-contiguous arrays whose bytes do not intersect
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    return pa >= pb + cnp.PyArray_NBYTES(b) or pb >= pa + cnp.PyArray_NBYTES(a)


cdef object _fast_target(object out, int nd, const cnp.npy_intp* dims, int typenum, tuple inputs):
    # out, or a new array of shape dims[:nd]; None where the general path must
    # decide (a foreign out, or one that overlaps an input other than by being it)
    if out is None:
        return cnp.PyArray_EMPTY(nd, <cnp.npy_intp*>dims, typenum, 0)
    if not _plain(out, typenum) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out) \
            or not _has_shape(<cnp.ndarray>out, nd, dims):
        return None
    for a in inputs:
        if out is not a and not _disjoint(<cnp.ndarray>out, <cnp.ndarray>a):
            return None
    return out


def bias_act_fast(int kernel, object x, object bias, object out, double p0, double p1, Py_ssize_t grain,
                  object threads, int red=RED_NONE, double hi=0.0, double lo=0.0):
    """act(x + bias) along the last axis for the common call, or None to
    decline: x a float32 or float64 C-contiguous aligned native array of at
    least 1 dimension, bias None or such a 1-D array of x.shape[-1] entries,
    out None or as _fast_target takes it.  threads() is asked only for grain
    elements or more.  red RED_COUNT (hi, lo as bias_act's) returns (y, the
    int64 counts per unit of the last axis)."""
    if not cnp.PyArray_Check(x):
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x, ba = None, ya
    cdef int typenum = cnp.PyArray_TYPE(xa)
    cdef int nd = cnp.PyArray_NDIM(xa)
    if (typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64) or nd < 1 or not _plain(x, typenum):
        return None
    cdef Py_ssize_t C = cnp.PyArray_DIM(xa, nd - 1), n = cnp.PyArray_SIZE(xa)
    if bias is not None:
        if not _plain(bias, typenum) or cnp.PyArray_NDIM(<cnp.ndarray>bias) != 1 \
                or cnp.PyArray_DIM(<cnp.ndarray>bias, 0) != C:
            return None
        ba = <cnp.ndarray>bias
    y = _fast_target(out, cnp.PyArray_NDIM(xa), cnp.PyArray_DIMS(xa), typenum, (xa,) if ba is None else (xa, ba))
    if y is None:
        return None
    ya = <cnp.ndarray>y
    if n == 0 or C == 0:
        return (ya, numpy.zeros(C, numpy.int64)) if red == RED_COUNT else ya
    cnt = bias_act(kernel, False, xa.reshape(n), None, ba, ya.reshape(n), C, 1, red, hi, lo, p0, p1,
                   threads() if n >= grain else 1)
    return (ya, cnt) if red == RED_COUNT else ya


def linear_fast(int kernel, object x, object w, object bias, object out, double p0, double p1, bint epilogue,
                Py_ssize_t grain, object threads):
    """act(x @ w.T + bias) for the common call, or None to decline: float32 or
    float64 C-contiguous aligned native arrays of one dtype, x at least 1-D,
    w 2-D, bias None or 1-D of w.shape[0], out None or a writable such array
    of the result's shape sharing no memory with the operands.  The product
    is NumPy's matmul into the output; the epilogue (when `epilogue` or a
    bias is given) the bias kernels in place.  threads() is asked only for
    grain elements or more."""
    cdef int typenum, nd, i
    cdef cnp.npy_intp dims[32]
    if not cnp.PyArray_Check(x) or not cnp.PyArray_Check(w):
        return None
    typenum = cnp.PyArray_TYPE(<cnp.ndarray>x)
    if (typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64) or not _plain(x, typenum) \
            or not _plain(w, typenum):
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x, wa = <cnp.ndarray>w, ba = None, ya
    nd = cnp.PyArray_NDIM(xa)
    if cnp.PyArray_NDIM(wa) != 2 or nd < 1 or nd > 32 or cnp.PyArray_DIM(xa, nd - 1) != cnp.PyArray_DIM(wa, 1):
        return None
    cdef Py_ssize_t N = cnp.PyArray_DIM(wa, 0), K = cnp.PyArray_DIM(wa, 1)
    if bias is not None:
        if not _plain(bias, typenum) or cnp.PyArray_NDIM(<cnp.ndarray>bias) != 1 \
                or cnp.PyArray_DIM(<cnp.ndarray>bias, 0) != N:
            return None
        ba = <cnp.ndarray>bias
    for i in range(nd - 1):
        dims[i] = cnp.PyArray_DIM(xa, i)
    dims[nd - 1] = N
    if out is None:
        ya = cnp.PyArray_EMPTY(nd, dims, typenum, 0)
    else:
        if not _plain(out, typenum):
            return None
        ya = <cnp.ndarray>out
        if not cnp.PyArray_ISWRITEABLE(ya) or cnp.PyArray_NDIM(ya) != nd:
            return None
        for i in range(nd):
            if cnp.PyArray_DIM(ya, i) != dims[i]:
                return None
        if not _disjoint(ya, xa) or not _disjoint(ya, wa) or (ba is not None and not _disjoint(ya, ba)):
            return None
    cdef Py_ssize_t M = (cnp.PyArray_SIZE(xa) // K) if K else cnp.PyArray_SIZE(ya) // max(N, 1)
    cdef Py_ssize_t n = M * N
    _matmul(xa.reshape(M, K), wa.T, out=ya.reshape(M, N))
    if n == 0 or not (epilogue or ba is not None):
        return ya
    bias_act(kernel, False, ya.reshape(n), None, ba, ya.reshape(n), N, 1, RED_NONE, 0.0, 0.0, p0, p1,
             threads() if n >= grain else 1)
    return ya
