# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True, embedsignature=True
#
# What is compiled once, for the baseline instruction set (the kernels are
# per ISA: elementwise in _elementwise.pyx.tp, softmax and log_softmax in
# _rows.pxi, prelu, maxout and training rrelu in _fused.pxi): the OpenMP and
# build facts the Python side reports, the copies that keep the caller's
# floating-point flags, and the math helpers' and rrelu noise's Python twins
# for the tests.

from cython.parallel cimport prange
from libc.stdint cimport uint64_t, int64_t

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
# (the kernel is _elementwise's rrelu_train, per instruction set; this is the
# Python twin of its noise, for the tests)

cdef inline double _rrelu_slope(uint64_t seed, uint64_t i, double lower, double width) noexcept nogil:
    return lower + width * fa_uniform(seed, i)


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
