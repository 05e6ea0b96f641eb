/* test_mlp_torch.c: the C MLP, losses and optimizers against PyTorch.
 *
 * mlp_fixture.safetensors (made by make_mlp_fixture.py in this folder) holds
 * a 13-7-5-4 network, a batch, and what PyTorch computes from them: logits,
 * hard- and soft-target cross-entropy with their gradients w.r.t. every
 * parameter and the input, the params after one AdamW step and after three
 * SGD-momentum steps. test_layers.c checks each layer against finite
 * differences; this test checks that the pieces, chained, agree with the
 * framework whose conventions forgetlab promises to follow (weight layout,
 * naming, mean reduction, 0*log 0, decoupled weight decay, momentum buffer
 * start).
 *
 * Tolerance: |got - want| <= 1e-5 * |want|, with an absolute floor of 1e-6
 * for values near zero (a gradient entry of 1e-8 computed in a different
 * summation order cannot be expected to agree to 5 significant digits).
 * Set MLP_TORCH_VERBOSE=1 to print, per tensor, the worst error as a
 * fraction of its limit: how much headroom the tolerance has. */
#include "testutil.h"

#include "forgetlab/core/blob.h"
#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/io/safetensors.h"
#include "forgetlab/train/step.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE "mlp_fixture.safetensors"
#define SPEC "13-7-5-4"
#define RTOL 1e-5
#define ATOL 1e-6

typedef struct {
    fl_safetensors st;
    int B, in, V;
    const float *x, *q;
    int *y;
} fixture;

static fixture g_fx;

/* The named tensor, which must exist and have exactly numel values. */
static const float *tensor(const char *name, int64_t numel) {
    const fl_st_tensor *t = fl_safetensors_get(&g_fx.st, name);
    if (!t) fail_msg("fixture has no tensor '%s'", name);
    if (t->numel != numel)
        fail_msg("fixture tensor '%s': %lld values, expected %lld", name,
                 (long long)t->numel, (long long)numel);
    return t->data;
}

static void assert_all_close(const float *got, const float *want, size_t n, const char *what) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        double lim = fmax(RTOL * fabs((double)want[i]), ATOL);
        if (!(err <= lim))
            fail_msg("%s[%zu]: got %.9g, want %.9g (|diff| %.3g > %.3g)", what, i,
                     (double)got[i], (double)want[i], err, lim);
        if (err / lim > worst) worst = err / lim;
    }
    if (getenv("MLP_TORCH_VERBOSE")) print_message("%-28s worst err/limit %.3g\n", what, worst);
}

static int setup(void **state) {
    (void)state;
    memset(&g_fx, 0, sizeof g_fx);
    if (fl_safetensors_read(FIXTURE, &g_fx.st)) {
        fprintf(stderr, "%s\n", fl_error_msg());
        return -1;
    }
    const char *spec = fl_safetensors_meta(&g_fx.st, "spec");
    if (!spec || strcmp(spec, SPEC)) {
        fprintf(stderr, "%s: spec '%s', expected '%s'\n", FIXTURE, spec ? spec : "(none)", SPEC);
        return -1;
    }
    const fl_st_tensor *x = fl_safetensors_get(&g_fx.st, "x");
    const fl_st_tensor *y = fl_safetensors_get(&g_fx.st, "y");
    const fl_st_tensor *q = fl_safetensors_get(&g_fx.st, "q");
    if (!x || !y || !q || x->ndim != 2 || q->ndim != 2 || y->numel != x->shape[0] ||
        q->shape[0] != x->shape[0]) {
        fprintf(stderr, "%s: x, y, q missing or inconsistent\n", FIXTURE);
        return -1;
    }
    g_fx.B = (int)x->shape[0];
    g_fx.in = (int)x->shape[1];
    g_fx.V = (int)q->shape[1];
    g_fx.x = x->data;
    g_fx.q = q->data;
    /* Labels travel as F32 (the reader is F32-only): they must be exact
     * small integers. */
    g_fx.y = malloc((size_t)g_fx.B * sizeof(int));
    if (!g_fx.y) return -1;
    for (int b = 0; b < g_fx.B; b++) {
        float v = y->data[b];
        if (v != floorf(v) || v < 0 || v >= (float)g_fx.V) {
            fprintf(stderr, "%s: label %d is %g\n", FIXTURE, b, (double)v);
            return -1;
        }
        g_fx.y[b] = (int)v;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    free(g_fx.y);
    fl_safetensors_free(&g_fx.st);
    return 0;
}

/* A 13-7-5-4 model holding the fixture's initial weights, copied by view
 * name so a naming or layout disagreement fails here, loudly. */
static void load_model(fl_mlp *m) {
    assert_int_equal(fl_mlp_create_from_spec(m, SPEC), 0);
    assert_int_equal(m->dims[0], g_fx.in);
    assert_int_equal(m->dims[m->nlayers], g_fx.V);
    for (int v = 0; v < m->blob.nviews; v++) {
        const fl_view *vw = &m->blob.views[v];
        const fl_st_tensor *t = fl_safetensors_get(&g_fx.st, vw->name);
        if (!t) fail_msg("fixture has no tensor '%s'", vw->name);
        assert_int_equal(t->ndim, vw->ndim);
        for (int d = 0; d < vw->ndim; d++) assert_int_equal(t->shape[d], vw->shape[d]);
        memcpy(fl_blob_param(&m->blob, v), t->data, vw->numel * sizeof(float));
    }
}

/* PyTorch's "<prefix>.<name of view v>", that name written to name. */
static const float *ref_view(const fl_mlp *m, int v, const char *prefix, char *name, size_t n) {
    const fl_view *vw = &m->blob.views[v];
    snprintf(name, n, "%s.%s", prefix, vw->name);
    return tensor(name, (int64_t)vw->numel);
}

/* Every view of the model, as view (fl_blob_param or fl_blob_grad) gives
 * it, against PyTorch's "<prefix>.<view name>". */
static void check_views(const fl_mlp *m, float *(*view)(const fl_blob *, int), const char *prefix) {
    char name[FL_NAME_MAX + 32];
    for (int v = 0; v < m->blob.nviews; v++) {
        const float *want = ref_view(m, v, prefix, name, sizeof name);
        assert_all_close(view(&m->blob, v), want, m->blob.views[v].numel, name);
    }
}

/* Sets the model's gradients to PyTorch's "<prefix>.<view name>", so the
 * optimizer checks do not inherit any float noise of the backward pass. */
static void set_grads(fl_mlp *m, const char *prefix) {
    char name[FL_NAME_MAX + 32];
    for (int v = 0; v < m->blob.nviews; v++)
        memcpy(fl_blob_grad(&m->blob, v), ref_view(m, v, prefix, name, sizeof name),
               m->blob.views[v].numel * sizeof(float));
}

static void test_forward(void **state) {
    (void)state;
    fl_mlp m;
    fl_mlp_acts a;
    load_model(&m);
    assert_int_equal(fl_mlp_acts_alloc(&a, &m, g_fx.B), 0);
    const float *z = fl_mlp_forward(&m, &a, g_fx.x, g_fx.B);
    assert_all_close(z, tensor("logits", (int64_t)g_fx.B * g_fx.V), (size_t)g_fx.B * g_fx.V,
                     "logits");
    /* The chunked no-grad path must give the same logits. */
    float *z2 = malloc((size_t)g_fx.B * g_fx.V * sizeof(float));
    assert_int_equal(fl_mlp_logits(&m, g_fx.x, g_fx.B, z2), 0);
    assert_all_close(z2, tensor("logits", (int64_t)g_fx.B * g_fx.V), (size_t)g_fx.B * g_fx.V,
                     "fl_mlp_logits");
    free(z2);
    fl_mlp_acts_free(&a);
    fl_mlp_free(&m);
}

/* Forward, log-softmax, the loss and its backward, the MLP backward with the
 * input gradient: the same chain fl_classifier_ce_step runs, spelled out so dinp
 * can be checked too. soft == NULL: hard labels. */
static void check_loss_chain(const float *soft, const char *loss_name, const char *prefix) {
    const int B = g_fx.B, V = g_fx.V, in = g_fx.in;
    fl_mlp m;
    fl_mlp_acts a;
    load_model(&m);
    assert_int_equal(fl_mlp_acts_alloc(&a, &m, B), 0);
    float *probs = calloc((size_t)B * V, sizeof(float));
    float *logp = calloc((size_t)B * V, sizeof(float));
    float *dlogits = calloc((size_t)B * V, sizeof(float));
    float *dx = calloc((size_t)B * in, sizeof(float));

    fl_blob_zero_grads(&m.blob);
    const float *z = fl_mlp_forward(&m, &a, g_fx.x, B);
    fl_softmax_forward(probs, z, B, V);
    fl_log_softmax_forward(logp, z, B, V);
    float loss;
    if (soft) {
        loss = fl_soft_crossentropy_forward(NULL, logp, soft, B, V);
        fl_soft_crossentropy_backward(dlogits, probs, soft, B, V, 1.0f / (float)B);
    } else {
        loss = fl_crossentropy_forward(NULL, logp, g_fx.y, B, V);
        fl_crossentropy_backward(dlogits, probs, g_fx.y, B, V, 1.0f / (float)B);
    }
    fl_mlp_backward(&m, &a, dlogits, dx, B);

    assert_all_close(&loss, tensor(loss_name, 1), 1, loss_name);
    check_views(&m, fl_blob_grad, prefix);
    char xname[64];
    snprintf(xname, sizeof xname, "%s.x", prefix);
    assert_all_close(dx, tensor(xname, (int64_t)B * in), (size_t)B * in, xname);

    /* The packaged step must agree with the chain above. */
    fl_classifier_step s;
    assert_int_equal(fl_classifier_step_alloc(&s, &m, B), 0);
    fl_blob_zero_grads(&m.blob);
    float loss2 = fl_classifier_ce_step(&m, &s, g_fx.x, soft ? NULL : g_fx.y, soft, B);
    assert_all_close(&loss2, tensor(loss_name, 1), 1, "fl_classifier_ce_step loss");
    check_views(&m, fl_blob_grad, prefix);
    fl_classifier_step_free(&s);

    free(probs);
    free(logp);
    free(dlogits);
    free(dx);
    fl_mlp_acts_free(&a);
    fl_mlp_free(&m);
}

static void test_hard_ce(void **state) {
    (void)state;
    check_loss_chain(NULL, "loss_hard", "grad_hard");
}

static void test_soft_ce(void **state) {
    (void)state;
    /* The fixture's q has a row with an exact zero, so this also covers the
     * 0 * log p = 0 convention against PyTorch's q * log_softmax. */
    check_loss_chain(g_fx.q, "loss_soft", "grad_soft");
}

/* The fixture's model with zeroed optimizer moments, as the optimizer
 * references start. */
static void load_model_for_optim(fl_mlp *m) {
    load_model(m);
    fl_blob_zero_moments(&m->blob);
}

static void test_adamw(void **state) {
    (void)state;
    fl_mlp m;
    fl_optim o;
    load_model_for_optim(&m);
    set_grads(&m, "grad_hard");
    fl_optim_adamw(&o, 0.9f, 0.999f, 1e-8f, 0.1f);
    fl_optim_step(&o, &m.blob, 1e-2f);
    check_views(&m, fl_blob_param, "adamw");
    fl_mlp_free(&m);
}

static void test_sgd_momentum(void **state) {
    (void)state;
    fl_mlp m;
    fl_optim o;
    load_model_for_optim(&m);
    fl_optim_sgd(&o, 0.9f, 0.01f);
    /* Three steps on the same fixed gradient: the first initialises the
     * momentum buffer, the next two exercise buf = mu*buf + g with the
     * weight decay term changing as the params move. */
    for (int t = 0; t < 3; t++) {
        set_grads(&m, "grad_hard");
        fl_optim_step(&o, &m.blob, 0.1f);
    }
    check_views(&m, fl_blob_param, "sgd");
    fl_mlp_free(&m);
}

TU_MAIN_WITH(setup, teardown,
             cmocka_unit_test(test_forward), cmocka_unit_test(test_hard_ce), cmocka_unit_test(test_soft_ce),
             cmocka_unit_test(test_adamw), cmocka_unit_test(test_sgd_momentum))
