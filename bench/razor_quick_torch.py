#!/usr/bin/env python3
"""razor_quick_torch.py: a PyTorch implementation of forgetlab's quick RL's
Razor study (`forgetlab study razor --quick`), so the C implementation's
end-to-end speed can be read against the framework it replaces on the same
work: the same data, protocol, grid, measurements and analysis.

    /usr/bin/python3 bench/razor_quick_torch.py [--out DIR] [--jobs 2] [--data DIR]

What it does, as the C study does (docs/razor.md):
  * data: MNIST from data/mnist/0..9.json with the C code's fixed stratified
    8000/2000 split (its xoshiro256** split generator is reproduced, so the
    parity test set is the same 2,000 images), Fashion-MNIST from the IDX
    files; 784 pixels + task indicator (+1 parity, -1 fashion).
  * pretraining: 785-512-256-10 ReLU MLP (PyTorch's default init, which is the
    C code's U(+-1/sqrt(fan_in))), 500 images per task, a parity image's label
    drawn uniformly from the 5 digits of its parity, 20 epochs, batch 32,
    AdamW lr 1e-3, weight decay 0.
  * the base model's shared quantities, once in the parent: log-probabilities
    on both test sets, base probabilities on the parity training set (oracle
    targets, grpo-kl's reference), the diagonal Fisher from 2,000
    Fashion-MNIST training images (one label sampled from the base per image,
    squared per-example gradients by the squared-outer-product identity), and
    the base's hidden activations on the parity test set.
  * the sweep: sft1, sft2, oracle, grpo, grpo-kl, reinforce, simpo x 5
    learning rates log-spaced over [3e-6, 1e-3]; constant schedule, 1 epoch on
    the 8,000 parity training images, batch 32, AdamW (wd 0), G = 8,
    kl 0.1, SimPO beta 2 gamma 0.5; a measured checkpoint every 0.2 epoch
    (35 runs, 175 checkpoints), spread over 2 forked worker processes with
    1 thread each (torch and OpenBLAS), claiming runs in plan order.
  * per checkpoint: accuracies on the parity test (2,000) and fashion test
    (10,000) sets, forgetting, forward/reverse KL, TV, L2 and JS on both test
    sets, weight L1, Fisher-weighted L2, spectral norm of each layer's update
    (30 power iterations, summed), activation change L1/L2 over both hidden
    layers and linear CKA of the last hidden layer on the parity test inputs;
    at the final checkpoint also each layer's numerical rank of delta W.
  * analysis: per predictor, R^2 of a degree-2 least-squares fit of
    forgetting, pooled over all checkpoints, with a 1000-resample bootstrap
    95% interval; each method's Pareto frontier with its exponential fit.
    (No plots or HTML report, which the C study also writes.)

Sample identity with the C code is not attempted beyond the MNIST split:
torch's generators draw the subsets, labels, batch orders and actions.

Prints the R^2 table, per-method final forgetting at each learning rate, a
timing breakdown, then one JSON line (the last line of stdout).
"""
import time

T_START = time.time()

import argparse
import ctypes
import gzip
import json
import math
import multiprocessing as mp
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

T_IMPORTED = time.time()

SPEC = [785, 512, 256, 10]
V = 10
METHODS = ["sft1", "sft2", "oracle", "grpo", "grpo-kl", "reinforce", "simpo"]
ON_POLICY = {"grpo", "grpo-kl", "reinforce"}
N_LR = 5
LRS = [3e-6 * (1e-3 / 3e-6) ** (i / (N_LR - 1)) for i in range(N_LR)]
BATCH = 32
GROUP = 8
KL_COEF = 0.1
SIMPO_BETA, SIMPO_GAMMA = 2.0, 0.5
CKPT_EVERY = 0.2
FISHER_N = 2000
SPECTRAL_ITERS = 30
BOOT_REPS = 1000
FIELDS = ["new_acc_base", "new_acc", "prior_acc_base", "prior_acc", "forgetting",
          "forward_kl_new", "reverse_kl_new", "tv_new", "l2_dist_new", "js_new",
          "forward_kl_prior", "reverse_kl_prior", "tv_prior", "l2_dist_prior", "js_prior",
          "weight_l1", "weight_fisher_l2", "weight_spectral", "act_l1", "act_l2", "cka"]
PREDICTORS = ["forward_kl_new", "reverse_kl_new", "tv_new", "l2_dist_new", "weight_l1",
              "weight_fisher_l2", "weight_spectral", "act_l1", "act_l2", "js_new",
              "forward_kl_prior", "reverse_kl_prior", "tv_prior", "l2_dist_prior", "js_prior", "cka"]
FLT_EPSILON = float(np.finfo(np.float32).eps)


def set_threads(n):
    """Intra-op threads of torch and of OpenBLAS (torch's GEMM backend here,
    whose own pthread pool torch.set_num_threads does not size)."""
    torch.set_num_threads(n)
    for name in ("libopenblas.so.0", "libblas.so.3"):
        try:
            ctypes.CDLL(name).openblas_set_num_threads(int(n))
            break
        except (OSError, AttributeError):
            continue


# ---------------------------------------------------------------- data

M64 = (1 << 64) - 1


class Xoshiro:
    """The C code's xoshiro256** seeded through splitmix64 by (seed, stream),
    with Lemire's unbiased bounded draw: only used to reproduce the fixed
    MNIST split."""

    def __init__(self, seed, stream):
        x = seed & M64
        x, y = self._splitmix(x)
        y ^= (stream * 0xD1B54A32D192ED03) & M64
        self.s = []
        for _ in range(4):
            y, z = self._splitmix(y)
            self.s.append(z)

    @staticmethod
    def _splitmix(x):
        x = (x + 0x9E3779B97F4A7C15) & M64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return x, z ^ (z >> 31)

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    def u64(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def below(self, n):
        m = (self.u64() >> 32) * n
        low = m & 0xFFFFFFFF
        if low < n:
            threshold = ((1 << 32) - n) % n
            while low < threshold:
                m = (self.u64() >> 32) * n
                low = m & 0xFFFFFFFF
        return m >> 32

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]


SPLIT_SEED, STREAM_SPLIT = 20250101, 6


def mnist_split(data_dir):
    """MNIST as src/data/mnist.c splits it: per digit, round(20%) to test
    (largest remainders take the leftover), picked by one shuffle per digit
    from the split generator; both splits keep digit order, then file order."""
    xs, labels = [], []
    for d in range(10):
        with open(os.path.join(data_dir, "mnist", "%d.json" % d)) as f:
            a = np.asarray(json.load(f)["data"], dtype=np.float32).reshape(-1, 784)
        xs.append(a)
        labels.append(np.full(len(a), d, dtype=np.int64))
    x, label = np.concatenate(xs), np.concatenate(labels)
    count = [int((label == d).sum()) for d in range(10)]
    quota = [c // 5 for c in count]
    extra = (sum(count) * 2 + 5) // 10 - sum(quota)
    used = [False] * 10
    for _ in range(extra):
        best = -1
        for d in range(10):
            if not used[d] and count[d] % 5 > 0 and (best < 0 or count[d] % 5 > count[best] % 5):
                best = d
        if best < 0:
            break
        used[best] = True
        quota[best] += 1
    in_test = np.zeros(len(label), dtype=bool)
    rng = Xoshiro(SPLIT_SEED, STREAM_SPLIT)
    for d in range(10):
        idx = np.flatnonzero(label == d).tolist()
        rng.shuffle(idx)
        in_test[idx[:quota[d]]] = True
    return (x[~in_test], label[~in_test]), (x[in_test], label[in_test])


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion(data_dir, prefix):
    d = os.path.join(data_dir, "fashion-mnist")
    x = read_idx(os.path.join(d, "%s-images-idx3-ubyte.gz" % prefix))
    y = read_idx(os.path.join(d, "%s-labels-idx1-ubyte.gz" % prefix))
    return x.reshape(len(x), -1).astype(np.float32) / 255.0, y.astype(np.int64)


def task_tensor(x, indicator):
    t = torch.empty(len(x), 785)
    t[:, :784] = torch.from_numpy(x)
    t[:, 784] = indicator
    return t


def load_data(data_dir):
    (mx_tr, my_tr), (mx_te, my_te) = mnist_split(data_dir)
    fx_tr, fy_tr = fashion(data_dir, "train")
    fx_te, fy_te = fashion(data_dir, "t10k")
    return {
        "parity_train": (task_tensor(mx_tr, 1.0), torch.from_numpy(my_tr)),
        "parity_test": (task_tensor(mx_te, 1.0), torch.from_numpy(my_te)),
        "fashion_train": (task_tensor(fx_tr, -1.0), torch.from_numpy(fy_tr)),
        "fashion_test": (task_tensor(fx_te, -1.0), torch.from_numpy(fy_te)),
    }


# ---------------------------------------------------------------- model

def init_params(gen):
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, as the C
    code (and torch.nn.Linear) initialise."""
    ps = []
    for i in range(len(SPEC) - 1):
        bound = 1.0 / math.sqrt(SPEC[i])
        w = (torch.rand(SPEC[i + 1], SPEC[i], generator=gen) * 2 - 1) * bound
        b = (torch.rand(SPEC[i + 1], generator=gen) * 2 - 1) * bound
        ps += [w, b]
    return [p.requires_grad_() for p in ps]


def forward(ps, x, hidden=False):
    """Logits; with hidden=True also the list of post-ReLU hidden layers."""
    hs = []
    h = x
    n = len(ps) // 2
    for l in range(n):
        z = F.linear(h, ps[2 * l], ps[2 * l + 1])
        if l < n - 1:
            h = torch.relu(z)
            hs.append(h)
        else:
            h = z
    return (h, hs) if hidden else h


def accuracy(task, logits, labels):
    pred = logits.argmax(1)
    ok = (pred % 2) == (labels % 2) if task == "parity" else pred == labels
    return ok.double().mean().item()


def make_adamw(ps, lr):
    return torch.optim.AdamW(ps, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)


def batches(n, batch, gen):
    """One epoch's batches: a fresh permutation, the last batch partial."""
    perm = torch.randperm(n, generator=gen)
    return [perm[i:i + batch] for i in range(0, n, batch)]


# ---------------------------------------------------------------- pretraining

def pretrain(data, seed=0, per_task=500, epochs=20, lr=1e-3):
    gen = torch.Generator().manual_seed(seed)
    ps = init_params(gen)
    px, py = data["parity_train"]
    fx, fy = data["fashion_train"]
    pi = torch.randperm(len(px), generator=gen)[:per_task]
    fi = torch.randperm(len(fx), generator=gen)[:per_task]
    # A parity image's label: one of the 5 digits of its parity, drawn once.
    plab = py[pi] % 2 + 2 * torch.randint(0, 5, (per_task,), generator=gen)
    x = torch.cat([px[pi], fx[fi]])
    y = torch.cat([plab, fy[fi]])
    opt = make_adamw(ps, lr)
    loss = None
    for _ in range(epochs):
        for idx in batches(len(x), BATCH, gen):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(forward(ps, x[idx]), y[idx])
            loss.backward()
            opt.step()
    with torch.no_grad():
        acc_p = accuracy("parity", forward(ps, data["parity_test"][0]), data["parity_test"][1])
        acc_f = accuracy("fashion", forward(ps, data["fashion_test"][0]), data["fashion_test"][1])
    return [p.detach().clone() for p in ps], acc_p, acc_f, loss.item()


# ---------------------------------------------------------------- base context

def fisher_diag(base, x, gen):
    """Diagonal Fisher of the base: mean over inputs of the squared gradient
    of log pi_0(y|x), y ~ pi_0(.|x), one sample per input. A linear layer's
    per-example weight gradient is the outer product dz h^T, so the sum of
    its squares over examples is (dz^2)^T (h^2): one GEMM per layer."""
    ps = [p.detach().clone().requires_grad_() for p in base]
    n_layers = len(ps) // 2
    hs, zs = [x], []
    h = x
    for l in range(n_layers):
        z = F.linear(h, ps[2 * l], ps[2 * l + 1])
        zs.append(z)
        h = torch.relu(z) if l < n_layers - 1 else z
        if l < n_layers - 1:
            hs.append(h)
    logits = zs[-1]
    with torch.no_grad():
        p = torch.softmax(logits, 1)
        y = torch.multinomial(p, 1, generator=gen).squeeze(1)
        dlogits = p.clone()
        dlogits[torch.arange(len(y)), y] -= 1.0
    dzs = torch.autograd.grad(logits, zs, grad_outputs=dlogits)
    fisher = []
    with torch.no_grad():
        for l in range(n_layers):
            sq_dz = dzs[l] * dzs[l]
            sq_h = hs[l] * hs[l]
            fisher += [sq_dz.t() @ sq_h / len(x), sq_dz.sum(0) / len(x)]
    return fisher


def centred64(h):
    h = h.double()
    return h - h.mean(0, keepdim=True)


def base_context(base, data, seed=0):
    """Everything about the base model that every run's measurements share."""
    gen = torch.Generator().manual_seed(seed + 5)
    ctx = {"base": base}
    with torch.no_grad():
        for task, key in (("parity", "new"), ("fashion", "prior")):
            x, y = data[task + "_test"]
            logits, hs = forward(base, x, hidden=True)
            ctx["acc_base_" + key] = accuracy(task, logits, y)
            ctx["logp0_" + key] = torch.log_softmax(logits, 1).double()
            if task == "parity":
                ctx["hidden0"] = [h.double() for h in hs]
                h0c = centred64(hs[-1])
                ctx["h0c"] = h0c
                ctx["xx"] = torch.linalg.matrix_norm(h0c.t() @ h0c).item()
        ctx["probs0_train"] = torch.softmax(forward(base, data["parity_train"][0]), 1)
    fx = data["fashion_train"][0][:FISHER_N]
    ctx["fisher"] = torch.cat([f.reshape(-1) for f in fisher_diag(base, fx, gen)]).double()
    ctx["base_flat"] = torch.cat([p.reshape(-1) for p in base]).double()
    return ctx


# ---------------------------------------------------------------- measurement

def divergences(lp0, lp1):
    """Mean over inputs of forward KL(p0||p1), reverse KL, TV, L2 and JS,
    in double (with 0 log 0 = 0)."""
    p, q = lp0.exp(), lp1.exp()
    fkl = torch.where(p > 0, p * (lp0 - lp1), torch.zeros_like(p)).sum(1)
    rkl = torch.where(q > 0, q * (lp1 - lp0), torch.zeros_like(q)).sum(1)
    tv = 0.5 * (p - q).abs().sum(1)
    l2 = ((p - q) ** 2).sum(1).sqrt()
    m = 0.5 * (p + q)
    logm = m.log()
    js = 0.5 * (torch.where(p > 0, p * (lp0 - logm), torch.zeros_like(p)) +
                torch.where(q > 0, q * (lp1 - logm), torch.zeros_like(q)))
    js = torch.where(m > 0, js, torch.zeros_like(js)).sum(1)
    return [t.mean().item() for t in (fkl, rkl, tv, l2, js)]


def spectral_sum(base, ps, gen_seed):
    """Sum over layers of the largest singular value of delta W: 30 power
    iterations in double from the same random start at every checkpoint."""
    gen = torch.Generator().manual_seed(gen_seed)
    total = 0.0
    for l in range(len(ps) // 2):
        d = ps[2 * l].double() - base[2 * l].double()
        v = torch.randn(d.shape[1], generator=gen, dtype=torch.float64)
        sigma = 0.0
        for _ in range(SPECTRAL_ITERS):
            u = d @ v
            nu = torch.linalg.vector_norm(u)
            if nu == 0:
                break
            u /= nu
            v = d.t() @ u
            s = torch.linalg.vector_norm(v)
            if s == 0:
                sigma = 0.0
                break
            sigma = s.item()
            v /= s
        total += sigma
    return total


def ranks(base, ps):
    out = []
    for l in range(len(ps) // 2):
        d = ps[2 * l].double() - base[2 * l].double()
        s = torch.linalg.svdvals(d)
        tol = max(d.shape) * FLT_EPSILON * s[0].item()
        out.append(int((s > tol).sum().item()))
    return out


def measure(ctx, data, ps, with_rank, tm, c_work=False):
    base = ctx["base"]
    t0 = time.perf_counter()
    with torch.no_grad():
        logits_n, hs = forward(ps, data["parity_test"][0], hidden=True)
        logits_p = forward(ps, data["fashion_test"][0])
        t1 = time.perf_counter()
        r = {"new_acc_base": ctx["acc_base_new"], "prior_acc_base": ctx["acc_base_prior"],
             "new_acc": accuracy("parity", logits_n, data["parity_test"][1]),
             "prior_acc": accuracy("fashion", logits_p, data["fashion_test"][1])}
        r["forgetting"] = r["prior_acc_base"] - r["prior_acc"]
        for key, logits in (("new", logits_n), ("prior", logits_p)):
            lp = torch.log_softmax(logits, 1).double()
            vals = divergences(ctx["logp0_" + key], lp)
            for name, v in zip(("forward_kl", "reverse_kl", "tv", "l2_dist", "js"), vals):
                r[name + "_" + key] = v
        t2 = time.perf_counter()
        flat = torch.cat([p.reshape(-1) for p in ps]).double()
        d = flat - ctx["base_flat"]
        r["weight_l1"] = d.abs().sum().item()
        r["weight_fisher_l2"] = (ctx["fisher"] * d * d).sum().item()
        t3 = time.perf_counter()
        r["weight_spectral"] = spectral_sum(base, ps, 5)
        t4 = time.perf_counter()
        if with_rank:
            r["weight_rank"] = ranks(base, ps)
        t5 = time.perf_counter()
        # Activation change over both hidden layers, CKA of the last one.
        hidden0, h0c, xx = ctx["hidden0"], ctx["h0c"], ctx["xx"]
        if c_work:
            # As the C code does: fresh forward passes of the base and the
            # model on the parity test inputs at every checkpoint.
            _, hs0 = forward(base, data["parity_test"][0], hidden=True)
            _, hs = forward(ps, data["parity_test"][0], hidden=True)
            hidden0 = [h.double() for h in hs0]
            h0c = centred64(hs0[-1])
            xx = torch.linalg.matrix_norm(h0c.t() @ h0c).item()
        d1 = torch.zeros(len(hs[0]), dtype=torch.float64)
        d2 = torch.zeros_like(d1)
        for h0, h1 in zip(hidden0, hs):
            dd = h1.double() - h0
            d1 += dd.abs().sum(1)
            d2 += (dd * dd).sum(1)
        r["act_l1"] = d1.mean().item()
        r["act_l2"] = d2.sqrt().mean().item()
        h1c = centred64(hs[-1])
        xy = (h1c.t() @ h0c).pow(2).sum().item()
        yy = torch.linalg.matrix_norm(h1c.t() @ h1c).item()
        r["cka"] = xy / (xx * yy) if xx > 0 and yy > 0 else 0.0
        t6 = time.perf_counter()
    for k, v in (("eval", t1 - t0), ("divergences", t2 - t1), ("weight_l1_fisher", t3 - t2),
                 ("spectral", t4 - t3), ("rank", t5 - t4), ("activations_cka", t6 - t5)):
        tm[k] = tm.get(k, 0.0) + v
    return r


# ---------------------------------------------------------------- fine-tuning

def finetune(ctx, data, method, lr, seed=0, c_work=False):
    """One run; returns its checkpoints' measurements and its timings."""
    tm = {}
    t_run = time.perf_counter()
    x_tr, lab_tr = data["parity_train"]
    n = len(x_tr)
    parity = lab_tr % 2
    # Offline targets, fixed before the first step (same draws for every run
    # of a seed, as in the C code).
    tg = torch.Generator().manual_seed(seed * 1000 + 3)
    if method == "sft2":
        y = parity + 4 * torch.randint(0, 2, (n,), generator=tg)
    else:
        y = parity.clone()
    y_l = (1 - parity) + 2 * torch.randint(0, 5, (n,), generator=tg)
    p0 = ctx["probs0_train"]
    if c_work:  # as the C code does: the base's outputs on the training set, per run
        with torch.no_grad():
            p0 = torch.softmax(forward(ctx["base"], x_tr), 1)
    correct = (torch.arange(V).unsqueeze(0) % 2) == parity.unsqueeze(1)
    q = p0 * correct
    q = q / q.sum(1, keepdim=True)          # the I-projection of pi_0 onto correct labels
    logp0 = p0.log()
    data_gen = torch.Generator().manual_seed(seed * 1000 + 2)
    sample_gen = torch.Generator().manual_seed(seed * 1000 + 4)
    ps = [p.clone().requires_grad_() for p in ctx["base"]]
    opt = make_adamw(ps, lr)
    spe = (n + BATCH - 1) // BATCH
    total = spe * 1
    ckpts = []
    ck = 0
    step = 0
    t_meas = 0.0
    while step < total:
        for idx in batches(n, BATCH, data_gen):
            opt.zero_grad(set_to_none=True)
            logits = forward(ps, x_tr[idx])
            logp = torch.log_softmax(logits, 1)
            if method in ("sft1", "sft2"):
                loss = F.nll_loss(logp, y[idx])
            elif method == "oracle":
                loss = -(q[idx] * logp).sum(1).mean()
            elif method == "simpo":
                yi, yli = y[idx].unsqueeze(1), y_l[idx].unsqueeze(1)
                u = SIMPO_BETA * (logp.gather(1, yi) - logp.gather(1, yli)).squeeze(1) - SIMPO_GAMMA
                loss = F.softplus(-u).mean()
            else:
                with torch.no_grad():
                    probs = logp.exp()
                    acts = torch.multinomial(probs, GROUP, replacement=True, generator=sample_gen)
                    rew = ((acts % 2) == parity[idx].unsqueeze(1)).float()
                    if method == "reinforce":
                        adv = rew
                    else:
                        mean = rew.mean(1, keepdim=True)
                        sd = rew.std(1, unbiased=False, keepdim=True)
                        adv = (rew - mean) / (sd + 1e-6)
                loss = -(adv * logp.gather(1, acts)).mean()
                if method == "grpo-kl":
                    loss = loss + KL_COEF * (logp.exp() * (logp - logp0[idx])).sum(1).mean()
            loss.backward()
            if not math.isfinite(loss.item()):
                raise RuntimeError("%s lr %g: training diverged at step %d" % (method, lr, step))
            opt.step()
            step += 1
            if step >= round((ck + 1) * CKPT_EVERY * spe) or step == total:
                tm0 = time.perf_counter()
                r = measure(ctx, data, [p.detach() for p in ps], step == total, tm, c_work)
                t_meas += time.perf_counter() - tm0
                r.update(method=method, lr=lr, idx=ck, step=step, epoch=step / spe)
                ckpts.append(r)
                ck += 1
            if step >= total:
                break
    tm["train"] = time.perf_counter() - t_run - t_meas
    return ckpts, tm


# ---------------------------------------------------------------- workers

_G = {}


def _worker_init():
    set_threads(1)


def _worker_run(i):
    method, lr = _G["plan"][i]
    return i, os.getpid(), finetune(_G["ctx"], _G["data"], method, lr, c_work=_G["c_work"])


def sweep(ctx, data, jobs, c_work=False):
    # Plan order as in the C study: learning rate outer, method inner.
    plan = [(m, lr) for lr in LRS for m in METHODS]
    _G.update(plan=plan, ctx=ctx, data=data, c_work=c_work)
    results = [None] * len(plan)
    if jobs <= 1:
        set_threads(1)
        for i in range(len(plan)):
            results[i] = _worker_run(i)[2]
    else:
        with mp.get_context("fork").Pool(jobs, initializer=_worker_init) as pool:
            for i, _, res in pool.imap_unordered(_worker_run, range(len(plan)), chunksize=1):
                results[i] = res
    return plan, results


# ---------------------------------------------------------------- analysis

def poly2_r2_batch(X, Y):
    """R^2 of least-squares forgetting ~ 1 + u + u^2 (u: x standardised per
    row), for each row of X, Y [reps, n]; NaN where y is constant or the
    system singular."""
    mx = X.mean(1, keepdims=True)
    sx = np.sqrt(((X - mx) ** 2).mean(1, keepdims=True))
    sx[sx == 0] = 1.0
    u = (X - mx) / sx
    U = np.stack([np.ones_like(u), u, u * u], axis=2)          # [reps, n, 3]
    A = np.einsum("rni,rnj->rij", U, U)
    b = np.einsum("rni,rn->ri", U, Y)
    sst = ((Y - Y.mean(1, keepdims=True)) ** 2).sum(1)
    out = np.full(len(X), np.nan)
    ok = (sst > 0) & (np.abs(np.linalg.det(A)) > 1e-300)
    if ok.any():
        c = np.linalg.solve(A[ok], b[ok][..., None])[..., 0]
        e = Y[ok] - np.einsum("rni,ri->rn", U[ok], c)
        out[ok] = 1.0 - (e * e).sum(1) / sst[ok]
    return out


def predictor_fits(pts, reps=BOOT_REPS, seed=1):
    y = np.array([p["forgetting"] for p in pts])
    n = len(y)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(reps, n))     # the same resamples for every predictor
    fits = {}
    for name in PREDICTORS:
        x = np.array([p[name] for p in pts])
        r2 = poly2_r2_batch(x[None], y[None])[0]
        boot = poly2_r2_batch(x[idx], y[idx])
        boot = boot[~np.isnan(boot)]
        lo, hi = (np.quantile(boot, [0.025, 0.975]) if len(boot) else (np.nan, np.nan))
        fits[name] = (r2, lo, hi, n)
    return fits


def pareto_keep(a, b, tol=0.02):
    order = np.argsort(a, kind="stable")
    best = np.empty(len(a))
    run = -np.inf
    s = len(a) - 1
    while s >= 0:
        e = s
        while e - 1 >= 0 and a[order[e - 1]] == a[order[s]]:
            e -= 1
        run = max(run, b[order[e:s + 1]].max())
        best[order[e:s + 1]] = run
        s = e - 1
    return b >= best - tol


def fit_exp(x, y):
    """prior = a + b exp(c new): scan c, linear least squares for (a, b),
    golden-section refinement of the best bracket."""
    def given_c(c):
        E = np.exp(c * x)
        A = np.stack([np.ones_like(E), E], 1)
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        r = y - A @ coef
        s = float(r @ r)
        return (s if np.isfinite(s) else np.inf), coef
    cs = np.linspace(-60, 60, 481)
    ss = [given_c(c)[0] for c in cs]
    k = int(np.argmin(ss))
    h = 120 / 480
    lo, hi = max(-60, cs[k] - h), min(60, cs[k] + h)
    g = 0.5 * (math.sqrt(5) - 1)
    for _ in range(100):
        c1, c2 = hi - g * (hi - lo), lo + g * (hi - lo)
        if given_c(c1)[0] < given_c(c2)[0]:
            hi = c2
        else:
            lo = c1
    c = 0.5 * (lo + hi)
    s, coef = given_c(c)
    if s > ss[k]:
        c = cs[k]
        s, coef = given_c(c)
    return coef[0], coef[1], c, s


def frontiers(pts):
    out = {}
    for m in METHODS:
        a = np.array([p["new_acc"] for p in pts if p["method"] == m])
        b = np.array([p["prior_acc"] for p in pts if p["method"] == m])
        keep = pareto_keep(a, b)
        out[m] = fit_exp(a[keep], b[keep]) + (len(a), int(keep.sum())) if keep.sum() >= 3 else None
    return out


def write_csvs(out_dir, pts, fits, fronts):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.csv"), "w") as f:
        f.write("method,lr,idx,step,epoch," + ",".join(FIELDS) + "\n")
        for p in pts:
            f.write("%s,%.6g,%d,%d,%g," % (p["method"], p["lr"], p["idx"], p["step"], p["epoch"]) +
                    ",".join("%.9g" % p[k] for k in FIELDS) + "\n")
    with open(os.path.join(out_dir, "predictors.csv"), "w") as f:
        f.write("predictor,r2,r2_lo,r2_hi,n\n")
        for k, (r2, lo, hi, n) in fits.items():
            f.write("%s,%.6f,%.6f,%.6f,%d\n" % (k, r2, lo, hi, n))
    with open(os.path.join(out_dir, "frontier.csv"), "w") as f:
        f.write("method,a,b,c,n,n_kept,rss\n")
        for m, v in fronts.items():
            if v:
                f.write("%s,%.9g,%.9g,%.9g,%d,%d,%.6g\n" % (m, v[0], v[1], v[2], v[4], v[5], v[3]))


# ---------------------------------------------------------------- main

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(here, "..", "data"))
    ap.add_argument("--out", default=None, help="write results.csv, predictors.csv, frontier.csv here")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (1 thread each)")
    ap.add_argument("--parent-threads", type=int, default=1,
                    help="threads for pretraining and the base context (0: all cores; 1 is"
                         " fastest here: 2 threads made pretraining 2-3x slower)")
    ap.add_argument("--c-work", action="store_true",
                    help="redo per checkpoint/run what the C code recomputes (base and model"
                         " forward passes on the parity test inputs for the activation"
                         " measures, base outputs on the training set per run), for a"
                         " like-for-like count of work")
    a = ap.parse_args()
    set_threads(a.parent_threads or os.cpu_count())
    torch.manual_seed(0)

    t0 = time.time()
    data = load_data(a.data)
    t1 = time.time()
    base, acc_p, acc_f, loss = pretrain(data)
    t2 = time.time()
    ctx = base_context(base, data)
    t3 = time.time()
    plan, results = sweep(ctx, data, a.jobs, a.c_work)
    t4 = time.time()
    pts = [r for ckpts, _ in results for r in ckpts]
    fits = predictor_fits(pts)
    fronts = frontiers(pts)
    if a.out:
        write_csvs(a.out, pts, fits, fronts)
    t5 = time.time()

    print("base: parity_acc %.4f fashion_acc %.4f final_loss %.4f" % (acc_p, acc_f, loss))
    print("%-18s %6s  %-16s %5s" % ("predictor", "R^2", "95% interval", "n"))
    for k, (r2, lo, hi, n) in fits.items():
        print("%-18s %6.3f  [%6.3f, %6.3f] %5d" % (k, r2, lo, hi, n))
    print("\nfinal forgetting (prior_acc_base - prior_acc; new_acc in parentheses)")
    print("%-10s" % "method" + "".join("  lr=%-14.2e" % lr for lr in LRS))
    final = {(c[-1]["method"], c[-1]["lr"]): c[-1] for c, _ in results}
    for m in METHODS:
        print("%-10s" % m + "".join("  %+.4f (%.3f)  " % (final[(m, lr)]["forgetting"], final[(m, lr)]["new_acc"])
                                    for lr in LRS))
    tm = {}
    for _, t in results:
        for k, v in t.items():
            tm[k] = tm.get(k, 0.0) + v
    print("\ntime summed over the 35 runs (process-seconds, both workers together):")
    for k in ("train", "eval", "divergences", "weight_l1_fisher", "spectral", "rank", "activations_cka"):
        print("  %-18s %7.2f s" % (k, tm.get(k, 0.0)))
    print("phases: import %.2f s, data %.2f s, pretrain %.2f s, base context %.2f s, sweep %.2f s, analysis %.2f s"
          % (T_IMPORTED - T_START, t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4))
    print(json.dumps({"wall_s": round(time.time() - T_START, 3), "pretrain_s": round(t2 - t1, 3),
                      "sweep_s": round(t4 - t3, 3), "analysis_s": round(t5 - t4, 3),
                      "import_s": round(T_IMPORTED - T_START, 3), "data_s": round(t1 - t0, 3),
                      "base_ctx_s": round(t3 - t2, 3), "runs": len(results), "checkpoints": len(pts),
                      "forward_kl_new_r2": round(float(fits["forward_kl_new"][0]), 4),
                      "forward_kl_new_r2_ci": [round(float(fits["forward_kl_new"][1]), 4),
                                               round(float(fits["forward_kl_new"][2]), 4)]}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
