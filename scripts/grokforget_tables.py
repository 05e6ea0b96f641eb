#!/usr/bin/python3
"""grokforget_tables.py: a grok-forget study's tables as Markdown, straight
from its results.csv (both phases), predictors.csv and methods.csv and its
bases' summary.json (for docs/grok-forget.md, so that no number is copied by
hand).

    scripts/grokforget_tables.py STUDY_DIR

Printed: per seed, circuit stability minus its random-split baseline (by a
and by answer) and the key frequencies' share at memorisation, at grokking
and at the end of the grokking phase, and the epochs at which accuracy and
each measure had made half of their change (which leads); the methods'
final checkpoints (means over seeds); within-run Spearman correlations of
each circuit measure with forgetting (mean over runs, 95% interval over
resampled runs); the predictors' R^2 with their intervals.
"""
import collections
import csv
import json
import os
import sqlite3
import sys

import numpy as np


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def f(v):
    return float("nan") if v in ("", None) else float(v)


def num(v, fmt="{:.3f}"):
    return "-" if v != v else fmt.format(v)


def half_way(epochs, vals, start):
    """The first epoch >= start at which vals has made half of its change
    from its value at start to its last value."""
    pts = [(e, v) for e, v in zip(epochs, vals) if e >= start and v == v]
    if len(pts) < 2:
        return float("nan")
    v0, v1 = pts[0][1], pts[-1][1]
    for e, v in pts:
        if (v - v0) * np.sign(v1 - v0) >= abs(v1 - v0) / 2:
            return e
    return float("nan")


def at(epochs, vals, e):
    """The value at the first measured epoch >= e."""
    for x, v in zip(epochs, vals):
        if x >= e and v == v:
            return v
    return float("nan")


def spearman(x, y):
    x, y = np.asarray(x), np.asarray(y)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    rx, ry = x.argsort().argsort(), y.argsort().argsort()
    return float(np.corrcoef(rx, ry)[0, 1])


def main(d):
    res = rows(os.path.join(d, "results.csv"))
    db = sqlite3.connect(os.path.join(d, "results.sqlite"))
    bases = dict(db.execute("SELECT key, value FROM study WHERE key LIKE 'base_s%'").fetchall())
    grok = collections.defaultdict(list)
    for r in res:
        if r["phase"] == "grok":
            grok[int(r["seed"])].append(r)
    print("## Grokking phase, per seed\n")
    print("| seed | memorised | grokked | CS by a - baseline: mem / grok / end | by answer: mem / grok / end "
          "| Fourier share: mem / grok / end | half-way epoch: accuracy, CS by a, CS by answer, share |")
    print("|---|---|---|---|---|---|---|")
    for s in sorted(grok):
        g = sorted(grok[s], key=lambda r: f(r["epoch"]))
        summ = json.load(open(os.path.join(bases[f"base_s{s}"], "summary.json")))
        mem, gk = summ["memorized_epoch"], summ["grokked_epoch"]
        ep = [f(r["epoch"]) for r in g]
        cols = {k: [f(r[k]) for r in g] for k in ("old_acc", "cs_by_a_excess", "cs_by_answer_excess", "fourier_share")}
        three = lambda k: " / ".join(num(v) for v in (at(ep, cols[k], mem), at(ep, cols[k], gk), cols[k][-1]))
        halves = ", ".join(num(half_way(ep, cols[k], mem), "{:.0f}") for k in cols)
        print(f"| {s} | {mem} | {gk} | {three('cs_by_a_excess')} | {three('cs_by_answer_excess')} "
              f"| {three('fourier_share')} | {halves} |")

    ft = [r for r in res if r["phase"] == "finetune"]
    last = {}
    for r in ft:
        k = (r["method"], f(r["lr"]), r["seed"])
        if k not in last or f(r["epoch"]) > f(last[k]["epoch"]):
            last[k] = r
    print("\n## Final checkpoints (means over seeds)\n")
    keys = ["new_acc", "old_acc", "forgetting", "forward_kl_new", "kl_outcome", "kl_within_wrong", "weight_l1",
            "cs_by_a_excess", "cs_by_answer_excess", "fourier_share"]
    print("| method | lr | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    order = ["sft1", "sft2", "oracle", "grpo", "grpo-kl", "reinforce"]
    groups = collections.defaultdict(list)
    for (m, lr, _), r in last.items():
        groups[(m, lr)].append(r)
    for (m, lr) in sorted(groups, key=lambda k: (order.index(k[0]) if k[0] in order else 99, k[1])):
        vals = [np.nanmean([f(r[k]) for r in groups[(m, lr)]]) for k in keys]
        print(f"| {m} | {lr:g} | " + " | ".join(num(v, "{:.2f}" if k.startswith(("forward_kl", "kl_")) else
                                                    "{:.0f}" if k == "weight_l1" else "{:.3f}")
                                                for k, v in zip(keys, vals)) + " |")

    print("\n## Within-run Spearman correlation with forgetting (mean over runs, 95% over resampled runs)\n")
    runs = collections.defaultdict(list)
    for r in ft:
        runs[r["run_id"]].append(r)
    rng = np.random.default_rng(0)
    print("| measure | mean | 95% interval | runs |")
    print("|---|---|---|---|")
    for k in ("cs_by_a_excess", "cs_by_answer_excess", "fourier_share", "forward_kl_new"):
        rho = np.array([spearman([f(r[k]) for r in rs], [f(r["forgetting"]) for r in rs]) for rs in runs.values()])
        rho = rho[np.isfinite(rho)]
        boot = [rng.choice(rho, len(rho)).mean() for _ in range(2000)]
        print(f"| {k} | {rho.mean():+.3f} | [{np.percentile(boot, 2.5):+.3f}, {np.percentile(boot, 97.5):+.3f}] "
              f"| {len(rho)} |")

    print("\n## Predictors of forgetting (pooled over methods; run-level intervals)\n")
    print("| predictor | side | R^2 | 95% interval | leave-one-method-out | Spearman | in regime (n) "
          "| beyond the rate |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows(os.path.join(d, "predictors.csv")):
        print(f"| {r['predictor']} | {r['side']} | {f(r['r2']):.3f} | [{f(r['r2_lo']):.3f}, {f(r['r2_hi']):.3f}] "
              f"| {f(r['r2_lomo']):.3f} | {f(r['spearman']):+.3f} | {f(r['r2_regime']):.3f} ({r['n_regime']}) "
              f"| {f(r['r2_partial_lr']):.3f} [{f(r['r2_partial_lr_lo']):.3f}, {f(r['r2_partial_lr_hi']):.3f}] |")
    print("\n## Old-task accuracy at matched new-task accuracy (best checkpoint reaching the level; 95% over runs)\n")
    meth = rows(os.path.join(d, "methods.csv"))
    levels = [k[len("prior_at_"):] for k in meth[0] if k.startswith("prior_at_") and not k.endswith(("_lo", "_hi"))]
    print("| method | runs | best new-task accuracy | " + " | ".join(f"at {t}" for t in levels) + " |")
    print("|---|---|---|" + "---|" * len(levels))
    for r in meth:
        cells = [f"{num(f(r['prior_at_' + t]))} [{num(f(r['prior_at_' + t + '_lo']))}, "
                 f"{num(f(r['prior_at_' + t + '_hi']))}]" if r["prior_at_" + t] else "-" for t in levels]
        print(f"| {r['method']} | {r['runs']} | {num(f(r['best_new']))} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
