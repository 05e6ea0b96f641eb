#!/usr/bin/env bash
# budget.sh: the forgetting forecast and budget on the small two-seed study
# (the ctest fixture's): forecast.json's held-out MAE, quantiles and
# coverage equal an independent NumPy computation from results.csv; a
# budgeted finetune keeps a model within its KL budget, with its forecast,
# also with the prior task's data absent, and killed, resumes to the same
# end; forgetlab.Budget finds the CLI's
# budget; the PyTorch example stops on budget; calibrations of another
# setting or base, too few runs for a level, a damaged forecast.json and
# clashing options are refused with the reason.
source "$(dirname "$0")/lib.sh"
reference_study || { finish; exit; }
PY=(env PYTHONPATH="$(dirname "$0")/../../python" /usr/bin/python3)
"${PY[@]}" - "$REF" <<'PYEOF' && ok "forecast.json: held-out MAE, quantiles and coverage as NumPy computes them" || bad "forecast.json"
import csv, json, math, sys
import numpy as np
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/results.csv")))
x = np.array([float(r["forward_kl_new"]) for r in rows]); y = np.array([float(r["forgetting"]) for r in rows])
run = np.array([r["run_id"] for r in rows])
def iso(xs, ys):  # rising least-squares fit, equal x pooled: (distinct x, fit)
    o = np.lexsort((np.arange(len(xs)), xs)); xs, ys = xs[o], ys[o]
    ux = np.unique(xs); vals = [ys[xs == u].mean() for u in ux]; w = [float((xs == u).sum()) for u in ux]
    blocks = []  # [value, weight, count]
    for v, wt in zip(vals, w):
        blocks.append([v, wt, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            b = blocks.pop(); a = blocks[-1]
            a[0] = (a[0] * a[1] + b[0] * b[1]) / (a[1] + b[1]); a[1] += b[1]; a[2] += b[2]
    return ux, np.repeat([b[0] for b in blocks], [b[2] for b in blocks])
runs = sorted(set(run)); held = np.empty(len(x))
for r in runs:
    fx, fy = iso(x[run != r], y[run != r]); held[run == r] = np.interp(x[run == r], fx, fy)
ae = np.abs(y - held)
sx, sy = iso(x, ae); s = np.maximum(max(1e-4, 0.1 * ae.mean()), np.interp(x, sx, sy))
score = ae / s; w = np.array([1.0 / (run == r).sum() for r in run])
def quant(L, keep):
    R = len(set(run[keep])); need = math.ceil(L * (R + 1) - 1e-9)
    if need > R: return math.inf
    o = np.argsort(score[keep], kind="stable"); c = np.cumsum(w[keep][o])
    return score[keep][o][np.nonzero(c >= need - 1e-9)[0][0]]
j = json.load(open(f"{d}/forecast.json"))
assert j["n_runs"] == 12 and j["setting"] == "razor" and j["predictor"] == "forward_kl_new", j
assert abs(j["leave_one_run_out"]["mae"] - ae.mean()) < 1e-9, (j["leave_one_run_out"]["mae"], ae.mean())
for L, q in zip((0.8, 0.9, 0.95), j["q"]):
    want = quant(L, np.ones(len(x), bool))
    assert (q is None and want == math.inf) or abs(q - want) < 1e-6 * max(1, want), (L, q, want)
    cov = np.mean([ae[i] <= quant(L, run != run[i]) * s[i] for i in range(len(x))])
    got = j["leave_one_run_out"]["coverage"]["%.2f" % L]
    assert (got is None and not np.isfinite(quant(L, run != run[0]))) or abs(got - cov) < 1e-9, (L, got, cov)
print("# MAE %.4f, q %s" % (ae.mean(), j["q"]))
PYEOF
head -1 "$REF/forecast.csv" | grep -q "^forward_kl,forgetting,lo80,hi80,lo90,hi90,lo95,hi95$" && ok "forecast.csv's columns" \
    || bad "forecast.csv: $(head -1 "$REF/forecast.csv")"

B=(finetune --base "$REF/base" --method grpo --lr 1e-4 --checkpoint-every 0.1 --threads 1)
expect_exit 0 "finetune within --max-forgetting 0.05" -- "$FL" "${B[@]}" --max-forgetting 0.05 --calibration "$REF" --out "$T/b"
expect_stderr "within budget: kept checkpoint" "  ... says which checkpoint it kept"
"${PY[@]}" - "$T/b" "$REF" <<'PYEOF' && ok "  ... summary.json: the kept model within budget, its forecast; forgetlab.Budget agrees" || bad "budget summary"
import json, sys
import forgetlab
s, c = json.load(open(sys.argv[1] + "/summary.json")), json.load(open(sys.argv[1] + "/config.json"))
for k in ("kl_budget", "stopped_by_budget", "kept_checkpoint", "forecast", "forecast_lo", "forecast_hi"):
    assert k in s, k
assert s["kept_checkpoint"] >= 0 and s["kept_forward_kl"] <= s["kl_budget"] and abs(s["forward_kl_new"] - s["kept_forward_kl"]) < 1e-9, s
assert s["forecast_lo"] <= s["forecast"] <= s["forecast_hi"] and s["forgetting"] is not None, s
assert c["max_forgetting"] == 0.05 and c["budget_level"] == 0.9 and c["kl_budget"] == s["kl_budget"], c
b = forgetlab.Budget(sys.argv[2], max_forgetting=0.05)
assert abs(b.kl_budget - s["kl_budget"]) < 1e-12, (b.kl_budget, s["kl_budget"])
f, lo, hi = forgetlab.study(sys.argv[2]).forecast(s["kept_forward_kl"])
assert abs(f - s["forecast"]) < 1e-12 and abs(hi - s["forecast_hi"]) < 1e-12, (f, s["forecast"])
print("# kept checkpoint %d of KL %.4f <= %.4f, forgetting %.4f forecast %.4f [%.4f, %.4f]" % (
    s["kept_checkpoint"], s["kept_forward_kl"], s["kl_budget"], s["forgetting"], f, lo, hi))
PYEOF
mkdir -p "$T/mnist-only" && ln -s "${FORGETLAB_DATA:-$(dirname "$0")/../../data}/mnist" "$T/mnist-only/mnist"
expect_exit 0 "the same run with the prior task's data absent" -- \
    "$FL" "${B[@]}" --max-forgetting 0.05 --calibration "$REF" --data-dir "$T/mnist-only" --out "$T/nf"
expect_stderr "needs none" "  ... says the prior task's data is not needed"
check "(lambda a, b: a['forgetting'] is None and a['kept_checkpoint'] == b['kept_checkpoint'] and \
       a['kept_forward_kl'] == b['kept_forward_kl'])(__import__('json').load(open('$T/nf/summary.json')), \
       __import__('json').load(open('$T/b/summary.json')))" "  ... and keeps the same checkpoint"
expect_exit 0 "--max-forward-kl alone" -- "$FL" "${B[@]}" --max-forward-kl 0.2 --out "$T/kl"
check "(lambda s: s['kl_budget'] == 0.2 and s['stopped_by_budget'] and 0 < s['kept_forward_kl'] <= 0.2 and s['forecast'] is None) \
       (__import__('json').load(open('$T/kl/summary.json')))" "  ... stops, keeps KL <= 0.2, no forecast"

# Killed before its stop and rerun, a budgeted run keeps what it had kept:
# the same weights, the same kept checkpoint and stop.
kill_when 3 '"forward_kl_new"' "$T/killed/metrics.jsonl" -- "$FL" "${B[@]}" --max-forward-kl 0.2 --out "$T/killed"
expect_exit 0 "the killed budgeted finetune resumes to the end" -- "$FL" "${B[@]}" --max-forward-kl 0.2 --out "$T/killed"
check "(lambda a, b: all(a[k] == b[k] for k in ('kept_checkpoint', 'kept_step', 'kept_forward_kl', 'stopped_by_budget', \
       'forward_kl_new')))(__import__('json').load(open('$T/kl/summary.json')), \
       __import__('json').load(open('$T/killed/summary.json')))" "  ... the same kept checkpoint, stopped at the same one"
cmp -s "$T/kl/model.safetensors" "$T/killed/model.safetensors" && ok "  ... weights identical" || bad "  ... weights differ"

# Refusals.
sed 's/"setting":.*"razor"/"setting": "lm"/' "$REF/forecast.json" >"$T/lm.json"
sed 's/"model":[^,]*,/"model": "785-64-10",/' "$REF/forecast.json" >"$T/arch.json"
head -c 300 "$REF/forecast.json" >"$T/cut.json"
CASES=("--max-forgetting without --calibration|2|needs --calibration|--max-forgetting 0.05"
       "--max-forward-kl with --calibration|2|not with|--max-forward-kl 1 --max-forgetting 0.05 --calibration $REF"
       "a level the forecast has not|2|0.8, 0.9 and 0.95|--max-forgetting 0.05 --calibration $REF --budget-level 0.85"
       "a 95% bound from 12 runs|2|needs at least 19 runs|--max-forgetting 0.05 --calibration $REF --budget-level 0.95"
       "a calibration of another setting|2|'lm' setting|--max-forgetting 0.05 --calibration $T/lm.json"
       "a calibration of another base|2|architecture 785-64-10|--max-forgetting 0.05 --calibration $T/arch.json"
       "a truncated forecast.json|1|cut.json: not JSON|--max-forgetting 0.05 --calibration $T/cut.json"
       "a limit below every bound|1|no budget can promise|--max-forgetting 1e-6 --calibration $REF"
       "a study without a forecast|1|no forecast|--max-forgetting 0.05 --calibration $T")
refuses "finetune" CASES -- "$FL" "${B[@]}" --out "$T/bad"

# The worked example: a PyTorch fine-tune that stops on budget.
"$FL" eval --model "$REF/base" --task parity --split train --inputs-out "$T/parity_x.npy" --labels-out "$T/parity_y.npy" >/dev/null
"$FL" eval --model "$REF/base" --task parity --inputs-out "$T/parity_test.npy" >/dev/null
expect_exit 0 "docs/examples/budget_torch.py" -- "${PY[@]}" "$(dirname "$0")/../../docs/examples/budget_torch.py" "$REF" "$T"
grep -q "stopped at step" "$T/stdout" && ok "  ... stopped on budget: $(grep "stopped" "$T/stdout")" || bad "  ... $(cat "$T/stdout")"
finish
