#!/usr/bin/env bash
# budget_eval.sh: does a forgetting budget keep its promise on runs the
# forecast never saw? (docs/budget.md) The forecast is calibrated on one
# base seed's quick razor study (seed 0); budgeted runs fine-tune the bases
# of OTHER seeds (1 and 2), every method at a spread of rates, under
# budgets F in {0.02, 0.05, 0.10} at the 90% level, each beside the same
# run unbudgeted. Resumable: a run whose summary.json exists is not redone.
# Then scripts/budget_tables.py prints the tables and draws the figures.
#
#   scripts/budget_eval.sh OUT [mlp|lm]   (mlp about 5 minutes on 2 cores, lm about 15
#                                          with the quick bases cached, half an hour more without)
#
# lm: the same on the language model: calibrated on seed 0's quick study
# (`study lm --quick --seeds 1`), budgeted lm-finetune runs from the quick
# bases of seeds 1 and 2 (sft, rft, grpo, grpo-kl, reinforce at 3e-5, 1e-4
# and 3e-4; the study's epochs: 8 for the supervised methods, 2 for RL;
# budgets 0.05, 0.10 and 0.20: the forecast refuses 0.02), into
# OUT/lm-runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fl="$root/build/forgetlab"
out="${1:?usage: scripts/budget_eval.sh OUT [mlp|lm]}"
setting="${2:-mlp}"
start=$(date +%s)
# Two runs at a time, one thread each; a run with its summary.json is done.
run_one() {
    local dir="$1"; shift
    [[ -s "$dir/summary.json" ]] && return 0
    "$fl" "$@" --threads 1 --overwrite --out "$dir" >/dev/null 2>"$dir.err" || { echo "failed: $dir" >&2; return 1; }
    rm -f "$dir.err"
}
export -f run_one
export fl
# jobs FILE RUN CMD FREE CALIB F...: the run unbudgeted (CMD then FREE's
# options) into RUN-free and under each budget F into RUN-F$F, a line each.
jobs() {
    local file="$1" run="$2" cmd="$3" free="$4" calib="$5" F
    shift 5
    echo "$run-free $cmd $free" >>"$file"
    for F in "$@"; do
        echo "$run-F$F $cmd --checkpoint-every 0.02 --max-forgetting $F --calibration $calib" >>"$file"
    done
}
# finish FILE LABEL: every run of FILE, two at a time, and its wall time.
finish() {
    xargs -P 2 -L 1 bash -c 'run_one "$@"' _ <"$1"
    echo "$2: $(wc -l <"$1") runs in $(( $(date +%s) - start )) s"
}
if [[ "$setting" == lm ]]; then
    mkdir -p "$out/lm-runs"
    "$fl" study lm --quick --seeds 1 --out "$out/lm-calib" >/dev/null
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/forgetlab"
    # The other seeds' bases, pretrained (and cached) by a study of them when missing.
    [[ -s "$cache/lm-quick-s1/model.safetensors" && -s "$cache/lm-quick-s2/model.safetensors" ]] ||
        "$fl" study lm --quick --seeds 3 --methods grpo --lrs 1e-4 --no-distill --out "$out/lm-bases" >/dev/null
    # F = 0.02 is refused on this calibration (its 90% bound at the smallest
    # KL it saw is higher): said here, and 0.20 evaluated instead.
    PYTHONPATH="$root/python" /usr/bin/python3 -c 'import sys, forgetlab
try: print("F = 0.02: budget KL %.4f" % forgetlab.forecast(sys.argv[1]).budget(0.02))
except ValueError as e: print("F = 0.02: refused:", e)' "$out/lm-calib"
    jobs_file="$out/lm-jobs.txt"
    : >"$jobs_file"
    for seed in 1 2; do
        for m in sft rft grpo grpo-kl reinforce; do
            ep=2; [[ "$m" == sft || "$m" == rft ]] && ep=8
            for lr in 3e-5 1e-4 3e-4; do
                jobs "$jobs_file" "$out/lm-runs/$m-lr$lr-s$seed" \
                    "lm-finetune --base $cache/lm-quick-s$seed --method $m --lr $lr --epochs $ep --batch 16 --seed $seed" \
                    "--checkpoint-every 1" "$out/lm-calib" 0.05 0.10 0.20
            done
        done
    done
    finish "$jobs_file" "budget_eval lm"
    /usr/bin/python3 "$root/scripts/budget_tables.py" "$out" lm
    exit 0
fi
mkdir -p "$out/runs"
# The calibration: seed 0 alone. The other seeds' bases: a three-seed study
# of one run per seed, which pretrains each seed's base as the study does.
"$fl" study razor --quick --seeds 1 --out "$out/calib" >/dev/null
"$fl" study razor --quick --seeds 3 --methods sft1 --lrs 1e-3 --no-distill --out "$out/bases" >/dev/null
jobs_file="$out/jobs.txt"
: >"$jobs_file"
for seed in 1 2; do
    for m in sft1 sft2 oracle grpo grpo-kl reinforce; do
        for lr in 3e-5 1e-4 3e-4 1e-3; do
            jobs "$jobs_file" "$out/runs/$m-lr$lr-s$seed" \
                "finetune --base $out/bases/base_s$seed --method $m --lr $lr --seed $seed" "" "$out/calib" 0.02 0.05 0.10
        done
    done
done
finish "$jobs_file" "budget_eval"
/usr/bin/python3 "$root/scripts/budget_tables.py" "$out"
