"""fastact is typed: ``py.typed`` and ``fastact/__init__.pyi`` (tools/gen_stubs.py).

- The committed stub is the generator's output (a new registry function
  without regenerating fails), it defines exactly ``fastact.__all__`` (a new
  public name without a hand-written stub fails), and every function's
  parameters in it are the runtime signature's: names, order, defaults.
- ``mypy --strict`` passes on a user script that calls every public function
  and alias, forward and backward, with float16/32/64 arrays, scalars, lists,
  ``out=`` (array, 1-tuple, positional), every parameter by keyword, and pins
  each result with ``assert_type``.

How "no Any leaks" is made real: mypy runs with ``--disallow-any-expr``,
which reports every expression of the script whose type is ``Any`` or
contains ``Any`` (``floating[Any]`` included), and the ``assert_type`` pins
fail for a result that is not exactly the expected type (an ``Any`` result is
not).  NumPy's own calls in the script (``np.linspace(..., dtype=...)``,
``np.empty``) are Any-free under that flag, so the script needs no
exemptions.  A second file in the same run leaks an ``Any`` on purpose and
must be reported, so the flag is known to bite.  The same script then runs,
with an ``assert_type`` that checks each value against the pinned type
(dtype, scalar or array, tuple): the stubs describe what the functions
return.  The one documented exception, 0-d arrays (typed as arrays, returned
as NumPy scalars like ``np.tanh``'s results), is left out of the script.

Where mypy finds fastact: installed (``pip install``, as in CI) the package
is in site-packages and found through its ``py.typed``; in the source tree
built in place it is found through ``MYPYPATH``.  mypy runs in a temporary
directory either way, so the source tree's ``fastact/`` is never picked up by
accident, with ``fastact._registry`` (imported by the stub for ``Op``)
followed silently as site-packages modules are.
"""

import ast
import importlib.util
import inspect
import os
import re
import site
import subprocess
import sys
import time
import typing

import numpy as np
import pytest

import fastact as fa
from fastact._registry import LAYER_ALIASES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "tools", "gen_stubs.py")
PKG = os.path.dirname(os.path.abspath(fa.__file__))


def _generator():
    spec = importlib.util.spec_from_file_location("gen_stubs", GEN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _stub_tree():
    with open(os.path.join(PKG, "__init__.pyi")) as f:
        return ast.parse(f.read())


# ------------------------------------------------------------- the stub file

def test_package_is_marked_typed():
    assert os.path.isfile(os.path.join(PKG, "py.typed"))
    assert os.path.isfile(os.path.join(PKG, "__init__.pyi"))


@pytest.mark.skipif(not os.path.exists(GEN), reason="not in the source tree")
def test_stub_is_generated():
    gen = _generator()
    with open(gen.STUB) as f:
        assert f.read() == gen.render(), "fastact/__init__.pyi is stale: run python tools/gen_stubs.py"


def test_stub_defines_every_public_name():
    tree = _stub_tree()
    (all_,) = [ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
               and [getattr(t, "id", None) for t in n.targets] == ["__all__"]]
    defined = set()
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            defined.add(n.name)
        elif isinstance(n, ast.AnnAssign):
            defined.add(n.target.id)
        elif isinstance(n, ast.Assign):
            defined.update(t.id for t in n.targets)
    missing = sorted(set(fa.__all__) - defined)
    assert not missing, "public names without a stub (add them to tools/stubs_template.pyi): %s" % missing
    assert sorted(all_) == sorted(fa.__all__), \
        "the stub's __all__ is not fastact.__all__: regenerate with python tools/gen_stubs.py"


def _signature(fn, method=False):
    """(parameter names, {name: default}) of a stub function (a method without self)."""
    a = fn.args
    positional = (a.posonlyargs + a.args)[1 if method else 0:]
    defaults = dict(zip([p.arg for p in positional][::-1], a.defaults[::-1]))
    defaults.update((p.arg, d) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None)
    names = [p.arg for p in positional + a.kwonlyargs] + ([a.kwarg.arg] if a.kwarg else [])
    return names, {k: ast.literal_eval(v) for k, v in defaults.items()}


def _stub_signatures():
    """{name: [(param names, {name: default}), ...]} over every overload; aliases resolved;
    a class has its __init__'s."""
    sigs, aliases = {}, {}
    for n in _stub_tree().body:
        if isinstance(n, ast.FunctionDef):
            sigs.setdefault(n.name, []).append(_signature(n))
        elif isinstance(n, ast.ClassDef):
            for m in n.body:
                if isinstance(m, ast.FunctionDef) and m.name == "__init__":
                    sigs[n.name] = [_signature(m, method=True)]
        elif isinstance(n, ast.Assign) and isinstance(n.value, ast.Name):
            aliases.update((t.id, n.value.id) for t in n.targets)
    for alias, target in aliases.items():
        sigs[alias] = sigs[target]
    return sigs


@pytest.mark.parametrize("name", [n for n in fa.__all__ if callable(getattr(fa, n))])
def test_stub_signature_matches_runtime(name):
    stub = _stub_signatures().get(name)
    assert stub, "fastact.%s has no stub (tools/stubs_template.pyi)" % name
    runtime = inspect.signature(getattr(fa, name)).parameters
    names = list(runtime)
    for params, defaults in stub:
        assert params == names, "%s: the stub has parameters %s, fastact has %s" % (name, params, names)
        for k, v in defaults.items():
            assert v == runtime[k].default, "%s: the stub's default %s=%r, fastact's %r" % (
                name, k, v, runtime[k].default)
    shown = {k for _, defaults in stub for k in defaults}
    assert shown == {k for k, p in runtime.items() if p.default is not p.empty}, \
        "%s: the stub shows defaults for %s" % (name, sorted(shown))


# ----------------------------------------------------------- mypy --strict

# The calls of the public API that is not in the registry (typed by hand in
# tools/stubs_template.pyi), in the script below the arrays it defines
# (x16, x32, x64: float16/32/64, 8 elements; o32, o64: out arrays).
HAND_WRITTEN = """\
assert_type(fa.__version__, str)
assert_type(fa.OPS, Tuple[Op, ...])
assert_type([p.name for op in fa.OPS for p in op.params], list[str])
assert_type(fa.ALIASES, dict[str, str])
assert_type(fa.get_num_threads(), int)
assert_type(fa.set_num_threads(1), None)
assert_type(fa.set_num_threads(np.int64(2)), None)
assert_type(fa.set_num_threads(None), None)
with fa.threads(1) as t:
    assert_type(t, fa.threads)
with fa.threads(np.int32(1)) as t:
    assert_type(t, fa.threads)
assert_type(fa.show_config(), None)
b32 = np.zeros(3, np.float32)
w32 = np.ones((3, 3), np.float32)
assert_type(fa.bias_act(x32[None, :3], b32, "relu"), NDArray[np.float32])
assert_type(fa.bias_act(x64[None, :3], None, "gelu", approximate="tanh"), NDArray[np.float64])
assert_type(fa.bias_act([[0.5, 1.0, 2.0]], b32, "sigmoid", counts=True), Tuple[NDArray[F], NDArray[np.int64]])
assert_type(fa.bias_act(x32[None, :3], b32, "elu", axis=np.int64(-1), counts=np.True_, alpha=np.float32(0.5)),
            Tuple[NDArray[np.float32], NDArray[np.int64]])
assert_type(fa.bias_act_backward(x32[None, :3], x32[None, :3], b32, "silu"),
            Tuple[NDArray[np.float32], Union[NDArray[np.float32], None]])
assert_type(fa.linear(x32[None, :3], w32, b32, "leaky_relu", alpha=0.1), NDArray[np.float32])
assert_type(fa.linear(x32[None, :3], w32, b32, "relu", counts=True), Tuple[NDArray[np.float32], NDArray[np.int64]])
assert_type(fa.linear_backward(x32[None, :3], x32[None, :3], w32, b32, "tanh", y=x32[None, :3]),
            Tuple[NDArray[np.float32], NDArray[np.float32], Union[NDArray[np.float32], None]])
mon = fa.ActivityMonitor("relu")
assert_type(mon(x32[None, :3], b32), NDArray[np.float32])
assert_type(fa.linear(x32[None, :3], w32, b32, "relu", monitor=mon), NDArray[np.float32])
assert_type(mon.never_active(), NDArray[np.intp])
assert_type(mon.fraction(), NDArray[np.float64])
assert_type(mon.report(), str)
assert_type(mon.counts, Union[NDArray[np.int64], None])
"""


def _value(p):
    """A parameter's value in the script: its default, or (required) a value that suits every shape
    (prelu's weight 0.25, maxout's pieces 1)."""
    if p.required:
        return {"weight": "0.25", "pieces": "1"}[p.check]
    return '"%s"' % p.default if isinstance(p.default, str) else repr(p.default)


def _required(op):
    """The required parameters, positionally."""
    return "".join(", " + _value(p) for p in op.params if p.required)


def _keywords(op):
    """Every parameter by keyword."""
    return "".join(", %s=%s" % (p.name, _value(p)) for p in op.params)


def _numpy_keywords(op):
    """Every parameter by keyword, as a NumPy scalar where it is a number,
    a flag or a choice (the stubs take what the run time takes)."""
    def value(p):
        v = _value(p)
        if p.check == "choice":
            return "np.str_(%s)" % v
        if p.check in ("real", "nonzero", "nonneg", "unit"):
            return "np.float32(%s)" % v
        if p.check in ("pieces", "axis") or (p.check == "seed" and v != "None"):
            return "np.int64(%s)" % v
        if p.check == "bool":
            return "np.bool_(%s)" % v
        return v
    return "".join(", %s=%s" % (p.name, value(p)) for p in op.params)


def _positional(op):
    """Every parameter positionally (for out given positionally)."""
    return "".join(", " + _value(p) for p in op.params)


def user_script():
    """A user's script calling every public function, each result pinned by assert_type."""
    lines = [
        "from typing import TYPE_CHECKING, Tuple, Union",
        "",
        "import numpy as np",
        "from numpy.typing import NDArray",
        "",
        "import fastact as fa",
        "from fastact._registry import Op",
        "",
        "if TYPE_CHECKING:",
        "    from typing_extensions import assert_type",
        "",
        "F = Union[np.float16, np.float32, np.float64]",
        "x16 = np.linspace(-2.0, 2.0, 8, dtype=np.float16)",
        "x32 = np.linspace(-2.0, 2.0, 8, dtype=np.float32)",
        "x64 = np.linspace(-2.0, 2.0, 8, dtype=np.float64)",
        "ints = np.arange(8)",
        "o32: NDArray[np.float32] = np.empty(8, np.float32)",
        "o64: NDArray[np.float64] = np.empty(8, np.float64)",
        "",
    ]
    lines += HAND_WRITTEN.splitlines()
    for op in fa.OPS:
        req, kw, pos = _required(op), _keywords(op), _positional(op)
        saved = op.saves or "x"

        def back(t, op=op):
            """The backward's result type when dx has type t: prelu's adds dweight, an array."""
            if op.kind != "prelu":
                return t
            return "Tuple[%s, %s]" % (t, t if t.startswith("NDArray") else "NDArray[%s]" % t)

        for name in (op.name,) + op.aliases:
            f, b = "fa." + name, "fa.%s_backward" % name
            lines += [
                "",
                "assert_type(%s(x32%s), NDArray[np.float32])" % (f, req),
                "assert_type(%s(x64%s), NDArray[np.float64])" % (f, req),
                "assert_type(%s(x16%s), NDArray[np.float16])" % (f, req),
                "assert_type(%s(ints%s), NDArray[F])" % (f, req),
                "assert_type(%s([0.5, 1.5]%s), NDArray[F])" % (f, req),
                "assert_type(%s(1.5%s), np.float64)" % (f, req),
                "assert_type(%s(2%s), np.float64)" % (f, req),
                "assert_type(%s(True%s), np.float16)" % (f, req),
                "assert_type(%s(np.float32(1.5)%s), np.float32)" % (f, req),
                "assert_type(%s(np.int8(1)%s), F)" % (f, req),
                "assert_type(%s(x32%s, out=o32), NDArray[np.float32])" % (f, req),
                "assert_type(%s(x64%s, out=(o64,)), NDArray[np.float64])" % (f, req),
                "assert_type(%s(x=x64%s, out=None), NDArray[np.float64])" % (f, kw),
                "assert_type(%s(x32%s), NDArray[np.float32])" % (f, _numpy_keywords(op)),
                "assert_type(%s(x32, x32%s), %s)" % (b, req, back("NDArray[np.float32]")),
                "assert_type(%s(x64, x64%s), %s)" % (b, req, back("NDArray[np.float64]")),
                "assert_type(%s(x32, x64%s), %s)" % (b, req, back("NDArray[F]")),
                "assert_type(%s(1.0, 0.5%s), %s)" % (b, req, back("np.float64")),
                "assert_type(%s(np.float32(1), np.float32(0.5)%s), %s)" % (b, req, back("np.float32")),
                "assert_type(%s(np.float32(1), 0.5%s), %s)" % (b, req, back("F")),
                "assert_type(%s(x32, x32%s, out=o32), %s)" % (b, req, back("NDArray[np.float32]")),
                "assert_type(%s(dy=x64, %s=x64%s, out=(None,)), %s)" % (b, saved, kw, back("NDArray[np.float64]")),
            ]
            if name not in LAYER_ALIASES:  # (for those, the second positional argument is the weight)
                lines += ["assert_type(%s(x32%s, o32), NDArray[np.float32])" % (f, pos),
                          "assert_type(%s(x64, x64%s, o64), %s)" % (b, pos, back("NDArray[np.float64]"))]
            if not op.saves:
                lines.append("assert_type(%s(x32), NDArray[np.float32])" % b)
    return "\n".join(lines) + "\n"


# Leaks an Any on purpose: --disallow-any-expr must report both lines.
LEAK = """\
from typing import Any

import numpy as np

import fastact as fa


def f(a: Any, b: "np.floating[Any]") -> None:
    fa.gelu(a)
    fa.gelu(b)
"""

CONFIG = """\
[mypy]
strict = True
disallow_any_expr = True
show_error_codes = True

[mypy-fastact._registry]
follow_imports = silent
"""


def _mypy_env():
    """(env, how): MYPYPATH only when fastact is not installed in site-packages."""
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    parent = os.path.realpath(os.path.dirname(PKG))
    sites = {os.path.realpath(p) for p in site.getsitepackages() + [site.getusersitepackages()]}
    if parent in sites:
        return env, "site-packages (installed)"
    env["MYPYPATH"] = parent
    return env, "source tree (MYPYPATH)"


def _checking_assert_type(value, expected):
    """assert_type at run time: value's type is the pinned type (dtype, array or scalar)."""
    assert _is(value, expected), "%r is not a %s" % (value, expected)
    return value


def _is(v, t):
    origin, args = typing.get_origin(t), typing.get_args(t)
    if t is None:
        return v is None
    if origin is typing.Union:
        return any(_is(v, a) for a in args)
    if origin is np.ndarray:
        return isinstance(v, np.ndarray) and _is(v.dtype.type, typing.get_args(args[1])[0])
    if origin is tuple and args and args[-1] is not Ellipsis:
        return isinstance(v, tuple) and len(v) == len(args) and all(map(_is, v, args))
    if origin is not None:
        return isinstance(v, origin)
    if isinstance(v, type):  # a dtype's scalar type against np.float32 etc.
        return v is t
    if t in (np.float16, np.float32, np.float64):
        return type(v) is t
    return isinstance(v, t)


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="needs mypy (pip install fastact[test])")
def test_mypy_strict_user_script(tmp_path, capsys):
    script = user_script()
    (tmp_path / "user.py").write_text(script)
    (tmp_path / "leak.py").write_text(LEAK)
    (tmp_path / "mypy.ini").write_text(CONFIG)
    env, how = _mypy_env()
    t0 = time.time()
    r = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir",
                        str(tmp_path / ".mypy_cache"), "user.py", "leak.py"],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    report = "mypy (fastact found in the %s, %.0f s):\n%s%s" % (how, time.time() - t0, r.stdout, r.stderr)
    errors = [line for line in r.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if not e.startswith("leak.py")], report
    assert {e.split(":")[1] for e in errors} == {"9", "10"}, report
    assert all("Any" in e for e in errors), report

    # the types mypy checked are the ones the functions return
    ns = {"__name__": "user", "assert_type": _checking_assert_type}
    exec(compile(script, str(tmp_path / "user.py"), "exec"), ns)
    capsys.readouterr()  # show_config's output


def test_user_script_covers_every_public_function():
    called = set(re.findall(r"\bfa\.(\w+)\(", user_script()))
    public = {n for n in fa.__all__ if callable(getattr(fa, n))}
    assert public <= called, "not called in the mypy script (add to HAND_WRITTEN): %s" % sorted(public - called)
