"""forgetlab from Python: NumPy arrays in and out, over the C library
(build/libforgetlab.so through ctypes; no compiler needed at import).

    import forgetlab
    forgetlab.__version__
    forgetlab.divergences(base_logits, logits)    # how far a model moved from its base
    m = forgetlab.load("runs/base")                # .logits(x), .weights, .save(path)
    forgetlab.measure("runs/base", "runs/tuned")   # what `forgetlab measure` prints
    v = forgetlab.circuits(m, x, x_corrupt, subtasks)
    cs, rho = forgetlab.circuit_stability(v)
    s = forgetlab.study("runs/razor")              # columns, predictors, the fitted curve
    t = forgetlab.compare(["runs/razor", "runs/gf"])  # the tables of `forgetlab compare`
    b = forgetlab.Budget("runs/razor", max_forgetting=0.05)  # b.check(base_logits, logits): within the budget?
    forgetlab.safetensors.load(path)               # pure NumPy
    forgetlab.environment()                        # BLAS kernels, CPU: what `forgetlab env` prints

The library is found through $FORGETLAB_LIB, else in the source tree's
build/ (after `make`), else beside an installed package; it is loaded on
first use, so safetensors, study and compare work without it. Errors of the C
library are raised as ForgetlabError carrying its message; bad arguments
as ValueError, missing files as FileNotFoundError.

OpenBLAS picks its kernels when it first loads and cannot change them
after: where it fell back below what the CPU runs (a CPU model it does not
know), the package logs a warning on the "forgetlab" logger naming the
OPENBLAS_CORETYPE to set before Python starts (the CLI switches itself)."""
import ctypes

from . import _clib, safetensors
from ._clib import ForgetlabError, environment
from .circuits import circuit_stability, circuit_stability_baseline, circuits, components
from .model import Model, load, measure
from .compare import compare
from .budget import Budget, BudgetCheck, Forecast, forecast
from .study import Study, study

__all__ = ["divergences", "load", "Model", "measure", "circuits", "components", "circuit_stability",
           "circuit_stability_baseline", "study", "Study", "compare", "Budget", "BudgetCheck", "Forecast", "forecast", "safetensors", "set_threads", "environment",
           "ForgetlabError",
           "__version__"]


def __getattr__(name):
    if name == "__version__":
        return _clib.lib().fl_capi_version().decode()
    raise AttributeError("module 'forgetlab' has no attribute %r" % name)


def set_threads(n):
    """Threads for BLAS and OpenMP (0: every core); returns the count in force."""
    r = _clib.lib().fl_capi_set_threads(int(n))
    if r < 0:
        _clib.check(-1)
    return r


def divergences(base_logits, logits):
    """How far a model's output distributions moved from its base's, from
    their logits on the same inputs ([n, classes] each): a dict of the
    forward KL KL(pi_0 || pi) (the predictor of forgetting), the reverse KL,
    total variation, L2 distance and Jensen-Shannon divergence, each the
    mean over the n inputs. `forgetlab measure` prints the same figures with
    the suffix _new (or _prior) for the inputs they were measured on."""
    z0 = _clib.floats(base_logits, "base_logits", ndim=2)
    z1 = _clib.floats(logits, "logits", ndim=2)
    if z0.shape != z1.shape:
        raise ValueError("logits: shape %s differs from base_logits' %s" % (z1.shape, z0.shape))
    out = (ctypes.c_double * 5)()
    _clib.check(_clib.lib().fl_capi_divergences(_clib.ptr(z0, _clib.F32), _clib.ptr(z1, _clib.F32), z0.shape[0],
                                                z0.shape[1], out))
    return dict(zip(("forward_kl", "reverse_kl", "tv", "l2_dist", "js"), out))
