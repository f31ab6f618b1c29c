"""Which kernel loops did GCC vectorize?

Compiles the generated ``fastact/_elementwise.c`` (produced by any build:
``pip install .`` keeps it in the source tree, or ``python setup.py
build_ext --inplace``) with the build's own flags plus ``-fopt-info-vec``, maps
each "loop vectorized" line to the C function it falls in, and prints one row
per elementwise kernel loop (forward and backward, float32 and float64) and
per row-kernel loop of softmax/log_softmax (_rows.pxi) and of maxout, prelu
and training rrelu (_fused.pxi; GCC reports a loop of an inlined function at
that function's lines).  The loops of
INTERLEAVED_LOOPS (_registry.py) are fa_loop.h's, inlined once per aliasing
form: they are read from GCC's vectorizer dump, per function, and count as
vectorized when every form is; so are the three loops of each of TAME_LOOPS
(the block test, the tame form, the full kernel).  Exits 1 if any loop was not vectorized.

    python tools/vec_report.py [--cflags "-march=x86-64-v3"]
"""

import argparse
import os
import re
import runpy
import subprocess
import sys
import sysconfig
import tempfile

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
C_FILE = os.path.join(ROOT, "fastact", "_elementwise.c")
# (the plain loops K_fwd/K_bwd and the bias + activation loops K_fwdb/K_fwds/K_bwdb/K_bwds)
FUNC = re.compile(r"^static (?:void|FA_SCHED_VOID|Py_ssize_t) __pyx_f_7fastact_12_elementwise__(\w+?)_(fwd|bwd|fwdb|fwds|bwdb|bwds|fwdbc|fwdbc4|fwdsc)_(f32|f64)\(")
# the row kernels' loops (fused functions: specialisation 0 is float, 1 double;
# the exp sums of the forward and the row sums of the backward are fa_rows.h's,
# not a loop of these
ROW_FUNC = re.compile(r"^static CYTHON_INLINE \w+ __pyx_(?:fuse_([01])__pyx_)?f_7fastact_12_elementwise__(\w+)\(")
ROW_LOOPS = {("softmax_write", "f32"),
             ("softmax_write", "f64"), ("log_softmax_write", "f32"), ("log_softmax_write", "f64"),
             ("softmax_bwd_row", "f32"), ("softmax_bwd_row", "f64"),
             ("maxout_block", "f32"), ("maxout_block", "f64"),
             ("maxout_bwd_block", "f32"), ("maxout_bwd_block", "f64"),
             ("prelu_vec", "f32"), ("prelu_vec", "f64"), ("prelu_sc", "f32"), ("prelu_sc", "f64"),
             ("rrelu_fwd_block", "f32"), ("rrelu_fwd_block", "f64"),
             ("rrelu_bwd_block", "f32"), ("rrelu_bwd_block", "f64")}
# fa_rows.h's row sums, short rows and float32 backward rows (inlined into
# the row kernels; GCC reports their loops at the header's lines): each of
# their `omp simd` loops must be vectorized
HEADER = os.path.join(ROOT, "fastact", "_src", "fa_rows.h")
HEADER_LOOPS = ("fa_rows_expsum_f32_", "fa_rows_expsum_f64_", "fa_rows_blocksum_f32", "fa_rows_dot_f64",
                "fa_rows_log1p_group", "fa_rows_bwd_row_f32_", "fa_short_rows_f32", "fa_short_rows_f64",
                "fa_short_lsm_bwd_f32")


# fa_loop.h's forms of a forward (distinct, in place) and a backward (distinct,
# out is dy, out is the saved array, all three one array)
FORMS = {"fwd": 2, "bwd": 4}


def dump_sections(text):
    """{function name: [vector widths of the loops vectorized in it]} from GCC's
    -fdump-tree-vect-optimized output."""
    sections, current = {}, None
    for line in text.splitlines():
        m = re.match(r";; Function (\S+) ", line)
        if m:
            current = sections.setdefault(m.group(1), [])
            continue
        m = re.search(r": optimized: loop vectorized using (\d+) byte vectors", line)
        if m and current is not None:
            current.append(int(m.group(1)))
    return sections


def kernel_ranges(lines):
    """{(kernel, direction, dtype): (first line, last line)} of each loop function."""
    ranges, current = {}, None
    for no, line in enumerate(lines, 1):
        m = FUNC.match(line)
        r = ROW_FUNC.match(line)
        if r and line.rstrip().endswith("{"):
            key = (r.group(2), "row", "f64" if r.group(1) == "1" else "f32")
            if (key[0], key[2]) in ROW_LOOPS:
                current = (key, no)
        elif m and line.rstrip().endswith("{"):
            current = (m.groups(), no)
        elif current and line.startswith("}"):
            ranges[current[0]] = (current[1], no)
            current = None
    return ranges


def header_ranges():
    """{function: [(first line, last line) of each of its `omp simd` loops]}
    of HEADER_LOOPS in fa_rows.h: a loop runs from its pragma to the next
    one or to the function's end."""
    with open(HEADER) as f:
        lines = f.read().splitlines()
    out = {}
    for name in HEADER_LOOPS:
        start = next(i for i, ln in enumerate(lines, 1) if re.match(r"^\w.*\b%s\(" % name, ln))
        end = next(i for i, ln in enumerate(lines, 1) if i > start and ln == "}")
        pragmas = [i for i in range(start, end + 1) if "omp simd" in lines[i - 1]]
        out[name] = list(zip(pragmas, pragmas[1:] + [end]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cflags", default="", help="extra compiler flags (e.g. -march=x86-64-v3)")
    args = ap.parse_args()
    if not os.path.exists(C_FILE):
        sys.exit("%s not found: build first (python setup.py build_ext --inplace)" % C_FILE)
    sys.path.insert(0, os.path.join(ROOT, "fastact"))
    try:
        import _build_info as b
        flags = list(b.COMPILE_ARGS)
    except ImportError:
        flags = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-fopenmp"]
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    includes = ["-I" + os.path.join(ROOT, "fastact", "_src"), "-I" + numpy.get_include(),
                "-I" + sysconfig.get_paths()["include"]]
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "vect.txt")
        cmd = cc + flags + args.cflags.split() + includes + [
            "-fPIC", "-c", C_FILE, "-o", os.path.join(tmp, "k.o"), "-fopt-info-vec-optimized",
            "-fdump-tree-vect-optimized=" + dump]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(proc.stderr)
        with open(dump) as f:
            sections = dump_sections(f.read())
    vec_lines, header_lines = {}, {}
    for line in proc.stderr.splitlines():
        m = re.match(r".*(_elementwise\.c|fa_rows\.h):(\d+):\d+: optimized: loop vectorized using (\d+) byte vectors",
                     line)
        if m:
            lines = vec_lines if m.group(1) == "_elementwise.c" else header_lines
            lines.setdefault(int(m.group(2)), set()).add(int(m.group(3)))
    with open(C_FILE) as f:
        ranges = kernel_ranges(f.read().splitlines())
    # only the kernel loops (the registry's kernels), not the drivers that call them
    # (the registry file is loaded on its own, as setup.py does: the package in
    # the source tree is not built)
    registry = runpy.run_path(os.path.join(ROOT, "fastact", "_registry.py"))
    kernels, interleaved = registry["ELEMENTWISE_KERNELS"], registry["INTERLEAVED_LOOPS"]
    tame = registry["TAME_LOOPS"]
    ranges = {key: r for key, r in ranges.items() if key[0] in kernels or key[1] == "row"}
    missing = 0
    print("%-17s %-4s %-4s %s" % ("kernel", "dir", "type", "vectorized"))
    for (kernel, direction, dtype), (lo, hi) in sorted(ranges.items(), key=lambda kv: (kv[0][1] == "row", kv[0])):
        note = ""
        loop = "%s_%s_%s" % (kernel, direction, dtype)
        # loops read from GCC's vectorizer dump, per function: each interleaved
        # form's main loop, or a tame loop's three (the block's test, fa_within_*,
        # the tame form, the full one), at the widest width (epilogues add narrower ones)
        needed = FORMS[direction] if loop in interleaved else (3 if loop in tame else 0)
        if needed:
            found = sections.get("__pyx_f_7fastact_12_elementwise__" + loop, [])
            widths = sorted(set(found))
            count = found.count(max(found)) if found else 0
            ok = count >= needed
            note = (", %d of %d forms, interleaved" if loop in interleaved else ", %d of %d loops, tame") % (
                min(count, needed), needed)
        else:
            widths = sorted({w for ln, ws in vec_lines.items() if lo <= ln <= hi for w in ws})
            ok = bool(widths)
        missing += not ok
        print("%-17s %-4s %-4s %s" % (kernel, direction, dtype,
                                     ("yes (%s-byte vectors%s)" % ("/".join(map(str, widths)), note)) if ok
                                     else "NO" + note))
    for name, loops in header_ranges().items():
        # every `omp simd` loop of the function vectorized
        found = [{w for ln, ws in header_lines.items() if lo <= ln <= hi for w in ws} for lo, hi in loops]
        widths = sorted(set().union(*found))
        ok = bool(loops) and all(found)
        missing += not ok
        dt = re.search(r"f(32|64)", name)      # (no suffix: a loop in double for both)
        print("%-17s %-4s %-4s %s" % (name, "row", dt.group(0) if dt else "f64",
                                     ("yes (%s-byte vectors, %d loops, fa_rows.h)" % ("/".join(map(str, widths)),
                                                                                      len(loops))) if ok
                                     else "NO (%d of %d loops)" % (sum(map(bool, found)), len(loops))))
    total = len(ranges) + len(HEADER_LOOPS)
    print("%d of %d kernel loops vectorized" % (total - missing, total))
    rows = sum(1 for key in ranges if key[1] == "row")
    if rows != len(ROW_LOOPS):
        print("expected %d row-kernel loops, found %d: _rows.pxi and ROW_LOOPS disagree" % (len(ROW_LOOPS), rows))
        return 1
    return 1 if missing or not ranges else 0


if __name__ == "__main__":
    sys.exit(main())
