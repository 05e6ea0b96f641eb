#!/usr/bin/env bash
# razor_quick.sh: end-to-end wall time of the quick RL's Razor study in
# forgetlab (`forgetlab study razor --quick`, C) against the same study in
# PyTorch (bench/razor_quick_torch.py): same data, protocol, 35 runs x 5
# checkpoints, measurements and R^2 analysis, both on 2 worker processes x
# 1 thread.
#
#   REPS=3 bench/razor_quick.sh
#
# Builds nothing: expects build/forgetlab (cmake --build build). Env: REPS
# (default 3), PYTHON (default /usr/bin/python3, which must have torch),
# TORCH_ARGS (extra arguments for the torch script, e.g. --c-work), KEEP=1 to
# keep the output directories.
#
# Each repetition runs forgetlab, then torch, strictly one after the other
# (never overlapping: two studies sharing the 2 cores would each time the
# other's load), each into a fresh temporary directory so no base model or
# result is reused. Wall time is taken around the whole command with
# date +%s.%N; the CPU time (user + sys, all processes) too where
# /usr/bin/time exists, and the 1-minute load average before each run, since
# other work on the machine shows there first (its processes may not be
# visible here). Prints each repetition, the median of each and the ratio
# torch/forgetlab, then both implementations' final forgetting per method
# and learning rate (from the last repetition) as a sanity check that they
# reproduce the same findings.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bin="$root/build/forgetlab"
reps="${REPS:-3}"
torch_args="${TORCH_ARGS:-}"

need_built "$bin"
need_python "torch, numpy" "torch and numpy"
bench_kernels
if ! [[ "$reps" =~ ^[1-9][0-9]*$ ]]; then
    echo "razor_quick.sh: REPS must be a positive integer" >&2
    exit 1
fi
bench_lock razor_quick

dirs=()
cleanup() { [[ -n "${KEEP:-}" ]] || rm -rf "${dirs[@]}"; }
trap cleanup EXIT

now() { date +%s.%N; }
load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }
# Runs "$@" with stdout/stderr to $out.log/$err.log, CPU seconds to $cpu_file.
timed() {
    local out="$1" err="$2" cpu_file="$3"
    shift 3
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f '%U %S' -o "$cpu_file" "$@" >"$out" 2>"$err"
    else
        echo "nan nan" >"$cpu_file"
        "$@" >"$out" 2>"$err"
    fi
}
cpu_of() { awk '{ printf "%.1f", $1 + $2 }' "$1"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# One timed run of "$@" (WHAT names it in the message) into the fresh
# directory DIR: stdout.log, stderr.log and the CPU seconds in cpu. Sets
# run_load (the load average before it), run_wall and run_cpu; a failure
# ends the benchmark, keeping the directories to look at.
timed_run() { # WHAT DIR CMD...
    local what="$1" dir="$2" t0 t1
    shift 2
    dirs+=("$dir")
    run_load=$(load)
    t0=$(now)
    if ! timed "$dir/stdout.log" "$dir/stderr.log" "$dir/cpu" "$@"; then
        echo "razor_quick.sh: $what failed; see $dir/stderr.log" >&2
        KEEP=1
        exit 1
    fi
    t1=$(now)
    run_wall=$(elapsed "$t0" "$t1")
    run_cpu=$(cpu_of "$dir/cpu")
}
# forward_kl_new's R^2 from a predictors.csv.
r2_of() { awk -F, '$1 == "forward_kl_new" { printf "%.3f", $2 }' "$1/predictors.csv"; }

echo "quick RL's Razor study, end to end: forgetlab vs torch ($reps repetitions, alternating)"
echo "nproc=$(nproc) OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset} TORCH_ARGS='${torch_args}'"
c_times=() t_times=() c_cpus=() t_cpus=()
for ((i = 1; i <= reps; i++)); do
    cdir=$(mktemp -d /tmp/razor_quick_c.XXXXXX)
    # The study in a directory of its own: a study refuses an --out that
    # holds other files (the logs).
    timed_run forgetlab "$cdir" "$bin" study razor --quick --no-distill --out "$cdir/study"
    c_load=$run_load
    c_times+=("$run_wall")
    c_cpus+=("$run_cpu")

    tdir=$(mktemp -d /tmp/razor_quick_torch.XXXXXX)
    # shellcheck disable=SC2086
    timed_run "the torch script" "$tdir" "$py" "$root/bench/razor_quick_torch.py" --out "$tdir" $torch_args
    t_load=$run_load
    t_times+=("$run_wall")
    t_cpus+=("$run_cpu")
    printf 'rep %d: forgetlab %6.2f s wall, %5s s cpu, load %s before, forward_kl_new R^2 %s\n' \
        "$i" "${c_times[-1]}" "${c_cpus[-1]}" "$c_load" "$(r2_of "$cdir/study")"
    printf '       torch     %6.2f s wall, %5s s cpu, load %s before, forward_kl_new R^2 %s\n' \
        "${t_times[-1]}" "${t_cpus[-1]}" "$t_load" "$(r2_of "$tdir")"
    echo "        torch: $(tail -n 1 "$tdir/stdout.log")"
done

cm=$(median "${c_times[@]}")
tm=$(median "${t_times[@]}")
echo
printf 'median wall time: forgetlab %.2f s, torch %.2f s, torch/forgetlab %.2fx\n' "$cm" "$tm" \
    "$(awk -v a="$tm" -v b="$cm" 'BEGIN { print a / b }')"
ccm=$(median "${c_cpus[@]}")
tcm=$(median "${t_cpus[@]}")
printf 'median cpu time:  forgetlab %.1f s, torch %.1f s, torch/forgetlab %.2fx\n' "$ccm" "$tcm" \
    "$(awk -v a="$tcm" -v b="$ccm" 'BEGIN { print (b > 0) ? a / b : "nan" }')"

# Final forgetting (last checkpoint) per method x learning rate from a
# results.csv with columns method, lr, idx, new_acc, forgetting (any order).
table() {
    awk -F, '
        NR == 1 { for (k = 1; k <= NF; k++) col[$k] = k; next }
        { key = $col["method"] SUBSEP $col["lr"]
          if (!(key in last) || $col["idx"] + 0 > last[key]) {
              last[key] = $col["idx"] + 0; f[key] = $col["forgetting"]; a[key] = $col["new_acc"] }
          lrs[$col["lr"]] = 1 }
        END {
            n = 0; for (l in lrs) lr[++n] = l + 0
            for (x = 1; x <= n; x++) for (y = x + 1; y <= n; y++) if (lr[y] < lr[x]) { t = lr[x]; lr[x] = lr[y]; lr[y] = t }
            printf "%-10s", "method"; for (x = 1; x <= n; x++) printf "  lr=%-14.2e", lr[x]; printf "\n"
            split("sft1 sft2 oracle grpo grpo-kl reinforce simpo", ms, " ")
            for (m = 1; m <= 7; m++) {
                printf "%-10s", ms[m]
                for (x = 1; x <= n; x++)
                    for (key in f) { split(key, kk, SUBSEP)
                        if (kk[1] == ms[m] && kk[2] + 0 == lr[x]) printf "  %+.4f (%.3f)  ", f[key], a[key] }
                printf "\n"
            }
        }' "$1"
}
echo
echo "final forgetting, prior_acc_base - prior_acc (new_acc), last repetition"
echo "forgetlab:"
table "$cdir/study/results.csv"
echo "torch:"
table "$tdir/results.csv"

# Where the time goes, last repetition, in process-seconds summed over the
# 35 runs (both workers). The evaluation (forward passes of each checkpoint
# on the 12,000 test images) is dense GEMM work that both implementations
# must do; half its sum is a floor on the sweep's wall time on 2 cores.
echo
echo "time summed over the 35 runs, last repetition (process-seconds):"
"$py" - "$cdir/study/results.sqlite" "${c_times[-1]}" "$(nproc)" <<'PY'
import sqlite3, sys
wall, train, ev, pred, circ = sqlite3.connect(sys.argv[1]).execute(
    "SELECT sum(wall_time_s), sum(train_s), sum(eval_s), sum(predictors_s), sum(circuit_s) FROM runs").fetchone()
study_wall, workers = float(sys.argv[2]), int(sys.argv[3])
print("forgetlab: train %.2f s, eval %.2f s, other predictors %.2f s" % (train, ev, pred))
print("           of which the circuit probe %.2f s: %.1f%% of the runs' time, %.1f%% of the study's wall time"
      " (%d workers; budget: 15%%)" % (circ, 100 * circ / wall, 100 * circ / workers / study_wall, workers))
print("           eval alone on 2 cores: at least %.2f s of wall time" % (ev / 2))
PY
sed -n '/^time summed/,/^phases/p' "$tdir/stdout.log" | sed 's/^/torch: /'
[[ -z "${KEEP:-}" ]] || echo "kept: ${dirs[*]}"
