#!/usr/bin/env bash
# python.sh: the Python package's costs beside what they replace, side by
# side: forgetlab.divergences on [100000, 10] float32 logits against the
# same five divergences written in NumPy (float64, as forgetlab sums), and
# forgetlab.load(...).logits on the 10,000 Fashion test images against the
# CLI's `eval --logits-out` of the same model (a process that loads both
# tasks' test sets and scores them).
#
#   bench/python.sh [THREADS]       (default: nproc)
#
# Env: REPEATS (7), PYTHON (default /usr/bin/python3, with numpy). Builds
# nothing: expects build/forgetlab and build/libforgetlab.so. Medians.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

threads="${1:-$(nproc)}"
need_built "$root/build/forgetlab"
need_built "$root/build/libforgetlab.so"
need_python numpy
bench_kernels numpy
bench_lock python
pin_threads "$threads"
work="$root/build/bench-python"
mkdir -p "$work"
# A base model of the default shape (785-512-256-10), trained briefly: the
# cost of a forward pass does not depend on how well it learnt.
[[ -s "$work/base/model.safetensors" ]] ||
    "$root/build/forgetlab" pretrain --per-task 500 --epochs 1 --threads "$threads" --out "$work/base" >/dev/null 2>&1
"$root/build/forgetlab" eval --model "$work/base" --task fashion --inputs-out "$work/x.npy" --threads "$threads" >/dev/null
PYTHONPATH="$root/python" FORGETLAB_LIB="$root/build/libforgetlab.so" "$py" - "$work" "$threads" \
    "${REPEATS:-7}" "$root/build/forgetlab" <<'PY'
import subprocess, sys, time
import numpy as np
import forgetlab

work, threads, reps, cli = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
forgetlab.set_threads(threads)


def median_ms(f):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        t.append(1e3 * (time.perf_counter() - t0))
    return float(np.median(t))


def numpy_divergences(z0, z1):
    a, b = z0.astype(np.float64), z1.astype(np.float64)
    la = a - np.logaddexp.reduce(a, axis=1, keepdims=True)
    lb = b - np.logaddexp.reduce(b, axis=1, keepdims=True)
    p, q = np.exp(la), np.exp(lb)
    m = 0.5 * (p + q)
    lm = np.log(m)
    return {"forward_kl": (p * (la - lb)).sum(1).mean(), "reverse_kl": (q * (lb - la)).sum(1).mean(),
            "tv": 0.5 * np.abs(p - q).sum(1).mean(), "l2_dist": np.sqrt(((p - q) ** 2).sum(1)).mean(),
            "js": (0.5 * (p * (la - lm)).sum(1) + 0.5 * (q * (lb - lm)).sum(1)).mean()}


r = np.random.default_rng(0)
z0 = r.normal(size=(100000, 10)).astype(np.float32)
z1 = (z0 + r.normal(scale=0.5, size=z0.shape)).astype(np.float32)
ours, ref = forgetlab.divergences(z0, z1), numpy_divergences(z0, z1)
worst = max(abs(ours[k] - ref[k]) / abs(ref[k]) for k in ref)
a, b = median_ms(lambda: forgetlab.divergences(z0, z1)), median_ms(lambda: numpy_divergences(z0, z1))
print("divergences of [100000, 10] logits, threads=%d, medians of %d (largest relative difference %.1e):"
      % (threads, reps, worst))
print("  forgetlab.divergences %.1f ms, NumPy %.1f ms: NumPy / forgetlab %.2fx" % (a, b, b / a))

x = np.load(work + "/x.npy")
m = forgetlab.load(work + "/base")
cmd = [cli, "eval", "--model", work + "/base", "--task", "fashion", "--logits-out", work + "/z.npy",
       "--threads", str(threads)]
a = median_ms(lambda: m.logits(x))
l = median_ms(lambda: forgetlab.load(work + "/base").logits(x))
c = median_ms(lambda: subprocess.run(cmd, check=True, capture_output=True))
np.testing.assert_allclose(m.logits(x), np.load(work + "/z.npy"), rtol=1e-5, atol=1e-5)
print("logits of the 10,000 Fashion test images, model 785-512-256-10, threads=%d, medians of %d:" % (threads, reps))
print("  model.logits %.1f ms (load + logits %.1f ms), CLI eval %.1f ms: logits / eval %.2fx, load + logits / eval %.2fx"
      % (a, l, c, a / c, l / c))
PY
