#!/usr/bin/env python3
"""torch_grok_epoch.py: the PyTorch counterpart of a `forgetlab grok` epoch:
the same one-layer transformer (the class tests/nn/make_tf_fixture.py
checks forgetlab against), trained full batch with AdamW on the training
split of a + b mod p, timed per epoch (zero grads, forward, cross-entropy at
the last position, backward, AdamW step) on the CPU.

    /usr/bin/python3 bench/torch_grok_epoch.py [--p 113] [--frac 0.3]
        [--d-model 128] [--heads 4] [--d-mlp 512] [--epochs 40] [--warmup 5]
        [--threads T]

Prints one JSON line: median, p10 and p90 of the epoch times in ms. As in
Nanda et al.'s code, the blocks run at every position and the loss reads
the last one.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "nn"))
from make_tf_fixture import Transformer  # noqa: E402


def percentile(sorted_vals, pct):
    pos = pct / 100.0 * (len(sorted_vals) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (pos - lo) * (sorted_vals[hi] - sorted_vals[lo])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--p", type=int, default=113)
    ap.add_argument("--frac", type=float, default=0.3)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-mlp", type=int, default=512)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    p = a.p
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    tok = torch.cat([pairs, torch.full((p * p, 1), p)], dim=1)
    y = (pairs[:, 0] + pairs[:, 1]) % p
    idx = torch.randperm(p * p)[: int(a.frac * p * p)]
    xtr, ytr = tok[idx], y[idx]
    model = Transformer(p + 1, p, 3, 1, a.d_model, a.heads, a.d_mlp, F.relu, 0, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))
    times = []
    for e in range(a.warmup + a.epochs):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xtr)[:, -1, :], ytr)
        loss.backward()
        opt.step()
        if e >= a.warmup:
            times.append(1000.0 * (time.perf_counter() - t0))
    times.sort()
    print(json.dumps({"impl": "torch", "threads": a.threads, "n_train": len(idx), "epochs": a.epochs,
                      "median_ms": round(percentile(times, 50), 3), "p10_ms": round(percentile(times, 10), 3),
                      "p90_ms": round(percentile(times, 90), 3)}, separators=(",", ":")))


if __name__ == "__main__":
    main()
