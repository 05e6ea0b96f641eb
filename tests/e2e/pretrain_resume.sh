#!/usr/bin/env bash
# pretrain_resume.sh: pretrain killed (kill -9) mid-training three times,
# each time after more steps, then rerun to the end, gives the same model,
# metrics and accuracies as an uninterrupted run; a state of another
# configuration is refused.
source "$(dirname "$0")/lib.sh"
ARGS=(pretrain --per-task 300 --epochs 8 --checkpoint-every 1 --threads 1)
# Kill once the log (a line every 10 steps of 8 x 19 = 152) has 4, 10, 14
# lines: mid-epoch, between states, and near the end.
kill_and_resume pretrain step "4 10 14" "${ARGS[@]}"
cmp -s "$T/ref/metrics.jsonl" "$T/killed/metrics.jsonl" && ok "metrics.jsonl identical" || bad "metrics differ"
check "$(json_get "$T/ref/summary.json" parity_acc) == $(json_get "$T/killed/summary.json" parity_acc)" "same accuracy"
[ ! -e "$T/killed/state.safetensors" ] && ok "a finished run leaves no state" || bad "state left behind"
other_config_refused 2e-3 "${ARGS[@]}"
finish
