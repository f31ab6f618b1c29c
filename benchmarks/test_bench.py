"""Every function of the registry, forward and backward, float32 and float64,
against NumPy's best in-place form and its textbook form, on the same arrays
(fastact._bench_cases).  Grouped by (function, dtype, size, direction) so
`pytest benchmarks/ --benchmark-only` prints comparable rows."""

import functools

import pytest

from fastact import bench
from fastact._bench_cases import case_names, make_case

CONTENDERS = ("fastact", "numpy", "numpy-textbook")


@functools.lru_cache(maxsize=8)
def _case(name, size, dtype):
    return make_case(name, size, dtype)


@pytest.mark.parametrize("contender", CONTENDERS)
@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", case_names())
def test_bench(benchmark, name, dtype, size, direction, contender):
    case = _case(name, size, dtype)
    fn = bench.bind(contender, case, direction == "backward")
    if fn is None:
        pytest.skip("%s has no %s %s" % (contender, name, direction))
    benchmark.group = "%s %s %.0e %s" % (name, dtype, size, direction)
    benchmark.extra_info.update(elements=case.n, contender=contender)
    result = benchmark(fn)
    assert result is not None
