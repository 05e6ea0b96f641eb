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
# keeps its stderr in $T/stderr.
expect_exit() {
    local want="$1" what="$2"; shift 3
    local got=0
    "$@" >"$T/stdout" 2>"$T/stderr" || got=$?
    if [ "$got" -eq "$want" ]; then ok "$what (exit $got)"; else
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

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
