#!/usr/bin/env bash
# grok_small.sh: a tiny grok run and its circuits, fast enough for the
# ASan/UBSan build: every grok code path (training, evaluation, progress
# measures, circuit stability, checkpoint, resume of a finished run, plots)
# and circuits --task modarith with ap, eap, mean and zero corruption.
source "$(dirname "$0")/lib.sh"
G="$T/g"
ARGS=(grok --p 11 --frac 0.5 --d-model 16 --heads 2 --d-mlp 24 --epochs 40 --log-every 10 --measure-every 20
      --checkpoint-every 20 --threads 1 --out "$G")
expect_exit 0 "tiny grok run" -- "$FL" "${ARGS[@]}"
check "len(open('$G/metrics.jsonl').readlines()) == 4" "4 metrics lines"
check "(lambda j: all(k in j for k in ('cs_by_a', 'cs_by_a_random', 'cs_by_a_random_lo', 'cs_by_a_random_hi', \
       'cs_by_answer', 'cs_by_answer_random')) and j['cs_by_a_random_lo'] <= j['cs_by_a_random'] <= \
       j['cs_by_a_random_hi'])(__import__('json').loads(open('$G/metrics.jsonl').readlines()[1]))" \
      "CS by a and by answer, with baselines, logged at a measure epoch"
[ -s "$G/circuit_stability.png" ] && ok "circuit stability plotted" || bad "circuit_stability.png missing"
[ -s "$G/spectrum.png" ] && ok "plots written" || bad "plots missing"
expect_exit 0 "rerun of a finished run" -- "$FL" "${ARGS[@]}"
expect_stderr "nothing to do" "  ... says it is complete"
expect_exit 0 "report rebuilds a grok run's plots" -- "$FL" report "$G"
# A finished run continues to a larger --epochs, bit-identical to a run
# started with it; its wall time sums both parts.
w1=$(json_get "$G/summary.json" wall_time_s)
expect_exit 0 "extend the finished run to 80 epochs" -- "$FL" "${ARGS[@]}" --epochs 80
expect_stderr "resuming" "  ... resumes it"
expect_exit 0 "the same run started with 80 epochs" -- "$FL" "${ARGS[@]/$G/$T/g80}" --epochs 80
cmp -s "$G/model.safetensors" "$T/g80/model.safetensors" && ok "  ... identical weights" || bad "extended weights differ"
/usr/bin/python3 - "$G/metrics.jsonl" "$T/g80/metrics.jsonl" <<'PY' && ok "  ... identical metrics (timings aside)" || bad "extended metrics differ"
import json, sys
a, b = ([{k: v for k, v in json.loads(l).items() if k != "epoch_ms"} for l in open(p)] for p in sys.argv[1:3])
assert a == b, (len(a), len(b))
PY
check "(lambda s: s['wall_time_parts'] == 2 and s['wall_time_s'] >= $w1 and s['epochs'] == 80)\
       (__import__('json').load(open('$G/summary.json')))" "  ... wall_time_s sums its 2 parts"
for m in "ap counterfactual ce" "ap mean ce" "ap zero logit-diff" "ap within ce" "ap-ig within kl" \
         "ap-ig counterfactual ce" "eap counterfactual ce" "eap zero ce" "eap-ig counterfactual kl" "eap-ig within kl"; do
    set -- $m
    expect_exit 0 "circuits modarith $1 $2 $3" -- "$FL" circuits --model "$G" --task modarith --subtasks random:3 \
        --method "$1" --corrupt "$2" --loss "$3" --out "$T/c-$1-$2"
done
expect_exit 2 "random splits that leave a group empty" -- "$FL" circuits --model "$G" --task modarith \
    --subtasks random:200 --out "$T/c6"
expect_stderr "no equations" "  ... says which"
expect_exit 0 "a two-operation, two-layer, LayerNorm, GELU, minibatch run" -- "$FL" grok --p 7 --op +,x2+y2 \
    --layers 2 --layernorm --act gelu --batch 16 --d-model 8 --heads 2 --d-mlp 8 --epochs 20 --log-every 10 \
    --measure-every 10 --checkpoint-every 10 --threads 1 --out "$T/g2"
expect_exit 0 "its node circuits (ap-ig, kl), checked against real patching" -- "$FL" circuits --model "$T/g2" \
    --task modarith --subtasks by-answer --check-patching 20 --out "$T/c2"
# Both Spearman correlations, recomputed in NumPy from the saved arrays.
/usr/bin/python3 - "$T/c2" <<'PY' && ok "patching.json: the Spearman correlations equal NumPy's" || bad "patching.json"
import json, sys
import numpy as np
d = sys.argv[1]
r = json.load(open(f"{d}/patching.json"))
s, c = np.load(f"{d}/patching_scores.npy").astype(np.float64), np.load(f"{d}/patching_changes.npy").astype(np.float64)
assert r["examples"] == 20 and r["components"] == 2 * (2 + 1 + 8) and s.shape == c.shape == (20, 22), (r, s.shape)
def ranks(v):  # average ranks of ties, 1-based
    order = np.argsort(v, kind="stable"); r = np.empty(len(v)); sv = v[order]; i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and sv[j + 1] == sv[i]: j += 1
        r[order[i:j + 1]] = (i + j) / 2 + 1; i = j + 1
    return r
rho = lambda a, b: np.corrcoef(ranks(a), ranks(b))[0, 1]
assert abs(rho(s.ravel(), c.ravel()) - r["spearman_pairs"]) < 1e-6, (rho(s.ravel(), c.ravel()), r)
assert abs(rho(s.mean(0), c.mean(0)) - r["spearman_means"]) < 1e-6, (rho(s.mean(0), c.mean(0)), r)
PY
expect_exit 2 "--check-patching with eap" -- "$FL" circuits --model "$G" --task modarith --subtasks by-a \
    --method eap --loss ce --check-patching 5 --out "$T/c5"
expect_exit 0 "eap-ig with the KL loss" -- "$FL" circuits --model "$G" --task modarith --subtasks random:3 \
    --method eap-ig --steps 3 --loss kl --out "$T/c-kl"
expect_exit 2 "--steps without ap-ig or eap-ig" -- "$FL" circuits --model "$G" --task modarith --subtasks by-a \
    --method ap --loss ce --steps 3 --out "$T/c4"
expect_exit 1 "eap refuses LayerNorm models" -- "$FL" circuits --model "$T/g2" --task modarith --subtasks by-a \
    --method eap --loss ce --out "$T/c3"
finish
