/* test_attribution_tf.c: transformer attribution patching against real
 * activation patching.
 *
 * First order: with a' = a + eps * dir for one component, its node score
 * must equal the actually patched loss change up to O(eps^2), so the
 * relative error must shrink as eps does (checked for a head, the MLP and a
 * neuron, in a 2-layer model). Exactness: the logits are linear in the last
 * MLP's output, so with the logit-difference loss its score is the patched
 * change itself. Edges: a node's writes are read by the nodes after it and
 * by nothing else, so the EAP scores of its outgoing edges sum to its node
 * score (same corruption), exactly. */
#include "testutil.h"

#include "forgetlab/measure/attribution_tf.h"
#include "forgetlab/core/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { V = 7, T = 3 };

/* A model of the given depth, initialised from seed (fl_tf_free it). */
static fl_transformer make_model(int layers, uint64_t seed) {
    fl_tf_config c = {.vocab = V + 1, .n_out = V, .ctx = T, .n_layers = layers, .d_model = 16, .n_heads = 4,
                      .d_mlp = 24, .act = FL_TF_RELU, .layernorm = 0, .loss_last = 1};
    fl_transformer m;
    assert_int_equal(fl_tf_create(&m, &c), 0);
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_INIT);
    fl_tf_init(&m, FL_TF_INIT_TORCH, &r);
    return m;
}

/* n examples ([n, T] tokens each, the last one "="), their
 * counterfactuals and their targets. */
enum { NMAX = 40 };
typedef struct {
    int n, tok[NMAX * T], tokc[NMAX * T], target[NMAX];
} examples;

/* n sums a + b with their counterfactuals: b changed, and a too when
 * both is set. */
static examples make_examples(int n, int both) {
    assert_true(n <= NMAX);
    examples e = {.n = n};
    for (int i = 0; i < n; i++) {
        int *tok = e.tok + i * T, *tokc = e.tokc + i * T;
        tok[0] = i % V, tok[1] = (3 * i + 1) % V, tok[2] = V;
        tokc[0] = both ? (i + 2) % V : tok[0], tokc[1] = (5 * i + 4) % V, tokc[2] = V;
        e.target[i] = (tok[0] + tok[1]) % V;
    }
    return e;
}

/* fl_ap_tf_scores of the examples against their counterfactuals (n * the
 * number of components), malloc'ed. */
static float *node_scores(fl_transformer *m, const fl_ap_opts *o, const examples *ex) {
    float *s = malloc(sizeof(float) * ex->n * fl_ap_tf_ncomponents(m));
    assert_int_equal(fl_ap_tf_scores(m, o, ex->tok, ex->tokc, ex->target, ex->n, s), 0);
    return s;
}

/* fl_eap_scores likewise (n * the number of edges), malloc'ed. */
static float *edge_scores(fl_transformer *m, const fl_ap_opts *o, const examples *ex) {
    float *s = malloc(sizeof(float) * ex->n * fl_eap_nedges(m));
    assert_int_equal(fl_eap_scores(m, o, ex->tok, ex->tokc, ex->target, ex->n, s), 0);
    return s;
}

/* The stacked clean activations of one example (a mean over one). */
static float *clean_acts(fl_transformer *m, const int *tok) {
    float *a = malloc(sizeof(float) * fl_ap_tf_nacts(m));
    assert_int_equal(fl_ap_tf_mean_acts(m, tok, 1, a), 0);
    return a;
}

/* Index in the stacked vector of component c's values, and their count. */
static void component_slice(const fl_transformer *m, int c, size_t *off, int *count, int *stride, int *width) {
    int l, idx;
    fl_tf_component k;
    fl_ap_tf_component(m, c, &l, &k, &idx);
    const int d = m->cfg.d_model, dm = m->cfg.d_mlp;
    size_t base = 0;
    for (int j = 0; j < l; j++) base += (size_t)T * (2 * d + dm);
    const int Tq = l == m->cfg.n_layers - 1 ? 1 : T;
    if (k == FL_TF_HEAD) *off = base + (size_t)idx * m->d_head, *width = m->d_head, *stride = d;
    else if (k == FL_TF_MLP) *off = base + (size_t)Tq * d, *width = d, *stride = d;
    else *off = base + 2 * (size_t)Tq * d + idx, *width = 1, *stride = dm;
    *count = Tq;
}

/* |score - patched change| / |patched change| for a' = a + eps * dir. */
static double first_order_error(fl_transformer *m, int c, fl_ap_loss loss, double eps, double *change_out) {
    const int tok[T] = {2, 5, V}, target[1] = {3};
    float *a = clean_acts(m, tok), *ap = malloc(sizeof(float) * fl_ap_tf_nacts(m));
    memcpy(ap, a, sizeof(float) * fl_ap_tf_nacts(m));
    size_t off;
    int count, stride, width;
    component_slice(m, c, &off, &count, &stride, &width);
    float *values = malloc(sizeof(float) * count * width);
    fl_rng r;
    fl_rng_init(&r, 99, FL_STREAM_EVAL);
    for (int t = 0; t < count; t++)
        for (int j = 0; j < width; j++) {
            size_t at = off + (size_t)t * stride + j;
            /* Not at a ReLU kink: a zero neuron stays at zero's side. */
            ap[at] = a[at] + (float)(eps * (0.5 + fl_rng_double(&r)));
            values[t * width + j] = ap[at];
        }
    fl_ap_opts o = {.loss = loss, .corrupt = FL_AP_CORRUPT_MEAN, .mean_acts = ap};
    int nc = fl_ap_tf_ncomponents(m), l, idx;
    float *scores = malloc(sizeof(float) * nc), clean, patched;
    assert_int_equal(fl_ap_tf_scores(m, &o, tok, NULL, target, 1, scores), 0);
    fl_tf_component k;
    fl_ap_tf_component(m, c, &l, &k, &idx);
    fl_tf_patch p = {.layer = l, .kind = k, .index = idx, .values = values};
    assert_int_equal(fl_ap_tf_patched_loss(m, loss, tok, target, NULL, 1, NULL, &clean), 0);
    assert_int_equal(fl_ap_tf_patched_loss(m, loss, tok, target, NULL, 1, &p, &patched), 0);
    double change = (double)patched - clean, err = fabs(scores[c] - change) / fmax(fabs(change), 1e-30);
    if (change_out) *change_out = change;
    free(a), free(ap), free(values), free(scores);
    return err;
}

static void test_first_order(void **state) {
    (void)state;
    fl_transformer m = make_model(2, 5);
    const int H = m.cfg.n_heads, per = H + 1 + m.cfg.d_mlp;
    /* A head and the MLP of block 0 (everything downstream is non-linear),
     * a head of block 1, and a neuron of each block. */
    const int comps[] = {1, H, per + 2, H + 1 + 3, per + H + 1 + 5};
    for (size_t i = 0; i < sizeof comps / sizeof *comps; i++) {
        double e1 = first_order_error(&m, comps[i], FL_AP_LOSS_CE, 1e-1, NULL);
        double e2 = first_order_error(&m, comps[i], FL_AP_LOSS_CE, 1e-2, NULL);
        char name[64];
        fl_ap_tf_component_name(&m, comps[i], name, sizeof name);
        if (getenv("ATTRIBUTION_VERBOSE")) print_message("%-28s relative error %.3g (eps 0.1), %.3g (eps 0.01)\n", name, e1, e2);
        if (!(e2 < 0.05 && e2 < e1 * 0.5))
            fail_msg("%s: relative error %.3g at eps 0.1, %.3g at eps 0.01: not first order", name, e1, e2);
    }
    fl_tf_free(&m);
}

static void test_linear_component_is_exact(void **state) {
    (void)state;
    fl_transformer m = make_model(1, 6);
    double change, err = first_order_error(&m, m.cfg.n_heads, FL_AP_LOSS_LOGIT_DIFF, 1e-2, &change);
    assert_true(fabs(change) > 1e-4);
    if (getenv("ATTRIBUTION_VERBOSE")) print_message("MLP output, logit difference: relative error %.3g\n", err);
    if (!(err < 1e-3)) fail_msg("MLP output, logit difference: relative error %.3g, expected exact", err);
    fl_tf_free(&m);
}

static void test_edges_sum_to_nodes(void **state) {
    (void)state;
    fl_transformer m = make_model(2, 7);
    const examples ex = make_examples(5, 1);
    fl_ap_opts o = {.loss = FL_AP_LOSS_CE, .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL};
    const int nc = fl_ap_tf_ncomponents(&m), ne = fl_eap_nedges(&m), H = m.cfg.n_heads;
    float *node = node_scores(&m, &o, &ex), *edge = edge_scores(&m, &o, &ex);
    /* The embedding feeds all 27 readers; block 0's heads feed its MLP and
     * the 14 readers of block 1 and the unembedding; block 0's MLP those
     * 14; block 1's heads its MLP and the unembedding; its MLP the last. */
    assert_int_equal(ne, 27 + 4 * 15 + 14 + 4 * 2 + 1);
    for (int l = 0; l < 2; l++)
        for (int h = 0; h <= H; h++) {
            char up[64], name[160];
            if (h < H) snprintf(up, sizeof up, "blocks.%d.attn.head.%d->", l, h);
            else snprintf(up, sizeof up, "blocks.%d.mlp->", l);
            const int c = l * (H + 1 + m.cfg.d_mlp) + h;
            for (int b = 0; b < ex.n; b++) {
                double sum = 0;
                for (int e = 0; e < ne; e++) {
                    fl_eap_edge_name(&m, e, name, sizeof name);
                    if (strncmp(name, up, strlen(up)) == 0) sum += edge[b * ne + e];
                }
                double want = node[b * nc + c];
                if (!(fabs(sum - want) <= 1e-4 * fmax(1.0, fabs(want))))
                    fail_msg("%s* edges sum to %.7g, node score %.7g (example %d)", up, sum, want, b);
            }
        }
    char name[160];
    fl_eap_edge_name(&m, 0, name, sizeof name);
    assert_string_equal(name, "embed->blocks.0.attn.head.0.q");
    fl_eap_edge_name(&m, ne - 1, name, sizeof name);
    assert_string_equal(name, "blocks.1.mlp->unembed");
    free(node), free(edge);
    fl_tf_free(&m);
}

/* Batched real patching of every node (fl_ap_tf_patched_changes) against
 * one patched pass per example and node, whose values come from that
 * example's counterfactual run through this file's own slicing; and the
 * last MLP's score under the logit difference equals its change. */
static void test_patched_changes(void **state) {
    (void)state;
    fl_transformer m = make_model(2, 8);
    const examples ex = make_examples(5, 0);
    const int nc = fl_ap_tf_ncomponents(&m);
    float *change = malloc(sizeof(float) * ex.n * nc);
    fl_ap_opts o = {.loss = FL_AP_LOSS_LOGIT_DIFF, .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL};
    assert_int_equal(fl_ap_tf_patched_changes(&m, &o, ex.tok, ex.tokc, ex.target, ex.n, change), 0);
    float *score = node_scores(&m, &o, &ex);
    for (int b = 0; b < ex.n; b++) {
        float *cf = clean_acts(&m, ex.tokc + b * T), clean, patched;
        assert_int_equal(fl_ap_tf_patched_loss(&m, o.loss, ex.tok + b * T, ex.target + b, NULL, 1, NULL, &clean), 0);
        for (int c = 0; c < nc; c++) {
            size_t off;
            int count, stride, width, l, idx;
            component_slice(&m, c, &off, &count, &stride, &width);
            float values[3 * 16];
            for (int t = 0; t < count; t++)
                for (int j = 0; j < width; j++) values[t * width + j] = cf[off + (size_t)t * stride + j];
            fl_tf_component k;
            fl_ap_tf_component(&m, c, &l, &k, &idx);
            fl_tf_patch p = {.layer = l, .kind = k, .index = idx, .values = values};
            assert_int_equal(fl_ap_tf_patched_loss(&m, o.loss, ex.tok + b * T, ex.target + b, NULL, 1, &p, &patched), 0);
            const double want = (double)patched - clean, got = change[b * nc + c];
            if (!(fabs(got - want) <= 1e-5 * fmax(1.0, fabs(want))))
                fail_msg("node %d, example %d: batched change %.7g, single patch %.7g", c, b, got, want);
        }
        const int last_mlp = nc - 1 - m.cfg.d_mlp;
        const double s = score[b * nc + last_mlp], ch = change[b * nc + last_mlp];
        if (!(fabs(s - ch) <= 1e-4 * fmax(1.0, fabs(ch))))
            fail_msg("last MLP, example %d: score %.7g, patched change %.7g (linear: exact)", b, s, ch);
        free(cf);
    }
    free(change), free(score);
    fl_tf_free(&m);
}

/* EAP-IG with one step evaluates the gradient at the clean input: plain
 * EAP. With more steps it differs, and stays finite. */
static void test_eap_ig(void **state) {
    (void)state;
    fl_transformer m = make_model(1, 8);
    const examples ex = {.n = 4,
                         .tok = {1, 2, V, 3, 0, V, 6, 6, V, 2, 5, V},
                         .tokc = {1, 4, V, 3, 1, V, 6, 2, V, 2, 0, V},
                         .target = {3, 3, 5, 0}};
    const int ne = fl_eap_nedges(&m);
    fl_ap_opts o = {.loss = FL_AP_LOSS_CE, .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL};
    float *eap = edge_scores(&m, &o, &ex);
    o.ig_steps = 1;
    float *ig1 = edge_scores(&m, &o, &ex);
    o.ig_steps = 5;
    float *ig5 = edge_scores(&m, &o, &ex);
    double diff = 0;
    for (int i = 0; i < ex.n * ne; i++) {
        if (!(fabs(ig1[i] - eap[i]) <= 1e-5 * fmax(1.0, fabs(eap[i]))))
            fail_msg("edge %d: EAP-IG with 1 step %.7g, EAP %.7g", i % ne, ig1[i], eap[i]);
        assert_true(isfinite(ig5[i]));
        diff += fabs(ig5[i] - eap[i]);
    }
    assert_true(diff > 1e-6);
    free(eap), free(ig1), free(ig5);
    fl_tf_free(&m);
}

/* AP-IG on the transformer. In a 1-layer model the last position's
 * residual stream is the "=" token's embedding (the same in x and x'), the
 * heads' outputs and the MLP's, whose input is that embedding plus the
 * heads' outputs: every path from a changed input to the output passes
 * through the heads, so their scores together sum to L(x') - L(x) in the
 * path form (completeness). The MLP's neurons sum to the MLP's score (its
 * output is linear in them). With one step the averaged form is plain AP. */
static void test_ig_nodes(void **state) {
    (void)state;
    enum { N = 40 };
    fl_transformer m = make_model(1, 8);
    const examples ex = make_examples(N, 1);
    const int H = m.cfg.n_heads, nc = fl_ap_tf_ncomponents(&m);
    float *s = malloc(sizeof(float) * N * nc), *s1 = malloc(sizeof(float) * N * nc);
    float z[N * V], l0[N], l1[N];
    assert_int_equal(fl_tf_logits(&m, ex.tok, N, z), 0);
    static const fl_ap_loss LOSS[2] = {FL_AP_LOSS_KL, FL_AP_LOSS_CE};
    for (int k = 0; k < 2; k++) {
        fl_ap_opts o = {.loss = LOSS[k], .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL, .ig_steps = 64};
        assert_int_equal(fl_ap_tf_scores(&m, &o, ex.tok, ex.tokc, ex.target, N, s), 0);
        assert_int_equal(fl_ap_tf_patched_loss(&m, LOSS[k], ex.tok, ex.target, z, N, NULL, l0), 0);
        assert_int_equal(fl_ap_tf_patched_loss(&m, LOSS[k], ex.tokc, ex.target, z, N, NULL, l1), 0);
        double err = 0, tot = 0;
        for (int b = 0; b < N; b++) {
            const float *sb = s + (size_t)b * nc;
            double cut = 0, neurons = 0;
            for (int h = 0; h < H; h++) cut += sb[h];
            for (int j = H + 1; j < nc; j++) neurons += sb[j];
            assert_float_equal(neurons, sb[H], 1e-4 * (1 + fabs(sb[H])));
            err += fabs(cut - ((double)l1[b] - l0[b]));
            tot += fabs((double)l1[b] - l0[b]);
        }
        if (getenv("ATTRIBUTION_VERBOSE"))
            print_message("%s: AP-IG (path, M = 64) completeness error %.4g of %.4g\n", fl_ap_loss_name(LOSS[k]), err / tot, tot);
        assert_true(tot > 1e-2 && err / tot < 0.02);
    }
    fl_ap_opts o = {.loss = FL_AP_LOSS_CE, .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL};
    assert_int_equal(fl_ap_tf_scores(&m, &o, ex.tok, ex.tokc, ex.target, N, s), 0);
    o.ig_steps = 1, o.ig_form = FL_IG_AVERAGE;
    assert_int_equal(fl_ap_tf_scores(&m, &o, ex.tok, ex.tokc, ex.target, N, s1), 0);
    for (int i = 0; i < N * nc; i++) assert_float_equal(s[i], s1[i], 1e-5 * (1 + fabsf(s[i])));
    free(s), free(s1);
    fl_tf_free(&m);
}

TU_MAIN(cmocka_unit_test(test_first_order), cmocka_unit_test(test_linear_component_is_exact),
        cmocka_unit_test(test_edges_sum_to_nodes), cmocka_unit_test(test_patched_changes),
        cmocka_unit_test(test_eap_ig), cmocka_unit_test(test_ig_nodes))
