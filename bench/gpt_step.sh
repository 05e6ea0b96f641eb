#!/usr/bin/env bash
# gpt_step.sh: the byte-level language model's training step in forgetlab
# and in PyTorch (Debian's python3-torch), the same model (4 layers, 128
# wide, 4 heads, context 128, vocabulary 256: 0.84 M parameters) and batch
# (16 x 128 bytes), the same thread count, one after the other, REPEAT
# times alternating; prints the median of each side's medians and the ratio.
#
#   bench/gpt_step.sh [THREADS]      (default: nproc; env REPEAT=3, STEPS=30)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/build/bench_gpt_step"
py="${PYTHON:-/usr/bin/python3}"
threads="${1:-$(nproc)}"
repeat="${REPEAT:-3}"
steps="${STEPS:-30}"
[[ -x "$bin" ]] || { echo "gpt_step.sh: build first (make build)" >&2; exit 1; }
"$py" -c "import torch" 2>/dev/null || { echo "gpt_step.sh: $py cannot import torch (make bench installs it)" >&2; exit 1; }
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
median() { sed -n 's/.*"median_ms": *\([0-9.eE+-]*\).*/\1/p' <<<"$1"; }
c=() t=()
for ((r = 0; r < repeat; r++)); do
    c+=("$(median "$("$bin" --threads "$threads" --steps "$steps")")")
    t+=("$(median "$("$py" "$root/bench/torch_gpt_step.py" --threads "$threads" --steps "$steps")")")
done
mid() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cm=$(mid "${c[@]}") tm=$(mid "${t[@]}")
echo "GPT training step, 0.84 M parameters, batch 16 x 128, threads=$threads, median of $repeat medians of $steps steps"
printf 'forgetlab %.1f ms   torch %.1f ms   torch/forgetlab %.2fx\n' "$cm" "$tm" "$(awk -v a="$tm" -v b="$cm" 'BEGIN { print a / b }')"
