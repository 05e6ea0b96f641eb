/* compare.h: `forgetlab compare` (docs/findings.md): the questions the
 * project exists to answer, asked across every setting at once, from the
 * studies' own tables (each number is the one its study wrote; nothing is
 * refitted here):
 *
 *   findings.csv  one row per setting x predictor: the pooled R^2 and its
 *                 interval, leave-one-method-out, Spearman, the in-regime
 *                 and beyond-the-rate figures where the study has them,
 *                 runs, checkpoints, seeds
 *   ranking.csv   per setting, the new-side predictors by held-out R^2
 *                 (leave-one-method-out where the study has it, else the
 *                 pooled R^2), each one's difference from the first as
 *                 its study wrote it (vs_best, paired) and whether that
 *                 leaves out 0 (apart_from_best; the intervals' overlap
 *                 where a study has none), and whether each is apart from
 *                 the next (intervals disjoint)
 *   rl_vs_sft.csv each study's own rl_vs_sft.csv (fl_family_gap): the
 *                 best on-policy method against the best SFT one on the
 *                 frontier area and at each matched level, both sides'
 *                 intervals and the paired one of their gap; apart when
 *                 that leaves out 0
 *   cs.csv        circuit stability: its predictor rows against forgetting,
 *                 and, for the grok-forget study, each seed's CS minus
 *                 its baseline at memorisation and at the end of grokking
 *   heatmap.png   held-out R^2, predictors x settings, each cell's interval under it
 *   ranking_SETTING.png  a study's predictors by held-out R^2, with intervals
 *   cs_grokking_MEASURE.png  CS minus its baseline through grokking, every
 *                 seed of every grokked base, memorisation marked
 *   findings.html all of it on one page
 *
 * A setting is a study's kind and size: mlp, lm-quick, lm-default,
 * continual-BENCH-SCENARIO, grok-forget-quick, grok-forget-default. */
#ifndef FORGETLAB_COMPARE_H
#define FORGETLAB_COMPARE_H

#include <stdio.h>

/* Reads the n study directories, writes out_dir's files and prints a
 * summary to out. FL_BAD_REQUEST (error set) when a directory is not a
 * finished study, or two studies of one setting disagree on their
 * columns; -1 on other failures. */
int fl_compare(const char *const *dirs, int n, const char *out_dir, FILE *out);

#endif
