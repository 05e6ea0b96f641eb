#!/usr/bin/env bash
# study_mpi.sh: the small two-seed study over 3 MPI ranks (mpirun on this
# machine), its worker rank, then rank 0, killed (kill -9) and the study
# rerun each time, gives the rows of a single-process study, to the bit:
# every run of it was computed in a 3-rank world, and the last invocation
# takes it to the end in one go. Skipped (exit 77) only when the build has
# no MPI or mpirun cannot start.
source "$(dirname "$0")/lib.sh"
if "$FL" study --help | grep -q "MPI: not built in"; then
    echo "skip: this forgetlab was built without MPI (libopenmpi-dev missing at build time)"; exit 77; fi
# As root, in a container: allow root, more ranks than cores, shared memory
# transport only; no binding, so each rank's threads may use any core.
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader -np 3)
if ! timeout 60 "${MPIRUN[@]}" true >"$T/probe" 2>&1; then
    echo "skip: mpirun cannot start 3 processes here: $(grep -m1 . "$T/probe")"; exit 77; fi
reference_study || { finish; exit; }

# kill_rank R AFTER: starts the study over 3 ranks on $T/killed, kills rank R
# once AFTER runs are written, and checks that the job ended, left no
# process behind, and lost no written run.
kill_rank() {
    "${MPIRUN[@]}" "$FL" study razor "${SMALL[@]}" --out "$T/killed" >/dev/null 2>"$T/killed.err" &
    local job=$! pid="" p
    wait_runs "$T/killed/results.sqlite" "$2" 300 || true
    for p in $(pgrep -f -- "--out $T/killed"); do
        if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then pid=$p; fi
    done
    if [ -n "$pid" ]; then
        kill -9 "$pid"
        ok "rank $1 killed after $(sql "$T/killed/results.sqlite" "select count(*) from runs") runs"
    else bad "rank $1 not found"; fi
    local rc=0
    wait "$job" || rc=$?
    [ "$rc" -ne 0 ] && ok "mpirun reports the killed rank (exit $rc)" || bad "mpirun exited 0 after a rank was killed"
    sleep 0.5
    if pgrep -f -- "--out $T/killed" >/dev/null; then bad "ranks outlived the job"; else ok "no rank left"; fi
    check "$(sql "$T/killed/results.sqlite" "select count(*) from runs") >= $2" "the written runs were kept"
}
mkdir -p "$T/killed"
cp -r "$REF/base" "$REF/base_s1" "$T/killed/"
kill_rank 1 3
kill_rank 0 7
expect_exit 0 "rerunning the killed study over 3 ranks finishes it" -- \
    "${MPIRUN[@]}" "$FL" study razor "${SMALL[@]}" --out "$T/killed"
same_rows "$REF/results.csv" "$T/killed/results.csv" "3 ranks, killed, rerun: results.csv = the single-process study's"
cmp -s "$REF/predictors.csv" "$T/killed/predictors.csv" && ok "predictors.csv identical" || bad "predictors.csv differs"
check "$(sql "$T/killed/results.sqlite" "select count(*) from runs") == 12" "12 runs"
expect_exit 0 "mpirun -np 1 resumes as a single process (nothing to do)" -- \
    mpirun --allow-run-as-root -np 1 "$FL" study razor "${SMALL[@]}" --out "$T/killed"
finish
