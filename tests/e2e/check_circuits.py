#!/usr/bin/env python3
"""check_circuits.py DIR [K C]: a `forgetlab circuits` output directory
against an independent NumPy recomputation: the circuit vectors from
scores.npy (each subtask's mean score), the Spearman matrix (average ranks
for ties), the CS (mean off-diagonal entry), the classes (connected
components at the threshold, named as in summary.json's subtasks), and
the random-split baseline: NumPy's own random splits of the same scores
into groups of the same sizes must give a mean CS inside forgetlab's
[cs_random_lo, cs_random_hi]. Optional K and C: the expected shape of
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


def cs_of(v):
    r = np.corrcoef(np.array([ranks(row) for row in v]))
    k = len(v)
    return r, (r.sum() - np.trace(r)) / (k * (k - 1))


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
    scores = np.load(f"{d}/scores.npy").astype(np.float64)
    count = s["examples"]
    assert scores.shape == (sum(count), c), (scores.shape, sum(count), c)
    edges = np.cumsum([0] + count)
    means = np.array([scores[edges[i]:edges[i + 1]].mean(0) for i in range(k)])
    assert np.allclose(v, means, rtol=1e-4, atol=1e-6 * max(1.0, np.abs(means).max())), np.abs(v - means).max()
    ref, cs = cs_of(v)
    assert np.allclose(rho, ref, atol=1e-5), np.abs(rho - ref).max()
    assert abs(s["cs"] - cs) < 1e-6, (s["cs"], cs)
    if s.get("cs_random") is not None:
        rng = np.random.default_rng(0)
        draws = []
        for _ in range(40):
            p = rng.permutation(len(scores))
            draws.append(cs_of(np.array([scores[p[edges[i]:edges[i + 1]]].mean(0) for i in range(k)]))[1])
        lo, hi = s["cs_random_lo"], s["cs_random_hi"]
        assert lo <= s["cs_random"] <= hi, (lo, s["cs_random"], hi)
        assert lo <= np.mean(draws) <= hi, (lo, np.mean(draws), hi)
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
