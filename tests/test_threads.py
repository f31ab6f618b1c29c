"""Threads: results bitwise independent of the thread count, calls from many
Python threads, and the set_num_threads / get_num_threads / threads() API."""

import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastact as fa
from fastact import _special
from fastact._registry import lookup

import util

OPENMP = _special.openmp_enabled()
needs_openmp = pytest.mark.skipif(not OPENMP, reason="fastact built without OpenMP")

# Sizes above every grain size, so that the kernels really run multithreaded.
BIG = {"elementwise": (300_001,), "rrelu": (300_001,), "prelu": (3, 7, 14_287), "rowwise": (2000, 257),
       "maxout": (1000, 300)}


def _big_input(name, dtype, rng, params):
    op = lookup(name)
    shape = BIG[op.kind]
    lo, hi = op.domain
    x = rng.uniform(lo, hi, shape).astype(dtype)
    p = util.fit_params(op, shape, params)
    return x, p


def _run(name, x, p, dy, saved, n):
    with fa.threads(n):
        assert fa.get_num_threads() == (n if OPENMP else 1)
        y = util.forward(name, x, p)
        g = util.backward(name, dy, saved, p)
    return y, g


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name,params", util.name_param_params())
def test_bitwise_identical_across_thread_counts(name, params, dtype, rng):
    """1, 2 and 3 threads give the same bits, forward and backward (prelu's
    dweight and rrelu training included)."""
    x, p = _big_input(name, dtype, rng, params)
    y1 = util.forward(name, x, p)
    dy = rng.uniform(-2, 2, y1.shape).astype(dtype)
    saved = y1 if lookup(name).saves == "y" else x
    ref_y, ref_g = _run(name, x, p, dy, saved, 1)
    for n in (2, 3):
        y, g = _run(name, x, p, dy, saved, n)
        util.assert_same(y, ref_y, "%s%r forward, %d threads vs 1" % (name, p, n))
        if lookup(name).kind == "prelu":
            util.assert_same(g[1], ref_g[1], "prelu dweight, %d threads vs 1" % n)
            util.assert_same(g[0], ref_g[0], "prelu dx, %d threads vs 1" % n)
        else:
            util.assert_same(g, ref_g, "%s%r backward, %d threads vs 1" % (name, p, n))


@pytest.mark.parametrize("dtype", util.dtype_params())
@pytest.mark.parametrize("name", util.name_params([n for op, n in util.NAMES if op.kind == "prelu"]))
def test_prelu_dweight_thread_independent_scalar_weight(name, dtype, rng):
    """A scalar weight reduces over the whole array: still the same bits."""
    x = rng.uniform(-3, 3, 300_001).astype(dtype)
    dy = rng.uniform(-2, 2, x.shape).astype(dtype)
    res = []
    for n in (1, 2, 3):
        with fa.threads(n):
            res.append(util.backward(name, dy, x, {"weight": 0.2}))
    for r in res[1:]:
        util.assert_same(r[1], res[0][1], "prelu scalar dweight")
        util.assert_same(r[0], res[0][0], "prelu dx")
    util.assert_close(res[0][1], util.ref_backward(name, dy, x, x, {"weight": 0.2})[1], 1e-6 if dtype == np.float32
                      else 1e-12, 0, what="prelu scalar dweight vs reference")


def test_concurrent_python_threads(rng):
    """4 Python threads calling different functions at once on shared
    read-only inputs get exactly the serial results."""
    names = [op.name for op in fa.OPS]
    n = 100_000
    inputs = {}
    for name in names:
        op = lookup(name)
        shape = {"rowwise": (400, 250), "maxout": (500, 200), "prelu": (4, 5, 5000)}.get(op.kind, (n,))
        x = rng.uniform(*op.domain, shape)
        p = util.fit_params(op, shape, {"training": True, "seed": 5} if op.kind == "rrelu" else {})
        y = util.forward(name, x, p)
        dy = rng.uniform(-2, 2, np.shape(y))
        saved = y if op.saves == "y" else x
        for a in (x, dy, saved):
            a.flags.writeable = False
        g = util.backward(name, dy, saved, p)
        inputs[name] = (x, p, dy, saved, y, g)
    barrier = threading.Barrier(4)
    errors = []

    def work(k):
        barrier.wait()
        for _ in range(3):
            for name in names[k::4]:
                x, p, dy, saved, y, g = inputs[name]
                try:
                    util.assert_same(util.forward(name, x, p), y, "%s forward in a thread" % name)
                    gg = util.backward(name, dy, saved, p)
                    if lookup(name).kind == "prelu":
                        util.assert_same(gg[1], g[1], "prelu dweight in a thread")
                        gg, g = gg[0], g[0]
                    util.assert_same(gg, g, "%s backward in a thread" % name)
                except Exception as exc:  # collected, asserted in the main thread
                    errors.append(exc)

    with ThreadPoolExecutor(4) as ex:
        list(ex.map(work, range(4)))
    assert not errors, errors[:3]


def _os_threads():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # not Linux
        return None


def test_eight_python_threads_hammering(rng):
    """8 Python threads at once, each calling its own share of the functions
    (forward and backward, float32 and float64, into out= buffers of its own)
    on shared read-only inputs of 1000 (the GIL kept), 20_000 and 200_001
    elements (OpenMP teams), under fa.threads(1), (2) and (3) in turn: every
    result is bitwise the serial one, and the OS thread count stays below
    8 Python threads plus their OpenMP workers (and falls back after)."""
    cases = []
    for op in fa.OPS:
        for dtype in (np.float32, np.float64):
            for n in (1000, 20_000, 200_001):
                shape = {"rowwise": (n // 100, 100), "maxout": (n // 100, 100), "prelu": (n // 50, 5, 10)}.get(
                    op.kind, (n,))
                x = rng.uniform(*op.domain, shape).astype(dtype)
                p = util.fit_params(op, shape, {"training": True, "seed": 5} if op.kind == "rrelu" else {})
                y = util.forward(op.name, x, p)
                dy = rng.uniform(-2, 2, y.shape).astype(dtype)
                saved = y if op.saves == "y" else x
                g = util.backward(op.name, dy, saved, p)
                for a in (x, dy, saved):
                    a.flags.writeable = False
                cases.append((op.name, x, p, dy, saved, y, g))
    base = _os_threads()
    barrier = threading.Barrier(8)
    errors, peak = [], []

    def work(k):
        barrier.wait()
        mine = cases[k::8]
        y_out = [np.empty_like(c[5]) for c in mine]
        for it in range(2):
            for (name, x, p, dy, saved, y, g), yo in zip(mine, y_out):
                try:
                    with fa.threads(1 + (k + it) % 3):
                        util.assert_same(util.forward(name, x, p, out=yo), y, "%s forward in thread %d" % (name, k))
                        gg = util.backward(name, dy, saved, p)
                    if lookup(name).kind == "prelu":
                        util.assert_same(gg[1], g[1], "prelu dweight in thread %d" % k)
                        gg, gw = gg[0], g[0]
                    else:
                        gw = g
                    util.assert_same(gg, gw, "%s backward in thread %d" % (name, k))
                except Exception as exc:  # collected, asserted in the main thread
                    errors.append(exc)
                peak.append(_os_threads())

    import faulthandler

    # a deadlock must not hang the suite: after 5 minutes dump every thread's
    # stack and exit
    faulthandler.dump_traceback_later(300, exit=True)
    try:
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(work, range(8)))
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert not errors, errors[:3]
    if base is not None:
        # 8 Python threads, each with at most 2 OpenMP workers (3 threads), plus
        # the main thread's own pool and a little slack
        bound = base + 8 + 8 * 2 + 2 + 2
        assert max(peak) <= bound, "%d OS threads (started with %d)" % (max(peak), base)
        import time

        for _ in range(50):  # the pools of finished Python threads go with them
            if _os_threads() <= base + 2:
                break
            time.sleep(0.1)
        assert _os_threads() <= base + 2, "%d OS threads left (started with %d)" % (_os_threads(), base)


@needs_openmp
def test_thread_count_api():
    fa.set_num_threads(3)
    assert fa.get_num_threads() == 3
    with fa.threads(1) as ctx:
        assert ctx is not None
        assert fa.get_num_threads() == 1
        with fa.threads(2):
            assert fa.get_num_threads() == 2
        assert fa.get_num_threads() == 1
    assert fa.get_num_threads() == 3
    with pytest.raises(RuntimeError):
        with fa.threads(5):
            assert fa.get_num_threads() == 5
            raise RuntimeError("boom")
    assert fa.get_num_threads() == 3
    fa.set_num_threads(None)
    assert fa.get_num_threads() >= 1
    # a context manager object can be reused
    ctx = fa.threads(2)
    for _ in range(2):
        with ctx:
            assert fa.get_num_threads() == 2


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError),
                                     (True, TypeError), (None, TypeError), (1025, ValueError),
                                     (100000, ValueError)],
                         ids=["0", "-1", "1.5", "str", "True", "None", "1025", "100000"])
def test_bad_thread_counts(bad, exc):
    """Rejected before anything changes, counts above MAX_THREADS (1024) too:
    GNU OpenMP aborted the process at 40000 threads and crashed at 100000."""
    before = fa.get_num_threads()
    with pytest.raises(exc, match="fastact"):
        fa.threads(bad)
    if bad is not None:
        with pytest.raises(exc, match="fastact"):
            fa.set_num_threads(bad)
    assert fa.get_num_threads() == before


@needs_openmp
def test_threads_context_is_thread_local():
    """with fa.threads(n) applies to the calling Python thread only;
    set_num_threads applies to all."""
    fa.set_num_threads(3)
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def other():
        seen["before"] = fa.get_num_threads()
        with fa.threads(2):
            seen["inside"] = fa.get_num_threads()
            entered.set()
            release.wait(10)
        seen["after"] = fa.get_num_threads()

    with fa.threads(1):
        t = threading.Thread(target=other)
        t.start()
        assert entered.wait(10)
        assert fa.get_num_threads() == 1  # the other thread's context is not ours
        release.set()
        t.join(10)
        assert fa.get_num_threads() == 1
    assert seen == {"before": 3, "inside": 2, "after": 3}
    assert fa.get_num_threads() == 3



def test_one_threads_object_shared_by_python_threads():
    """One fa.threads(n) object (a server's module-level one) entered by two
    Python threads whose blocks interleave: each gets its own count back."""
    fa.set_num_threads(3)
    one = fa.threads(1)
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def thread_a():
        with fa.threads(2):
            with one:
                a_in.set()
                assert b_in.wait(10)
            seen["a"] = fa.get_num_threads()
            a_out.set()

    def thread_b():
        assert a_in.wait(10)
        with one:
            b_in.set()
            assert a_out.wait(10)
            seen["b inside"] = fa.get_num_threads()
        seen["b"] = fa.get_num_threads()

    try:
        ts = [threading.Thread(target=f) for f in (thread_a, thread_b)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(20)
    finally:
        fa.set_num_threads(None)
    assert seen == {"a": 2, "b inside": 1, "b": 3}

@needs_openmp
def test_threadpoolctl_can_limit():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if os.environ.get("FASTACT_NUM_THREADS"):
        pytest.skip("FASTACT_NUM_THREADS overrides OpenMP's default")
    fa.set_num_threads(None)
    info = threadpoolctl.threadpool_info()
    assert any(i.get("user_api") == "openmp" for i in info), info
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert fa.get_num_threads() == 1
    x = np.linspace(-5, 5, 300_001)
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        y = fa.tanh(x)
    util.assert_same(y, fa.tanh(x), "tanh under threadpool_limits(1)")


# The parent runs every kind of kernel on 2 threads, then starts a child that
# runs them again; it prints whether the child's results equal its own.
_FORK_SCRIPT = r'''
import multiprocessing as mp, sys
import numpy as np
import fastact as fa

def run():
    x = np.linspace(-5, 5, 600_000).astype(np.float32).reshape(-1, 600)
    out = []
    for name, kw in (("sigmoid", {}), ("gelu", {}), ("softmax", {}), ("log_softmax", {}),
                     ("maxout", {"pieces": 4}), ("prelu", {"weight": np.full(600, 0.1, np.float32)}),
                     ("rrelu", {"training": True, "seed": 3})):
        y = getattr(fa, name)(x, **kw)
        saved = y if fa._registry.lookup(name).saves == "y" else x
        g = getattr(fa, name + "_backward")(np.ones_like(y), saved, **kw)
        g = g[0] if isinstance(g, tuple) else g
        out.append((y.tobytes(), g.tobytes()))
    return out

def child(q):
    with fa.threads(3):
        n = fa.get_num_threads()
    q.put((n, run()))

if __name__ == "__main__":
    fa.set_num_threads(2)
    PARENT = run()                     # the parent's OpenMP team now exists
    ctx = mp.get_context(sys.argv[1])
    q = ctx.Queue()
    p = ctx.Process(target=child, args=(q,), daemon=True)   # a hung child must not keep us
    p.start()
    n, got = q.get(timeout=90)
    p.join(30)
    print("threads", n)
    print("child-equal" if got == PARENT and p.exitcode == 0 else "child-differs")
'''


@needs_openmp
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_child_processes_after_parallel_parent(method, tmp_path):
    # GNU OpenMP's pool does not survive fork: a parallel region in a forked
    # child waits forever.  fastact runs serially there (spawn/forkserver
    # children are fresh processes), so every start method finishes with the
    # parent's bits.
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("start method %s not available here" % method)
    r = util.run_python(tmp_path, _FORK_SCRIPT, method, drop_env=("FASTACT_NUM_THREADS",))
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().endswith("child-equal"), (r.stdout, r.stderr[-2000:])
    # a forked child runs on one thread whatever it asks; a fresh one as asked
    assert "threads %d" % (1 if method == "fork" else 3) in r.stdout, r.stdout


# A fresh interpreter: what threadpoolctl sees, and how many OS threads a large
# call starts under threadpool_limits(1) and without it.
_LIMITS_SCRIPT = r'''
import json, os
import numpy as np
import fastact as fa
from fastact import _special
import threadpoolctl

def tasks():
    return len(os.listdir("/proc/self/task"))

x = np.linspace(-1, 1, 300_001)
info = [i["filepath"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp"]
n0 = tasks()
with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
    inside = fa.get_num_threads()
    y1 = fa.tanh(x)
    n1 = tasks()
y2 = fa.tanh(x)
print(json.dumps({"openmp": info, "so": _special.__file__, "inside": inside, "default": fa.get_num_threads(),
                  "n0": n0, "n1": n1, "n2": tasks(), "same": y1.tobytes() == y2.tobytes()}))
'''


def _linked_openmp(so):
    """The real path of the OpenMP runtime the shared object links (ldd), or None."""
    import subprocess

    try:
        out = subprocess.run(["ldd", so], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if "omp" in line and "=>" in line:
            return os.path.realpath(line.split("=>")[1].split("(")[0].strip())
    return None


@needs_openmp
def test_threadpoolctl_sees_and_limits_fastacts_runtime(tmp_path):
    """threadpoolctl lists the OpenMP runtime fastact's extension links, and
    threadpool_limits(1) makes a 300_001-element call start no OpenMP worker
    (the OS thread count does not move), with the same bits."""
    pytest.importorskip("threadpoolctl")
    if not sys.platform.startswith("linux"):
        pytest.skip("counts threads in /proc")
    r = util.run_python(tmp_path, _LIMITS_SCRIPT, drop_env=("FASTACT_NUM_THREADS",))
    assert r.returncode == 0, r.stderr[-2000:]
    st = json.loads(r.stdout.strip().splitlines()[-1])
    linked = _linked_openmp(st["so"])
    assert st["openmp"], st
    if linked is not None:
        assert linked in [os.path.realpath(p) for p in st["openmp"]], (linked, st)
    assert st["inside"] == 1 and st["n1"] == st["n0"], st
    assert st["same"], st
    if st["default"] > 1:  # the control: without the limit the call does start workers
        assert st["n2"] > st["n0"], st


_LIMITS_OVER_COUNTS = r'''
import json, os
os.environ["FASTACT_NUM_THREADS"] = "4"
import fastact as fa
from threadpoolctl import threadpool_limits
out = {"env": fa.get_num_threads()}
with threadpool_limits(1):
    out["env_limited"] = fa.get_num_threads()
    fa.set_num_threads(3)
    out["set_limited"] = fa.get_num_threads()
    with fa.threads(2):
        out["ctx_limited"] = fa.get_num_threads()
out["set_after"] = fa.get_num_threads()
print(json.dumps(out))
'''


@needs_openmp
def test_threadpoolctl_limits_fastacts_own_counts(tmp_path):
    """A count of fastact's own (FASTACT_NUM_THREADS, set_num_threads,
    threads()) is capped by threadpool_limits too, and only inside it."""
    pytest.importorskip("threadpoolctl")
    r = util.run_python(tmp_path, _LIMITS_OVER_COUNTS, drop_env=("OMP_NUM_THREADS",))
    assert r.returncode == 0, r.stderr[-2000:]
    st = json.loads(r.stdout.strip().splitlines()[-1])
    assert st == {"env": 4, "env_limited": 1, "set_limited": 1, "ctx_limited": 1, "set_after": 3}, st



# Limits at or above OpenMP's default at import (2 here: OMP_NUM_THREADS) that
# the OpenMP runtime cannot show, nested, and threadpoolctl's restores.
_LIMITS_AT_OR_ABOVE_DEFAULT = r'''
import json, os, sys
os.environ["OMP_NUM_THREADS"] = "2"
if sys.argv[1] != "-":
    os.environ["FASTACT_NUM_THREADS"] = sys.argv[1]
import fastact as fa
from threadpoolctl import threadpool_info, threadpool_limits
out = {"start": fa.get_num_threads()}
with threadpool_limits(2):
    out["lim2"] = fa.get_num_threads()
    with threadpool_limits(1):
        out["lim1"] = fa.get_num_threads()
    out["back"] = fa.get_num_threads()
out["after"] = fa.get_num_threads()
fa.set_num_threads(3)
with threadpool_limits(2, user_api="openmp"):
    out["set3_lim2"] = fa.get_num_threads()
out["set3_after"] = fa.get_num_threads()
out["info"] = sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "openmp")
print(json.dumps(out))
'''


@needs_openmp
@pytest.mark.parametrize("env", ["3", "-"])
def test_threadpoolctl_limits_at_or_above_openmps_default(tmp_path, env):
    """threadpoolctl lists fastact itself (internal_api 'fastact', with its
    count) and caps a count of fastact's own even at or above OpenMP's default
    (FASTACT_NUM_THREADS=3 under threadpool_limits(2) runs 2, not 3), nested,
    and its restores leave no cap behind (set_num_threads(3) afterwards is 3)."""
    pytest.importorskip("threadpoolctl")
    r = util.run_python(tmp_path, _LIMITS_AT_OR_ABOVE_DEFAULT, env, drop_env=("OMP_NUM_THREADS", "FASTACT_NUM_THREADS"))
    assert r.returncode == 0, r.stderr[-2000:]
    st = json.loads(r.stdout.strip().splitlines()[-1])
    start = 3 if env == "3" else 2
    assert st.pop("info") == [["fastact", 3], ["openmp", 2]], st
    assert st == {"start": start, "lim2": 2, "lim1": 1, "back": 2, "after": start,
                  "set3_lim2": 2, "set3_after": 3}, st

_AFFINITY_SCRIPT = r'''
import json, os
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
import numpy as np
import fastact as fa
n0 = len(os.listdir("/proc/self/task"))
fa.tanh(np.linspace(-1, 1, 300_001))
print(json.dumps({"threads": fa.get_num_threads(), "n0": n0, "n1": len(os.listdir("/proc/self/task"))}))
'''


@needs_openmp
def test_affinity_to_one_cpu_gives_one_thread(tmp_path):
    """A process pinned to one CPU before importing fastact runs it on one
    thread: get_num_threads() is 1 and a large call starts no worker."""
    if not hasattr(os, "sched_setaffinity") or not sys.platform.startswith("linux"):
        pytest.skip("no sched_setaffinity")
    r = util.run_python(tmp_path, _AFFINITY_SCRIPT, drop_env=("FASTACT_NUM_THREADS", "OMP_NUM_THREADS"))
    assert r.returncode == 0, r.stderr[-2000:]
    st = json.loads(r.stdout.strip().splitlines()[-1])
    assert st["threads"] == 1 and st["n1"] == st["n0"], st


def test_spin_count_set_for_libgomp_only(tmp_path):
    """fastact sets GOMP_SPINCOUNT=1000 only while its extension loads libgomp:
    afterwards the environment is as before (no variable), and a value the user
    set (or an OMP_WAIT_POLICY) is left alone."""
    code = ("import os, fastact\n"
            "print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))\n")
    r = util.run_python(tmp_path, code, drop_env=("GOMP_SPINCOUNT", "OMP_WAIT_POLICY"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["None", "None"]
    code = "import os\nos.environ['GOMP_SPINCOUNT'] = '5'\nimport fastact\nprint(os.environ['GOMP_SPINCOUNT'])\n"
    r = util.run_python(tmp_path, code, drop_env=("GOMP_SPINCOUNT", "OMP_WAIT_POLICY"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["5"]
