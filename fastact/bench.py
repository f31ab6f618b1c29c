"""python -m fastact.bench: fastact against NumPy and every installed peer, side by side.

For each function, dtype, size and direction (forward, backward) it times
fastact, NumPy's best in-place form, NumPy's textbook form, and each installed
peer (SciPy, numexpr, PyTorch, JAX) on the same arrays in one process, and
prints million elements per second with two speed-ups:

    x numpy  = NumPy (in-place form) time / fastact time
    x peer   = fastest peer's time / fastact time   (peers: NumPy in-place, SciPy,
               numexpr, PyTorch, JAX; the textbook form is shown, not counted)

plus, per dtype and size, a roof row: a parallel copy of the same bytes with
the same thread count (the faster of a per-thread memcpy and a vectorized copy
loop; in place, the loop), which is what a memory-bound kernel can reach.
From 1e7 elements on (INPLACE_MIN), fastact's elementwise functions are also
timed in place (out=x; the backward out=dy), their input restored (untimed)
before each call, and so are the copies of the cell's own arrays, in the same
rounds (the in-place copy restored as well); a memory-speed table gives both
speeds as fractions of those copies' bytes per second.  Every contender of a
cell writes the same out array.

Timing: one warm-up call, then a loop sized to last ~min_time, repeated
(--repeats) times; the median per-call time is reported, with the spread
(min and max) in the JSON.  A cell's contenders run interleaved, round by
round, each round starting at the next one (time_samples): a drift of the
machine falls on all of them alike, and none always runs right after the
same peer (whose thread pool may still spin).  Inputs: realistic values (see _bench_cases), the
same arrays for every contender.

    python -m fastact.bench --quick                  # the default: < 1 minute
    python -m fastact.bench --ops sigmoid,gelu,gelu_tanh --dtypes float32,float64 --sizes 1e3,1e6,4e7
    python -m fastact.bench --json out.json --markdown out.md --plot out.png
    python -m fastact.bench --accuracy               # max ULP error per contender instead

The default run also times the inference forms (fastact._bench_fused):
bias_act against NumPy's and PyTorch's two steps, linear against
``act(x @ W.T + b)`` and ``act(F.linear(x, W, b))``, and the cost of the
activity counts; ``--no-inference`` leaves them out, ``--inference`` adds
them to a run with ``--ops``.
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

import fastact as fa

from . import _contenders, _threads
from ._bench_cases import case_names, make_case, resolve
from ._registry import lookup

QUICK_OPS = ("sigmoid", "tanh", "relu", "silu", "gelu", "gelu_tanh", "softplus", "softmax")
QUICK_SIZES = (1000, 1_000_000)
FULL_SIZES = (1000, 100_000, 1_000_000, 40_000_000)


# ------------------------------------------------------------------ timing

# a sample of calls this long (seconds) or longer is preceded by untimed
# calls of its function: SETTLE_CALLS at least, and for SETTLE_TIME seconds
# at least (time_samples)
SETTLE_CALL = 1e-3
SETTLE_CALLS = 2
SETTLE_TIME = 0.03


def time_call(fn, min_time=0.02, repeats=5):
    """(median, min, max) seconds per call of fn(); one warm-up call first."""
    v = time_samples((fn,), min_time, repeats)[0]
    return float(np.median(v)), float(min(v)), float(max(v))


def time_samples(fns, min_time=0.02, repeats=5, prepares=None):
    """Seconds per call of each of fns: a list of `repeats` samples per fn, each
    the mean over at least min_time of calls (after one warm-up call).  The
    runs are interleaved (round r times every fn once), so that a drift of the
    machine's speed (a neighbour, the caches' state) falls on all of them
    alike, and sample r of one fn pairs with sample r of another: for ratios
    between them.  Round r starts at fn r mod len(fns), so that each follows
    each other equally often (a peer's thread pool still spinning after its
    call slows whatever runs next: measured, PyTorch before fastact.linear's
    1 x 1024 -> 4096 product cost the latter 9%).

    A sample of long calls (SETTLE_CALL seconds or more each, as timed in
    the calibration: 4e7 elements) is preceded by untimed calls of the same
    fn, SETTLE_CALLS at least and for SETTLE_TIME seconds at least: what ran
    before it leaves the machine in a state that slows the calls after it --
    JAX's above all, or both cores idle during a single-threaded peer.
    Measured after JAX's softmax over 4e7 elements, the next two calls of
    fastact's or PyTorch's took 18-23 and 14-18 ms against 9-11 ms (float32),
    34-39 and 25-38 against 20-24 (float64); with one untimed call before
    samples of 4 calls or fewer, and none before longer ones, fastact's
    softmax came out at 0.54-0.77 of PyTorch's in a run with JAX (1.01
    without).

    prepares: None, or one entry per fn, None or a callable run untimed
    before each of fn's calls (the warm-up, the untimed call before a
    sample, every timed call, whose times are summed): an in-place call's
    input restored, so that no call sees its own output (a backward with
    out=dy multiplies dy by the derivative again at each call: softplus's
    over 4e7 float32 had 1.6 million subnormal values after 8 calls, and
    its 5th to 8th calls took 0.29-0.37 ns/element against 0.21-0.25 for
    the first four)."""
    prepares = prepares or (None,) * len(fns)
    loops = []
    settle = []
    for fn, prep in zip(fns, prepares):
        _untimed(fn, prep)
        n = 1
        while True:
            t = _timed_loop(fn, prep, n)
            if t >= min_time or n >= 1 << 22:
                break
            n = max(n * 2, int(n * min_time / max(t, 1e-9) * 1.2))
        loops.append(n)
        settle.append(t / n >= SETTLE_CALL)
    samples = [[] for _ in fns]
    for r in range(repeats):
        for k in range(len(fns)):
            i = (r + k) % len(fns)
            fn, n = fns[i], loops[i]
            if settle[i]:
                _settle(fn, prepares[i])
            samples[i].append(_timed_loop(fn, prepares[i], n) / n)
    return samples


def _untimed(fn, prepare):
    """One untimed call of fn, after prepare() (if any)."""
    if prepare is not None:
        prepare()
    fn()


def _settle(fn, prepare):
    """Untimed calls of fn (each after prepare(), if any): SETTLE_CALLS, then
    more until SETTLE_TIME seconds have passed."""
    end = time.perf_counter() + SETTLE_TIME
    k = 0
    while k < SETTLE_CALLS or time.perf_counter() < end:
        _untimed(fn, prepare)
        k += 1


def _timed_loop(fn, prepare, n):
    """Seconds taken by n calls of fn: one timed loop, or with prepare, each
    call timed on its own after an untimed prepare()."""
    if prepare is None:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return time.perf_counter() - t0
    t = 0.0
    for _ in range(n):
        prepare()
        t0 = time.perf_counter()
        fn()
        t += time.perf_counter() - t0
    return t


# ------------------------------------------------------------ the machine

def cpu_model():
    """The CPU's model name (Linux /proc/cpuinfo), with its x86 family and
    model numbers (a virtual machine's name may be just "AMD EPYC"), else
    what platform knows."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model") and key not in info:
                    info[key] = value.strip()
                if not line.strip() and info:
                    break               # the first processor's block is enough
    except OSError:
        pass
    if "model name" not in info:
        return platform.processor() or platform.machine()
    if "cpu family" in info and "model" in info:
        return "%s, family %s model %s" % (info["model name"], info["cpu family"], info["model"])
    return info["model name"]


def machine():
    facts = fa._config.config()
    return {
        "cpu": cpu_model(),
        "arch": platform.machine(),
        "cores": os.cpu_count(),
        "cpu_features": facts["CPU features seen"],
        "simd_compiled": facts["SIMD compiled for"],
        "kernel_variant": facts["kernel variant"].split(":")[0],
        "threads": fa.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": _contenders.versions(),
    }


def header_lines(m):
    vers = ", ".join("%s %s" % kv for kv in m["versions"].items() if kv[0] != "numpy-textbook")
    return [
        "machine: %s (%s), %d cores; CPU features: %s" % (m["cpu"], m["arch"], m["cores"], m["cpu_features"]),
        "fastact kernels: %s (%s); threads: %d; Python %s" % (m["kernel_variant"], m["simd_compiled"], m["threads"],
                                                            m["python"]),
        "versions: " + vers,
        "Melem/s = million elements per second (median); x numpy = NumPy in-place time / fastact time;",
        "x peer = fastest peer's time / fastact time (peers: numpy in-place, scipy, numexpr, torch, jax).",
    ]


# ------------------------------------------------------------------- runs

def _progress(enabled):
    state = {"t0": time.perf_counter(), "shown": False}

    def show(i, total, label):
        if not enabled:
            return
        if time.perf_counter() - state["t0"] < 2.0 and not state["shown"]:
            return  # short runs stay quiet
        state["shown"] = True
        width = 30
        done = int(width * i / max(total, 1))
        sys.stderr.write("\r[%s%s] %d/%d %-40s" % ("#" * done, "." * (width - done), i, total, label[:40]))
        if i == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def bind(contender, case, backward, out=None):
    """A no-argument callable running one contender on the case, or None.
    out: the array it writes (run gives every contender of a cell the same
    one); None, a new one."""
    fn = _contenders.get(contender, case.name, backward)
    if fn is None:
        return None
    p = case.params
    if backward:
        out = case.out_backward() if out is None else out
        return lambda: fn(case.dy, case.saved, out, **p)
    out = case.out_forward() if out is None else out
    return lambda: fn(case.x, out, **p)


def _copy_threads(src):
    """The thread count fastact uses for a copy of src."""
    from . import _api
    return _api._threads_for(lookup("identity"), src.size)


def _memcpy_call(src, out):
    """src -> out (contiguous, same bytes) as a no-argument callable: memcpy
    per thread, with _copy_threads of them, no wrapper."""
    from . import _special
    sb, ob, nt = src.reshape(-1).view(np.uint8), out.reshape(-1).view(np.uint8), _copy_threads(src)
    return lambda: _special.parallel_copy(sb, ob, nt)


def _copy_calls(src, out, buf):
    """The copies a memory-bound call is measured against, as no-argument
    callables, with the thread count fastact uses for this many elements and
    no wrapper: src -> out by memcpy per thread (non-temporal stores: best
    beyond the caches) and by a vectorized copy loop (best inside them); buf
    copied onto itself by the loop (in place)."""
    from ._dispatch import kernels as _elementwise

    src, out, buf = src.reshape(-1), out.reshape(-1), buf.reshape(-1)
    nt = _copy_threads(src)
    kernel = _elementwise.forward_f32 if src.dtype == np.float32 else _elementwise.forward_f64
    k = _elementwise.KERNELS.index("identity")
    return {ROOF_MEMCPY: _memcpy_call(src, out),
            ROOF_LOOP: lambda: kernel(k, src, out, 0.0, 0.0, nt),
            ROOF_INPLACE: lambda: kernel(k, buf, buf, 0.0, 0.0, nt)}


def _roof(case, min_time, repeats):
    """Melem/s of a parallel copy of case.x's bytes (_copy_calls): out of
    place the faster of memcpy and the loop, and in place."""
    c = _copy_calls(case.x, np.empty_like(case.x), case.x.copy())
    t = {name: time_call(fn, min_time, repeats)[0] for name, fn in c.items()}
    return case.n / min(t[ROOF_MEMCPY], t[ROOF_LOOP]) / 1e6, case.n / t[ROOF_INPLACE] / 1e6


# From this many elements on, fastact's elementwise functions are also timed
# in place (contender INPLACE): the sizes where the target is the memory's
# speed, against the in-place copy roof.
INPLACE_MIN = 10_000_000
INPLACE = "fastact-inplace"
# ... and, in the same rounds, the copies of their arrays (_copy_calls): the
# cell's own roof.  (On this project's virtual machine the memory's speed
# moves from one process, or one set of arrays, to the next: the same
# hardtanh backward over 4e7 float32 took 8.6 ms in one and 5.7-6.2 ms in
# others.)
ROOF_MEMCPY, ROOF_LOOP, ROOF_INPLACE = "copy-memcpy", "copy-loop", "copy-inplace"
ROOFS = (ROOF_MEMCPY, ROOF_LOOP, ROOF_INPLACE)


def _inplace_input(case, backward):
    """The array an in-place call writes over: the forward's x, the
    backward's dy (out=dy)."""
    return case.dy if backward else case.x


def bind_inplace(case, backward, buf=None):
    """(call, prepare) running fastact in place on buf, a scratch copy of
    _inplace_input (None: a new one), prepare restoring it (a parallel copy:
    every core busy right before the call, as before the other contenders'
    calls); None for a function that does not keep its input's shape
    (maxout) or works on rows (softmax: not elementwise)."""
    if lookup(case.name).kind not in ("elementwise", "prelu", "rrelu"):
        return None
    fn, p = _contenders.get("fastact", case.name, backward), case.params
    src = _inplace_input(case, backward)
    buf = src.copy() if buf is None else buf
    if backward:
        call = lambda: fn(buf, case.saved, buf, **p)    # noqa: E731
    else:
        call = lambda: fn(buf, buf, **p)                # noqa: E731
    return call, _memcpy_call(src, buf)


def run(ops, dtypes, sizes, directions, contenders=None, min_time=0.02, repeats=5, progress=True):
    """Time everything; returns (records, roofs).

    records: one dict per (function, dtype, size, direction, contender) with
    median/min/max seconds per call and Melem/s; from INPLACE_MIN elements
    on, fastact's elementwise functions in place too (contender INPLACE),
    with the copies of the cell's arrays (contenders ROOFS), none a column of
    the main table: memory_markdown sets the first against the others.
    Every contender of a cell writes the same out array.
    roofs: one per (dtype, size), its copies timed on their own."""
    contenders = contenders or _contenders.available()
    jobs = [(op, dt, n, d) for op in ops for dt in dtypes for n in sizes for d in directions]
    show = _progress(progress and sys.stderr.isatty())
    records, roofs, seen_roof = [], [], set()
    for i, (name, dtype, n, direction) in enumerate(jobs):
        show(i, len(jobs), "%s %s %.0e %s" % (name, np.dtype(dtype).name, n, direction))
        case = make_case(name, n, dtype)
        if (case.dtype.name, n) not in seen_roof:
            seen_roof.add((case.dtype.name, n))
            r_out, r_in = _roof(case, min_time, repeats)
            roofs.append({"dtype": case.dtype.name, "size": n, "elements": case.n,
                          "copy_melem_s": r_out, "inplace_copy_melem_s": r_in})
        # the cell's contenders that run, timed interleaved (time_samples)
        calls, prepares = {}, {}
        backward = direction == "backward"
        out = case.out_backward() if backward else case.out_forward()   # one for all: the same pages
        for c in contenders:
            fn = bind(c, case, backward, out)
            if fn is None:
                continue
            try:
                fn()
            except (NotImplementedError, TypeError, ValueError, RuntimeError) as exc:
                records.append(_record(case, n, direction, c, None, None, None, str(exc)))
                continue
            calls[c] = fn
        if "fastact" in calls and case.n >= INPLACE_MIN:
            src = _inplace_input(case, backward)
            buf = src.copy()
            bound = bind_inplace(case, backward, buf)
            if bound:
                calls[INPLACE], prepares[INPLACE] = bound
                calls.update(_copy_calls(src, out, buf))
                # the in-place copy, its roof, starts each call as it does:
                # buf just restored (by streaming stores: not in the caches),
                # not right after its own last call (4e7 float32, 2 threads:
                # the copy ran 2-9% faster after a restore than back to
                # back, and so did relu in place)
                prepares[ROOF_INPLACE] = prepares[INPLACE]
        samples = time_samples(tuple(calls.values()), min_time, repeats, [prepares.get(c) for c in calls])
        for c, v in zip(calls, samples):
            records.append(_record(case, n, direction, c, float(np.median(v)), min(v), max(v), None))
    show(len(jobs), len(jobs), "done")
    return records, roofs


def _record(case, n, direction, contender, med, lo, hi, error):
    return {"function": case.label, "dtype": case.dtype.name, "size": n, "elements": case.n,
            "direction": direction, "contender": contender,
            "median_s": med, "min_s": lo, "max_s": hi,
            "melem_s": (case.n / med / 1e6) if med else None, "error": error}


# ----------------------------------------------------------------- tables

def rows(records):
    """One row per (function, dtype, size, direction): {contender: Melem/s} and speed-ups."""
    grouped = {}
    for r in records:
        key = (r["function"], r["dtype"], r["size"], r["direction"])
        if r["melem_s"]:
            grouped.setdefault(key, {})[r["contender"]] = r["melem_s"]
    out = []
    for key, speeds in grouped.items():
        fast = speeds.get("fastact")
        peers = {c: v for c, v in speeds.items() if c in _contenders.PEER_NAMES}
        best = max(peers.items(), key=lambda kv: kv[1]) if peers else (None, None)
        out.append({"key": key, "speeds": speeds,
                    "x_numpy": fast / speeds["numpy"] if fast and speeds.get("numpy") else None,
                    "x_peer": fast / best[1] if fast and best[1] else None,
                    "best_peer": best[0]})
    return out


def markdown(records, roofs, m):
    contenders = [c for c in _contenders.NAMES if any(r["contender"] == c for r in records)]
    lines = ["```"] + header_lines(m) + ["```", ""]
    head = ["function", "dtype", "size", "dir"] + contenders + ["x numpy", "x peer (best)"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for row in rows(records):
        name, dt, n, d = row["key"]
        cells = [name, dt, "%.0e" % n, "fwd" if d == "forward" else "bwd"]
        cells += ["%.0f" % row["speeds"][c] if c in row["speeds"] else "—" for c in contenders]
        cells.append("%.2f" % row["x_numpy"] if row["x_numpy"] else "—")
        cells.append("%.2f (%s)" % (row["x_peer"], row["best_peer"]) if row["x_peer"] else "—")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Roof: a parallel copy of the same bytes, same threads (Melem/s):", "",
              "| dtype | size | copy | in-place copy |", "|---|---|---|---|"]
    for r in roofs:
        lines.append("| %s | %.0e | %.0f | %.0f |" % (r["dtype"], r["size"], r["copy_melem_s"],
                                                     r["inplace_copy_melem_s"]))
    memory = memory_markdown(records)
    if memory:
        lines += ["", memory]
    return "\n".join(lines)


def _moved(name, direction):
    """The arrays a call moves, over the copy's two: a backward reads dy and
    the saved array and writes one (in place too: out=dy), identity's
    backward (nothing saved) copies dy."""
    return 1.5 if direction == "backward" and resolve(name)[0].saves else 1.0


def memory_rows(records):
    """fastact at the sizes it was also timed in place (INPLACE_MIN and up):
    one row per (function, dtype, size, direction) with its Melem/s out of
    place and in place, and each as a fraction of its roof in bytes per
    second: the copy of the cell's arrays timed in the same rounds (the faster
    of memcpy and the loop; in place, the loop on the in-place call's buffer);
    a backward's Melem/s counts 1.5 times (_moved)."""
    speed = {(r["function"], r["dtype"], r["size"], r["direction"], r["contender"]): r["melem_s"]
             for r in records if r["melem_s"]}
    out = []
    for (name, dt, n, d, c), inplace in speed.items():
        key = (name, dt, n, d)
        if c != INPLACE or key + ("fastact",) not in speed:
            continue
        copies = [speed.get(key + (r,)) for r in ROOFS]
        if not all(copies):
            continue
        copy, copy_in = max(copies[:2]), copies[2]
        outplace = speed[key + ("fastact",)]
        out.append({"key": key, "out_melem_s": outplace, "in_melem_s": inplace,
                    "copy_melem_s": copy, "inplace_copy_melem_s": copy_in,
                    "out_roof": outplace * _moved(name, d) / copy,
                    "in_roof": inplace * _moved(name, d) / copy_in})
    return out


def memory_markdown(records):
    rows_ = memory_rows(records)
    if not rows_:
        return ""
    lines = ["Memory speed (%.0e elements and up): fastact out of place (x -> out) and in place (out=x; "
             "the backward's out=dy), each against a copy of its arrays timed in the same rounds (out of "
             "place: x -> out; in place: the buffer onto itself), as a fraction of the copy's bytes per "
             "second. A backward moves three arrays (dy, the saved one, out) where the copy moves two: "
             "its Melem/s count 1.5 times (identity's, a copy of dy, once):" % INPLACE_MIN, "",
             "| function | dtype | size | dir | out of place | copy | of roof | in place | copy | of roof |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows_:
        name, dt, n, d = r["key"]
        lines.append("| %s | %s | %.0e | %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |" % (
            name, dt, n, "fwd" if d == "forward" else "bwd", r["out_melem_s"], r["copy_melem_s"],
            r["out_roof"], r["in_melem_s"], r["inplace_copy_melem_s"], r["in_roof"]))
    return "\n".join(lines)


def plot(records, path):
    """Speed-up over the fastest peer against size, one line per (function, dtype, direction)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install matplotlib (or fastact[bench])")
    series = {}
    for row in rows(records):
        name, dt, n, d = row["key"]
        if row["x_peer"]:
            series.setdefault("%s %s %s" % (name, dt, "fwd" if d == "forward" else "bwd"), []).append(
                (n, row["x_peer"]))
    fig, ax = plt.subplots(figsize=(9, 6))
    for label, pts in sorted(series.items()):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.axhline(1.0, color="black", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("elements")
    ax.set_ylabel("speed-up over the fastest peer")
    ax.set_title("fastact vs the fastest peer (%s, %d threads)" % (cpu_model(), fa.get_num_threads()))
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- accuracy

def accuracy(ops, dtypes, contenders=None, n64=600):
    """Max ULP error of every contender's forward, per function and dtype."""
    from . import _accuracy as acc
    from . import reference

    contenders = contenders or _contenders.available()
    results = []
    for label in ops:
        op, form, _ = resolve(label)
        name = op.name
        if op.kind != "elementwise":
            continue
        for dtype in dtypes:
            if np.dtype(dtype) == np.float32:
                x = acc.float32_inputs(op.domain, n_bits=1 << 20, n_domain=1 << 18)
                exact = reference.forward(name, x.astype(np.float64), **form)
                lo = None
            else:
                x = acc.float64_inputs(op.domain, n64)
                ex = np.array([acc.mp_forward(name, v, form) for v in x])
                exact, lo = ex[:, 0], ex[:, 1]
            params = {p.name: p.default for p in op.params}
            params.update(form)
            for c in contenders:
                fn = _contenders.get(c, name)
                if fn is None:
                    continue
                try:
                    with np.errstate(all="ignore"):
                        y = np.asarray(fn(x, np.empty_like(x), **params), dtype=np.float64)
                except NotImplementedError:
                    continue  # this peer lacks these parameter values (e.g. numexpr has no erf)
                err = acc.ulp_error(y, exact, dtype, lo)
                normal = np.isfinite(exact) & (np.abs(exact) >= np.finfo(dtype).tiny)
                results.append({"function": label, "dtype": np.dtype(dtype).name, "contender": c,
                                "max_ulp": float(np.max(err[normal], initial=0.0))})
    return results


def accuracy_markdown(results):
    contenders = [c for c in _contenders.NAMES if any(r["contender"] == c for r in results)]
    lines = ["| function | dtype | " + " | ".join(contenders) + " |", "|" + "---|" * (len(contenders) + 2)]
    table = {}
    for r in results:
        table.setdefault((r["function"], r["dtype"]), {})[r["contender"]] = r["max_ulp"]
    for (name, dt), vals in table.items():
        cells = [("%.2g" % vals[c]) if c in vals else "—" for c in contenders]
        lines.append("| %s | %s | %s |" % (name, dt, " | ".join(cells)))
    return "\n".join(lines)


# -------------------------------------------------------------------- CLI

def _list(parse):
    """An argparse type: a comma-separated list, each item through parse
    (which raises ValueError with the message for a bad one)."""
    def convert(text):
        items = [t.strip() for t in text.split(",")]
        if not all(items):
            raise argparse.ArgumentTypeError("empty item in %r" % text)
        try:
            return [parse(t) for t in items]
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return convert


def _op(text):
    return resolve(text)[2]


def _dtype(text):
    if text not in ("float32", "float64"):
        raise ValueError("%r is not one of float32, float64" % text)
    return np.dtype(text).type


def _size(text):
    try:
        v = float(text)
    except ValueError:
        raise ValueError("%r is not a number" % text) from None
    if not (1 <= v < 1e15 and v == int(v)):
        raise ValueError("%r is not a whole element count >= 1" % text)
    return int(v)


def _contender(text):
    if text not in _contenders.NAMES:
        raise ValueError("%r is not one of %s" % (text, ", ".join(_contenders.NAMES)))
    return text


def _bounded(kind, lo):
    """An argparse type: a number of `kind` >= lo (an int) or > lo and finite (a float)."""
    def convert(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%r is not %s" % (text, "an integer" if kind is int else "a number"))
        if v < lo if kind is int else not lo < v < float("inf"):
            raise argparse.ArgumentTypeError("%r is out of range (%s %s)" % (text, ">=" if kind is int else ">", lo))
        return v
    return convert


def _thread_count(text):
    """An argparse type: a thread count, checked as fastact.set_num_threads checks it."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not an integer" % text) from None
    try:
        return _threads._check_count(n, "bench")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _writable(text):
    """An argparse type: a file path whose directory exists."""
    if not text or os.path.isdir(text):
        raise argparse.ArgumentTypeError("%r is not a file name" % text)
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError("no such directory: %s" % folder)
    return text


def _prog():
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name.startswith("fastact-bench") else "python -m fastact.bench"


def parse_args(argv):
    ap = argparse.ArgumentParser(prog=_prog(), description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="the default: %s, float32, sizes 1e3 and 1e6, forward and backward" % ", ".join(QUICK_OPS))
    mode.add_argument("--full", action="store_true",
                      help="every function (and gelu_tanh), float32 and float64, 1e3..4e7")
    ap.add_argument("--ops", type=_list(_op), help="comma-separated function names (aliases allowed; gelu_tanh is "
                                                   "gelu with approximate='tanh')")
    ap.add_argument("--dtypes", type=_list(_dtype), help="comma-separated: float32,float64")
    ap.add_argument("--sizes", type=_list(_size), help="comma-separated element counts, e.g. 1e3,1e5,1e6,4e7")
    ap.add_argument("--threads", type=_thread_count,
                    help="fastact thread count (default: fastact's default)")
    ap.add_argument("--contenders", type=_list(_contender),
                    help="comma-separated subset of: %s" % ", ".join(_contenders.NAMES))
    d = ap.add_mutually_exclusive_group()
    d.add_argument("--forward", action="store_true", help="forward only")
    d.add_argument("--backward", action="store_true", help="backward only")
    ap.add_argument("--repeats", type=_bounded(int, 1), default=5, help="timed repeats per cell (median reported)")
    ap.add_argument("--min-time", type=_bounded(float, 0.0), default=None,
                    help="seconds per repeat (default 0.01 quick, 0.05 full)")
    ap.add_argument("--json", metavar="FILE", type=_writable,
                    help="write one record per (function, dtype, size, direction, contender)")
    ap.add_argument("--markdown", metavar="FILE", type=_writable, help="write the table as Markdown")
    ap.add_argument("--plot", metavar="FILE.png", type=_writable,
                    help="plot speed-up over the fastest peer against size")
    ap.add_argument("--accuracy", action="store_true", help="report max ULP errors instead of speed")
    inf = ap.add_mutually_exclusive_group()
    inf.add_argument("--inference", action="store_true",
                     help="add the inference rows (bias_act, linear, monitoring) to a run with --ops")
    inf.add_argument("--no-inference", action="store_true",
                     help="leave out the inference rows (bias_act, linear, monitoring)")
    return ap.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    full = a.full
    names = a.ops or (case_names() if full else list(QUICK_OPS))
    dtypes = a.dtypes or ([np.float32, np.float64] if full else [np.float32])
    sizes = tuple(a.sizes) if a.sizes else (FULL_SIZES if full else QUICK_SIZES)
    directions = ["forward"] if a.forward else ["backward"] if a.backward else ["forward", "backward"]
    contenders = a.contenders
    if a.threads is not None:
        fa.set_num_threads(a.threads)
    m = machine()
    if a.accuracy:
        res = accuracy(names, dtypes, contenders)
        print("\n".join(header_lines(m)[:3]))
        print("\nmax ULP error of the forward (float32: 1.3M inputs vs float64; float64: mpmath samples)\n")
        print(accuracy_markdown(res))
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"machine": m, "accuracy": res}, f, indent=1)
        return 0
    min_time = a.min_time or (0.05 if full else 0.01)
    records, roofs = run(names, dtypes, sizes, directions, contenders, min_time, a.repeats)
    text = markdown(records, roofs, m)
    fused = []
    if a.inference or not (a.no_inference or a.ops or a.accuracy):
        from . import _bench_fused
        fused = _bench_fused.run(dtypes, min_time, a.repeats, contenders)
        text += "\n\nInference (fastact.bias_act, fastact.linear; median µs per call of short runs, each row's " \
                "contenders interleaved; x peer = its time / fastact's and the overhead, medians of the " \
                "paired ratios):\n\n" + _bench_fused.markdown(fused)
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"machine": m, "records": records, "roofs": roofs, "inference": fused}, f, indent=1)
    if a.plot:
        plot(records, a.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
