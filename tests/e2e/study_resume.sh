#!/usr/bin/env bash
# study_resume.sh: the small two-seed study killed (kill -9) at random
# moments, several times, then rerun to the end, gives the rows of the
# uninterrupted single-process study (the ctest fixture study_reference);
# no worker outlives a killed study.
source "$(dirname "$0")/lib.sh"
reference_study || { finish; exit; }
# The killed study reuses the reference's base models, so only the sweep
# is compared.
mkdir -p "$T/killed"
cp -r "$REF/base" "$REF/base_s1" "$T/killed/"

RANDOM=42
for k in 1 2 3; do
    "$FL" study razor "${SMALL[@]}" --out "$T/killed" >/dev/null 2>&1 &
    pid=$!
    sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sleep 0.3
    if pgrep -f -- "--out $T/killed" >/dev/null; then bad "kill $k: workers outlived the study"; else ok "kill $k: no worker left"; fi
    echo "# after kill $k: $(sql "$T/killed/results.sqlite" "select count(*) from runs") runs done"
done
expect_exit 0 "the killed study resumes to the end" -- "$FL" study razor "${SMALL[@]}" --out "$T/killed"
same_rows "$REF/results.csv" "$T/killed/results.csv" "results.csv: the uninterrupted study's rows"
cmp -s "$REF/predictors.csv" "$T/killed/predictors.csv" && ok "predictors.csv identical" || bad "predictors.csv differs"
finish
