#!/usr/bin/env bash
# circuits_fashion.sh: wall time of `circuits` for the circuit vectors of all
# 10 FashionMNIST classes from 1,000 test examples each (10,000 examples:
# two forwards and one backward each, counterfactual corruption), against
# the target of 10 s on 2 cores.
#
#   bench/circuits_fashion.sh [THREADS]     (default 2)
#
# Expects build/forgetlab (cmake --build build); pretrains a base model into
# a scratch directory first (not timed).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin="$root/build/forgetlab"
threads="${1:-2}"
need_built "$bin"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
"$bin" pretrain --out "$tmp/base" --threads "$threads" >/dev/null
start=$(date +%s.%N)
"$bin" circuits --model "$tmp/base" --task fashion --subtasks by-class --examples 1000 \
    --threads "$threads" --out "$tmp/circ"
end=$(date +%s.%N)
t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
echo "circuits, fashion, 10 classes x 1000 examples, $threads threads: ${t} s (target <= 10 s)"
awk -v t="$t" 'BEGIN { exit !(t <= 10) }'
