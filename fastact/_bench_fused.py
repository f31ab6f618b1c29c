"""The inference rows of the benchmark report: bias + activation, a linear
layer with its epilogue, and the cost of activity monitoring.

Contenders, on the same arrays in one process:

- bias_act: fastact ``bias_act(x, b, act, out=y)``; NumPy in two steps,
  ``np.add(x, b, out=y)`` then its best in-place form of the activation on
  y; PyTorch the same two steps with ``out=`` (``torch.add``, then its
  activation into y).
- linear: fastact ``linear(x, W, b, act, out=y)``; NumPy's unfused form
  ``act(x @ W.T + b)`` written without temporaries (``np.matmul(.., out=y)``,
  ``np.add(.., out=y)``, the in-place activation); PyTorch
  ``act(F.linear(x, W, b))`` (the activation in place on F.linear's result).
- monitoring: fastact ``bias_act(..., counts=True)`` against the same call
  without counts: the overhead in percent.

Every row times its contenders with ``bench.time_samples``: many short runs
(TIMING), the contenders' runs interleaved, so that the machine's drift
(neighbours, the state of the caches: the 1e6-element arrays, 8 MB for
float32, sit at the edge of this machine's 8 MB L3, whose state a neighbour
changes from one millisecond to the next) falls on all of a row alike.  The
times shown are medians; the ratios (x peer, the overhead) are the medians
of the paired ratios, round by round.
"""

import numpy as np

from . import _contenders
from ._registry import lookup

__all__ = ["BIAS_ACTS", "LINEAR_SHAPES", "MONITORED", "run", "markdown"]

BIAS_ACTS = ("relu", "gelu", "sigmoid")
BIAS_SHAPE = (1000, 1000)          # 1e6 elements, the bias along the last axis
# (batch, in_features, out_features): the layer widths at batch 1, 32, 256
LINEAR_SHAPES = tuple((b, i, o) for i, o in ((256, 256), (1024, 4096)) for b in (1, 32, 256))
LINEAR_ACT = "relu"
MONITORED = ("relu", "sigmoid")
# the rows' timing: (seconds per sample, samples per repeat of the report)
TIMING = (0.002, 10)
PEERS = ("numpy", "torch")


def _act(contender, name):
    """contender's forward of `name` with the default parameters, as f(x, out); or None."""
    fn = _contenders.get(contender, name)
    if fn is None:
        return None
    params = {p.name: p.default for p in lookup(name).params}
    return lambda x, out: fn(x, out, **params)


def _calls(name, fastact_call, numpy_first, torch_first):
    """{contender: no-argument call}: fastact's, NumPy's and PyTorch's (where they
    have the activation), each a first step returning the array the activation
    then overwrites in place."""
    calls = {"fastact": fastact_call}
    for contender, first in (("numpy", numpy_first), ("torch", torch_first)):
        act = _act(contender, name) if first is not None else None
        if act is not None:
            calls[contender] = lambda act=act, first=first: act(*(2 * (first(),)))
    return calls


def _bias_act_calls(name, x, b, y):
    import fastact as fa

    def numpy_add():
        return np.add(x, b, out=y)

    torch_add = None
    if "torch" in _contenders.available():
        import torch
        tx, tb, ty = torch.from_numpy(x), torch.from_numpy(b), torch.from_numpy(y)

        def torch_add():
            torch.add(tx, tb, out=ty)
            return y
    return _calls(name, lambda: fa.bias_act(x, b, name, out=y), numpy_add, torch_add)


def _linear_calls(name, x, w, b, y):
    import fastact as fa

    def numpy_affine():
        np.matmul(x, w.T, out=y)
        return np.add(y, b, out=y)

    torch_linear = None
    if "torch" in _contenders.available():
        import torch
        import torch.nn.functional as F
        tx, tw, tb = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)

        def torch_linear():
            return F.linear(tx, tw, tb).numpy()
    return _calls(name, lambda: fa.linear(x, w, b, name, out=y), numpy_affine, torch_linear)


def run(dtypes=(np.float32,), min_time=0.01, repeats=5, contenders=None, acts=BIAS_ACTS,
        linear_shapes=LINEAR_SHAPES, monitored=MONITORED):
    """Time every row; returns a list of records (one per row and contender)."""
    from .bench import time_samples

    # NumPy's bundled OpenBLAS (0.3.31 here) keeps a slow path for small float32
    # products until a large product has run in the process (measured on this
    # machine: 256x256x256 at 9.4 GFLOP/s before, 34 after).  One large product
    # first, so that the rows compare steady states; NumPy and fastact.linear
    # (which uses NumPy's matmul) profit alike.
    big = np.ones((512, 512), np.float32)
    big @ big
    wanted = set(contenders or ("fastact",) + PEERS) & set(_contenders.available())
    wanted.add("fastact")
    rng = np.random.default_rng(0)
    records = []

    timing = (min(min_time, TIMING[0]), max(repeats, 1) * TIMING[1])

    def record(kind, label, dtype, n, calls):
        # one row: {contender: call}, a contender whose call fails recorded with its error
        base = {"kind": kind, "row": label, "dtype": np.dtype(dtype).name, "elements": n}
        ok = {}
        for contender, fn in calls.items():
            try:
                fn()
                ok[contender] = fn
            except (NotImplementedError, TypeError, ValueError, RuntimeError) as exc:
                records.append(dict(base, contender=contender, median_s=None, error=str(exc)))
        for contender, v in zip(ok, time_samples(tuple(ok.values()), *timing)):
            records.append(dict(base, contender=contender, median_s=float(np.median(v)), min_s=min(v),
                                max_s=max(v), samples_s=v, error=None))

    for dtype in dtypes:
        x = rng.standard_normal(BIAS_SHAPE).astype(dtype)
        b = rng.standard_normal(BIAS_SHAPE[1]).astype(dtype)
        y = np.empty_like(x)
        for name in acts:
            record("bias_act", "bias_act(%s) %dx%d" % ((name,) + BIAS_SHAPE), dtype, x.size,
                   {c: fn for c, fn in _bias_act_calls(name, x, b, y).items() if c in wanted})
        for batch, fin, fout in linear_shapes:
            xs = rng.standard_normal((batch, fin)).astype(dtype)
            w = (rng.standard_normal((fout, fin)) / np.sqrt(fin)).astype(dtype)
            bs = rng.standard_normal(fout).astype(dtype)
            ys = np.empty((batch, fout), dtype)
            record("linear", "linear(%s) %d x %d->%d" % (LINEAR_ACT, batch, fin, fout), dtype, ys.size,
                   {c: fn for c, fn in _linear_calls(LINEAR_ACT, xs, w, bs, ys).items() if c in wanted})
        for name in monitored:
            import fastact as fa
            plain = lambda name=name: fa.bias_act(x, b, name, out=y)          # noqa: E731
            counted = lambda name=name: fa.bias_act(x, b, name, out=y, counts=True)  # noqa: E731
            record("monitor", "bias_act(%s) %dx%d" % ((name,) + BIAS_SHAPE), dtype, x.size,
                   {"plain": plain, "counts": counted})
    return records


def ratio(records, kind, row, dtype, num, den):
    """Contender num's time over den's in one row: the median over rounds of
    their paired samples (one interleaved run), else the ratio of the medians."""
    v = {r["contender"]: r for r in records
         if r["kind"] == kind and r["row"] == row and r["dtype"] == dtype and r["median_s"]}
    a, b = v[num], v[den]
    if a.get("samples_s") and b.get("samples_s") and len(a["samples_s"]) == len(b["samples_s"]):
        return float(np.median(np.divide(a["samples_s"], b["samples_s"])))
    return a["median_s"] / b["median_s"]


def _table(records, kind):
    out = {}
    for r in records:
        if r["kind"] == kind and r["median_s"]:
            out.setdefault((r["row"], r["dtype"]), {})[r["contender"]] = r["median_s"]
    return out


def markdown(records):
    """The report's inference tables (microseconds per call, speed-ups)."""
    lines = []
    for kind, title in (("bias_act", "bias + activation, 1e6 elements"),
                        ("linear", "linear layer with its epilogue")):
        table = _table(records, kind)
        if not table:
            continue
        peers = [c for c in PEERS if any(c in v for v in table.values())]
        head = ["%s" % title, "dtype", "fastact µs"] + ["%s µs" % p for p in peers] + ["x %s" % p for p in peers]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for (row, dt), v in table.items():
            f = v.get("fastact")
            cells = [row, dt, "%.1f" % (f * 1e6) if f else "—"]
            cells += ["%.1f" % (v[p] * 1e6) if p in v else "—" for p in peers]
            cells += ["%.2f" % ratio(records, kind, row, dt, p, "fastact") if f and p in v else "—" for p in peers]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    table = _table(records, "monitor")
    if table:
        lines += ["| activity monitoring | dtype | plain µs | with counts µs | overhead |", "|---|---|---|---|---|"]
        for (row, dt), v in table.items():
            if "plain" in v and "counts" in v:
                lines.append("| %s | %s | %.1f | %.1f | %+.1f%% |" % (
                    row, dt, v["plain"] * 1e6, v["counts"] * 1e6,
                    100.0 * (ratio(records, "monitor", row, dt, "counts", "plain") - 1.0)))
        lines.append("")
    return "\n".join(lines).rstrip()
