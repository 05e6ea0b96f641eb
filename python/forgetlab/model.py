"""model.py: a forgetlab model from Python: load any checkpoint (an MLP,
a grok transformer or the byte-level language model, or a PyTorch file
of MLP tensors), its logits, its weights as NumPy arrays that are the
model's own memory, and saving it back.

    m = forgetlab.load("runs/base")          # a run directory or .safetensors
    z = m.logits(x)                          # MLP: float32 [n, 785] -> [n, 10]
    z = lm.logits(tokens)                    # int [n, T] -> [n, T, 256]
    m.weights["layers.0.weight"][:] *= 0.5   # edits the model
    m.save("edited.safetensors")"""
import ctypes
import json
import os

import numpy as np

from . import _clib

__all__ = ["load", "Model", "measure"]


def load(path):
    """The model at path (a run directory or a .safetensors file)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError("forgetlab.load: %s does not exist" % path)
    h = _clib.lib().fl_capi_load(path.encode())
    if not h:
        raise _clib.ForgetlabError(_clib.lib().fl_capi_error().decode(errors="replace"))
    return Model(h, path)


class Model:
    """A loaded model; free with del, or use as a context manager."""

    def __init__(self, handle, path):
        L = _clib.lib()
        self._h, self.path = handle, path
        self.arch = L.fl_capi_arch(handle).decode()
        self.config = json.loads(L.fl_capi_config(handle).decode() or "{}")
        s = (ctypes.c_int * 4)()
        L.fl_capi_shape(handle, s)
        self.input_size, self.output_size, self._positions, self.vocab = s[0], s[1], s[2], s[3]
        self._weights = None

    def __repr__(self):
        return "<forgetlab.Model %s %s: %d tensors>" % (self.arch, self.path, len(self.weights))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Frees the C model; its weight arrays keep it alive while they live."""
        self._weights = None

    def __del__(self):
        if getattr(self, "_h", None) and _clib._lib is not None:
            _clib._lib.fl_capi_free(self._h)
            self._h = None

    def logits(self, x):
        """MLP: x float [n, inputs] -> logits float32 [n, outputs].
        Transformer: token ids [n, context] -> [n, positions, outputs].
        Language model: token ids [n, T] (T <= context) -> [n, T, vocab]."""
        L = _clib.lib()
        if self.arch == "mlp":
            x = _clib.floats(x, "x", ndim=2, width=self.input_size)
            out = np.empty((x.shape[0], self.output_size), np.float32)
            _clib.check(L.fl_capi_logits(self._h, _clib.ptr(x, _clib.F32), x.shape[0], _clib.ptr(out, _clib.F32)))
            return out
        tok = _clib.ints(x, "tokens", ndim=2)
        n, T = tok.shape
        if n == 0 or T == 0:
            raise ValueError("tokens: empty array of shape %s" % (tok.shape,))
        pos = T if self.arch == "gpt" else self._positions
        out = np.empty((n, pos, self.output_size), np.float32)
        _clib.check(L.fl_capi_logits_tokens(self._h, _clib.ptr(tok, _clib.I32), n, T, _clib.ptr(out, _clib.F32)))
        return out

    @property
    def weights(self):
        """Every tensor under its PyTorch name, as float32 arrays that are
        the model's own memory: writing them changes the model (and what
        save writes)."""
        if self._weights is None:
            L, w = _clib.lib(), {}
            shape = (ctypes.c_int64 * 8)()
            for i in range(L.fl_capi_ntensors(self._h)):
                name = L.fl_capi_tensor_name(self._h, i).decode()
                nd = L.fl_capi_tensor_shape(self._h, i, shape)
                dims = tuple(shape[d] for d in range(nd))
                count = int(np.prod(dims, dtype=np.int64))
                buf = (ctypes.c_float * count).from_address(ctypes.addressof(L.fl_capi_tensor_data(self._h, i).contents))
                buf._owner = self  # the C memory lives as long as an array over it
                w[name] = np.frombuffer(buf, dtype=np.float32).reshape(dims)
            self._weights = w
        return self._weights

    def save(self, path):
        """Writes the model (with its edits and its run's config) as a
        forgetlab checkpoint, atomically; refuses non-finite weights."""
        _clib.check(_clib.lib().fl_capi_save(self._h, os.fspath(path).encode()))


def measure(base, model, data_dir=None, fisher_n=None, seed=0):
    """Everything `forgetlab measure --base --model` prints, as a dict, for
    two MLPs of the RL's Razor setting (paths or loaded models): new- and
    prior-task accuracies, forgetting, the divergences on both tasks'
    inputs, the weight and activation changes, circuit stability. data_dir:
    the datasets (None: $FORGETLAB_DATA, else the source tree's); fisher_n:
    prior-task images for the base's Fisher (None: the commands' default)."""
    b = base if isinstance(base, Model) else load(base)
    m = model if isinstance(model, Model) else load(model)
    if fisher_n is not None and fisher_n < 1:
        raise ValueError("fisher_n: %d, at least 1" % fisher_n)
    L = _clib.lib()
    p = L.fl_capi_measure(b._h, m._h, None if data_dir is None else os.fspath(data_dir).encode(), int(fisher_n or 0),
                          ctypes.c_uint64(seed))
    if not p:
        _clib.check(-1)
    try:
        return json.loads(ctypes.string_at(p).decode())
    finally:
        L.fl_capi_free_text(p)
