/* grokforget_measure.c: the grok-forget study's measurement of a fine-tuned
 * transformer against its grokked base (grokforget_measure.h). */
#include "forgetlab/measure/grokforget_measure.h"

#include "forgetlab/core/error.h"
#include "forgetlab/measure/attribution_tf.h"
#include "forgetlab/measure/divergence.h"
#include "forgetlab/measure/fourier.h"
#include "forgetlab/measure/weights.h"
#include "forgetlab/nn/layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 1024

int fl_tf_logits_all(const fl_transformer *m, const int *tok, int n, float *z) {
    fl_tf_acts a;
    const int cap = n < CHUNK ? n : CHUNK, T = m->cfg.ctx, V = m->cfg.n_out;
    if (fl_tf_acts_alloc(&a, m, cap)) return -1;
    for (int at = 0; at < n; at += cap) {
        const int B = n - at < cap ? n - at : cap;
        memcpy(z + (size_t)at * V, fl_tf_forward(m, &a, tok + (size_t)at * T, B), sizeof(float) * B * V);
    }
    fl_tf_acts_free(&a);
    return 0;
}

/* The rows of one split (train or test) of z [n, V] into out. */
static int split_rows(const fl_gf_ctx *c, const float *z, int train, float *out) {
    const int V = c->d->p;
    int k = 0;
    for (int i = 0; i < c->d->n; i++)
        if (c->is_train[i] == train) memcpy(out + (size_t)k++ * V, z + (size_t)i * V, sizeof(float) * V);
    return k;
}

/* Accuracy on a + b's test pairs, the new task's (argmax correct) and the
 * mean probability of its correct answers, and a + b's test loss. */
static void accuracies(const fl_gf_ctx *c, const float *z_old, const float *z_new, double *old_acc, double *new_acc,
                       double *new_mass, double *old_loss) {
    const fl_modarith *d = c->d;
    const int V = d->p;
    double ro = 0, rn = 0, mass = 0, loss = 0;
    int cnt = 0;
    for (int i = 0; i < d->n; i++) {
        if (c->is_train[i]) continue;
        const float *zo = z_old + (size_t)i * V, *zn = z_new + (size_t)i * V;
        int bo = 0, bn = 0;
        for (int v = 1; v < V; v++) {
            if (zo[v] > zo[bo]) bo = v;
            if (zn[v] > zn[bn]) bn = v;
        }
        const double mo = zo[bo], mn = zn[bn];
        double so = 0, sn = 0, right = 0;
        for (int v = 0; v < V; v++) {
            so += exp(zo[v] - mo);
            const double e = exp(zn[v] - mn);
            sn += e;
            if (fl_gf_correct(d->a[i], d->b[i], v, d->p)) right += e;
        }
        ro += bo == d->y[i];
        rn += fl_gf_correct(d->a[i], d->b[i], bn, d->p);
        mass += right / sn;
        loss += mo + log(so) - zo[d->y[i]];
        cnt++;
    }
    *old_acc = ro / cnt, *new_acc = rn / cnt, *new_mass = mass / cnt, *old_loss = loss / cnt;
}

/* The key frequencies' share of m's embedding spectrum (the base's keys
 * when key is given, else m's own, written to key). */
static double key_share(const fl_transformer *m, int p, int *key, int *nkey, int find) {
    double *norms = malloc(sizeof(double) * (size_t)(p / 2 + 1));
    if (!norms) return NAN;
    fl_fourier_embed_norms(fl_blob_param(&m->blob, m->wte), p, m->cfg.d_model, norms);
    if (find) *nkey = fl_fourier_key_freqs(norms, p, *nkey, key);
    const double s = fl_fourier_key_share(norms, p, key, *nkey);
    free(norms);
    return s;
}

int fl_gf_ctx_init(fl_gf_ctx *c, const fl_transformer *base, const fl_modarith *d, int nkey, int cs_per,
                   uint64_t seed) {
    memset(c, 0, sizeof *c);
    if (d->nops != 1 || d->ops[0] != FL_OP_ADD || d->reserved < 1 || d->ctx != 4)
        return fl_error_set("the grok-forget study needs a model of a + b with a reserved operation token "
                            "(forgetlab grok --op + --reserve-ops 1)");
    if (base->cfg.vocab != d->vocab || base->cfg.n_out != d->p || base->cfg.ctx != d->ctx)
        return fl_error_set("the base's shapes (vocab %d, outputs %d, context %d) are not its task's (%d, %d, %d)",
                            base->cfg.vocab, base->cfg.n_out, base->cfg.ctx, d->vocab, d->p, d->ctx);
    c->base = base, c->d = d, c->cs_per = cs_per, c->seed = seed;
    const size_t n = (size_t)d->n, V = (size_t)d->p;
    c->tok_new = malloc(sizeof(int) * n * 4);
    c->is_train = calloc(n, 1);
    c->z0_old = malloc(sizeof(float) * n * V), c->z0_new = malloc(sizeof(float) * n * V);
    if (!c->tok_new || !c->is_train || !c->z0_old || !c->z0_new) {
        fl_gf_ctx_free(c);
        return fl_error_set("out of memory");
    }
    for (int i = 0; i < d->n_train; i++) c->is_train[d->train[i]] = 1;
    const int op_new = fl_modarith_op_token(d, d->nops);
    for (size_t i = 0; i < n; i++) {
        memcpy(c->tok_new + i * 4, d->tok + i * 4, sizeof(int) * 4);
        c->tok_new[i * 4 + 1] = op_new;
    }
    if (fl_tf_logits_all(base, d->tok, d->n, c->z0_old) || fl_tf_logits_all(base, c->tok_new, d->n, c->z0_new)) {
        fl_gf_ctx_free(c);
        return -1;
    }
    double mass, loss;
    accuracies(c, c->z0_old, c->z0_new, &c->old_acc_base, &c->new_acc_base, &mass, &loss);
    c->nkey = nkey < 16 ? nkey : 16;
    c->fourier_share_base = key_share(base, d->p, c->key, &c->nkey, 1);
    return 0;
}

void fl_gf_ctx_free(fl_gf_ctx *c) {
    free(c->tok_new), free(c->is_train), free(c->z0_old), free(c->z0_new);
    memset(c, 0, sizeof *c);
}

/* The divergences of the test rows of two models' logits. */
static int test_divergences(const fl_gf_ctx *c, const float *z0, const float *z1, fl_divergences *div) {
    const int V = c->d->p, nt = c->d->n_test;
    float *a = malloc(sizeof(float) * (size_t)nt * V), *b = malloc(sizeof(float) * (size_t)nt * V);
    int rc = a && b ? 0 : fl_error_set("out of memory");
    if (rc == 0) {
        split_rows(c, z0, 0, a), split_rows(c, z1, 0, b);
        rc = fl_divergences_logits(div, a, b, nt, V);
    }
    free(a), free(b);
    return rc;
}

/* The chain-rule parts of the forward KL on the new task's test pairs:
 * for each, s0 and s (the base's and the model's mass on the correct
 * answers), the outcome term, and each side's conditional KL weighted by
 * the base's share of it. */
static void kl_parts(const fl_gf_ctx *c, const float *z1, fl_gf_measurement *r) {
    const fl_modarith *d = c->d;
    const int V = d->p;
    double *p0 = malloc(sizeof(double) * V), *p1 = malloc(sizeof(double) * V), out = 0, in[2] = {0, 0};
    int cnt = 0;
    if (!p0 || !p1) {
        free(p0), free(p1);
        r->kl_outcome = r->kl_within_correct = r->kl_within_wrong = NAN;
        return;
    }
    for (int i = 0; i < d->n; i++) {
        if (c->is_train[i]) continue;
        const float *za = c->z0_new + (size_t)i * V, *zb = z1 + (size_t)i * V;
        double ma = za[0], mb = zb[0], sa = 0, sb = 0, mass0[2] = {0, 0}, mass1[2] = {0, 0};
        for (int v = 1; v < V; v++) ma = za[v] > ma ? za[v] : ma, mb = zb[v] > mb ? zb[v] : mb;
        for (int v = 0; v < V; v++) sa += p0[v] = exp(za[v] - ma), sb += p1[v] = exp(zb[v] - mb);
        for (int v = 0; v < V; v++) {
            const int k = fl_gf_correct(d->a[i], d->b[i], v, V);
            p0[v] /= sa, p1[v] /= sb;
            mass0[k] += p0[v], mass1[k] += p1[v];
        }
        for (int k = 0; k < 2; k++)
            if (mass0[k] > 0) out += mass0[k] * log(mass0[k] / mass1[k]);
        for (int v = 0; v < V; v++) {
            const int k = fl_gf_correct(d->a[i], d->b[i], v, V);
            if (p0[v] > 0) in[k] += p0[v] * log((p0[v] / mass0[k]) / (p1[v] / mass1[k]));
        }
        cnt++;
    }
    r->kl_outcome = out / cnt, r->kl_within_wrong = in[0] / cnt, r->kl_within_correct = in[1] / cnt;
    free(p0), free(p1);
}

int fl_gf_measure(const fl_gf_ctx *c, fl_transformer *m, fl_gf_measurement *r) {
    const fl_modarith *d = c->d;
    const size_t n = (size_t)d->n, V = (size_t)d->p;
    float *z_old = malloc(sizeof(float) * n * V), *z_new = malloc(sizeof(float) * n * V);
    fl_divergences dn, dp;
    fl_cs_stats st[2];
    int rc = z_old && z_new ? 0 : fl_error_set("out of memory");
    memset(r, 0, sizeof *r);
    if (rc == 0) rc = fl_tf_logits_all(m, d->tok, d->n, z_old);
    if (rc == 0) rc = fl_tf_logits_all(m, c->tok_new, d->n, z_new);
    if (rc == 0) rc = test_divergences(c, c->z0_new, z_new, &dn);
    if (rc == 0) rc = test_divergences(c, c->z0_old, z_old, &dp);
    if (rc == 0) rc = fl_fourier_losses(z_old, d->a, d->b, d->y, c->is_train, d->n, d->p, 1, c->key, c->nkey,
                                        &r->restricted_loss, &r->excluded_loss);
    if (rc == 0) rc = fl_mod_cs_grok(m, d, c->cs_per, c->seed, st);
    if (rc == 0) {
        accuracies(c, z_old, z_new, &r->old_acc, &r->new_acc, &r->new_mass, &r->old_loss);
        r->old_acc_base = c->old_acc_base, r->new_acc_base = c->new_acc_base;
        r->forgetting = c->old_acc_base - r->old_acc;
        r->forward_kl_new = dn.forward_kl, r->reverse_kl_new = dn.reverse_kl, r->tv_new = dn.tv;
        r->l2_dist_new = dn.l2, r->js_new = dn.js;
        kl_parts(c, z_new, r);
        r->forward_kl_prior = dp.forward_kl, r->reverse_kl_prior = dp.reverse_kl, r->tv_prior = dp.tv;
        r->weight_l1 = fl_blob_l1_dist(&c->base->blob, &m->blob);
        r->weight_norm = fl_blob_l2_norm(&m->blob);
        r->cs_by_a = st[0].cs, r->cs_by_a_random = st[0].random.mean;
        r->cs_by_a_random_lo = st[0].random.lo, r->cs_by_a_random_hi = st[0].random.hi;
        r->cs_by_answer = st[1].cs, r->cs_by_answer_random = st[1].random.mean;
        r->cs_by_a_excess = st[0].cs - st[0].random.mean, r->cs_by_answer_excess = st[1].cs - st[1].random.mean;
        int key[16], nkey = c->nkey;
        memcpy(key, c->key, sizeof key);
        r->fourier_share = key_share(m, d->p, key, &nkey, 0);
    }
    free(z_old), free(z_new);
    return rc;
}

int fl_gf_measurement_fields(const fl_gf_measurement *r, const char **names, double *vals) {
    static const char *const N[] = {
        "old_acc_base", "old_acc", "forgetting", "old_loss", "new_acc_base", "new_acc", "new_mass",
        "forward_kl_new", "reverse_kl_new", "tv_new", "l2_dist_new", "js_new", "kl_outcome", "kl_within_correct",
        "kl_within_wrong", "forward_kl_prior",
        "reverse_kl_prior", "tv_prior", "weight_l1", "weight_norm", "cs_by_a", "cs_by_a_random",
        "cs_by_a_random_lo", "cs_by_a_random_hi", "cs_by_answer", "cs_by_answer_random", "cs_by_a_excess",
        "cs_by_answer_excess", "fourier_share",
        "restricted_loss", "excluded_loss"};
    _Static_assert(sizeof N / sizeof *N == FL_GF_NFIELDS, "a name for every field");
    const double v[FL_GF_NFIELDS] = {
        r->old_acc_base, r->old_acc, r->forgetting, r->old_loss, r->new_acc_base, r->new_acc, r->new_mass,
        r->forward_kl_new, r->reverse_kl_new, r->tv_new, r->l2_dist_new, r->js_new, r->kl_outcome,
        r->kl_within_correct, r->kl_within_wrong, r->forward_kl_prior,
        r->reverse_kl_prior, r->tv_prior, r->weight_l1, r->weight_norm, r->cs_by_a, r->cs_by_a_random,
        r->cs_by_a_random_lo, r->cs_by_a_random_hi, r->cs_by_answer, r->cs_by_answer_random, r->cs_by_a_excess,
        r->cs_by_answer_excess, r->fourier_share,
        r->restricted_loss, r->excluded_loss};
    for (int i = 0; i < FL_GF_NFIELDS; i++) {
        if (names) names[i] = N[i];
        if (vals) vals[i] = v[i];
    }
    return FL_GF_NFIELDS;
}
