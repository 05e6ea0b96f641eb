#!/usr/bin/env python3
"""make_gpt_fixture.py: the PyTorch reference that test_gpt.c checks the C
language model against: nanoGPT's GPT layout (the same module names, so the
weights load by name), run in float64.

Regenerate (from the repository root; needs Debian's python3-torch):

    /usr/bin/python3 tests/nn/make_gpt_fixture.py

It writes tests/nn/gpt_fixture.safetensors: the parameters under nanoGPT's
names (lm_head tied to wte, so not stored), tokens tok [B,T], targets
[B,T] and a mask [B,T] (as F32), the logits [B,T,V], the masked mean
cross-entropy, and its gradient w.r.t. every parameter (grad.<name>).
T is below the context, so positions beyond T are never used.
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_fixture import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt_fixture.safetensors")
V, CTX, L, C, NH, B, T = 23, 8, 2, 16, 4, 3, 7


class Attn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (z.view(b, t, NH, C // NH).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // NH)
        att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        return self.c_proj((att @ v).transpose(1, 2).reshape(b, t, C))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C)
        self.c_proj = nn.Linear(4 * C, C)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.attn, self.ln_2, self.mlp = nn.LayerNorm(C), Attn(), nn.LayerNorm(C), MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(wte=nn.Embedding(V, C), wpe=nn.Embedding(CTX, C),
                                              h=nn.ModuleList([Block() for _ in range(L)]), ln_f=nn.LayerNorm(C)))
        self.lm_head = nn.Linear(C, V, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied

    def forward(self, tok):
        t = tok.shape[1]
        x = self.transformer.wte(tok) + self.transformer.wpe(torch.arange(t))
        for blk in self.transformer.h:
            x = blk(x)
        return self.lm_head(self.transformer.ln_f(x))


def main():
    torch.manual_seed(20261130)
    model = GPT().double()
    with torch.no_grad():  # non-trivial LayerNorms and larger weights than GPT-2's init
        for name, p in model.named_parameters():
            p.copy_(torch.randn_like(p) * (0.3 if "weight" in name else 0.1) + (1.0 if "ln" in name and "weight" in name else 0))
    tok = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T))
    mask = (torch.rand(B, T) < 0.7).double()
    mask[0, 0] = 1.0
    logits = model(tok)
    ce = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="none")
    loss = (ce * mask.reshape(-1)).sum() / mask.sum()
    loss.backward()
    tensors = [(n, p) for n, p in model.named_parameters()]
    tensors += [("tok", tok.double()), ("targets", targets.double()), ("mask", mask), ("logits", logits),
                ("loss", loss.reshape(1))]
    tensors += [("grad." + n, p.grad) for n, p in model.named_parameters()]
    write_safetensors(OUT, tensors, {"vocab": str(V), "ctx": str(CTX), "n_layer": str(L), "n_embd": str(C),
                                     "n_head": str(NH), "B": str(B), "T": str(T)})
    print(f"wrote {OUT}: loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
