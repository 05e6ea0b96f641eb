#!/usr/bin/env bash
# study_scaling.sh: wall time of the quick RL's Razor study (35 runs) on one
# machine, one process (forked workers, the default: one run per core x 1
# thread) against the same study over MPI ranks, for docs/scaling.md.
#
#   REPS=3 bench/study_scaling.sh
#
# Expects build/forgetlab built with MPI. Env: REPS (default 3), CONFIGS
# (default "single mpi2 mpi2-bound mpi2-root-idle"). Configurations:
#   single          forgetlab study razor --quick (2 jobs x 1 thread on 2 cores)
#   mpi2            mpirun -np 2 --bind-to none: rank 0 schedules, writes and runs
#   mpi2-bound      mpirun -np 2 with Open MPI's default binding (a core per rank)
#   mpi2-root-idle  as mpi2, but rank 0 only schedules and writes
#                   (FORGETLAB_MPI_ROOT_RUNS=0)
# Each run starts from a copy of one base model (pretrained once, so its time
# is not counted) into a fresh directory, never overlapping another; wall
# time around the whole command (setup, sweep, analysis), and the 1-minute
# load average before it (other work on the machine shows there). Prints each
# run, the median per configuration, and rank 0's own cost per run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/build/forgetlab"
reps="${REPS:-3}"
configs=(${CONFIGS:-single mpi2 mpi2-bound mpi2-root-idle})
export FORGETLAB_DATA="${FORGETLAB_DATA:-$root/data}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np 2)

"$bin" pretrain --out "$tmp/base" >/dev/null
run() { # CONFIG DIR
    case "$1" in
        single) "$bin" study razor --quick --no-distill --out "$2" ;;
        mpi2) "${mpi[@]}" --bind-to none "$bin" study razor --quick --no-distill --out "$2" ;;
        mpi2-bound) "${mpi[@]}" "$bin" study razor --quick --no-distill --out "$2" ;;
        mpi2-root-idle) "${mpi[@]}" --bind-to none -x FORGETLAB_MPI_ROOT_RUNS=0 "$bin" study razor --quick --no-distill --out "$2" ;;
    esac
}
declare -A times
for ((r = 1; r <= reps; r++)); do
    for c in "${configs[@]}"; do
        d="$tmp/$c.$r"
        mkdir -p "$d" && cp -r "$tmp/base" "$d/base"
        load=$(cut -d' ' -f1 /proc/loadavg)
        t0=$(date +%s.%N)
        run "$c" "$d" >"$d.out" 2>"$d.err"
        t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
        times[$c]="${times[$c]:-} $t"
        printf '%-15s rep %d  %6.1f s  (load before %s)  %s\n' "$c" "$r" "$t" "$load" \
            "$(grep -m1 'rank 0 wrote' "$d.out" | sed 's/^sweep: //' || true)"
        [ -f "$tmp/first.csv" ] || cp "$d/results.csv" "$tmp/first.csv"
        cmp -s <(sort "$tmp/first.csv") <(sort "$d/results.csv") || echo "  results.csv differs from the first run's!"
        rm -rf "$d"
    done
done
echo
for c in "${configs[@]}"; do
    printf '%-15s median %6.1f s over %d\n' "$c" "$(echo ${times[$c]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')" "$reps"
done
