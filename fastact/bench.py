"""python -m fastact.bench: fastact against NumPy, side by side, in one process.

For each function and size it prints fastact's throughput (million elements
per second, forward with ``out=``) and the speed-up over the best in-place
NumPy form of the same function (ufuncs with ``out=``, no temporaries) where
one is written below.  Speed = NumPy time / fastact time.  Timing: one warm-up,
then repeats of a loop sized to last ~20 ms; the median is reported.

Options: --quick (default: sizes 1e3, 1e5, 1e6, float32, forward), --full
(adds 4e7, float64 and backward), --ops a,b,c.
"""

import argparse
import os
import platform
import sys
import time

import numpy as np

import fastact as fa
from fastact._registry import OPS


def _np_inplace():
    """The best in-place NumPy form of some functions: f(x, out) -> out."""

    def sigmoid(x, o):
        np.negative(x, out=o)
        np.exp(o, out=o)
        o += 1.0
        return np.reciprocal(o, out=o)

    def silu(x, o):
        sigmoid(x, o)
        return np.multiply(o, x, out=o)

    def softplus(x, o):
        np.abs(x, out=o)
        np.negative(o, out=o)
        np.exp(o, out=o)
        np.log1p(o, out=o)
        return np.add(o, np.maximum(x, 0.0), out=o)

    def softmax(x, o):
        np.subtract(x, x.max(axis=-1, keepdims=True), out=o)
        np.exp(o, out=o)
        o /= o.sum(axis=-1, keepdims=True)
        return o

    return {
        "sigmoid": sigmoid,
        "tanh": lambda x, o: np.tanh(x, out=o),
        "relu": lambda x, o: np.maximum(x, 0.0, out=o),
        "relu6": lambda x, o: np.clip(x, 0.0, 6.0, out=o),
        "hardtanh": lambda x, o: np.clip(x, -1.0, 1.0, out=o),
        "silu": silu,
        "softplus": softplus,
        "softmax": softmax,
        "identity": lambda x, o: np.copyto(o, x),
    }


def _time(fn, min_time=0.02, repeats=5):
    fn()
    loops, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time or loops >= 1 << 20:
            break
        loops *= 2
    samples = [t / loops]
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - t0) / loops)
    return float(np.median(samples))


def _call_args(op, x):
    if op.kind == "prelu":
        return (x, 0.25)
    if op.kind == "maxout":
        return (x, 2)
    return (x,)


def _input(op, n, dtype, rng):
    lo, hi = op.domain
    x = rng.uniform(lo / 4, hi / 4, n).astype(dtype)
    if op.kind == "rowwise":
        x = x.reshape(-1, 1000) if n >= 1000 else x.reshape(1, -1)
    return x


def run(ops, sizes, dtypes, backward):
    rng = np.random.default_rng(0)
    baselines = _np_inplace()
    rows = []
    for op in ops:
        for dtype in dtypes:
            for n in sizes:
                x = _input(op, n, dtype, rng)
                f = getattr(fa, op.name)
                args = _call_args(op, x)
                y = f(*args)
                if backward:
                    saved = y if op.saves == "y" else x
                    dy = np.ones_like(y)
                    g = getattr(fa, op.name + "_backward")
                    extra = args[1:]
                    out = np.empty_like(x)
                    t = _time(lambda: g(dy, saved, *extra, out=out))
                    base = None
                else:
                    out = np.empty_like(y)
                    t = _time(lambda: f(*args, out=out))
                    b = baselines.get(op.name)
                    base = _time(lambda: b(x, out)) if b is not None else None
                rows.append((op.name, np.dtype(dtype).name, n, "bwd" if backward else "fwd",
                             x.size / t / 1e6, (base / t) if base else None))
    return rows


def cpu_model():
    """The CPU's model name (Linux /proc/cpuinfo), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header():
    facts = fa._config.config()
    return ["fastact %s, NumPy %s, Python %s" % (fa.__version__, np.__version__, platform.python_version()),
            "machine: %s (%s), %d cores, %s; SIMD compiled: %s; threads: %d"
            % (cpu_model(), platform.machine(), os.cpu_count(), facts["CPU features seen"],
               facts["SIMD compiled for"], fa.get_num_threads()),
            "Speed = NumPy time / fastact time (NumPy: best in-place ufunc form)"]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m fastact.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the default: 1e3, 1e5, 1e6, float32, forward")
    ap.add_argument("--full", action="store_true", help="also 4e7 elements, float64 and backward")
    ap.add_argument("--ops", default="", help="comma-separated function names (default: all)")
    a = ap.parse_args(argv)
    names = [s for s in a.ops.split(",") if s]
    ops = [op for op in OPS if not names or op.name in names]
    sizes = [1000, 100_000, 1_000_000] + ([40_000_000] if a.full else [])
    dtypes = [np.float32] + ([np.float64] if a.full else [])
    rows = run(ops, sizes, dtypes, False)
    if a.full:
        rows += run(ops, sizes, dtypes, True)
    print("\n".join(header()))
    print()
    print("| function | dtype | size | dir | fastact Melem/s | speed vs NumPy |")
    print("|---|---|---|---|---|---|")
    for name, dt, n, d, mps, sp in rows:
        print("| %s | %s | %.0e | %s | %.0f | %s |" % (name, dt, n, d, mps, "%.1fx" % sp if sp else "—"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
