#!/usr/bin/env bash
# continual.sh: a Permuted MNIST sequence learnt by naive fine-tuning in
# forgetlab and in PyTorch, on the same data, side by side: the loop a
# continual-learning study repeats (per task one epoch of AdamW steps on an
# MLP 784-400-400-10, then every task's test set scored).
#
#   bench/continual.sh [THREADS]       (default: nproc)
#
# Env: TASKS (10), PER_TASK (1000), EPOCHS (1), BATCH (32), REPEATS (3),
# PYTHON (default /usr/bin/python3, with torch and numpy). Builds nothing:
# expects build/bench_continual. The two run one after the other.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bin="$root/build/bench_continual"
threads="${1:-$(nproc)}"
need_built "$bin"
need_python "torch, numpy"
bench_kernels
bench_lock continual
pin_threads "$threads"
args=(--tasks "${TASKS:-10}" --epochs "${EPOCHS:-1}" --batch "${BATCH:-32}" --repeats "${REPEATS:-3}"
      --threads "$threads")
cd "$root/build"
c=$("$bin" "${args[@]}" --per-task "${PER_TASK:-1000}" --dump 1)
t=$("$py" "$root/bench/torch_continual.py" --data bench-continual-data "${args[@]}")
echo "Permuted MNIST, naive fine-tuning, whole sequence; threads=$threads; medians in ms"
echo "  $c"
echo "  $t"
cm=$(median_ms "$c")
tm=$(median_ms "$t")
printf 'forgetlab %.1f ms, PyTorch %.1f ms: %.2fx\n' "$cm" "$tm" "$(awk -v a="$tm" -v b="$cm" 'BEGIN { print a / b }')"
