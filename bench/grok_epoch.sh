#!/usr/bin/env bash
# grok_epoch.sh: one epoch of Nanda et al.'s grokking setup (a + b mod 113,
# 30% of the pairs, one full batch of 3,830 equations, the 1-layer d_model
# 128 transformer, AdamW), forgetlab against PyTorch with the same threads.
#
#   bench/grok_epoch.sh [THREADS]      (default: nproc)
#
# Expects build/forgetlab. Env: PYTHON (default /usr/bin/python3, with
# torch), EPOCHS (40), WARMUP (5). forgetlab's epoch time is the epoch_ms
# that `forgetlab grok` logs (the training step only, evaluation excluded);
# the two runs are strictly one after the other.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fl="$root/build/forgetlab"
threads="${1:-$(nproc)}"
epochs="${EPOCHS:-40}"
warmup="${WARMUP:-5}"
need_built "$fl"
need_python torch
bench_kernels
pin_threads "$threads"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
total=$((warmup + epochs))
"$fl" grok --preset nanda --epochs "$total" --log-every 1 --measure-every "$total" \
    --checkpoint-every "$total" --threads "$threads" --out "$tmp/run" >/dev/null 2>&1
c=$("$py" - "$tmp/run/metrics.jsonl" "$warmup" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]):]
t = sorted(r["epoch_ms"] for r in rows)
print("%.3f" % t[len(t) // 2] if len(t) % 2 else "%.3f" % ((t[len(t) // 2 - 1] + t[len(t) // 2]) / 2))
PY
)
t=$("$py" "$root/bench/torch_grok_epoch.py" --epochs "$epochs" --warmup "$warmup" --threads "$threads")
tm=$(median_ms "$t")
echo "Nanda et al. grokking epoch (p 113, 3,830 equations, full batch): medians over $epochs epochs, threads=$threads"
printf '%16s  %12s  %18s\n' "forgetlab ms" "torch ms" "torch/forgetlab"
printf '%16.2f  %12.2f  %17.2fx\n' "$c" "$tm" "$(awk -v a="$tm" -v b="$c" 'BEGIN { print a / b }')"
