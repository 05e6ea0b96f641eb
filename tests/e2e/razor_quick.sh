#!/usr/bin/env bash
# razor_quick.sh: `study razor --quick` end to end on the real data: every
# file of the study directory, the paper's findings in miniature (forward KL
# predicts forgetting; GRPO forgets less than SFT), the distill runs taught
# by the best grpo run, the statistics' tables, resuming, `report`,
# `measure` and `finetune --method distill`.
source "$(dirname "$0")/lib.sh"
S="$T/study"
# One measured checkpoint a run (at its end) and three of the quick grid's
# five rates (the second, fourth and fifth) keep the test short; the
# findings below do not depend on the cadence or on the two rates left out,
# and several checkpoints a run are the default of every other study test
# that measures them.
Q=(--quick --checkpoint-every 1 --lrs 1.2819e-05,0.00023403,0.001)
expect_exit 0 "study razor --quick" -- "$FL" study razor "${Q[@]}" --out "$S"
for f in base/model.safetensors results.sqlite results.csv predictors.csv frontier.csv methods.csv rl_vs_sft.csv index.html \
         circuit_stability.png r2_predictors.png; do
    [ -s "$S/$f" ] && ok "$f written" || bad "$f missing"
done
/usr/bin/python3 - "$S" <<'PY' && ok "study results hold the expected rows and findings" || bad "study results"
import csv, sqlite3, sys
d = sys.argv[1]
db = sqlite3.connect(f"{d}/results.sqlite")
runs = db.execute("select count(*) from runs").fetchone()[0]
ckpts = db.execute("select count(*) from checkpoints").fetchone()[0]
# 21 sweep runs and 3 distill runs, 1 checkpoint each.
assert runs == 24 and ckpts == 24, (runs, ckpts)
assert db.execute("select count(*) from runs where method = 'distill'").fetchone()[0] == 3
rows = list(csv.DictReader(open(f"{d}/results.csv")))
assert len(rows) == 24
need = ["new_acc_base", "new_acc", "prior_acc_base", "prior_acc", "forgetting", "forward_kl_new",
        "reverse_kl_new", "tv_new", "l2_dist_new", "js_new", "forward_kl_prior", "reverse_kl_prior",
        "tv_prior", "weight_l1", "weight_fisher_l2", "weight_spectral", "act_l1", "act_l2", "cka",
        "circuit_stability", "circuit_stability_random", "circuit_drift", "circuit_stability_ce_ap"]
assert all(k in rows[0] for k in need), [k for k in need if k not in rows[0]]
# The probe's baseline: random splits of the same images, a number at every checkpoint.
assert all(-1 <= float(r["circuit_stability_random"]) <= 1 for r in rows)
assert db.execute("select value from study where key = 'circuit_probe'").fetchone()[0] == \
    "ap-ig steps=5 form=path loss=kl corrupt=within"
pred = {r["predictor"]: r for r in csv.DictReader(open(f"{d}/predictors.csv"))}
# vs_best: each new-side predictor's held-out R^2 minus the leading one's,
# paired; the leader has none. Every predictor is measured at every
# checkpoint here, so the point difference is that of the two columns.
new = {p: r for p, r in pred.items() if r["side"] == "new"}
lead = max(new, key=lambda p: float(new[p]["r2_lomo"]))
assert new[lead]["vs_best"] == "", new[lead]
for p, r in new.items():
    if p == lead:
        continue
    v, lo, hi = (float(r[k]) for k in ("vs_best", "vs_best_lo", "vs_best_hi"))
    assert abs(v - (float(r["r2_lomo"]) - float(new[lead]["r2_lomo"]))) < 1e-5 and lo <= hi, (p, r)
# The sign R^2 hides: forward KL rises with forgetting, CKA (a similarity) falls.
assert float(pred["forward_kl_new"]["spearman"]) > 0.5 and float(pred["cka"]["spearman"]) < -0.5, pred["cka"]
# Measures on the prior task's own test images are set apart as the outcome's side.
assert pred["forward_kl_new"]["side"] == "new" and pred["tv_prior"]["side"] == "outcome"
assert pred["circuit_drift"]["side"] == "outcome" and pred["weight_l1"]["side"] == "new"
# Leave-one-method-out R^2 with its interval; it cannot beat the pooled fit
# by much (it is scored on data the curve never saw).
for k in ("r2_lomo", "r2_lomo_lo", "r2_lomo_hi"):
    assert k in pred["forward_kl_new"], k
fkl = pred["forward_kl_new"]
assert float(fkl["r2_lomo_lo"]) <= float(fkl["r2_lomo"]) <= float(fkl["r2_lomo_hi"]), fkl
assert float(fkl["r2_lomo"]) < float(fkl["r2"]) + 0.02, fkl
# The frontier: an area with its interval per method, the exponential only
# when identifiable; oracle's frontier above sft1's, as in the paper.
front = {r["method"]: r for r in csv.DictReader(open(f"{d}/frontier.csv"))}
assert set(front) == {"sft1", "sft2", "oracle", "grpo", "grpo-kl", "reinforce", "simpo", "distill"}, set(front)
for m, r in front.items():
    assert float(r["area_lo"]) <= float(r["area"]) + 1e-9 and float(r["area"]) <= float(r["area_hi"]) + 1e-9 \
        or r["area_lo"] == "", (m, r)
    assert r["exp"] in ("identifiable", "not identifiable"), r
    assert (r["exp_a"] != "") == (r["exp"] == "identifiable"), r
assert float(front["oracle"]["area"]) > float(front["sft1"]["area"]), front
meth = {r["method"]: r for r in csv.DictReader(open(f"{d}/methods.csv"))}
# rl_vs_sft.csv: the best of each family on the frontier area and at each
# matched level, its own values, and the paired gap between them.
RL, SFT = ("grpo", "grpo-kl", "reinforce", "rft"), ("sft1", "sft2", "distill")
for g in csv.DictReader(open(f"{d}/rl_vs_sft.csv")):
    table, col = (front, "area") if g["measure"] == "frontier_area" else (meth, "prior_at_%.2f" % float(g["level"]))
    for side, fam in (("rl", RL), ("sft", SFT)):
        vals = {m: float(table[m][col]) for m in fam if m in table and table[m][col] != ""}
        assert g[side + "_method"] == max(vals, key=vals.get), (g, vals)
        assert float(g[side]) == vals[g[side + "_method"]], (g, vals)
    assert abs(float(g["gap"]) - (float(g["rl"]) - float(g["sft"]))) < 1e-6 * max(1, abs(float(g["gap"]))), g
    assert float(g["gap_lo"]) <= float(g["gap_hi"]), g
# Ranks of the updates, out of min(rows, cols): 512, 256, 10.
assert [meth["grpo"][f"rank{l}_full"] for l in (1, 2, 3)] == ["512", "256", "10"], meth["grpo"]
assert 0 < int(meth["sft1"]["rank3_median"]) <= 10
print("# forward KL R^2", fkl["r2"], "[", fkl["r2_lo"], fkl["r2_hi"], "]")
assert float(fkl["r2"]) > 0.8 and float(fkl["r2_lo"]) <= float(fkl["r2"]) <= float(fkl["r2_hi"])
# At lr 2.3e-4 every method has learned the new task (>= 0.92); GRPO
# forgets far less than SFT, and the oracle (the KL-closest target) least.
f = dict(db.execute("select method, forgetting from runs where lr between 1e-4 and 5e-4"))
acc = dict(db.execute("select method, new_acc from runs where lr between 1e-4 and 5e-4"))
print("# forgetting at lr 2.3e-4:", {k: round(v, 3) for k, v in f.items()})
assert acc["grpo"] > 0.92 and acc["sft1"] > 0.92, acc
assert f["grpo"] < 0.5 * f["sft1"] and f["grpo"] < 0.5 * f["sft2"], f
assert f["oracle"] <= min(f.values()) + 1e-9, f
PY
# The fitted curve predictors.csv carries is the least-squares quadratic of
# the points (NumPy's), and forgetlab.study(DIR) reads and evaluates it.
PYTHONPATH="$(dirname "$0")/../../python" /usr/bin/python3 - "$S" <<'PY' && ok "forgetlab.study reads the study; its curve is NumPy's fit" || bad "forgetlab.study"
import sys
import numpy as np
import forgetlab
s = forgetlab.study(sys.argv[1])
assert s.kind == "razor" and len(s.checkpoints["forgetting"]) == 24, (s.kind, s)
x, y = s.checkpoints["forward_kl_new"], s.checkpoints["forgetting"]
keep = np.isfinite(x) & np.isfinite(y)
c2, c1, c0 = np.polyfit(x[keep], y[keep], 2)
p = s.predictor("forward_kl_new")
assert abs(p["x_min"] - x[keep].min()) <= 1e-5 * abs(x[keep].min()) + 1e-9, p
assert abs(p["x_max"] - x[keep].max()) <= 1e-5 * abs(x[keep].max()) + 1e-9, p
mid = float(np.median(x[keep]))
got = float(s.predict_forgetting(mid))
assert abs(got - (c0 + c1 * mid + c2 * mid * mid)) < 1e-4, (got, c0, c1, c2)
assert np.isnan(s.predict_forgetting(p["x_max"] * 2 + 1)), "no prediction outside the fitted range"
assert set(s.frontier["method"]) >= {"sft1", "grpo"} and s.methods is not None and s.metrics is None
print("# forgetting predicted at forward KL %.4g: %.4f" % (mid, got))
PY
before=$(sql "$S/results.sqlite" "select group_concat(run_id || wall_time_s) from runs")
expect_exit 0 "rerunning the study resumes (nothing left to do)" -- "$FL" study razor "${Q[@]}" --out "$S"
check "'$(sql "$S/results.sqlite" "select group_concat(run_id || wall_time_s) from runs")' == '$before'" \
    "resume redid no run"
expect_exit 0 "report rebuilds the report" -- "$FL" report "$S"
[ -s "$S/index.html" ] && ok "index.html rebuilt" || bad "index.html"
expect_exit 1 "report of a directory without results" -- "$FL" report "$T"
expect_stderr "results.sqlite" "missing results named"

# finetune + measure on their own; distill from a GRPO teacher.
expect_exit 0 "finetune grpo" -- "$FL" finetune --base "$S/base" --method grpo --lr 3e-4 --out "$T/grpo" --checkpoint-every 0.5
expect_exit 0 "measure" -- "$FL" measure --base "$S/base" --model "$T/grpo"
cp "$T/stdout" "$T/measure.json"
/usr/bin/python3 - "$T/measure.json" "$T/grpo/summary.json" <<'PY' && ok "measure prints every key and agrees with the run's summary" || bad "measure output"
import json, sys
m, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
keys = ["new_acc_base", "new_acc", "prior_acc_base", "prior_acc", "forgetting", "forward_kl_new",
        "reverse_kl_new", "tv_new", "l2_dist_new", "js_new", "forward_kl_prior", "reverse_kl_prior",
        "tv_prior", "weight_l1", "weight_fisher_l2", "weight_spectral", "act_l1", "act_l2", "cka"]
assert all(k in m for k in keys), [k for k in keys if k not in m]
assert abs(m["forgetting"] - (m["prior_acc_base"] - m["prior_acc"])) < 1e-12
for k in ["new_acc", "prior_acc", "forward_kl_new", "tv_prior"]:
    assert abs(m[k] - s[k]) < 1e-9, (k, m[k], s[k])
PY
# measure's distribution predictors equal the same quantities recomputed in
# NumPy from the logits `eval --logits-out` dumps.
for who in base grpo; do
    src="$S/base"; [ "$who" = grpo ] && src="$T/grpo"
    for task in parity fashion; do
        "$FL" eval --model "$src" --task "$task" --split test --logits-out "$T/$who-$task.npy" >/dev/null
    done
done
/usr/bin/python3 - "$T" <<'PY' && ok "measure's KL, reverse KL and TV match NumPy on eval's logits" || bad "measure vs logits"
import json, sys
import numpy as np
t = sys.argv[1]
m = json.load(open(f"{t}/measure.json"))
def logsoftmax(z):
    z = z.astype(np.float64)
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))
for task, suffix in [("parity", "new"), ("fashion", "prior")]:
    lp0 = logsoftmax(np.load(f"{t}/base-{task}.npy"))
    lp1 = logsoftmax(np.load(f"{t}/grpo-{task}.npy"))
    p0, p1 = np.exp(lp0), np.exp(lp1)
    want = {"forward_kl": (p0 * (lp0 - lp1)).sum(1).mean(),   # KL(base || fine-tuned)
            "reverse_kl": (p1 * (lp1 - lp0)).sum(1).mean(),
            "tv": 0.5 * np.abs(p0 - p1).sum(1).mean()}
    for k, v in want.items():
        got = m[f"{k}_{suffix}"]
        assert abs(got - v) <= 1e-5 * max(1.0, abs(v)), (k, suffix, got, v)
    print(f"# {suffix}: forward KL {want['forward_kl']:.6f} reverse {want['reverse_kl']:.6f} tv {want['tv']:.6f}")
PY
grep -c '"checkpoint":true' "$T/grpo/metrics.jsonl" | grep -qx 2 && ok "2 checkpoints at --checkpoint-every 0.5" || bad "checkpoint count"
expect_exit 0 "distill from the GRPO model" -- "$FL" finetune --base "$S/base" --method distill --teacher "$T/grpo" --correct-only --lr 3e-4 --out "$T/distill"
expect_exit 2 "distill without a teacher" -- "$FL" finetune --base "$S/base" --method distill --out "$T/x"
expect_exit 2 "unknown method" -- "$FL" finetune --base "$S/base" --method ppo --out "$T/x"
expect_stderr "unknown method 'ppo'" "unknown method named"
finish
