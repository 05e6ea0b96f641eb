/* study_grokforget.h: one model's whole life (`forgetlab study
 * grok-forget`, docs/grok-forget.md): for each seed a transformer groks
 * a + b mod p (a grok preset with one operation token reserved, measured
 * every log interval; cached like the language-model study's bases), then
 * is fine-tuned on the new task (grokforget.h) by every method over a grid
 * of learning rates, every checkpoint measured against the grokked base.
 *
 * DIR/runs/RUN_ID/      each fine-tuning run
 * DIR/results.sqlite    one row per checkpoint (study kind "grok-forget");
 *                       each seed's grokking log as a run of method "grok"
 *                       (phase_method), kept out of the fits
 * DIR/results.csv       with a phase column: grok or finetune
 * DIR/predictors.csv, frontier.csv, methods.csv, the plots, index.html
 *                       as `study razor` writes them, and life_*.png: one
 *                       model's accuracies, circuit stability minus its
 *                       baseline and Fourier share over its whole life */
#ifndef FORGETLAB_STUDY_GROKFORGET_H
#define FORGETLAB_STUDY_GROKFORGET_H

#include "forgetlab/io/settings.h"
#include "forgetlab/train/grokforget.h"

#define FL_GFSTUDY_MAX_LRS 16

typedef struct {
    const char *out_dir;
    int quick;             /* the tiny grok preset (p 31) and its grid: minutes on 2 cores */
    int seeds;             /* seeds 0 .. seeds-1: each its own base and runs */
    const char *methods;   /* comma-separated (NULL: every method) */
    const char *lrs;       /* comma-separated learning rates (NULL: the grid's) */
    const char *new_task;  /* "difference" (the only one so far) */
    const char *base;      /* a grok run directory for every seed (no grokking here) */
    const char *base_cache;/* where bases are grown and kept (NULL: $FORGETLAB_CACHE, else ~/.cache/forgetlab) */
    int cs_per;            /* equations per subtask for circuit stability */
    int jobs, threads, progress, overwrite;
    int shard[2];          /* --shard I/N: plan indices i with i % N == I - 1 ({0, 0}: all) */
    fl_gf_config ft;       /* every run's settings but method, lr and seed */
} fl_gfstudy_config;

void fl_gfstudy_defaults(fl_gfstudy_config *c);
extern const fl_setting FL_GFSTUDY_SETTINGS[];
extern const int FL_GFSTUDY_NSETTINGS;

/* The ids of every fine-tuning run a study's grid (as results.sqlite
 * records it) plans, for `merge` (ids: malloc'd). */
int fl_gfstudy_plan_ids(const char *grid, char (**ids)[128], int *n);

/* Grows (or finds) the bases, runs the grid, resuming what is done, over
 * worker processes or MPI ranks. *writer: whether this process wrote
 * results.sqlite (and so runs the analysis). FL_BAD_REQUEST when the
 * options are wrong. */
int fl_gfstudy_run(const fl_gfstudy_config *c, int *writer);

#endif
