#!/usr/bin/env bash
# measure_logits.sh: `measure` from saved logits (anyone's models): on a
# base and a fine-tuned forgetlab model, the logits `eval --logits-out`
# writes give the divergences `measure --base --model` computes (1e-6
# relative); on random arrays, NumPy's KL, TV and accuracies; sequences'
# logits with a mask; bad input (shapes that disagree, a NaN, float64, a
# missing mask, labels of another length) exits 1 naming the file.
source "$(dirname "$0")/lib.sh"
expect_exit 0 "a small base" -- "$FL" pretrain --per-task 100 --epochs 2 --threads 1 --out "$T/base"
expect_exit 0 "a fine-tuned model" -- "$FL" finetune --base "$T/base" --method sft1 --lr 1e-3 --epochs 1 \
    --checkpoint-every 1 --threads 1 --out "$T/ft"
expect_exit 0 "measure --base --model" -- "$FL" measure --base "$T/base" --model "$T/ft" --threads 1
cp "$T/stdout" "$T/models.json"
for m in base ft; do
    for t in parity fashion; do
        "$FL" eval --model "$T/$m" --task $t --split test --logits-out "$T/$m-$t.npy" --threads 1 >/dev/null 2>&1
    done
done
expect_exit 0 "measure from the saved logits" -- "$FL" measure --base-logits "$T/base-parity.npy" \
    --logits "$T/ft-parity.npy" --prior-base-logits "$T/base-fashion.npy" --prior-logits "$T/ft-fashion.npy"
cp "$T/stdout" "$T/logits.json"
check "(lambda a, b: all(abs(a[k] - b[k]) <= 1e-6 * max(1e-12, abs(a[k])) + 1e-12 for k in \
       ('forward_kl_new', 'reverse_kl_new', 'tv_new', 'l2_dist_new', 'js_new', 'forward_kl_prior', 'reverse_kl_prior', \
        'tv_prior', 'l2_dist_prior', 'js_prior')))(__import__('json').load(open('$T/models.json')), \
        __import__('json').load(open('$T/logits.json')))" "  ... the same divergences as from the models"

# Random logits against NumPy.
/usr/bin/python3 - "$T" <<'PY'
import numpy as np, sys
d = sys.argv[1]
r = np.random.default_rng(4)
a = r.normal(size=(500, 7)).astype(np.float32); b = (a + r.normal(scale=0.5, size=a.shape)).astype(np.float32)
np.save(d + "/a.npy", a); np.save(d + "/b.npy", b)
np.save(d + "/y.npy", r.integers(0, 7, size=500))
np.save(d + "/y_short.npy", r.integers(0, 7, size=499))
np.save(d + "/a64.npy", a.astype(np.float64))
bad = b.copy(); bad[3, 2] = np.nan; np.save(d + "/nan.npy", bad)
np.save(d + "/b6.npy", b[:, :6].copy())
s0 = r.normal(size=(4, 5, 7)).astype(np.float32); s1 = (s0 + r.normal(scale=0.3, size=s0.shape)).astype(np.float32)
mask = (r.random((4, 5)) < 0.6).astype(np.float32); mask[0, 0] = 1
np.save(d + "/s0.npy", s0); np.save(d + "/s1.npy", s1); np.save(d + "/mask.npy", mask)
PY
expect_exit 0 "measure on random logits with labels" -- "$FL" measure --base-logits "$T/a.npy" --logits "$T/b.npy" \
    --prior-base-logits "$T/b.npy" --prior-logits "$T/a.npy" --labels "$T/y.npy" --prior-labels "$T/y.npy"
cp "$T/stdout" "$T/r.json"
check "(lambda np, j: (lambda a, b, y: (lambda p, q: abs(j['forward_kl_new'] - (p * (np.log(p) - np.log(q))).sum(1).mean()) \
       < 1e-6 * j['forward_kl_new'] and abs(j['tv_new'] - 0.5 * abs(p - q).sum(1).mean()) < 1e-6 and \
       j['new_acc_base'] == (a.argmax(1) == y).mean() and j['new_acc'] == (b.argmax(1) == y).mean() and \
       abs(j['forgetting'] - (j['prior_acc_base'] - j['prior_acc'])) < 1e-12) \
       (np.exp(a - np.logaddexp.reduce(a, 1, keepdims=True)), np.exp(b - np.logaddexp.reduce(b, 1, keepdims=True)))) \
       (np.load('$T/a.npy').astype(np.float64), np.load('$T/b.npy').astype(np.float64), np.load('$T/y.npy'))) \
       (__import__('numpy'), __import__('json').load(open('$T/r.json')))" "  ... NumPy's KL, TV and accuracies"
expect_exit 0 "sequences' logits with a mask" -- "$FL" measure --base-logits "$T/s0.npy" --logits "$T/s1.npy" \
    --mask "$T/mask.npy"
check "(lambda np, j: j['n_new'] == int(np.load('$T/mask.npy').sum()))(__import__('numpy'), \
       __import__('json').load(open('$T/stdout')))" "  ... scores the masked positions only"

CASES=("logits of another shape|1|b6.npy|--base-logits $T/a.npy --logits $T/b6.npy"
       "a NaN|1|nan.npy|--base-logits $T/a.npy --logits $T/nan.npy"
       "float64 logits|1|a64.npy|--base-logits $T/a64.npy --logits $T/b.npy"
       "sequences without a mask|1|mask|--base-logits $T/s0.npy --logits $T/s1.npy"
       "labels of another length|1|y_short.npy|--base-logits $T/a.npy --logits $T/b.npy --labels $T/y_short.npy"
       "a missing file|1|none.npy|--base-logits $T/none.npy --logits $T/b.npy"
       "logits without a base|2|together|--logits $T/b.npy"
       "logits and models at once|2|not both|--base-logits $T/a.npy --logits $T/b.npy --base $T/base")
refuses "measure" CASES -- "$FL" measure
finish
