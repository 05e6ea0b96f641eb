#!/usr/bin/env bash
# determinism.sh: one seed and one thread count give bitwise identical
# weights; another seed gives different ones.
source "$(dirname "$0")/lib.sh"
args=(pretrain --per-task 200 --epochs 2 --threads 2)
expect_exit 0 "run a" -- "$FL" "${args[@]}" --seed 7 --out "$T/a"
expect_exit 0 "run b" -- "$FL" "${args[@]}" --seed 7 --out "$T/b"
expect_exit 0 "run c (other seed)" -- "$FL" "${args[@]}" --seed 8 --out "$T/c"
cmp -s "$T/a/model.safetensors" "$T/b/model.safetensors" && ok "same seed: identical weights" || bad "same seed: weights differ"
cmp -s "$T/a/metrics.jsonl" "$T/b/metrics.jsonl" && ok "same seed: identical metrics" || bad "same seed: metrics differ"
cmp -s "$T/a/model.safetensors" "$T/c/model.safetensors" && bad "other seed: identical weights" || ok "other seed: different weights"
expect_exit 0 "run d (1 thread)" -- "$FL" pretrain --per-task 200 --epochs 2 --threads 1 --seed 7 --out "$T/d"
expect_exit 0 "run e (1 thread)" -- "$FL" pretrain --per-task 200 --epochs 2 --threads 1 --seed 7 --out "$T/e"
cmp -s "$T/d/model.safetensors" "$T/e/model.safetensors" && ok "1 thread: identical weights" || bad "1 thread: weights differ"
finish
