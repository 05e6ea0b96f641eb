#!/usr/bin/env bash
# grok.sh: the tiny grokking preset memorises and then groks, on two seeds;
# its run directory holds what PRODUCT.md promises; circuits of the grokked
# model match NumPy; a run killed (kill -9) at random moments and rerun ends
# bitwise identical to an uninterrupted one; bad flags are refused with exit
# 2. One BLAS thread: the model is small, and two threads on a busy machine
# ran 35x slower (tests/long/grok_quick.sh runs the quick preset).
source "$(dirname "$0")/lib.sh"

expect_exit 0 "grok --preset tiny" -- "$FL" grok --preset tiny --out "$T/quick" --threads 1
for f in config.json metrics.jsonl summary.json model.safetensors state.safetensors \
         accuracy.png accuracy.svg loss.png progress.png weight_norm.png spectrum.png circuit_stability.png; do
    [ -s "$T/quick/$f" ] && ok "quick: $f written" || bad "quick: $f missing"
done
check_groks "$T/quick" quick
# Grokking is not one seed's accident.
expect_exit 0 "grok --preset tiny --seed 1 (to its grokking)" -- "$FL" grok --preset tiny --seed 1 --stop-at-grok \
    --out "$T/seed1" --threads 1 --quiet
check "(lambda s: s['memorized_epoch'] is not None and s['grokked_epoch'] is not None and \
       s['grokked_epoch'] > s['memorized_epoch'])(__import__('json').load(open('$T/seed1/summary.json')))" \
      "seed 1 groks after it memorises too"
check "__import__('json').loads(open('$T/quick/metrics.jsonl').readlines()[-1]).get('restricted_loss') is not None" \
      "quick: progress measures logged"

# Circuits of the grokked model: node AP by a, EAP by answer; the Spearman
# matrix and CS equal a NumPy recomputation from vectors.npy.
CHK="$(dirname "$0")/check_circuits.py"
expect_exit 0 "circuits modarith by-a (ap)" -- "$FL" circuits --model "$T/quick" --task modarith --subtasks by-a \
    --loss logit-diff --out "$T/c-ap"
cs=$(/usr/bin/python3 "$CHK" "$T/c-ap" 31 133) && ok "ap: spearman and CS match NumPy (CS $cs)" || bad "ap recomputation"
expect_exit 0 "circuits modarith by-answer (eap)" -- "$FL" circuits --model "$T/quick" --task modarith \
    --subtasks by-answer --method eap --loss ce --out "$T/c-eap"
cs=$(/usr/bin/python3 "$CHK" "$T/c-eap" 31 23) && ok "eap: spearman and CS match NumPy (CS $cs)" || bad "eap recomputation"
check "__import__('json').load(open('$T/c-eap/components.json'))[0] == 'embed->blocks.0.attn.head.0.q'" "eap: edge names"
expect_exit 2 "modarith by-class is refused" -- "$FL" circuits --model "$T/quick" --task modarith --subtasks by-class --out "$T/x"
expect_exit 2 "eap with mean ablation is refused" -- "$FL" circuits --model "$T/quick" --task modarith \
    --subtasks by-a --method eap --loss ce --corrupt mean --out "$T/x"
expect_exit 1 "a missing model" -- "$FL" circuits --model "$T/nope" --task modarith --subtasks by-a --out "$T/x"

# Resume: a short run interrupted with kill -9 several times, then rerun to
# the end, equals the uninterrupted run (metrics, summary's epochs, weights).
ARGS=(grok --preset tiny --epochs 1000 --checkpoint-every 50 --threads 1)
expect_exit 0 "uninterrupted short run" -- "$FL" "${ARGS[@]}" --out "$T/ref"
RANDOM=7
for k in 1 2 3; do
    "$FL" "${ARGS[@]}" --out "$T/killed" >/dev/null 2>&1 &
    pid=$!
    sleep "$((RANDOM % 2)).$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
expect_exit 0 "the killed run resumes to the end" -- "$FL" "${ARGS[@]}" --out "$T/killed"
# Every logged figure but the timing (epoch_ms) must be identical.
/usr/bin/python3 - "$T/ref/metrics.jsonl" "$T/killed/metrics.jsonl" <<'PY' \
    && ok "metrics.jsonl identical to the uninterrupted run (timings aside)" || bad "metrics.jsonl differs"
import json, sys
a, b = ([{k: v for k, v in json.loads(l).items() if k != "epoch_ms"} for l in open(f)] for f in sys.argv[1:])
assert len(a) == len(b) and a == b, next(((x, y) for x, y in zip(a, b) if x != y), (len(a), len(b)))
PY
cmp -s "$T/ref/model.safetensors" "$T/killed/model.safetensors" && ok "weights identical" || bad "weights differ"
expect_exit 1 "a different configuration in the same directory is refused" -- \
    "$FL" "${ARGS[@]}" --lr 2e-3 --out "$T/killed"
expect_stderr "holds a .grok. run of another configuration \(lr = " "  ... and the message names the setting"

expect_exit 2 "--p 100 (not a prime)" -- "$FL" grok --p 100 --out "$T/x"
expect_stderr "not a prime" "  ... says why"
expect_exit 2 "--op %" -- "$FL" grok --op % --out "$T/x"
expect_exit 2 "--frac 1.5" -- "$FL" grok --frac 1.5 --out "$T/x"
expect_exit 2 "--d-model 30 --heads 4" -- "$FL" grok --d-model 30 --heads 4 --out "$T/x"
expect_exit 2 "--preset after an override" -- "$FL" grok --lr 1e-2 --preset quick --out "$T/x"
expect_exit 2 "--measure-every not a multiple of --log-every" -- "$FL" grok --log-every 7 --out "$T/x"
expect_exit 2 "unknown preset" -- "$FL" grok --preset fast --out "$T/x"
finish
