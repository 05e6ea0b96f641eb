/* test_attribution_ig.c: integrated-gradient node attribution (AP-IG) on
 * real inputs: the completeness axiom (a whole layer's scores sum to the
 * path's loss difference L(x') - L(x)) on a small MLP trained here on
 * FashionMNIST, for every loss; AP-IG with one step is plain AP; the KL
 * loss and its reference; and the option checks. */
#include "testutil.h"

#include "forgetlab/measure/attribution.h"
#include "forgetlab/store/checkpoint.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/train/step.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { NTRAIN = 2000, NPROBE = 100 };

static fl_mlp model;
static fl_task_data train, test;

/* A 785-64-32-10 MLP trained for 3 epochs of Adam on 2,000 Fashion images:
 * real, structured inputs and a model that has learned something. */
static int setup(void **state) {
    (void)state;
    const char *dir = getenv("FORGETLAB_DATA");
    if (!dir || fl_task_load(&train, FL_TASK_FASHION, dir, "train") ||
        fl_task_load(&test, FL_TASK_FASHION, dir, "test"))
        return -1;
    /* IG_MODEL=DIR: the same checks on another model (the study's base, say). */
    if (getenv("IG_MODEL") && *getenv("IG_MODEL")) return fl_mlp_load(getenv("IG_MODEL"), &model, NULL);
    if (fl_mlp_create_from_spec(&model, "785-64-32-10")) return -1;
    fl_rng r;
    fl_rng_init(&r, 3, FL_STREAM_INIT);
    fl_mlp_init(&model, &r);
    fl_classifier_step st;
    fl_optim opt;
    fl_optim_adamw(&opt, 0.9f, 0.999f, 1e-8f, 0.0f);
    if (fl_classifier_step_alloc(&st, &model, 100)) return -1;
    for (int epoch = 0; epoch < 3; epoch++)
        for (int i = 0; i + 100 <= NTRAIN; i += 100) {
            fl_blob_zero_grads(&model.blob);
            fl_classifier_ce_step(&model, &st, train.x + (size_t)i * FL_TASK_DIM, train.label + i, NULL, 100);
            fl_optim_step(&opt, &model.blob, 1e-3f);
        }
    fl_classifier_step_free(&st);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    fl_mlp_free(&model);
    fl_task_free(&train);
    fl_task_free(&test);
    return 0;
}

/* The first NPROBE test images, each paired with the next image of the same
 * class (within) or of another class (counterfactual). */
static void probe_inputs(float *x, float *xc, int *label, int same_class) {
    for (int i = 0; i < NPROBE; i++) {
        int j = i + 1;
        while (same_class ? test.label[j] != test.label[i] : test.label[j] == test.label[i]) j++;
        memcpy(x + (size_t)i * FL_TASK_DIM, test.x + (size_t)i * FL_TASK_DIM, sizeof(float) * FL_TASK_DIM);
        memcpy(xc + (size_t)i * FL_TASK_DIM, test.x + (size_t)j * FL_TASK_DIM, sizeof(float) * FL_TASK_DIM);
        label[i] = test.label[i];
    }
}

/* Relative error |sum of a layer's scores - (L(x') - L(x))| / |L(x') - L(x)|,
 * summed over the examples, for each hidden layer (worst of the two). */
static double completeness_error(fl_ap_loss loss, int steps, fl_ig_form form, int same_class, double *path_diff) {
    const int nc = fl_ap_ncomponents(&model), nu = fl_ap_nunits(&model), V = FL_TASK_CLASSES;
    float *x = malloc(sizeof(float) * NPROBE * FL_TASK_DIM), *xc = malloc(sizeof(float) * NPROBE * FL_TASK_DIM);
    float *s = malloc(sizeof(float) * NPROBE * nc), *z = malloc(sizeof(float) * NPROBE * V);
    float *l0 = malloc(sizeof(float) * NPROBE), *l1 = malloc(sizeof(float) * NPROBE);
    int label[NPROBE], target[NPROBE];
    probe_inputs(x, xc, label, same_class);
    assert_int_equal(fl_mlp_logits(&model, x, NPROBE, z), 0);
    fl_ap_targets(FL_TASK_FASHION, z, label, NPROBE, target);
    const fl_ap_opts o = {.loss = loss, .corrupt = FL_AP_CORRUPT_WITHIN, .ig_steps = steps, .ig_form = form};
    assert_int_equal(fl_ap_scores(&model, &o, x, xc, target, NPROBE, s), 0);
    /* L(x) and L(x') with the clean run's target and (KL) reference. */
    assert_int_equal(fl_patch_unit_loss(&model, loss, 0, x, target, z, NPROBE, -1, 0, NULL, l0), 0);
    assert_int_equal(fl_patch_unit_loss(&model, loss, 0, xc, target, z, NPROBE, -1, 0, NULL, l1), 0);
    double diff = 0, worst = 0;
    for (int b = 0; b < NPROBE; b++) diff += fabs((double)l1[b] - l0[b]);
    for (int l = 0; l < model.nlayers - 1; l++) {
        double err = 0;
        for (int b = 0; b < NPROBE; b++) err += fabs(s[(size_t)b * nc + nu + l] - ((double)l1[b] - l0[b]));
        if (getenv("ATTRIBUTION_VERBOSE")) print_message("   layer %d M=%d: %.4f\n", l, steps, err / diff);
        worst = fmax(worst, err / diff);
    }
    *path_diff = diff;
    free(x), free(xc), free(s), free(z), free(l0), free(l1);
    return worst;
}

/* The completeness axiom: with M = 64 steps the path form's scores of a
 * whole layer sum to L(x') - L(x) within 2% (summed |error| over the
 * examples, relative to the summed |L(x') - L(x)|) on real inputs, for KL
 * (the default), cross-entropy and logit difference, with same-class and
 * other-class partners. */
static void test_completeness(void **state) {
    (void)state;
    static const fl_ap_loss LOSS[3] = {FL_AP_LOSS_KL, FL_AP_LOSS_CE, FL_AP_LOSS_LOGIT_DIFF};
    for (int k = 0; k < 3; k++)
        for (int same = 0; same < 2; same++) {
            double diff, e64 = completeness_error(LOSS[k], 64, FL_IG_PATH, same, &diff);
            if (getenv("ATTRIBUTION_VERBOSE")) completeness_error(LOSS[k], 64, FL_IG_AVERAGE, same, &diff);
            if (getenv("ATTRIBUTION_VERBOSE"))
                print_message("%-10s %-14s path difference %9.4f  relative error M=64 %.4f\n", fl_ap_loss_name(LOSS[k]),
                              same ? "within" : "counterfactual", diff, e64);
            assert_true(fabs(diff) > 1e-3);
            assert_true(e64 < 0.02);
        }
    /* The averaged form with one step takes KL's gradient at the clean
     * point, which is 0: nothing of the path's difference is left. */
    double diff, e1 = completeness_error(FL_AP_LOSS_KL, 1, FL_IG_AVERAGE, 1, &diff);
    assert_true(e1 > 0.5);
}

/* With one step the averaged form takes the gradient at alpha = 1, the
 * clean input: it is plain AP, up to the order of float additions. */
static void test_one_step_is_ap(void **state) {
    (void)state;
    const int nc = fl_ap_ncomponents(&model);
    float *x = malloc(sizeof(float) * NPROBE * FL_TASK_DIM), *xc = malloc(sizeof(float) * NPROBE * FL_TASK_DIM);
    float *a = malloc(sizeof(float) * NPROBE * nc), *b = malloc(sizeof(float) * NPROBE * nc);
    int label[NPROBE];
    probe_inputs(x, xc, label, 0);
    fl_ap_opts o = {.loss = FL_AP_LOSS_CE, .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL, .ig_form = FL_IG_AVERAGE};
    assert_int_equal(fl_ap_scores(&model, &o, x, xc, label, NPROBE, a), 0);
    o.ig_steps = 1;
    assert_int_equal(fl_ap_scores(&model, &o, x, xc, label, NPROBE, b), 0);
    for (int i = 0; i < NPROBE * nc; i++) assert_float_equal(a[i], b[i], 1e-5 * (1 + fabsf(a[i])));
    free(x), free(xc), free(a), free(b);
}

/* KL(p_ref || p) and its gradient p - p_ref against a direct computation;
 * with no reference it is 0 with a zero gradient. */
static void test_kl_loss(void **state) {
    (void)state;
    const float z[4] = {1.0f, -0.5f, 2.0f, 0.0f}, ref[4] = {0.3f, 0.2f, -1.0f, 0.7f};
    float l, dz[4];
    int t = 0;
    fl_ap_loss_eval(FL_AP_LOSS_KL, 0, z, &t, ref, 1, 4, &l, dz);
    double pz[4], pr[4], sz = 0, sr = 0, kl = 0;
    for (int j = 0; j < 4; j++) sz += exp(z[j]), sr += exp(ref[j]);
    for (int j = 0; j < 4; j++) pz[j] = exp(z[j]) / sz, pr[j] = exp(ref[j]) / sr, kl += pr[j] * log(pr[j] / pz[j]);
    assert_float_equal(l, kl, 1e-6);
    for (int j = 0; j < 4; j++) assert_float_equal(dz[j], pz[j] - pr[j], 1e-6);
    fl_ap_loss_eval(FL_AP_LOSS_KL, 0, z, &t, NULL, 1, 4, &l, dz);
    assert_float_equal(l, 0, 0);
    for (int j = 0; j < 4; j++) assert_float_equal(dz[j], 0, 0);
}

/* What cannot mean anything is refused with a reason. */
static void test_checks(void **state) {
    (void)state;
    fl_ap_opts o = {.loss = FL_AP_LOSS_KL, .corrupt = FL_AP_CORRUPT_WITHIN};
    assert_int_equal(fl_ap_check(&o, 1), -1); /* KL without IG */
    o.ig_steps = 5;
    assert_int_equal(fl_ap_check(&o, 1), 0);
    assert_int_equal(fl_ap_check(&o, 0), -1); /* an input corruption without inputs */
    o.corrupt = FL_AP_CORRUPT_ZERO;
    assert_int_equal(fl_ap_check(&o, 0), -1); /* IG needs a path from x' */
    o.ig_steps = 0, o.loss = FL_AP_LOSS_CE;
    assert_int_equal(fl_ap_check(&o, 0), 0);
}

TU_MAIN_WITH(setup, teardown,
             cmocka_unit_test(test_kl_loss), cmocka_unit_test(test_checks), cmocka_unit_test(test_completeness),
             cmocka_unit_test(test_one_step_is_ap))
