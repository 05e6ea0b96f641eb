#!/usr/bin/env bash
# study_continual.sh: `study continual` on Split MNIST, class-incremental
# (naive, replay and EWC; quick), writes what docs/continual.md promises:
# every run's accuracy matrix, results.csv with a row per run, boundary and
# task, metrics.csv, methods.csv, predictors.csv, the plots and index.html; naive
# fine-tuning forgets (BWT below -0.5) and replay much less; a killed study
# resumes to the same rows, as do the study over MPI ranks and in shards
# merged; a study resumed by another build or on other matrix kernels
# warns and records both;
# `report` rebuilds it; bad input exits 2.
source "$(dirname "$0")/lib.sh"
GRID=(study continual --benchmark split-mnist --scenario class --quick --methods naive,replay,ewc --threads 2)
expect_exit 0 "study continual (split-mnist, class, quick)" -- "$FL" "${GRID[@]}" --out "$T/ref"
for f in results.sqlite results.csv metrics.csv methods.csv predictors.csv index.html average_accuracy.png forgetting_vs_kl.png \
         accuracy_naive_s0.png runs/naive_lr1.00e-03_constant_e1_s0/accuracy_matrix.npy; do
    [ -s "$T/ref/$f" ] && ok "$f written" || bad "$f missing"
done
check "(lambda rows: len(rows) == 3 * 25 and all(0 <= float(r['acc']) <= 1 for r in rows)) \
       (list(__import__('csv').DictReader(open('$T/ref/results.csv'))))" "results.csv: 3 runs x 5 boundaries x 5 tasks"
check "(lambda m: m['naive']['bwt'] < -0.5 and m['replay']['bwt'] > m['naive']['bwt'] + 0.2 \
       and all(-1 <= m[k]['forgetting_max'] <= 1 for k in m)) \
       ({r['method']: {k: float(v) for k, v in r.items() if k not in ('run', 'method')} \
         for r in __import__('csv').DictReader(open('$T/ref/metrics.csv'))})" \
      "naive forgets (BWT < -0.5), replay far less"
check "(lambda m: [r['method'] for r in m] == ['naive', 'replay', 'ewc'] and m[0]['seeds'] == '1' \
       and m[0]['avg_acc_lo'] == '' and float(m[0]['avg_acc']) < float(m[1]['avg_acc'])) \
       (list(__import__('csv').DictReader(open('$T/ref/methods.csv'))))" \
      "methods.csv: a row per method (one seed: no interval)"
check "(lambda p, m: all(-1 <= float(p[0][k]) <= 1 for k in ('spearman', 'spearman_between', 'spearman_within')) \
       and all(float(r['kl_new']) >= 0 and -1 <= float(r['step_forgetting']) <= 1 for r in m)) \
       (list(__import__('csv').DictReader(open('$T/ref/predictors.csv'))), \
        list(__import__('csv').DictReader(open('$T/ref/methods.csv'))))" \
      "the boundary KL's sign between and within methods, each method's mean KL and step forgetting"
check "(lambda a: a.shape == (5, 5) and abs(a[0, 0] - 1) < 0.05)(__import__('numpy').load( \
       '$T/ref/runs/naive_lr1.00e-03_constant_e1_s0/accuracy_matrix.npy'))" "accuracy_matrix.npy: 5 x 5, task 0 learnt"

"$FL" "${GRID[@]}" --out "$T/killed" >/dev/null 2>&1 &
pid=$!
wait_runs "$T/killed/results.sqlite" 1 60 || true
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
expect_exit 0 "the killed study resumes" -- "$FL" "${GRID[@]}" --out "$T/killed"
same_rows "$T/ref/results.csv" "$T/killed/results.csv" "  ... results.csv = the uninterrupted study's"
# Over MPI ranks, and as two shards merged: the same rows.
spread_same_rows "study continual" "$T/ref/results.csv" -- "${GRID[@]}"
[ -s "$T/merged/metrics.csv" ] && ok "  ... analysed as a continual study" || bad "  ... no metrics.csv"

# A study resumed by another build (or on other kernels) says so and
# records both.
check "'$(sql "$T/merged/results.sqlite" "select value from study where key = 'blas'")' == \
       '$(sql "$T/ref/results.sqlite" "select value from study where key = 'blas'")' != ''" \
    "results.sqlite records the matrix kernels, and merge carries them"
check "'$(sql "$T/ref/results.sqlite" "select value from study where key = 'build'")'.startswith('0.')" \
    "results.sqlite records the build that made the study"
/usr/bin/python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); \
    c.execute(\"update study set value = '0.0.0+older' where key in ('build', 'builds')\"); \
    c.execute(\"update study set value = 'OpenBLAS 0.0 Older' where key in ('blas', 'blas_all')\"); c.commit()" \
    "$T/ref/results.sqlite"
expect_exit 0 "the study resumed by another build on other kernels" -- "$FL" "${GRID[@]}" --out "$T/ref"
expect_stderr "begun by another build of forgetlab \(0\.0\.0\+older" "  ... warns that the runs come from two builds"
expect_stderr "begun on other matrix kernels \(OpenBLAS 0\.0 Older; these are OpenBLAS" \
    "  ... and from two sets of matrix kernels"
check "'$(sql "$T/ref/results.sqlite" "select value from study where key = 'blas_all'")'.startswith('OpenBLAS 0.0 Older,OpenBLAS')" \
    "  ... and records both"
check "'$(sql "$T/ref/results.sqlite" "select value from study where key = 'builds'")'.startswith('0.0.0+older,0.')" \
    "  ... and records both"
rm "$T/ref/index.html"
expect_exit 0 "report rebuilds it" -- "$FL" report "$T/ref"
[ -s "$T/ref/index.html" ] && ok "  ... index.html again" || bad "  ... no index.html"

CASES=("an unknown benchmark|2|unknown benchmark|--benchmark split-cifar"
       "an unknown scenario|2|unknown scenario|--scenario instance"
       "an unknown method|2|unknown method|--methods naive,gem"
       "replay with a buffer of 0|2|buffer|--methods replay --buffer 0"
       "a negative EWC lambda|2|ewc-lambda|--methods ewc --ewc-lambda -1")
refuses "study continual" CASES -- "$FL" "${GRID[@]}" --out "$T/bad"
expect_exit 2 "no benchmark" -- "$FL" study continual --scenario task --out "$T/bad"
expect_stderr "benchmark" "  ... says 'benchmark'"

# `compare` lays this study beside a tiny grok-forget one: findings.csv
# holds each study's own predictors.csv numbers, the other tables exist;
# the grok run of its base gives the same circuit-stability rows; a
# directory that is neither a study nor a grok run, and a study of a known
# setting with other columns, are refused.
expect_exit 0 "a tiny grokked base" -- "$FL" grok --preset tiny --reserve-ops 1 --intro-new 32 --epochs 700 \
    --measure-every 350 --cs-examples 8 --threads 1 --out "$T/gbase"
expect_exit 0 "a tiny grok-forget study" -- "$FL" study grok-forget --base "$T/gbase" --methods sft1,grpo \
    --lrs 1e-3,3e-4 --epochs 1 --checkpoint-every 0.5 --cs-per 4 --threads 2 --out "$T/gf"
expect_exit 0 "compare the two settings and the grok run" -- "$FL" compare "$T/ref" "$T/gf" "$T/gbase" --out "$T/cmp"
for f in findings.csv ranking.csv rl_vs_sft.csv cs.csv heatmap.png findings.html ranking_grok-forget-default.png \
    ranking_continual-split-mnist-class.png cs_grokking_cs_by_answer_excess.png cs_grokking_cs_by_a_excess.png; do
    [ -s "$T/cmp/$f" ] && ok "  ... $f written" || bad "compare: $f missing"
done
/usr/bin/python3 - "$T" <<'PY' && ok "findings.csv: each study's own predictors.csv numbers" || bad "findings.csv"
import csv, sys
t = sys.argv[1]
rows = list(csv.DictReader(open(f"{t}/cmp/findings.csv")))
assert {r["setting"] for r in rows} == {"continual-split-mnist-class", "grok-forget-default"}, rows[0]
for study in ("ref", "gf"):
    own = {r["predictor"]: r for r in csv.DictReader(open(f"{t}/{study}/predictors.csv"))}
    mine = {r["predictor"]: r for r in rows if r["study"].endswith("/" + study)}
    assert set(own) == set(mine) and "forward_kl_new" in mine, (study, set(own) ^ set(mine))
    for p, r in own.items():
        for k in ("r2", "r2_lo", "r2_hi", "spearman", "r2_lomo"):
            assert mine[p][k] == r.get(k, ""), (study, p, k, mine[p][k], r.get(k))
    assert int(mine["forward_kl_new"]["n_runs"]) > 0 and int(mine["forward_kl_new"]["seeds"]) == 1
rank = [r for r in csv.DictReader(open(f"{t}/cmp/ranking.csv")) if r["study"].endswith("/gf")]
assert rank and all(float(a["score"]) >= float(b["score"]) for a, b in zip(rank, rank[1:]))
# Each predictor's paired difference from the first is the study's own,
# and "apart" says whether it leaves out 0.
own = {r["predictor"]: r for r in csv.DictReader(open(f"{t}/gf/predictors.csv"))}
for r in rank[1:]:
    assert all(r[k] == own[r["predictor"]][k] for k in ("vs_best", "vs_best_lo", "vs_best_hi")), (r, own[r["predictor"]])
    paired = r["vs_best_hi"] != "" and (float(r["vs_best_hi"]) < 0 or float(r["vs_best_lo"]) > 0)
    assert r["apart_from_best"] == ("yes" if paired else "no"), r
cs = list(csv.DictReader(open(f"{t}/cmp/cs.csv")))
assert any(r["against"] == "grokking" and r["seed"] == "0" for r in cs)
# The grok run: its own setting, circuit stability at memorisation and at
# the end as the grok-forget study reads the same run (its base).
run = {r["measure"]: r for r in cs if r["setting"] == "grok"}
study = {r["measure"]: r for r in cs if r["study"].endswith("/gf") and r["against"] == "grokking"}
assert set(run) == {"cs_by_a_excess", "cs_by_answer_excess"}, run
for m in run:
    assert (run[m]["at_memorised"], run[m]["at_end"]) == (study[m]["at_memorised"], study[m]["at_end"]), (m, run, study)
assert not any(r["setting"] == "grok" for r in rows)
# rl_vs_sft.csv: the grok-forget study's own rows (sft1 against grpo), and
# "apart" when the paired interval of the gap leaves out 0.
own = list(csv.DictReader(open(f"{t}/gf/rl_vs_sft.csv")))
mine = [r for r in csv.DictReader(open(f"{t}/cmp/rl_vs_sft.csv")) if r["study"].endswith("/gf")]
assert own and len(own) == len(mine), (own, mine)
for a, b in zip(own, mine):
    assert all(b[k] == v for k, v in a.items()) and (a["rl_method"], a["sft_method"]) == ("grpo", "sft1"), (a, b)
    assert b["apart"] == ("yes" if float(a["gap_lo"]) > 0 or float(a["gap_hi"]) < 0 else "no"), b
PY
# The Python reader gives the same four tables, row by row.
PYTHONPATH="$(cd "$(dirname "$0")/../../python" && pwd)" /usr/bin/python3 - "$T" <<'PY' \
    && ok "forgetlab.compare (Python) gives compare's tables" || bad "forgetlab.compare differs from compare"
import csv, math, sys
import forgetlab
t = sys.argv[1]
mine = forgetlab.compare([f"{t}/ref", f"{t}/gf", f"{t}/gbase"])
def same(a, b):
    if b is None or isinstance(b, bool):
        return a == ("" if b is None else "yes" if b else "no")
    if isinstance(b, (int, float)):
        return math.isnan(b) if a == "" else math.isclose(float(a), b, rel_tol=1e-5, abs_tol=1e-9)
    return a == str(b)
for name, rows in mine.items():
    theirs = list(csv.DictReader(open(f"{t}/cmp/{name}.csv")))
    assert len(theirs) == len(rows), (name, len(theirs), len(rows))
    for a, b in zip(theirs, rows):
        assert all(same(a[k], b[k]) for k in a), (name, a, b)
PY
expect_exit 2 "compare: a directory that is not a study" -- "$FL" compare "$T/ref/runs" --out "$T/cmp2"
expect_stderr "not a study" "  ... says so"
cp -r "$T/gf" "$T/gf2" && sed -i '1s/,spearman,/,rho,/' "$T/gf2/predictors.csv"
expect_exit 2 "compare: one setting, other columns" -- "$FL" compare "$T/gf" "$T/gf2" --out "$T/cmp3"
expect_stderr "same setting" "  ... says so"
finish
