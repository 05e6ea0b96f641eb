#!/usr/bin/env bash
# grok_quick.sh (make check-long): the quick grokking preset (p 59, about a
# minute on one core) memorises and then groks, and writes what PRODUCT.md
# promises.
source "$(dirname "$0")/../e2e/lib.sh"
expect_exit 0 "grok --preset quick" -- "$FL" grok --preset quick --out "$T/quick" --threads 1
for f in config.json metrics.jsonl summary.json model.safetensors state.safetensors \
         accuracy.png loss.png progress.png weight_norm.png spectrum.png circuit_stability.png; do
    [ -s "$T/quick/$f" ] && ok "quick: $f written" || bad "quick: $f missing"
done
check_groks "$T/quick" quick
finish
