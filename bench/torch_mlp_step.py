#!/usr/bin/env python3
"""torch_mlp_step.py: the PyTorch counterpart of bench_mlp_step.c, timing
the same training step of the 785-512-256-10 MLP (zero grads, forward,
cross-entropy, backward, AdamW step) on the CPU, so forgetlab's speed can be
read against the framework it replaces.

    python3 bench/torch_mlp_step.py [--batch N] [--steps K] [--warmup W] [--threads T]

Prints one JSON line in the same format as build/bench_mlp_step.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SPEC = [785, 512, 256, 10]


def percentile(sorted_vals, pct):
    """Linear interpolation between ranks (numpy's default), as in the C
    benchmark, so both summarise their samples alike."""
    pos = pct / 100.0 * (len(sorted_vals) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (pos - lo) * (sorted_vals[hi] - sorted_vals[lo])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="0: all cores")
    a = ap.parse_args()
    if a.batch < 1 or a.steps < 1 or a.warmup < 0 or a.threads < 0:
        ap.error("batch and steps must be >= 1, warmup and threads >= 0")

    threads = a.threads or os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(1)

    mods = []
    for i in range(len(SPEC) - 1):
        mods.append(nn.Linear(SPEC[i], SPEC[i + 1]))
        if i < len(SPEC) - 2:
            mods.append(nn.ReLU())
    model = nn.Sequential(*mods)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=0.01)

    # One fixed batch, as in the C benchmark: pixel-like inputs in [0, 1).
    x = torch.rand(a.batch, SPEC[0])
    y = torch.randint(0, SPEC[-1], (a.batch,))

    times = []
    loss = None
    for t in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        # Zeroing in place (not set_to_none) matches the C step's memset of
        # the gradient slab.
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if t >= a.warmup:
            times.append(1e3 * dt)
    final = loss.item()
    if not math.isfinite(final):
        raise SystemExit("torch_mlp_step: loss became %g" % final)

    times.sort()
    print(json.dumps({
        "impl": "torch", "spec": "-".join(map(str, SPEC)), "batch": a.batch,
        "threads": threads, "steps": a.steps, "warmup": a.warmup,
        "median_ms": round(percentile(times, 50), 4),
        "p10_ms": round(percentile(times, 10), 4),
        "p90_ms": round(percentile(times, 90), 4),
        "final_loss": round(final, 6),
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
