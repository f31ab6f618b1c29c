"""The benchmark report (python -m fastact.bench) produces what it promises:
one JSON record per (function, dtype, size, direction, contender) with the
median and the spread, a Markdown table with speed-ups and the roof, a plot."""

import json

import re

import numpy as np
import pytest

from fastact import bench

FAST = ["--repeats", "2", "--min-time", "0.001"]


def test_json_and_markdown(tmp_path):
    j, md = tmp_path / "r.json", tmp_path / "r.md"
    rc = bench.main(["--ops", "relu,sigmoid,softmax", "--sizes", "1000,20000", "--dtypes", "float32,float64",
                     "--contenders", "fastact,numpy,numpy-textbook", "--json", str(j), "--markdown", str(md)] + FAST)
    assert rc == 0
    data = json.loads(j.read_text())
    recs = data["records"]
    keys = {(r["function"], r["dtype"], r["size"], r["direction"], r["contender"]) for r in recs}
    assert len(keys) == len(recs)  # one record per cell
    want = {(f, d, n, dr, c) for f in ("relu", "sigmoid", "softmax") for d in ("float32", "float64")
            for n in (1000, 20000) for dr in ("forward", "backward") for c in ("fastact", "numpy", "numpy-textbook")}
    assert want <= keys
    for r in recs:
        assert r["min_s"] <= r["median_s"] <= r["max_s"]
        assert r["melem_s"] == pytest.approx(r["elements"] / r["median_s"] / 1e6)
    assert {(r["dtype"], r["size"]) for r in data["roofs"]} == {(d, n) for d in ("float32", "float64") for n in (1000, 20000)}
    assert data["machine"]["cpu"] and data["machine"]["versions"]["numpy"] == np.__version__
    text = md.read_text()
    assert "x numpy" in text and "Roof" in text and "| relu | float32 | 1e+03 | fwd |" in text


def test_forms_are_cases_of_their_own(tmp_path):
    """gelu_tanh (Op.forms) is gelu with approximate='tanh': in --full's list
    after gelu, accepted by --ops, reported under its own name, and every
    contender is called with the form's parameter."""
    import fastact as fa
    from fastact._bench_cases import case_names, make_case

    names = case_names()
    assert names[names.index("gelu") + 1] == "gelu_tanh" and "gelu_tanh" in bench.QUICK_OPS
    case = make_case("gelu_tanh", 500, np.float32)
    assert case.name == "gelu" and case.label == "gelu_tanh" and case.params == {"approximate": "tanh"}
    np.testing.assert_array_equal(case.y, fa.gelu(case.x, approximate="tanh"))
    assert not np.array_equal(case.y, fa.gelu(case.x))
    out = bench.bind("numpy", case, False)()
    np.testing.assert_allclose(out, case.y, rtol=1e-5, atol=1e-6)
    j = tmp_path / "r.json"
    assert bench.main(["--ops", "gelu,gelu_tanh", "--sizes", "1000", "--contenders", "fastact,numpy",
                       "--forward", "--json", str(j)] + FAST) == 0
    got = {(r["function"], r["contender"]) for r in json.loads(j.read_text())["records"]}
    assert got == {(f, c) for f in ("gelu", "gelu_tanh") for c in ("fastact", "numpy")}


def test_rows_speedups():
    recs = [
        {"function": "f", "dtype": "float32", "size": 10, "direction": "forward", "contender": c, "melem_s": v}
        for c, v in (("fastact", 300.0), ("numpy", 100.0), ("numpy-textbook", 50.0), ("torch", 150.0))
    ]
    (row,) = bench.rows(recs)
    assert row["x_numpy"] == pytest.approx(3.0)
    assert row["x_peer"] == pytest.approx(2.0) and row["best_peer"] == "torch"  # textbook is not a peer


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "speed.png"
    bench.main(["--ops", "relu", "--sizes", "1000,5000", "--contenders", "fastact,numpy", "--forward",
                "--plot", str(png)] + FAST)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_accuracy_mode(capsys):
    bench.main(["--accuracy", "--ops", "sigmoid,relu", "--dtypes", "float32", "--contenders", "fastact,numpy"])
    out = capsys.readouterr().out
    assert "| sigmoid | float32 |" in out


def test_time_call_measures():
    import time
    med, lo, hi = bench.time_call(lambda: time.sleep(0.002), min_time=0.001, repeats=3)
    assert 0.0015 < med < 0.05 and lo <= med <= hi


def test_time_samples_interleave_the_calls():
    """Each round times every function once, starting at a different one each
    round: sample r of one pairs with sample r of the other."""
    calls = []
    a, b = bench.time_samples((lambda: calls.append("a"), lambda: calls.append("b")), min_time=0.0, repeats=4)
    assert len(a) == len(b) == 4 and min(a + b) > 0
    # a warm-up and a one-call calibration each, then four rounds of one call
    # each (calls far shorter than SETTLE_CALL: no untimed calls before them)
    assert "".join(calls) == "aabb" + "ab" + "ba" + "ab" + "ba"


def test_time_samples_settle_before_samples_of_long_calls(monkeypatch):
    """A sample of calls of SETTLE_CALL seconds or more is preceded by
    untimed calls of its own function: SETTLE_CALLS, and more until
    SETTLE_TIME has passed (what ran before, JAX's pool, slows more than one
    call); samples of shorter calls are not (the test above)."""
    import time
    monkeypatch.setattr(bench, "SETTLE_CALL", 0.005)
    monkeypatch.setattr(bench, "SETTLE_TIME", 0.025)
    calls = []

    def fn(tag):
        calls.append(tag)
        time.sleep(0.01)

    a, b = bench.time_samples((lambda: fn("a"), lambda: fn("b")), min_time=0.0, repeats=2)
    # warm-up and calibration (one call each), then per sample 3 untimed calls
    # (10 ms each at least: past 25 ms at the third; a 4th only if the sleeps
    # overran) and the timed one: rounds a, b then b, a
    seq = "".join(calls)
    runs = [len(r) for r in re.findall(r"a+|b+", seq[4:])]       # a's sample, b's two, a's
    assert seq.startswith("aabba") and len(runs) == 3, seq
    assert 4 <= runs[0] <= 5 and 8 <= runs[1] <= 10 and 4 <= runs[2] <= 5, seq
    assert all(0.009 < v < 0.03 for v in a + b)
    # SETTLE_TIME 0: SETTLE_CALLS untimed calls
    monkeypatch.setattr(bench, "SETTLE_TIME", 0.0)
    del calls[:]
    bench.time_samples((lambda: fn("a"), lambda: fn("b")), min_time=0.0, repeats=2)
    k = bench.SETTLE_CALLS + 1
    assert "".join(calls) == "aabb" + "a" * k + "b" * k + "b" * k + "a" * k


def test_time_samples_prepare_before_every_loop(monkeypatch):
    """A prepare hook runs untimed before each of its function's calls (the
    warm-up, the calibration, every sample, the untimed calls before a sample
    of long calls), and only for its function."""
    monkeypatch.setattr(bench, "SETTLE_CALL", 0.0)
    monkeypatch.setattr(bench, "SETTLE_CALLS", 1)
    monkeypatch.setattr(bench, "SETTLE_TIME", 0.0)
    calls = []
    bench.time_samples((lambda: calls.append("a"), lambda: calls.append("b")), min_time=0.0, repeats=2,
                       prepares=(lambda: calls.append("P"), None))
    assert "".join(calls) == "PaPa" + "bb" + "PaPabb" + "bbPaPa"


def test_time_samples_prepare_before_every_call_untimed():
    """With a prepare hook, a loop of several calls runs it before each call
    (no call sees its predecessor's output), and its time is not counted."""
    import time
    calls = []

    def fn():
        calls.append("a")
        time.sleep(0.001)

    def prep():
        calls.append("P")
        time.sleep(0.004)

    (a,) = bench.time_samples((fn,), min_time=0.004, repeats=3, prepares=(prep,))
    seq = "".join(calls)
    assert seq.count("a") >= 2 + 3 * 3 and seq == "Pa" * seq.count("a")     # loops of 3 calls or more
    assert all(0.0009 < v < 0.0035 for v in a)       # the 4 ms prepare left out


def test_inplace_rows_from_inplace_min(tmp_path, monkeypatch):
    """From INPLACE_MIN elements on, the elementwise functions are also timed
    in place, forward (out=x) and backward (out=dy), on a scratch copy: the
    case's arrays keep their values, and the report sets both speeds against
    the roofs.  Row-wise functions and maxout are not timed in place."""
    from fastact import _bench_cases

    made = []
    make = _bench_cases.make_case

    def spy(*a, **k):
        made.append(make(*a, **k))
        return made[-1]

    monkeypatch.setattr(bench, "make_case", spy)
    monkeypatch.setattr(bench, "INPLACE_MIN", 5000)
    records, roofs = bench.run(["silu", "softmax", "maxout"], [np.float32], [1000, 6000],
                               ["forward", "backward"], ["fastact", "numpy"], 0.0005, 2, False)
    got = {(r["function"], r["size"], r["direction"]) for r in records if r["contender"] == bench.INPLACE}
    assert got == {("silu", 6000, "forward"), ("silu", 6000, "backward")}
    for case in made:
        fresh = make(case.label, case.n, case.dtype)
        for field in ("x", "y", "dy"):
            np.testing.assert_array_equal(getattr(case, field), getattr(fresh, field))
    # the cell's copies, timed with it, are its roof
    copies = {(r["direction"], r["contender"]): r["melem_s"] for r in records if r["contender"] in bench.ROOFS}
    assert set(copies) == {(d, c) for d in ("forward", "backward") for c in bench.ROOFS}
    rows = bench.memory_rows(records)
    assert {r["key"] for r in rows} == {("silu", "float32", 6000, d) for d in ("forward", "backward")}
    for r in rows:
        d = r["key"][3]
        moved = 1.5 if d == "backward" else 1.0      # arrays moved, over the copy's two
        copy = max(copies[(d, bench.ROOF_MEMCPY)], copies[(d, bench.ROOF_LOOP)])
        assert r["out_roof"] == pytest.approx(r["out_melem_s"] * moved / copy)
        assert r["in_roof"] == pytest.approx(r["in_melem_s"] * moved / copies[(d, bench.ROOF_INPLACE)])
    text = bench.markdown(records, roofs, bench.machine())
    assert "| silu | float32 | 6e+03 | fwd |" in text.split("Memory speed")[1]
    for c in (bench.INPLACE,) + bench.ROOFS:
        assert c not in text.split("Roof")[0]     # not a column of the main table
    # identity's backward copies dy: two arrays, as the copy; a form counts as its function
    assert [bench._moved(f, d) for f, d in [("identity", "backward"), ("identity", "forward"),
                                            ("gelu_tanh", "backward"), ("relu", "forward")]] == [1.0, 1.0, 1.5, 1.0]
    # an in-place record without the cell's copies has no row
    assert bench.memory_rows([r for r in records if r["contender"] != bench.ROOF_INPLACE]) == []


def test_contenders_of_a_cell_write_one_out(monkeypatch):
    """Every contender of a cell writes the same out array (the same pages:
    where the memory's speed may differ between buffers)."""
    from fastact import _bench_cases

    seen = []
    bind = bench.bind

    def spy(contender, case, backward, out=None):
        seen.append((case.label, backward, contender, out))
        return bind(contender, case, backward, out)

    monkeypatch.setattr(bench, "bind", spy)
    bench.run(["sigmoid"], [np.float32], [1000], ["forward", "backward"], ["fastact", "numpy"], 0.0, 1, False)
    for backward in (False, True):
        outs = [o for (_, b, _, o) in seen if b == backward]
        assert len(outs) == 2 and outs[0] is not None and outs[0] is outs[1]
    fwd_out = [o for (_, b, _, o) in seen if not b][0]
    case = _bench_cases.make_case("sigmoid", 1000, np.float32)
    np.testing.assert_allclose(fwd_out, case.y, rtol=1e-6)     # both wrote sigmoid(x) there


def test_inplace_copy_restored_as_the_inplace_call(monkeypatch):
    """The in-place call and its roof, the in-place copy, both get the same
    restore before each call; the out-of-place contenders and copies none."""
    seen = []
    real = bench.time_samples

    def spy(fns, min_time, repeats, prepares=None):
        seen.append(prepares)
        return real(fns, min_time, repeats, prepares)

    monkeypatch.setattr(bench, "time_samples", spy)
    monkeypatch.setattr(bench, "INPLACE_MIN", 5000)
    records, _ = bench.run(["relu"], [np.float32], [6000], ["forward"], ["fastact", "numpy"], 0.0005, 2, False)
    order = [r["contender"] for r in records]
    by = dict(zip(order, seen[-1]))           # the cell's contenders (the roof row's copies came first)
    assert by[bench.INPLACE] is not None and by[bench.ROOF_INPLACE] is by[bench.INPLACE]
    assert all(by[c] is None for c in ("fastact", "numpy", bench.ROOF_MEMCPY, bench.ROOF_LOOP))


def test_inplace_call_runs_in_place():
    """bind_inplace's forward writes fastact's result over its scratch input,
    the backward over its scratch dy, and prepare restores the input."""
    import fastact as fa
    from fastact._bench_cases import make_case

    case = make_case("silu", 3000, np.float32)
    call, prepare = bench.bind_inplace(case, False)
    buf = call()
    np.testing.assert_array_equal(buf, fa.silu(case.x))
    call()
    assert not np.array_equal(buf, fa.silu(case.x))      # applied twice
    prepare()
    np.testing.assert_array_equal(buf, case.x)
    call, prepare = bench.bind_inplace(case, True)
    np.testing.assert_array_equal(call(), fa.silu_backward(case.dy, case.saved))
    assert bench.bind_inplace(make_case("softmax", 3000, np.float32), False) is None


def test_ratios_pair_the_rounds():
    """A ratio (here the monitoring overhead) is the median over rounds of
    counts / plain: a round in which the machine slowed both calls weighs like
    any other."""
    from fastact import _bench_fused

    def rec(contender, v):
        return {"kind": "monitor", "row": "r", "dtype": "float32", "contender": contender,
                "median_s": float(np.median(v)), "samples_s": v}
    recs = [rec("plain", [1.0, 2.0, 3.0]), rec("counts", [3.3, 1.1, 2.2])]
    # ratios 3.3, 0.55, 0.733: median 0.733 (the medians' ratio would say +10%)
    assert _bench_fused.ratio(recs, "monitor", "r", "float32", "counts", "plain") == pytest.approx(2.2 / 3.0)
    assert "| r | float32 | 2000000.0 | 2200000.0 | -26.7% |" in _bench_fused.markdown(recs)


def test_inference_rows():
    """The report's inference rows: bias_act against NumPy's two steps, linear
    against act(x @ W.T + b), and the monitoring overhead, each timed."""
    from fastact import _bench_fused

    recs = _bench_fused.run(min_time=0.001, repeats=1, contenders=("fastact", "numpy"), acts=("relu", "gelu"),
                            linear_shapes=((2, 8, 4),), monitored=("relu",))
    assert all(r["median_s"] and r["median_s"] > 0 for r in recs), [r for r in recs if not r["median_s"]]
    got = {(r["kind"], r["row"], r["contender"]) for r in recs}
    for row in ("bias_act(relu) 1000x1000", "bias_act(gelu) 1000x1000"):
        assert {("bias_act", row, "fastact"), ("bias_act", row, "numpy")} <= got
    assert {("linear", "linear(relu) 2 x 8->4", c) for c in ("fastact", "numpy")} <= got
    assert {("monitor", "bias_act(relu) 1000x1000", c) for c in ("plain", "counts")} <= got
    md = _bench_fused.markdown(recs)
    assert "| linear(relu) 2 x 8->4 | float32 |" in md and "| activity monitoring |" in md


@pytest.mark.parametrize("args,option", [
    (["--sizes", "abc"], "--sizes"), (["--sizes", "-5"], "--sizes"), (["--sizes", "1.5"], "--sizes"),
    (["--sizes", "0"], "--sizes"), (["--contenders", "foo"], "--contenders"), (["--repeats", "0"], "--repeats"),
    (["--threads", "0"], "--threads"), (["--threads", "1025"], "--threads"), (["--min-time", "0"], "--min-time"),
    (["--json", "/nonexistent-dir/r.json"], "--json"), (["--dtypes", "float16"], "--dtypes"),
    (["--ops", ""], "--ops"), (["--ops", "relu,nope"], "--ops"), (["--quick", "--full"], "--full"),
    (["--sizes", "inf"], "--sizes"), (["--sizes", "1e400"], "--sizes"), (["--min-time", "inf"], "--min-time"),
    (["--json", ""], "--json"), (["--json", "/tmp/"], "--json"),
])
def test_bad_options_are_usage_errors(args, option, capsys):
    """A bad option value is argparse's usage error (exit 2) naming the
    option, before anything runs; no traceback, nothing silently ignored."""
    with pytest.raises(SystemExit) as e:
        bench.main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument %s" % option in err and "Traceback" not in err, err


def test_documented_option_forms_parse():
    """The README's forms: sizes in e-notation, several dtypes and ops, aliases."""
    a = bench.parse_args(["--ops", "sigmoid,gelu,gelu_tanh,expit", "--dtypes", "float32,float64",
                          "--sizes", "1e3,1e5,1e6,4e7", "--backward", "--threads", "2", "--min-time", "0.01"])
    assert a.sizes == [1000, 100000, 1000000, 40000000]
    assert a.dtypes == [np.float32, np.float64] and a.threads == 2 and a.backward
    assert a.ops == ["sigmoid", "gelu", "gelu_tanh", "sigmoid"]
