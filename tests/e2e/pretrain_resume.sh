#!/usr/bin/env bash
# pretrain_resume.sh: pretrain killed (kill -9) mid-training three times,
# each time after more steps, then rerun to the end, gives the same model,
# metrics and accuracies as an uninterrupted run; a state of another
# configuration is refused.
source "$(dirname "$0")/lib.sh"
ARGS=(pretrain --per-task 300 --epochs 8 --checkpoint-every 1 --threads 1)
expect_exit 0 "uninterrupted pretrain" -- "$FL" "${ARGS[@]}" --out "$T/ref"
# Kill once the log (a line every 10 steps of 8 x 19 = 152) has 4, 10, 14
# lines: mid-epoch, between states, and near the end.
for lines in 4 10 14; do
    kill_when "$lines" step "$T/killed/metrics.jsonl" -- "$FL" "${ARGS[@]}" --out "$T/killed"
done
expect_exit 0 "the killed pretrain resumes to the end" -- "$FL" "${ARGS[@]}" --out "$T/killed"
cmp -s "$T/ref/model.safetensors" "$T/killed/model.safetensors" && ok "weights identical" || bad "weights differ"
cmp -s "$T/ref/metrics.jsonl" "$T/killed/metrics.jsonl" && ok "metrics.jsonl identical" || bad "metrics differ"
check "$(json_get "$T/ref/summary.json" parity_acc) == $(json_get "$T/killed/summary.json" parity_acc)" "same accuracy"
[ ! -e "$T/killed/state.safetensors" ] && ok "a finished run leaves no state" || bad "state left behind"
# Killed once its state exists (the state follows the metrics line it
# belongs to, so waiting for a line could kill the run before the state).
kill_when 1 __metadata__ "$T/other/state.safetensors" -- "$FL" "${ARGS[@]}" --out "$T/other"
expect_exit 1 "another configuration's state is refused" -- "$FL" "${ARGS[@]}" --lr 2e-3 --out "$T/other"
expect_stderr "holds a .(pretrain|finetune). run of another configuration \(lr = " "  ... naming the setting that differs"
finish
