#!/usr/bin/python3
"""lm_tables.py: a language-model study's tables as Markdown, straight from
its results.csv, predictors.csv, predictors_by_lr.csv and methods.csv (for
docs/lm.md, so that no number is copied by hand).

    scripts/lm_tables.py STUDY_DIR

Printed: what each method reaches at its final checkpoint (means over seeds)
with the forward KL and its chain-rule parts; each method's best sampled
success against grpo's (the regime column); every new-side predictor's R^2
pooled, in the paper's regime, beyond the learning rate, and within each
rate; the null control (sft-self) against the other methods rate by rate;
the prior skills' NLL rise as an outcome beside exact match.
"""
import collections
import csv
import statistics
import sys

import numpy as np


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def num(v, fmt="{:.3f}"):
    return "-" if v in ("", None) or v != v else fmt.format(float(v))


def ci(r, k, fmt="{:.3f}"):
    if r.get(k, "") == "":
        return "-"
    return f"{num(r[k], fmt)} [{num(r[k + '_lo'], fmt)}, {num(r[k + '_hi'], fmt)}]"


FINAL = ["new_acc_sampled", "new_acc_train", "forgetting", "prior_nll_rise", "forward_kl_new", "forward_kl_new_train",
         "kl_outcome", "kl_within_correct", "kl_within_wrong"]


def finals(res):
    """Each run's last checkpoint."""
    last = {}
    for r in res:
        if r["run_id"] not in last or int(r["idx"]) > int(last[r["run_id"]]["idx"]):
            last[r["run_id"]] = r
    return list(last.values())


def method_table(res, order):
    by = collections.defaultdict(list)
    for r in finals(res):
        by[(r["method"], float(r["lr"]))].append(r)
    seeds = len({r["seed"] for r in res})
    print(f"Final checkpoints, means over {seeds} seed(s):\n")
    print("| method | lr | " + " | ".join(FINAL) + " |")
    print("|---|---|" + "---|" * len(FINAL))
    for m in order:
        for lr in sorted({k[1] for k in by if k[0] == m}):
            g = by[(m, lr)]
            vals = [statistics.mean(float(r[k]) for r in g) for k in FINAL]
            print(f"| {m} | {lr:g} | " + " | ".join(num(v) for v in vals) + " |")
    print()


def regime_table(meth):
    print("| method | best sampled success | of grpo's best | its gain over the bases, of grpo's | paper's regime |")
    print("|---|---|---|---|---|")
    for r in meth:
        print(f"| {r['method']} | {num(r['best_new'])} | {num(r['best_vs_grpo'], '{:.2f}')} | "
              f"{num(r.get('gain_vs_grpo', ''), '{:.2f}')} | {r['paper_regime']} |")
    print()


def predictor_table(pred, bylr):
    lrs = sorted({float(r["lr"]) for r in bylr})
    within = {(r["predictor"], float(r["lr"])): r for r in bylr}
    print("| predictor | R^2 pooled | leave-one-method-out | in regime (n) | beyond the rate (partial) | "
          + " | ".join(f"within {lr:g}" for lr in lrs) + " | Spearman |")
    print("|---|---|---|---|---|" + "---|" * len(lrs) + "---|")
    for r in pred:
        if r["side"] != "new":
            continue
        cells = [ci(r, "r2"), ci(r, "r2_lomo"), f"{ci(r, 'r2_regime')} ({r['n_regime']})", ci(r, "r2_partial_lr")]
        cells += [num(within[(r["predictor"], lr)]["r2"]) for lr in lrs]
        print(f"| {r['predictor']} | " + " | ".join(cells) + f" | {float(r['spearman']):+.2f} |")
    print()


def null_table(res):
    """The null control's forgetting against every method's, rate by rate (final checkpoints)."""
    by = collections.defaultdict(list)
    for r in finals(res):
        by[(float(r["lr"]), r["method"])].append(float(r["forgetting"]))
    lrs = sorted({k[0] for k in by})
    methods = sorted({k[1] for k in by})
    print("Forgetting at the final checkpoint (mean over seeds), by rate:\n")
    print("| method | " + " | ".join(f"{lr:g}" for lr in lrs) + " |")
    print("|---|" + "---|" * len(lrs))
    for m in methods:
        print(f"| {m} | " + " | ".join(num(statistics.mean(by[(lr, m)])) if by[(lr, m)] else "-" for lr in lrs) + " |")
    print()


def r2(x, y):
    c = np.polyfit(x, y, 2)
    res = y - np.polyval(c, x)
    return 1 - res @ res / ((y - y.mean()) @ (y - y.mean()))


def avg_ranks(v):
    """Ranks with ties given their mean rank (as the study's Spearman)."""
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    sv = v[order]
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and sv[j + 1] == sv[i]:
            j += 1
        r[order[i:j + 1]] = (i + j) / 2
        i = j + 1
    return r


def nll_table(res, preds=("forward_kl_new", "weight_l1", "weight_fisher_l2", "kl_outcome")):
    """The prior skills' NLL rise as the outcome instead of exact match: each
    predictor's quadratic R^2 with a 95% interval over 1,000 resamples of
    seeds, then runs within them (as the study resamples)."""
    rows = [r for r in res if r["prior_nll_rise"] not in ("", "nan")]
    y = np.array([float(r["prior_nll_rise"]) for r in rows])
    f = np.array([float(r["forgetting"]) for r in rows])
    by_seed = collections.defaultdict(lambda: collections.defaultdict(list))
    for i, r in enumerate(rows):
        by_seed[r["seed"]][r["run_id"]].append(i)
    seeds = sorted(by_seed)
    rng = np.random.default_rng(1)
    draws = []
    for _ in range(1000):
        idx = []
        for s in rng.choice(seeds, len(seeds)):
            runs = list(by_seed[s].values())
            for k in rng.integers(0, len(runs), len(runs)):
                idx += runs[k]
        draws.append(np.array(idx))
    rho = np.corrcoef(avg_ranks(y), avg_ranks(f))[0, 1]
    print(f"The prior skills' NLL rise against forgetting by exact match: Spearman {rho:+.2f} over {len(rows)} "
          "checkpoints.\n")
    print("| predictor | R^2 for the NLL rise [95% CI] | R^2 for forgetting (exact match) |")
    print("|---|---|---|")
    for p in preds:
        x = np.array([float(r[p]) for r in rows])
        bs = sorted(r2(x[i], y[i]) for i in draws)
        print(f"| {p} | {r2(x, y):.3f} [{bs[25]:.3f}, {bs[974]:.3f}] | {r2(x, f):.3f} |")
    print()


def main(d):
    res = rows(f"{d}/results.csv")
    meth = rows(f"{d}/methods.csv")
    order = [r["method"] for r in meth]
    method_table(res, order)
    regime_table(meth)
    predictor_table(rows(f"{d}/predictors.csv"), rows(f"{d}/predictors_by_lr.csv"))
    null_table(res)
    nll_table(res)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
