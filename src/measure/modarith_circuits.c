/* modarith_circuits.c: circuit vectors of a transformer trained on modular
 * arithmetic, per subtask (by a, by answer, random groups), with
 * counterfactuals that change one operand (attribution_tf.h). */
#include "forgetlab/attribution_tf.h"

#include "forgetlab/error.h"
#include "forgetlab/rng.h"

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
    /* Subtasks become contiguous runs of examples. */
    for (int s = 0; s < k; s++)
        for (int j = 0; j < count[s]; j++, n++) {
            const int e = idx[s * per + j], bpos = d->nops == 1 ? 1 : 2;
            memcpy(ex->tok + (size_t)n * T, d->tok + (size_t)e * T, sizeof(int) * T);
            memcpy(ex->tokc + (size_t)n * T, d->tok + (size_t)e * T, sizeof(int) * T);
            ex->target[n] = d->y[e];
            int b2;
            do b2 = (int)fl_rng_below(&r, (uint32_t)d->p);
            while (b2 == d->b[e] || fl_mod_apply(d->ops[d->op[e]], d->a[e], b2, d->p) < 0);
            ex->tokc[(size_t)n * T + bpos] = b2;
        }
    ex->n = n;
    for (int s = 0; s < k; s++)
        if (count[s] == 0) {
            fl_error_set("circuit vectors: subtask %d has no examples", s);
            goto out;
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

int fl_mod_circuit_vectors(fl_transformer *m, const fl_modarith *d, const fl_ap_opts *o, int edges,
                           const fl_mod_subtasks *sub, float *vec, int *count) {
    fl_mod_examples ex;
    if (fl_mod_examples_build(d, sub, &ex, count)) return -1;
    int rc = fl_tf_circuit_vectors(m, o, edges, ex.tok, ex.tokc, ex.target, count, sub->k, vec);
    fl_mod_examples_free(&ex);
    return rc;
}
