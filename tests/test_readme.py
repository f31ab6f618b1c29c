"""The README's Python examples run as written (each block on its own)."""

import os
import re

import pytest

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def _blocks():
    if not os.path.exists(README):
        return []
    with open(README) as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


@pytest.mark.parametrize("i", range(len(_blocks())))
def test_readme_example_runs(i):
    code = _blocks()[i]
    ns = {}
    exec(compile(code, "README.md block %d" % i, "exec"), ns)
    assert "fa" in ns  # every example imports fastact


def test_readme_has_examples():
    assert len(_blocks()) >= 3
