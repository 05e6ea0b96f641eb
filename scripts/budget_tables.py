"""budget_tables.py OUT: the tables of docs/budget.md from the runs of
scripts/budget_eval.sh: for each budget F, the share of budgeted runs
whose measured forgetting stays <= F (the promise: at least the 90% level
asked) with its Wilson 95% interval, the share whose measured forgetting
falls inside the forecast's interval, and per method the new-task accuracy
the budget leaves against the same run unbudgeted."""
import collections
import glob
import json
import math
import os
import sys

out = sys.argv[1]
lm = len(sys.argv) > 2 and sys.argv[2] == "lm"
runs_dir, calib_dir = ("lm-runs", "lm-calib") if lm else ("runs", "calib")


def wilson(k, n, z=1.96):
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


runs = {}
for path in glob.glob(os.path.join(out, runs_dir, "*", "summary.json")):
    name = os.path.basename(os.path.dirname(path))
    runs[name] = json.load(open(path))
free = {k[: -len("-free")]: v for k, v in runs.items() if k.endswith("-free")}
budgeted = collections.defaultdict(list)  # F -> [(method, key, summary)]
for k, s in runs.items():
    if "-F" not in k:
        continue
    key, F = k.rsplit("-F", 1)
    budgeted[float(F)].append((key.split("-lr")[0], key, s))
methods = ["sft", "rft", "grpo", "grpo-kl", "reinforce"] if lm else ["sft1", "sft2", "oracle", "grpo", "grpo-kl",
                                                                    "reinforce"]
calib = json.load(open(os.path.join(out, calib_dir, "forecast.json")))
h = calib["leave_one_run_out"]
print("Calibration: %s, %d runs, %d checkpoints; held out by runs: MAE %.4f, coverage %.3f / %.3f / %.3f at 80 / 90 / 95%%\n"
      % (os.path.join(out, calib_dir), calib["n_runs"], calib["n_checkpoints"], h["mae"], h["coverage"]["0.80"],
         h["coverage"]["0.90"], h["coverage"]["0.95"]))
print("| F | KL budget | runs | forgetting <= F | 95% interval | inside forecast interval | stopped by budget |")
print("|---|---|---|---|---|---|---|")
tot_k = tot_n = 0
for F in sorted(budgeted):
    rs = budgeted[F]
    n = len(rs)
    k = sum(s["forgetting"] <= F for _, _, s in rs)
    inside = sum(s["forecast_lo"] <= s["forgetting"] <= s["forecast_hi"] for _, _, s in rs)
    stopped = sum(bool(s["stopped_by_budget"]) for _, _, s in rs)
    lo, hi = wilson(k, n)
    tot_k, tot_n = tot_k + k, tot_n + n
    print("| %.2f | %.4f | %d | %.3f | [%.3f, %.3f] | %.3f | %.3f |"
          % (F, rs[0][2]["kl_budget"], n, k / n, lo, hi, inside / n, stopped / n))
lo, hi = wilson(tot_k, tot_n)
print("| all | | %d | %.3f | [%.3f, %.3f] | | |\n" % (tot_n, tot_k / tot_n, lo, hi))
print("New-task accuracy of the kept model (mean over rates and seeds) against the same runs unbudgeted, and the "
      "largest measured forgetting:\n")
print("| method | unbudgeted: new acc, forgetting | " + " | ".join("F = %.2f: new acc, max forgetting" % F
                                                         for F in sorted(budgeted)) + " |")
print("|---|---|" + "---|" * len(budgeted))
for m in methods:
    fr = [v for k, v in free.items() if k.startswith(m + "-lr")]
    if not fr:
        continue
    cells = ["%.3f, %.3f" % (sum(s["new_acc"] for s in fr) / len(fr), sum(s["forgetting"] for s in fr) / len(fr))]
    for F in sorted(budgeted):
        rs = [s for mm, _, s in budgeted[F] if mm == m]
        cells.append("%.3f, %.3f" % (sum(s["new_acc"] for s in rs) / len(rs), max(s["forgetting"] for s in rs)))
    print("| %s | %s |" % (m, " | ".join(cells)))
base_acc = next(iter(runs.values()))["new_acc_base"]
print("\nThe bases' new-task accuracy: %.3f (seed %s's)." % (base_acc, "1"))
