"""torch_gpt.py: the GPT that the PyTorch side of bench/gpt.sh times, shared
by torch_gpt_step.py and torch_gpt_sample.py so both time the same model:
nanoGPT's layout (tied head, exact GELU), float32 on the CPU, initialised as
forgetlab initialises it. Each script subclasses Block and GPT with its own
forward pass (training under a causal mask; sampling with a key/value
cache), and reads its integer options with int_options."""
import argparse

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.H = H
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def qkv(self, x):
        """The queries, keys and values of x [b, t, C], each [b, H, t, C/H]."""
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        return (z.view(b, t, self.H, c // self.H).transpose(1, 2) for z in (q, k, v))


class GPT(nn.Module):
    block = Block  # a subclass names its own

    def __init__(self, V, T, L, C, H):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList([self.block(C, H) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)


def int_options(defaults):
    """The options --NAME N, one per (NAME, default) pair; torch's intra-op
    threads set to --threads."""
    ap = argparse.ArgumentParser()
    for k, v in defaults:
        ap.add_argument("--" + k, type=int, default=v)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    return a


def make_model(cls, a):
    """cls (a GPT) over bytes with a's ctx, layers, embd and heads, made after
    torch.manual_seed(1) (so both sides of a comparison start alike), its
    matrices redrawn as GPT-2 initialises them, as forgetlab does."""
    torch.manual_seed(1)
    m = cls(256, a.ctx, a.layers, a.embd, a.heads)
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.02)
    return m
