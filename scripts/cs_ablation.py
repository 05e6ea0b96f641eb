#!/usr/bin/env python3
"""cs_ablation.py OUT: the tables of the circuit-stability ablation that
scripts/cs_ablation.sh ran into OUT (docs/circuits.md).

Study (OUT/study/sSEED/METHOD-LOSS-CORRUPT/results.csv, quick grid): per
probe configuration, pooled over the base seeds,
  rho      Spearman of CS with forgetting over every checkpoint, with a 95%
           interval from 1000 bootstrap resamples of whole runs (all of a
           run's checkpoints together; seeds are runs too);
  rho - random  the same for CS minus its random-split baseline (does CS
           fall beyond what random groups of the same images show?);
  low/high mean CS over checkpoints with forgetting < 0.05 / > 0.30;
  excess   mean CS - circuit_stability_random (its random-split baseline)
           at low / high forgetting.
Grokking (OUT/grok/PRESET-sSEED/circuits/epoch_N/METHOD-LOSS-CORRUPT-SUB/):
per configuration and subtask split, CS and CS - baseline at the first
snapshot after memorisation and at the last snapshot, per seed, and their
change. Prints Markdown tables."""
import csv
import glob
import json
import os
import sys

import numpy as np


def ranks(x):
    o = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[o] = np.arange(1, len(x) + 1)
    _, inv = np.unique(x, return_inverse=True)
    return (np.bincount(inv, r) / np.bincount(inv))[inv]


def spearman(x, y):
    if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def study(out):
    rows = {}
    for path in sorted(glob.glob(f"{out}/study/s*/*/results.csv")):
        seed = path.split("/")[-3]
        cfg = path.split("/")[-2]
        with open(path) as f:
            for r in csv.DictReader(f):
                rows.setdefault(cfg, []).append((seed + "/" + r["run_id"], float(r["forgetting"]),
                                                 float(r["circuit_stability"]), float(r["circuit_stability_random"])))
    if not rows:
        return
    seeds = sorted({p.split("/")[-3] for p in glob.glob(f"{out}/study/s*/*/results.csv")})
    print(f"### Study: quick grid, base seeds {', '.join(s[1:] for s in seeds)}\n")
    print("| probe (method, loss, corruption) | Spearman(CS, forgetting) [95%] | Spearman(CS - random, "
          "forgetting) [95%] | CS, forgetting < 0.05 | CS, forgetting > 0.30 | CS - random, < 0.05 | "
          "CS - random, > 0.30 | n |")
    print("|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for cfg, rs in rows.items():
        run = np.array([r[0] for r in rs])
        f = np.array([r[1] for r in rs])
        cs = np.array([r[2] for r in rs])
        base = np.array([r[3] for r in rs])
        runs = np.unique(run)
        idx = {u: np.flatnonzero(run == u) for u in runs}
        ex = cs - base
        boot, bootx = [], []
        for _ in range(1000):
            pick = np.concatenate([idx[u] for u in rng.choice(runs, len(runs))])
            boot.append(spearman(f[pick], cs[pick]))
            bootx.append(spearman(f[pick], ex[pick]))
        lo, hi = np.nanpercentile(boot, [2.5, 97.5])
        xlo, xhi = np.nanpercentile(bootx, [2.5, 97.5])
        low, high = f < 0.05, f > 0.30
        print(f"| {cfg.replace('-counterfactual', ' counterfactual').replace('-within', ' within')} "
              f"| {spearman(f, cs):+.2f} [{lo:+.2f}, {hi:+.2f}] | {spearman(f, ex):+.2f} [{xlo:+.2f}, {xhi:+.2f}] "
              f"| {cs[low].mean():.3f} | {cs[high].mean():.3f} "
              f"| {ex[low].mean():+.3f} | {ex[high].mean():+.3f} | {len(f)} |")
    print()


def grok(out):
    for preset in ("quick", "nanda"):
        runs = sorted(glob.glob(f"{out}/grok/{preset}-s*"))
        runs = [r for r in runs if os.path.isdir(f"{r}/circuits")]
        if not runs:
            continue
        info = {}
        for r in runs:
            s = json.load(open(f"{r}/summary.json"))
            snaps = sorted(int(os.path.basename(p)[6:12]) for p in glob.glob(f"{r}/snapshots/*.safetensors"))
            mem = s["memorized_epoch"]
            first = min((e for e in snaps if e >= mem), default=None)
            info[r] = (s["memorized_epoch"], s["grokked_epoch"], first, snaps[-1] if snaps else None)
        print(f"### Grokking, {preset} preset, seeds {', '.join(r.split('-s')[-1] for r in runs)}\n")
        for r, (mem, grk, first, last) in info.items():
            print(f"- seed {r.split('-s')[-1]}: memorised at epoch {mem}, grokked at {grk}; "
                  f"snapshots compared: {first} (after memorisation) and {last} (end)")
        print()
        cfgs = sorted({os.path.basename(p) for r in runs for p in glob.glob(f"{r}/circuits/*/*")})
        print("| probe, split | CS after memorisation | CS at the end | change | CS - random after memorisation "
              "| CS - random at the end |")
        print("|---|---|---|---|---|---|")
        for cfg in cfgs:
            vals = []
            for r, (mem, grk, first, last) in info.items():
                try:
                    a = json.load(open(f"{r}/circuits/epoch_{first:06d}/{cfg}/summary.json"))
                    b = json.load(open(f"{r}/circuits/epoch_{last:06d}/{cfg}/summary.json"))
                except (OSError, TypeError):
                    continue
                vals.append((a["cs"], b["cs"], a["cs"] - a["cs_random"], b["cs"] - b["cs_random"]))
            if not vals:
                continue
            v = np.array(vals, dtype=float)

            def cell(col):
                x = v[:, col]
                return f"{x.mean():+.3f} ({x.min():+.3f} to {x.max():+.3f})" if len(x) > 1 else f"{x[0]:+.3f}"

            ch = v[:, 1] - v[:, 0]
            change = f"{ch.mean():+.3f} ({ch.min():+.3f} to {ch.max():+.3f})" if len(ch) > 1 else f"{ch[0]:+.3f}"
            print(f"| {cfg} | {cell(0)} | {cell(1)} | {change} | {cell(2)} | {cell(3)} |")
        print("\n(mean over seeds, range min to max in brackets)\n")


def main():
    out = sys.argv[1]
    study(out)
    grok(out)


if __name__ == "__main__":
    main()
