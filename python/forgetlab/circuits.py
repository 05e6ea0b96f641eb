"""circuits.py: attribution-patching circuits of an MLP and their
stability (docs/circuits.md), on examples the caller chooses: the
same scores and statistics as `forgetlab circuits`, computed by the same
C code.

    v = forgetlab.circuits(model, x, x_corrupt, subtasks)     # [k, components]
    cs, rho = forgetlab.circuit_stability(v)
    v, scores = forgetlab.circuits(..., return_scores=True)
    mean, lo, hi = forgetlab.circuit_stability_baseline(scores, subtasks)"""
import ctypes

import numpy as np

from . import _clib

__all__ = ["circuits", "circuit_stability", "circuit_stability_baseline", "components"]


def components(model):
    """The names of the MLP's components, in the order of a circuit
    vector: every hidden unit ("layers.0.unit.17"), then every hidden layer."""
    L = _clib.lib()
    n = L.fl_capi_ncomponents(model._h)
    if n < 0:
        _clib.check(-1)
    buf = ctypes.create_string_buffer(64)
    out = []
    for c in range(n):
        _clib.check(L.fl_capi_component_name(model._h, c, buf, 64))
        out.append(buf.value.decode())
    return out


def _groups(subtasks, n):
    """Per-example subtask ids -> (the order that makes each subtask
    contiguous (stable), the sorted ids, their counts)."""
    s = _clib.ints(subtasks, "subtasks")
    if s.shape[0] != n:
        raise ValueError("subtasks: %d ids for %d examples" % (s.shape[0], n))
    ids, counts = np.unique(s, return_counts=True)
    if len(ids) < 2:
        raise ValueError("subtasks: %d distinct subtask(s); circuit stability compares at least 2" % len(ids))
    return np.argsort(s, kind="stable"), ids, counts.astype(np.int32)


def circuits(model, x, x_corrupt=None, subtasks=None, labels=None, method="ap-ig", steps=5, form="path",
             loss="kl", parity=False, return_scores=False):
    """The circuit vector of each subtask: the mean attribution score of
    its examples for every component (components(model)), as float32
    [k, components], the subtasks in ascending order of their ids.

    x: float [n, inputs]; x_corrupt: the corrupted inputs [n, inputs]
    (another example of the same subtask, or of another class), or None to
    patch activations to zero; subtasks: an integer id per example (None:
    all one subtask, only with return_scores); labels: the target classes
    (needed by loss "ce" and "logit-diff"); method "ap-ig" (integrated
    over `steps` interpolation steps; form "path" or "average") or "ap";
    loss "kl" (KL from the clean output, ap-ig only), "ce" or
    "logit-diff"; parity: score ParityMNIST's way. With return_scores,
    (vectors, per-example scores [n, components]) in the input's order."""
    if model.arch != "mlp":
        raise ValueError("circuits: for an MLP, not a %s" % model.arch)
    x = _clib.floats(x, "x", ndim=2, width=model.input_size)
    n = x.shape[0]
    xc = None
    if x_corrupt is not None:
        xc = _clib.floats(x_corrupt, "x_corrupt", ndim=2, width=model.input_size)
        if xc.shape[0] != n:
            raise ValueError("x_corrupt: %d rows for %d examples" % (xc.shape[0], n))
    lab = None
    if labels is not None:
        lab = _clib.ints(labels, "labels")
        if lab.shape[0] != n:
            raise ValueError("labels: %d for %d examples" % (lab.shape[0], n))
    nc = len(components(model))
    scores = np.empty((n, nc), np.float32)
    _clib.check(_clib.lib().fl_capi_ap_scores(
        model._h, _clib.ptr(x, _clib.F32), _clib.ptr(xc, _clib.F32), _clib.ptr(lab, _clib.I32), n,
        str(method).encode(), int(steps), str(form).encode(), str(loss).encode(),
        b"within" if xc is not None else b"zero", 1 if parity else 0, _clib.ptr(scores, _clib.F32)))
    if subtasks is None:
        if not return_scores:
            raise ValueError("subtasks: needed for circuit vectors (or ask return_scores=True)")
        return scores.mean(0, keepdims=True), scores
    order, ids, counts = _groups(subtasks, n)
    vec = np.empty((len(ids), nc), np.float32)
    _run_cs(np.ascontiguousarray(scores[order]), counts, 0, 0, vec=vec)
    return (vec, scores) if return_scores else vec


def _run_cs(scores, counts, draws, seed, vec=None):
    k, c = len(counts), scores.shape[1]
    rho = np.empty((k, k), np.float64)
    out = (ctypes.c_double * 4)()
    _clib.check(_clib.lib().fl_capi_circuit_stability(
        _clib.ptr(scores, _clib.F32), c, _clib.ptr(counts, _clib.I32), k, int(draws), ctypes.c_uint64(seed),
        _clib.ptr(vec, _clib.F32), _clib.ptr(rho, _clib.F64), out))
    return list(out), rho


def circuit_stability(vectors):
    """(CS, Spearman matrix [k, k]) of k circuit vectors [k, components]:
    the mean off-diagonal rank correlation (average ranks for ties; NaN
    entries where a vector is constant)."""
    v = _clib.floats(vectors, "vectors", ndim=2)
    k, c = v.shape
    rho = np.empty((k, k), np.float64)
    out = (ctypes.c_double * 1)()
    _clib.check(_clib.lib().fl_capi_spearman(_clib.ptr(v, _clib.F32), k, c, _clib.ptr(rho, _clib.F64), out))
    return out[0], rho


def circuit_stability_baseline(scores, subtasks, draws=20, seed=0):
    """The random-split baseline without which a CS cannot be read: the
    CS of the same examples' scores [n, components] cut at random into
    groups of the subtasks' sizes, `draws` times (seeded): (mean, 2.5%
    quantile, 97.5% quantile)."""
    s = _clib.floats(scores, "scores", ndim=2)
    if draws < 1:
        raise ValueError("draws: %d; at least 1" % draws)
    order, _, counts = _groups(subtasks, s.shape[0])
    out, _ = _run_cs(np.ascontiguousarray(s[order]), counts, draws, seed)
    return out[1], out[2], out[3]
