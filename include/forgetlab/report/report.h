/* report.h: the reports other than a razor study's (razor.h): a grok
 * run's and an lm-pretrain run's plots, a continual-learning study's
 * analysis; and what every HTML report shares. */
#ifndef FORGETLAB_REPORT_H
#define FORGETLAB_REPORT_H

#include <stdio.h>

/* An HTML report's head, every report's style and css (page-specific
 * rules) in it, up to the opened body. */
void fl_html_head(FILE *f, const char *title, const char *css);

/* The plots of a finished or running grok directory, from metrics.jsonl
 * and model.safetensors: curves (accuracy and loss over epochs), progress
 * measures, circuit stability over its baseline, the embedding's Fourier
 * spectrum. */
int fl_grok_plots(const char *dir);

/* The plots of an lm-pretrain directory, from metrics.jsonl: skills.png
 * (each skill's exact match over steps) and loss.png (the training loss
 * and the held-out text, in bits per byte). */
int fl_lm_plots(const char *dir);

/* The analysis of a continual-learning study (study_continual.h) from
 * DIR/results.sqlite: results.csv, metrics.csv, predictors.csv, a heatmap
 * of every run's accuracy matrix, average accuracy over the sequence per
 * method, forgetting against the boundary's forward KL, index.html; each
 * method's average accuracy and BWT written to out (NULL: not written). */
int fl_clstudy_analyse(const char *dir, FILE *out);

#endif
