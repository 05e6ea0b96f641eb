#!/usr/bin/env bash
# grok.sh: the quick grokking preset memorises and then groks; its run
# directory holds what PRODUCT.md promises; a run killed (kill -9) at random
# moments and rerun ends bitwise identical to an uninterrupted one; bad
# flags are refused with exit 2.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "grok --preset quick" -- "$FL" grok --preset quick --out "$T/quick" --threads 2
S="$T/quick/summary.json"
for f in config.json metrics.jsonl summary.json model.safetensors state.safetensors \
         accuracy.png accuracy.svg loss.png progress.png weight_norm.png spectrum.png; do
    [ -s "$T/quick/$f" ] && ok "quick: $f written" || bad "quick: $f missing"
done
mem=$(json_get "$S" memorized_epoch)
grk=$(json_get "$S" grokked_epoch)
acc=$(json_get "$S" test_acc)
echo "# quick: memorized_epoch $mem, grokked_epoch $grk, final test_acc $acc"
check "'$mem' != 'None' and '$grk' != 'None' and $grk > $mem" "quick: groks after it memorises ($mem < $grk)"
check "$acc >= 0.95" "quick: final test accuracy $acc >= 0.95"
check "__import__('json').loads(open('$T/quick/metrics.jsonl').readlines()[-1]).get('restricted_loss') is not None" \
      "quick: progress measures logged"

# Resume: a short run interrupted with kill -9 several times, then rerun to
# the end, equals the uninterrupted run (metrics, summary's epochs, weights).
ARGS=(grok --preset quick --epochs 600 --checkpoint-every 100 --threads 2)
expect_exit 0 "uninterrupted short run" -- "$FL" "${ARGS[@]}" --out "$T/ref"
RANDOM=7
for k in 1 2 3; do
    "$FL" "${ARGS[@]}" --out "$T/killed" >/dev/null 2>&1 &
    pid=$!
    sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
expect_exit 0 "the killed run resumes to the end" -- "$FL" "${ARGS[@]}" --out "$T/killed"
cmp -s "$T/ref/metrics.jsonl" "$T/killed/metrics.jsonl" && ok "metrics.jsonl identical to the uninterrupted run" \
    || bad "metrics.jsonl differs: $(diff "$T/ref/metrics.jsonl" "$T/killed/metrics.jsonl" | head -3)"
cmp -s "$T/ref/model.safetensors" "$T/killed/model.safetensors" && ok "weights identical" || bad "weights differ"
expect_exit 1 "a different configuration in the same directory is refused" -- \
    "$FL" "${ARGS[@]}" --lr 2e-3 --out "$T/killed"
expect_stderr "state.safetensors: written by a different configuration" "  ... and the message names the state file"

expect_exit 2 "--p 100 (not a prime)" -- "$FL" grok --p 100 --out "$T/x"
expect_stderr "not a prime" "  ... says why"
expect_exit 2 "--op %" -- "$FL" grok --op % --out "$T/x"
expect_exit 2 "--frac 1.5" -- "$FL" grok --frac 1.5 --out "$T/x"
expect_exit 2 "--d-model 30 --heads 4" -- "$FL" grok --d-model 30 --heads 4 --out "$T/x"
expect_exit 2 "--preset after an override" -- "$FL" grok --lr 1e-2 --preset quick --out "$T/x"
expect_exit 2 "--measure-every not a multiple of --log-every" -- "$FL" grok --log-every 7 --out "$T/x"
expect_exit 2 "unknown preset" -- "$FL" grok --preset fast --out "$T/x"
finish
