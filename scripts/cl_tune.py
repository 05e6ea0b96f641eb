#!/usr/bin/python3
"""cl_tune.py: EWC's lambda and SI's c chosen for forgetlab's own training
(one epoch a task) on a validation split, then measured on the test set:
the ablation that tells whether a method's shortfall against its published
figure is the published weight or the method (docs/continual.md).

    scripts/cl_tune.py BENCHMARK SCENARIO OUT [--seeds 3] [--final-seeds 5] [--grid coarse|fine]

For each method and weight: `forgetlab study continual --validation 0.1
--methods M --seeds 3 --cs-per 0` (10% of each task's training examples
held out and scored instead of the test set); the weight with the best
mean average accuracy is then run on the test set with --final-seeds.
Prints the grid and the choice as Markdown; the studies stay under OUT."""
import argparse
import csv
import os
import subprocess
import sys

from continual_tables import ci

CLI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "forgetlab")
GRIDS = {"fine": {"ewc": [10.0 ** k for k in range(0, 11)], "si": [10.0 ** k for k in range(-2, 6)]},
         "coarse": {"ewc": [10.0 ** k for k in range(0, 5)], "si": [10.0 ** k for k in range(-1, 4)]}}
FLAG = {"ewc": "--ewc-lambda", "si": "--si-c"}


def study(out, args, extra):
    cmd = [CLI, "study", "continual", "--benchmark", args.benchmark, "--scenario", args.scenario, "--cs-per", "0",
           "--out", out] + extra
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("cl_tune: %s failed:\n%s" % (" ".join(cmd), r.stderr[-2000:]))
    with open(os.path.join(out, "methods.csv")) as f:
        return {row["method"]: row for row in csv.DictReader(f)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("benchmark")
    p.add_argument("scenario")
    p.add_argument("out")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--final-seeds", type=int, default=5)
    p.add_argument("--grid", choices=GRIDS, default="fine")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    print("%s, %s: average accuracy on a 10%% validation split (mean [95%% t], %d seeds)\n"
          % (args.benchmark, args.scenario, args.seeds))
    for m, values in GRIDS[args.grid].items():
        rows = []
        for v in values:
            d = os.path.join(args.out, "val_%s_%g" % (m, v))
            rows.append((v, study(d, args, ["--validation", "0.1", "--methods", m, FLAG[m], "%g" % v, "--seeds",
                                             str(args.seeds)])[m]))
        best = max(rows, key=lambda r: float(r[1]["avg_acc"]))
        print("| %s weight | validation accuracy | BWT |\n|---|---|---|" % m)
        for v, r in rows:
            print("| %g%s | %s | %s |" % (v, " (chosen)" if r is best[1] else "", ci(r, "avg_acc"), ci(r, "bwt")))
        d = os.path.join(args.out, "test_%s_%g" % (m, best[0]))
        t = study(d, args, ["--methods", m, FLAG[m], "%g" % best[0], "--seeds", str(args.final_seeds)])[m]
        print("\n%s at %g on the test set (%d seeds): average accuracy %s, BWT %s\n"
              % (m, best[0], args.final_seeds, ci(t, "avg_acc"), ci(t, "bwt")))


if __name__ == "__main__":
    main()
