# The row kernels: softmax and log_softmax, forward and backward, over the
# rows of C-contiguous 2-D arrays (the reduced axis last).  Included by
# _elementwise.pyx.tp, so they are compiled for every instruction-set variant
# like the elementwise kernels; one source for float and double (fused types).
#
# Notes
# -----
# - Each row is computed by one thread in a fixed order: results are bitwise
#   independent of the thread count.  Row sums use interleaved partial sums
#   (16 lanes in fa_rows.h's sums, LANES = 8 in float64's compensated sum of
#   dy) combined in a fixed order, so their loops vectorize without
#   reassociation; the row maximum (order-free) is fa_rows.h's.
# - float32 rows compute the forward in double: x - max is exact, the exp is
#   good to 2^-28 (fa_rows_exp32), sums of exps are exact but for the last
#   bits, and each softmax result is rounded once to float (0.5 ULP and a
#   little).  log_softmax's last pass, (x - max) - log1p(s), is in float:
#   x - max and the float log1p(s) each round to no more than half an ULP of
#   y (both are no larger than y, and add without cancelling), so y is within
#   1.5 ULP (1.24 measured; the pass in double cost 0.15 of 0.72 ns/element).
#   float64 rows form x - max as a double-double, use fa_rows_exp64 (<= 1 ULP)
#   and compensated (two-sum) partial sums.
# - log_softmax takes log1p(s), s = (sum of exps) - 1 (exact: the maximum's
#   exp is exactly 1), so that rows dominated by one entry keep every digit.
#   float64 sums are compensated, so s is; a float32 row whose s is below
#   m 2^-24 (where the double sum's rounding would show) sums the exps below
#   the maximum again, apart from the 1s.  log1p(s) is fa_math.h's, for
#   ROWS_GROUP rows at once in one vector loop (libm's scalar log1p was a
#   third of a float32 row of 32).  A row holding a nan, or whose maximum
#   is +inf, or that holds only -inf, is all nan (as PyTorch).
# - softmax keeps a row's exps for the division: in a stack buffer of
#   ROW_STACK doubles, for rows up to ROW_HEAP long in a buffer of m doubles
#   per thread that the entry points allocate (MemoryError before any work),
#   and longer rows compute them a second time (no buffer of the row's size).
#   log_softmax needs only their sum.
# - Backward: the row sum (sum(dy y) or sum(dy)) in double (float32 products
#   are exact there) or compensated (float64).  float32 softmax then computes
#   dx in float, the sum split into a float pair so that dy - sum stays exact
#   where it cancels (about 1 ULP); log_softmax likewise, exp(y) in float
#   (fa_rows_lsm_bwd_f32: ~1 ULP of exp(y) sum(dy), the size of the terms),
#   for rows of y <= 0 (log_softmax's outputs), in double for any other y.
#   float64 rows in double.
# - Forward rows up to SHORT_M (47; float32 under AVX-512: SHORT_M_F32, 31)
#   long run a block of rows at a time (fa_rows.h's fa_short_rows_*: each
#   loop across the rows of the block, the same formulas, a row's sum in
#   order along it): a row taken alone spends some 80 cycles on its loops'
#   set-up, lane sums and tails, 2.4 ns/element on float32 rows of 10
#   against 0.4 in blocks (2 threads).  So do float32 log_softmax's
#   backward rows shorter than 16 whose saved rows are all of kind 2
#   (fa_short_lsm_bwd_f32, the same bits as one at a time).
# - In place (out is an input) is safe: every loop reads element j of its
#   inputs before writing element j of out.

from libc.math cimport NAN
from libc.stdlib cimport malloc, free
from cython cimport floating

cdef extern from "fa_rows.h" nogil:
    double fa_rows_exp32(double d)
    double fa_rows_exp64(double dh, double dl)
    double fa_rows_exp_diff64(double x, double mx)
    double fa_rows_div(double num, double dh, double dl, double rcp)
    float fa_rows_max_f32(const float *x, Py_ssize_t m, int *has_nan)
    double fa_rows_max_f64(const double *x, Py_ssize_t m, int *has_nan)
    double fa_rows_expsum_f32(const float *x, Py_ssize_t n, float mx, double *buf)
    double fa_rows_expsum_below_f32(const float *x, Py_ssize_t n, float mx)
    void fa_rows_expsum_f64(const double *x, Py_ssize_t n, double mx, double *buf, double *hi, double *lo)
    void fa_rows_csum_f64(const double *a, Py_ssize_t m, double *acc, double *cmp)
    double fa_rows_dot_f32(const float *a, const float *b, Py_ssize_t m)
    double fa_rows_sum_max_f32(const float *a, const float *t, Py_ssize_t m, float *top, int *has_nan)
    double fa_rows_dot_f64(const double *a, const double *b, Py_ssize_t m)
    void fa_rows_lsm_bwd_row_f32(const float *dy, const float *y, float *dx, Py_ssize_t m, float sh, float sl)
    void fa_rows_sm_bwd_row_f32(const float *dy, const float *y, float *dx, Py_ssize_t m, float sh, float sl)
    void fa_rows_log1p_group(const double *s, double *L)
    int fa_rows_kind(double top, int has_nan)
    enum: ROWS_GROUP "FA_ROWS_GROUP"
    enum: SHORT_M "FA_SHORT_M"
    enum: SHORT_M_F32 "FA_SHORT_M_F32"
    void fa_short_rows_f32(const float *x, float *y, Py_ssize_t rows, Py_ssize_t m, int logsm)
    void fa_short_rows_f64(const double *x, double *y, Py_ssize_t rows, Py_ssize_t m, int logsm)
    Py_ssize_t fa_short_block(Py_ssize_t rows, Py_ssize_t m)
    int fa_short_lsm_bwd_f32(const float *dy, const float *y, float *dx, Py_ssize_t G, Py_ssize_t m)
    void fa_rows_prefetch(const void *p, Py_ssize_t bytes)
    double fa_exp(double x)
    void fa_two_sum(double a, double b, double *s, double *e)

cdef enum:
    LANES = 8              # partial sums of a row
    ROW_STACK = 2048       # softmax rows up to this long keep their exps on the stack (16 KiB)
    ROW_HEAP = 1 << 20     # ... up to this long in a heap buffer per thread (<= 8 MiB)

cdef enum:             # the four row kernels (rows_fast / softmax_rows `which`)
    SOFTMAX = 0
    LOG_SOFTMAX = 1
    SOFTMAX_BWD = 2
    LOG_SOFTMAX_BWD = 3


# ------------------------------------------------------------- reductions

cdef inline floating _row_max(const floating* x, Py_ssize_t m, int* has_nan) noexcept nogil:
    # the largest entry, nan ignored (-inf for a row of -inf and nan); *has_nan
    if floating is float:
        return fa_rows_max_f32(x, m, has_nan)
    else:
        return fa_rows_max_f64(x, m, has_nan)


cdef inline void _lane_add(double* acc, double* cmp, int k, double v) noexcept nogil:
    # acc[k] += v, the rounding error to cmp[k] (two-sum)
    cdef double t, err
    fa_two_sum(acc[k], v, &t, &err)
    acc[k] = t
    cmp[k] = cmp[k] + err


cdef inline void _lanes_total(const double* acc, const double* cmp, Py_ssize_t m, double* hi,
                              double* lo) noexcept nogil:
    # hi + lo = the sum of the lanes a row of m filled (the first min(m,
    # LANES)), added in lane order with two-sum, and the lanes' errors cmp
    cdef double s = 0.0, c = 0.0, t, err
    cdef int k, used = <int>min(m, LANES)
    for k in range(used):
        fa_two_sum(s, acc[k], &t, &err)
        s = t
        c = c + err + cmp[k]
    fa_two_sum(s, c, hi, lo)


# ---------------------------------------------------------------- forward

cdef inline double _exp_from(floating v, floating mx) noexcept nogil:
    # exp(v - mx) for v <= mx (0 below -709; v not nan)
    if floating is float:
        return fa_rows_exp32(<double>v - <double>mx)     # v - mx exact in double
    else:
        return fa_rows_exp_diff64(v, mx)


cdef inline void _exp_sum(const floating* x, Py_ssize_t n, floating mx, double* buf, double* hi,
                          double* lo) noexcept nogil:
    # hi + lo = the sum of exp(x - mx) (>= 1: the maximum's exp is exactly 1),
    # compensated for float64 (lo = 0 for float32); buf not NULL: the exps
    # also go to buf[0:n] (fa_rows.h's loops: 16 lanes, in 64-byte vectors
    # under v4)
    if floating is float:
        hi[0] = fa_rows_expsum_f32(x, n, mx, buf)
        lo[0] = 0.0
    else:
        fa_rows_expsum_f64(x, n, mx, buf, hi, lo)


cdef inline void _nan_row(floating* y, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(m):
        y[j] = NAN


cdef inline floating _quotient(double v, double sh, double sl, double rcp, floating like) noexcept nogil:
    # v / (sh + sl) rounded to the row's type (`like` only picks it)
    if floating is float:
        return <float>(v * rcp)
    else:
        return fa_rows_div(v, sh, sl, rcp)


cdef inline void _softmax_write(const floating* x, floating* y, Py_ssize_t n, floating mx, const double* e,
                                double sh, double sl, double rcp) noexcept nogil:
    # y = exp(x - mx) / (sh + sl), the exps from e, or computed again when e is NULL
    cdef Py_ssize_t j
    if e != NULL:
        for j in range(n):
            y[j] = _quotient(e[j], sh, sl, rcp, <floating>0)
    else:
        for j in range(n):
            y[j] = _quotient(_exp_from(x[j], mx), sh, sl, rcp, <floating>0)


cdef inline void _log_softmax_write(const floating* x, floating* y, Py_ssize_t n, floating mx,
                                    double L) noexcept nogil:
    # y = (x - mx) - L; float32: in float, x - mx and L each rounded (both
    # no larger than y: x - mx <= 0 <= L), float64: x - mx a double-double
    cdef Py_ssize_t j
    cdef double dh, dl
    cdef float Lf = <float>L
    for j in range(n):
        if floating is float:
            y[j] = (x[j] - mx) - Lf
        else:
            fa_two_sum(x[j], -mx, &dh, &dl)
            # (the residual of an infinite difference is nan)
            y[j] = (dh - L) + (dl if dh - dh == 0.0 else 0.0)


cdef inline double _log_softmax_sum(const floating* x, Py_ssize_t m, floating* mx) noexcept nogil:
    # s = (sum of exp(x - max)) - 1 for a row of log_softmax, *mx = the max;
    # nan for a row that is all nan (a nan in it, a max of +inf, or all -inf)
    cdef double sh, sl, s
    cdef int has_nan
    mx[0] = _row_max(x, m, &has_nan)
    if has_nan or not (mx[0] - mx[0] == 0):
        return NAN
    _exp_sum(x, m, mx[0], NULL, &sh, &sl)
    s = (sh - 1.0) + sl                       # sh - 1 is exact
    if floating is float:
        # the double sum's rounding, up to m 2^-56 with the 1 in it, is
        # too much for a sum that small: add it up apart
        if s < <double>m * 5.9604644775390625e-08:     # m 2^-24
            s = fa_rows_expsum_below_f32(x, m, mx[0])
    return s


cdef void _log_softmax_rows(const floating* x, floating* y, Py_ssize_t r0, Py_ssize_t r1,
                            Py_ssize_t m) noexcept nogil:
    # rows r0 .. r1-1 of log_softmax, ROWS_GROUP at a time: their maxima and
    # sums first, then the sums' log1p in one vector loop
    # (fa_rows_log1p_group), then the rows' outputs.  In place is safe: a
    # row's output is written after all of its reads, and only over it.
    cdef double s[ROWS_GROUP]
    cdef double L[ROWS_GROUP]
    cdef floating mx[ROWS_GROUP]
    cdef Py_ssize_t r = r0, k, g
    while r < r1:
        g = min(<Py_ssize_t>ROWS_GROUP, r1 - r)
        for k in range(ROWS_GROUP):
            s[k] = 0.0
        for k in range(g):
            s[k] = _log_softmax_sum(x + (r + k) * m, m, &mx[k])
        fa_rows_log1p_group(s, L)
        for k in range(g):
            if s[k] == s[k]:
                _log_softmax_write(x + (r + k) * m, y + (r + k) * m, m, mx[k], L[k])
            else:
                _nan_row(y + (r + k) * m, m)
        r += g


cdef inline void _softmax_fwd_row(const floating* x, floating* y, Py_ssize_t m, double* buf) noexcept nogil:
    # one row of softmax; buf: m doubles for the exps, or NULL (they are
    # computed again)
    cdef double sh, sl
    cdef int has_nan
    cdef floating mx = _row_max(x, m, &has_nan)
    if has_nan or not (mx - mx == 0):
        _nan_row(y, m)
        return
    _exp_sum(x, m, mx, buf, &sh, &sl)
    _softmax_write(x, y, m, mx, buf, sh, sl, 1.0 / sh)


# --------------------------------------------------------------- backward

cdef inline int _row_dot(const floating* dy, const floating* y, Py_ssize_t m, bint logsm,
                         double* hi, double* lo) noexcept nogil:
    # hi + lo = sum(dy) (log_softmax) or sum(dy y) (softmax).  softmax's
    # products: float32 in float blocks added in double (fa_rows_dot_f32: the
    # exact products in double took 0.42 of the backward's 0.65 ns/element),
    # float64 in 16 FMA lanes (fa_rows_dot_f64); log_softmax's sum: float32
    # in float blocks as well, in the same pass as y's maximum
    # (fa_rows_sum_max_f32), float64 compensated.  Returns log_softmax's
    # fa_rows_kind of y (0 for softmax)
    cdef double acc[LANES]
    cdef double cmp[LANES]
    cdef Py_ssize_t j, full = m - m % LANES
    cdef float top
    cdef int has_nan
    if not logsm:
        hi[0] = fa_rows_dot_f32(dy, y, m) if floating is float else fa_rows_dot_f64(dy, y, m)
        lo[0] = 0.0
        return 0
    if floating is float:
        hi[0] = fa_rows_sum_max_f32(dy, y, m, &top, &has_nan)
        lo[0] = 0.0
        return fa_rows_kind(top, has_nan)
    fa_rows_csum_f64(dy, m, acc, cmp)
    for j in range(full, m):
        _lane_add(acc, cmp, 0, <double>dy[j])
    _lanes_total(acc, cmp, m, hi, lo)
    return _saved_kind(y, m)


cdef inline double _exp_saved(floating y, bint plain) noexcept nogil:
    # exp(y) in double for a saved log_softmax output; plain: y <= 709 and not
    # nan (one max fewer and no select in the loop), else any y, nan kept
    cdef double v = y
    if plain and floating is double:
        return fa_rows_exp64(v, 0.0)
    elif plain:
        return fa_rows_exp32(v)
    elif floating is double:
        return fa_exp(v)
    else:
        return v if v != v else fa_rows_exp32(v if v < 709.0 else 709.0)


cdef inline int _saved_kind(const floating* y, Py_ssize_t m) noexcept nogil:
    # fa_rows_kind of a saved y row, in a pass of its own
    cdef int has_nan
    cdef floating top = _row_max(y, m, &has_nan)
    return fa_rows_kind(top, has_nan)


cdef inline void _softmax_bwd_row(const floating* dy, const floating* y, floating* dx, Py_ssize_t m,
                                  bint logsm) noexcept nogil:
    # softmax:      dx = y (dy - sum(dy y))
    # log_softmax:  dx = dy - exp(y) sum(dy)
    cdef Py_ssize_t j
    cdef double s, lo
    cdef float sh, sl
    cdef int kind = _row_dot(dy, y, m, logsm, &s, &lo)
    s = s + lo
    if logsm and floating is float and kind == 2:
        # in float (fa_rows_lsm_bwd_f32), s as a float pair
        sh = <float>s
        sl = <float>(s - <double>sh)
        if floating is float:                   # (for Cython: the condition above has it too)
            fa_rows_lsm_bwd_row_f32(dy, y, dx, m, sh, sl)
    elif logsm and kind >= 1:
        for j in range(m):
            dx[j] = <floating>(<double>dy[j] - _exp_saved(y[j], True) * s)
    elif logsm:
        for j in range(m):
            dx[j] = <floating>(<double>dy[j] - _exp_saved(y[j], False) * s)
    elif floating is float:
        # in float with s as a float pair: dy - sh is exact where it cancels
        # (fa_rows_sm_bwd_f32; the row's tail in one vector)
        sh = <float>s
        sl = <float>(s - <double>sh)
        fa_rows_sm_bwd_row_f32(dy, y, dx, m, sh, sl)
    else:
        for j in range(m):
            dx[j] = y[j] * (dy[j] - s)


# ---------------------------------------------------------------- drivers

cdef void _rows_block(int which, const floating* a, const floating* b, floating* out, Py_ssize_t r0,
                      Py_ssize_t r1, Py_ssize_t m, double* heap) noexcept nogil:
    # rows r0 .. r1-1 of kernel `which` (forward: a = x; backward: a = dy, b = y);
    # heap: this block's exp buffer (m doubles) for rows longer than ROW_STACK, or NULL
    cdef double stack[ROW_STACK]
    cdef double* buf = &stack[0] if m <= ROW_STACK else heap
    cdef Py_ssize_t r, g, G, short_m = SHORT_M
    if floating is float:
        short_m = SHORT_M_F32
    if m <= short_m and which <= LOG_SOFTMAX:
        if floating is float:
            fa_short_rows_f32(a + r0 * m, out + r0 * m, r1 - r0, m, which == LOG_SOFTMAX)
        else:
            fa_short_rows_f64(a + r0 * m, out + r0 * m, r1 - r0, m, which == LOG_SOFTMAX)
        return
    if floating is float:
        if which == LOG_SOFTMAX_BWD and m < 16:     # (fa_rows.h: rows shorter than its 16 lanes)
            # a block of rows at once where every row of y is a log_softmax
            # output (fa_short_lsm_bwd_f32: the same bits), else one at a time
            r = r0
            while r < r1:
                G = fa_short_block(r1 - r, m)
                if not fa_short_lsm_bwd_f32(a + r * m, b + r * m, out + r * m, G, m):
                    for g in range(r, r + G):
                        _softmax_bwd_row(a + g * m, b + g * m, out + g * m, m, True)
                r += G
            return
    if which == LOG_SOFTMAX:
        _log_softmax_rows(a, out, r0, r1, m)
        return
    for r in range(r0, r1):
        if floating is float:
            if r + 1 < r1:      # the next row's inputs, while this one computes
                fa_rows_prefetch(a + (r + 1) * m, m * sizeof(float))
                if which != SOFTMAX:
                    fa_rows_prefetch(b + (r + 1) * m, m * sizeof(float))
        if which == SOFTMAX:
            _softmax_fwd_row(a + r * m, out + r * m, m, buf)
        elif which == SOFTMAX_BWD:
            _softmax_bwd_row(a + r * m, b + r * m, out + r * m, m, False)
        else:
            _softmax_bwd_row(a + r * m, b + r * m, out + r * m, m, True)


cdef double* _heap_buffers(int which, Py_ssize_t m, int nblocks) except? NULL:
    # the exp buffers of softmax rows between ROW_STACK and ROW_HEAP long:
    # m doubles per block of rows (free() them); NULL when none is needed
    cdef double* p
    if which != SOFTMAX or m <= ROW_STACK or m > ROW_HEAP:
        return NULL
    p = <double*>malloc(<size_t>nblocks * <size_t>m * sizeof(double))
    if p == NULL:
        raise MemoryError()
    return p


cdef inline Py_ssize_t _row_chunk(Py_ssize_t n, int nthreads) noexcept nogil:
    # rows per block: all n (one block, no OpenMP team) below 2 threads or 2 rows
    if nthreads <= 1 or n < 2:
        return n
    return (n + nthreads - 1) // nthreads


cdef inline int _blocks(Py_ssize_t n, int nthreads) noexcept nogil:
    cdef Py_ssize_t chunk = _row_chunk(n, nthreads)
    return <int>((n + chunk - 1) // chunk)


cdef void _run_rows(int which, const floating* a, const floating* b, floating* out, Py_ssize_t n,
                    Py_ssize_t m, int nthreads, double* heap) noexcept nogil:
    # n rows of m in blocks of _row_chunk rows, one per thread (block c uses
    # heap + c m); the caller's floating-point flags are restored
    cdef Py_ssize_t chunk = _row_chunk(n, nthreads), c
    cdef fa_fpflags_t flags = fa_fpflags_save()
    if chunk == n:
        _rows_block(which, a, b, out, 0, n, m, heap)
    else:
        for c in prange(_blocks(n, nthreads), num_threads=nthreads, schedule='static'):
            _rows_block(which, a, b, out, c * chunk, min(n, c * chunk + chunk), m,
                        heap + c * m if heap != NULL else NULL)
    fa_fpflags_restore(flags)


def softmax_rows(int which, const floating[:, ::1] a, const floating[:, ::1] b, floating[:, ::1] out,
                 int nthreads):
    """Row-wise kernel `which` (SOFTMAX, LOG_SOFTMAX, SOFTMAX_BWD,
    LOG_SOFTMAX_BWD) over 2-D C arrays: forward out = f(a), b unused;
    backward out = the backward of f with dy = a, y = b.  No checks: see _api.py."""
    cdef Py_ssize_t n = out.shape[0], m = out.shape[1]
    cdef double* heap
    if n == 0 or m == 0:
        return
    heap = _heap_buffers(which, m, _blocks(n, nthreads))
    with nogil:
        _run_rows(which, &a[0, 0], &b[0, 0], &out[0, 0], n, m, nthreads, heap)
    free(heap)


# rows up to this long run a block of rows at a time (fa_rows.h's short rows):
# float64, and float32 (31 in the AVX-512 build, 47 in the others)
ROW_SHORT_M = SHORT_M
ROW_SHORT_M_F32 = SHORT_M_F32

ROW_KERNELS = {"softmax": SOFTMAX, "log_softmax": LOG_SOFTMAX,
               "softmax_backward": SOFTMAX_BWD, "log_softmax_backward": LOG_SOFTMAX_BWD}


# -------------------------------------------------------------- fast path
#
# As for the elementwise kernels: plain float32/float64 arrays (native-endian,
# C-contiguous, aligned), ndim >= 1, the last axis (axis -1 or ndim - 1, an
# int), out None or such an array of the same shape not partially overlapping
# an input -- checked and run here; anything else declines (None) to the
# general path in _api.py, which gives the same results.

def rows_fast(int which, object a, object b, object out, object axis, Py_ssize_t grain, object threads):
    """Row-wise kernel `which` along `axis` for the common case, or None to
    decline.  Forward: a = x (b ignored); backward: a = dy, b = y.  Plain
    arrays reduced along their last axis run where they are; any other axis
    or layout (native float arrays) runs on a C-order copy with the axis
    swapped last (in place there), and the rows go back into out, or into a
    new C-order array, through the same swap (the general path did that in
    Python: 17 us for softmax over axis 0 of 40 x 50 float32).
    threads() gives the thread count, asked only for calls of grain elements
    or more and two rows or more."""
    cdef int typenum, nd
    cdef Py_ssize_t n, m, ax
    cdef int nt = 1
    cdef bint backward = which >= SOFTMAX_BWD
    if not cnp.PyArray_Check(a) or type(axis) is not int:
        return None
    typenum = cnp.PyArray_TYPE(<cnp.ndarray>a)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        return None
    cdef cnp.ndarray aa = <cnp.ndarray>a
    nd = cnp.PyArray_NDIM(aa)
    ax = <Py_ssize_t>axis + (nd if axis < 0 else 0)
    if nd == 0 or not 0 <= ax < nd:
        return None
    if backward and (not cnp.PyArray_Check(b) or cnp.PyArray_TYPE(<cnp.ndarray>b) != typenum
                     or not _same_shape(aa, <cnp.ndarray>b)):
        return None
    cdef cnp.ndarray ba = <cnp.ndarray>(b if backward else a)
    cdef object target = None
    cdef bint swapped = ax != nd - 1 or not _plain(a, typenum) or (backward and not _plain(b, typenum))
    if swapped:
        if out is not None and not _strided_out(out, aa, typenum) and _fast_out(aa, out, typenum) is None:
            return None
        target = out
        aa = _swapped_copy(aa, ax, nd)
        if aa is None:
            return None
        if backward:
            ba = _swapped_copy(ba, ax, nd)
            if ba is None:
                return None
        else:
            ba = aa
        res = aa                                # in place on the copy (safe for every row kernel)
        out = None
    else:
        res = _fast_out(aa, out, typenum)
        if res is None or _partial_overlap(aa, <cnp.ndarray>res) or _partial_overlap(ba, <cnp.ndarray>res):
            return None
    cdef cnp.ndarray ra = <cnp.ndarray>res
    m = cnp.PyArray_DIM(aa, nd - 1)
    n = cnp.PyArray_SIZE(aa) // m if m else 0
    if n == 0:
        return _rows_result(ra, out, swapped, target, <cnp.ndarray>a, ax, nd)
    if n >= 2 and n * m >= grain:
        nt = threads()
    cdef double* heap = _heap_buffers(which, m, _blocks(n, nt))
    with nogil:
        if typenum == cnp.NPY_FLOAT32:
            _run_rows(which, <const float*>cnp.PyArray_DATA(aa), <const float*>cnp.PyArray_DATA(ba),
                      <float*>cnp.PyArray_DATA(ra), n, m, nt, heap)
        else:
            _run_rows(which, <const double*>cnp.PyArray_DATA(aa), <const double*>cnp.PyArray_DATA(ba),
                      <double*>cnp.PyArray_DATA(ra), n, m, nt, heap)
    free(heap)
    return _rows_result(ra, out, swapped, target, <cnp.ndarray>a, ax, nd)


cdef object _swapped_copy(cnp.ndarray a, Py_ssize_t ax, int nd):
    # a C-order copy of a with axes ax and nd - 1 swapped (None: byte-swapped)
    return _fast_copy(<cnp.ndarray>cnp.PyArray_SwapAxes(a, ax, nd - 1))


cdef object _rows_result(cnp.ndarray ra, object out, bint swapped, object target, cnp.ndarray like,
                         Py_ssize_t ax, int nd):
    # rows_fast's result: ra as _result gives it; or, ra a swapped copy, ra
    # itself when the axis was already last and there is no out, else ra
    # swapped back into target (out) or into a new C-order array of like's shape
    if not swapped:
        return _result(ra, out)
    if target is None:
        if ax == nd - 1:
            return ra
        target = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(like), cnp.PyArray_TYPE(ra), 0)
    cnp.PyArray_CopyInto(<cnp.ndarray>cnp.PyArray_SwapAxes(<cnp.ndarray>target, ax, nd - 1), ra)
    return target
