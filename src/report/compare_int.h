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
    fl_csv pred, meth, front, res;   /* predictors.csv, methods.csv, frontier.csv, results.csv (grok-forget) */
    int has_pred, has_meth, has_front, has_res;
    int nruns, nckpts, nseeds;       /* as the fits see them */
    double memorised[CMP_MAX_SEEDS]; /* grok-forget: each base's memorised epoch */
} cmp_study;

/* A new-side predictor by its held-out score. */
typedef struct {
    const char *predictor, *kind; /* kind: "lomo" or "pooled" */
    double score, lo, hi;
} cmp_rank;
/* Ranked into out (descending); returns how many. */
int cmp_ranking(const cmp_study *s, cmp_rank *out, int max);

/* The best method of a family on one measure. */
typedef struct {
    const char *method;
    double v, lo, hi;
} cmp_side;
typedef struct {
    char measure[64];
    cmp_side rl, sft;
} cmp_gap;
/* Frontier area, then every matched level, where both families have one. */
int cmp_rl_vs_sft(const cmp_study *s, cmp_gap *out, int max);

/* A grok-forget study's measure (a results.csv column) for one seed's
 * grokking phase: at the first measured epoch from memorisation on, and at
 * the end; -1 when the study has none. */
int cmp_grokking(const cmp_study *s, const char *measure, int seed, double *at_mem, double *at_end);

/* heatmap.png / .svg, findings.html, and the summary printed to out. */
int cmp_report(const char *out_dir, const cmp_study *st, int n, FILE *out);

#endif
