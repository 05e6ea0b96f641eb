/* modarith_circuits.c: the examples of a circuit probe of a transformer
 * trained on modular arithmetic, per subtask (by a, by answer, random
 * groups), with counterfactuals that change one operand or partners from
 * the same subtask (attribution_tf.h). */
#include "forgetlab/measure/attribution_tf.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/measure/stability.h"

#include <stdlib.h>
#include <string.h>

int fl_mod_subtasks_parse(const char *s, int p, fl_mod_subtasks *sub) {
    if (strcmp(s, "by-a") == 0) sub->kind = FL_MOD_SUB_BY_A, sub->k = p;
    else if (strcmp(s, "by-answer") == 0) sub->kind = FL_MOD_SUB_BY_ANSWER, sub->k = p;
    else if (strncmp(s, "random:", 7) == 0) {
        char *end;
        long k = strtol(s + 7, &end, 10);
        if (end == s + 7 || *end || k < 2 || k > 1000) return fl_error_set("subtasks %s: K must be in [2, 1000]", s);
        sub->kind = FL_MOD_SUB_RANDOM, sub->k = (int)k;
    } else {
        return fl_error_set("subtasks '%s': expected by-a, by-answer or random:K", s);
    }
    return 0;
}

int fl_mod_examples_build(const fl_modarith *d, const fl_mod_subtasks *sub, fl_mod_examples *ex, int *count) {
    const int k = sub->k, per = sub->per, T = d->ctx, n_all = d->n;
    int *perm = malloc(sizeof(int) * n_all), *idx = malloc(sizeof(int) * (size_t)k * per), rc = -1, n = 0;
    memset(ex, 0, sizeof *ex);
    ex->tok = malloc(sizeof(int) * (size_t)k * per * T), ex->tokc = malloc(sizeof(int) * (size_t)k * per * T);
    ex->target = malloc(sizeof(int) * (size_t)k * per);
    if (!perm || !idx || !ex->tok || !ex->tokc || !ex->target) {
        fl_error_set("circuit vectors: out of memory");
        goto out;
    }
    fl_rng r;
    fl_rng_init(&r, sub->seed, FL_STREAM_EVAL);
    for (int i = 0; i < n_all; i++) perm[i] = i;
    fl_rng_shuffle(&r, perm, n_all);
    for (int s = 0; s < k; s++) count[s] = 0;
    for (int i = 0; i < n_all; i++) {
        const int e = perm[i];
        const int s = sub->kind == FL_MOD_SUB_BY_A ? d->a[e] : sub->kind == FL_MOD_SUB_BY_ANSWER ? d->y[e] : i % k;
        if (s < k && count[s] < per) idx[s * per + count[s]++] = e;
    }
    for (int s = 0; s < k; s++)
        if (count[s] == 0) {
            fl_error_set("subtask %d has no equations", s);
            rc = FL_BAD_REQUEST;
            goto out;
        }
    /* Subtasks become contiguous runs of examples. */
    for (int s = 0; s < k; s++)
        for (int j = 0; j < count[s]; j++, n++) {
            const int e = idx[s * per + j], bpos = d->nops == 1 ? 1 : 2;
            memcpy(ex->tok + (size_t)n * T, d->tok + (size_t)e * T, sizeof(int) * T);
            memcpy(ex->tokc + (size_t)n * T, d->tok + (size_t)e * T, sizeof(int) * T);
            ex->target[n] = d->y[e];
            if (sub->corrupt != FL_AP_CORRUPT_COUNTERFACTUAL) continue;
            int b2;
            do b2 = (int)fl_rng_below(&r, (uint32_t)d->p);
            while (b2 == d->b[e] || fl_mod_apply(d->ops[d->op[e]], d->a[e], b2, d->p) < 0);
            ex->tokc[(size_t)n * T + bpos] = b2;
        }
    ex->n = n;
    if (sub->corrupt == FL_AP_CORRUPT_WITHIN) {
        /* Another equation of the same subtask (FL_STREAM_CORRUPT). */
        int *partner = malloc(sizeof(int) * (n > 0 ? n : 1));
        if (!partner) {
            fl_error_set("circuit vectors: out of memory");
            goto out;
        }
        if ((rc = fl_within_partners(count, k, sub->seed, partner)) != 0) {
            free(partner);
            goto out;
        }
        for (int i = 0; i < n; i++) memcpy(ex->tokc + (size_t)i * T, ex->tok + (size_t)partner[i] * T, sizeof(int) * T);
        free(partner);
    }
    rc = 0;
out:
    free(perm), free(idx);
    if (rc) fl_mod_examples_free(ex);
    return rc;
}

void fl_mod_examples_free(fl_mod_examples *ex) {
    free(ex->tok), free(ex->tokc), free(ex->target);
    memset(ex, 0, sizeof *ex);
}

int fl_mod_cs(fl_transformer *m, const fl_modarith *d, const fl_ap_opts *o, int edges, const fl_mod_subtasks *sub,
              int draws, fl_cs_stats *st) {
    fl_mod_examples ex;
    int *count = malloc(sizeof(int) * (size_t)sub->k), rc = -1;
    if (!count) return fl_error_set("circuit stability: out of memory");
    if ((rc = fl_mod_examples_build(d, sub, &ex, count)) != 0) {
        free(count);
        return rc;
    }
    rc = -1;
    const int nc = edges ? fl_eap_nedges(m) : fl_ap_tf_ncomponents(m);
    float *scores = malloc(sizeof(float) * (size_t)ex.n * nc);
    if (!scores) fl_error_set("circuit stability: out of memory for %d x %d scores", ex.n, nc);
    else if (fl_tf_scores(m, o, edges, ex.tok, fl_ap_corrupt_is_input(o->corrupt) ? ex.tokc : NULL, ex.target, ex.n,
                          scores) == 0)
        rc = fl_cs_compute(scores, nc, count, sub->k, draws, sub->seed, NULL, NULL, st);
    free(scores), free(count);
    fl_mod_examples_free(&ex);
    return rc;
}

int fl_mod_cs_grok(fl_transformer *m, const fl_modarith *d, int per, uint64_t seed, fl_cs_stats st[2]) {
    const fl_ap_opts o = {.loss = FL_AP_LOSS_KL, .corrupt = FL_AP_CORRUPT_WITHIN, .ig_steps = 5};
    for (int g = 0; g < 2; g++) {
        const fl_mod_subtasks sub = {.kind = g ? FL_MOD_SUB_BY_ANSWER : FL_MOD_SUB_BY_A, .k = d->p, .per = per,
                                     .seed = seed, .corrupt = o.corrupt};
        if (fl_mod_cs(m, d, &o, 0, &sub, FL_MOD_CS_DRAWS, &st[g])) return fl_error_wrap("%s", g ? "by-answer" : "by-a");
    }
    return 0;
}
