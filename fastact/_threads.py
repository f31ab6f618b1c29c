"""Thread count for fastact's kernels.

One default for every kernel: ``FASTACT_NUM_THREADS`` if set, else OpenMP's own
default (``omp_get_max_threads()``, which honours ``OMP_NUM_THREADS``, the CPU
affinity mask and threadpoolctl's limits), read at each call.
``set_num_threads(n)`` replaces that default for the whole process;
``with threads(n):`` overrides it for the calling Python thread only.
Where threadpoolctl is installed, fastact registers a controller of its own
with it (threadpool_info lists it; threadpool_limits caps every count, see
_register_controller).

In a child made by ``os.fork`` (``multiprocessing``'s "fork" start method) the
kernels run on one thread whatever is asked: GNU OpenMP's thread pool does not
survive a fork, and a parallel region in the child would wait forever for the
parent's threads (PyTorch does the same).  Children started with "spawn" or
"forkserver" are fresh processes and use every thread.
"""

import os
import threading

from . import _special

__all__ = ["get_num_threads", "set_num_threads", "threads"]

_local = threading.local()
_global = None  # set by set_num_threads; None: FASTACT_NUM_THREADS or OpenMP's default
_limit = None   # set by threadpoolctl's limits through _Controller; None: no limit


# The most threads a count may ask for: far beyond any machine's cores, and
# below what GNU OpenMP survives (40000 aborted the process, 100000 crashed it)
MAX_THREADS = 1024


def _check_count(n, who):
    import numbers

    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError("fastact.%s: the thread count must be an integer, got %r" % (who, n))
    if not 1 <= n <= MAX_THREADS:
        raise ValueError("fastact.%s: the thread count must be between 1 and %d, got %d" % (who, MAX_THREADS, n))
    return int(n)


def _env_default():
    value = os.environ.get("FASTACT_NUM_THREADS", "").strip()
    if not value:
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_THREADS:
        raise ValueError("FASTACT_NUM_THREADS must be an integer between 1 and %d, got %r" % (MAX_THREADS, value))
    return n


_ENV = _env_default()
_OPENMP = _special.openmp_enabled()
_OMP_AT_IMPORT = _special.omp_max_threads() if _OPENMP else 1
_forked = False   # True in a child of os.fork: no OpenMP team may start there


def _after_fork_in_child():
    global _forked
    _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def get_num_threads():
    """Return the number of threads fastact's kernels use in this Python thread.

    That is the count of an enclosing ``with threads(n):`` block, else the
    default set by `set_num_threads`, else ``FASTACT_NUM_THREADS``, else
    OpenMP's default (``OMP_NUM_THREADS``, the CPU affinity mask,
    threadpoolctl's limit).

    Returns
    -------
    int
        The thread count, >= 1. It is 1 when fastact was built without
        OpenMP, and in a child of ``os.fork`` (where no OpenMP team may
        start).

    See Also
    --------
    set_num_threads : Set the default for every Python thread.
    threads : Change it for the calling Python thread only.

    Examples
    --------
    >>> import fastact as fa
    >>> fa.get_num_threads() >= 1
    True
    >>> with fa.threads(1):
    ...     fa.get_num_threads()
    1
    """
    return _capped(_count())


def _capped(n):
    """n under threadpoolctl's limit on fastact's controller (_set_limit)."""
    limit = _limit
    return n if limit is None or limit >= n else limit


def _own():
    """The count of fastact's own in effect (threads(), set_num_threads,
    FASTACT_NUM_THREADS), or None: OpenMP's default."""
    n = getattr(_local, "n", None)
    if n is None:
        n = _global if _global is not None else _ENV
    return n


def _count():
    """get_num_threads without the limit threadpoolctl sets on fastact itself."""
    if not _OPENMP or _forked:
        return 1
    n = _own()
    if n is None:
        return _special.omp_max_threads()
    # a count of fastact's own, capped where OpenMP's default was lowered
    # since import (omp_set_num_threads; threadpoolctl's limits on the OpenMP
    # runtime, which cannot show one at or above the import's default)
    cap = _special.omp_max_threads()
    return cap if cap < min(n, _OMP_AT_IMPORT) else n


def set_num_threads(n):
    """Set the default number of threads of every kernel, for all Python threads.

    The default applies to every call that does not run inside a
    ``with threads(n):`` block.

    Parameters
    ----------
    n : int or None
        The thread count, >= 1; None goes back to the default
        (``FASTACT_NUM_THREADS``, else OpenMP's default: ``OMP_NUM_THREADS``
        or every usable core).

    Raises
    ------
    TypeError
        If `n` is not an integer or None.
    ValueError
        If `n` < 1 or `n` > 1024 (MAX_THREADS).

    See Also
    --------
    get_num_threads : The count in effect.
    threads : A count for the calling Python thread only.

    Notes
    -----
    Arrays below a grain size (8192 to 65536 elements, depending on the
    function's cost) run on one thread whatever the setting. Results are
    bitwise identical for any thread count.

    Examples
    --------
    >>> import fastact as fa
    >>> fa.set_num_threads(1)  # every kernel on one thread
    >>> fa.get_num_threads()
    1
    >>> fa.set_num_threads(None)  # back to the default
    """
    global _global
    _global = None if n is None else _check_count(n, "set_num_threads")


class threads:
    """Use `n` threads in the calling Python thread, within a ``with`` block.

    A context manager: other Python threads keep their own count, and the
    previous count comes back when the block ends (blocks nest).

    Parameters
    ----------
    n : int
        The thread count, >= 1.

    See Also
    --------
    set_num_threads : The default for every Python thread.
    get_num_threads : The count in effect.

    Examples
    --------
    >>> import fastact as fa
    >>> with fa.threads(1):
    ...     fa.get_num_threads()
    1
    """

    def __init__(self, n):
        self.n = _check_count(n, "threads")

    # the counts to restore: one stack per Python thread (blocks nest there),
    # none on the object, which several threads may enter at once
    def __enter__(self):
        _saved().append(getattr(_local, "n", None))
        _local.n = self.n
        return self

    def __exit__(self, *exc):
        _local.n = _saved().pop()
        return False


def _saved():
    """The calling Python thread's stack of counts that threads() blocks restore."""
    stack = getattr(_local, "saved", None)
    if stack is None:
        stack = _local.saved = []
    return stack


def _set_limit(n):
    """threadpoolctl's limit on fastact's controller: a cap on fastact's own
    count (a limit below it; threadpoolctl restores a limit by setting the
    count _limited_own read before, which lifts it).  OpenMP's default needs
    none: threadpoolctl limits the OpenMP runtime itself."""
    global _limit
    own = _own()
    _limit = max(1, int(n)) if n is not None and own is not None and int(n) < own else None


def _limited_own():
    """What fastact's controller shows threadpoolctl: its own count under the
    limit, or (none of its own) the count in effect."""
    own = _own()
    if own is None or not _OPENMP or _forked:
        return get_num_threads()
    return _capped(own)


def _register_controller():
    """Show fastact to threadpoolctl (threadpool_info: internal_api 'fastact',
    user_api 'openmp', its thread count) and let threadpool_limits cap that
    count whatever set it: FASTACT_NUM_THREADS, set_num_threads or threads().
    A limit on the OpenMP runtime alone cannot cap a count of fastact's own
    at or above OpenMP's default (omp_get_max_threads() does not change).
    Done at import when threadpoolctl (3.0 or later) is installed."""
    import importlib.util

    if importlib.util.find_spec("threadpoolctl") is None:
        return
    try:
        import threadpoolctl

        base, register = threadpoolctl.LibController, threadpoolctl.register
    except (ImportError, AttributeError):
        return

    class _Controller(base):
        user_api = "openmp"
        internal_api = "fastact"
        # threadpoolctl finds the controlled libraries among the loaded shared
        # objects: fastact's _special extension, by its module's init symbol
        filename_prefixes = ("_special",)
        check_symbols = ("PyInit__special",)

        def get_num_threads(self):
            return _limited_own()

        def set_num_threads(self, num_threads):
            _set_limit(num_threads)

        def get_version(self):
            from ._version import __version__

            return __version__

    register(_Controller)


_register_controller()
