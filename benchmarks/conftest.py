"""pytest-benchmark suite options.

    pytest benchmarks/ --benchmark-only                 # time everything (1e3, 1e5, 1e6 elements)
    pytest benchmarks/ --benchmark-only --bench-large   # also 4e7 elements
    pytest benchmarks/ --benchmark-disable              # run each case once, no timing (CI)
    pytest benchmarks/ --benchmark-only --benchmark-autosave, later --benchmark-compare
"""

SIZES = (1000, 100_000, 1_000_000)
LARGE = 40_000_000


def pytest_addoption(parser):
    parser.addoption("--bench-large", action="store_true", default=False,
                     help="also benchmark 4e7-element arrays")


def pytest_generate_tests(metafunc):
    if "size" in metafunc.fixturenames:
        sizes = SIZES + ((LARGE,) if metafunc.config.getoption("--bench-large") else ())
        metafunc.parametrize("size", sizes, ids=lambda n: "%.0e" % n)
