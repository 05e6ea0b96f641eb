"""_clib.py: the C library (build/libforgetlab.so) through ctypes, loaded
on first use so that the pure-NumPy parts of the package (safetensors,
study) work without it. Found through $FORGETLAB_LIB, else beside the
package in the source tree, else as installed beside it."""
import ctypes
import json
import logging
import os

import numpy as np

_lib = None
F32 = ctypes.POINTER(ctypes.c_float)
F64 = ctypes.POINTER(ctypes.c_double)
I32 = ctypes.POINTER(ctypes.c_int32)
I64 = ctypes.POINTER(ctypes.c_int64)
_P = ctypes.c_void_p
_I = ctypes.c_int
_S = ctypes.c_char_p

# name: (result type, argument types)
_PROTOTYPES = {
    "fl_capi_version": (_S, []),
    "fl_capi_error": (_S, []),
    "fl_capi_set_threads": (_I, [_I]),
    "fl_capi_environment": (_P, []),
    "fl_capi_set_log": (None, [ctypes.c_void_p, _P]),
    "fl_capi_divergences": (_I, [F32, F32, _I, _I, F64]),
    "fl_capi_load": (_P, [_S]),
    "fl_capi_free": (None, [_P]),
    "fl_capi_arch": (_S, [_P]),
    "fl_capi_config": (_S, [_P]),
    "fl_capi_shape": (None, [_P, ctypes.POINTER(ctypes.c_int)]),
    "fl_capi_logits": (_I, [_P, F32, _I, F32]),
    "fl_capi_logits_tokens": (_I, [_P, I32, _I, _I, F32]),
    "fl_capi_ntensors": (_I, [_P]),
    "fl_capi_tensor_name": (_S, [_P, _I]),
    "fl_capi_tensor_shape": (_I, [_P, _I, I64]),
    "fl_capi_tensor_data": (F32, [_P, _I]),
    "fl_capi_save": (_I, [_P, _S]),
    "fl_capi_measure": (_P, [_P, _P, _S, _I, ctypes.c_uint64]),
    "fl_capi_free_text": (None, [_P]),
    "fl_capi_ncomponents": (_I, [_P]),
    "fl_capi_component_name": (_I, [_P, _I, _S, _I]),
    "fl_capi_ap_scores": (_I, [_P, F32, F32, I32, _I, _S, _I, _S, _S, _S, _I, F32]),
    "fl_capi_circuit_stability": (_I, [F32, _I, I32, _I, _I, ctypes.c_uint64, F32, F64, F64]),
    "fl_capi_spearman": (_I, [F32, _I, _I, F64, F64]),
}


class ForgetlabError(RuntimeError):
    """An error of the C library, with its message."""


def _candidates():
    env = os.environ.get("FORGETLAB_LIB")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(here, "..", "..", "build", "libforgetlab.so"), os.path.join(here, "libforgetlab.so")]


def lib():
    """The loaded library (loaded and its prototypes declared once)."""
    global _lib
    if _lib is not None:
        return _lib
    paths = _candidates()
    path = next((p for p in paths if os.path.exists(p)), paths[0])
    try:
        L = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError("forgetlab: cannot load the C library %s (build it with `make`, or set FORGETLAB_LIB): %s"
                          % (path, e)) from None
    for name, (res, args) in _PROTOTYPES.items():
        f = getattr(L, name)
        f.restype, f.argtypes = res, args
    L.fl_capi_set_log(ctypes.cast(_LOG_SINK, ctypes.c_void_p), None)
    _lib = L
    _warn_kernels()
    return L


def _log_line(level, line, ctx):
    """The library's notices (threads capped, a run resumed, ...) as records
    of the "forgetlab" logger, never straight to stderr."""
    logging.getLogger("forgetlab").log(logging.WARNING if level else logging.INFO,
                                       line.decode(errors="replace").rstrip("\n"))


# Kept for the life of the module: the library holds a pointer to it.
_LOG_SINK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)(_log_line)


def environment():
    """What the library runs on: forgetlab's build, the BLAS library, its
    core and who chose it, the best core for this CPU, the OpenMP version,
    the CPU and its features (the "environment" of a run's config.json),
    and "blas_core_suggested": the core the CLI would switch to ("" when
    the loaded one is right)."""
    L = lib()
    p = L.fl_capi_environment()
    if not p:
        raise ForgetlabError(L.fl_capi_error().decode(errors="replace"))
    try:
        return json.loads(ctypes.string_at(p).decode())
    finally:
        L.fl_capi_free_text(p)


def _warn_kernels():
    """OpenBLAS chose its kernels when it loaded (with this library, or
    earlier with NumPy), and a process cannot change them after: where it
    fell back below the CPU's, say how to start on the right ones."""
    env = environment()
    if env["blas_core_suggested"]:
        logging.getLogger("forgetlab").warning(
            "OpenBLAS runs its %s kernels on a CPU that runs %s (%s): matrix products are several times slower; "
            "set OPENBLAS_CORETYPE=%s in the environment before Python starts", env["blas_core"],
            env["blas_core_suggested"], env["cpu_features"], env["blas_core_suggested"])


def check(rc):
    """rc of a C call: 0, or the library's error raised."""
    if rc != 0:
        raise ForgetlabError(lib().fl_capi_error().decode(errors="replace"))


def floats(a, name, ndim=None, width=None):
    """a as a C-ordered float32 array with every value finite, or a
    ValueError naming it and what is wrong."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu":
        raise ValueError("%s: dtype %s is not a number type" % (name, arr.dtype))
    if ndim is not None and arr.ndim != ndim:
        raise ValueError("%s: shape %s, expected %d dimensions" % (name, arr.shape, ndim))
    if width is not None and arr.shape[-1] != width:
        raise ValueError("%s: shape %s, expected %d values per row" % (name, arr.shape, width))
    if arr.size == 0:
        raise ValueError("%s: empty array of shape %s" % (name, arr.shape))
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError("%s: holds non-finite values (first at %s)" % (name, np.argwhere(~np.isfinite(arr))[0].tolist()))
    return arr


def ints(a, name, ndim=1):
    """a as a C-ordered int32 array of integers, or a ValueError."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and
                                           np.all(arr == np.round(arr))):
        raise ValueError("%s: dtype %s does not hold integers" % (name, arr.dtype))
    if arr.ndim != ndim:
        raise ValueError("%s: shape %s, expected %d dimensions" % (name, arr.shape, ndim))
    if arr.size and (arr.min() < -2 ** 31 or arr.max() >= 2 ** 31):
        raise ValueError("%s: values beyond 32-bit integers" % name)
    return np.ascontiguousarray(arr, dtype=np.int32)


def ptr(a, kind):
    return None if a is None else a.ctypes.data_as(kind)
