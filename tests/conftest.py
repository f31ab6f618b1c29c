"""pytest fixtures for fastact's functional tests (helpers live in util.py)."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fastact as fa  # noqa: E402


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id, so every test is reproducible."""
    import zlib

    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(autouse=True)
def _restore_thread_count():
    """Tests that call set_num_threads must not leak it into the next test."""
    from fastact import _threads

    saved = _threads._global
    yield
    fa.set_num_threads(saved)


# Hypothesis: the suite runs a fixed set of examples ("ci", derandomised: the
# same every run, no example database); HYPOTHESIS_PROFILE=dev draws fresh
# ones; tools/fuzz.py runs for minutes.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=30,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", deadline=None, max_examples=200,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
