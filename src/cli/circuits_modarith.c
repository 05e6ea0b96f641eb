/* circuits_modarith.c: `forgetlab circuits --task modarith`: circuit
 * vectors of a grok transformer's subtasks (by a, by answer, random
 * groups) over all its equations, by node or edge attribution patching. */
#include "circuits.h"

#include "forgetlab/attribution_tf.h"
#include "forgetlab/checkpoint.h"
#include "forgetlab/circuits_out.h"
#include "forgetlab/error.h"
#include "forgetlab/fileio.h"
#include "forgetlab/grok.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* N of the subtasks' examples, evenly spaced so every subtask is drawn
 * from, scored and patched for real (fl_tfap_patched_changes). */
static int check_patching(const circuits_args *a, fl_transformer *m, const fl_mod_examples *ex) {
    const int T = m->cfg.ctx, nc = fl_tfap_ncomponents(m);
    const int n = a->check_patching < ex->n ? (int)a->check_patching : ex->n;
    int *tok = malloc(sizeof(int) * (size_t)n * T), *tokc = malloc(sizeof(int) * (size_t)n * T);
    int *target = malloc(sizeof(int) * n), rc = -1;
    float *score = malloc(sizeof(float) * (size_t)n * nc), *change = malloc(sizeof(float) * (size_t)n * nc);
    double pairs, means;
    if (!tok || !tokc || !target || !score || !change) {
        fl_error_set("--check-patching: out of memory for %d examples", n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const int e = (int)((long)i * ex->n / n);
        memcpy(tok + (size_t)i * T, ex->tok + (size_t)e * T, sizeof(int) * T);
        memcpy(tokc + (size_t)i * T, ex->tokc + (size_t)e * T, sizeof(int) * T);
        target[i] = ex->target[e];
    }
    if (fl_tfap_scores(m, &a->ap, tok, tokc, target, n, score) ||
        fl_tfap_patched_changes(m, &a->ap, tok, tokc, target, n, change) ||
        fl_circuits_write_patching(a->out, n, nc, score, change, &pairs, &means))
        goto out;
    fprintf(stderr, "circuits: attribution against real patching on %d examples x %d components: Spearman %.4f over pairs, "
           "%.4f over the components' means -> %s/patching.json\n", n, nc, pairs, means, a->out);
    rc = 0;
out:
    free(tok), free(tokc), free(target), free(score), free(change);
    return rc;
}

static void node_name(const void *m, int c, char *buf, int n) { fl_tfap_component_name(m, c, buf, n); }
static void edge_name(const void *m, int e, char *buf, int n) { fl_eap_edge_name(m, e, buf, n); }

int fl_circuits_modarith(circuits_args *a) {
    fl_transformer m = {0};
    fl_modarith d = {0};
    fl_mod_examples ex = {0};
    char *cfg = NULL, (*names)[32] = NULL, spec[256];
    const char **np = NULL;
    float *vec = NULL, *mean = NULL, *scores = NULL;
    double *rho = NULL;
    int *count = NULL, rc = -1;
    fl_mod_subtasks sub = {.per = (int)a->examples, .seed = (uint64_t)a->seed, .corrupt = a->ap.corrupt};
    if (fl_tf_load(a->model, &m, &cfg) || fl_grok_dataset(a->model, cfg, &d)) goto out;
    if (fl_mod_subtasks_parse(a->subtasks, d.p, &sub)) {
        rc = FL_BAD_REQUEST;
        goto out;
    }
    const int k = sub.k, nc = a->edges ? fl_eap_nedges(&m) : fl_tfap_ncomponents(&m);
    vec = malloc(sizeof(float) * (size_t)k * nc), rho = malloc(sizeof(double) * (size_t)k * k);
    count = malloc(sizeof(int) * k), names = malloc(sizeof *names * k), np = malloc(sizeof *np * k);
    if (!vec || !rho || !count || !names || !np) {
        fl_error_set("out of memory");
        goto out;
    }
    if (a->ap.corrupt == FL_AP_CORRUPT_MEAN) {
        if (!(mean = malloc(sizeof(float) * fl_tfap_nacts(&m))) || fl_tfap_mean_acts(&m, d.tok, d.n, mean)) goto out;
        a->ap.mean_acts = mean;
    }
    /* The examples once: the circuit vectors and the patching check share them. */
    if ((rc = fl_mod_examples_build(&d, &sub, &ex, count)) != 0) goto out;
    rc = -1;
    if (!(scores = malloc(sizeof(float) * (size_t)ex.n * nc))) {
        fl_error_set("out of memory for %d x %d scores", ex.n, nc);
        goto out;
    }
    const int cf = fl_ap_corrupt_is_input(a->ap.corrupt);
    fl_cs_stats st;
    if (fl_tf_scores(&m, &a->ap, a->edges, ex.tok, cf ? ex.tokc : NULL, ex.target, ex.n, scores) ||
        fl_cs_compute(scores, nc, count, k, (int)a->baseline, (uint64_t)a->seed, vec, rho, &st))
        goto out;
    for (int s = 0; s < k; s++) {
        if (sub.kind == FL_MOD_SUB_RANDOM) snprintf(names[s], sizeof names[s], "group %d", s);
        else snprintf(names[s], sizeof names[s], "%s=%d", sub.kind == FL_MOD_SUB_BY_A ? "a" : "c", s);
        np[s] = names[s];
    }
    fl_tf_spec_string(&m.cfg, spec, sizeof spec);
    const fl_circuits_result res = {.model_path = a->model, .task = "modarith", .spec = spec,
                                    .subtasks = a->subtasks, .method = a->method, .data_dir = NULL, .opts = &a->ap,
                                    .examples = a->examples, .seed = a->seed, .threshold = a->threshold, .k = k,
                                    .names = np, .count = count, .nc = nc,
                                    .name_of = a->edges ? edge_name : node_name, .model = &m, .scores = scores, .vec = vec,
                                    .rho = rho, .stats = &st};
    if (fl_mkdirs(a->out) || fl_circuits_write(a->out, &res)) goto out;
    fprintf(stderr, "circuits: modarith, %d subtasks x %d %s, CS = %.4f (random splits %.4f [%.4f, %.4f]) -> %s\n", k, nc,
           a->edges ? "edges" : "components", st.cs, st.random.mean, st.random.lo, st.random.hi, a->out);
    if (a->check_patching && check_patching(a, &m, &ex)) goto out;
    rc = 0;
out:
    free(cfg), free(names), free(np), free(vec), free(mean), free(rho), free(count), free(scores);
    fl_mod_examples_free(&ex);
    fl_modarith_free(&d);
    fl_tf_free(&m);
    return rc;
}
