"""blas_core.py [torch|numpy]: the matrix kernels PyTorch (or NumPy) runs
here, in one line: the
OpenBLAS core, its threading and file as the library loaded in this process
reports them (Debian's PyTorch calls the system BLAS: BLAS_INFO=generic),
or what else PyTorch says it uses. bench/lib.sh prints it beside
forgetlab's core, so a ratio always says what both sides ran on."""
import ctypes
import importlib
import re
import sys


def openblas():
    """(core, threading, path) of the OpenBLAS this process loaded, or None."""
    maps = open("/proc/self/maps").read()
    paths = sorted(set(re.findall(r"(/\S*libopenblas\S*\.so[.\d]*)", maps)))
    if not paths:
        return None
    lib = ctypes.CDLL(paths[0])
    lib.openblas_get_corename.restype = ctypes.c_char_p
    par = {0: "sequential", 1: "pthreads", 2: "openmp"}.get(lib.openblas_get_parallel(), "?")
    return lib.openblas_get_corename().decode(), par, paths[0]


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "torch"
    mod = importlib.import_module(which)
    if which == "torch":
        mod.zeros(2, 2) @ mod.zeros(2, 2)  # the BLAS is loaded and initialised
        blas = re.search(r"BLAS_INFO=(\w+)", mod.__config__.show())
        what = "torch %s BLAS_INFO=%s" % (mod.__version__, blas.group(1) if blas else "?")
    else:
        mod.zeros((2, 2)) @ mod.zeros((2, 2))
        what = "%s %s" % (which, mod.__version__)
    ob = openblas()
    print("OpenBLAS %s (%s, %s), %s" % (ob + (what,)) if ob else "no OpenBLAS loaded: %s" % what)
