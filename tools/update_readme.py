"""Regenerate the README's generated sections from the registry and from runs.

Each section sits between ``<!-- NAME -->`` and ``<!-- /NAME -->`` (the end
marker is added on first use):

- catalogue: the function table (fastact._registry.catalogue_markdown)
- special:   every forward evaluated at nan, -inf, -max, -0, +0, +max, inf
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


def special():
    import fastact as fa
    from fastact._registry import OPS

    big = np.finfo(np.float64).max
    xs = [np.nan, -np.inf, -big, -0.0, 0.0, big, np.inf]
    heads = ["nan", "-inf", "-max", "-0", "+0", "+max", "+inf"]
    rows = ["| function | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for op in OPS:
        if op.kind not in ("elementwise", "rrelu", "prelu"):
            continue
        args = (0.25,) if op.kind == "prelu" else ()
        with np.errstate(all="raise"):
            y = getattr(fa, op.name)(np.array(xs), *args)
        cells = ["%g" % v if v != 0 else ("-0" if np.signbit(v) else "0") for v in y]
        rows.append("| %s | %s |" % (op.name, " | ".join(cells)))
    return "\n".join(rows)


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
