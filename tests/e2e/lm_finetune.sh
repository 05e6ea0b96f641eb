#!/usr/bin/env bash
# lm_finetune.sh: every method of `lm-finetune` on a tiny pretrained
# language model and the real new task writes its run and a measured
# checkpoint every half epoch; distill learns from a grpo run; a run killed
# (kill -9) and rerun ends with the uninterrupted run's weights and
# measurements; bad input exits 2 or 1 naming the problem.
source "$(dirname "$0")/lib.sh"
BASE="$T/base"
expect_exit 0 "tiny lm-pretrain" -- "$FL" lm-pretrain --layers 1 --embd 32 --heads 2 --ctx 32 --batch 8 \
    --steps 30 --eval-every 30 --eval-prompts 10 --threads 1 --out "$BASE"
FT=(lm-finetune --base "$BASE" --batch 128 --checkpoint-every 0.5 --group-size 4 --pool 4 --new-samples 1 --cs-per 4
    --prior-prompts 10 --prior-kl-prompts 4 --fisher-n 8 --log-every 2 --lr 1e-3 --threads 1)
KEYS="new_acc new_acc_base new_acc_sampled prior_acc prior_acc_base forgetting bpb bpb_rise forward_kl_new \
forward_kl_new_mc forward_kl_new_se forward_kl_new_mc_se reverse_kl_new tv_new forward_kl_prior weight_l1 \
weight_fisher_l2 weight_spectral act_l2 cka forward_kl_new_train kl_outcome kl_within_correct kl_within_wrong \
prior_nll prior_nll_base prior_nll_rise"
for m in sft sft-alt rft grpo grpo-kl reinforce simpo sft-any sft-self; do
    expect_exit 0 "lm-finetune --method $m" -- "$FL" "${FT[@]}" --method "$m" --out "$T/$m"
    check "(lambda s, l: all(k in s for k in '$KEYS'.split()) and 0 <= s['new_acc'] <= 1 \
           and s['forward_kl_new'] >= 0 and s['weight_l1'] > 0 and len(l) == 2 and l[-1]['epoch'] == 1 \
           and s['kl_outcome'] >= 0 and s['kl_within_correct'] >= -1e-6 and s['prior_nll_base'] > 0) \
           (__import__('json').load(open('$T/$m/summary.json')), \
            [j for j in map(__import__('json').loads, open('$T/$m/metrics.jsonl')) if 'new_acc' in j])" \
          "  ... summary.json has every measure; two measured checkpoints"
done
check "all(0 <= j['reward'] <= 1 for j in map(__import__('json').loads, open('$T/grpo/metrics.jsonl')))" \
      "grpo logs its reward"
expect_exit 0 "lm-finetune --method distill from the grpo run" -- \
    "$FL" "${FT[@]}" --method distill --teacher "$T/grpo" --out "$T/distill"
[ -s "$T/distill/model.safetensors" ] && ok "  ... model written" || bad "  ... no model"
expect_exit 0 "lm-finetune --method sft-teacher from the grpo run" -- \
    "$FL" "${FT[@]}" --method sft-teacher --teacher "$T/grpo" --out "$T/sft-teacher"
[ -s "$T/sft-teacher/model.safetensors" ] && ok "  ... model written" || bad "  ... no model"

kill_and_resume "lm-finetune" '"new_acc"' "1" "${FT[@]}" --method grpo-kl --checkpoint-every 0.25
cmp -s <(grep new_acc "$T/ref/metrics.jsonl") <(grep new_acc "$T/killed/metrics.jsonl") \
    && ok "  ... and the same measurements at every checkpoint" || bad "  ... measurements differ"

# A forgetting budget: the KL itself, then a calibration of the lm setting
# for this base (a hand-made forecast.json of 10 runs: forgetting 0.1 KL,
# scale 0.01, quantile 1) whose 90% bound meets F = 0.05 at KL 0.4.
expect_exit 0 "lm-finetune --max-forward-kl" -- "$FL" "${FT[@]}" --method grpo --checkpoint-every 0.25 \
    --max-forward-kl 1e-6 --out "$T/budget-kl"
check "(lambda s, l: s['kl_budget'] == 1e-6 and s['stopped_by_budget'] and s['kept_checkpoint'] == -1 and \
       s['forward_kl_new'] < 1e-9 and s['forecast'] is None and [j['within_budget'] for j in l] == [False]) \
       (__import__('json').load(open('$T/budget-kl/summary.json')), \
        [j for j in map(__import__('json').loads, open('$T/budget-kl/metrics.jsonl')) if 'kl_budget' in j])" \
      "  ... stops at the first checkpoint past it and keeps the base"
/usr/bin/python3 - "$T/calib.json" "$BASE" <<'PY'
import json, sys, struct
h = open(sys.argv[2] + "/model.safetensors", "rb").read()
n = struct.unpack("<Q", h[:8])[0]
spec = json.loads(h[8:8 + n])["__metadata__"]["spec"]
json.dump({"setting": "lm", "model": spec, "predictor": "forward_kl_new", "n_checkpoints": 50, "n_runs": 10,
           "levels": [0.8, 0.9, 0.95], "q": [1.0, 1.0, None],
           "knots": {"x": [0.0, 10.0], "forgetting": [0.0, 1.0], "scale": [0.01, 0.01]},
           "leave_one_run_out": {"mae": 0.01, "coverage": {"0.80": 0.8, "0.90": 0.9, "0.95": None}}},
          open(sys.argv[1], "w"))
PY
expect_exit 0 "lm-finetune --max-forgetting 0.05 with an lm calibration" -- "$FL" "${FT[@]}" --method grpo \
    --checkpoint-every 0.25 --max-forgetting 0.05 --calibration "$T/calib.json" --out "$T/budget-f"
check "(lambda s: abs(s['kl_budget'] - 0.4) < 1e-9 and s['kept_forward_kl'] <= s['kl_budget'] and \
       abs(s['forward_kl_new'] - s['kept_forward_kl']) < 1e-9 and abs(s['forecast'] - 0.1 * s['kept_forward_kl']) < 1e-9 \
       and abs(s['forecast_hi'] - s['forecast'] - 0.01) < 1e-9 and 'forgetting' in s) \
       (__import__('json').load(open('$T/budget-f/summary.json')))" \
      "  ... budget 0.4 nats; the kept model's KL, forecast and interval in summary.json"
# Killed after its second checkpoint and rerun, a budgeted run ends as the
# uninterrupted one did.
BF=("$FL" "${FT[@]}" --method grpo --checkpoint-every 0.25 --max-forgetting 0.05 --calibration "$T/calib.json")
kill_when 2 '"kl_budget"' "$T/budget-k/metrics.jsonl" -- "${BF[@]}" --out "$T/budget-k"
expect_exit 0 "the killed budgeted run resumes to the end" -- "${BF[@]}" --out "$T/budget-k"
cmp -s "$T/budget-f/model.safetensors" "$T/budget-k/model.safetensors" && cmp -s <(grep kl_budget "$T/budget-f/metrics.jsonl") \
    <(grep kl_budget "$T/budget-k/metrics.jsonl") && ok "  ... the same weights and checkpoints" || bad "  ... they differ"
sed 's/"setting": "lm"/"setting": "razor"/' "$T/calib.json" >"$T/calib-mlp.json"
expect_exit 2 "a calibration of the MLP setting" -- "$FL" "${FT[@]}" --method grpo --max-forgetting 0.05 \
    --calibration "$T/calib-mlp.json" --out "$T/bad"
expect_stderr "'razor' setting" "  ... names the setting"

MLP="$T/mlp"
expect_exit 0 "a small MLP (not a language model)" -- "$FL" pretrain --per-task 50 --epochs 1 --threads 1 --out "$MLP"
CASES=("a base that is not a language model|1|not a language model|--base $MLP --method sft"
       "a missing base|1|nonexistent|--base $T/nonexistent --method sft"
       "grpo with --group-size 1|2|group-size|--method grpo --group-size 1"
       "grpo-kl with --group-size 1|2|group-size|--method grpo-kl --group-size 1"
       "grpo at temperature 0|2|temperature|--method grpo --temperature 0"
       "reinforce at temperature 0|2|temperature|--method reinforce --temperature 0"
       "distill without a teacher|2|teacher|--method distill"
       "sft-teacher without a teacher|2|teacher|--method sft-teacher"
       "a teacher for sft|2|teacher|--method sft --teacher $T/grpo"
       "an unknown method|2|unknown method|--method dpo"
       "no method|2|method|"
       "a negative learning rate|2|lr|--method sft --lr -1")
refuses "lm-finetune" CASES -- "$FL" "${FT[@]}" --out "$T/bad"
expect_exit 2 "lm-finetune without --base" -- "$FL" lm-finetune --method sft --out "$T/bad"
expect_stderr "base" "  ... says 'base'"
finish
