/* lm_measure.c: a fine-tuned language model measured against its base
 * (lm_measure.h): scores, the sequence forward KL along the base's samples
 * (exact per position, and Monte Carlo), per-token divergences, weight and
 * activation change. */
#include "lm_measure_int.h"

#include "forgetlab/measure/activations.h"
#include "forgetlab/measure/attribution_gpt.h"
#include "forgetlab/measure/divergence.h"
#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/measure/stability.h"
#include "forgetlab/measure/weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PRIOR_MAX_NEW = 8, CS_DRAWS = 20 };

void fl_lm_measure_defaults(fl_lm_measure_opts *o) {
    o->new_samples = 4, o->prior_prompts = 500, o->prior_kl_prompts = 64, o->fisher_n = 256;
    o->cs_per = 24, o->cs_steps = 5;
}

/* The base's diagonal Fisher of the sequence log-likelihood,
 * F_i = 1/n sum_seq (d log pi_0(y|x) / d theta_i)^2, over the first n
 * sequences of s (samples of the base itself): one backward pass each. */
static int fisher_diag(float *F, const fl_gpt *base, const fl_seqset *s, int n) {
    fl_gpt g = {0};
    fl_gpt_acts a = {0};
    const int T = fl_seqset_max_t(s);
    int *tok = malloc(sizeof(int) * (size_t)T), *tgt = malloc(sizeof(int) * (size_t)T);
    float *w = malloc(sizeof(float) * (size_t)T);
    int rc = tok && tgt && w ? 0 : fl_error_set("out of memory");
    if (rc == 0) rc = fl_gpt_create(&g, &base->cfg);
    if (rc == 0) rc = fl_blob_copy_params(&g.blob, &base->blob);
    if (rc == 0) rc = fl_gpt_acts_alloc(&a, &g, 1, T);
    memset(F, 0, sizeof(float) * base->blob.n);
    n = n < s->n ? n : s->n;
    for (int i = 0; i < n && rc == 0; i++) {
        const int Ti = fl_seqset_batch(s, i, 1, tok, tgt, w);
        fl_blob_zero_grads(&g.blob);
        fl_gpt_forward(&g, &a, tok, tgt, w, 1, Ti);
        fl_gpt_backward(&g, &a);
        /* The loss is the completion's mean -log p: times its length, the sum. */
        const float k = (float)s->clen[i];
        for (size_t j = 0; j < g.blob.n; j++) F[j] += (k * g.blob.grads[j]) * (k * g.blob.grads[j]) / (float)n;
    }
    fl_gpt_acts_free(&a);
    fl_gpt_free(&g);
    free(tok), free(tgt), free(w);
    return rc;
}

/* The circuit probe's examples: the first cs_per test prompts of each
 * subtask of `reverse` (every prompt of a subtask has its length), each
 * with a partner of its own subtask (fl_within_partners). */
static int cs_setup(fl_lm_measure_ctx *ctx) {
    const fl_skill_set *s = &ctx->data->skill[FL_SKILL_REVERSE];
    const int per = ctx->o.cs_per, k = s->nsub;
    if (per <= 0) return 0;
    if (k > 8) return fl_error_set("circuit probe: %d subtasks", k);
    int n = 0, at = 0, *pick = malloc(sizeof(int) * (size_t)(per * k)), *partner = malloc(sizeof(int) * (size_t)(per * k));
    int rc = pick && partner ? 0 : fl_error_set("out of memory");
    for (int sub = 0; sub < k && rc == 0; sub++) {
        ctx->cs_count[sub] = 0;
        for (int i = 0; i < s->n_test && ctx->cs_count[sub] < per; i++)
            if (s->ex[s->test[i]].subtask == sub) pick[n++] = s->test[i], ctx->cs_count[sub]++;
        ctx->cs_len[sub] = (int)strlen(s->ex[pick[n - 1]].prompt);
        at += ctx->cs_len[sub] * ctx->cs_count[sub];
    }
    ctx->cs_k = k;
    if (rc == 0) rc = fl_within_partners(ctx->cs_count, k, ctx->seed, partner);
    ctx->cs_tok = rc ? NULL : malloc(sizeof(int) * (size_t)at), ctx->cs_tokc = rc ? NULL : malloc(sizeof(int) * (size_t)at);
    if (rc == 0 && (!ctx->cs_tok || !ctx->cs_tokc)) rc = fl_error_set("out of memory");
    for (int i = 0, off = 0; i < n && rc == 0; i++) {
        const char *p = s->ex[pick[i]].prompt, *q = s->ex[pick[partner[i]]].prompt;
        for (int t = 0; p[t]; t++, off++) ctx->cs_tok[off] = (unsigned char)p[t], ctx->cs_tokc[off] = (unsigned char)q[t];
    }
    free(pick), free(partner);
    return rc;
}

/* The probe's circuit stability of m and its random-split baseline. */
static int cs_measure(const fl_lm_measure_ctx *ctx, fl_gpt *m, double *cs, double *random) {
    *cs = *random = NAN;
    if (ctx->o.cs_per <= 0) return 0;
    const int nc = fl_ap_gpt_ncomponents(m);
    int n = 0;
    for (int sub = 0; sub < ctx->cs_k; sub++) n += ctx->cs_count[sub];
    float *scores = malloc(sizeof(float) * (size_t)n * nc);
    if (!scores) return fl_error_set("out of memory");
    int rc = 0;
    for (int sub = 0, row = 0, off = 0; sub < ctx->cs_k && rc == 0; sub++) {
        rc = fl_ap_gpt_scores(m, ctx->cs_tok + off, ctx->cs_tokc + off, ctx->cs_count[sub], ctx->cs_len[sub],
                             ctx->o.cs_steps, scores + (size_t)row * nc);
        row += ctx->cs_count[sub], off += ctx->cs_count[sub] * ctx->cs_len[sub];
    }
    fl_cs_stats st;
    if (rc == 0) rc = fl_cs_compute(scores, nc, ctx->cs_count, ctx->cs_k, CS_DRAWS, lm_draw_seed(ctx->seed, LM_SEED_CS), NULL,
                                    NULL, &st);
    if (rc == 0) *cs = st.cs, *random = st.random.mean;
    free(scores);
    return rc;
}

void fl_lm_measure_free(fl_lm_measure_ctx *ctx) {
    free(ctx->cs_tok), free(ctx->cs_tokc);
    fl_seqset_free(&ctx->new0), fl_seqset_free(&ctx->prior0), fl_seqset_free(&ctx->train0);
    fl_seqset_free(&ctx->good), fl_seqset_free(&ctx->prior_ans);
    free(ctx->logp0_train), free(ctx->tlp0_train), free(ctx->good_at), free(ctx->good_lp0), free(ctx->ok0);
    free(ctx->pnew), free(ctx->pprior), free(ctx->ptrain), free(ctx->ptext);
    free(ctx->logp0_new), free(ctx->tlp0_new), free(ctx->hid0_new), free(ctx->logp0_prior), free(ctx->tlp0_prior);
    free(ctx->fisher);
    memset(ctx, 0, sizeof *ctx);
}

int fl_lm_measure_init(fl_lm_measure_ctx *ctx, fl_gpt *base, const fl_lm_data *data, const fl_newtask *task,
                       const fl_lm_measure_opts *o, uint64_t seed) {
    memset(ctx, 0, sizeof *ctx);
    ctx->o = *o, ctx->base = base, ctx->data = data, ctx->task = task, ctx->seed = seed;
    fl_seqset_init(&ctx->new0), fl_seqset_init(&ctx->prior0), fl_seqset_init(&ctx->train0);
    fl_seqset_init(&ctx->good), fl_seqset_init(&ctx->prior_ans);
    const int V = base->cfg.vocab, C = base->cfg.n_embd;
    int kp = o->prior_kl_prompts;
    for (int k = 0; k < FL_NSKILLS; k++) kp = kp < data->skill[k].n_test ? kp : data->skill[k].n_test;
    ctx->n_pnew = task->n_test, ctx->n_pprior = FL_NSKILLS * kp;
    ctx->n_ptrain = task->n_train < task->n_test ? task->n_train : task->n_test;
    ctx->ptext = malloc(sizeof *ctx->ptext * (size_t)(ctx->n_pnew + ctx->n_pprior + ctx->n_ptrain));
    ctx->pnew = malloc(sizeof(char *) * (size_t)ctx->n_pnew);
    ctx->ptrain = malloc(sizeof(char *) * (size_t)(ctx->n_ptrain > 0 ? ctx->n_ptrain : 1));
    ctx->pprior = malloc(sizeof(char *) * (size_t)(ctx->n_pprior > 0 ? ctx->n_pprior : 1));
    if (!ctx->ptext || !ctx->pnew || !ctx->pprior || !ctx->ptrain) return fl_error_set("out of memory");
    /* Training prompts in their (sorted) order, every few: a spread sample. */
    for (int i = 0; i < ctx->n_ptrain; i++) {
        char *t = ctx->ptext[ctx->n_pnew + ctx->n_pprior + i];
        fl_newtask_prompt_text(task, task->train[(size_t)i * task->n_train / ctx->n_ptrain], t);
        ctx->ptrain[i] = t;
    }
    for (int i = 0; i < ctx->n_pnew; i++) {
        fl_newtask_prompt_text(task, task->test[i], ctx->ptext[i]);
        ctx->pnew[i] = ctx->ptext[i];
    }
    for (int k = 0, j = 0; k < FL_NSKILLS; k++)
        for (int i = 0; i < kp; i++, j++) {
            char *t = ctx->ptext[ctx->n_pnew + j];
            snprintf(t, sizeof *ctx->ptext, "%s", data->skill[k].ex[data->skill[k].test[i]].prompt);
            ctx->pprior[j] = t;
        }
    int rc = lm_sample_set(&ctx->new0, base, ctx->pnew, ctx->n_pnew, o->new_samples, 1.0, FL_NEWTASK_STOP,
                        FL_NEWTASK_MAX_NEW, lm_draw_seed(seed, LM_SEED_NEW0));
    if (rc == 0)
        rc = lm_sample_set(&ctx->prior0, base, ctx->pprior, ctx->n_pprior, 1, 1.0, FL_LM_STOP, PRIOR_MAX_NEW,
                        lm_draw_seed(seed, LM_SEED_PRIOR0));
    const size_t rn = (size_t)ctx->new0.rows, rp = (size_t)ctx->prior0.rows;
    if (rc == 0) {
        ctx->logp0_new = malloc(sizeof(float) * rn * V), ctx->tlp0_new = malloc(sizeof(float) * rn);
        ctx->hid0_new = malloc(sizeof(float) * rn * C);
        ctx->logp0_prior = malloc(sizeof(float) * (rp ? rp : 1) * V), ctx->tlp0_prior = malloc(sizeof(float) * (rp + 1));
        ctx->fisher = malloc(sizeof(float) * base->blob.n);
        if (!ctx->logp0_new || !ctx->tlp0_new || !ctx->hid0_new || !ctx->logp0_prior || !ctx->tlp0_prior || !ctx->fisher)
            rc = fl_error_set("out of memory");
    }
    if (rc == 0) rc = lm_score(base, &ctx->new0, ctx->logp0_new, ctx->tlp0_new, ctx->hid0_new);
    if (rc == 0) rc = lm_score(base, &ctx->prior0, ctx->logp0_prior, ctx->tlp0_prior, NULL);
    if (rc == 0) rc = fisher_diag(ctx->fisher, base, &ctx->prior0, o->fisher_n);
    if (rc == 0) rc = lm_parts_init(ctx);
    if (rc == 0) rc = fl_lm_scores_compute(ctx, base, &ctx->base_scores);
    if (rc == 0) rc = cs_setup(ctx);
    if (rc == 0) rc = cs_measure(ctx, base, &ctx->base_cs, &ctx->base_cs_random);
    if (rc) fl_lm_measure_free(ctx);
    return rc;
}

/* The share of s's completions the new task rewards. */
static double new_success(const fl_lm_measure_ctx *ctx, const fl_seqset *s) {
    int hits = 0;
    for (int i = 0; i < s->n; i++) {
        char p[32], c[16];
        fl_seqset_prompt(s, i, p, sizeof p);
        fl_seqset_completion(s, i, c, sizeof c);
        hits += fl_newtask_check(ctx->task, p, c) == 1;
    }
    return s->n ? (double)hits / s->n : NAN;
}

int fl_lm_scores_compute(const fl_lm_measure_ctx *ctx, const fl_gpt *m, fl_lm_scores *out) {
    fl_seqset s;
    fl_seqset_init(&s);
    int rc = lm_sample_set(&s, m, ctx->pnew, ctx->n_pnew, 1, 0.0, FL_NEWTASK_STOP, FL_NEWTASK_MAX_NEW, 0);
    if (rc == 0) out->new_acc = new_success(ctx, &s);
    if (rc == 0) rc = lm_sample_set(&s, m, ctx->ptrain, ctx->n_ptrain, 1, 0.0, FL_NEWTASK_STOP, FL_NEWTASK_MAX_NEW, 0);
    if (rc == 0) out->new_acc_train = new_success(ctx, &s);
    if (rc == 0)
        rc = lm_sample_set(&s, m, ctx->pnew, ctx->n_pnew, ctx->o.new_samples, 1.0, FL_NEWTASK_STOP, FL_NEWTASK_MAX_NEW,
                        lm_draw_seed(ctx->seed, LM_SEED_SAMPLED));
    if (rc == 0) out->new_acc_sampled = new_success(ctx, &s);
    fl_seqset_free(&s);
    fl_lm_eval ev;
    if (rc == 0) rc = fl_lm_evaluate(m, ctx->data, ctx->o.prior_prompts, &ev);
    if (rc == 0) {
        out->prior_acc = 0;
        for (int k = 0; k < FL_NSKILLS; k++) out->acc[k] = ev.acc[k], out->prior_acc += ev.acc[k] / FL_NSKILLS;
        out->bpb = ev.bpb;
    }
    if (rc == 0) rc = lm_prior_nll(ctx, m, &out->prior_nll);
    return rc;
}

/* Per-token reverse KL along m's own samples on prompts p (k each). */
static int reverse_kl(const fl_lm_measure_ctx *ctx, const fl_gpt *m, const char **p, int n, int k, int stop,
                      int max_new, uint64_t seed, double *out) {
    const int V = m->cfg.vocab;
    fl_seqset s;
    fl_seqset_init(&s);
    int rc = lm_sample_set(&s, m, p, n, k, 1.0, stop, max_new, seed);
    float *l0 = rc ? NULL : malloc(sizeof(float) * (size_t)s.rows * V), *l1 = rc ? NULL : malloc(sizeof(float) * (size_t)s.rows * V);
    if (rc == 0 && (!l0 || !l1)) rc = fl_error_set("out of memory");
    if (rc == 0) rc = lm_score(ctx->base, &s, l0, NULL, NULL);
    if (rc == 0) rc = lm_score(m, &s, l1, NULL, NULL);
    if (rc == 0) {
        fl_divergences d;
        fl_divergences_compute(&d, l0, l1, s.rows, V);
        *out = d.reverse_kl;
    }
    free(l0), free(l1);
    fl_seqset_free(&s);
    return rc;
}

static double spectral_sum(const fl_gpt *base, const fl_gpt *m, uint64_t seed) {
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_EVAL);
    double s = 0;
    for (int v = 0; v < m->blob.nviews; v++)
        if (m->blob.views[v].ndim == 2) s += fl_view_spectral(&base->blob, &m->blob, v, 20, &r);
    return s;
}

int fl_lm_forward_kl_new(const fl_lm_measure_ctx *ctx, const fl_gpt *m, double *kl) {
    const int V = m->cfg.vocab;
    const size_t rn = (size_t)ctx->new0.rows;
    float *lp = malloc(sizeof(float) * rn * V), *tl = malloc(sizeof(float) * rn);
    int rc = !lp || !tl ? fl_error_set("out of memory") : lm_score(m, &ctx->new0, lp, tl, NULL);
    if (rc == 0) {
        double k[4];
        fl_seq_forward_kl(&ctx->new0, ctx->logp0_new, lp, ctx->tlp0_new, tl, V, k);
        *kl = k[0];
    }
    free(lp), free(tl);
    return rc;
}

int fl_lm_measure(const fl_lm_measure_ctx *ctx, fl_gpt *m, fl_lm_measurement *out) {
    memset(out, 0, sizeof *out);
    const int V = m->cfg.vocab, C = m->cfg.n_embd;
    const size_t rn = (size_t)ctx->new0.rows, rp = (size_t)ctx->prior0.rows;
    out->base = ctx->base_scores;
    int rc = fl_lm_scores_compute(ctx, m, &out->m);
    out->forgetting = out->base.prior_acc - out->m.prior_acc;
    out->bpb_rise = out->m.bpb - out->base.bpb;
    out->prior_nll_rise = out->m.prior_nll - out->base.prior_nll;
    float *lp = malloc(sizeof(float) * (rn > rp ? rn : rp) * V), *tl = malloc(sizeof(float) * (rn > rp ? rn : rp));
    float *hid = malloc(sizeof(float) * rn * C);
    if (rc == 0 && (!lp || !tl || !hid)) rc = fl_error_set("out of memory");
    fl_divergences d;
    if (rc == 0) rc = lm_score(m, &ctx->new0, lp, tl, hid);
    if (rc == 0) {
        double k[4];
        fl_seq_forward_kl(&ctx->new0, ctx->logp0_new, lp, ctx->tlp0_new, tl, V, k);
        out->forward_kl_new = k[0], out->forward_kl_new_se = k[1];
        out->forward_kl_new_mc = k[2], out->forward_kl_new_mc_se = k[3];
        fl_divergences_compute(&d, ctx->logp0_new, lp, (int)rn, V);
        out->forward_kl_new_token = d.forward_kl, out->tv_new = d.tv, out->js_new = d.js;
        double l1 = 0, l2 = 0;
        for (size_t r = 0; r < rn; r++) {
            double a = 0, b = 0;
            for (int c = 0; c < C; c++) {
                const double x = (double)hid[r * C + c] - ctx->hid0_new[r * C + c];
                a += fabs(x), b += x * x;
            }
            l1 += a, l2 += sqrt(b);
        }
        out->act_l1 = l1 / (double)rn, out->act_l2 = l2 / (double)rn;
        out->cka = fl_linear_cka(ctx->hid0_new, C, hid, C, (int)rn);
        rc = lm_parts_measure(ctx, m, tl, out);
    }
    if (rc == 0) rc = lm_score(m, &ctx->prior0, lp, tl, NULL);
    if (rc == 0) {
        double k[4];
        fl_seq_forward_kl(&ctx->prior0, ctx->logp0_prior, lp, ctx->tlp0_prior, tl, V, k);
        out->forward_kl_prior = k[0], out->forward_kl_prior_mc = k[2];
        fl_divergences_compute(&d, ctx->logp0_prior, lp, (int)rp, V);
        out->tv_prior = d.tv;
    }
    if (rc == 0)
        rc = reverse_kl(ctx, m, ctx->pnew, ctx->n_pnew, ctx->o.new_samples, FL_NEWTASK_STOP, FL_NEWTASK_MAX_NEW,
                        lm_draw_seed(ctx->seed, LM_SEED_REV_NEW), &out->reverse_kl_new);
    if (rc == 0)
        rc = reverse_kl(ctx, m, ctx->pprior, ctx->n_pprior, 1, FL_LM_STOP, PRIOR_MAX_NEW,
                        lm_draw_seed(ctx->seed, LM_SEED_REV_PRIOR), &out->reverse_kl_prior);
    out->weight_l1 = fl_blob_l1_dist(&ctx->base->blob, &m->blob);
    out->weight_fisher_l2 = fl_blob_fisher_l2(ctx->fisher, &ctx->base->blob, &m->blob);
    out->weight_spectral = spectral_sum(ctx->base, m, lm_draw_seed(ctx->seed, LM_SEED_SPECTRAL));
    if (rc == 0) rc = cs_measure(ctx, m, &out->circuit_stability, &out->circuit_stability_random);
    out->circuit_stability_base = ctx->base_cs;
    free(lp), free(tl), free(hid);
    return rc;
}

int fl_lm_measurement_fields(const fl_lm_measurement *r, const char **names, double *vals) {
    static const char *const NAMES[FL_LM_NFIELDS] = {
        "new_acc_base", "new_acc", "new_acc_sampled_base", "new_acc_sampled", "new_acc_train_base", "new_acc_train",
        "prior_acc_base", "prior_acc",
        "forgetting", "acc_add", "acc_reverse", "acc_sort", "acc_count", "bpb_base", "bpb", "bpb_rise",
        "prior_nll_base", "prior_nll", "prior_nll_rise",
        "forward_kl_new", "forward_kl_new_se", "forward_kl_new_mc", "forward_kl_new_mc_se", "forward_kl_new_token",
        "forward_kl_new_train", "kl_outcome", "kl_within_correct", "kl_within_wrong",
        "tv_new", "js_new", "reverse_kl_new", "forward_kl_prior", "forward_kl_prior_mc", "tv_prior",
        "reverse_kl_prior", "weight_l1", "weight_fisher_l2", "weight_spectral", "act_l1", "act_l2", "cka",
        "circuit_stability", "circuit_stability_random", "circuit_stability_base"};
    if (names) memcpy(names, NAMES, sizeof NAMES);
    if (vals) {
        const double v[FL_LM_NFIELDS] = {
            r->base.new_acc, r->m.new_acc, r->base.new_acc_sampled, r->m.new_acc_sampled, r->base.new_acc_train,
            r->m.new_acc_train, r->base.prior_acc,
            r->m.prior_acc, r->forgetting, r->m.acc[0], r->m.acc[1], r->m.acc[2], r->m.acc[3], r->base.bpb, r->m.bpb,
            r->bpb_rise, r->base.prior_nll, r->m.prior_nll, r->prior_nll_rise, r->forward_kl_new,
            r->forward_kl_new_se, r->forward_kl_new_mc, r->forward_kl_new_mc_se, r->forward_kl_new_token,
            r->forward_kl_new_train, r->kl_outcome, r->kl_within_correct, r->kl_within_wrong, r->tv_new, r->js_new, r->reverse_kl_new, r->forward_kl_prior,
            r->forward_kl_prior_mc, r->tv_prior, r->reverse_kl_prior, r->weight_l1, r->weight_fisher_l2,
            r->weight_spectral, r->act_l1, r->act_l2, r->cka, r->circuit_stability, r->circuit_stability_random, r->circuit_stability_base};
        memcpy(vals, v, sizeof v);
    }
    return FL_LM_NFIELDS;
}
