/* grokforget.h: fine-tuning a grokked transformer on the new task
 * (grokforget_measure.h: a - b or b - a mod p, asked with its own
 * operation token), with every checkpoint measured against the base: the
 * grok-forget study's runs (docs/grok-forget.md). The methods copy the
 * MLP study's (finetune.h) on an output of p residues:
 *
 *   sft1       a - b
 *   sft2       b - a
 *   oracle     soft targets: the base's distribution on the input
 *              restricted to the correct answers and renormalised (the
 *              I-projection, the KL-closest correct policy)
 *   grpo       G answers sampled per input, reward 1 when correct,
 *              group-normalised advantages
 *   grpo-kl    grpo + kl_coef KL(pi || pi_0), exact over the p answers
 *   reinforce  1-0 REINFORCE (advantage = reward)
 *
 * The run directory holds config.json, metrics.jsonl (one line per
 * measured checkpoint: step, epoch, loss, reward and every field of
 * fl_gf_measurement_fields, and life_epoch) and summary.json (the last checkpoint's fields
 * and the times). A run takes seconds: it is redone, not resumed. */
#ifndef FORGETLAB_GROKFORGET_H
#define FORGETLAB_GROKFORGET_H

#include "forgetlab/measure/grokforget_measure.h"

#include <stdint.h>

typedef enum {
    FL_GF_SFT1, FL_GF_SFT2, FL_GF_ORACLE, FL_GF_GRPO, FL_GF_GRPO_KL, FL_GF_REINFORCE, FL_GF_NMETHODS
} fl_gf_method;

const char *fl_gf_method_name(fl_gf_method m);
int fl_gf_method_parse(const char *name, fl_gf_method *out);

typedef struct {
    fl_gf_method method;
    double lr;
    int epochs, batch, group_size;
    double kl_coef;
    double checkpoint_every;  /* epochs between measured checkpoints */
    uint64_t seed;
    int threads;
    double life_offset;       /* the base's epochs: each line's life_epoch is life_offset + epoch */
} fl_gf_config;

/* AdamW without weight decay, batch 32, G 8, kl_coef 0.1, a checkpoint
 * every half epoch, as the MLP study's fine-tuning. */
void fl_gf_defaults(fl_gf_config *c);

/* Fine-tunes a copy of ctx->base into out_dir (a fresh run: what was
 * there is replaced). Returns 0, FL_DIVERGED (step.h) or -1. */
int fl_gf_finetune(const fl_gf_config *c, const fl_gf_ctx *ctx, const char *out_dir);

#endif
