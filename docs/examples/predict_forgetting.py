"""predict_forgetting.py: the worked example of docs/python.md. Fine-tune
forgetlab's base model in PyTorch (a model of your own, trained your own
way), then ask forgetlab how far it moved on the new task's inputs and
what a finished study's curve predicts it forgot, and check against the
forgetting measured on the prior task.

    forgetlab study razor --quick --out runs/razor        # the study, with its base in runs/razor/base
    forgetlab eval --model runs/razor/base --task parity --split train --inputs-out parity_x.npy --labels-out parity_y.npy
    forgetlab eval --model runs/razor/base --task parity --inputs-out parity_test.npy
    forgetlab eval --model runs/razor/base --task fashion --inputs-out fashion_x.npy --labels-out fashion_y.npy
    PYTHONPATH=python /usr/bin/python3 docs/examples/predict_forgetting.py runs/razor

Needs Debian's python3-torch besides python3-numpy."""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

import forgetlab

study_dir = sys.argv[1] if len(sys.argv) > 1 else "runs/razor"
here = sys.argv[2] if len(sys.argv) > 2 else "."
load = lambda name: np.load(os.path.join(here, name))


class MLP(nn.Module):
    """Any nn.Module will do; this one's parameter names are forgetlab's
    (layers.0.weight, ...), so the base's weights load straight in."""

    def __init__(self, dims):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:]))

    def forward(self, x):
        for i, l in enumerate(self.layers):
            x = l(x) if i == len(self.layers) - 1 else torch.relu(l(x))
        return x


weights, meta = forgetlab.safetensors.load(os.path.join(study_dir, "base", "model.safetensors"), metadata=True)
model = MLP([int(d) for d in meta["spec"].split("-")])
model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})

x_new, y_new = torch.from_numpy(load("parity_x.npy")), torch.from_numpy(load("parity_y.npy")).long()
x_test = torch.from_numpy(load("parity_test.npy"))
x_prior, y_prior = torch.from_numpy(load("fashion_x.npy")), load("fashion_y.npy").astype(int)

with torch.no_grad():
    base_new, base_prior = model(x_test).numpy(), model(x_prior).numpy()

# Your own fine-tuning: here SFT towards digits 0 and 1 for even and odd
# (SFT with fixed targets, docs/razor.md), one epoch of Adam at lr 1e-4.
torch.manual_seed(0)
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
target = y_new % 2
for i in torch.randperm(len(x_new)).split(32):
    opt.zero_grad()
    nn.functional.cross_entropy(model(x_new[i]), target[i]).backward()
    opt.step()

with torch.no_grad():
    tuned_new, tuned_prior = model(x_test).numpy(), model(x_prior).numpy()

d = forgetlab.divergences(base_new, tuned_new)
study = forgetlab.study(study_dir)
predicted = float(study.predict_forgetting(d["forward_kl"]))
fit = study.predictor("forward_kl_new")
measured = (base_prior.argmax(1) == y_prior).mean() - (tuned_prior.argmax(1) == y_prior).mean()
print("forward KL on the new task's inputs: %.4f (reverse %.4f, TV %.4f)" % (d["forward_kl"], d["reverse_kl"], d["tv"]))
print("the study's curve (R^2 %.3f [%.3f, %.3f] over %d checkpoints) predicts forgetting %.3f"
      % (fit["r2"], fit["r2_lo"], fit["r2_hi"], fit["n"], predicted))
print("measured: prior-task accuracy %.3f -> %.3f, forgetting %.3f"
      % ((base_prior.argmax(1) == y_prior).mean(), (tuned_prior.argmax(1) == y_prior).mean(), measured))
