#!/usr/bin/env bash
# readme_loader.sh: the README's NumPy-only loader (the python block after
# "<!-- numpy-loader -->"), run as a user would run it, gives forgetlab's
# logits (`eval --logits-out`) on the Fashion test images read from the IDX
# file with the documented input layout.
source "$(dirname "$0")/lib.sh"
DATA="${FORGETLAB_DATA:?set FORGETLAB_DATA to the data directory}"
README="$(dirname "$0")/../../README.md"
expect_exit 0 "a small base" -- "$FL" pretrain --per-task 100 --epochs 2 --out "$T/base"
expect_exit 0 "eval --logits-out" -- "$FL" eval --model "$T/base" --task fashion --split test \
    --logits-out "$T/logits.npy"
/usr/bin/python3 - "$README" "$T/base/model.safetensors" "$DATA/fashion-mnist/t10k-images-idx3-ubyte.gz" \
    "$T/logits.npy" <<'PY' && ok "the README's loader reproduces forgetlab's logits" || bad "README loader"
import gzip, re, sys
import numpy as np
text = open(sys.argv[1]).read()
block = re.search(r"<!-- numpy-loader -->\s*```python\n(.*?)```", text, re.S).group(1)
env = {}
exec(block, env)
raw = gzip.open(sys.argv[3]).read()
n = int.from_bytes(raw[4:8], "big")
images = np.frombuffer(raw[16:], np.uint8).reshape(n, 28, 28)
mine = env["mlp_logits"](env["load_safetensors"](sys.argv[2]), env["task_inputs"](images, "fashion"))
theirs = np.load(sys.argv[4])
err = np.abs(mine - theirs).max() / max(1.0, np.abs(theirs).max())
print("# max relative difference", err)
assert mine.shape == theirs.shape and err < 1e-4, (mine.shape, theirs.shape, err)
PY
finish
