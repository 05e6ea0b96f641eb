/* compare_int.h: what compare.c (the tables) and compare_html.c (the
 * page, the heatmap, the summary) share. Not a public interface. */
#ifndef FORGETLAB_COMPARE_INT_H
#define FORGETLAB_COMPARE_INT_H

#include "forgetlab/io/csv.h"
#include "forgetlab/report/compare.h"

#define CMP_MAX_ROWS 64
#define CMP_MAX_SEEDS 32

/* One study as its own tables say. */
typedef struct {
    const char *dir;
    char kind[32], setting[64];
    fl_csv pred, gap, res;           /* predictors.csv; rl_vs_sft.csv (its best on-policy method against its
                                        best SFT one); results.csv (grok-forget) */
    int has_pred, has_gap, has_res;
    int nruns, nckpts, nseeds;       /* as the fits see them */
    double memorised[CMP_MAX_SEEDS]; /* grok-forget: each base's memorised epoch */
} cmp_study;

/* A new-side predictor by its held-out score. */
typedef struct {
    const char *predictor, *kind; /* kind: "lomo" or "pooled" */
    double score, lo, hi;
    double vs, vs_lo, vs_hi;      /* minus the first's, paired (the study's vs_best; NaN: none) */
} cmp_rank;
/* Whether ranked predictor i is apart from the first: its paired difference
 * leaves out 0 where the study has one, else the two intervals are disjoint. */
int cmp_apart_from_best(const cmp_rank *r, int i);
/* Ranked into out (descending); returns how many. */
int cmp_ranking(const cmp_study *s, cmp_rank *out, int max);

/* Row r of the study's rl_vs_sft.csv: whether its gap's paired interval
 * leaves out 0 (the on-policy method and the SFT one are apart). */
int cmp_gap_apart(const cmp_study *s, int r);

/* A grok-forget study's measure (a results.csv column) for one seed's
 * grokking phase: at the first measured epoch from memorisation on, and at
 * the end (mem_epoch, optional: that first epoch); -1 when the study has
 * none. */
int cmp_grokking(const cmp_study *s, const char *measure, int seed, double *at_mem, double *at_end,
                 double *mem_epoch);

/* heatmap.png / .svg, findings.html, and the summary printed to out. */
int cmp_report(const char *out_dir, const cmp_study *st, int n, FILE *out);
/* ranking_SETTING.png per study with fits, cs_grokking_MEASURE.png where
 * a study or run has a grokking phase (compare_figs.c). */
int cmp_figures(const char *out_dir, const cmp_study *st, int n);
/* A figure's name (no extension) for study k: stem_SETTING, and _K (its
 * place, from 1) when an earlier study has the same setting. */
void cmp_figure_name(const cmp_study *st, int k, const char *stem, char *buf, size_t n);

#endif
