#!/usr/bin/env bash
# lm_pretrain.sh: a tiny language-model pretraining on the real text and
# skills writes what docs/lm.md promises; a run killed (kill -9) and rerun
# ends with the uninterrupted run's weights and metrics; bad flags exit 2.
source "$(dirname "$0")/lib.sh"
ARGS=(lm-pretrain --layers 1 --embd 32 --heads 2 --ctx 32 --batch 8 --steps 400 --eval-every 200 --eval-prompts 10
      --checkpoint-every 20 --threads 1)
expect_exit 0 "tiny lm-pretrain" -- "$FL" "${ARGS[@]}" --out "$T/ref"
for f in config.json metrics.jsonl model.safetensors summary.json state.safetensors skills.png loss.png skills.svg loss.svg; do
    [ -s "$T/ref/$f" ] && ok "$f written" || bad "$f missing"
done
check "(lambda s: all(0 <= s['acc_' + k] <= 1 for k in ('add', 'reverse', 'sort', 'count')) and 0 < s['bpb'] < 8) \
       (__import__('json').load(open('$T/ref/summary.json')))" "summary: four accuracies and bits per byte"
check "(lambda l: l[0]['loss'] > l[-1]['loss'])([__import__('json').loads(x) for x in open('$T/ref/metrics.jsonl')])" \
      "the loss falls"
# Resume: killed while running, rerun to the end, the same weights.
"$FL" "${ARGS[@]}" --out "$T/killed" >/dev/null 2>&1 &
pid=$!
wait_lines() {
    for _ in $(seq 200); do
        [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return
        sleep 0.05
    done
}
wait_lines "$T/killed/metrics.jsonl" 5
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "# killed after $(wc -l <"$T/killed/metrics.jsonl") of 40 metrics lines"
expect_exit 0 "the killed run resumes to the end" -- "$FL" "${ARGS[@]}" --out "$T/killed"
cmp -s "$T/ref/model.safetensors" "$T/killed/model.safetensors" && ok "weights identical" || bad "weights differ"
expect_exit 2 "--embd not divisible by --heads" -- "$FL" lm-pretrain --embd 30 --heads 4 --out "$T/x"
expect_exit 2 "--preset after an option it sets" -- "$FL" lm-pretrain --steps 5 --preset quick --out "$T/x"
expect_exit 2 "an unknown preset" -- "$FL" lm-pretrain --preset huge --out "$T/x"
finish
