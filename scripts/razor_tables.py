#!/usr/bin/python3
"""razor_tables.py: a razor study's tables as Markdown, straight from its
predictors.csv, frontier.csv and methods.csv (for docs/razor.md, so that no
number is copied by hand).

    scripts/razor_tables.py STUDY_DIR
"""
import csv
import sys

PAPER = {"forward_kl_new": "0.96 +- 0.01", "reverse_kl_new": "0.93 +- 0.01", "tv_new": "0.80 +- 0.01",
         "l2_dist_new": "0.56 +- 0.02", "weight_l1": "0.34 +- 0.02", "weight_fisher_l2": "0.58 +- 0.02",
         "weight_spectral": "0.58 +- 0.02", "act_l1": "0.52 +- 0.02", "act_l2": "0.55 +- 0.02"}


def rows(path):
    return list(csv.DictReader(open(path)))


def num(v, fmt="{:.3f}"):
    return "-" if v in ("", None) else fmt.format(float(v))


def ci(r, k, fmt="{:.3f}"):
    if r[k] == "":
        return "-"
    return f"{num(r[k], fmt)} [{num(r[k + '_lo'], fmt)}, {num(r[k + '_hi'], fmt)}]"


def main(d):
    pred = rows(f"{d}/predictors.csv")
    for side, title in (("new", "Predictors (new task's inputs, or the weights)"),
                        ("outcome", "Outcome side (the prior task's own test images)")):
        print(f"**{title}**\n")
        print("| predictor | R^2 [95% CI] | leave-one-method-out R^2 [95% CI] | Spearman | paper |")
        print("|---|---|---|---|---|")
        for r in pred:
            if r["side"] == side:
                print(f"| {r['predictor']} | {num(r['r2'])} [{num(r['r2_lo'])}, {num(r['r2_hi'])}] | "
                      f"{ci(r, 'r2_lomo')} | {float(r['spearman']):+.2f} | {PAPER.get(r['predictor'], '')} |")
        print()
    front = rows(f"{d}/frontier.csv")
    lo, hi = float(front[0]["range_lo"]), float(front[0]["range_hi"])
    w = hi - lo
    print(f"**Frontiers** (mean prior-task accuracy on the isotonic frontier over new-task accuracy "
          f"[{lo:.3f}, {hi:.3f}], 95% CI over resampled runs)\n")
    print("| method | points | on frontier | mean frontier height [95% CI] | exponential |")
    print("|---|---|---|---|---|")
    for r in front:
        a = [float(r[k]) / w if r[k] else None for k in ("area", "area_lo", "area_hi")]
        expo = r["exp"] if r["exp"] != "identifiable" else f"{r['exp_a']}, {r['exp_b']}, {r['exp_c']}"
        print(f"| {r['method']} | {r['n']} | {r['n_kept']} | "
              f"{a[0]:.3f} [{a[1]:.3f}, {a[2]:.3f}] | {expo} |" if a[1] is not None else
              f"| {r['method']} | {r['n']} | {r['n_kept']} | {a[0]:.3f} | {expo} |")
    print()
    meth = rows(f"{d}/methods.csv")
    levels = [k[len("prior_at_"):] for k in meth[0] if k.startswith("prior_at_") and k.count("_") == 2]
    print("**Prior-task accuracy at matched new-task accuracy** (best checkpoint reaching t; 95% CI)\n")
    print("| method | " + " | ".join(f"t = {t}" for t in levels) + " |")
    print("|---|" + "---|" * len(levels))
    for r in meth:
        print(f"| {r['method']} | " + " | ".join(ci(r, f"prior_at_{t}") for t in levels) + " |")
    print()
    print("**Forgetting on forward KL, method by method** (R^2 within the method; mean excess forgetting over "
          "the other methods' curve and over sft1's, at the same forward KL; 95% CI)\n")
    print("| method | runs | R^2 within | excess over the others | excess over sft1 |")
    print("|---|---|---|---|---|")
    for r in meth:
        print(f"| {r['method']} | {r['runs']} | {ci(r, 'kl_r2')} | {ci(r, 'excess', '{:+.3f}')} | "
              f"{ci(r, 'vs_sft1', '{:+.3f}')} |")
    print()
    nl = sum(1 for k in meth[0] if k.endswith("_median"))
    if nl:
        print("**Numerical rank of the updates** (median [min, max] over runs)\n")
        print("| method | " + " | ".join(f"layer {l + 1} (of {meth[0][f'rank{l + 1}_full']})" for l in range(nl)) + " |")
        print("|---|" + "---|" * nl)
        for r in meth:
            print(f"| {r['method']} | " + " | ".join(
                f"{r[f'rank{l}_median']} [{r[f'rank{l}_min']}, {r[f'rank{l}_max']}]" for l in range(1, nl + 1)) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
