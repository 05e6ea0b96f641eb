#!/usr/bin/env bash
# razor_seeds.sh (make check-long): `study razor --quick --seeds 2` end to
# end (two base models, the whole quick grid and its distill runs from
# each): the tables carry run-level intervals and say how many seeds.
source "$(dirname "$0")/../e2e/lib.sh"
S="$T/study"
expect_exit 0 "study razor --quick --seeds 2" -- "$FL" study razor --quick --seeds 2 --out "$S"
check "$(sql "$S/results.sqlite" "select count(*) from runs") == 80" "80 runs (35 + 5 distill per seed)"
check "$(sql "$S/results.sqlite" "select count(distinct seed) from runs where method = 'distill'") == 2" \
    "distill runs from each seed's teacher"
/usr/bin/python3 - "$S" <<'PY' && ok "predictors.csv and frontier.csv hold the issue's columns" || bad "tables"
import csv, sys
d = sys.argv[1]
pred = list(csv.DictReader(open(f"{d}/predictors.csv")))
assert set(pred[0]) >= {"predictor", "r2", "r2_lo", "r2_hi", "n", "spearman", "side", "r2_lomo", "r2_lomo_lo",
                        "r2_lomo_hi"}, pred[0].keys()
front = list(csv.DictReader(open(f"{d}/frontier.csv")))
assert all(r["area"] and (r["exp_a"] == "") == (r["exp"] == "not identifiable") for r in front), front
PY
grep -q "from 2 seeds" "$S/index.html" && ok "index.html says 2 seeds" || bad "index.html does not give the seed count"
finish
