"""fastact: neural-network activation functions on NumPy arrays, forward and
backward, in place, with Cython + OpenMP kernels.

>>> import numpy as np, fastact as fa
>>> x = np.linspace(-3, 3, 7, dtype=np.float32)
>>> y = fa.sigmoid(x)                  # like scipy.special.expit(x)
>>> dx = fa.sigmoid_backward(np.ones_like(x), y)
>>> _ = fa.gelu(x, out=x)              # in place

Every function ``fa.NAME(x, ..., out=None)`` has a backward
``fa.NAME_backward(dy, saved, ..., out=None)`` returning dy * NAME'(x); the
catalogue is ``fastact.OPS`` (see ``fastact._registry``).
"""

from ._version import __version__

try:
    from . import _special  # noqa: F401  (the compiled core)
except ImportError as _exc:  # pragma: no cover - depends on how fastact was started
    import os as _os

    raise ImportError(
        "fastact's compiled extension is not importable from %s. If that is the source tree, "
        "either build it there (python setup.py build_ext --inplace) or run from another "
        "directory so that the installed fastact is imported (`python -m` puts the current "
        "directory first on sys.path)." % _os.path.dirname(_os.path.abspath(__file__))) from _exc
from ._registry import OPS, ALIASES
from ._threads import get_num_threads, set_num_threads, threads
from ._config import show_config
from . import _api
from ._fused import bias_act, bias_act_backward, linear, linear_backward, ActivityMonitor
from . import _fused

_api._install(globals())

__all__ = ["OPS", "ALIASES", "get_num_threads", "set_num_threads", "threads", "show_config",
           "__version__"] + list(_api.__all__) + list(_fused.__all__)
