#!/usr/bin/env bash
# study_lm.sh: `study lm` on a tiny pretrained language model (two methods
# and distill, one learning rate, two checkpoints a run, the supervised runs
# twice as long) writes the study's files with the language model's columns,
# the in-regime and per-rate fits and each method's best against grpo's; killed (kill -9) twice and rerun,
# it ends with the uninterrupted study's results.csv and no worker left;
# over 2 MPI ranks, and as 2 shards merged, the same rows; bad input exits
# 2 or 1 naming the problem.
source "$(dirname "$0")/lib.sh"
BASE="$T/base"
expect_exit 0 "tiny lm-pretrain" -- "$FL" lm-pretrain --layers 1 --embd 32 --heads 2 --ctx 32 --batch 8 \
    --steps 30 --eval-every 30 --eval-prompts 10 --threads 1 --out "$BASE"
GRID=(study lm --base "$BASE" --methods sft,grpo,distill --lrs 1e-3 --epochs 1 --sft-epochs 2 --batch 128 --checkpoint-every 0.5 --cs-per 4
      --new-samples 1 --prior-prompts 10 --prior-kl-prompts 4 --fisher-n 8 --threads 2)
expect_exit 0 "uninterrupted study lm" -- "$FL" "${GRID[@]}" --out "$T/ref"
for f in results.sqlite results.csv predictors.csv frontier.csv methods.csv rl_vs_sft.csv index.html frontier.png \
         forgetting_vs_kl.png r2_predictors.png; do
    [ -s "$T/ref/$f" ] && ok "$f written" || bad "$f missing"
done
check "(lambda rows: len(rows) == 6 and sorted(set(r['method'] for r in rows)) == ['distill', 'grpo', 'sft'] and \
       all(k in rows[0] for k in ('new_acc', 'prior_acc', 'forgetting', 'bpb', 'forward_kl_new', \
       'forward_kl_new_mc', 'circuit_stability', 'circuit_stability_random')))\
       (list(__import__('csv').DictReader(open('$T/ref/results.csv'))))" \
      "results.csv: 3 runs x 2 checkpoints, the language model's columns"
check "(lambda rows: {r['method']: float(r['epoch']) for r in rows if r['idx'] == '1'} == \
       {'sft': 2.0, 'distill': 2.0, 'grpo': 1.0} and \
       all(k in rows[0] for k in ('new_acc_sampled', 'forward_kl_new_train', 'kl_outcome', 'kl_within_correct', \
       'kl_within_wrong', 'prior_nll', 'prior_nll_rise')))(list(__import__('csv').DictReader(open('$T/ref/results.csv'))))" \
      "  ... the supervised runs end at epoch 2; KL on training prompts, its parts, the prior NLL"
check "(lambda p, m: all(k in p[0] for k in ('r2_regime', 'r2_regime_lo', 'r2_regime_hi', 'n_regime', 'r2_partial_lr')) \
       and all(r['paper_regime'] in ('in', 'outside') for r in m) and \
       [r['paper_regime'] for r in m if r['method'] == 'grpo'] == ['in'])\
       (list(__import__('csv').DictReader(open('$T/ref/predictors.csv'))), \
        list(__import__('csv').DictReader(open('$T/ref/methods.csv'))))" \
      "predictors.csv: the in-regime and partial fits; methods.csv: each method's regime"
[ -s "$T/ref/predictors_by_lr.csv" ] && ok "predictors_by_lr.csv written" || bad "predictors_by_lr.csv missing"
[ "$(sql "$T/ref/results.sqlite" "select value from study where key = 'kind'")" = lm ] && ok "kind lm recorded" \
    || bad "kind not recorded"
grep -q "language model" "$T/ref/index.html" && ok "index.html speaks of the language model" || bad "index.html"

for k in 1 2; do
    "$FL" "${GRID[@]}" --out "$T/killed" >/dev/null 2>&1 &
    pid=$!
    wait_runs "$T/killed/results.sqlite" "$k" 60 || true
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sleep 0.3
    if pgrep -f -- "--out $T/killed" >/dev/null; then bad "kill $k: workers outlived the study"; else ok "kill $k: no worker left"; fi
done
expect_exit 0 "the killed study resumes to the end" -- "$FL" "${GRID[@]}" --out "$T/killed"
cmp -s "$T/ref/results.csv" "$T/killed/results.csv" && ok "results.csv identical to the uninterrupted study" \
    || bad "results.csv differs: $(diff "$T/ref/results.csv" "$T/killed/results.csv" | head -3 | cut -c1-200)"

# Over MPI ranks, and as two shards (no distill in a shard) merged.
grep -v '^distill_' "$T/ref/results.csv" >"$T/sweep.csv"
spread_same_rows "study lm" "$T/sweep.csv" -- "${GRID[@]}"
[ "$(sql "$T/merged/results.sqlite" "select value from study where key = 'kind'")" = lm ] && ok "  ... kind lm kept" \
    || bad "  ... kind lost"
expect_exit 1 "merging one shard alone" -- "$FL" merge "$T/shard1" --out "$T/merged1"
expect_stderr "missing" "  ... says runs are missing"

expect_exit 1 "another grid in the same directory" -- "$FL" "${GRID[@]}" --lrs 3e-3 --out "$T/ref"
expect_stderr "another grid" "  ... says so"
expect_exit 0 "a small MLP" -- "$FL" pretrain --per-task 50 --epochs 1 --threads 1 --out "$T/mlp"
CASES=("an unknown method|2|unknown method|--methods sft,dpo"
       "a learning rate of 0|2|lrs|--lrs 0"
       "a group of 1|2|group-size|--group-size 1"
       "a base that is not a language model|1|not a language model|--base $T/mlp"
       "sft-teacher with one base for every seed|2|another seed|--methods sft,sft-teacher")
refuses "study lm" CASES -- "$FL" "${GRID[@]}" --out "$T/bad"
finish
