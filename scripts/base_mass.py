#!/usr/bin/python3
"""base_mass.py: how much of a base model's probability, on ParityMNIST test
digits, sits on each of SFT2's candidate label pairs, given the digit's
parity: the mean of p0(a|x) + p0(b|x) over even digits for an even pair
(a, b), over odd digits for an odd pair. SFT2's targets move the model less
when its pair already holds more of the base's mass.

    scripts/base_mass.py STUDY_DIR [FORGETLAB]   (every base of the study)
"""
import glob, json, os, subprocess, sys, tempfile

import numpy as np

study = sys.argv[1]
fl = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "build", "forgetlab")
pairs = {"{0,4}/{1,5}": ((0, 4), (1, 5)), "{6,8}/{7,9}": ((6, 8), (7, 9)), "{2,6}/{3,7}": ((2, 6), (3, 7))}
rows = []
for base in sorted(glob.glob(os.path.join(study, "base*"))):
    with tempfile.TemporaryDirectory() as t:
        subprocess.run([fl, "eval", "--model", base, "--task", "parity", "--logits-out", f"{t}/z.npy",
                        "--labels-out", f"{t}/y.npy", "--threads", "1"], check=True, stdout=subprocess.DEVNULL)
        z, y = np.load(f"{t}/z.npy").astype(np.float64), np.load(f"{t}/y.npy").astype(int)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    even = y % 2 == 0
    row = {"base": os.path.basename(base)}
    for name, (pe, po) in pairs.items():
        row[name] = float(np.concatenate([p[even][:, pe].sum(1), p[~even][:, po].sum(1)]).mean())
    rows.append(row)
print(json.dumps(rows, indent=1))
for name in pairs:
    v = np.array([r[name] for r in rows])
    print(f"{name}: mean {v.mean():.3f} over {len(v)} base(s) (min {v.min():.3f}, max {v.max():.3f})")
