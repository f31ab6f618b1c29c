#!/usr/bin/env bash
# Build fastact's extensions with AddressSanitizer in a scratch copy of the
# source tree and run the test suite against them.
#
#   tools/asan_test.sh                                  # the whole suite
#   tools/asan_test.sh tests/test_layout.py -x -q       # any pytest arguments
#   FASTACT_VARIANTS=v3 tools/asan_test.sh ...          # build baseline + v3 only (quicker)
#
# Needs gcc with libasan.  Python itself is not instrumented: libasan (and
# libstdc++) is preloaded into it (LD_PRELOAD), and leak detection is off (CPython keeps
# memory until exit on purpose; tests/test_memory.py checks fastact's leaks).
# Any out-of-bounds access or use after free aborts the run with ASan's report.
# Environment: PYTHON (default python3; needs numpy, Cython, setuptools and
# the test extras), FASTACT_ASAN_DIR (scratch directory, default mktemp).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
CC=${CC:-gcc}
WORK=${FASTACT_ASAN_DIR:-$(mktemp -d)}
SRC="$WORK/src"

LIBASAN=$($CC -print-file-name=libasan.so)
if [ ! -e "$LIBASAN" ]; then
    echo "asan_test.sh: $CC has no libasan.so" >&2
    exit 2
fi

# a clean copy: sources only (no build products of the tree's own builds)
mkdir -p "$SRC"
(cd "$ROOT" && tar cf - --exclude='*.so' --exclude='build' --exclude='__pycache__' --exclude='.git' \
    setup.py pyproject.toml README.md fastact tests tools) | (cd "$SRC" && tar xf -)

echo "== building with AddressSanitizer in $SRC"
(cd "$SRC" && CC="$CC" FASTACT_EXTRA_CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g" \
    LDFLAGS="-fsanitize=address" "$PY" setup.py build_ext --inplace -j 2 > "$WORK/build.log" 2>&1) || {
    tail -30 "$WORK/build.log"; exit 2; }
grep -q fsanitize=address "$SRC/fastact/_build_info.py"

echo "== running the tests under ASan ($LIBASAN)"
cd "$SRC"
# libstdc++ too: ASan's __cxa_throw interceptor must find the real one when a
# C++ extension (matplotlib, torch: the benchmark tests' peers) throws
LIBSTDCXX=$($CC -print-file-name=libstdc++.so)
export LD_PRELOAD="$LIBASAN${LIBSTDCXX:+ $LIBSTDCXX}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:${ASAN_OPTIONS:-}"
export FASTACT_UNDER_ASAN=1   # tests/test_memory.py: RSS includes ASan's quarantine
export PYTHONPATH="$SRC${PYTHONPATH:+:$PYTHONPATH}"
if [ $# -eq 0 ]; then
    set -- tests -q
fi
exec "$PY" -m pytest -p no:cacheprovider "$@"
