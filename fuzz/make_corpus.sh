#!/usr/bin/env bash
# Regenerates the committed seed corpus fuzz/corpus/<target>/ with
# fuzz/make_corpus.c, which writes the seeds through forgetlab's own writers.
# Builds it in the fuzz build (clang), as `make fuzz` does.
#   fuzz/make_corpus.sh [BUILD_DIR]      (default: build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build-fuzz}"
[ -f "$BUILD/Makefile" ] ||
    CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFORGETLAB_FUZZ=ON >/dev/null
cmake --build "$BUILD" --target make_corpus -j "$(nproc)" >/dev/null
rm -rf fuzz/corpus
"$BUILD/make_corpus" fuzz/corpus
find fuzz/corpus -type f | sort | xargs wc -c | tail -1
