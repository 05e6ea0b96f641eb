#!/usr/bin/env bash
# circuits.sh: `circuits` end to end on the real data: every output file,
# vectors.npy, spearman.npy, summary.json's CS and its random-split baseline
# against an independent NumPy recomputation from scores.npy, the classes at
# the threshold, the configurations of the ablation, and the usage errors
# (other methods, the KL loss without integrated gradients, bad values).
source "$(dirname "$0")/lib.sh"
B="$T/base" C="$T/circ"
expect_exit 0 "pretrain a small base" -- "$FL" pretrain --per-task 200 --epochs 3 --out "$B"
expect_exit 0 "circuits parity by-class (defaults: ap-ig, kl, within)" -- "$FL" circuits --model "$B" --task parity \
    --subtasks by-class --out "$C"
check "(lambda c: c['method'] == 'ap-ig' and c['loss'] == 'kl' and c['corrupt'] == 'within' and c['steps'] == 5 \
       and c['ig_form'] == 'path')(__import__('json').load(open('$C/config.json')))" "the defaults are recorded"
for f in scores.npy vectors.npy spearman.npy components.json summary.json spearman.png spearman.svg config.json; do
    [ -s "$C/$f" ] && ok "$f written" || bad "$f missing"
done
cs=$(/usr/bin/python3 "$(dirname "$0")/check_circuits.py" "$C" 10 770) && ok "spearman.npy, cs and classes match NumPy (CS $cs)" \
    || bad "recomputation from vectors.npy"
/usr/bin/python3 - "$C" <<'PY' && ok "component names; each layer's score is its units' sum" || bad "components"
import json, sys
import numpy as np
d = sys.argv[1]
v = np.load(f"{d}/vectors.npy"); names = json.load(open(f"{d}/components.json"))
assert names[0] == "layers.0.unit.0" and names[767] == "layers.1.unit.255" and names[-1] == "layers.1"
assert abs(v[:, -2] - v[:, :512].sum(1)).max() < 1e-4 * max(1, abs(v[:, -2]).max())
PY
expect_exit 0 "the issue's fashion probe" -- "$FL" circuits --model "$B" --task fashion --subtasks by-class \
    --method ap-ig --loss kl --corrupt within --out "$T/cf"
check "all(k in __import__('json').load(open('$T/cf/summary.json')) for k in ('cs', 'cs_random', 'cs_random_lo', \
       'cs_random_hi'))" "summary.json has cs and its baseline"
/usr/bin/python3 "$(dirname "$0")/check_circuits.py" "$T/cf" 10 770 >/dev/null && ok "fashion: recomputation" \
    || bad "fashion: recomputation from scores.npy"
for cfg in "ap ce counterfactual" "ap logit-diff within" "ap-ig ce counterfactual" "ap-ig logit-diff within"; do
    set -- $cfg
    expect_exit 0 "circuits fashion $1 $2 $3" -- "$FL" circuits --model "$B" --task fashion --subtasks by-class \
        --method "$1" --loss "$2" --corrupt "$3" --examples 40 --out "$T/c-$1-$2-$3"
done
expect_exit 0 "real activation patching of an MLP" -- "$FL" circuits --model "$B" --task fashion --subtasks by-class \
    --method ap --loss ce --corrupt counterfactual --examples 20 --check-patching 30 --out "$T/c-patch"
check "(lambda r: r['examples'] == 30 and r['components'] == 770 and r['spearman_pairs'] > 0.8)\
       (__import__('json').load(open('$T/c-patch/patching.json')))" "AP ranks what patching measures (pairs > 0.8)"
expect_exit 0 "ap-ig averaged form" -- "$FL" circuits --model "$B" --task fashion --subtasks by-class --ig-form average \
    --examples 40 --out "$T/c-avg"
expect_exit 0 "circuits fashion random:3, zero ablation, logit-diff" -- "$FL" circuits --model "$B" --task fashion \
    --subtasks random:3 --method ap --corrupt zero --loss logit-diff --examples 50 --baseline 0 --out "$T/c2"
check "$(json_get "$T/c2/summary.json" components) == 770" "random subtasks written"
check "__import__('json').load(open('$T/c2/summary.json'))['cs_random'] is None" "--baseline 0: no baseline"
expect_exit 0 "mean ablation" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --method ap --loss ce \
    --corrupt mean --examples 20 --out "$T/c3"
expect_exit 2 "eap is refused" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --method eap --out "$T/c4"
expect_stderr "for transformers" "eap refusal names the reason"
expect_exit 2 "by-a is refused for an MLP" -- "$FL" circuits --model "$B" --task parity --subtasks by-a --out "$T/c4"
expect_exit 2 "eap-ig is refused for an MLP" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --method eap-ig --out "$T/c4"
expect_exit 2 "kl loss is refused for ap" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --method ap \
    --loss kl --out "$T/c4"
expect_stderr "use --method ap-ig" "  ... and says what it is for"
expect_exit 2 "ap-ig with zero ablation" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --corrupt zero --out "$T/c4"
expect_exit 2 "--steps 0" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --steps 0 --out "$T/c4"
expect_exit 2 "--corrupt within with one example per subtask" -- "$FL" circuits --model "$B" --task fashion \
    --subtasks by-class --examples 1 --out "$T/c4"
expect_stderr "at least two" "  ... says why"
expect_exit 2 "--ig-form without ap-ig" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --method ap \
    --loss ce --ig-form average --out "$T/c4"
expect_exit 2 "missing --out" -- "$FL" circuits --model "$B" --task parity --subtasks by-class
expect_exit 2 "bad --subtasks" -- "$FL" circuits --model "$B" --task parity --subtasks random:1 --out "$T/c4"
expect_exit 1 "missing model" -- "$FL" circuits --model "$T/nope" --task parity --subtasks by-class --out "$T/c4"
finish
