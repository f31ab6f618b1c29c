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
