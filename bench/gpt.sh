#!/usr/bin/env bash
# gpt.sh: the byte-level language model in forgetlab and in PyTorch
# (Debian's python3-torch), the same model and work, REPEAT times
# alternating; prints the median of each side's medians and the ratio.
#
#   bench/gpt.sh step|sample [quick|default] [THREADS]     (env REPEAT=3)
#
#   step    one training step (zero grads, forward, next-byte cross-entropy
#           at every position, backward, AdamW) on a batch of 16 sequences
#           of the context's length
#   sample  64 prompts of 16 bytes, each completed by 64 new tokens at
#           temperature 1 with a key/value cache, log-probabilities kept
#   quick   lm-pretrain's quick model: 2 layers, width 64, 4 heads, context 64
#           (sampling needs 80 positions: context 128 there)
#   default its default model: 6 layers, width 128, 4 heads, context 128
#
# PyTorch runs twice: with THREADS intra-op threads (what the same setting
# gives it) and with one (its best on 2 cores: its OpenMP threads and
# OpenBLAS's own pool contend; OpenBLAS still uses every core); the ratio
# is taken against the faster of the two.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
what="${1:-step}" size="${2:-default}" threads="${3:-$(nproc)}"
repeat="${REPEAT:-3}"
case "$size" in
quick) model=(--layers 2 --embd 64 --heads 4 --ctx 64) ;;
default) model=(--layers 6 --embd 128 --heads 4 --ctx 128) ;;
*) echo "gpt.sh: size '$size': expected quick or default" >&2; exit 2 ;;
esac
case "$what" in
step) bin="$root/build/bench_gpt_step" tpy="$root/bench/torch_gpt_step.py" args=(--steps 20) ;;
sample)
    bin="$root/build/bench_gpt_sample" tpy="$root/bench/torch_gpt_sample.py" args=(--repeat 5)
    [[ "$size" == quick ]] && model=(--layers 2 --embd 64 --heads 4 --ctx 128) ;;
*) echo "gpt.sh: '$what': expected step or sample" >&2; exit 2 ;;
esac
need_built "$bin" "make build"
need_python torch torch "make bench installs it"
bench_kernels
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
c=() t=() t1=()
for ((r = 0; r < repeat; r++)); do
    c+=("$(median_ms "$("$bin" "${model[@]}" "${args[@]}" --threads "$threads")")")
    t+=("$(median_ms "$("$py" "$tpy" "${model[@]}" "${args[@]}" --threads "$threads")")")
    t1+=("$(median_ms "$("$py" "$tpy" "${model[@]}" "${args[@]}" --threads 1)")")
done
mid() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cm=$(mid "${c[@]}") tm=$(mid "${t[@]}") t1m=$(mid "${t1[@]}")
best=$(awk -v a="$tm" -v b="$t1m" 'BEGIN { print (a < b ? a : b) }')
echo "GPT $what, $size model (${model[*]}), threads=$threads, median of $repeat medians"
printf 'forgetlab %.2f ms   torch %.2f ms (%s threads), %.2f ms (1 thread)   torch/forgetlab %.2fx (best torch)\n' \
    "$cm" "$tm" "$threads" "$t1m" "$(awk -v a="$best" -v b="$cm" 'BEGIN { print a / b }')"
