"""Memory: reference counts of inputs and outs unchanged by calls and by
failing calls, no growth of traced memory or RSS over 100,000 calls, and a
tensor of more than 2^31 elements."""

import gc
import os
import sys
import tracemalloc

import numpy as np
import pytest

import fastact as fa
from fastact._registry import lookup

import util


def _calls(name, params, dtype, rng):
    """(objects whose counts must not move, [call]) for one function: the
    fast path, the general path (strided input, out=), and failing calls
    (bad out dtype, bad out shape, bad input dtype, mismatched backward shapes)."""
    op = lookup(name)
    x = rng.uniform(-3, 3, (6, 16)).astype(dtype)
    p = util.fit_params(op, x.shape, params)
    y = util.forward(name, x, p)
    dy = rng.uniform(-1, 1, y.shape).astype(dtype)
    saved = np.array(util.saved_for(name, x, p), copy=True)
    out = np.empty_like(y)
    dx = np.empty_like(x)
    strided = np.repeat(x, 2, axis=1)[:, ::2]
    wrong_dtype = np.empty(y.shape, np.float16)
    wrong_shape = np.empty((y.size + 1,), dtype)
    bad_input = x.astype(np.complex128)
    calls = [
        lambda: util.forward(name, x, p),
        lambda: util.forward(name, x, p, out=out),
        lambda: util.forward(name, strided, p, out=out),
        lambda: util.backward(name, dy, saved, p),
        lambda: util.backward(name, dy, saved, p, out=dx),
    ]
    failing = [
        lambda: util.forward(name, x, p, out=wrong_dtype),
        lambda: util.forward(name, x, p, out=wrong_shape),
        lambda: util.forward(name, bad_input, p),
        lambda: util.backward(name, dy, saved, p, out=wrong_dtype),
        lambda: util.backward(name, dy[:1], saved, p),
    ]
    objs = [x, y, dy, saved, out, dx, strided, wrong_dtype, wrong_shape, bad_input]
    objs += [v for v in p.values() if isinstance(v, np.ndarray)]
    return objs, calls, failing


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", util.name_param_params())
def test_reference_counts(name, params, dtype, rng):
    """sys.getrefcount of every input, out and array parameter is the same
    after 3 rounds of good and failing calls."""
    objs, calls, failing = _calls(name, params, dtype, rng)
    for c in calls + failing:  # warm up (caches, first exceptions)
        _call(c)
    before = [sys.getrefcount(o) for o in objs]
    for _ in range(3):
        for c in calls:
            c()
        for c in failing:
            assert _call(c), "a failing call did not fail"
    after = [sys.getrefcount(o) for o in objs]
    assert after == before, "reference counts moved: %s -> %s" % (before, after)


def _call(c):
    """c(); True when it raised TypeError or ValueError (then nothing is kept)."""
    try:
        c()
    except (TypeError, ValueError):
        return True
    return False


def _rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def test_no_growth_over_100k_calls(rng):
    """100,000 calls over every function (fast path, general path, failing
    calls) grow neither tracemalloc's traced memory nor the RSS beyond noise."""
    work = []
    for op in fa.OPS:
        params = {"training": True, "seed": 3} if op.kind == "rrelu" else {}
        _, calls, failing = _calls(op.name, params, np.float32 if len(work) % 2 else np.float64, rng)
        work += calls + failing
    n = 100_000
    rounds = n // len(work) + 1
    for c in work * 20:
        _call(c)
    gc.collect()
    rss0 = _rss_bytes()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(rounds):
            for c in work:
                _call(c)
            if i == rounds // 10:  # after a tenth: later growth is a leak
                gc.collect()
                base = tracemalloc.get_traced_memory()[0]
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert rounds * len(work) >= n
    assert grown < 64 * 1024, "traced memory grew by %d bytes over %d calls" % (grown, rounds * len(work))
    # (under tools/asan_test.sh the RSS holds ASan's quarantine of freed memory)
    if rss0 is not None and not os.environ.get("FASTACT_UNDER_ASAN"):
        rss = _rss_bytes() - rss0
        assert rss < 16 * 2 ** 20, "RSS grew by %.1f MiB over %d calls" % (rss / 2 ** 20, rounds * len(work))


# ------------------------------------------------- more than 2^31 elements

BIG_N = 2 ** 31 + 1024


def _mem_available():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def _splitmix_uniform(seed, i):
    """rrelu's documented noise U(seed, i) (a splitmix64 finaliser), in Python integers."""
    import struct

    m = 2 ** 64 - 1
    z = (seed + (i + 1) * 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    z ^= z >> 31
    return struct.unpack("<d", struct.pack("<Q", (z >> 12) | 0x3FF0000000000000))[0] - 1.0


def test_more_than_2_31_elements(rng):
    """A float32 array of 2^31 + 1024 elements (8 GiB), in place: the fast
    path (relu), the general path (leaky_relu with a parameter), a backward
    with dy, saved and out one array (sigmoid_backward), and rrelu's
    per-element noise (its index passes 2^31): the first elements, those
    either side of 2^31 and the last ones are right."""
    avail = _mem_available()
    if avail is None or avail < BIG_N * 4 + 2 ** 30:
        pytest.skip("needs 9 GiB of free memory, %s available" % (
            "unknown" if avail is None else "%.1f GiB" % (avail / 2 ** 30)))
    lower, upper, seed = 0.1, 0.3, 11
    assert [lower + (upper - lower) * _splitmix_uniform(seed, i) for i in range(5)] == \
        fa._special.rrelu_slopes(5, lower, upper, seed).tolist()   # the Python twin of the noise
    idx = np.r_[0:64, 2 ** 31 - 64:2 ** 31 + 64, BIG_N - 64:BIG_N]
    v = rng.uniform(-4, 4, idx.size).astype(np.float32)
    v64 = v.astype(np.float64)
    slopes = np.array([lower + (upper - lower) * _splitmix_uniform(seed, int(i)) for i in idx])
    steps = [
        ("relu", lambda x: fa.relu(x, out=x), np.maximum(v64, 0.0)),
        ("leaky_relu(alpha=0.2)", lambda x: fa.leaky_relu(x, alpha=0.2, out=x), np.where(v64 > 0, v64, 0.2 * v64)),
        ("sigmoid_backward(x, x, out=x)", lambda x: fa.sigmoid_backward(x, x, out=x), v64 * v64 * (1.0 - v64)),
        ("rrelu(training=True)", lambda x: fa.rrelu(x, lower, upper, training=True, seed=seed, out=x),
         np.where(v64 > 0, v64, slopes * v64)),
    ]
    x = np.empty(BIG_N, np.float32)
    try:
        for what, call, want in steps:
            x[idx] = v
            assert call(x) is x
            util.assert_close(x[idx], want, 1e-6, 1e-30, x=v, what="%s on 2^31 + 1024 elements" % what)
    finally:
        del x
