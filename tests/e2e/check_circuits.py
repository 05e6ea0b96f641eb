#!/usr/bin/env python3
"""check_circuits.py DIR [K C]: a `forgetlab circuits` output directory
against an independent NumPy recomputation from its vectors.npy: the
Spearman matrix (average ranks for ties), the CS (mean off-diagonal entry)
and the classes (connected components at the threshold, named as in
summary.json's subtasks). Optional K and C: the expected shape of
vectors.npy. Prints the CS; exits non-zero on any mismatch."""
import json
import sys

import numpy as np


def ranks(x):
    x = x.astype(np.float64)
    o = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[o] = np.arange(1, len(x) + 1)
    _, inv = np.unique(x, return_inverse=True)
    return (np.bincount(inv, r) / np.bincount(inv))[inv]


def main():
    d = sys.argv[1]
    v = np.load(f"{d}/vectors.npy")
    rho = np.load(f"{d}/spearman.npy")
    s = json.load(open(f"{d}/summary.json"))
    names = json.load(open(f"{d}/components.json"))
    k, c = v.shape
    if len(sys.argv) > 3:
        assert (k, c) == (int(sys.argv[2]), int(sys.argv[3])), (v.shape, sys.argv[2:])
    assert c == len(names), (c, len(names))
    ref = np.corrcoef(np.array([ranks(row) for row in v]))
    assert np.allclose(rho, ref, atol=1e-5), np.abs(rho - ref).max()
    cs = (ref.sum() - np.trace(ref)) / (k * (k - 1))
    assert abs(s["cs"] - cs) < 1e-6, (s["cs"], cs)
    lab = list(range(k))
    for i in range(k):
        for j in range(k):
            if ref[i, j] >= s["threshold"]:
                a, b = lab[i], lab[j]
                lab = [a if x == b else x for x in lab]
    sub = s["subtasks"]
    groups = sorted(sorted(sub[i] for i in range(k) if lab[i] == g) for g in set(lab))
    assert groups == sorted(sorted(g) for g in s["classes"]), (groups, s["classes"])
    print(round(cs, 4))


if __name__ == "__main__":
    main()
