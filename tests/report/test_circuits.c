/* test_circuits.c: the circuits measurement of an MLP, start to finish, on
 * the real Fashion test split: every example scored, the circuit vectors
 * are the per-class means of those scores, the Spearman matrix is
 * symmetric with a unit diagonal, the same request gives the same files,
 * and a request that cannot be met (a subtask with one example and
 * within-subtask partners) is refused as such. */
#include "testutil.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/report/circuits.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/npy.h"

#include <math.h>

/* A small random MLP of the tasks' shape, saved in the scratch directory. */
static char *small_model(void) {
    fl_mlp m;
    const int dims[3] = {FL_TASK_DIM, 12, FL_TASK_CLASSES};
    assert_int_equal(fl_mlp_create(&m, 2, dims), 0);
    fl_rng rng;
    fl_rng_init(&rng, 3, FL_STREAM_INIT);
    fl_mlp_init(&m, &rng);
    char *path = tu_scratch("model.safetensors");
    assert_int_equal(fl_mlp_save(path, &m, NULL), 0);
    fl_mlp_free(&m);
    return path;
}

static float *load(const char *dir, const char *name, int64_t *shape) {
    char *path = fl_path_join(dir, name);
    float *data = NULL;
    int ndim = 0;
    assert_int_equal(fl_npy_read(path, &data, &ndim, shape), 0);
    assert_int_equal(ndim, 2);
    free(path);
    return data;
}

static void test_mlp_by_class(void **state) {
    (void)state;
    char *model = small_model(), *out = tu_scratch("c"), *again = tu_scratch("c2");
    fl_circuits_request r;
    fl_circuits_defaults(&r);
    r.model = model, r.out = out, r.task_name = "fashion", r.subtasks = "by-class";
    r.examples = 8, r.seed = 1, r.baseline = 5, r.ap.ig_steps = 3;
    assert_int_equal(fl_circuits_resolve(&r), 0);
    assert_int_equal(r.task, FL_TASK_FASHION);
    assert_int_equal(fl_mkdirs(out), 0);
    assert_int_equal(fl_circuits_run(&r), 0);
    int64_t ss[2], vs[2], rs[2];
    float *scores = load(out, "scores.npy", ss), *vec = load(out, "vectors.npy", vs), *rho = load(out, "spearman.npy", rs);
    /* 10 classes x 8 examples each; one column per component. */
    assert_int_equal(ss[0], 80);
    assert_int_equal(vs[0], 10);
    assert_int_equal(vs[1], ss[1]);
    const int nc = (int)ss[1];
    for (int s = 0; s < 10; s++)
        for (int c = 0; c < nc; c++) {
            double mean = 0;
            for (int i = 0; i < 8; i++) mean += scores[(size_t)(8 * s + i) * nc + c] / 8.0;
            assert_float_equal(vec[(size_t)s * nc + c], mean, 1e-6 * (1 + fabs(mean)));
        }
    for (int i = 0; i < 10; i++) {
        assert_float_equal(rho[i * 10 + i], 1.0, 1e-6);
        for (int j = 0; j < 10; j++) assert_float_equal(rho[i * 10 + j], rho[j * 10 + i], 1e-9);
    }
    /* The same request, the same numbers. */
    r.out = again;
    assert_int_equal(fl_mkdirs(again), 0);
    assert_int_equal(fl_circuits_run(&r), 0);
    int64_t s2[2];
    float *scores2 = load(again, "scores.npy", s2);
    assert_memory_equal(scores, scores2, sizeof(float) * 80 * nc);
    free(scores), free(scores2), free(vec), free(rho);
    /* One example per class cannot have a partner within its class. */
    r.examples = 1;
    assert_int_equal(fl_circuits_run(&r), FL_BAD_REQUEST);
    free(model), free(out), free(again);
}

/* Requests that cannot mean anything are refused before any work. */
static void test_resolve_refuses(void **state) {
    (void)state;
    const char *bad[][4] = {{"fashion", "by-a", "ap-ig", "kl"},       /* by operand on an MLP */
                            {"modarith", "by-class", "ap-ig", "kl"},  /* by class on modarith */
                            {"fashion", "by-class", "ap", "kl"},      /* KL without IG: all zero */
                            {"parity", "by-class", "eap-ig", "kl"}};  /* edges on an MLP */
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fl_circuits_request r;
        fl_circuits_defaults(&r);
        r.model = "m", r.out = "o", r.task_name = bad[i][0], r.subtasks = bad[i][1], r.method = bad[i][2];
        assert_int_equal(fl_circuits_resolve(&r), FL_BAD_REQUEST);
    }
    fl_circuits_request r;
    fl_circuits_defaults(&r);
    r.model = "m", r.out = "o", r.task_name = "modarith", r.subtasks = "random:4", r.method = "eap-ig";
    assert_int_equal(fl_circuits_resolve(&r), 0);
    assert_true(r.modarith && r.edges && r.k == 4 && r.ap.ig_steps == 5);
}

TU_MAIN(TU_SCRATCH_TEST(test_mlp_by_class), cmocka_unit_test(test_resolve_refuses))
