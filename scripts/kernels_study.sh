#!/usr/bin/env bash
# kernels_study.sh: the quick RL's Razor study on two sets of matrix
# kernels (same build, seeds and threads), then how far the kernels moved
# its results against how far the base seed moves them
# (scripts/kernels_compare.py; docs/design.md, "Matrix kernels").
#
#   scripts/kernels_study.sh OUT [CORE_A CORE_B] [SEEDS]
#       (default: Haswell, the CPU's best core as `forgetlab env` names it, 3)
#
# Each study resumes if OUT/CORE already holds it. Wall times per core are
# printed at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fl="$root/build/forgetlab"
out="${1:?usage: scripts/kernels_study.sh OUT [CORE_A CORE_B] [SEEDS]}"
best=$("$fl" env --json | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["blas_core_best"])')
a="${2:-Haswell}" b="${3:-${best:-Haswell}}" seeds="${4:-3}"
[[ "$a" != "$b" ]] || { echo "kernels_study.sh: both cores are $a: name two" >&2; exit 2; }
times=()
for core in "$a" "$b"; do
    start=$(date +%s)
    "$fl" --blas-core "$core" study razor --quick --no-distill --seeds "$seeds" --out "$out/$core"
    times+=("$core $(($(date +%s) - start)) s")
done
/usr/bin/python3 "$root/scripts/kernels_compare.py" "$out/$a" "$out/$b"
printf 'wall time: %s\n' "${times[@]}"
