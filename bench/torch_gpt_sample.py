#!/usr/bin/env python3
"""torch_gpt_sample.py: PyTorch's side of bench/gpt.sh sample: batched
sampling from the same GPT (nanoGPT's layout, exact GELU, tied head) with a
key/value cache, float32 on the CPU under torch.no_grad(): the prompts in
one forward pass that fills the cache, then one token per step for every
sequence, temperature 1, no stop, each sampled token's log-probability kept.
Prints one JSON line like build/bench_gpt_sample."""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.H = H
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x, cache):
        """x [b, t, C], the positions after the cache's; cache: [k, v] or [None, None]."""
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.H, c // self.H).transpose(1, 2) for z in (q, k, v))
        if cache[0] is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        cache[0], cache[1] = k, v
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.H)
        if t > 1:  # the prompt: causal; one new token sees every cached key
            att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
        x = x + self.c_proj((att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, V, T, L, C, H):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList([Block(C, H) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)

    def forward(self, tok, pos0, caches):
        x = self.wte(tok) + self.wpe(torch.arange(pos0, pos0 + tok.shape[1]))
        for blk, cache in zip(self.h, caches):
            x = blk(x, cache)
        return self.ln_f(x[:, -1]) @ self.wte.weight.t()

    @torch.no_grad()
    def sample(self, prompts, new, gen):
        caches = [[None, None] for _ in self.h]
        logits = self(prompts, 0, caches)
        out, logp = [], []
        for s in range(new):
            lp = F.log_softmax(logits, dim=-1)
            tok = torch.multinomial(lp.exp(), 1, generator=gen)
            out.append(tok)
            logp.append(lp.gather(1, tok))
            if s + 1 < new:
                logits = self(tok, prompts.shape[1] + s, caches)
        return torch.cat(out, 1), torch.cat(logp, 1)


def main():
    ap = argparse.ArgumentParser()
    for k, v in (("batch", 64), ("prompt", 16), ("new", 64), ("ctx", 128), ("layers", 4), ("embd", 128),
                 ("heads", 4), ("repeat", 10), ("threads", 1)):
        ap.add_argument("--" + k, type=int, default=v)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    m = GPT(256, a.ctx, a.layers, a.embd, a.heads).eval()
    with torch.no_grad():  # GPT-2's initialisation, as forgetlab's
        for p in m.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.02)
    prompts = torch.randint(0, 256, (a.batch, a.prompt))
    gen = torch.Generator().manual_seed(7)
    times, tokens = [], 0
    for r in range(a.repeat + 1):  # the first: warm-up
        t0 = time.perf_counter()
        out, logp = m.sample(prompts, a.new, gen)
        if r:
            times.append(1e3 * (time.perf_counter() - t0))
        tokens += out.numel()
    t = np.array(times)
    print(json.dumps({"impl": "torch", "params": sum(p.numel() for p in m.parameters()), "batch": a.batch,
                      "prompt": a.prompt, "new": a.new, "threads": a.threads, "repeat": a.repeat,
                      "median_ms": float(np.median(t)), "p10_ms": float(np.percentile(t, 10)),
                      "p90_ms": float(np.percentile(t, 90)), "tokens": tokens}))


if __name__ == "__main__":
    main()
