#!/usr/bin/env bash
# circuits.sh: `circuits` end to end on the real data: every output file,
# spearman.npy and summary.json's CS against an independent NumPy
# recomputation from vectors.npy, the classes at the threshold, and the
# usage errors (other methods, the KL loss).
source "$(dirname "$0")/lib.sh"
B="$T/base" C="$T/circ"
expect_exit 0 "pretrain a small base" -- "$FL" pretrain --per-task 200 --epochs 3 --out "$B"
expect_exit 0 "circuits parity by-class" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --out "$C"
for f in vectors.npy spearman.npy components.json summary.json spearman.png spearman.svg config.json; do
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
expect_exit 0 "circuits fashion random:3, zero ablation, logit-diff" -- "$FL" circuits --model "$B" --task fashion --subtasks random:3 --corrupt zero --loss logit-diff --examples 50 --out "$T/c2"
check "$(json_get "$T/c2/summary.json" components) == 770" "random subtasks written"
expect_exit 0 "mean ablation" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --corrupt mean --examples 20 --out "$T/c3"
expect_exit 2 "eap is refused" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --method eap --out "$T/c4"
expect_stderr "for transformers" "eap refusal names the reason"
expect_exit 2 "by-a is refused for an MLP" -- "$FL" circuits --model "$B" --task parity --subtasks by-a --out "$T/c4"
expect_exit 2 "eap-ig is refused for an MLP" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --method eap-ig --out "$T/c4"
expect_exit 2 "kl loss is refused for ap" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --loss kl --out "$T/c4"
expect_stderr "use --method eap-ig" "  ... and says what it is for"
expect_exit 2 "missing --out" -- "$FL" circuits --model "$B" --task parity --subtasks by-class
expect_exit 2 "bad --subtasks" -- "$FL" circuits --model "$B" --task parity --subtasks random:1 --out "$T/c4"
expect_exit 1 "missing model" -- "$FL" circuits --model "$T/nope" --task parity --subtasks by-class --out "$T/c4"
finish
