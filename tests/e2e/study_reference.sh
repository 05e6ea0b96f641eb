#!/usr/bin/env bash
# study_reference.sh: the single-process quick study that study_mpi.sh and
# study_shards.sh compare against (a ctest fixture: it runs before them).
source "$(dirname "$0")/lib.sh"
rm -rf "$REF"
reference_study
check "$(sql "$REF/results.sqlite" "select count(*) from runs") == 35" "35 runs"
finish
