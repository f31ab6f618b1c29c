"""fastact: neural-network activation functions on NumPy arrays, forward and backward.

Compiled kernels (Cython, OpenMP) for sigmoid, tanh, the ReLU family, SiLU,
GELU, softplus, softmax and the rest.  Every function ``fa.NAME(x, ...,
out=None)`` has a backward ``fa.NAME_backward(dy, saved, ..., out=None)``
returning ``dy * NAME'(x)``, where ``saved`` is the forward's output ``y``
or its input ``x``, as the signature names it.  float32 and float64 keep
their dtype, other inputs are cast as `numpy.tanh` casts them, and
``out=x`` computes in place.  ``help(fa.NAME)`` gives a function's formula,
derivative, parameters and examples; ``fa.OPS`` is the catalogue (see
``fastact._registry``).  The package is typed (``py.typed``).

Examples
--------
>>> import numpy as np
>>> import fastact as fa
>>> x = np.linspace(-3, 3, 7, dtype=np.float32)
>>> y = fa.sigmoid(x)  # like scipy.special.expit(x)
>>> y.dtype
dtype('float32')
>>> dx = fa.sigmoid_backward(np.ones_like(x), y)  # dy * sigmoid'(x)
>>> bool(np.allclose(dx, y * (1 - y)))
True
>>> fa.gelu(x, out=x) is x  # in place
True
>>> [op.name for op in fa.OPS][:4]
['sigmoid', 'tanh', 'relu', 'leaky_relu']
"""

from ._version import __version__

import os as _os

# GNU OpenMP's threads wait for work by spinning (300,000 rounds by default)
# before they sleep.  On a machine whose cores are shared with other processes
# that turns a 2-thread call into a wait of a scheduler time slice (measured
# on 2 cores, 262,144 float32 sigmoids: 4.5 ms with one core busy elsewhere,
# against 0.94 ms on one thread); 1000 rounds cost nothing on an idle machine
# (0.47 ms either way) and bring the loaded case to 1.0 ms.  libgomp reads the variable when
# it is loaded, i.e. by the import below, and the variable is removed again so
# that other libraries and child processes see the environment unchanged.  A
# GOMP_SPINCOUNT or OMP_WAIT_POLICY of the user's wins.
_SPIN = "GOMP_SPINCOUNT" not in _os.environ and "OMP_WAIT_POLICY" not in _os.environ
if _SPIN:
    _os.environ["GOMP_SPINCOUNT"] = "1000"
try:
    from . import _special  # noqa: F401  (the compiled core)
except ImportError as _exc:  # pragma: no cover - depends on how fastact was started
    raise ImportError(
        "fastact's compiled extension is not importable from %s. If that is the source tree, "
        "either build it there (python setup.py build_ext --inplace) or run from another "
        "directory so that the installed fastact is imported (`python -m` puts the current "
        "directory first on sys.path)." % _os.path.dirname(_os.path.abspath(__file__))) from _exc
finally:
    if _SPIN:
        del _os.environ["GOMP_SPINCOUNT"]
from ._registry import OPS, ALIASES
from ._threads import get_num_threads, set_num_threads, threads
from ._config import show_config
from . import _api
from ._fused import bias_act, bias_act_backward, linear, linear_backward, ActivityMonitor
from . import _fused

_api._install(globals())

__all__ = ["OPS", "ALIASES", "get_num_threads", "set_num_threads", "threads", "show_config",
           "__version__"] + list(_api.__all__) + list(_fused.__all__)
