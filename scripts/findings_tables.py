"""findings_tables.py DIR: the tables of docs/findings.md from the output
of `forgetlab compare` (findings.csv, ranking.csv, rl_vs_sft.csv, cs.csv),
as Markdown: every number on the page comes from these files."""
import csv
import os
import sys

d = sys.argv[1]
read = lambda name: list(csv.DictReader(open(os.path.join(d, name))))
fmt = lambda v: "-" if v in ("", "nan") else "%.3f" % float(v)
ci = lambda r, k: "-" if r[k] in ("", "nan") else "%s [%s, %s]" % (fmt(r[k]), fmt(r[k + "_lo"]), fmt(r[k + "_hi"]))

print("| setting | R^2 pooled | leave-one-method-out | Spearman | in regime (n) | beyond the rate | runs / checkpoints / seeds |")
print("|---|---|---|---|---|---|---|")
for r in read("findings.csv"):
    if r["predictor"] != "forward_kl_new":
        continue
    reg = "-" if r["r2_regime"] in ("", "nan") else "%s (%s)" % (fmt(r["r2_regime"]), r["n_regime"])
    rho = "-" if r["spearman"] in ("", "nan") else "%+.2f" % float(r["spearman"])
    print("| %s | %s | %s | %s | %s | %s | %s / %s / %s |" % (r["setting"], ci(r, "r2"), ci(r, "r2_lomo"), rho, reg,
          ci(r, "r2_partial_lr"), r["n_runs"], r["n_checkpoints"], r["seeds"]))
print("\n| setting | first | second | second minus first (paired) | apart |\n|---|---|---|---|---|")
rank = read("ranking.csv")
for s in dict.fromkeys(r["setting"] for r in rank):
    rs = [r for r in rank if r["setting"] == s]
    first = "%s %s [%s, %s] (%s)" % (rs[0]["predictor"], fmt(rs[0]["score"]), fmt(rs[0]["score_lo"]),
                                     fmt(rs[0]["score_hi"]), rs[0]["score_kind"])
    second = "%s %s" % (rs[1]["predictor"], fmt(rs[1]["score"])) if len(rs) > 1 else "-"
    diff = ci(rs[1], "vs_best") if len(rs) > 1 else "-"
    print("| %s | %s | %s | %s | %s |" % (s, first, second, diff, rs[1]["apart_from_best"] if len(rs) > 1 else "-"))
print("\n| setting | measure | best on-policy | best SFT | gap (paired) | apart |\n|---|---|---|---|---|---|")
for r in read("rl_vs_sft.csv"):
    area = r["measure"] == "frontier_area"
    f = (lambda v: "%.4f" % float(v)) if area else fmt
    print("| %s | %s | %s %s [%s, %s] | %s %s [%s, %s] | %+.4f [%+.4f, %+.4f] | %s |" % (
        r["setting"], "frontier area" if area else "prior at %.3f" % float(r["level"]), r["rl_method"], f(r["rl"]),
        f(r["rl_lo"]), f(r["rl_hi"]), r["sft_method"], f(r["sft"]), f(r["sft_lo"]), f(r["sft_hi"]), float(r["gap"]),
        float(r["gap_lo"]), float(r["gap_hi"]), r["apart"]))
print("\n| setting | measure | against | seed | R^2 | Spearman | at memorisation | at the end |\n|---|---|---|---|---|---|---|---|")
for r in read("cs.csv"):
    print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (r["setting"], r["measure"], r["against"], r["seed"] or "-",
          ci(r, "r2"), fmt(r["spearman"]), fmt(r["at_memorised"]), fmt(r["at_end"])))
