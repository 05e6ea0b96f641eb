#!/usr/bin/env python3
"""torch_continual.py: the PyTorch counterpart of bench_continual.c: the same
Permuted MNIST sequence (the arrays bench_continual --dump 1 wrote) learnt by
naive fine-tuning: per task a new AdamW (lr 1e-3, weight decay 0), one epoch
of shuffled minibatches on an MLP 784-400-400-10 (PyTorch's default
initialisation, as forgetlab's), then every task's test set scored.

    python3 bench/torch_continual.py --data DIR [--tasks T] [--epochs E] [--batch B]
                                     [--repeats R] [--threads K]

Prints one JSON line in bench_continual's format."""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def percentile(sorted_vals, pct):
    pos = pct / 100.0 * (len(sorted_vals) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (pos - lo) * (sorted_vals[hi] - sorted_vals[lo])


def load(d, what, t):
    x = torch.from_numpy(np.load(os.path.join(d, "%s_x_%d.npy" % (what, t))))
    y = torch.from_numpy(np.load(os.path.join(d, "%s_y_%d.npy" % (what, t))).astype(np.int64))
    return x, y


def sequence(train, test, epochs, batch, gen):
    model = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 400), nn.ReLU(), nn.Linear(400, 10))
    T = len(train)
    R = np.zeros((T, T))
    for t, (x, y) in enumerate(train):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
        for _ in range(epochs):
            order = torch.randperm(len(y), generator=gen)
            for i in range(0, len(y), batch):
                idx = order[i:i + batch]
                opt.zero_grad()
                F.cross_entropy(model(x[idx]), y[idx]).backward()
                opt.step()
        with torch.no_grad():
            for i, (xt, yt) in enumerate(test):
                R[t, i] = (model(xt).argmax(1) == yt).float().mean().item()
    return R[-1].mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="0: all cores")
    a = ap.parse_args()
    threads = a.threads or os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    train = [load(a.data, "train", t) for t in range(a.tasks)]
    test = [load(a.data, "test", t) for t in range(a.tasks)]
    times, acc = [], 0.0
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        acc = sequence(train, test, a.epochs, a.batch, gen)
        times.append(1e3 * (time.perf_counter() - t0))
    times.sort()
    print(json.dumps({"impl": "torch", "tasks": a.tasks, "per_task": len(train[0][1]), "epochs": a.epochs,
                      "batch": a.batch, "threads": threads, "repeats": a.repeats,
                      "median_ms": round(percentile(times, 50), 2), "p10_ms": round(percentile(times, 10), 2),
                      "p90_ms": round(percentile(times, 90), 2), "avg_acc": round(float(acc), 4)}))


if __name__ == "__main__":
    main()
