#!/usr/bin/env python3
"""torch_gpt_step.py: PyTorch's side of bench/gpt.sh step: one training
step (zero grads, forward, next-byte cross-entropy at every position,
backward, AdamW) of the same GPT (nanoGPT's layout, exact GELU, tied head),
float32 on the CPU, on a fixed batch of random bytes. Prints one JSON line
like build/bench_gpt_step."""
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
    def forward(self, x, mask):
        b, t, c = x.shape
        q, k, v = self.qkv(x)
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(c // self.H)).masked_fill(mask[:t, :t], float("-inf")).softmax(-1)
        x = x + self.c_proj((att @ v).transpose(1, 2).reshape(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(torch_gpt.GPT):
    block = Block

    def __init__(self, V, T, L, C, H):
        super().__init__(V, T, L, C, H)
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), 1))

    def forward(self, tok):
        x = self.wte(tok) + self.wpe(torch.arange(tok.shape[1]))
        for blk in self.h:
            x = blk(x, self.mask)
        return self.ln_f(x) @ self.wte.weight.t()


def main():
    a = torch_gpt.int_options((("batch", 16), ("ctx", 128), ("layers", 4), ("embd", 128), ("heads", 4),
                               ("steps", 30), ("warmup", 5), ("threads", 1)))
    m = torch_gpt.make_model(GPT, a)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    tok = torch.randint(0, 256, (a.batch, a.ctx))
    tgt = torch.randint(0, 256, (a.batch, a.ctx))
    times = []
    for t in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(m(tok).reshape(-1, 256), tgt.reshape(-1))
        loss.backward()
        opt.step()
        if t >= a.warmup:
            times.append(1e3 * (time.perf_counter() - t0))
    t = np.array(times)
    print(json.dumps({"impl": "torch", "params": sum(p.numel() for p in m.parameters()), "batch": a.batch,
                      "ctx": a.ctx, "threads": a.threads, "steps": a.steps, "median_ms": float(np.median(t)),
                      "p10_ms": float(np.percentile(t, 10)), "p90_ms": float(np.percentile(t, 90)),
                      "final_loss": float(loss)}))


if __name__ == "__main__":
    main()
