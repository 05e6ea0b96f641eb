#!/usr/bin/env bash
# study_grokforget.sh: `forgetlab study grok-forget` end to end on a tiny
# grokked base: the refusals (a base that never grokked, one without the
# new task's token, an unknown task), then two methods at one rate: the
# grokking phase and the fine-tuning checkpoints in results.csv with their
# phase, each number the one its run logged, the fits and the life figure;
# two shards merged give the same rows.
source "$(dirname "$0")/lib.sh"
B="$T/base"
expect_exit 0 "a tiny grokked base with the new task's token" -- "$FL" grok --preset tiny --reserve-ops 1 \
    --intro-new 32 --epochs 700 --measure-every 350 --cs-examples 8 --threads 1 --out "$B"
check "__import__('json').load(open('$B/summary.json'))['grokked_epoch'] is not None" "  ... it grokked"
expect_exit 0 "a base stopped before grokking" -- "$FL" grok --preset tiny --reserve-ops 1 --epochs 100 \
    --measure-every 50 --threads 1 --out "$T/early"
expect_exit 1 "  ... is refused" -- "$FL" study grok-forget --base "$T/early" --out "$T/s0"
expect_stderr "never grokked" "  ... saying it never grokked"
expect_exit 0 "a base without a reserved token" -- "$FL" grok --p 7 --frac 0.5 --d-model 8 --heads 2 --d-mlp 8 \
    --epochs 20 --log-every 10 --measure-every 10 --checkpoint-every 10 --threads 1 --out "$T/plain"
expect_exit 2 "an unknown new task" -- "$FL" study grok-forget --base "$B" --new-task parity --out "$T/s1"
expect_stderr "unknown task" "  ... names it"
S="$T/study"
ARGS=(study grok-forget --base "$B" --methods sft1,grpo --lrs 1e-3 --epochs 2 --checkpoint-every 1 --cs-per 4
      --threads 2 --out "$S")
expect_exit 0 "a study of sft1 and grpo at one rate" -- "$FL" "${ARGS[@]}"
for f in results.csv predictors.csv frontier.csv methods.csv rl_vs_sft.csv index.html life_sft1.png life_grpo.png; do
    [ -s "$S/$f" ] && ok "  ... $f written" || bad "$f missing"
done
/usr/bin/python3 - "$S" "$B" <<'PY' && ok "results.csv: both phases, each row the number its run logged" || bad "results.csv"
import csv, json, math, sys
s, b = sys.argv[1:3]
rows = list(csv.DictReader(open(f"{s}/results.csv")))
need = {"phase", "old_acc", "new_acc", "forgetting", "forward_kl_new", "cs_by_a", "cs_by_a_random", "fourier_share"}
assert need <= set(rows[0]), need - set(rows[0])
grok = [r for r in rows if r["phase"] == "grok"]
ft = [r for r in rows if r["phase"] == "finetune"]
assert {r["method"] for r in ft} == {"sft1", "grpo"} and len(ft) == 4, [(r["method"], r["epoch"]) for r in ft]
logged = [json.loads(l) for l in open(f"{b}/metrics.jsonl") if "cs_by_a" in l]
assert len(grok) == len(logged) == 2, (len(grok), len(logged))
for r, l in zip(sorted(grok, key=lambda r: float(r["epoch"])), logged):
    for k, src in (("old_acc", "test_acc"), ("cs_by_a", "cs_by_a"), ("fourier_share", "fourier_share")):
        assert math.isclose(float(r[k]), l[src], rel_tol=1e-6), (k, r[k], l[src])
    assert r["forgetting"] == "" and r["new_acc"] == ""
for r in ft:
    lines = [json.loads(l) for l in open(f"{s}/runs/{r['run_id']}/metrics.jsonl")]
    l = next(l for l in lines if math.isclose(l["epoch"], float(r["epoch"])))
    for k in ("old_acc", "new_acc", "forgetting", "forward_kl_new", "cs_by_a", "fourier_share", "life_epoch"):
        assert math.isclose(float(r[k]), l[k], rel_tol=1e-6, abs_tol=1e-9), (k, r[k], l[k])
    assert math.isclose(float(r["forgetting"]), float(r["old_acc_base"]) - float(r["old_acc"]), abs_tol=1e-9)
    assert float(r["forward_kl_new"]) >= 0 and float(r["life_epoch"]) > 700
PY
check "{r['predictor'] for r in __import__('csv').DictReader(open('$S/predictors.csv'))} >= \
       {'forward_kl_new', 'cs_by_a', 'fourier_share'}" "predictors.csv fits the KL, circuit stability and Fourier share"
expect_exit 0 "a rerun resumes (nothing left)" -- "$FL" "${ARGS[@]}"
# The same grid in two shards, merged: the same rows as one process.
for i in 1 2; do
    expect_exit 0 "shard $i/2" -- "$FL" "${ARGS[@]/$S/$T/sh$i}" --shard $i/2
done
expect_exit 0 "merge of the two shards" -- "$FL" merge "$T/sh1" "$T/sh2" --out "$T/merged"
cmp -s <(sort "$S/results.csv") <(sort "$T/merged/results.csv") && ok "  ... the rows of the single-process study" \
    || bad "merged rows differ"
expect_exit 1 "a base without the new task's token is refused" -- "$FL" study grok-forget --base "$T/plain" \
    --methods sft1 --lrs 1e-3 --epochs 1 --out "$T/s2"
expect_stderr "reserve|never grokked" "  ... with the reason"
finish
