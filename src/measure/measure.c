/* measure.c: one fine-tuned model against its base: accuracies, forgetting
 * and every predictor, with the base's share computed once per context. */
#include "forgetlab/core/clock.h"
#include "forgetlab/measure/measure.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"
#include "forgetlab/measure/weights.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Accuracy from logits[n, 10], which are then turned into log-probs. */
static void logits_to_logp(const fl_task_data *td, float *logp, double *acc) {
    *acc = fl_task_accuracy(td->task, logp, td->label, td->n);
    fl_log_softmax_forward(logp, logp, td->n, FL_TASK_CLASSES);
}

/* Log-probabilities and accuracy of m on a task's data. */
static int task_logp(const fl_mlp *m, const fl_task_data *td, float *logp, double *acc) {
    if (fl_mlp_logits(m, td->x, td->n, logp)) return -1;
    logits_to_logp(td, logp, acc);
    return 0;
}

/* On the new task, one forward gives the logits and the activations. */
static int new_task_record(const fl_mlp *m, const fl_task_data *td, fl_act_record *rec, float *logp,
                           double *acc) {
    if (fl_act_record_run(rec, m, td->x, td->n)) return -1;
    memcpy(logp, rec->logits, (size_t)td->n * FL_TASK_CLASSES * sizeof(float));
    logits_to_logp(td, logp, acc);
    return 0;
}

static float *alloc_logp(const fl_task_data *td) {
    return fl_malloc((size_t)td->n * FL_TASK_CLASSES * sizeof(float), "log-probabilities");
}

int fl_measure_ctx_init(fl_measure_ctx *ctx, const fl_mlp *base, const char *data_dir,
                        int fisher_n, const fl_ap_opts *probe, uint64_t seed) {
    memset(ctx, 0, sizeof *ctx);
    ctx->base = base;
    ctx->seed = seed;
    fl_task_data prior_train = {0};
    if (fl_task_load(&ctx->new_test, FL_TASK_PARITY, data_dir, "test") ||
        fl_task_load(&ctx->prior_test, FL_TASK_FASHION, data_dir, "test") ||
        fl_task_load(&prior_train, FL_TASK_FASHION, data_dir, "train"))
        goto fail;
    if (!(ctx->logp0_new = alloc_logp(&ctx->new_test)) ||
        !(ctx->logp0_prior = alloc_logp(&ctx->prior_test)) ||
        !(ctx->fisher = fl_malloc(base->blob.n * sizeof(float), "Fisher")))
        goto fail;
    if (new_task_record(base, &ctx->new_test, &ctx->base_new, ctx->logp0_new, &ctx->new_acc_base) ||
        task_logp(base, &ctx->prior_test, ctx->logp0_prior, &ctx->prior_acc_base))
        goto fail;
    fl_rng rng;
    fl_rng_init(&rng, seed, FL_STREAM_EVAL);
    int n = fisher_n < prior_train.n ? fisher_n : prior_train.n;
    if (fl_fisher_diag(ctx->fisher, base, prior_train.x, n, 1, &rng)) goto fail;
    /* 50 images per class (docs/circuits.md: cost and variance). */
    if (fl_circuit_probe_init(&ctx->probe, base, &ctx->prior_test, 50, probe, seed)) goto fail;
    fl_task_free(&prior_train);
    return 0;
fail:
    fl_task_free(&prior_train);
    fl_measure_ctx_free(ctx);
    return -1;
}

int fl_measure_ctx_init_new(fl_measure_ctx *ctx, const fl_mlp *base, const char *data_dir, uint64_t seed) {
    memset(ctx, 0, sizeof *ctx);
    ctx->base = base;
    ctx->seed = seed;
    ctx->prior_acc_base = NAN;
    if (fl_task_load(&ctx->new_test, FL_TASK_PARITY, data_dir, "test") ||
        !(ctx->logp0_new = alloc_logp(&ctx->new_test)) ||
        new_task_record(base, &ctx->new_test, &ctx->base_new, ctx->logp0_new, &ctx->new_acc_base)) {
        fl_measure_ctx_free(ctx);
        return -1;
    }
    return 0;
}

void fl_measure_ctx_free(fl_measure_ctx *ctx) {
    fl_task_free(&ctx->new_test);
    fl_task_free(&ctx->prior_test);
    free(ctx->logp0_new);
    free(ctx->logp0_prior);
    free(ctx->fisher);
    fl_act_record_free(&ctx->base_new);
    fl_circuit_probe_free(&ctx->probe);
    memset(ctx, 0, sizeof *ctx);
}

/* What a context of the new task alone cannot know: the prior task's
 * accuracy, forgetting and divergences, and its circuits. */
static void new_side_only(fl_measurement *out) {
    out->prior_acc = out->forgetting = NAN;
    out->prior_div = (fl_divergences){NAN, NAN, NAN, NAN, NAN};
    out->circuit = (fl_circuit_probe_result){NAN, NAN, NAN, NAN, NAN, NAN};
}

int fl_measure_model(const fl_measure_ctx *ctx, const fl_mlp *m, int with_rank,
                     fl_measurement *out) {
    memset(out, 0, sizeof *out);
    const fl_mlp *base = ctx->base;
    if (m->blob.n != base->blob.n || m->nlayers != base->nlayers) {
        char a[128], b[128];
        fl_mlp_spec_string(m, a, sizeof a);
        fl_mlp_spec_string(base, b, sizeof b);
        return fl_error_set("the model (%s) and its base (%s) have different architectures", a, b);
    }
    const int prior = ctx->prior_test.n > 0; /* 0: a context of the new task alone */
    float *lp_new = alloc_logp(&ctx->new_test), *lp_prior = prior ? alloc_logp(&ctx->prior_test) : NULL;
    fl_act_record rec = {0};
    int rc = -1;
    if (!lp_new || (prior && !lp_prior)) goto out;
    double t0 = fl_now();
    if (new_task_record(m, &ctx->new_test, &rec, lp_new, &out->new_acc) ||
        (prior && task_logp(m, &ctx->prior_test, lp_prior, &out->prior_acc)))
        goto out;
    double t1 = fl_now();
    out->eval_s = t1 - t0;
    out->new_acc_base = ctx->new_acc_base;
    out->prior_acc_base = ctx->prior_acc_base;
    out->forgetting = out->prior_acc_base - out->prior_acc;
    fl_divergences_compute(&out->new_div, ctx->logp0_new, lp_new, ctx->new_test.n, FL_TASK_CLASSES);
    if (prior) fl_divergences_compute(&out->prior_div, ctx->logp0_prior, lp_prior, ctx->prior_test.n, FL_TASK_CLASSES);
    else new_side_only(out);
    out->weight_l1 = fl_weight_l1(base, m);
    out->weight_fisher_l2 = prior ? fl_weight_fisher_l2(ctx->fisher, base, m) : NAN;
    fl_rng rng;
    fl_rng_init(&rng, ctx->seed, FL_STREAM_EVAL);
    out->weight_spectral = fl_weight_spectral(base, m, 30, &rng, NULL);
    out->nlayers = with_rank ? m->nlayers : 0;
    if (with_rank && fl_weight_ranks(base, m, out->weight_rank)) goto out;
    if (fl_activation_compare(&out->act, &ctx->base_new, &rec)) goto out;
    double t2 = fl_now();
    if (prior && fl_circuit_probe_measure(&ctx->probe, m, NULL, &out->circuit)) goto out;
    out->circuit_s = fl_now() - t2;
    out->predictors_s = fl_now() - t1;
    rc = 0;
out:
    fl_act_record_free(&rec);
    free(lp_new);
    free(lp_prior);
    return rc;
}

int fl_measurement_fields(const fl_measurement *r, const char **names, double *vals) {
    static const char *const NAMES[FL_MEASURE_NFIELDS] = {
        "new_acc_base", "new_acc", "prior_acc_base", "prior_acc", "forgetting",
        "forward_kl_new", "reverse_kl_new", "tv_new", "l2_dist_new", "js_new",
        "forward_kl_prior", "reverse_kl_prior", "tv_prior", "l2_dist_prior", "js_prior",
        "weight_l1", "weight_fisher_l2", "weight_spectral", "act_l1", "act_l2", "cka",
        "circuit_stability", "circuit_stability_random", "circuit_drift", "circuit_stability_ce_ap"};
    const fl_divergences *dn = &r->new_div, *dp = &r->prior_div;
    const double v[FL_MEASURE_NFIELDS] = {
        r->new_acc_base, r->new_acc, r->prior_acc_base, r->prior_acc, r->forgetting,
        dn->forward_kl, dn->reverse_kl, dn->tv, dn->l2, dn->js,
        dp->forward_kl, dp->reverse_kl, dp->tv, dp->l2, dp->js,
        r->weight_l1, r->weight_fisher_l2, r->weight_spectral, r->act.l1, r->act.l2, r->act.cka,
        r->circuit.cs, r->circuit.cs_random, r->circuit.drift, r->circuit.cs_ce_ap};
    for (int i = 0; i < FL_MEASURE_NFIELDS; i++) {
        if (names) names[i] = NAMES[i];
        if (vals) vals[i] = v[i];
    }
    return FL_MEASURE_NFIELDS;
}

cJSON *fl_measurement_json(const fl_measurement *r) {
    const char *names[FL_MEASURE_NFIELDS];
    double vals[FL_MEASURE_NFIELDS];
    int n = fl_measurement_fields(r, names, vals);
    cJSON *j = cJSON_CreateObject();
    for (int i = 0; i < n; i++) cJSON_AddNumberToObject(j, names[i], vals[i]);
    if (r->nlayers > 0) cJSON_AddItemToObject(j, "weight_rank", cJSON_CreateIntArray(r->weight_rank, r->nlayers));
    return j;
}
