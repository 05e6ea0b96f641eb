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
/usr/bin/python3 - "$C" <<'PY' && ok "spearman.npy, cs and classes match NumPy" || bad "recomputation from vectors.npy"
import json, sys
import numpy as np
d = sys.argv[1]
v = np.load(f"{d}/vectors.npy"); rho = np.load(f"{d}/spearman.npy")
s = json.load(open(f"{d}/summary.json")); names = json.load(open(f"{d}/components.json"))
k, c = v.shape
assert k == 10 and c == len(names) == 512 + 256 + 2, (v.shape, len(names))
assert names[0] == "layers.0.unit.0" and names[767] == "layers.1.unit.255" and names[-1] == "layers.1"
def ranks(x):
    x = x.astype(np.float64); o = np.argsort(x, kind="stable"); r = np.empty(len(x)); r[o] = np.arange(1, len(x) + 1)
    u, inv = np.unique(x, return_inverse=True)          # average ranks over ties
    r = (np.bincount(inv, r) / np.bincount(inv))[inv]
    return r
R = np.array([ranks(row) for row in v])
ref = np.corrcoef(R)
assert np.allclose(rho, ref, atol=1e-5), np.abs(rho - ref).max()
cs = (ref.sum() - np.trace(ref)) / (k * (k - 1))
assert abs(s["cs"] - cs) < 1e-6, (s["cs"], cs)
# connected components of rho >= threshold
lab = list(range(k))
for i in range(k):
    for j in range(k):
        if ref[i, j] >= s["threshold"]:
            a, b = lab[i], lab[j]; lab = [a if x == b else x for x in lab]
groups = sorted(sorted(str(i) for i in range(k) if lab[i] == g) for g in set(lab))
assert groups == sorted(sorted(g) for g in s["classes"]), (groups, s["classes"])
assert abs(v[:, -2] - v[:, :512].sum(1)).max() < 1e-4 * max(1, abs(v[:, -2]).max())
print("# parity CS", round(cs, 4), "classes", s["classes"])
PY
expect_exit 0 "circuits fashion random:3, zero ablation, logit-diff" -- "$FL" circuits --model "$B" --task fashion --subtasks random:3 --corrupt zero --loss logit-diff --examples 50 --out "$T/c2"
check "$(json_get "$T/c2/summary.json" components) == 770" "random subtasks written"
expect_exit 0 "mean ablation" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --corrupt mean --examples 20 --out "$T/c3"
expect_exit 2 "eap is refused" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --method eap --out "$T/c4"
expect_stderr "not available yet for MLPs" "eap refusal names the reason"
expect_exit 2 "kl loss is refused" -- "$FL" circuits --model "$B" --task parity --subtasks by-class --loss kl --out "$T/c4"
expect_exit 2 "missing --out" -- "$FL" circuits --model "$B" --task parity --subtasks by-class
expect_exit 2 "bad --subtasks" -- "$FL" circuits --model "$B" --task parity --subtasks random:1 --out "$T/c4"
expect_exit 1 "missing model" -- "$FL" circuits --model "$T/nope" --task parity --subtasks by-class --out "$T/c4"
finish
