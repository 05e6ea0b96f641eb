#!/usr/bin/env bash
# sft_pairs.sh: do SFT1 and SFT2 fall on one forgetting-vs-KL curve, as the
# paper says? Four quick studies of sft1 and sft2 over the same base seeds:
# SFT2's pairs {0,4}/{1,5} and {6,8}/{7,9}, each with hard labels (drawn once
# per image) and soft 50/50 targets. Each study's methods.csv gives sft2's
# mean excess forgetting over sft1's curve at matched forward KL, with a
# 95% interval over resampled runs within resampled seeds.
#   usage: scripts/sft_pairs.sh OUT [SEEDS] [extra study options, e.g. without --quick: none]
set -euo pipefail
OUT=${1:?usage: scripts/sft_pairs.sh OUT [SEEDS]}
SEEDS=${2:-5}
FL=${FL:-$(dirname "$0")/../build/forgetlab}
mkdir -p "$OUT"
for variant in "pair04_15 0,4/1,5" "pair04_15_soft 0,4/1,5 --sft2-soft" "pair68_79 6,8/7,9" \
               "pair68_79_soft 6,8/7,9 --sft2-soft"; do
    set -- $variant
    name=$1 labels=$2
    shift 2
    "$FL" study razor --quick --seeds "$SEEDS" --methods sft1,sft2 --sft2-labels "$labels" "$@" \
        --out "$OUT/$name" --quiet > "$OUT/$name.txt"
done
printf "%-16s %8s %8s %8s   (sft2 minus sft1's curve at matched forward KL; runs: sft2)\n" variant gap lo hi
for d in "$OUT"/pair*/; do
    awk -F, -v name="$(basename "$d")" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
        $1 == "sft2" { printf "%-16s %8.4f %8.4f %8.4f   %s runs\n", name, $col["vs_sft1"], $col["vs_sft1_lo"],
                       $col["vs_sft1_hi"], $col["runs"] }' "$d/methods.csv"
done
