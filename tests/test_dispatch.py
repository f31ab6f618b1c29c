"""Per-ISA kernel variants: chosen from the CPU, overridable, every runnable
variant agrees with the others (the whole suite also runs under each one in CI)."""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastact as fa
from fastact import _dispatch
from fastact._accuracy import ulp_error
from fastact._registry import ELEMENTWISE_KERNELS, OPS


def _run(env_cpu, code):
    # the fastact these tests import, installed or built in place
    where = os.path.dirname(os.path.dirname(os.path.abspath(fa.__file__)))
    env = dict(os.environ, FASTACT_CPU=env_cpu, PYTHONPATH=where)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")


def test_default_is_the_best_runnable():
    if os.environ.get("FASTACT_CPU"):
        pytest.skip("FASTACT_CPU forces the variant in this run")
    assert _dispatch.VARIANT == _dispatch.runnable()[0]
    assert "baseline" in _dispatch.built() and "baseline" in _dispatch.runnable()


@pytest.mark.parametrize("variant", ["baseline", "v3", "v4"])
def test_override(variant):
    r = _run(variant, "import fastact; print(fastact._dispatch.VARIANT)")
    if variant in _dispatch.runnable():
        assert r.returncode == 0 and r.stdout.strip() == variant
    else:  # a clear error, not an illegal instruction
        assert r.returncode == 1 and "FASTACT_CPU=%s" % variant in r.stderr and "ImportError" in r.stderr


def test_override_unknown():
    r = _run("sse9", "import fastact")
    assert r.returncode == 1 and "expected one of" in r.stderr


def test_show_config_names_the_variant(capsys):
    fa.show_config()
    out = capsys.readouterr().out
    assert "kernel variant" in out and _dispatch.VARIANT in out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_runnable_variants_agree(dtype):
    """Every runnable variant's kernels agree within their accuracy bounds (they
    differ only by fused multiply-adds and vector width)."""
    import importlib

    mods = [importlib.import_module("fastact." + _dispatch.MODULE[v]) for v in _dispatch.runnable()]
    if len(mods) < 2:
        pytest.skip("one variant runs on this CPU")
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(4096) * 8).astype(dtype)
    dy = rng.standard_normal(4096).astype(dtype)
    fwd = "forward_f32" if dtype == np.float32 else "forward_f64"
    bwd = "backward_f32" if dtype == np.float32 else "backward_f64"
    for k, name in enumerate(ELEMENTWISE_KERNELS):
        outs = []
        for m in mods:
            y = np.empty_like(x)
            getattr(m, fwd)(k, x, y, 1.0, 20.0 if name == "softplus" else 0.5, 1)
            g = np.empty_like(x)
            getattr(m, bwd)(k, dy, x, g, 1.0, 20.0 if name == "softplus" else 0.5, 1)
            outs.append((y, g))
        # each variant is within the op's bound of the exact value: twice that apart at most
        op = [o for o in OPS if name in o.kernels][0]
        bound = 2 * op.ulp[0 if dtype == np.float32 else 1]
        for y, g in outs[1:]:
            err = ulp_error(y, outs[0][0].astype(np.float64), dtype)
            assert np.max(err) <= bound, (name, "forward")
            scale = np.abs(dy.astype(np.float64)) * 4 * np.finfo(dtype).eps
            assert np.all(np.abs(g.astype(np.float64) - outs[0][1]) <= scale + np.abs(outs[0][1]) * 8 * np.finfo(dtype).eps), (name, "backward")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_entry_points_refuse_bad_arrays(dtype):
    """The C entry points behind the general path check what _api.py promises
    them (dtype, byte order, contiguity, alignment, writeable out, equal sizes)
    and raise instead of reading or writing out of bounds; nothing is written."""
    k = ELEMENTWISE_KERNELS.index("relu")
    sfx = "f32" if dtype == np.float32 else "f64"
    fwd, bwd = getattr(_dispatch.kernels, "forward_" + sfx), getattr(_dispatch.kernels, "backward_" + sfx)
    other = np.float64 if dtype == np.float32 else np.float32
    x = np.linspace(-3, 3, 64).astype(dtype)
    good = np.full(64, 7, dtype)
    readonly = good.copy()
    readonly.flags.writeable = False
    unaligned = np.frombuffer(bytearray(64 * x.itemsize + 1), dtype, 64, offset=1)
    bad_outs = [good[::2], good.astype(other), good.astype(good.dtype.newbyteorder()), readonly, unaligned,
                good[:63]]
    for out in bad_outs:
        before = out.copy()
        with pytest.raises(ValueError):
            fwd(k, x, out, 0.0, 0.0, 1)
        with pytest.raises(ValueError):
            bwd(k, x, x, out, 0.0, 0.0, 1)
        np.testing.assert_array_equal(out, before)
    for bad_in in (x[::2], x.astype(other), x[:63]):
        with pytest.raises(ValueError):
            fwd(k, bad_in, good, 0.0, 0.0, 1)
        with pytest.raises(ValueError):
            bwd(k, x, bad_in, good, 0.0, 0.0, 1)
    assert np.all(good == 7)
    fwd(k, x, good, 0.0, 0.0, 1)                     # and a good call works
    np.testing.assert_array_equal(good, np.maximum(x, 0))
