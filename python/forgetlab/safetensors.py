"""safetensors.py: the safetensors format in pure NumPy, usable without the
C library: an 8-byte little-endian header length N, N bytes of JSON
({"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}),
then the tensors' little-endian bytes.

    tensors = forgetlab.safetensors.load("run/model.safetensors")
    tensors, meta = forgetlab.safetensors.load(path, metadata=True)
    forgetlab.safetensors.save(path, tensors, metadata={"format": "forgetlab"})

The forgetlab C library reads F32 only; this module reads and writes every
dtype NumPy has (BF16 has none: it raises)."""
import json
import os
import struct
import tempfile

import numpy as np

__all__ = ["load", "save"]

_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
           "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024


def load(path, metadata=False):
    """The tensors of a .safetensors file as a dict of NumPy arrays (in
    the file's order); with metadata=True, (tensors, the __metadata__ dict).
    Raises ValueError naming the file and what is wrong with it."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: %d bytes, too short for a safetensors header" % (path, len(raw)))
    (n,) = struct.unpack("<Q", raw[:8])
    if n > min(len(raw) - 8, _MAX_HEADER):
        raise ValueError("%s: header length %d exceeds the file (%d bytes)" % (path, n, len(raw)))
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("%s: the header is not JSON: %s" % (path, e)) from None
    if not isinstance(header, dict):
        raise ValueError("%s: the header is not a JSON object" % path)
    meta = header.pop("__metadata__", {}) or {}
    data = memoryview(raw)[8 + n:]
    out, spans = {}, []
    for name, info in header.items():
        try:
            dtype, shape, (begin, end) = info["dtype"], [int(d) for d in info["shape"]], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise ValueError("%s: tensor %r lacks dtype, shape or data_offsets" % (path, name)) from None
        if dtype not in _DTYPES:
            raise ValueError("%s: tensor %r has dtype %s, which NumPy cannot hold" % (path, name, dtype))
        dt = np.dtype(_DTYPES[dtype])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if any(d < 0 for d in shape) or not 0 <= begin <= end <= len(data) or end - begin != count * dt.itemsize:
            raise ValueError("%s: tensor %r: offsets [%d, %d] do not hold %s of shape %s in %d bytes of data"
                             % (path, name, begin, end, dtype, shape, len(data)))
        spans.append((begin, end, name))
        out[name] = np.frombuffer(data[begin:end], dtype=dt).reshape(shape).copy()
    spans.sort()
    for (b0, e0, n0), (b1, _, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise ValueError("%s: tensors %r and %r overlap" % (path, n0, n1))
    return (out, dict(meta)) if metadata else out


def save(path, tensors, metadata=None):
    """Writes a dict of arrays (in its order) and string metadata as a
    .safetensors file, atomically (a temporary file renamed over path)."""
    path = os.fspath(path)
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        a = np.asarray(a)
        dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if dt not in _NAMES:
            raise ValueError("tensor %r: dtype %s has no safetensors name" % (name, a.dtype))
        b = np.ascontiguousarray(a, dtype=dt).tobytes()
        header[name] = {"dtype": _NAMES[dt], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        bad = [k for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise ValueError("metadata: keys and values must be strings (%r)" % bad[0])
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data aligned to 8 bytes
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp.", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for b in blobs:
                f.write(b)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
