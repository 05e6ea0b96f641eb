#!/usr/bin/env bash
# study_reference.sh: the single-process small study (two base seeds) that
# study_mpi.sh and study_shards.sh compare against (a ctest fixture: it runs
# before them).
source "$(dirname "$0")/lib.sh"
rm -rf "$REF"
reference_study
check "$(sql "$REF/results.sqlite" "select count(*) from runs") == 12" "12 runs"
check "$(sql "$REF/results.sqlite" "select count(distinct seed) from runs") == 2" "two seeds"
cmp -s "$REF/base/model.safetensors" "$REF/base_s1/model.safetensors" && bad "the seeds share a base model" \
    || ok "each seed pretrained its own base model"
finish
