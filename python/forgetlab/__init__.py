"""forgetlab from Python: NumPy arrays in and out, over the C library
(build/libforgetlab.so, through ctypes; no compiler needed at import).

    import forgetlab
    forgetlab.__version__
    forgetlab.divergences(base_logits, logits)   # how far a model moved from its base

The library is found through $FORGETLAB_LIB, else next to this package in
the source tree (build/libforgetlab.so after `make`). Errors of the C
library are raised as Python exceptions carrying its message."""
import ctypes
import os

import numpy as np

__all__ = ["divergences", "ForgetlabError", "__version__"]


class ForgetlabError(RuntimeError):
    """An error of the C library, with its message."""


def _find_library():
    env = os.environ.get("FORGETLAB_LIB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "build", "libforgetlab.so")


def _load():
    path = _find_library()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError("forgetlab: cannot load the C library %s (build it with `make`, or set FORGETLAB_LIB): %s"
                          % (path, e)) from None
    lib.fl_capi_version.restype = ctypes.c_char_p
    lib.fl_capi_error.restype = ctypes.c_char_p
    f = ctypes.POINTER(ctypes.c_float)
    lib.fl_capi_divergences.argtypes = [f, f, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_double)]
    lib.fl_capi_divergences.restype = ctypes.c_int
    return lib


_lib = _load()
__version__ = _lib.fl_capi_version().decode()


def _check(rc):
    if rc != 0:
        raise ForgetlabError(_lib.fl_capi_error().decode(errors="replace"))


def _logits(a, name):
    """a as a C-ordered float32 [n, V] array, or a ValueError naming it."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu":
        raise ValueError("%s: dtype %s is not a number type" % (name, arr.dtype))
    if arr.ndim != 2:
        raise ValueError("%s: shape %s, expected [n, classes]" % (name, arr.shape))
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError("%s: holds non-finite values" % name)
    return arr


def divergences(base_logits, logits):
    """How far a model's output distributions moved from its base's, from
    their logits on the same inputs ([n, classes] each): a dict of the
    forward KL KL(pi_0 || pi) (the predictor of forgetting), the reverse KL,
    total variation, L2 distance and Jensen-Shannon divergence, each the
    mean over the n inputs. `forgetlab measure` prints the same figures with
    the suffix _new (or _prior) for the inputs they were measured on."""
    z0 = _logits(base_logits, "base_logits")
    z1 = _logits(logits, "logits")
    if z0.shape != z1.shape:
        raise ValueError("logits: shape %s differs from base_logits' %s" % (z1.shape, z0.shape))
    out = (ctypes.c_double * 5)()
    f = ctypes.POINTER(ctypes.c_float)
    _check(_lib.fl_capi_divergences(z0.ctypes.data_as(f), z1.ctypes.data_as(f), z0.shape[0], z0.shape[1], out))
    return dict(zip(("forward_kl", "reverse_kl", "tv", "l2_dist", "js"), out))
