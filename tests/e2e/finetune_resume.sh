#!/usr/bin/env bash
# finetune_resume.sh: finetune (GRPO, the on-policy method with the most
# random state: minibatch order and sampled actions) killed (kill -9) three
# times, then rerun, ends with the uninterrupted run's model and metrics
# (timings aside); a different configuration's state is refused.
source "$(dirname "$0")/lib.sh"
# One BLAS thread: beside other tests on 2 cores, two threads only wait on each other.
expect_exit 0 "a small base" -- "$FL" pretrain --per-task 200 --epochs 3 --threads 1 --out "$T/base"
ARGS=(finetune --base "$T/base" --method grpo --lr 1e-4 --epochs 1 --checkpoint-every 0.2 --threads 1)
kill_and_resume finetune checkpoint "1 2 4" "${ARGS[@]}"
/usr/bin/python3 - "$T/ref/metrics.jsonl" "$T/killed/metrics.jsonl" <<'PY' \
    && ok "metrics.jsonl identical (timings aside)" || bad "metrics.jsonl differs"
import json, sys
a, b = ([{k: v for k, v in json.loads(l).items() if not k.endswith("_s")} for l in open(f)] for f in sys.argv[1:])
assert a == b, next(((x, y) for x, y in zip(a, b) if x != y), (len(a), len(b)))
PY
[ ! -e "$T/killed/state.safetensors" ] && ok "a finished run leaves no state" || bad "state left behind"
other_config_refused 2e-4 "${ARGS[@]}"
finish
