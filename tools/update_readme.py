"""Regenerate the README's generated sections from the registry and from runs.

Each section sits between ``<!-- NAME -->`` and ``<!-- /NAME -->`` (the end
marker is added on first use):

- catalogue: the function table (fastact._registry.catalogue_markdown)
- special:   every elementwise forward and backward at nan, +-inf, +-max, +-1,
               +-0 and +-the smallest subnormal, from fastact.reference
- accuracy:  python -m fastact._accuracy (slow: mpmath)
- bench:     python -m fastact.bench --quick, with its machine header

    python tools/update_readme.py [catalogue special accuracy bench]
"""

import io
import os
import re
import sys
from contextlib import redirect_stdout

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")


def catalogue():
    from fastact._registry import catalogue_markdown

    return catalogue_markdown()


def _cell(v):
    if v == 0:
        return "-0" if np.signbit(v) else "0"
    return "%g" % v


def special():
    """Forward and backward of every elementwise function at the special
    points, from fastact.reference (tests/test_special.py holds fastact to it)."""
    from fastact import reference as ref

    heads = " | ".join(ref.SPECIAL_LABELS)
    rule = "|---" * (len(ref.SPECIAL_LABELS) + 1) + "|"
    fwd = ["| forward | %s |" % heads, rule]
    bwd = ["| backward: dx for dy = 1 | %s |" % heads, rule]
    for label, name, params in ref.special_rows():
        y, d = ref.special_values(name, np.float64, **params)
        fwd.append("| %s | %s |" % (label, " | ".join(_cell(v) for v in y)))
        bwd.append("| %s | %s |" % (label, " | ".join(_cell(v) for v in d)))
    return "\n".join(fwd) + "\n\n" + "\n".join(bwd)


def accuracy():
    from fastact._accuracy import table

    return table()


def bench():
    from fastact import bench as b

    buf = io.StringIO()
    with redirect_stdout(buf):
        b.main(["--quick"])
    return "Produced by `fastact-bench --quick` (the README's first command):\n\n" + buf.getvalue().strip()


SECTIONS = {"catalogue": catalogue, "special": special, "accuracy": accuracy, "bench": bench}


def replace(text, name, body):
    start, end = "<!-- %s -->" % name, "<!-- /%s -->" % name
    if end in text:
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
        return pattern.sub(lambda m: start + "\n" + body + "\n" + end, text)
    return text.replace(start, start + "\n" + body + "\n" + end)


def main(names):
    names = names or list(SECTIONS)
    with open(README) as f:
        text = f.read()
    for name in names:
        text = replace(text, name, SECTIONS[name]())
    with open(README, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
