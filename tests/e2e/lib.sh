# lib.sh: helpers shared by the end-to-end tests (sourced, not run).
# Each test gets the forgetlab binary as $1 and a fresh scratch directory.
set -euo pipefail
FL="$1"
TMP_ROOT="${FORGETLAB_TEST_TMP:-/tmp}"
mkdir -p "$TMP_ROOT"
T="$(mktemp -d "$TMP_ROOT/e2e.XXXXXX")"
trap 'rm -rf "$T"' EXIT
PASSED=0
FAILED=0

ok()   { PASSED=$((PASSED + 1)); echo "ok - $*"; }
bad()  { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }

# expect_exit CODE DESCRIPTION -- CMD...: runs CMD, checks its exit code, and
# keeps its stderr in $T/stderr. The line says how long CMD took, so the
# suite's slow steps can be found from its log.
expect_exit() {
    local want="$1" what="$2"; shift 3
    local got=0 t0
    t0=$(date +%s%N)
    "$@" >"$T/stdout" 2>"$T/stderr" || got=$?
    local took=$((($(date +%s%N) - t0) / 10000000))
    took="$((took / 100)).$(printf %02d $((took % 100))) s"
    if [ "$got" -eq "$want" ]; then ok "$what (exit $got, $took)"; else
        bad "$what: exit $got, expected $want; stderr: $(head -c 400 "$T/stderr")"; fi
}

# expect_stderr PATTERN DESCRIPTION: the last command's stderr matches PATTERN.
expect_stderr() {
    if grep -qE -e "$1" "$T/stderr"; then ok "$2"; else bad "$2: stderr was: $(head -c 400 "$T/stderr")"; fi
}

# json_get FILE KEY: a top-level number from a JSON file.
json_get() {
    /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# sql DB QUERY: the first column of the first row.
sql() {
    /usr/bin/python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"
}

# check COND DESCRIPTION: COND is a Python expression.
check() {
    if /usr/bin/python3 -c "import sys; sys.exit(0 if ($1) else 1)"; then ok "$2"; else bad "$2 ($1)"; fi
}

# kill_when N PATTERN FILE -- CMD...: runs CMD in the background and kills
# it (kill -9) as soon as FILE has N lines matching PATTERN, or when it ends
# on its own; says how far it got.
kill_when() {
    local n="$1" pattern="$2" file="$3"; shift 4
    "$@" >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 1000); do
        [ "$(grep -c -e "$pattern" "$file" 2>/dev/null || true)" -ge "$n" ] 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "# killed with $(grep -c -e "$pattern" "$file" 2>/dev/null || true) lines matching '$pattern' in $(basename "$file")"
}

# kill_and_resume WHAT PATTERN "COUNTS" ARGS...: forgetlab ARGS runs into
# $T/ref uninterrupted, and into $T/killed killed (kill -9) once its
# metrics.jsonl has each of COUNTS lines matching PATTERN, then rerun to the
# end; both end with the same weights. WHAT names the command.
kill_and_resume() {
    local what="$1" pattern="$2" counts="$3" lines
    shift 3
    expect_exit 0 "uninterrupted $what" -- "$FL" "$@" --out "$T/ref"
    for lines in $counts; do
        kill_when "$lines" "$pattern" "$T/killed/metrics.jsonl" -- "$FL" "$@" --out "$T/killed"
    done
    expect_exit 0 "the killed $what resumes to the end" -- "$FL" "$@" --out "$T/killed"
    cmp -s "$T/ref/model.safetensors" "$T/killed/model.safetensors" && ok "weights identical" || bad "weights differ"
}

# other_config_refused LR ARGS...: the state of a run of forgetlab ARGS,
# killed once it exists, is not taken up by a run with --lr LR, and the
# message names the setting. Killed once its state exists: the state follows
# the metrics line it belongs to, so waiting for a line could kill the run
# before the state.
other_config_refused() {
    local lr="$1"
    shift
    kill_when 1 __metadata__ "$T/other/state.safetensors" -- "$FL" "$@" --out "$T/other"
    expect_exit 1 "another configuration's state is refused" -- "$FL" "$@" --lr "$lr" --out "$T/other"
    expect_stderr "holds a .(pretrain|finetune). run of another configuration \(lr = " "  ... naming the setting that differs"
}

# check_groks DIR LABEL: the grok run in DIR memorised, then grokked, and
# ended at a test accuracy of at least 0.95 (its summary.json says so).
check_groks() {
    local s="$1/summary.json" mem grk acc
    mem=$(json_get "$s" memorized_epoch)
    grk=$(json_get "$s" grokked_epoch)
    acc=$(json_get "$s" test_acc)
    echo "# $2: memorized_epoch $mem, grokked_epoch $grk, final test_acc $acc"
    check "'$mem' != 'None' and '$grk' != 'None' and $grk > $mem" "$2: groks after it memorises ($mem < $grk)"
    check "$acc >= 0.95" "$2: final test accuracy $acc >= 0.95"
}

# refuses WHAT CASES -- CMD...: for each entry "description|code|word|extra
# options" of the array named CASES, CMD with the extra options exits with
# that code and its stderr names word.
refuses() {
    local what="$1" c desc code word extra
    local -n cases="$2"
    shift 3
    for c in "${cases[@]}"; do
        IFS='|' read -r desc code word extra <<<"$c"
        # shellcheck disable=SC2086 # extra is the options, split on purpose
        expect_exit "$code" "$what: $desc" -- "$@" $extra
        expect_stderr "$word" "  ... says '$word'"
    done
}

# spread_same_rows WHAT EXPECTED_SHARDS -- ARGS...: forgetlab ARGS over 2
# MPI ranks (when the build has MPI and mpirun starts here) into $T/mpi
# gives the rows of $T/ref/results.csv; as 2 shards merged into $T/merged,
# the rows of the file EXPECTED_SHARDS (what a shard runs of the grid).
spread_same_rows() {
    local what="$1" want="$2" i
    shift 3
    local mpirun=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader -np 2)
    if "$FL" study --help | grep -q "MPI: built in" && timeout 60 "${mpirun[@]}" true >/dev/null 2>&1; then
        expect_exit 0 "$what over 2 MPI ranks" -- "${mpirun[@]}" "$FL" "$@" --out "$T/mpi"
        same_rows "$T/ref/results.csv" "$T/mpi/results.csv" "  ... results.csv = the single-process study's"
    else
        echo "# MPI not built in or mpirun cannot start here: the MPI check skipped"
    fi
    for i in 1 2; do expect_exit 0 "$what, shard $i/2" -- "$FL" "$@" --shard "$i/2" --out "$T/shard$i"; done
    expect_exit 0 "merge the two shards" -- "$FL" merge "$T/shard1" "$T/shard2" --out "$T/merged"
    same_rows "$want" "$T/merged/results.csv" "  ... results.csv = the single-process study's (what the shards ran)"
}

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

# The single-process quick study that the scaling tests compare against,
# in $REF. Under ctest the fixture e2e_study_reference builds it once before
# them; run by hand, a test builds it when it is missing or older than $FL.
REF="$TMP_ROOT/study-reference"
# The grid the reference and the tests compared with it run: two base seeds
# (so merging and MPI are checked with several), two methods (SFT's and
# RL's code paths), three of the quick grid's rates (the lowest, one
# between and the highest), no distill (a shard has none), one measured
# checkpoint a run: 12 runs.
SMALL=(--quick --seeds 2 --methods sft1,grpo --no-distill --checkpoint-every 1 --lrs 3e-6,5.4772e-05,0.001)
reference_study() {
    if [ -s "$REF/results.csv" ] && [ "$REF/results.csv" -nt "$FL" ]; then return 0; fi
    rm -rf "$REF"
    if "$FL" study razor "${SMALL[@]}" --out "$REF" >"$T/ref.out" 2>"$T/ref.err"; then ok "reference study (one process)"
    else bad "reference study: $(tail -1 "$T/ref.err")"; return 1; fi
}

# same_rows A B DESCRIPTION: two CSV files hold the same lines, in any order.
# (results.csv has no timing columns: every number must match to the bit.)
same_rows() {
    if cmp -s <(sort "$1") <(sort "$2"); then ok "$3"; else
        bad "$3: $(diff <(sort "$1") <(sort "$2") | head -3 | cut -c1-200)"; fi
}

# wait_runs DB N SECONDS: waits until DB holds N finished runs (0) or the
# time is up (1).
wait_runs() {
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        if [ -f "$1" ] && [ "$(sql "$1" "select count(*) from runs" 2>/dev/null || echo 0)" -ge "$2" ]; then return 0; fi
        sleep 0.2
    done
    return 1
}
