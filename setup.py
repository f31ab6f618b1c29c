"""Build fastact's compiled core.

Notes
-----
- ``fastact/_elementwise.pyx`` is generated from ``_elementwise.pyx.tp``
  (Tempita, shipped with Cython) and the kernel list in ``fastact/_registry.py``;
  it includes ``_rows.pxi`` (softmax rows) and ``_fused.pxi`` (bias + activation),
  so all are built per ISA level.
- OpenMP is detected by compiling and running a small program; without it the
  package still builds and runs single-threaded (``fastact.show_config()``
  says so).  ``FASTACT_NO_OPENMP=1`` opts out.
- ``-ffp-contract=off``: the compiler must not fuse multiply-adds on its own,
  so that the vectorized body and the scalar tail of a loop round identically
  (results independent of the thread count); kernels use explicit FMAs where
  the target has them.  No fast-math flags: they break NaN/inf handling and
  change the process's floating-point mode.
- ``FASTACT_VEC_REPORT=FILE`` adds GCC's vectorization report to FILE (see
  ``tools/vec_report.py``).
"""

import os
import platform
import runpy
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import numpy
from Cython import Tempita
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.join(HERE, "fastact")
SRC = os.path.join(PKG, "_src")


# The elementwise and row kernels are compiled once per instruction-set level; the
# package picks the best one the CPU runs at import (fastact/_dispatch.py).
# (module suffix, variant name, extra flags)
VARIANTS = (("", "baseline", []),
            ("_v3", "v3", ["-march=x86-64-v3"]),     # AVX2, FMA, BMI2 (Haswell, Zen)
            ("_v4", "v4", ["-march=x86-64-v4"]))     # AVX-512 F/BW/DQ/VL


def render_elementwise(suffix, variant):
    """Generate _elementwise<suffix>.pyx from its template; rewrite only on change."""
    registry = runpy.run_path(os.path.join(PKG, "_registry.py"))
    tp_path = os.path.join(PKG, "_elementwise.pyx.tp")
    with open(tp_path) as f:
        template = Tempita.Template(f.read(), name=tp_path)
    text = template.substitute(
        warning="Generated from _elementwise.pyx.tp by setup.py -- do not edit.",
        kernels=registry["ELEMENTWISE_KERNELS"],
        counted=registry["COUNT_KERNELS"],
        interleaved=registry["INTERLEAVED_LOOPS"],
        tame=registry["TAME_LOOPS"],
        streamed=registry["STREAM_KERNELS"],
        dtypes=[("f32", "float"), ("f64", "double")],
        variant=variant,
    )
    out = os.path.join(PKG, "_elementwise%s.pyx" % suffix)
    if not os.path.exists(out) or open(out).read() != text:
        with open(out, "w") as f:
            f.write(text)


def compiler_accepts(flags):
    """True when the C compiler compiles an empty unit with these flags."""
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write("int fastact_probe;\n")
        subprocess.run(compiler_command() + flags + ["-c", src, "-o", os.path.join(tmp, "probe.o")],
                       check=True, capture_output=True)
        return True
    except (OSError, subprocess.CalledProcessError):
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def variants():
    """The variants to build: the baseline always; v3/v4 on x86-64 when the compiler
    knows them (FASTACT_VARIANTS=baseline,v3 restricts the list)."""
    wanted = os.environ.get("FASTACT_VARIANTS", "").replace(" ", "").split(",")
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    out = []
    for suffix, name, flags in VARIANTS:
        if wanted != [""] and name not in wanted and name != "baseline":
            continue
        if flags and not (x86 and compiler_accepts(flags)):
            continue
        out.append((suffix, name, flags))
    return out


def compiler_command():
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return cc.split()


PROBE = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    printf("%d\n", n);
    return n > 0 ? 0 : 1;
}
"""


def openmp_flags():
    """(compile_args, link_args) for OpenMP, or ([], []) when unavailable."""
    if os.environ.get("FASTACT_NO_OPENMP", "") not in ("", "0"):
        print("fastact: OpenMP disabled by FASTACT_NO_OPENMP", file=sys.stderr)
        return [], []
    cc = compiler_command()
    for flags in (["-fopenmp"], ["-Xpreprocessor", "-fopenmp", "-lomp"]):
        tmp = tempfile.mkdtemp()
        try:
            src = os.path.join(tmp, "probe.c")
            exe = os.path.join(tmp, "probe")
            with open(src, "w") as f:
                f.write(PROBE)
            subprocess.run(cc + flags + [src, "-o", exe], check=True, capture_output=True)
            subprocess.run([exe], check=True, capture_output=True)
            link = [f for f in flags if f != "-Xpreprocessor"]
            return flags[:2] if flags[0] == "-Xpreprocessor" else flags, link
        except (OSError, subprocess.CalledProcessError):
            continue
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("fastact: WARNING: the compiler has no usable OpenMP; building single-threaded",
          file=sys.stderr)
    return [], []


def main():
    built = variants()
    for suffix, name, _ in built:
        render_elementwise(suffix, name)
    omp_compile, omp_link = openmp_flags()
    base = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]
    # GCC: let the vectorizer version the multi-row loops (_fused.pxi's four-row
    # count loop checks 9 pointers against each other at run time; the default
    # limit of 10 checks would leave it scalar)
    alias_checks = ["--param=vect-max-version-for-alias-checks=64"]
    if compiler_accepts(["-Werror"] + alias_checks):
        base += alias_checks
    # GCC: room to inline every kernel's math into each of its loops (the
    # plain, bias and count loops call the same _ops functions; with GCC's
    # default unit-growth limits, giving every kernel its bias loops left
    # gelu's float64 loops and four interleaved forms scalar)
    inline_room = ["--param=max-inline-insns-single=2000", "--param=inline-unit-growth=1000",
                   "--param=large-function-growth=1000", "--param=max-inline-insns-auto=200"]
    if compiler_accepts(["-Werror"] + inline_room):
        base += inline_room
    if os.environ.get("FASTACT_VEC_REPORT"):
        base.append("-fopt-info-vec-all=" + os.environ["FASTACT_VEC_REPORT"])
    if os.environ.get("FASTACT_EXTRA_CFLAGS"):
        base += os.environ["FASTACT_EXTRA_CFLAGS"].split()
    compile_args = base + omp_compile
    with open(os.path.join(PKG, "_build_info.py"), "w") as f:
        f.write("# Generated by setup.py at build time.\n")
        f.write("COMPILER = %r\n" % " ".join(compiler_command()))
        f.write("COMPILE_ARGS = %r\n" % compile_args)
        f.write("LINK_ARGS = %r\n" % omp_link)
        f.write("OPENMP = %r\n" % bool(omp_compile))
        f.write("VARIANTS = %r\n" % {name: flags for _, name, flags in built})
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
    def extension(name, flags):
        return Extension(
            "fastact." + name,
            [os.path.join("fastact", name + ".pyx")],
            include_dirs=[SRC, numpy.get_include()],
            define_macros=macros,
            extra_compile_args=compile_args + flags,
            extra_link_args=omp_link,
        )

    exts = [extension("_special", [])] + [extension("_elementwise" + suffix, flags) for suffix, _, flags in built]
    setup(
        ext_modules=cythonize(
            exts,
            include_path=[HERE],
            compiler_directives={
                "language_level": 3,
                "boundscheck": False,
                "wraparound": False,
                "initializedcheck": False,
                "cdivision": True,
            },
        )
    )


main()
