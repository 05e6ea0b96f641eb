#!/usr/bin/env python3
"""torch_gpt_sample.py: PyTorch's side of bench/gpt.sh sample: batched
sampling from the same GPT (nanoGPT's layout, exact GELU, tied head) with a
key/value cache, float32 on the CPU under torch.no_grad(): the prompts in
one forward pass that fills the cache, then one token per step for every
sequence, temperature 1, no stop, each sampled token's log-probability kept.
Prints one JSON line like build/bench_gpt_sample."""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # importing torch_gpt leaves no bench/__pycache__ in the tree
import torch_gpt  # noqa: E402 (after the line above)


class Block(torch_gpt.Block):
    def forward(self, x, cache):
        """x [b, t, C], the positions after the cache's; cache: [k, v] or [None, None]."""
        b, t, c = x.shape
        q, k, v = self.qkv(x)
        if cache[0] is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        cache[0], cache[1] = k, v
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.H)
        if t > 1:  # the prompt: causal; one new token sees every cached key
            att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
        x = x + self.c_proj((att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(torch_gpt.GPT):
    block = Block

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
    a = torch_gpt.int_options((("batch", 64), ("prompt", 16), ("new", 64), ("ctx", 128), ("layers", 4),
                               ("embd", 128), ("heads", 4), ("repeat", 10), ("threads", 1)))
    m = torch_gpt.make_model(GPT, a).eval()
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
