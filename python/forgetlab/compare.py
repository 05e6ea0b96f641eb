"""compare.py: `forgetlab compare` in pure Python over the studies' own
tables (no C library needed): the same four tables as lists of rows.

    t = forgetlab.compare(["runs/razor", "runs/lm", "runs/gf"])
    t["findings"]    # a row per setting x predictor: r2, r2_lo, ..., n_runs, seeds
    t["ranking"]     # per study, new-side predictors by held-out R^2
    t["rl_vs_sft"]   # each study's best on-policy against its best SFT, with the paired gap
    t["cs"]          # circuit stability against forgetting, and across grokking

Numbers are floats (NaN where a study has no such column), names are
strings; the rows and their order are those of findings.csv, ranking.csv,
rl_vs_sft.csv and cs.csv as `forgetlab compare --out DIR` writes them
(docs/findings.md)."""
import csv
import json
import math
import os
import sqlite3

__all__ = ["compare"]

R2 = ("r2", "r2_lo", "r2_hi", "r2_lomo", "r2_lomo_lo", "r2_lomo_hi", "spearman")
TAIL = ("r2_regime", "r2_regime_lo", "r2_regime_hi", "n_regime", "r2_partial_lr", "r2_partial_lr_lo", "r2_partial_lr_hi")


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _table(d, name, need):
    path = os.path.join(d, name)
    if not os.path.exists(path):
        if need:
            raise ValueError("%s: no %s (its analysis did not run, or an older version's did: "
                             "'forgetlab report %s')" % (d, name, d))
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _setting(kind, grid):
    quick = "quick=1" in grid
    if kind == "lm":
        return "lm-" + ("quick" if quick else "default")
    if kind == "grok-forget":
        return "grok-forget-" + ("quick" if quick else "default")
    if kind == "continual":
        word = lambda k: next((w[len(k) + 1:] for w in grid.split() if w.startswith(k + "=")), "")
        return "continual-%s-%s" % (word("bench"), word("scenario"))
    return "mlp"


def _grok_run(d):
    """A grok run's circuit stability across its grokking: its metrics.jsonl
    as the grokking rows of one seed (a setting of its own, "grok")."""
    try:
        with open(os.path.join(d, "summary.json")) as f:
            mem = json.load(f).get("memorized_epoch")
        with open(os.path.join(d, "metrics.jsonl")) as f:
            lines = [json.loads(l) for l in f if l.strip()]
    except (OSError, ValueError):
        raise ValueError("%s: a grok run without its summary.json or metrics.jsonl (unfinished?)" % d) from None
    res = [{"phase": "grok", "seed": "0", "epoch": l["epoch"], "cs_by_a_excess": l.get("cs_by_a_excess"),
            "cs_by_answer_excess": l.get("cs_by_answer_excess")} for l in lines if isinstance(l.get("epoch"), (int, float))]
    return {"dir": d, "kind": "grok", "setting": "grok", "meta": {}, "nruns": 1, "nckpts": 0, "nseeds": 1,
            "pred": [], "gap": None, "res": res,
            "memorised": {0: float(mem)} if isinstance(mem, (int, float)) else {}}


def _is_grok_run(d):
    try:
        with open(os.path.join(d, "config.json")) as f:
            return json.load(f).get("command") == "grok"
    except (OSError, ValueError, AttributeError):
        return False


def _load(d):
    db = os.path.join(d, "results.sqlite")
    if not os.path.exists(db) and _is_grok_run(d):
        return _grok_run(d)
    if not os.path.exists(db):
        raise ValueError("%s: not a study directory (no results.sqlite) nor a grok run" % d)
    con = sqlite3.connect(db)
    meta = dict(con.execute("SELECT key, value FROM study").fetchall())
    phase = meta.get("phase_method", "")
    rows = con.execute("SELECT run_id, seed FROM checkpoints WHERE method != ?", (phase,)).fetchall()
    con.close()
    kind = meta.get("kind", "razor")
    s = {"dir": d, "kind": kind, "setting": _setting(kind, meta.get("grid", "")), "meta": meta,
         "nruns": len({r for r, _ in rows}), "nckpts": len(rows), "nseeds": len({s for _, s in rows}),
         "pred": _table(d, "predictors.csv", True),
         "res": _table(d, "results.csv", False) if kind == "grok-forget" else None}
    # A study with frontier.csv (the razor analysis) has its rl_vs_sft.csv
    # unless an older version analysed it.
    s["gap"] = _table(d, "rl_vs_sft.csv", os.path.exists(os.path.join(d, "frontier.csv")))
    s["memorised"] = {}
    for seed in range(s["nseeds"]):
        base = meta.get("base_s%d" % seed)
        try:
            with open(os.path.join(base, "summary.json")) as f:
                s["memorised"][seed] = float(json.load(f)["memorized_epoch"])
        except (TypeError, OSError, KeyError, ValueError):
            pass
    return s


def _ranking(s):
    # Held out by method where any new-side predictor has that score (the
    # rule the study's vs_best follows), else pooled.
    lomo = any(r.get("side") == "new" and math.isfinite(_num(r.get("r2_lomo"))) for r in s["pred"])
    k = R2[3:6] if lomo else R2[:3]
    out = []
    for r in s["pred"]:
        e = {"predictor": r["predictor"], "score_kind": "lomo" if lomo else "pooled", "score": _num(r.get(k[0])),
             "score_lo": _num(r.get(k[1])), "score_hi": _num(r.get(k[2])), "vs_best": _num(r.get("vs_best")),
             "vs_best_lo": _num(r.get("vs_best_lo")), "vs_best_hi": _num(r.get("vs_best_hi"))}
        if r.get("side") == "new" and math.isfinite(e["score"]):
            out.append(e)
    return sorted(out, key=lambda e: -e["score"])


def _apart_from_best(rank, i):
    """Its paired difference from the first leaves out 0 where the study has
    one; else the two intervals are disjoint."""
    e = rank[i]
    if math.isfinite(e["vs_best_lo"]) and math.isfinite(e["vs_best_hi"]):
        return e["vs_best_lo"] > 0 or e["vs_best_hi"] < 0
    return rank[0]["score_lo"] > e["score_hi"]


GAP = ("measure", "level", "rl_method", "rl", "rl_lo", "rl_hi", "sft_method", "sft", "sft_lo", "sft_hi", "gap",
       "gap_lo", "gap_hi")


def _gaps(s):
    """The study's own rl_vs_sft.csv; apart: the gap's paired interval leaves out 0."""
    out = []
    for r in s.get("gap") or []:
        g = {k: r[k] if k in ("measure", "rl_method", "sft_method") else _num(r[k]) for k in GAP}
        out.append(dict(g, apart=g["gap_lo"] > 0 or g["gap_hi"] < 0))
    return out


def _grokking(s, measure, seed):
    mem = s["memorised"].get(seed)
    if s["res"] is None or mem is None:
        return None
    at_mem = at_end = None
    best_e, last_e = math.inf, -math.inf
    for r in s["res"]:
        if r.get("phase") != "grok" or int(_num(r["seed"])) != seed or not math.isfinite(_num(r.get(measure))):
            continue
        e, v = _num(r["epoch"]), _num(r[measure])
        if mem <= e < best_e:
            best_e, at_mem = e, v
        if e > last_e:
            last_e, at_end = e, v
    return None if at_mem is None or at_end is None else (at_mem, at_end)


def compare(dirs):
    """The four tables of `forgetlab compare` for the study directories."""
    studies = [_load(d) for d in dirs]
    for i, s in enumerate(studies):
        for t in studies[:i]:
            if t["setting"] == s["setting"] and t["pred"] and s["pred"] and list(t["pred"][0]) != list(s["pred"][0]):
                raise ValueError("%s and %s are studies of the same setting (%s) with different columns in "
                                 "predictors.csv" % (t["dir"], s["dir"], s["setting"]))
    findings, ranking, gaps, cs = [], [], [], []
    for s in studies:
        head = {"setting": s["setting"], "study": s["dir"]}
        for r in s["pred"]:
            row = dict(head, predictor=r["predictor"], side=r.get("side", ""))
            row.update({k: _num(r.get(k)) for k in R2})
            row.update(n_runs=s["nruns"], n_checkpoints=int(_num(r["n"])) if r.get("n") else s["nckpts"],
                       seeds=s["nseeds"])
            row.update({k: _num(r.get(k)) for k in TAIL})
            findings.append(row)
            if r["predictor"].startswith(("circuit_", "cs")):
                cs.append(dict(head, measure=r["predictor"], against="forgetting", seed=None,
                               r2=_num(r.get("r2")), r2_lo=_num(r.get("r2_lo")), r2_hi=_num(r.get("r2_hi")),
                               spearman=_num(r.get("spearman")), at_memorised=math.nan, at_end=math.nan))
        rank = _ranking(s)
        for i, e in enumerate(rank):
            ranking.append(dict(head, rank=i + 1, **e,
                                apart_from_next=e["score_lo"] > rank[i + 1]["score_hi"] if i + 1 < len(rank) else None,
                                apart_from_best=_apart_from_best(rank, i) if i else None))
        gaps += [dict(head, **g) for g in _gaps(s)]
        for m in ("cs_by_a_excess", "cs_by_answer_excess"):
            for seed in range(s["nseeds"]):
                g = _grokking(s, m, seed)
                if g:
                    cs.append(dict(head, measure=m, against="grokking", seed=seed, r2=math.nan, r2_lo=math.nan,
                                   r2_hi=math.nan, spearman=math.nan, at_memorised=g[0], at_end=g[1]))
    return {"findings": findings, "ranking": ranking, "rl_vs_sft": gaps, "cs": cs}
