/* test_trainstate.c: a run's resumable state survives fl_trainstate_save /
 * fl_trainstate_load exactly (weights, moments, RNG streams, counters,
 * doubles, integer and float arrays), and a state of another kind or
 * configuration, or one that lacks an entry the run expects, is refused
 * naming the file and the entry. */
#include "testutil.h"

#include "forgetlab/store/trainstate.h"

#include <math.h>

/* A run's state: a two-tensor blob and one of each other kind of entry. */
typedef struct {
    fl_blob blob;
    long opt_t, step;
    fl_rng rng;
    int order[5];
    double kl, epoch;
    float kept[7];
} run;

static void make_run(run *r, float base) {
    memset(r, 0, sizeof *r);
    fl_blob_init(&r->blob);
    const int s1[2] = {3, 2}, s2[1] = {4};
    assert_true(fl_blob_add(&r->blob, "w", 2, s1) >= 0);
    assert_true(fl_blob_add(&r->blob, "b", 1, s2) >= 0);
    assert_int_equal(fl_blob_alloc(&r->blob), 0);
    for (size_t i = 0; i < r->blob.n; i++)
        r->blob.params[i] = base + (float)i / 3.0f, r->blob.m[i] = -base * (float)i, r->blob.v[i] = base / (1.0f + i);
    r->opt_t = 17, r->step = 123456789L;
    fl_rng_init(&r->rng, 42, 3);
    for (int i = 0; i < 5; i++) r->order[i] = 4 - i;
    r->kl = base ? 0.1 + 1e-17 * base : 0, r->epoch = base ? 1.0 / 3.0 : 0; /* not representable in few digits */
    for (int i = 0; i < 7; i++) r->kept[i] = base ? (float)i * 0.1f + 1e-7f : 0;
}

/* A run and the description of its state that fl_trainstate reads. */
typedef struct {
    run r;
    fl_trainstate s;
    fl_trainstate_rng rng;
    fl_trainstate_long lg;
    fl_trainstate_ints ints;
    fl_trainstate_double dbl[2];
    fl_trainstate_floats fl;
} described;

static void describe(described *d, float base, const char *config) {
    run *r = &d->r;
    make_run(r, base);
    d->rng = (fl_trainstate_rng){"rng", &r->rng};
    d->lg = (fl_trainstate_long){"step", &r->step};
    d->ints = (fl_trainstate_ints){"order", r->order, 5};
    d->dbl[0] = (fl_trainstate_double){"kl", &r->kl}, d->dbl[1] = (fl_trainstate_double){"epoch", &r->epoch};
    d->fl = (fl_trainstate_floats){"kept", r->kept, 7};
    d->s = (fl_trainstate){.kind = "finetune", .config = config, .blob = &r->blob, .opt_t = &r->opt_t,
                           .rngs = &d->rng, .nrngs = 1, .longs = &d->lg, .nlongs = 1, .ints = &d->ints, .nints = 1,
                           .doubles = d->dbl, .ndoubles = 2, .floats = &d->fl, .nfloats = 1};
}

/* A run saved as a (weights from base) and a blank one to load into as b,
 * of one configuration; returns the state file's path. */
static char *pair(described *a, described *b, float base, const char *config) {
    describe(a, base, config);
    describe(b, 0.0f, config);
    return tu_scratch("state.safetensors");
}

static void test_roundtrip(void **state) {
    (void)state;
    static described da, db;
    char *path = pair(&da, &db, 1.5f, "{\"lr\":1}");
    run *a = &da.r, *b = &db.r;
    assert_int_equal(fl_trainstate_load(path, &db.s), 0); /* none yet */
    assert_int_equal(fl_trainstate_save(path, &da.s), 0);
    assert_int_equal(fl_trainstate_load(path, &db.s), 1);
    assert_memory_equal(a->blob.params, b->blob.params, a->blob.n * sizeof(float));
    assert_memory_equal(a->blob.m, b->blob.m, a->blob.n * sizeof(float));
    assert_memory_equal(a->blob.v, b->blob.v, a->blob.n * sizeof(float));
    assert_int_equal(b->opt_t, 17);
    assert_int_equal(b->step, 123456789L);
    assert_memory_equal(&a->rng, &b->rng, sizeof a->rng);
    assert_memory_equal(a->order, b->order, sizeof a->order);
    assert_true(a->kl == b->kl && a->epoch == b->epoch); /* bit for bit */
    assert_memory_equal(a->kept, b->kept, sizeof a->kept);
    fl_blob_free(&a->blob);
    fl_blob_free(&b->blob);
    free(path);
}

/* Saved without the doubles and float arrays a budgeted run expects, or by
 * another kind or configuration: refused, naming what is wrong. */
static void test_refused(void **state) {
    (void)state;
    static described da, db;
    char *path = pair(&da, &db, 2.0f, "{}");
    fl_trainstate *sa = &da.s, *sb = &db.s;
    sa->nfloats = 0;
    assert_int_equal(fl_trainstate_save(path, sa), 0);
    assert_int_equal(fl_trainstate_load(path, sb), -1);
    tu_assert_error_mentions(path, "float.kept");
    sa->nfloats = 1, sa->ndoubles = 1;
    assert_int_equal(fl_trainstate_save(path, sa), 0);
    assert_int_equal(fl_trainstate_load(path, sb), -1);
    tu_assert_error_mentions(path, "'epoch'");
    sa->ndoubles = 2;
    db.fl.n = 6; /* a state of a model of another size */
    assert_int_equal(fl_trainstate_save(path, sa), 0);
    assert_int_equal(fl_trainstate_load(path, sb), -1);
    tu_assert_error_mentions(path, "wrong size");
    db.fl.n = 7;
    sb->kind = "lm-finetune";
    assert_int_equal(fl_trainstate_load(path, sb), -1);
    tu_assert_error_mentions(path, "lm-finetune");
    sb->kind = "finetune", sb->config = "{\"other\":1}";
    assert_int_equal(fl_trainstate_load(path, sb), -1);
    tu_assert_error_mentions(path, "different configuration");
    fl_blob_free(&da.r.blob);
    fl_blob_free(&db.r.blob);
    free(path);
}

TU_MAIN(TU_SCRATCH_TEST(test_roundtrip), TU_SCRATCH_TEST(test_refused))
