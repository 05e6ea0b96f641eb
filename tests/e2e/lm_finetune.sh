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
