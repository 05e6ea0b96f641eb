# shellcheck shell=bash
# lib.sh: the preamble the benchmark scripts share, sourced first by each
# (`source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"`), so that they agree on
# where things are and on how they refuse to start: strict mode, the
# repository root, the Python that runs the PyTorch side, checks that the
# binary under test is built and that Python has what the PyTorch side
# imports, thread pools pinned to one count, a lock per benchmark, and the
# median_ms of a JSON line.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-/usr/bin/python3}"
# The benchmark's name, which starts each of its messages.
bench="$(basename "$0")"

# need_built BIN [HINT]: BIN must be built; HINT says how (by default the
# CMake build into build/).
need_built() {
    [[ -x "$1" ]] && return 0
    echo "$bench: $1 not found; build first: ${2:-cmake -S . -B build && cmake --build build}" >&2
    exit 1
}

# need_python IMPORTS [WHAT] [HINT]: $py must import IMPORTS ("torch" or
# "torch, numpy"); WHAT names them in the message, HINT says how to get them.
need_python() {
    "$py" -c "import $1" 2>/dev/null && return 0
    echo "$bench: $py cannot import ${2:-$1} (${3:-set PYTHON})" >&2
    exit 1
}

# pin_threads N: OpenMP, OpenBLAS and MKL size their thread pools from these
# when they start; pinned, none brings up more threads than asked for.
pin_threads() { export OMP_NUM_THREADS="$1" OPENBLAS_NUM_THREADS="$1" MKL_NUM_THREADS="$1"; }

# bench_lock NAME: waits until no other invocation of this benchmark holds
# build/.NAME.lock, then holds it until the script exits: two runs sharing
# the cores would each time the other's load.
bench_lock() {
    exec 9>"$root/build/.$1.lock"
    flock 9
}

# median_ms LINE: the median_ms field of one JSON line.
median_ms() { sed -n 's/.*"median_ms": *\([0-9.eE+-]*\).*/\1/p' <<<"$1"; }

# bench_kernels: puts both sides on the same matrix kernels and names them.
# The core is the one forgetlab's CLI settles on (docs/design.md, "Matrix
# kernels"): OPENBLAS_CORETYPE when the environment sets it, else OpenBLAS's
# own choice, else the better core the CLI switches to after its
# self-check. It is exported, so the C benchmarks (which do not switch
# themselves) and PyTorch load it too; then each side's loaded core is
# printed, as its library reports it. With "numpy", the other side is
# NumPy instead of PyTorch.
bench_kernels() {
    local env_json core
    env_json=$("$root/build/forgetlab" env --json 2>/dev/null) || {
        echo "$bench: build/forgetlab env failed: build first (make build)" >&2
        exit 1
    }
    core=$("$py" -c 'import json, sys; print(json.load(sys.stdin)["blas_core"])' <<<"$env_json")
    export OPENBLAS_CORETYPE="$core"
    echo "kernels: forgetlab $("$py" -c 'import json, sys; e = json.load(sys.stdin); print("%s (%s; CPU %s: %s)" % (
        e["blas"].split(" MAX_")[0], e["blas_threading"], e["cpu"], e["cpu_features"]))' <<<"$env_json")"
    echo "kernels: ${1:-torch} $("$py" "$root/bench/blas_core.py" "${1:-torch}")"
}
