/* optim.h: optimizers, learning-rate schedules and gradient clipping.
 *
 * Each optimizer updates a whole fl_blob in one pass over its slabs. The
 * formulas follow PyTorch's torch.optim.AdamW and SGD so that a forgetlab
 * run and a PyTorch run of the same settings take the same steps. */
#ifndef FORGETLAB_OPTIM_H
#define FORGETLAB_OPTIM_H

#include "forgetlab/core/blob.h"

typedef enum { FL_OPT_ADAMW, FL_OPT_SGD } fl_opt_kind;

typedef struct {
    fl_opt_kind kind;
    float beta1, beta2, eps;   /* AdamW (defaults 0.9, 0.999, 1e-8) */
    float momentum;            /* SGD (0 = plain SGD) */
    float weight_decay;        /* AdamW: decoupled; SGD: added to the gradient */
    long t;                    /* steps taken (AdamW bias correction) */
} fl_optim;

void fl_optim_adamw(fl_optim *o, float beta1, float beta2, float eps, float weight_decay);
void fl_optim_sgd(fl_optim *o, float momentum, float weight_decay);

/* One step at learning rate lr using b->grads; updates params and moments.
 * AdamW: p -= lr*wd*p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *        p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
 * SGD:   g += wd*p; buf = momentum*buf + g (buf = g at t=1); p -= lr*buf. */
void fl_optim_step(fl_optim *o, fl_blob *b, float lr);

typedef enum { FL_SCHED_CONSTANT, FL_SCHED_COSINE } fl_sched_kind;

typedef struct {
    fl_sched_kind kind;
    float lr;           /* peak learning rate */
    long warmup;        /* linear warm-up steps (cosine only) */
    long total;         /* total steps */
    float min_lr;       /* floor of the cosine */
} fl_schedule;

/* Learning rate at step (0-based). Cosine: lr*(step+1)/warmup during the
 * warm-up, then min_lr + (lr-min_lr)*(1+cos(pi*progress))/2. */
float fl_schedule_lr(const fl_schedule *s, long step);
/* Parses "constant" / "cosine". */
int fl_schedule_parse(const char *name, fl_sched_kind *out);

/* Global L2 norm of the gradients; when it exceeds max_norm (> 0), scales
 * them down to max_norm. Returns the norm before clipping. */
float fl_clip_grad_norm(fl_blob *b, float max_norm);

#endif
