#!/usr/bin/env bash
# bad_input.sh: corrupt or truncated data and model files are refused with
# exit 1 and one stderr line naming the file; nothing partial is left behind.
source "$(dirname "$0")/lib.sh"
DATA="${FORGETLAB_DATA:?set FORGETLAB_DATA to the data directory}"

# A private copy of the data directory that each case damages in one place.
fresh_data() {
    rm -rf "$T/data"
    mkdir -p "$T/data/fashion-mnist" "$T/data/mnist"
    cp "$DATA"/fashion-mnist/*.gz "$T/data/fashion-mnist/"
    cp "$DATA"/mnist/?.json "$T/data/mnist/"
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
finish
