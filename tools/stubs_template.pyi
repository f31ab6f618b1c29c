# The template of fastact/__init__.pyi: tools/gen_stubs.py writes the stub from
# this file and the registry (fastact/_registry.py), replacing the two marker
# comments below.  The public API that is not in the registry is typed here by
# hand: a new public name is one more definition in the hand-written section
# (and `python tools/gen_stubs.py`); the generated __all__ lists every public
# name defined in this file.

# How results are typed (NumPy's own stubs type ufuncs the same way):
# - an ndarray of float16/float32/float64 gives an ndarray of that dtype; other
#   array-likes (integer or bool arrays, lists, ...) give an ndarray of
#   float16 | float32 | float64, which one depending on the input's dtype;
# - a NumPy float scalar gives that scalar type, a Python float or int gives
#   np.float64, a bool np.float16, other scalars float16 | float32 | float64;
# - out=a (or out=(a,)) gives the type of a;
# - a 0-d ndarray is typed as an ndarray, though the result is a NumPy scalar
#   (as np.tanh's is): the stubs cannot tell 0-d arrays from others without
#   typing every shape, and the scalar has the ndarray's attributes and
#   methods (.dtype, .shape, .round(), ...).
# Parameters are typed by their check in the registry, NumPy scalars accepted
# as at run time: reals as _Real, integers (axis, pieces, seed, thread counts)
# as _Int, flags as _Bool, choices as Literal (or np.str_), prelu's weight as
# ArrayLike.

from typing import Any, Literal, TypeVar, overload

from typing_extensions import Self, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastact._registry import Op

# @all@

_F = TypeVar("_F", np.float16, np.float32, np.float64)
_ArrayT = TypeVar("_ArrayT", bound=NDArray[np.floating[Any]])
_Float: TypeAlias = np.float16 | np.float32 | np.float64
_Scalar: TypeAlias = float | np.floating[Any] | np.integer[Any] | np.bool_
_Real: TypeAlias = float | np.floating[Any] | np.integer[Any]
_Int: TypeAlias = int | np.integer[Any]
_Bool: TypeAlias = bool | np.bool_
_NoOut: TypeAlias = None | tuple[None]
_Out: TypeAlias = _ArrayT | tuple[_ArrayT]

# ------------------------------------------------------------- hand-written

__version__: str
OPS: tuple[Op, ...]
ALIASES: dict[str, str]

def get_num_threads() -> int: ...
def set_num_threads(n: _Int | None) -> None: ...
def show_config() -> None: ...

class threads:
    n: int
    def __init__(self, n: _Int) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> Literal[False]: ...

# bias + activation, linear, activity monitoring (fastact._fused)

_Param: TypeAlias = _Real | str | np.str_ | _Bool | None   # an activation's parameter, by keyword

@overload
def bias_act(x: NDArray[_F], bias: ArrayLike | None, activation: str | None, axis: _Int = -1,
             out: NDArray[_F] | tuple[NDArray[_F]] | _NoOut = None, *, counts: Literal[False] = False,
             monitor: ActivityMonitor | None = None, saturation: _Real = 1e-3, **params: _Param) -> NDArray[_F]: ...
@overload
def bias_act(x: NDArray[_F], bias: ArrayLike | None, activation: str | None, axis: _Int = -1,
             out: NDArray[_F] | tuple[NDArray[_F]] | _NoOut = None, *, counts: Literal[True] | np.bool_,
             monitor: ActivityMonitor | None = None, saturation: _Real = 1e-3,
             **params: _Param) -> tuple[NDArray[_F], NDArray[np.int64]]: ...
@overload
def bias_act(x: ArrayLike, bias: ArrayLike | None, activation: str | None, axis: _Int = -1,
             out: NDArray[_Float] | tuple[NDArray[_Float]] | _NoOut = None, *, counts: Literal[False] = False,
             monitor: ActivityMonitor | None = None, saturation: _Real = 1e-3, **params: _Param) -> NDArray[_Float]: ...
@overload
def bias_act(x: ArrayLike, bias: ArrayLike | None, activation: str | None, axis: _Int = -1,
             out: NDArray[_Float] | tuple[NDArray[_Float]] | _NoOut = None, *, counts: Literal[True] | np.bool_,
             monitor: ActivityMonitor | None = None, saturation: _Real = 1e-3,
             **params: _Param) -> tuple[NDArray[_Float], NDArray[np.int64]]: ...

@overload
def bias_act_backward(dy: NDArray[_F], saved: NDArray[_F] | None, bias: ArrayLike | None, activation: str | None,
                      axis: _Int = -1, out: NDArray[_F] | tuple[NDArray[_F]] | _NoOut = None,
                      **params: _Param) -> tuple[NDArray[_F], NDArray[_F] | None]: ...
@overload
def bias_act_backward(dy: ArrayLike, saved: ArrayLike | None, bias: ArrayLike | None, activation: str | None,
                      axis: _Int = -1, out: NDArray[_Float] | tuple[NDArray[_Float]] | _NoOut = None,
                      **params: _Param) -> tuple[NDArray[_Float], NDArray[_Float] | None]: ...

# @layer alias linear@
@overload
def linear(x: NDArray[_F], weight: NDArray[_F], bias: NDArray[_F] | None = None, activation: str | None = None,
           out: NDArray[_F] | tuple[NDArray[_F]] | _NoOut = None, *, counts: Literal[False] = False,
           monitor: ActivityMonitor | None = None, saturation: _Real = 1e-3, **params: _Param) -> NDArray[_F]: ...
@overload
def linear(x: NDArray[_F], weight: NDArray[_F], bias: NDArray[_F] | None = None, activation: str | None = None,
           out: NDArray[_F] | tuple[NDArray[_F]] | _NoOut = None, *, counts: Literal[True] | np.bool_,
           monitor: ActivityMonitor | None = None, saturation: _Real = 1e-3,
           **params: _Param) -> tuple[NDArray[_F], NDArray[np.int64]]: ...
@overload
def linear(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, activation: str | None = None,
           out: NDArray[_Float] | tuple[NDArray[_Float]] | _NoOut = None, *, counts: Literal[False] = False,
           monitor: ActivityMonitor | None = None, saturation: _Real = 1e-3, **params: _Param) -> NDArray[_Float]: ...
@overload
def linear(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, activation: str | None = None,
           out: NDArray[_Float] | tuple[NDArray[_Float]] | _NoOut = None, *, counts: Literal[True] | np.bool_,
           monitor: ActivityMonitor | None = None, saturation: _Real = 1e-3,
           **params: _Param) -> tuple[NDArray[_Float], NDArray[np.int64]]: ...

# @layer alias linear_backward@
@overload
def linear_backward(dy: NDArray[_F], x: NDArray[_F], weight: NDArray[_F], bias: NDArray[_F] | None = None,
                    activation: str | None = None, y: NDArray[_F] | None = None, out: None = None,
                    **params: _Param) -> tuple[NDArray[_F], NDArray[_F], NDArray[_F] | None]: ...
@overload
def linear_backward(dy: ArrayLike, x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
                    activation: str | None = None, y: ArrayLike | None = None, out: None = None,
                    **params: _Param) -> tuple[NDArray[_Float], NDArray[_Float], NDArray[_Float] | None]: ...

class ActivityMonitor:
    activation: str
    kind: Literal["active", "saturated"]
    saturation: float
    counts: NDArray[np.int64] | None
    samples: int
    batches: int
    def __init__(self, activation: str, saturation: _Real = 1e-3) -> None: ...
    def reset(self) -> None: ...
    def update(self, counts: ArrayLike, samples: int) -> None: ...
    @overload
    def __call__(self, x: NDArray[_F], bias: ArrayLike | None = None, axis: _Int = -1,
                 out: NDArray[_F] | tuple[NDArray[_F]] | _NoOut = None, **params: _Param) -> NDArray[_F]: ...
    @overload
    def __call__(self, x: ArrayLike, bias: ArrayLike | None = None, axis: _Int = -1,
                 out: NDArray[_Float] | tuple[NDArray[_Float]] | _NoOut = None,
                 **params: _Param) -> NDArray[_Float]: ...
    def fraction(self) -> NDArray[np.float64]: ...
    def never_active(self) -> NDArray[np.intp]: ...
    def dead_fraction(self) -> float: ...
    def saturated_fraction(self) -> float: ...
    def report(self) -> str: ...

# ------------------------------------------------ generated from the registry

# @registry@
