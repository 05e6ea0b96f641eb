/* lm_kl_parts.c: the language model's sequence forward KL on the new
 * task (its exact-per-position and Monte-Carlo estimators), where it comes
 * from, and a measure of forgetting that neither saturates nor needs
 * generation (lm_measure.h, docs/lm.md "Measures").
 *
 * On-policy RL may spend far more KL than its success needs: raising the
 * probability s of a correct completion from s_0 costs at least
 * KL(Bern(s_0) || Bern(s)) (data processing), and anything above that is
 * the model reshaping which correct (or which wrong) completion it gives.
 * The chain rule splits the sequence KL exactly into these terms. A test
 * prompt's correct completions are its valid words (5 to a few hundred),
 * so s, s_0 and the within-correct term are enumerated exactly; the
 * within-wrong term comes from the base's samples' log-ratios (Monte
 * Carlo), so the three add up to the sequence KL within that term's
 * sampling error.
 *
 * The prior skills' forgetting by exact match jumps between 0 and 1 per
 * prompt; the teacher-forced NLL of their correct answers moves with every
 * step, which shows forgetting before any answer changes. */
#include "lm_measure_int.h"

#include "forgetlab/core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* p log(p / q), 0 at p = 0; q kept off 0, which float sums of
 * probabilities near 1 can reach (1 - s). */
static double plogpq(double p, double q) { return p > 0 ? p * log(p / fmax(q, 1e-300)) : 0; }

void fl_kl_chain_parts(const double *s0, const double *s, const double *cc, const double *wr, int n, double out[3]) {
    out[0] = out[1] = out[2] = 0;
    for (int x = 0; x < n; x++) {
        /* The outcome's Bernoulli KL, split into its correct and wrong
         * halves: each is what the chain rule takes out of its part. */
        const double kc = plogpq(s0[x], s[x]), kw = plogpq(1 - s0[x], 1 - s[x]);
        out[0] += kc + kw, out[1] += cc[x] - kc, out[2] += wr[x] - kw;
    }
    for (int k = 0; k < 3 && n > 0; k++) out[k] /= n;
}

void fl_seq_forward_kl(const fl_seqset *s, const float *lp0, const float *lp, const float *t0, const float *t1, int V,
                       double out[4]) {
    double sk = 0, sk2 = 0, sm = 0, sm2 = 0;
    size_t row = 0;
    for (int i = 0; i < s->n; i++) {
        double k = 0, mcs = 0;
        for (int t = 0; t < s->clen[i]; t++, row++) {
            for (int v = 0; v < V; v++) {
                const double a = lp0[row * V + v];
                k += exp(a) * (a - lp[row * V + v]);
            }
            mcs += (double)t0[row] - t1[row];
        }
        sk += k, sk2 += k * k, sm += mcs, sm2 += mcs * mcs;
    }
    const double n = s->n;
    out[0] = sk / n, out[2] = sm / n;
    out[1] = n > 1 ? sqrt(fmax(0, (sk2 - sk * sk / n) / (n - 1)) / n) : NAN;
    out[3] = n > 1 ? sqrt(fmax(0, (sm2 - sm * sm / n) / (n - 1)) / n) : NAN;
}

int lm_prior_nll(const fl_lm_measure_ctx *ctx, const fl_gpt *m, double *out) {
    const fl_seqset *s = &ctx->prior_ans;
    float *t = malloc(sizeof(float) * (size_t)(s->rows > 0 ? s->rows : 1));
    if (!t) return fl_error_set("out of memory");
    const int rc = lm_score(m, s, NULL, t, NULL);
    double nll = 0;
    for (int r = 0; r < s->rows && rc == 0; r++) nll -= t[r];
    *out = s->rows && rc == 0 ? nll / s->rows : NAN;
    free(t);
    return rc;
}

/* Each sequence's log-probability: the sum of its completion's tokens'. */
static void seq_sums(const fl_seqset *s, const float *tlp, double *out) {
    for (int i = 0, row = 0; i < s->n; i++) {
        out[i] = 0;
        for (int k = 0; k < s->clen[i]; k++) out[i] += tlp[row++];
    }
}

int lm_parts_init(fl_lm_measure_ctx *ctx) {
    const fl_lm_measure_opts *o = &ctx->o;
    const fl_newtask *t = ctx->task;
    const int V = ctx->base->cfg.vocab;
    fl_seqset_init(&ctx->train0), fl_seqset_init(&ctx->good), fl_seqset_init(&ctx->prior_ans);
    int rc = lm_sample_set(&ctx->train0, ctx->base, ctx->ptrain, ctx->n_ptrain, o->new_samples, 1.0, FL_NEWTASK_STOP,
                           FL_NEWTASK_MAX_NEW, lm_draw_seed(ctx->seed, LM_SEED_TRAIN0));
    const size_t rt = (size_t)ctx->train0.rows;
    ctx->logp0_train = rc ? NULL : malloc(sizeof(float) * (rt ? rt : 1) * V);
    ctx->tlp0_train = rc ? NULL : malloc(sizeof(float) * (rt ? rt : 1));
    ctx->good_at = malloc(sizeof(int) * (size_t)(ctx->n_pnew + 1));
    ctx->ok0 = malloc((size_t)(ctx->new0.n > 0 ? ctx->new0.n : 1));
    if (rc == 0 && (!ctx->logp0_train || !ctx->tlp0_train || !ctx->good_at || !ctx->ok0))
        rc = fl_error_set("out of memory");
    if (rc == 0) rc = lm_score(ctx->base, &ctx->train0, ctx->logp0_train, ctx->tlp0_train, NULL);
    /* Every valid completion of each test prompt: the rest of each of its
     * words, then the stop byte, exactly what fl_newtask_check rewards. */
    for (int x = 0; x < ctx->n_pnew && rc == 0; x++) {
        ctx->good_at[x] = ctx->good.n;
        for (int w = 0; w < t->p[t->test[x]].count && rc == 0; w++) {
            char comp[16];
            fl_newtask_answer(t, t->test[x], w, comp);
            rc = fl_seqset_add_text(&ctx->good, ctx->pnew[x], comp);
        }
    }
    if (rc == 0) ctx->good_at[ctx->n_pnew] = ctx->good.n;
    ctx->good_lp0 = rc ? NULL : malloc(sizeof(double) * (size_t)(ctx->good.n > 0 ? ctx->good.n : 1));
    float *tl = rc ? NULL : malloc(sizeof(float) * (size_t)(ctx->good.rows > 0 ? ctx->good.rows : 1));
    if (rc == 0 && (!ctx->good_lp0 || !tl)) rc = fl_error_set("out of memory");
    if (rc == 0) rc = lm_score(ctx->base, &ctx->good, NULL, tl, NULL);
    if (rc == 0) seq_sums(&ctx->good, tl, ctx->good_lp0);
    free(tl);
    for (int i = 0; i < ctx->new0.n && rc == 0; i++) {
        char p[32], c[16];
        fl_seqset_prompt(&ctx->new0, i, p, sizeof p);
        fl_seqset_completion(&ctx->new0, i, c, sizeof c);
        ctx->ok0[i] = fl_newtask_check(t, p, c) == 1;
    }
    /* The prior skills' first prior_prompts test prompts, as their
     * accuracy is scored, with the answers the verifier accepts. */
    for (int k = 0; k < FL_NSKILLS && rc == 0; k++) {
        const fl_skill_set *sk = &ctx->data->skill[k];
        const int n = o->prior_prompts < sk->n_test ? o->prior_prompts : sk->n_test;
        for (int i = 0; i < n && rc == 0; i++)
            rc = fl_seqset_add_text(&ctx->prior_ans, sk->ex[sk->test[i]].prompt, sk->ex[sk->test[i]].answer);
    }
    return rc;
}

int lm_parts_measure(const fl_lm_measure_ctx *ctx, const fl_gpt *m, const float *tl, fl_lm_measurement *out) {
    const int V = m->cfg.vocab, n = ctx->n_pnew, k = ctx->o.new_samples;
    const fl_seqset *g = &ctx->good, *s = &ctx->new0;
    const size_t rt = (size_t)ctx->train0.rows;
    const size_t rows = rt > (size_t)g->rows ? rt : (size_t)g->rows;
    float *lp = malloc(sizeof(float) * (rt ? rt : 1) * V), *t1 = malloc(sizeof(float) * (rows ? rows : 1));
    double *lg = malloc(sizeof(double) * (size_t)(g->n > 0 ? g->n : 1)), *l0 = malloc(sizeof(double) * (size_t)(s->n + 1));
    double *l1 = malloc(sizeof(double) * (size_t)(s->n + 1)), *pc = malloc(sizeof(double) * 4 * (size_t)(n + 1));
    int rc = lp && t1 && lg && l0 && l1 && pc ? 0 : fl_error_set("out of memory");
    if (rc == 0) rc = lm_score(m, &ctx->train0, lp, t1, NULL);
    if (rc == 0) {
        double kl[4];
        fl_seq_forward_kl(&ctx->train0, ctx->logp0_train, lp, ctx->tlp0_train, t1, V, kl);
        out->forward_kl_new_train = kl[0];
    }
    if (rc == 0) rc = lm_score(m, g, NULL, t1, NULL);
    if (rc == 0) {
        seq_sums(g, t1, lg);
        seq_sums(s, ctx->tlp0_new, l0);
        seq_sums(s, tl, l1);
        double *s0 = pc, *s1 = pc + n, *cc = pc + 2 * n, *wr = pc + 3 * n;
        for (int x = 0; x < n; x++) {
            s0[x] = s1[x] = cc[x] = wr[x] = 0;
            for (int j = ctx->good_at[x]; j < ctx->good_at[x + 1]; j++) {
                const double p0 = exp(ctx->good_lp0[j]);
                s0[x] += p0, s1[x] += exp(lg[j]), cc[x] += p0 * (ctx->good_lp0[j] - lg[j]);
            }
            /* new0 holds k samples of each test prompt, in order. */
            for (int i = x * k; i < (x + 1) * k; i++)
                if (!ctx->ok0[i]) wr[x] += (l0[i] - l1[i]) / k;
        }
        double parts[3];
        fl_kl_chain_parts(s0, s1, cc, wr, n, parts);
        out->kl_outcome = parts[0], out->kl_within_correct = parts[1], out->kl_within_wrong = parts[2];
    }
    free(lp), free(t1), free(lg), free(l0), free(l1), free(pc);
    return rc;
}
