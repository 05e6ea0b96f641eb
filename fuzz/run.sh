#!/usr/bin/env bash
# Runs each fuzz target for SECS seconds from its committed seeds, prints
# executions per second and coverage per target, and fails on any finding
# (crash, leak, undefined behaviour, timeout, out-of-memory). The committed
# corpus is only read: new inputs go to a scratch corpus in BUILD/fuzz-work/.
# Findings are kept in BUILD/fuzz-findings/<target>/, logs in
# BUILD/fuzz-logs/.
#   fuzz/run.sh BUILD SECS TARGET...
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD="$1" SECS="$2"
shift 2

# Room for mutations around the largest seeds: a digit file or a cache of
# two images, a results database of a few pages.
max_len() {
    case "$1" in
    fuzz_mnist_json | fuzz_digits_cache | fuzz_results) echo 8192 ;;
    *) echo 4096 ;;
    esac
}

failed=()
rows=()
for t in "$@"; do
    work="$BUILD/fuzz-work/$t" found="$BUILD/fuzz-findings/$t" log="$BUILD/fuzz-logs/$t.log"
    rm -rf "$work" "$found"
    mkdir -p "$work" "$found" "$(dirname "$log")"
    echo "fuzz: $t for ${SECS}s" >&2
    "$BUILD/$t" "$work" "fuzz/corpus/${t#fuzz_}" -max_total_time="$SECS" -max_len="$(max_len "$t")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$found/" >"$log" 2>&1
    rc=$?
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
    eps=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
    status=ok
    if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$found")" ]; then
        status="FINDING (exit $rc)"
        failed+=("$t")
    fi
    rows+=("$(printf '%-20s %12s %8s %6s %6s %7s  %s' "$t" "${execs:-?}" "${eps:-?}" "${cov:-?}" \
        "${ft:-?}" "${corp:-?}" "$status")")
done

printf '%-20s %12s %8s %6s %6s %7s  %s\n' target execs exec/s cov ft corpus result
printf '%s\n' "${rows[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    for t in "${failed[@]}"; do
        echo "fuzz: $t: see $BUILD/fuzz-logs/$t.log; inputs in $BUILD/fuzz-findings/$t/" >&2
        grep -m1 -E 'ERROR|SUMMARY|runtime error' "$BUILD/fuzz-logs/$t.log" >&2
    done
    exit 1
fi
