#!/usr/bin/env bash
# finetune_resume.sh: finetune (GRPO, the on-policy method with the most
# random state: minibatch order and sampled actions) killed (kill -9) three
# times, then rerun, ends with the uninterrupted run's model and metrics
# (timings aside); a different configuration's state is refused.
source "$(dirname "$0")/lib.sh"
# One BLAS thread: beside other tests on 2 cores, two threads only wait on each other.
expect_exit 0 "a small base" -- "$FL" pretrain --per-task 200 --epochs 3 --threads 1 --out "$T/base"
ARGS=(finetune --base "$T/base" --method grpo --lr 1e-4 --epochs 1 --checkpoint-every 0.2 --threads 1)
expect_exit 0 "uninterrupted finetune" -- "$FL" "${ARGS[@]}" --out "$T/ref"
for lines in 1 2 4; do
    kill_when "$lines" checkpoint "$T/killed/metrics.jsonl" -- "$FL" "${ARGS[@]}" --out "$T/killed"
done
expect_exit 0 "the killed finetune resumes to the end" -- "$FL" "${ARGS[@]}" --out "$T/killed"
cmp -s "$T/ref/model.safetensors" "$T/killed/model.safetensors" && ok "weights identical" || bad "weights differ"
/usr/bin/python3 - "$T/ref/metrics.jsonl" "$T/killed/metrics.jsonl" <<'PY' \
    && ok "metrics.jsonl identical (timings aside)" || bad "metrics.jsonl differs"
import json, sys
a, b = ([{k: v for k, v in json.loads(l).items() if not k.endswith("_s")} for l in open(f)] for f in sys.argv[1:])
assert a == b, next(((x, y) for x, y in zip(a, b) if x != y), (len(a), len(b)))
PY
[ ! -e "$T/killed/state.safetensors" ] && ok "a finished run leaves no state" || bad "state left behind"
# Killed once its state exists (the state follows the metrics line it
# belongs to, so waiting for a line could kill the run before the state).
kill_when 1 __metadata__ "$T/other/state.safetensors" -- "$FL" "${ARGS[@]}" --out "$T/other"
expect_exit 1 "another configuration's state is refused" -- "$FL" "${ARGS[@]}" --lr 2e-4 --out "$T/other"
expect_stderr "holds a .(pretrain|finetune). run of another configuration \(lr = " "  ... naming the setting that differs"
finish
