#!/usr/bin/env bash
# layering.sh: dependencies point one way, as the layer map in
# docs/design.md ("Layers of the code") says: check_layers.py checks every
# include of every file in src/ and include/ against it (and every
# function's length), and must fail on a scratch copy with an upward
# include planted, a folder the map does not name, a function of 81
# lines or two files that call each other. Checked here too:
# nothing outside src/cli aborts, exits, or writes to stdout or stderr but
# through the log (log.h); and no public header includes cJSON.
source "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="$ROOT/src"
CHECK=(/usr/bin/python3 "$ROOT/tests/e2e/check_layers.py")
out=$("${CHECK[@]}" "$ROOT" 2>&1) && ok "every include follows the layer map; no function over 80 lines" \
    || bad "the layer map is broken: $(echo "$out" | head -5)"
# Test the test: a scratch copy with one upward include, then with a new
# folder the map does not name, then with a function of 81 lines.
mkdir -p "$T/tree/docs"
cp -r "$ROOT/src" "$ROOT/include" "$T/tree/" && cp "$ROOT/docs/design.md" "$T/tree/docs/"
sed -i '0,/#include "forgetlab\/core\/rng.h"/s//#include "forgetlab\/train\/study.h"/' "$T/tree/src/core/rng.c"
out=$("${CHECK[@]}" "$T/tree" 2>&1) && bad "a planted upward include passed" \
    || { echo "$out" | grep -q "src/core/rng.c:.*core includes forgetlab/train/study.h" \
         && ok "a planted upward include fails, named" || bad "the planted include: $out"; }
cp "$SRC/core/rng.c" "$T/tree/src/core/rng.c" && mkdir "$T/tree/src/extra" && cp "$SRC/core/clock.c" "$T/tree/src/extra/"
out=$("${CHECK[@]}" "$T/tree" 2>&1) && bad "a folder outside the map passed" \
    || { echo "$out" | grep -q "src/extra/clock.c: in folder 'extra'" && ok "a folder outside the map fails, named" \
         || bad "the unmapped folder: $out"; }
rm -r "$T/tree/src/extra"
{ echo "int fl_long_one(void) {"; for i in $(seq 78); do echo "    (void)0;"; done; echo "    return 0;"; echo "}"; } \
    >>"$T/tree/src/core/clock.c"
out=$("${CHECK[@]}" "$T/tree" 2>&1) && bad "a function of 81 lines passed" \
    || { echo "$out" | grep -q "fl_long_one is 81 lines" && ok "a function of 81 lines fails, named" \
         || bad "the long function: $out"; }
cp "$SRC/core/clock.c" "$T/tree/src/core/clock.c"
echo 'void fl_circle_a(void) { fl_circle_b(); }' >>"$T/tree/src/core/clock.c"
echo 'void fl_circle_b(void) { fl_circle_a(); }' >>"$T/tree/src/core/rng.c"
out=$("${CHECK[@]}" "$T/tree" 2>&1) && bad "a circle of files passed" \
    || { echo "$out" | grep -q "a circle of files: src/core/clock.c <-> src/core/rng.c" \
         && ok "a circle of files fails, named" || bad "the circle: $out"; }
# A host process (Python) must survive any failure of the library: no
# abort() or exit() outside the CLI (a forked study worker's _exit is its
# own process's end).
hits=$(grep -rnE '(^|[^_a-z])(abort|exit) *\(' "$SRC" --include=*.c | grep -v "^$SRC/cli/" || true)
[ -z "$hits" ] && ok "no abort() or exit() outside src/cli" || bad "the library ends its host: $hits"
# Notices go through the log's sink (log.h), results to files or to the
# stream the CLI hands over: nothing outside src/cli writes to stdout or
# stderr but the sink's default (core/log.c) and the progress bar
# (core/progress.c).
hits=$(grep -rnE 'stderr|stdout|perror *\(|(^|[^a-z_])(printf|puts|putchar) *\(' "$SRC" --include=*.c \
       | grep -vE "^$SRC/(cli/|core/log\.c|core/progress\.c)" || true)
[ -z "$hits" ] && ok "nothing writes to stdout or stderr outside src/cli but the log's and progress's sinks" \
    || bad "stdout or stderr written directly: $hits"
hits=$(grep -rln 'cjson/cJSON.h' "$ROOT/include" || true)
[ -z "$hits" ] && ok "no public header includes cJSON" || bad "cJSON in public headers: $hits"
finish
