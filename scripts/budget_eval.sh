#!/usr/bin/env bash
# budget_eval.sh: does a forgetting budget keep its promise on runs the
# forecast never saw? (docs/budget.md) The forecast is calibrated on one
# base seed's quick razor study (seed 0); budgeted runs fine-tune the bases
# of OTHER seeds (1 and 2), every method at a spread of rates, under
# budgets F in {0.02, 0.05, 0.10} at the 90% level, each beside the same
# run unbudgeted. Resumable: a run whose summary.json exists is not redone.
# Then scripts/budget_tables.py prints the tables and draws the figures.
#
#   scripts/budget_eval.sh OUT        (about 10 minutes on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fl="$root/build/forgetlab"
out="${1:?usage: scripts/budget_eval.sh OUT}"
mkdir -p "$out/runs"
start=$(date +%s)
# The calibration: seed 0 alone. The other seeds' bases: a three-seed study
# of one run per seed, which pretrains each seed's base as the study does.
"$fl" study razor --quick --seeds 1 --out "$out/calib" >/dev/null
"$fl" study razor --quick --seeds 3 --methods sft1 --lrs 1e-3 --no-distill --out "$out/bases" >/dev/null
jobs_file="$out/jobs.txt"
: >"$jobs_file"
for seed in 1 2; do
    for m in sft1 sft2 oracle grpo grpo-kl reinforce; do
        for lr in 3e-5 1e-4 3e-4 1e-3; do
            base="$out/bases/base_s$seed"
            echo "$out/runs/$m-lr$lr-s$seed-free finetune --base $base --method $m --lr $lr --seed $seed" >>"$jobs_file"
            for F in 0.02 0.05 0.10; do
                echo "$out/runs/$m-lr$lr-s$seed-F$F finetune --base $base --method $m --lr $lr --seed $seed" \
                     "--checkpoint-every 0.02 --max-forgetting $F --calibration $out/calib" >>"$jobs_file"
            done
        done
    done
done
# Two runs at a time, one thread each.
run_one() {
    local dir="$1"; shift
    [[ -s "$dir/summary.json" ]] && return 0
    "$fl" "$@" --threads 1 --overwrite --out "$dir" >/dev/null 2>"$dir.err" || { echo "failed: $dir" >&2; return 1; }
    rm -f "$dir.err"
}
export -f run_one
export fl
xargs -P 2 -L 1 bash -c 'run_one "$@"' _ <"$jobs_file"
echo "budget_eval: $(wc -l <"$jobs_file") runs in $(( $(date +%s) - start )) s"
/usr/bin/python3 "$root/scripts/budget_tables.py" "$out"
