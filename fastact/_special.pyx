# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True, embedsignature=True
#
# Kernels that are not one-in-one-out elementwise and not row-wise (softmax
# and log_softmax live in _rows.pxi, compiled per ISA with the elementwise
# kernels; prelu and maxout live in _fused.pxi, per ISA): rrelu in training
# mode (per-element noise from a seed); and the OpenMP/build facts the
# Python side reports.
#
# Notes
# -----
# - Arrays arrive C-contiguous with the reduced axis last (the wrapper moves
#   and copies as needed); kernels never check and never raise.
# - rrelu noise of element i is a function of (seed, i) only; a block of a
#   larger array may be given its rows' indices in that array (dask).

from cython.parallel cimport prange
from cython cimport floating
from libc.stdint cimport uint64_t, int64_t
cimport fastact._ops as _ops

cdef extern from "fa_math.h" nogil:
    ctypedef int fa_fpflags_t
    fa_fpflags_t fa_fpflags_save()
    void fa_fpflags_restore(fa_fpflags_t f)
    ctypedef int fa_fenv_flags_t
    fa_fenv_flags_t fa_fenv_flags_save()
    void fa_fenv_flags_restore(fa_fenv_flags_t f)
    double fa_exp(double x)
    double fa_uniform(uint64_t seed, uint64_t i)

cdef extern from "fa_omp.h" nogil:
    int fa_omp_enabled()
    int fa_omp_max_threads()
    int fa_omp_version()
    const char *fa_compiler_version()
    void fa_cpu_features(char *buf, size_t size)

# ------------------------------------------------------------ build facts

def openmp_enabled():
    """True when the extension was compiled with OpenMP."""
    return bool(fa_omp_enabled())

def omp_max_threads():
    """omp_get_max_threads() of the calling thread (1 without OpenMP)."""
    return fa_omp_max_threads()

def build_facts():
    """What the compiler and the CPU say: a dict for fastact.show_config()."""
    cdef char buf[256]
    fa_cpu_features(buf, sizeof(buf))
    return {
        "compiler": fa_compiler_version().decode(),
        "openmp_version": fa_omp_version(),
        "cpu_features": buf.decode().split(),
    }


# ---------------------------------------------------------- rrelu (train)

cdef inline double _rrelu_slope(uint64_t seed, uint64_t i, double lower, double width) noexcept nogil:
    return lower + width * fa_uniform(seed, i)


cdef inline floating _rrelu_one(floating a, floating b, uint64_t seed, uint64_t i, double lower, double width,
                                bint backward) noexcept nogil:
    if backward:
        return _ops.leaky_relu_bwd(a, b, _rrelu_slope(seed, i, lower, width), 0.0)
    return _ops.leaky_relu_fwd(a, _rrelu_slope(seed, i, lower, width), 0.0)


def rrelu_train(const floating[::1] a, const floating[::1] b, floating[::1] out, double lower, double upper,
                uint64_t seed, bint backward, int nthreads, const int64_t[::1] starts=None):
    """Training-mode rrelu with slopes s_i = lower + (upper - lower) U(seed, i):
    forward (a = x, b unused): out = x if x > 0 else s_i x;
    backward (a = dy, b = x): out = dy (1 if x > 0 else s_i), the same s_i.

    i is the element's index in the arrays; with `starts`, the arrays are
    len(starts) rows of equal length and element j of row r has the index
    starts[r] + j instead: a block of a larger array, given its rows' flat
    indices there, draws the slopes that array draws (fastact._dask)."""
    cdef Py_ssize_t n = out.shape[0], i, r, j, run
    cdef Py_ssize_t rows = 1 if starts is None else starts.shape[0]
    cdef uint64_t base = 0
    cdef double width = upper - lower
    cdef fa_fpflags_t flags
    if n == 0 or rows == 0:
        return
    run = n // rows
    if starts is not None:
        base = <uint64_t>starts[0]
    with nogil:
        flags = fa_fpflags_save()
        if rows == 1:
            for i in prange(n, num_threads=nthreads if nthreads > 1 else 1, schedule='static'):
                out[i] = _rrelu_one(a[i], b[i], seed, base + i, lower, width, backward)
        else:
            for r in prange(rows, num_threads=nthreads if nthreads > 1 else 1, schedule='static'):
                for j in range(run):
                    i = r * run + j
                    out[i] = _rrelu_one(a[i], b[i], seed, <uint64_t>starts[r] + j, lower, width, backward)
        fa_fpflags_restore(flags)


def rrelu_slopes(Py_ssize_t n, double lower, double upper, uint64_t seed):
    """The slopes a_i the training-mode rrelu uses for elements 0..n-1 (float64)."""
    import numpy
    out = numpy.empty(n, dtype=numpy.float64)
    cdef double[::1] o = out
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = _rrelu_slope(seed, i, lower, upper - lower)
    return out


# ----------------------------------------------------- helper inspection

cdef extern from "fa_special.h" nogil:
    double fa_expm1(double x)
    double fa_log1p01(double t)
    double fa_phi_lower64(double a)
    double fa_phi_lower32(double a)

def math_helper(str name, const double[::1] x, double[::1] out):
    """Evaluate one of the C math helpers on x (for the tests of their error bounds):
    'exp', 'expm1', 'log1p01' (t in [0, 1]), 'phi_lower64', 'phi_lower32' (Phi(-a), a >= 0)."""
    cdef Py_ssize_t i, n = x.shape[0]
    cdef int which = ["exp", "expm1", "log1p01", "phi_lower64", "phi_lower32"].index(name)
    cdef fa_fpflags_t flags = fa_fpflags_save()
    for i in range(n):
        if which == 0:
            out[i] = fa_exp(x[i])
        elif which == 1:
            out[i] = fa_expm1(x[i])
        elif which == 2:
            out[i] = fa_log1p01(x[i])
        elif which == 3:
            out[i] = fa_phi_lower64(x[i])
        else:
            out[i] = fa_phi_lower32(x[i])
    fa_fpflags_restore(flags)


cdef extern from "<fenv.h>" nogil:
    ctypedef struct fexcept_t:
        pass
    int FE_ALL_EXCEPT
    int fegetexceptflag(fexcept_t *flagp, int excepts)
    int fesetexceptflag(const fexcept_t *flagp, int excepts)


def copy_keep_flags(dst, src):
    """np.copyto(dst, src, casting='unsafe') leaving the caller's floating-point
    exception flags as they were (a narrowing cast that overflows to inf sets
    the overflow flag, which fastact never leaves behind)."""
    # The whole fenv (x87 and SSE), not just MXCSR as around the kernels:
    # NumPy's software float16 cast raises its overflow with feraiseexcept,
    # which on x86-64 glibc sets the flag in the x87 status word.
    import numpy
    cdef fa_fenv_flags_t flags = fa_fenv_flags_save()     # x87 flags too: NumPy raises through it
    try:
        with numpy.errstate(all="ignore"):
            numpy.copyto(dst, src, casting="unsafe")
    finally:
        fa_fenv_flags_restore(flags)


# ------------------------------------------------------------------ roof

from libc.string cimport memcpy

def parallel_copy(const unsigned char[::1] src, unsigned char[::1] dst, int nthreads):
    """dst[:] = src with memcpy, one contiguous chunk per thread (cache-line
    aligned): the benchmark report's memory-bandwidth roof."""
    cdef Py_ssize_t n = src.shape[0], chunk, c, start, nchunks
    if n == 0:
        return
    if nthreads < 1:
        nthreads = 1
    chunk = (((n + nthreads - 1) // nthreads) + 63) & ~(<Py_ssize_t>63)
    nchunks = (n + chunk - 1) // chunk
    with nogil:
        for c in prange(nchunks, num_threads=nthreads, schedule='static'):
            start = c * chunk
            memcpy(&dst[0] + start, &src[0] + start, min(chunk, n - start))
