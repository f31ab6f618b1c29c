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


def _generated(section):
    """What tools/update_readme.py writes into the README's <!-- section -->."""
    import importlib.util

    path = os.path.join(os.path.dirname(README), "tools", "update_readme.py")
    spec = importlib.util.spec_from_file_location("update_readme", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.SECTIONS[section]()


@pytest.mark.parametrize("section", ["special", "catalogue"])
def test_readme_generated_sections_are_current(section):
    """The README's special-value table (from fastact.reference, which
    tests/test_special.py::test_special_value_table holds fastact to) and
    its catalogue are what the tools generate now."""
    if not os.path.exists(README):
        pytest.skip("no README")
    with open(README) as f:
        text = f.read()
    m = re.search(r"<!-- %s -->\n(.*?)\n<!-- /%s -->" % (section, section), text, re.S)
    assert m, "README has no %s section" % section
    assert m.group(1) == _generated(section), \
        "README's %s section is stale: run python tools/update_readme.py %s" % (section, section)
