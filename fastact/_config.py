"""fastact.show_config(): what was built and what runs."""

import platform
import sys

import numpy as np

from . import _dispatch, _special
from ._threads import get_num_threads
from ._version import __version__

__all__ = ["show_config", "config"]


def _openmp_runtime():
    """Path of the OpenMP runtime loaded into this process (Linux), or a note."""
    if not _special.openmp_enabled():
        return "none (built without OpenMP: single-threaded)"
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if any(lib in path for lib in ("libgomp", "libomp", "libiomp")):
                    return path
    except OSError:
        pass
    return "linked (runtime path unknown on this platform)"


def config():
    """The facts show_config() prints, as a dict."""
    facts = _special.build_facts()
    try:
        from . import _build_info as b
        flags = " ".join(b.COMPILE_ARGS)
    except ImportError:  # pragma: no cover - a build always writes it
        flags = "unknown"
    ver = facts["openmp_version"]
    return {
        "fastact": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "compiler": facts["compiler"],
        "compile flags": flags,
        "kernel variant": "%s: %s" % (_dispatch.VARIANT, _dispatch.DESCRIPTION[_dispatch.VARIANT]),
        "SIMD compiled for": _dispatch.kernels.SIMD,
        "variants built": ", ".join(_dispatch.built()),
        "variants this CPU runs": ", ".join(_dispatch.runnable()),
        "CPU features seen": " ".join(facts["cpu_features"]),
        "OpenMP": ("%d (spec %d)" % (ver, ver) if ver else "no"),
        "OpenMP runtime": _openmp_runtime(),
        "threads": get_num_threads(),
        "streaming stores": _streaming(),
    }


def _streaming():
    n = _dispatch.kernels.stream_min_bytes()
    if n >= sys.maxsize:
        return "off (FASTACT_STREAM_MIN_BYTES=off)"
    return ("the cheap functions' out-of-place outputs of %d bytes or more (FASTACT_STREAM_MIN_BYTES)"
            % n)


def show_config():
    """Print how fastact was built and what it runs on this machine.

    The versions, the compiler and its flags, the kernel variant in use (see
    ``FASTACT_CPU``), the variants built and those this CPU runs, the CPU
    features seen, the OpenMP version and runtime, the thread count and
    whether large outputs are written with streaming stores: what a bug
    report needs.

    See Also
    --------
    get_num_threads : The thread count alone.

    Examples
    --------
    >>> import fastact as fa
    >>> fa.show_config()  # doctest: +ELLIPSIS
    fastact                : ...
    python                 : ...
    numpy                  : ...
    platform               : ...
    compiler               : ...
    compile flags          : ...
    kernel variant         : ...
    SIMD compiled for      : ...
    variants built         : ...
    variants this CPU runs : ...
    CPU features seen      : ...
    OpenMP                 : ...
    OpenMP runtime         : ...
    threads                : ...
    streaming stores       : ...
    """
    facts = config()
    width = max(len(k) for k in facts)
    for k, v in facts.items():
        print("%-*s : %s" % (width, k, v))
