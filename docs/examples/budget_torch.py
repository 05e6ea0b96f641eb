"""budget_torch.py: the worked example of docs/budget.md. Fine-tune
forgetlab's base model in PyTorch, your own way, and stop before it
forgets more than 5% of the prior task: forgetlab.Budget turns the limit
into a forward KL on the NEW task's inputs (from a finished study's
forecast.json), and the loop checks it every few steps, keeping the last
model within it. No prior-task data is read.

    forgetlab study razor --quick --out runs/razor
    forgetlab eval --model runs/razor/base --task parity --split train --inputs-out parity_x.npy --labels-out parity_y.npy
    forgetlab eval --model runs/razor/base --task parity --inputs-out parity_test.npy
    PYTHONPATH=python /usr/bin/python3 docs/examples/budget_torch.py runs/razor

Needs Debian's python3-torch besides python3-numpy."""
import copy
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
    """Any nn.Module will do; this one's parameter names are forgetlab's."""

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

budget = forgetlab.Budget(study_dir, max_forgetting=0.05, level=0.9)
print("forgetting <= 0.05 at 90%%: forward KL on the new task's inputs <= %.4f" % budget.kl_budget)

x_new, y_new = torch.from_numpy(load("parity_x.npy")), torch.from_numpy(load("parity_y.npy")).long()
x_check = torch.from_numpy(load("parity_test.npy"))[:2000]  # the new task's held-out inputs
with torch.no_grad():
    base_logits = model(x_check).numpy()

# SFT towards 0 for even digits and 1 for odd ones, Adam at lr 1e-4,
# checked every 5 steps; the last model within the budget is kept.
torch.manual_seed(0)
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
kept, kept_check, stopped = copy.deepcopy(model.state_dict()), None, None
for step, i in enumerate(torch.randperm(len(x_new)).split(32), 1):
    opt.zero_grad()
    nn.functional.cross_entropy(model(x_new[i]), y_new[i] % 2).backward()
    opt.step()
    if step % 5:
        continue
    with torch.no_grad():
        r = budget.check(base_logits, model(x_check).numpy())
    if not r.within:
        stopped = step
        break
    kept, kept_check = copy.deepcopy(model.state_dict()), r
model.load_state_dict(kept)
if stopped:
    print("stopped at step %d: KL %.4f passed the budget" % (stopped, r.kl))
else:
    print("finished within the budget")
if kept_check:
    print("kept: KL %.4f, forecast forgetting %.3f [%.3f, %.3f]" % (kept_check.kl, kept_check.forecast,
                                                                   kept_check.lo, kept_check.hi))
else:
    print("kept: the base itself (the first check already passed the budget)")
