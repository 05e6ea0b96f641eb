"""study.py: a finished study directory (`forgetlab study razor | lm |
continual`) as NumPy columns, read from the CSV files the study writes
(no C library needed):

    s = forgetlab.study("runs/razor")
    s.checkpoints["forward_kl_new"]       # a column of results.csv
    s.df                                   # the same as a pandas DataFrame, when pandas is there
    s.predictors, s.frontier, s.metrics    # predictors.csv, frontier.csv, metrics.csv (continual)
    s.predict_forgetting(0.05)             # the pooled curve of forgetting on forward KL
    s.forecast(0.05)                       # forecast.json: (forecast, lo, hi) for a new run"""
import csv
import os
import sqlite3

import numpy as np

__all__ = ["study", "Study"]


def _columns(path):
    """A CSV file as {column: array}: float64 where every value is a
    number or empty (NaN), else strings."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError("%s: empty" % path)
    head, body = rows[0], rows[1:]
    bad = [i + 2 for i, r in enumerate(body) if len(r) != len(head)]
    if bad:
        raise ValueError("%s: line %d has another number of fields than the header's %d" % (path, bad[0], len(head)))
    out = {}
    for j, name in enumerate(head):
        vals = [r[j] for r in body]
        try:
            out[name] = np.array([float(v) if v != "" else np.nan for v in vals], dtype=np.float64)
        except ValueError:
            out[name] = np.array(vals, dtype=object)
    return out


class Study:
    """What a study directory holds; each table a dict of NumPy columns
    (None where the study kind has no such file)."""

    def __init__(self, path):
        self.path = path
        req = os.path.join(path, "results.csv")
        if not os.path.exists(req):
            raise FileNotFoundError("forgetlab.study: %s has no results.csv (not a finished study?)" % path)
        self.kind = self.grid = None
        db = os.path.join(path, "results.sqlite")
        if os.path.exists(db):
            con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
            try:
                meta = dict(con.execute("SELECT key, value FROM study").fetchall())
                # The razor study, the first kind, records none.
                self.kind, self.grid = meta.get("kind", "razor"), meta.get("grid")
            except sqlite3.Error as e:
                raise ValueError("%s: not a forgetlab study database: %s" % (db, e)) from None
            finally:
                con.close()
        tables = {}
        for name in ("predictors", "frontier", "methods", "metrics"):
            p = os.path.join(path, name + ".csv")
            tables[name] = _columns(p) if os.path.exists(p) else None
        self.checkpoints = _columns(req)
        self.predictors, self.frontier = tables["predictors"], tables["frontier"]
        self.methods, self.metrics = tables["methods"], tables["metrics"]

    def __repr__(self):
        n = len(next(iter(self.checkpoints.values()), []))
        return "<forgetlab.Study %s (%s): %d rows>" % (self.path, self.kind or "?", n)

    @property
    def df(self):
        """results.csv as a pandas DataFrame, or None without pandas."""
        try:
            import pandas
        except ImportError:
            return None
        return pandas.DataFrame(self.checkpoints)

    def predictor(self, name="forward_kl_new"):
        """predictors.csv's row for a predictor, as a dict."""
        if self.predictors is None:
            raise ValueError("%s: no predictors.csv" % self.path)
        names = list(self.predictors["predictor"])
        if name not in names:
            raise ValueError("predictor %r: the study has %s" % (name, ", ".join(names)))
        i = names.index(name)
        return {k: v[i] for k, v in self.predictors.items()}

    def predict_forgetting(self, value, predictor="forward_kl_new"):
        """Forgetting predicted by the study's pooled quadratic fit of
        forgetting on the predictor (predictors.csv's fit_c0..fit_c2), at
        value(s); NaN outside the range the curve was fitted on
        [x_min, x_max], where it says nothing."""
        p = self.predictor(predictor)
        if "fit_c0" not in p:
            raise ValueError("%s: predictors.csv has no fitted curve (a study of another version, or kind %s)"
                             % (self.path, self.kind))
        x = np.asarray(value, dtype=np.float64)
        y = p["fit_c0"] + p["fit_c1"] * x + p["fit_c2"] * x * x
        return np.where((x >= p["x_min"]) & (x <= p["x_max"]), y, np.nan)


    def forecast(self, kl, level=0.9):
        """(forecast, lo, hi) of forgetting at forward KL kl from the study's
        forecast.json: a new run's checkpoint, with its interval at level
        (0.8, 0.9 or 0.95)."""
        from .budget import Forecast
        return Forecast(self.path).at(kl, level)


def study(path):
    """The study at path (a directory a `forgetlab study` wrote)."""
    return Study(os.fspath(path))
