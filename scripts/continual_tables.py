#!/usr/bin/python3
"""continual_tables.py: the methods x benchmarks tables of docs/continual.md
from the studies' methods.csv and predictors.csv (so that no number is
copied by hand): average accuracy after the last task and BWT, each the
mean over seeds with its 95% t interval, one column per study; then the
boundary forward KL's R^2 per study.

    scripts/continual_tables.py LABEL=STUDY_DIR [LABEL=STUDY_DIR ...]
"""
import csv
import sys


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def ci(r, k, sign=False):
    f = "{:+.3f}" if sign else "{:.3f}"
    if r[k + "_lo"] == "":
        return f.format(float(r[k]))
    return "%s [%s, %s]" % (f.format(float(r[k])), f.format(float(r[k + "_lo"])), f.format(float(r[k + "_hi"])))


def main(args):
    studies = [a.split("=", 1) for a in args]
    tables = {label: {r["method"]: r for r in rows(d + "/methods.csv")} for label, d in studies}
    methods = list(next(iter(tables.values())))
    seeds = {t[m]["seeds"] for t in tables.values() for m in t}
    print("Average accuracy after the last task, mean over %s seeds [95%% t interval]:\n" % "/".join(sorted(seeds)))
    print("| method | " + " | ".join(label for label, _ in studies) + " |")
    print("|---" * (len(studies) + 1) + "|")
    for m in methods:
        print("| %s | " % m + " | ".join(ci(tables[l][m], "avg_acc") if m in tables[l] else "-" for l, _ in studies) + " |")
    print("\nBWT, the same way:\n")
    print("| method | " + " | ".join(label for label, _ in studies) + " |")
    print("|---" * (len(studies) + 1) + "|")
    for m in methods:
        print("| %s | " % m + " | ".join(ci(tables[l][m], "bwt", True) if m in tables[l] else "-" for l, _ in studies)
              + " |")
    print("\nThe boundary's forward KL on the new task's inputs against the step's forgetting of the earlier tasks,"
          " pooled over methods (R^2 [interval resampling runs within seeds], Spearman, steps), and its Spearman"
          " between the methods' means and within methods:\n")
    print("| study | forward KL, new task's inputs | Spearman between / within methods | on the earlier tasks' own inputs"
          " (outcome side) |")
    print("|---|---|---|---|")
    for label, d in studies:
        p = {r["predictor"]: r for r in rows(d + "/predictors.csv")}
        cell = lambda r: "%.3f [%.3f, %.3f], %+.2f, %s" % (float(r["r2"]), float(r["r2_lo"]), float(r["r2_hi"]),
                                                         float(r["spearman"]), r["n"])
        split = lambda r: "%+.2f / %+.2f" % (float(r["spearman_between"]), float(r["spearman_within"]))
        print("| %s | %s | %s | %s |" % (label, cell(p["forward_kl_new"]), split(p["forward_kl_new"]),
                                          cell(p["forward_kl_old"])))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
