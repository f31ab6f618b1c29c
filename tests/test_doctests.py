"""The examples in fastact's docstrings run, and every public callable has some.

One test per public name of ``fastact.__all__`` (its docstring and, for a
class, its methods'), one for the package docstring and one per public module
(``fastact.reference``, ``fastact.bench``, ...; their examples, if any, must
pass).  The generated examples print results rounded to 4 decimals of float64
inputs (fastact/_docs.py), so they pass under every kernel variant
(``FASTACT_CPU``).  A structural subset of numpydoc's rules is checked too,
without depending on numpydoc: summary line, the sections, every parameter
of the signature documented.
"""

import doctest
import importlib
import inspect
import pkgutil
import re

import pytest

import fastact as fa

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
CALLABLES = [name for name in fa.__all__ if callable(getattr(fa, name))]
MODULES = sorted(m.name for m in pkgutil.iter_modules(fa.__path__, "fastact.") if not m.ispkg
                 and not m.name.rsplit(".", 1)[1].startswith("_"))
# public callables whose docstring has no Returns section: they return None
RETURN_NOTHING = {"set_num_threads", "show_config"}


def _run(tests):
    """Run doctests; (number of examples, failure report)."""
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    for t in tests:
        runner.run(t, out=report.append)
    return sum(len(t.examples) for t in tests), "".join(report)


def test_there_are_public_callables():
    assert len(CALLABLES) > 50 and "gelu" in CALLABLES and "threads" in CALLABLES


@pytest.mark.parametrize("name", CALLABLES)
def test_examples_run(name):
    tests = doctest.DocTestFinder(exclude_empty=False).find(getattr(fa, name), "fastact." + name, globs={})
    count, report = _run(tests)
    assert count > 0, "fastact.%s has no example in its docstring" % name
    assert not report, report


def test_package_docstring_examples_run():
    tests = doctest.DocTestFinder(recurse=False).find(fa, "fastact", globs={})
    count, report = _run(tests)
    assert count > 0
    assert not report, report


@pytest.mark.parametrize("module", MODULES)
def test_public_module_examples_run(module):
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:  # an optional dependency (a fastact[extra]) is missing
        pytest.skip(str(exc))
    _, report = _run(doctest.DocTestFinder().find(mod, module, globs={}))
    assert not report, report


def _sections(doc):
    """numpydoc sections of a docstring: {title: body}, what precedes the first under ''."""
    lines = inspect.cleandoc(doc).splitlines()
    heads = [i for i in range(len(lines) - 1) if lines[i] and lines[i + 1] == "-" * len(lines[i])]
    out = {"": "\n".join(lines[:heads[0] if heads else len(lines)]).strip()}
    for h, end in zip(heads, heads[1:] + [len(lines)]):
        out[lines[h]] = "\n".join(lines[h + 2:end]).strip()
    return out


@pytest.mark.parametrize("name", CALLABLES)
def test_numpydoc_structure(name):
    obj = getattr(fa, name)
    doc = obj.__doc__ or ""
    sections = _sections(doc)
    summary = sections[""].split("\n\n")[0]
    assert "\n" not in summary and summary[:1].isupper() and summary.endswith("."), \
        "fastact.%s: the summary must be one capitalised line ending with a period: %r" % (name, summary)
    assert len(sections[""].split("\n\n")) > 1, "fastact.%s: no extended summary" % name
    for title in ("See Also", "Examples"):
        assert title in sections, "fastact.%s: no %s section" % (name, title)
    params = [p for p in inspect.signature(obj).parameters if p != "self"]
    if params:
        # "name : type" lines, and "**name" for the keyword catch-all
        documented = re.findall(r"^(?:\*\*)?(\w+)(?: :|$)", sections.get("Parameters", ""), re.M)
        assert documented == params, "fastact.%s: Parameters documents %s, the signature has %s" % (
            name, documented, params)
    if not inspect.isclass(obj) and name not in RETURN_NOTHING:
        assert sections.get("Returns"), "fastact.%s: no Returns section" % name
    for line in inspect.cleandoc(doc).splitlines():
        assert len(line) <= 75, "fastact.%s: line longer than 75 characters (help() indents by 4): %r" % (
            name, line)
