#!/usr/bin/env python3
"""make_tf_fixture.py: the PyTorch reference that test_transformer.c checks
the C transformer against.

Regenerate (from the repository root; needs Debian's python3-torch):

    /usr/bin/python3 tests/nn/make_tf_fixture.py

It overwrites tests/nn/tf_fixture.safetensors. Two configurations, prefixed
"a." and "b.":
  a: 2 layers, pre-LayerNorm, GELU, loss at every position
  b: 1 layer, no LayerNorm, ReLU, loss at the last position only (the
     grokking model's shape, small)
For each: the parameters under forgetlab's names (see transformer.h), the
tokens tok [B,T] and labels y [B,Tq] (as F32), the logits, the mean
cross-entropy over the output positions, and its gradient w.r.t. every
parameter (grad.<name>). The model runs in float64 and is stored in
float32, so the reference gradients are exact to float32 rounding.
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_fixture import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_fixture.safetensors")


class Block(nn.Module):
    def __init__(self, d, heads, d_mlp, act, ln):
        super().__init__()
        self.heads, self.ln = heads, ln
        if ln:
            self.ln1 = nn.LayerNorm(d)
            self.ln2 = nn.LayerNorm(d)
        self.attn = nn.ModuleDict({k: nn.Linear(d, d) for k in "qkvo"})
        self.mlp = nn.ModuleDict({"fc_in": nn.Linear(d, d_mlp), "fc_out": nn.Linear(d_mlp, d)})
        self.act = act

    def forward(self, x):
        B, T, d = x.shape
        hs = d // self.heads
        h = self.ln1(x) if self.ln else x
        q, k, v = (self.attn[n](h).view(B, T, self.heads, hs).transpose(1, 2) for n in "qkv")
        s = q @ k.transpose(-1, -2) / math.sqrt(hs)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        a = torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1)
        z = (a @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.attn["o"](z)
        h2 = self.ln2(x) if self.ln else x
        return x + self.mlp["fc_out"](self.act(self.mlp["fc_in"](h2)))


class Transformer(nn.Module):
    def __init__(self, vocab, n_out, ctx, layers, d, heads, d_mlp, act, ln, last):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos_embed = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList([Block(d, heads, d_mlp, act, ln) for _ in range(layers)])
        self.ln = ln
        if ln:
            self.ln_f = nn.LayerNorm(d)
        self.unembed = nn.Linear(d, n_out)
        self.last = last

    def forward(self, tok):
        x = self.embed(tok) + self.pos_embed.weight[: tok.shape[1]]
        for blk in self.blocks:
            x = blk(x)
        if self.last:
            x = x[:, -1:, :]
        return self.unembed(self.ln_f(x) if self.ln else x)


def case(prefix, B, vocab, n_out, ctx, layers, d, heads, d_mlp, act, ln, last):
    model = Transformer(vocab, n_out, ctx, layers, d, heads, d_mlp, act, ln, last).double()
    # Non-trivial LayerNorm parameters, so their gradients are tested too.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".ln" in name or name.startswith("ln_f"):
                p.add_(0.3 * torch.randn_like(p))
    tok = torch.randint(0, vocab, (B, ctx))
    Tq = 1 if last else ctx
    y = torch.randint(0, n_out, (B, Tq))
    logits = model(tok)
    loss = F.cross_entropy(logits.reshape(-1, n_out), y.reshape(-1))
    loss.backward()
    out = []
    for name, p in model.named_parameters():
        out.append((prefix + name, p.detach()))
        out.append((prefix + "grad." + name, p.grad.detach()))
    out += [(prefix + "tok", tok.double()), (prefix + "y", y.double()),
            (prefix + "logits", logits.detach()), (prefix + "loss", loss.detach().reshape(1))]
    spec = "ctx=%d layers=%d d_model=%d heads=%d d_mlp=%d act=%s ln=%d last=%d vocab=%d n_out=%d" % (
        ctx, layers, d, heads, d_mlp, "gelu" if act is F.gelu else "relu", ln, last, vocab, n_out)
    return out, spec


def main():
    torch.manual_seed(20261129)
    ta, sa = case("a.", 3, 11, 7, 5, 2, 12, 3, 20, F.gelu, 1, 0)
    tb, sb = case("b.", 4, 9, 8, 3, 1, 16, 4, 24, F.relu, 0, 1)
    write_safetensors(OUT, ta + tb, {"a": sa, "b": sb})
    print("wrote %s (%d tensors)" % (OUT, len(ta) + len(tb)))


if __name__ == "__main__":
    main()
