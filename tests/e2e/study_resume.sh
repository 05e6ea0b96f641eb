#!/usr/bin/env bash
# study_resume.sh: a quick study (three methods, no distill) killed (kill -9)
# at random moments, several times, then rerun to the end, gives the same
# results.csv as an uninterrupted run; no worker outlives a killed study.
source "$(dirname "$0")/lib.sh"
GRID=(--quick --methods sft1,sft2,grpo --no-distill --checkpoint-every 0.5)
DATA="${FORGETLAB_DATA:?set FORGETLAB_DATA}"
# Both studies share one base model, so only the sweep is compared.
expect_exit 0 "base model" -- "$FL" pretrain --out "$T/base"
mkdir -p "$T/ref" "$T/killed"
cp -r "$T/base" "$T/ref/base"
cp -r "$T/base" "$T/killed/base"
expect_exit 0 "uninterrupted quick study" -- "$FL" study razor "${GRID[@]}" --out "$T/ref"

RANDOM=42
for k in 1 2 3; do
    "$FL" study razor "${GRID[@]}" --out "$T/killed" >/dev/null 2>&1 &
    pid=$!
    sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sleep 0.3
    if pgrep -f -- "--out $T/killed" >/dev/null; then bad "kill $k: workers outlived the study"; else ok "kill $k: no worker left"; fi
    echo "# after kill $k: $(sql "$T/killed/results.sqlite" "select count(*) from runs") runs done"
done
expect_exit 0 "the killed study resumes to the end" -- "$FL" study razor "${GRID[@]}" --out "$T/killed"
cmp -s "$T/ref/results.csv" "$T/killed/results.csv" && ok "results.csv identical to the uninterrupted run" \
    || bad "results.csv differs: $(diff "$T/ref/results.csv" "$T/killed/results.csv" | head -3)"
cmp -s "$T/ref/predictors.csv" "$T/killed/predictors.csv" && ok "predictors.csv identical" || bad "predictors.csv differs"
finish
