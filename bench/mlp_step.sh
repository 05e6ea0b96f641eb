#!/usr/bin/env bash
# mlp_step.sh: forgetlab's training step against PyTorch's, on the CPU, for
# the 785-512-256-10 MLP at batch 32 and 512 with the same thread count.
#
#   bench/mlp_step.sh [THREADS]       (default: nproc)
#
# Builds nothing: expects build/bench_mlp_step (cmake --build build). Env:
# PYTHON (default /usr/bin/python3, which must have torch), STEPS (200),
# WARMUP (20), BATCHES ("32 512").
#
# The runs are strictly one after another, never overlapping: two
# benchmarks sharing the cores would each time the other's load. A lock
# file also keeps two invocations of this script from overlapping.
#
# OMP_WAIT_POLICY / GOMP_SPINCOUNT are passed through to both programs and
# shown in the header: where OpenBLAS (pthreads) and libgomp each keep a pool,
# idle OpenMP threads spinning after a parallel region steal the cores the
# next GEMM's threads need, and the spin policy can change the step time
# several-fold. Compare runs only under the same policy.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bin="$root/build/bench_mlp_step"
threads="${1:-$(nproc)}"
steps="${STEPS:-200}"
warmup="${WARMUP:-20}"
batches="${BATCHES:-32 512}"

need_built "$bin"
need_python torch
bench_kernels
bench_lock mlp_step
pin_threads "$threads"

echo "785-512-256-10 training step (zero grads, forward, CE, backward, AdamW)"
echo "threads=$threads steps=$steps warmup=$warmup OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}" \
     "GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-unset}; times are medians in ms"
printf '%6s  %16s  %12s  %18s\n' batch "forgetlab ms" "torch ms" "torch/forgetlab"
for b in $batches; do
    c=$("$bin" --batch "$b" --steps "$steps" --warmup "$warmup" --threads "$threads")
    t=$("$py" "$root/bench/torch_mlp_step.py" --batch "$b" --steps "$steps" --warmup "$warmup" --threads "$threads")
    cm=$(median_ms "$c")
    tm=$(median_ms "$t")
    printf '%6s  %16.3f  %12.3f  %17.2fx\n' "$b" "$cm" "$tm" "$(awk -v a="$tm" -v b="$cm" 'BEGIN { print a / b }')"
    if [[ -n "${VERBOSE:-}" ]]; then
        echo "  $c"
        echo "  $t"
    fi
done
