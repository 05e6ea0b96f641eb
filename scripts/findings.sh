#!/usr/bin/env bash
# findings.sh: every study at the size its page reports, then `forgetlab
# compare` over all of them (docs/findings.md). Each study resumes when OUT
# already holds it, so a killed run is rerun as it is; the wall time of each
# part is printed at the end.
#
#   scripts/findings.sh OUT [PART...]
#       parts (default: all, in this order): razor lm-quick lm-default
#       continual grok-forget-quick grok-forget-default compare
#
# On 2 cores: razor about 30 min (three seeds of the full grid), lm-quick
# about 45 (three seeds, bases and teachers pretrained once into the cache,
# about 4 min each), lm-default about two and a half hours (three seeds,
# four default bases of about half an hour each, then its 60 runs),
# continual under a minute, grok-forget 1 and 5 min; compare seconds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fl="$root/build/forgetlab"
out="${1:?usage: scripts/findings.sh OUT [PART...]}"
shift
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(razor lm-quick lm-default continual grok-forget-quick grok-forget-default compare)
mkdir -p "$out"
times=()
for part in "${parts[@]}"; do
    start=$(date +%s)
    case "$part" in
    razor) "$fl" study razor --seeds 3 --out "$out/razor" ;;
    lm-quick) "$fl" study lm --quick --seeds 3 --out "$out/lm-quick" ;;
    lm-default) "$fl" study lm --seeds 3 --methods sft,rft,grpo,sft-self,sft-teacher --no-distill \
        --checkpoint-every 0.4 --cs-per 12 --out "$out/lm-default" ;;
    continual) "$fl" study continual --benchmark split-mnist --scenario class --quick --seeds 3 \
        --out "$out/continual" ;;
    grok-forget-quick) "$fl" study grok-forget --quick --seeds 3 --out "$out/grok-forget-quick" ;;
    grok-forget-default) "$fl" study grok-forget --seeds 3 --out "$out/grok-forget-default" ;;
    compare)
        dirs=()
        for d in razor lm-quick lm-default continual grok-forget-quick grok-forget-default; do
            [[ -f "$out/$d/predictors.csv" ]] && dirs+=("$out/$d")
        done
        "$fl" compare "${dirs[@]}" --out "$out/findings" ;;
    *) echo "findings.sh: unknown part '$part'" >&2; exit 2 ;;
    esac
    times+=("$part $(($(date +%s) - start)) s")
done
printf 'wall time: %s\n' "${times[@]}"
