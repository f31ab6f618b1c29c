"""Train a small MLP on scikit-learn's digits with fastact, and the same network in plain NumPy.

One command, with fastact installed (``pip install ".[examples]"`` adds scikit-learn and
matplotlib; from a tree built with ``python setup.py build_ext --inplace``, put the tree on
``PYTHONPATH``)::

    python examples/mlp_digits.py            # defaults: about a minute on 2 cores
    python examples/mlp_digits.py --help     # the options

What it does
------------
* Data: ``sklearn.datasets.load_digits`` (1797 8x8 images, 10 classes, shipped inside
  scikit-learn: no download), standardised with the training set's mean and deviation,
  a fixed stratified split of 1297 training and 500 test images, float32 throughout.
* Network: ``--layers`` hidden layers of ``--hidden`` units with one activation (sigmoid,
  tanh, relu, leaky_relu, gelu), a linear output layer, softmax cross-entropy computed with
  ``fa.log_softmax`` and ``fa.log_softmax_backward``, mini-batch SGD with momentum
  ``--momentum``.  Weights: one set of standard-normal draws (from ``--seed``) shared by
  every activation, scaled per activation as is usual -- Glorot, std sqrt(2/(fan_in+fan_out)),
  for sigmoid and tanh; He, std sqrt(2/fan_in), for relu, leaky_relu and gelu; biases 0.
  Every activation and both implementations see the same mini-batches in the same order.
* Two implementations of the same network, trained side by side, epoch by epoch
  (alternating, so that the load of the machine falls on both alike): one calls fastact
  (in place where the backward takes the output, ``out=``), the other the NumPy a NumPy
  user would write: ``1/(1+np.exp(-x))``, ``np.tanh``, ``np.maximum``, ``np.where`` and,
  since NumPy has no erf, GELU's tanh form -- so both use ``gelu(x, approximate='tanh')``.
  Matrix products are NumPy's in both: only the activations and the log-softmax differ.
* After every epoch, an evaluation pass (not timed) over the whole training set: the
  training loss, test accuracy, the RMS of each weight gradient (the first layer's against
  the output layer's shows how much gradient vanishes on the way down), and ``activity()``
  of each hidden layer: for ReLU-like activations the fraction of *dead* units (output <= 0,
  i.e. inactive, on every training image), for sigmoid and tanh the fraction of *saturated*
  (image, unit) pairs and of units saturated on every image, saturated meaning a derivative
  below 1e-3 of its maximum (sigmoid' < 0.25e-3, tanh' < 1e-3).
* Writes to ``--out`` (default ``examples/out``): ``learning_curves.png`` (test accuracy,
  training loss and the gradient ratio per epoch), ``activity.png`` (dead and saturated
  fractions per epoch),
  ``time_per_epoch.png`` (fastact against NumPy), ``results.json``; prints a Markdown table.

Timings are medians of the per-epoch times of one run, on whatever else the machine runs.
NumPy's BLAS runs on one thread by default (``--blas-threads``): at these sizes its threads
gain nothing, and on a shared 2-core machine their spinning made whole stretches of epochs
a hundred times slower, for both implementations alike.
"""

import argparse
import contextlib
import json
import math
import os
import sys
import time

import numpy as np

import fastact as fa

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")
PARAMS = {"gelu": {"approximate": "tanh"}}      # what NumPy can write without an erf
GLOROT = ("sigmoid", "tanh")                     # the others get He's scaling
SATURATING = {"sigmoid": 0.25, "tanh": 1.0}      # maximum of the derivative
SATURATION = 1e-3                                # "saturated": derivative < SATURATION * maximum


# --------------------------------------------------------------------------- activations

class FastactOps:
    """An activation and the log-softmax from fastact, written into their inputs where they can."""

    def __init__(self, name):
        self.name = name
        self.params = PARAMS.get(name, {})
        self.f = getattr(fa, name)
        self.df = getattr(fa, name + "_backward")
        self.in_place = fa._registry.lookup(name).saves == "y"

    def forward(self, z):
        """Return (output, what the backward needs)."""
        if self.in_place:                  # the backward takes y: z may be overwritten
            y = self.f(z, out=z, **self.params)
            return y, y
        return self.f(z, **self.params), z

    def backward(self, dy, saved):
        return self.df(dy, saved, out=dy, **self.params)

    @staticmethod
    def log_softmax(z):
        return fa.log_softmax(z, axis=1, out=z)

    @staticmethod
    def log_softmax_backward(dy, y):
        return fa.log_softmax_backward(dy, y, axis=1, out=dy)


_K = np.float32(math.sqrt(2.0 / math.pi))       # GELU's tanh form: tanh(K (x + C x^3))
_C = np.float32(0.044715)
_ALPHA = np.float32(0.01)                       # leaky_relu's default slope


def _np_gelu(x):
    return 0.5 * x * (1 + np.tanh(_K * (x + _C * x**3)))


def _np_gelu_backward(dy, x):
    t = np.tanh(_K * (x + _C * x**3))
    return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _K * (1 + 3 * _C * x * x))


def _np_sigmoid(x):
    with np.errstate(over="ignore"):                # exp(-x) = inf below -88 gives 0, as it should
        return 1 / (1 + np.exp(-x))


# name: (forward, backward, whether the backward takes the output y or the input x)
NUMPY_ACTS = {
    "sigmoid": (_np_sigmoid, lambda dy, y: dy * y * (1 - y), "y"),
    "tanh": (np.tanh, lambda dy, y: dy * (1 - y * y), "y"),
    "relu": (lambda x: np.maximum(x, 0), lambda dy, y: dy * (y > 0), "y"),
    "leaky_relu": (lambda x: np.where(x > 0, x, _ALPHA * x), lambda dy, x: np.where(x > 0, dy, _ALPHA * dy), "x"),
    "gelu": (_np_gelu, _np_gelu_backward, "x"),
}


class NumpyOps:
    """The same operations as a NumPy user writes them: textbook formulas, new arrays."""

    def __init__(self, name):
        self.name = name
        self.f, self.df, saves = NUMPY_ACTS[name]
        self.saves_y = saves == "y"

    def forward(self, z):
        y = self.f(z)
        return y, (y if self.saves_y else z)

    def backward(self, dy, saved):
        return self.df(dy, saved)

    @staticmethod
    def log_softmax(z):
        s = z - z.max(axis=1, keepdims=True)
        return s - np.log(np.exp(s).sum(axis=1, keepdims=True))

    @staticmethod
    def log_softmax_backward(dy, y):
        return dy - np.exp(y) * dy.sum(axis=1, keepdims=True)


def activity(name, y):
    """What fraction of a hidden layer is dead or saturated on a batch.

    ``y`` is the layer's output, one row per sample.  For the ReLU-like activations
    (relu, leaky_relu, gelu), a unit is dead when its output is <= 0 (its input <= 0) on
    every row; for relu that means it gets no gradient and cannot recover (leaky_relu and
    gelu units still get a small one).  For sigmoid
    and tanh, an output is saturated where the derivative (y(1-y), 1-y^2) is below
    ``SATURATION`` times its maximum; returns the fraction of saturated (row, unit) pairs
    and of units saturated on every row.  (A stand-in for fastact's coming ActivityMonitor.)
    """
    if name in SATURATING:
        d = y * (1 - y) if name == "sigmoid" else 1 - y * y
        sat = d < SATURATION * SATURATING[name]
        return {"saturated": float(sat.mean()), "saturated_units": float(sat.all(axis=0).mean())}
    return {"dead": float((y <= 0).all(axis=0).mean())}


# --------------------------------------------------------------------------- the network

class MLP:
    """Hidden layers of one activation, a linear output, softmax cross-entropy, SGD + momentum."""

    def __init__(self, ops, sizes, draws, lr, momentum, init_scale=1.0):
        self.ops, self.lr, self.momentum = ops, np.float32(lr), np.float32(momentum)
        scale = "glorot" if ops.name in GLOROT else "he"
        self.W, self.b = [], []
        for (n_in, n_out), d in zip(zip(sizes[:-1], sizes[1:]), draws):
            std = math.sqrt(2.0 / (n_in + n_out)) if scale == "glorot" else math.sqrt(2.0 / n_in)
            self.W.append((d * np.float32(init_scale * std)).astype(np.float32))
            self.b.append(np.zeros(n_out, np.float32))
        self.vW = [np.zeros_like(w) for w in self.W]
        self.vb = [np.zeros_like(b) for b in self.b]

    def forward(self, x):
        """Return (log-probabilities, what backward needs, the hidden layers' outputs)."""
        inputs, saved, hidden = [], [], []
        a = x
        for W, b in zip(self.W[:-1], self.b[:-1]):
            inputs.append(a)
            z = a @ W
            z += b
            a, s = self.ops.forward(z)
            saved.append(s)
            hidden.append(a)
        inputs.append(a)
        z = a @ self.W[-1]
        z += self.b[-1]
        return self.ops.log_softmax(z), (inputs, saved), hidden

    def backward(self, logp, cache, t):
        """Return the loss (mean cross-entropy) and the gradients of W and b."""
        inputs, saved = cache
        n = len(t)
        rows = np.arange(n)
        loss = -float(logp[rows, t].astype(np.float64).mean())
        g = np.zeros_like(logp)
        g[rows, t] = -1.0 / n
        g = self.ops.log_softmax_backward(g, logp)
        dW, db = [None] * len(self.W), [None] * len(self.W)
        for i in reversed(range(len(self.W))):
            if i < len(self.W) - 1:
                g = self.ops.backward(g, saved[i])
            dW[i] = inputs[i].T @ g
            db[i] = g.sum(axis=0)
            if i > 0:
                g = g @ self.W[i].T
        return loss, dW, db

    def step(self, x, t):
        logp, cache, _ = self.forward(x)
        loss, dW, db = self.backward(logp, cache, t)
        for p, v, g in zip(self.W + self.b, self.vW + self.vb, dW + db):
            v *= self.momentum
            v -= self.lr * g
            p += v
        return loss

    def train_epoch(self, x, t, batches):
        """One pass over the mini-batches; return its wall time in seconds."""
        start = time.perf_counter()
        for idx in batches:
            self.step(x[idx], t[idx])
        return time.perf_counter() - start

    def evaluate(self, x, t, x_test, t_test):
        """Loss, gradient RMS per layer and activity on (x, t); accuracy on the test set."""
        logp, cache, hidden = self.forward(x)
        acts = [activity(self.ops.name, h) for h in hidden]
        loss, dW, _ = self.backward(logp, cache, t)
        acc = float((self.forward(x_test)[0].argmax(axis=1) == t_test).mean())
        rms = [float(np.sqrt((g.astype(np.float64) ** 2).mean())) for g in dW]
        # how much of the gradient reaches the first layer, against the output layer's
        ratio = rms[0] / rms[-1] if rms[-1] > 0 else math.nan      # 0 or nan once training diverged
        out = {"loss": loss, "accuracy": acc, "grad_rms": rms, "grad_ratio": ratio}
        for key in acts[0]:                  # over all hidden units (layers are the same width)
            out[key] = float(np.mean([a[key] for a in acts]))
        return out


# --------------------------------------------------------------------------- the run

def load_data(seed=0):
    """Standardised float32 digits, a fixed stratified 1297/500 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, t = load_digits(return_X_y=True)
    x_tr, x_te, t_tr, t_te = train_test_split(x, t, test_size=500, stratify=t, random_state=seed)
    mu, sd = x_tr.mean(axis=0), x_tr.std(axis=0) + 1e-8     # some border pixels are always 0
    f = lambda a: ((a - mu) / sd).astype(np.float32)        # noqa: E731
    return f(x_tr), t_tr, f(x_te), t_te


def run(name, data, args):
    """Train fastact's and NumPy's networks side by side; return their histories."""
    x, t, x_test, t_test = data
    sizes = [x.shape[1]] + [args.hidden] * args.layers + [10]
    rng = np.random.default_rng(args.seed)
    draws = [rng.standard_normal((n_in, n_out), dtype=np.float32) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    nets = {k: MLP(ops(name), sizes, draws, args.lr, args.momentum, args.init_scale)
            for k, ops in (("fastact", FastactOps), ("numpy", NumpyOps))}
    hist = {k: {"epochs": [net.evaluate(x, t, x_test, t_test)], "times": []} for k, net in nets.items()}
    order = list(nets)
    for epoch in range(args.epochs):
        perm = np.random.default_rng([args.seed, epoch]).permutation(len(x))
        batches = [perm[i:i + args.batch] for i in range(0, len(x), args.batch)]
        for k in order:
            hist[k]["times"].append(nets[k].train_epoch(x, t, batches))
            hist[k]["epochs"].append(nets[k].evaluate(x, t, x_test, t_test))
        order.reverse()                      # neither always runs first
    return hist


def summarise(name, hist):
    fast, slow = hist["fastact"], hist["numpy"]
    last = fast["epochs"][-1]
    t_fast, t_np = float(np.median(fast["times"])), float(np.median(slow["times"]))
    first = fast["epochs"][0]
    reached = [i for i, e in enumerate(fast["epochs"]) if e["accuracy"] >= 0.9]
    row = {"activation": name, "accuracy": last["accuracy"], "loss": last["loss"],
           "epochs_to_90": reached[0] if reached else None,
           "ms_fastact": 1e3 * t_fast, "ms_numpy": 1e3 * t_np, "speedup": t_np / t_fast,
           "grad_ratio_start": first["grad_ratio"], "grad_ratio": last["grad_ratio"],
           "max_loss_diff": max(abs(a["loss"] - b["loss"]) for a, b in zip(fast["epochs"], slow["epochs"])),
           "max_acc_diff": max(abs(a["accuracy"] - b["accuracy"]) for a, b in zip(fast["epochs"], slow["epochs"]))}
    for key in ("dead", "saturated", "saturated_units"):
        row[key] = last.get(key)
    return row


def table(rows):
    """The results as a Markdown table."""
    pct = lambda v: "" if v is None else "%.1f%%" % (100 * v)     # noqa: E731
    lines = ["| activation | test accuracy | epochs to 90% | train loss | ms/epoch fastact | ms/epoch NumPy "
             "| speed-up | dead units | saturated outputs | saturated units | grad layer 1 / output, start → end "
             "| max loss diff |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append("| %s | %.3f | %s | %.4f | %.1f | %.1f | %.2fx | %s | %s | %s | %.3f → %.3f | %.1e |" % (
            r["activation"], r["accuracy"], "never" if r["epochs_to_90"] is None else r["epochs_to_90"], r["loss"],
            r["ms_fastact"], r["ms_numpy"], r["speedup"], pct(r["dead"]), pct(r["saturated"]),
            pct(r["saturated_units"]), r["grad_ratio_start"], r["grad_ratio"], r["max_loss_diff"]))
    return "\n".join(lines)


def plot(hists, rows, args):
    """Write learning_curves.png, activity.png and time_per_epoch.png into args.out."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def curves(ax, key, names, ylabel, scale=1.0):
        if not names:
            ax.axis("off")
            return
        for name in names:
            ep = hists[name]["fastact"]["epochs"]
            ax.plot(range(len(ep)), [scale * e[key] for e in ep], label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)

    names = list(hists)
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(12, 3.4))
    curves(a1, "accuracy", names, "test accuracy")
    curves(a2, "loss", names, "training loss (cross-entropy)")
    curves(a3, "grad_ratio", names, "gradient RMS, layer 1 / output layer")
    a2.set_yscale("log")
    a3.set_yscale("log")
    fig.suptitle("MLP on scikit-learn's digits: %d hidden layers of %d, batch %d, SGD lr %g momentum %g "
                 "(epoch 0: before training)" % (args.layers, args.hidden, args.batch, args.lr, args.momentum),
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "learning_curves.png"), dpi=80)
    plt.close(fig)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    curves(a1, "dead", [n for n in names if n not in SATURATING], "hidden units inactive on all images (%)", 100)
    curves(a2, "saturated", [n for n in names if n in SATURATING], "saturated outputs (%)", 100)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "activity.png"), dpi=80)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.4))
    pos = np.arange(len(rows))
    ax.bar(pos - 0.2, [r["ms_fastact"] for r in rows], 0.4, label="fastact")
    ax.bar(pos + 0.2, [r["ms_numpy"] for r in rows], 0.4, label="NumPy")
    ax.set_xticks(pos)
    ax.set_xticklabels([r["activation"] for r in rows])
    ax.set_ylabel("ms per epoch (median)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "time_per_epoch.png"), dpi=80)
    plt.close(fig)


def _blas_threads(n):
    """A context limiting NumPy's BLAS to n threads (n=0: leave it alone)."""
    if not n:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits      # a dependency of scikit-learn

    return threadpool_limits(n, user_api="blas")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--hidden", type=int, default=128, help="units per hidden layer")
    p.add_argument("--layers", type=int, default=3, help="hidden layers")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.04, help="SGD learning rate")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--init-scale", type=float, default=1.0,
                   help="multiplies the Glorot/He standard deviations (3 saturates tanh)")
    p.add_argument("--seed", type=int, default=0, help="seeds the initial weights and the batch order")
    p.add_argument("--threads", type=int, default=None, help="fastact's thread count (default: its own)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="threads of NumPy's BLAS for the matrix products, both implementations (default 1: "
                        "these matrices are small, and a loaded machine stalls multi-threaded ones; 0: BLAS's own)")
    p.add_argument("--out", default=os.path.join("examples", "out"), help="where the PNGs and results.json go")
    p.add_argument("--activations", default=",".join(ACTIVATIONS),
                   help="comma-separated, from " + ", ".join(ACTIVATIONS))
    args = p.parse_args(argv)
    args.activations = [a.strip() for a in args.activations.split(",") if a.strip()]
    bad = [a for a in args.activations if a not in NUMPY_ACTS]
    if bad:
        p.error("unknown activation(s) %s; choose from %s" % (", ".join(bad), ", ".join(ACTIVATIONS)))
    return args


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.threads is not None:
        fa.set_num_threads(args.threads)
    data = load_data()
    print("digits: %d training, %d test images; %d hidden layers of %d, batch %d, lr %g, momentum %g, "
          "%d epochs; fastact %s, %d threads; BLAS threads %s" % (
              len(data[0]), len(data[2]), args.layers, args.hidden, args.batch, args.lr, args.momentum,
              args.epochs, fa.__version__, fa.get_num_threads(), args.blas_threads or "default"))
    hists, rows = {}, []
    # a learning rate too large for an activation shows as a nan loss in the table, not as warnings
    with _blas_threads(args.blas_threads), np.errstate(over="ignore", invalid="ignore"):
        for name in args.activations:
            start = time.perf_counter()
            hists[name] = run(name, data, args)
            rows.append(summarise(name, hists[name]))
            print("  %-10s %5.1f s" % (name, time.perf_counter() - start), file=sys.stderr)
    print(table(rows))
    plot(hists, rows, args)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"args": vars(args), "rows": rows, "histories": hists}, f, indent=1)
    print("wrote learning_curves.png, activity.png, time_per_epoch.png, results.json to " + args.out)
    return rows


if __name__ == "__main__":
    main()
