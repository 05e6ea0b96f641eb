#!/usr/bin/python3
"""kernels_compare.py A B: how much two sets of matrix kernels move a
study's results, against how much the base seed moves them.

A and B are the same study (same grid, seeds, threads and build) run on two
OpenBLAS cores (scripts/kernels_study.sh makes them). Printed:
  - each study's forward-KL R^2 (forgetting fitted as a quadratic of the
    forward KL on the new task, as the study fits it), pooled and per seed;
  - the kernel effect: the difference B - A in pooled R^2, and per seed;
  - the seed effect: the spread of the per-seed R^2 within each study;
  - checkpoint by checkpoint, how far forgetting and the forward KL moved
    between A and B (median, 90th percentile, max), and the share of runs
    whose checkpoints are bit-identical.
docs/design.md ("Matrix kernels") quotes its output."""
import csv
import statistics
import sys

import numpy as np


def rows(d):
    with open(d + "/results.csv") as f:
        return list(csv.DictReader(f))


def r2(x, y):
    """R^2 of y on a degree-2 polynomial of x (the study's fit)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    c = np.polyfit(x, y, 2)
    res = y - np.polyval(c, x)
    return 1 - (res @ res) / ((y - y.mean()) @ (y - y.mean()))


def per_seed(rs):
    seeds = sorted({r["seed"] for r in rs}, key=int)
    return {s: r2([float(r["forward_kl_new"]) for r in rs if r["seed"] == s],
                  [float(r["forgetting"]) for r in rs if r["seed"] == s]) for s in seeds}


def main(a_dir, b_dir):
    a, b = rows(a_dir), rows(b_dir)
    key = lambda r: (r["run_id"], r["idx"])
    ka, kb = {key(r): r for r in a}, {key(r): r for r in b}
    if set(ka) != set(kb):
        sys.exit("kernels_compare: %s and %s hold different checkpoints" % (a_dir, b_dir))
    pooled = {d: r2([float(r["forward_kl_new"]) for r in rs], [float(r["forgetting"]) for r in rs])
              for d, rs in ((a_dir, a), (b_dir, b))}
    seeds = {a_dir: per_seed(a), b_dir: per_seed(b)}
    print("forward-KL R^2 (quadratic fit of forgetting), %d checkpoints" % len(a))
    print("%-28s %8s   %s" % ("study", "pooled", "per seed"))
    for d in (a_dir, b_dir):
        s = seeds[d]
        print("%-28s %8.3f   %s  (seed spread %.3f)" % (d, pooled[d], " ".join("%.3f" % v for v in s.values()),
                                                       max(s.values()) - min(s.values())))
    diffs = [seeds[b_dir][s] - seeds[a_dir][s] for s in seeds[a_dir]]
    print("kernel effect: pooled %+.3f; per seed %s (mean |d| %.3f)" % (
        pooled[b_dir] - pooled[a_dir], " ".join("%+.3f" % v for v in diffs),
        statistics.mean(abs(v) for v in diffs)))
    for col in ("forgetting", "forward_kl_new", "new_acc"):
        d = np.array([abs(float(ka[k][col]) - float(kb[k][col])) for k in ka])
        print("|%s_A - %s_B| over checkpoints: median %.4f, p90 %.4f, max %.4f" % (col, col, np.median(d),
                                                                                   np.percentile(d, 90), d.max()))
    runs = {k[0] for k in ka}
    same = sum(all(ka[k] == kb[k] for k in ka if k[0] == run) for run in runs)
    print("runs with every checkpoint identical: %d of %d" % (same, len(runs)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: scripts/kernels_compare.py STUDY_A STUDY_B")
    main(sys.argv[1], sys.argv[2])
