#!/usr/bin/env bash
# cs_ablation.sh: the circuit-stability ablation of docs/circuits.md: does
# CS fall with forgetting and rise with grokking, under each attribution
# loss x method x corruption, beside its random-split baseline?
#
#   scripts/cs_ablation.sh study OUT [SEEDS]   quick study per base seed and probe
#   scripts/cs_ablation.sh grok OUT PRESET [SEEDS] [EPOCHS] [SNAPSHOT_EVERY] [CONFIGS]
#   /usr/bin/python3 scripts/cs_ablation.py OUT   the tables (with run-level intervals)
#
# study: for each base seed s (default 0 1 2) a base model pretrained with
# --seed s, then `study razor --quick` once per probe configuration (the
# fine-tuning runs repeat identically; only the probe differs). grok: one
# run per seed with weight snapshots, then `circuits` by a and by answer on
# every snapshot for each configuration. Two jobs at a time (JOBS). Reruns
# skip what is done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FL="${FL:-$root/build/forgetlab}"
JOBS="${JOBS:-2}"
what="${1:?usage: cs_ablation.sh study|grok OUT ...}"
out="${2:?usage: cs_ablation.sh study|grok OUT ...}"
mkdir -p "$out/study" "$out/grok"

# method loss corrupt
STUDY_CONFIGS=("ap ce counterfactual" "ap ce within" "ap logit-diff counterfactual" "ap logit-diff within"
               "ap-ig ce counterfactual" "ap-ig ce within" "ap-ig logit-diff counterfactual"
               "ap-ig logit-diff within" "ap-ig kl counterfactual" "ap-ig kl within")
GROK_CONFIGS=("${STUDY_CONFIGS[@]}" "eap-ig ce counterfactual" "eap-ig ce within" "eap-ig logit-diff counterfactual"
              "eap-ig logit-diff within" "eap-ig kl counterfactual" "eap-ig kl within")

study_one() { # seed method loss corrupt
    local d="$out/study/s$1/$2-$3-$4"
    [[ -s "$d/results.csv" ]] && return 0
    mkdir -p "$d" && cp -r "$out/study/s$1/base" "$d/base"
    "$FL" study razor --quick --no-distill --jobs 1 --threads 1 --cs-method "$2" --cs-loss "$3" --cs-corrupt "$4" \
        --out "$d" > "$d.log" 2>&1
}

grok_one() { # dir snapshot method loss corrupt subtasks
    local o="$1/circuits/$(basename "$2" .safetensors)/$3-$4-$5-$6"
    [[ -s "$o/summary.json" ]] && return 0
    "$FL" circuits --model "$2" --task modarith --subtasks "$6" --method "$3" --loss "$4" --corrupt "$5" \
        --examples 32 --threads 1 --out "$o" > /dev/null
}
export -f study_one grok_one
export FL out

case "$what" in
study)
    seeds=(${3:-0 1 2})
    for s in "${seeds[@]}"; do
        [[ -s "$out/study/s$s/base/model.safetensors" ]] ||
            "$FL" pretrain --seed "$s" --threads 2 --out "$out/study/s$s/base" > /dev/null 2>&1
    done
    for s in "${seeds[@]}"; do for c in "${STUDY_CONFIGS[@]}"; do echo "$s $c"; done; done |
        xargs -P "$JOBS" -L 1 bash -c 'study_one "$@"' _
    ;;
grok)
    preset="${3:?preset}" seeds=(${4:-0 1 2}) epochs="${5:-}" every="${6:-250}"
    configs=("${GROK_CONFIGS[@]}")
    [[ -n "${7:-}" ]] && IFS=',' read -r -a configs <<< "$7"
    for s in "${seeds[@]}"; do
        echo "$preset $s"
    done | xargs -P "$JOBS" -L 1 bash -c '
        d="$out/grok/$0-s$1"
        [[ -s "$d/summary.json" ]] || "$FL" grok --preset "$0" --seed "$1" --threads 1 --snapshot-every '"$every"' \
            '"${epochs:+--epochs $epochs}"' --out "$d" > "$d.log" 2>&1'
    for s in "${seeds[@]}"; do
        d="$out/grok/$preset-s$s"
        for snap in "$d"/snapshots/*.safetensors; do
            for c in "${configs[@]}"; do
                for sub in by-a by-answer; do echo "$d $snap $c $sub"; done
            done
        done
    done | xargs -P "$JOBS" -L 1 bash -c 'grok_one "$@"' _
    ;;
*) echo "cs_ablation.sh: expected study or grok" >&2; exit 2 ;;
esac
