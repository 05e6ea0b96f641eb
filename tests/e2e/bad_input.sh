#!/usr/bin/env bash
# bad_input.sh: corrupt or truncated data and model files are refused with
# exit 1 and one stderr line naming the file; nothing partial is left behind.
source "$(dirname "$0")/lib.sh"
DATA="${FORGETLAB_DATA:?set FORGETLAB_DATA to the data directory}"

# A private copy of the data directory that each case damages in one place.
# The digits' cache comes along with the JSON files' times (cp -p), so it
# stays valid and a case parses the 20 MB of JSON only when it damaged one
# (under the sanitizers a parse takes seconds).
fresh_data() {
    rm -rf "$T/data"
    mkdir -p "$T/data/fashion-mnist" "$T/data/mnist"
    cp "$DATA"/fashion-mnist/*.gz "$T/data/fashion-mnist/"
    cp -p "$DATA"/mnist/?.json "$T/data/mnist/"
    if [ -f "$DATA/mnist/digits.cache" ]; then cp -p "$DATA/mnist/digits.cache" "$T/data/mnist/"; fi
}
one_line() { [ "$(wc -l <"$T/stderr")" -eq 1 ] && ok "$1: one line" || bad "$1: $(cat "$T/stderr")"; }
small=(pretrain --per-task 50 --epochs 1 --out "$T/run" --data-dir "$T/data")

fresh_data
head -c 5000 "$DATA/fashion-mnist/t10k-images-idx3-ubyte.gz" >"$T/data/fashion-mnist/t10k-images-idx3-ubyte.gz"
expect_exit 1 "truncated Fashion images" -- "$FL" "${small[@]}"
expect_stderr "t10k-images-idx3-ubyte.gz" "truncated gz named"
one_line "truncated gz"

fresh_data
gzip -dc "$DATA/fashion-mnist/t10k-labels-idx1-ubyte.gz" | head -c 4000 | gzip >"$T/data/fashion-mnist/t10k-labels-idx1-ubyte.gz"
expect_exit 1 "short Fashion labels" -- "$FL" "${small[@]}"
expect_stderr "t10k-labels-idx1-ubyte.gz" "short labels named"

fresh_data
cp "$DATA/fashion-mnist/t10k-labels-idx1-ubyte.gz" "$T/data/fashion-mnist/t10k-images-idx3-ubyte.gz"
expect_exit 1 "labels file in place of images" -- "$FL" "${small[@]}"
expect_stderr "t10k-images-idx3-ubyte.gz.*magic" "bad magic named"

fresh_data
printf '{"data": [0, 0.5, ' >"$T/data/mnist/3.json"
expect_exit 1 "malformed MNIST JSON" -- "$FL" "${small[@]}"
expect_stderr "3.json" "malformed JSON named"
one_line "malformed JSON"
ls "$T/data/mnist" | grep -q -E 'cache\.|\.tmp|XXXX' && bad "partial cache left: $(ls "$T/data/mnist")" || ok "no partial cache left"

fresh_data
rm "$T/data/mnist/7.json"
expect_exit 1 "missing MNIST file" -- "$FL" "${small[@]}"
expect_stderr "7.json" "missing file named"

# A good small model, then damaged copies of it.
fresh_data
expect_exit 0 "small pretrain with a custom spec" -- "$FL" pretrain --per-task 50 --epochs 1 --model 785-32-10 --out "$T/run" --data-dir "$T/data"
expect_exit 0 "eval reads the spec from the checkpoint" -- "$FL" eval --model "$T/run" --data-dir "$T/data"
size=$(stat -c %s "$T/run/model.safetensors")
for cut in 4 100 $((size / 2)) $((size - 1)); do
    head -c "$cut" "$T/run/model.safetensors" >"$T/trunc.safetensors"
    expect_exit 1 "model truncated to $cut bytes" -- "$FL" eval --model "$T/trunc.safetensors" --data-dir "$T/data"
    expect_stderr "trunc.safetensors" "truncated model named ($cut bytes)"
done
printf 'not a model at all, just text' >"$T/text.safetensors"
expect_exit 1 "garbage model" -- "$FL" eval --model "$T/text.safetensors" --data-dir "$T/data"
one_line "garbage model"
# Models: non-finite weights are refused at load, naming the tensor and the
# index, in every command; a text file is "not a safetensors file"; plain
# PyTorch names without forgetlab's metadata load as an MLP.
fresh_data
expect_exit 0 "a small base" -- "$FL" pretrain --per-task 50 --epochs 1 --out "$T/nanrun" --data-dir "$T/data"
/usr/bin/python3 - "$T/nanrun/model.safetensors" "$T" <<'PY' && ok "rewritten without metadata, and with a NaN" || bad "rewrite"
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
head, data = json.loads(raw[8:8 + n]), raw[8 + n:]
t = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], "<f4").reshape(v["shape"]).copy()
     for k, v in head.items() if k != "__metadata__"}
def save(path, ts):
    hdr, off, blobs = {}, 0, []
    for k, v in ts.items():
        b = v.astype("<f4").tobytes()
        hdr[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(hdr).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
save(sys.argv[2] + "/plain.safetensors", t)
t["layers.1.bias"][3] = np.nan
save(sys.argv[2] + "/nan.safetensors", t)
PY
expect_exit 0 "eval of forgetlab's own copy" -- "$FL" eval --model "$T/nanrun" --data-dir "$T/data"
cp "$T/stdout" "$T/own.json"
expect_exit 0 "eval of a plain PyTorch file (no metadata)" -- "$FL" eval --model "$T/plain.safetensors" --data-dir "$T/data"
cmp -s "$T/stdout" "$T/own.json" && ok "  ... the same accuracies" || bad "plain file: other accuracies"
for cmd in "eval --model $T/nan.safetensors" "measure --base $T/nanrun --model $T/nan.safetensors" \
           "finetune --base $T/nan.safetensors --method sft1 --epochs 1 --out $T/ft"; do
    expect_exit 1 "NaN weight: ${cmd%% *}" -- "$FL" $cmd --data-dir "$T/data"
    expect_stderr "layers.1.bias.*index 3" "  ... names layers.1.bias and the index"
done
expect_exit 1 "a text file as a model" -- "$FL" eval --model "$(dirname "$0")/lib.sh" --data-dir "$T/data"
expect_stderr "not a safetensors file" "  ... says so"

finish
