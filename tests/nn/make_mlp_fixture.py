#!/usr/bin/env python3
"""make_mlp_fixture.py: the PyTorch reference that test_mlp_torch.c checks
the C MLP, losses and optimizers against.

Regenerate (from the repository root; needs a Python with torch):

    python3 tests/nn/make_mlp_fixture.py

It overwrites tests/nn/mlp_fixture.safetensors. The values depend on torch's
RNG, so regenerating with another torch version may change the numbers but
not what they mean; commit the new fixture together with any change here.

Contents (all float32; labels stored as F32 too, since the C reader is
F32-only):
  layers.{0,1,2}.{weight,bias}    initial parameters of spec 13-7-5-4
                                  (nn.Sequential indexes 0,2,4 renamed to
                                  forgetlab's count of Linear layers)
  x [6,13], y [6], q [6,4]        batch, hard labels, soft targets (row 2 of
                                  q has an exact zero entry)
  logits [6,4]
  loss_hard [1], loss_soft [1]    mean cross-entropy, hard and soft targets
  grad_hard.<param>, grad_hard.x  gradients of loss_hard
  grad_soft.<param>, grad_soft.x  gradients of loss_soft
  adamw.<param>                   params after one AdamW step on grad_hard
  sgd.<param>                     params after 3 SGD-momentum steps, each on
                                  the same fixed grad_hard

The file is written by hand (struct + json) rather than with the
safetensors package so the script needs nothing beyond torch, and so the
exact header layout the C reader must accept is spelled out here.
"""
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

SPEC = [13, 7, 5, 4]
B = 6
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlp_fixture.safetensors")

ADAMW = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
SGD = dict(lr=0.1, momentum=0.9, weight_decay=0.01)
SGD_STEPS = 3


def build_model():
    mods = []
    for i in range(len(SPEC) - 1):
        mods.append(nn.Linear(SPEC[i], SPEC[i + 1]))
        if i < len(SPEC) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def named_params(model):
    """(forgetlab name, parameter) pairs: Sequential index 0,2,4 -> layers.0,1,2."""
    out = []
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for i, lin in enumerate(linears):
        out.append((f"layers.{i}.weight", lin.weight))
        out.append((f"layers.{i}.bias", lin.bias))
    return out


def grads_of(model, x, loss_fn):
    """Loss and its gradients w.r.t. every parameter and the input x."""
    model.zero_grad(set_to_none=True)
    xg = x.clone().requires_grad_(True)
    loss = loss_fn(model(xg))
    loss.backward()
    g = {name: p.grad.detach().clone() for name, p in named_params(model)}
    g["x"] = xg.grad.detach().clone()
    return loss.detach().clone(), g


def optimized(model, grads, make_opt, steps):
    """Params after `steps` optimizer steps from the initial params, each
    step on the same fixed gradient (re-assigned, since step() does not
    touch .grad but a fresh assignment makes the intent plain)."""
    clone = build_model()
    clone.load_state_dict(model.state_dict())
    params = named_params(clone)
    opt = make_opt([p for _, p in params])
    for _ in range(steps):
        for name, p in params:
            p.grad = grads[name].clone()
        opt.step()
    return {name: p.detach().clone() for name, p in params}


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, float32 tensor). Offsets are relative to the
    start of the data section; the header is space-padded to a multiple of 8
    so the data section stays 8-byte aligned, as the format recommends."""
    header, blobs, off = {}, [], 0
    for name, t in tensors:
        t = t.detach().to(torch.float32).contiguous()
        raw = struct.pack("<%df" % t.numel(), *t.flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = metadata
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def main():
    torch.manual_seed(20250611)
    model = build_model()
    x = torch.randn(B, SPEC[0])
    y = torch.randint(0, SPEC[-1], (B,))
    q = torch.softmax(2.0 * torch.randn(B, SPEC[-1]), dim=1)
    # One row puts no mass on a class: the C loss must treat 0*log p as 0 and
    # its gradient must still be p*sum(q) - q there.
    q[2, 1] = 0.0
    q[2] /= q[2].sum()

    with torch.no_grad():
        logits = model(x)
    loss_hard, g_hard = grads_of(model, x, lambda z: F.cross_entropy(z, y))
    loss_soft, g_soft = grads_of(
        model, x, lambda z: -(q * F.log_softmax(z, dim=1)).sum(dim=1).mean())

    adamw = optimized(model, g_hard, lambda ps: torch.optim.AdamW(ps, **ADAMW), 1)
    sgd = optimized(model, g_hard, lambda ps: torch.optim.SGD(ps, **SGD), SGD_STEPS)

    init = [(name, p) for name, p in named_params(model)]
    pnames = [name for name, _ in init]
    tensors = list(init)
    tensors += [("x", x), ("y", y.to(torch.float32)), ("q", q), ("logits", logits),
                ("loss_hard", loss_hard.reshape(1)), ("loss_soft", loss_soft.reshape(1))]
    tensors += [("grad_hard." + n, g_hard[n]) for n in pnames + ["x"]]
    tensors += [("grad_soft." + n, g_soft[n]) for n in pnames + ["x"]]
    tensors += [("adamw." + n, adamw[n]) for n in pnames]
    tensors += [("sgd." + n, sgd[n]) for n in pnames]

    meta = {
        "spec": "-".join(map(str, SPEC)),
        "adamw": "lr=%g beta1=%g beta2=%g eps=%g weight_decay=%g steps=1" % (
            ADAMW["lr"], ADAMW["betas"][0], ADAMW["betas"][1], ADAMW["eps"],
            ADAMW["weight_decay"]),
        "sgd": "lr=%g momentum=%g weight_decay=%g steps=%d" % (
            SGD["lr"], SGD["momentum"], SGD["weight_decay"], SGD_STEPS),
    }
    write_safetensors(OUT, tensors, meta)
    print("wrote %s (%d tensors, %d bytes)" % (OUT, len(tensors), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
