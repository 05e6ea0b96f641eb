#!/usr/bin/env bash
# pretrain_default.sh: the default pretraining on the real data reaches the
# accuracies of the PyTorch implementation of the same protocol (about 0.77
# Fashion, 0.90 parity), writes a complete run directory, and `eval` of the
# saved model reproduces summary.json; --logits-out gives a NumPy-loadable
# array whose argmax accuracy matches.
source "$(dirname "$0")/lib.sh"
R="$T/base"
expect_exit 0 "default pretrain" -- "$FL" pretrain --out "$R"
for f in config.json model.safetensors metrics.jsonl summary.json; do
    [ -s "$R/$f" ] && ok "$f written" || bad "$f missing"
done
ls "$R" | grep -qv -E '^(config.json|model.safetensors|metrics.jsonl|summary.json)$' \
    && bad "stray files in the run directory: $(ls "$R")" || ok "no temporary files left"
fa=$(json_get "$R/summary.json" fashion_acc)
pa=$(json_get "$R/summary.json" parity_acc)
echo "# pretrain: fashion_acc=$fa parity_acc=$pa wall=$(json_get "$R/summary.json" wall_time_s)s"
check "$fa >= 0.74" "fashion test accuracy $fa >= 0.74"
check "$pa >= 0.88" "parity test accuracy $pa >= 0.88"
check "$(json_get "$R/config.json" seed) == 0 and $(json_get "$R/config.json" per_task) == 500" "config records seed and settings"
lines=$(wc -l <"$R/metrics.jsonl")
check "$lines >= 10" "metrics.jsonl has $lines lines"
/usr/bin/python3 - "$R/metrics.jsonl" <<'PY' && ok "metrics lines are JSON with step, epoch, loss, lr" || bad "metrics.jsonl format"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all({"step", "epoch", "loss", "lr"} <= r.keys() for r in rows)
assert all(a["step"] < b["step"] for a, b in zip(rows, rows[1:]))
assert rows[-1]["loss"] < rows[0]["loss"]
PY

expect_exit 0 "eval of the saved model" -- "$FL" eval --model "$R"
cp "$T/stdout" "$T/eval.json"
check "abs($(json_get "$T/eval.json" fashion_acc) - $fa) < 1e-12" "eval reproduces fashion_acc"
check "abs($(json_get "$T/eval.json" parity_acc) - $pa) < 1e-12" "eval reproduces parity_acc"

expect_exit 0 "eval --logits-out" -- "$FL" eval --model "$R/model.safetensors" --task fashion --split test --logits-out "$T/fashion.npy"
/usr/bin/python3 - "$T/fashion.npy" "$fa" <<'PY' && ok "logits .npy loads in NumPy, argmax accuracy matches" || bad "logits .npy"
import gzip, sys
import numpy as np
a = np.load(sys.argv[1])
assert a.dtype == np.float32 and a.shape == (10000, 10), (a.dtype, a.shape)
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read()[8:], dtype=np.uint8)
acc = float((a.argmax(1) == y).mean())
assert abs(acc - float(sys.argv[2])) < 1e-9, (acc, sys.argv[2])
PY
finish
