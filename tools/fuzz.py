"""Time-boxed fuzzing of every fastact function (hypothesis).

Runs the property of ``tests/test_properties.py`` -- forward and backward on
arrays drawn over dtype x shape x layout x values (NaN, +-inf, +-0,
subnormals, the largest finite values) against ``fastact.reference``, out=
and in place -- with fresh randomness, round-robin over the functions, for
the given time.  A crash (segfault, abort) kills the run with Python's fault
handler printing where; a property failure is printed with its (shrunk)
example and the blob that replays it.

    python tools/fuzz.py --minutes 10              # every function
    python tools/fuzz.py --minutes 2 --ops gelu,softmax --batch 100

Run from the repository root after an in-place build (or with fastact
installed).  Exit status 0 when nothing failed, 1 otherwise.
"""

import argparse
import faulthandler
import os
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(1, ROOT)

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

import test_properties as props  # noqa: E402
import util  # noqa: E402
from fastact._registry import lookup  # noqa: E402


def fuzz(names, seconds, batch, out=sys.stdout):
    """Run the property on `names` until `seconds` have passed; returns
    (examples run per function, [(name, exception)])."""
    deadline = time.monotonic() + seconds
    counts = Counter()
    failures = []
    live = list(names)
    while live and time.monotonic() < deadline:
        for name in list(live):
            if time.monotonic() >= deadline:
                break
            op = lookup(name)

            @settings(max_examples=batch, deadline=None, database=None, derandomize=False, print_blob=True,
                      phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
            @given(props.cases(op))
            def run(case):
                counts[name] += 1
                props.check_op(name, *case)

            try:
                run()
            except Exception as exc:  # a property failure: report it, stop fuzzing this function
                failures.append((name, exc))
                live.remove(name)
                print("FAILED %s: %s" % (name, str(exc)[:3000]), file=out, flush=True)
    return counts, failures


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="how long to fuzz (default 10)")
    ap.add_argument("--ops", default="", help="comma-separated function names (default: all)")
    ap.add_argument("--batch", type=int, default=200, help="examples per function per round (default 200)")
    args = ap.parse_args(argv)
    faulthandler.enable()
    names = [lookup(n).name for n in args.ops.split(",")] if args.ops else list(util.OP_NAMES)
    t0 = time.monotonic()
    counts, failures = fuzz(names, 60.0 * args.minutes, args.batch)
    elapsed = time.monotonic() - t0
    print("fuzzed %d functions for %.1f min: %d examples (%s)" % (
        len(names), elapsed / 60, sum(counts.values()),
        ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    if failures:
        print("%d function(s) failed: %s" % (len(failures), ", ".join(n for n, _ in failures)))
        return 1
    print("no failure, no crash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
