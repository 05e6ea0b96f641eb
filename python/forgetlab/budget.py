"""budget.py: a study's forgetting forecast (forecast.json) and a
forgetting budget for anyone's training loop, in pure NumPy
(docs/budget.md):

    f = forgetlab.forecast("runs/razor")          # or forgetlab.study(d).forecast(kl)
    f.at(0.1, level=0.9)                          # (forecast, lo, hi) of a new run's checkpoint
    b = forgetlab.Budget("runs/razor", max_forgetting=0.05)
    b.kl_budget                                   # the largest forward KL the bound allows
    r = b.check(base_logits, logits)              # r.kl, r.forecast, r.lo, r.hi, r.within

The forecast maps the forward KL between the base and the fine-tuned
model on the NEW task's inputs to forgetting of the prior task: the
check reads no prior-task data. Its numbers are the CLI's
(forgetlab finetune --max-forgetting F --calibration STUDY)."""
import collections
import json
import math
import os

import numpy as np

__all__ = ["Forecast", "forecast", "Budget", "BudgetCheck"]

LEVELS = (0.80, 0.90, 0.95)


class Forecast:
    """forecast.json: an isotonic curve of forgetting on forward KL, its
    scale, and split-conformal quantiles (whole runs held out) at 80, 90
    and 95%; held_out holds the held-out runs' MAE and coverage."""

    def __init__(self, path):
        if os.path.isdir(path):
            path = os.path.join(path, "forecast.json")
        if not os.path.exists(path):
            raise FileNotFoundError("%s: no forecast (a study of this version writes forecast.json)" % path)
        try:
            with open(path) as f:
                j = json.load(f)
            k = j["knots"]
            self.x, self.f, self.s = (np.asarray(k[n], dtype=np.float64) for n in ("x", "forgetting", "scale"))
            self.q = [math.inf if v is None else float(v) for v in j["q"]]
            self.setting, self.model, self.predictor = j["setting"], j["model"], j["predictor"]
            self.n_runs, self.held_out = int(j["n_runs"]), j["leave_one_run_out"]
            levels = [float(v) for v in j["levels"]]
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError("%s: not a forecast: %s" % (path, e)) from None
        ok = (len(self.x) >= 1 and len(self.x) == len(self.f) == len(self.s) and np.all(np.diff(self.x) > 0)
              and np.all(np.diff(self.f) >= 0) and np.all(self.s > 0) and np.allclose(levels, LEVELS)
              and len(self.q) == 3)
        if not ok:
            raise ValueError("%s: knots out of order or levels not 0.8, 0.9, 0.95" % path)
        self.path = path

    def _level(self, level):
        for i, v in enumerate(LEVELS):
            if abs(v - level) < 1e-9:
                return i
        raise ValueError("level %r: the forecast has levels 0.8, 0.9 and 0.95" % (level,))

    def at(self, kl, level=0.9):
        """(forecast, lo, hi) at forward KL kl (scalar or array): NaN
        beyond the largest KL the study saw or below 0; below the
        smallest, the value there."""
        q = self.q[self._level(level)]
        kl = np.asarray(kl, dtype=np.float64)
        f = np.interp(kl, self.x, self.f)
        h = q * np.interp(kl, self.x, self.s)
        bad = ~((kl >= 0) & (kl <= self.x[-1]))
        f, h = np.where(bad, np.nan, f), np.where(bad, np.nan, h)
        if f.ndim == 0:
            f, h = float(f), float(h)
        return f, f - h, f + h

    def budget(self, max_forgetting, level=0.9):
        """The largest KL in [0, x_max] whose upper bound stays <=
        max_forgetting; ValueError when none does or the study has too
        few runs for the level."""
        l = self._level(level)
        if not math.isfinite(self.q[l]):
            raise ValueError("%s: a %.0f%% bound needs more runs than the study's %d"
                             % (self.path, 100 * level, self.n_runs))
        u = self.f + self.q[l] * self.s
        above = np.nonzero(u > max_forgetting)[0]
        if len(above) == 0:
            return float(self.x[-1])
        i = int(above[0])
        if i == 0:
            raise ValueError("%s: the %.0f%% bound is already %.4f at the smallest KL it saw: no budget can "
                             "promise forgetting <= %g" % (self.path, 100 * level, u[0], max_forgetting))
        return float(self.x[i - 1] + (self.x[i] - self.x[i - 1]) * (max_forgetting - u[i - 1]) / (u[i] - u[i - 1]))


def forecast(path):
    """The forecast of the study at path (a directory or its forecast.json)."""
    return Forecast(os.fspath(path))


BudgetCheck = collections.namedtuple("BudgetCheck", "kl forecast lo hi within")


def _log_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


class Budget:
    """Fine-tune, but forget at most max_forgetting: kl_budget is the
    largest forward KL on the new task's inputs the study's upper bound at
    level allows; check() measures a model against it."""

    def __init__(self, study_dir, max_forgetting, level=0.9):
        if not (0 < max_forgetting <= 1):
            raise ValueError("max_forgetting %r: a drop of accuracy in (0, 1]" % (max_forgetting,))
        self.forecast, self.level, self.max_forgetting = Forecast(os.fspath(study_dir)), level, max_forgetting
        self.kl_budget = self.forecast.budget(max_forgetting, level)

    def check(self, base_logits, logits, mask=None):
        """Forward KL(base || model) from their logits on the new task's
        inputs ([n, classes], or [n, T, vocab] summed over the positions
        mask [n, T] keeps), averaged over the n inputs; its forecast and
        interval; whether it is within the budget. Arrays of NumPy or
        anything np.asarray takes (a CPU tensor)."""
        lp0, lp = _log_softmax(base_logits), _log_softmax(logits)
        if lp0.shape != lp.shape:
            raise ValueError("base_logits %s and logits %s differ in shape" % (lp0.shape, lp.shape))
        per = (np.exp(lp0) * (lp0 - lp)).sum(-1)
        if per.ndim == 2:
            per = (per * (np.ones_like(per) if mask is None else np.asarray(mask, dtype=np.float64))).sum(1)
        elif mask is not None:
            raise ValueError("mask goes with logits of shape [n, T, vocab]")
        kl = float(per.mean())
        f, lo, hi = (float(v) for v in self.forecast.at(kl, self.level))
        return BudgetCheck(kl, f, lo, hi, kl <= self.kl_budget)
