/* test_study_parts.c: the pieces that let a study be split: shards cut the
 * grid into disjoint parts that cover it, the threads per run do not depend
 * on the split, a run's record survives packing into bytes (what an MPI rank
 * sends rank 0) and damaged bytes are refused, and a record's rows land in
 * the database in one transaction; and the options, read through the
 * settings table, give the grid string that identifies a study (the same
 * bytes as before the table: existing studies resume by it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "testutil.h"
#include "train/study_int.h"

#include <stdlib.h>
#include <string.h>

static void test_shards_partition_the_grid(void **state) {
    (void)state;
    fl_razor_config c;
    fl_razor_defaults(&c);
    c.quick = 1;
    planned_run *runs = malloc((size_t)study_max_runs(&c) * sizeof *runs);
    int n = 0;
    study_plan(&c, STUDY_SWEEP, STUDY_NSWEEP, NULL, runs, &n);
    assert_int_equal(n, 35);
    for (int count = 1; count <= 8; count++) {
        int owners[64] = {0}, sizes[9] = {0};
        for (c.shard_count = count, c.shard_index = 1; c.shard_index <= count; c.shard_index++)
            for (int i = 0; i < n; i++)
                if (study_in_shard(&c, i)) {
                    owners[i]++;
                    sizes[c.shard_index]++;
                }
        for (int i = 0; i < n; i++) assert_int_equal(owners[i], 1);
        /* Balanced: sizes differ by at most one run. */
        for (int k = 1; k <= count; k++) assert_true(sizes[k] == n / count || sizes[k] == n / count + 1);
    }
    free(runs);
}

static void test_threads_per_run_ignore_the_split(void **state) {
    (void)state;
    fl_razor_config c;
    fl_razor_defaults(&c);
    c.threads = 2;
    const int t = study_run_threads(&c, 35);
    assert_int_equal(t, 1);
    c.shard_count = 4;
    c.shard_index = 3;
    assert_int_equal(study_run_threads(&c, 35), t);
    c.jobs = 1;
    assert_int_equal(study_run_threads(&c, 35), 2);
}

/* argv-like options through FL_STUDY_SETTINGS, then fl_razor_resolve. */
static int apply_options(fl_razor_config *c, const char *const *opts) {
    for (; *opts; opts++) {
        const char *eq = strchr(*opts, '=');
        char flag[64];
        snprintf(flag, sizeof flag, "%.*s", eq ? (int)(eq - *opts) : (int)strlen(*opts), *opts);
        const fl_setting *s = fl_setting_find(FL_STUDY_SETTINGS, FL_STUDY_NSETTINGS, flag);
        if (!s || fl_setting_apply(s, c, eq ? eq + 1 : NULL)) return -1;
    }
    return fl_razor_resolve(c);
}

static void test_options_give_the_grid(void **state) {
    (void)state;
    static const struct {
        const char *opts[8];
        const char *grid;
    } cases[] = {
        {{NULL}, "quick=0 seeds=1 checkpoint_every=0.2"},
        {{"quick", "seeds=2", "methods=sft1,grpo", "no-distill", "checkpoint-every=0.5", NULL},
         "quick=1 seeds=2 checkpoint_every=0.5 methods=sft1,grpo"},
        {{"methods=sft2,oracle", "sft2-labels=6,8/7,9", "sft2-soft", "shard=2/3", NULL},
         "quick=0 seeds=1 checkpoint_every=0.2 methods=sft2,oracle sft2=6,8/7,9 sft2_soft=1"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        fl_razor_config c, back;
        fl_razor_defaults(&c);
        assert_int_equal(apply_options(&c, cases[k].opts), 0);
        char grid[256], again[256];
        study_grid_string(&c, grid, sizeof grid);
        assert_string_equal(grid, cases[k].grid);
        fl_razor_defaults(&back);
        assert_int_equal(study_grid_parse(grid, &back), 0);
        study_grid_string(&back, again, sizeof again);
        assert_string_equal(again, grid);
    }
    /* What resolve makes of the distill and probe options. */
    fl_razor_config c;
    fl_razor_defaults(&c);
    assert_int_equal(apply_options(&c, (const char *const[]){"cs-method=ap", "cs-loss=ce", NULL}), 0);
    assert_int_equal(c.probe.ig_steps, 0);
    assert_int_equal(c.with_distill, 1);
    fl_razor_defaults(&c);
    assert_int_equal(apply_options(&c, (const char *const[]){"cs-steps=3", "cs-method=ap", NULL}), -1);
    fl_razor_defaults(&c);
    assert_int_equal(apply_options(&c, (const char *const[]){"shard=1/2", NULL}), 0);
    assert_int_equal(c.with_distill, 0);
    fl_razor_defaults(&c);
    assert_int_equal(apply_options(&c, (const char *const[]){"with-distill", "methods=sft1", NULL}), -1);
}

static run_record sample_record(int nckpt) {
    run_record r = {0};
    r.run = 7;
    r.status = RUN_DIVERGED;
    snprintf(r.error, sizeof r.error, "loss became nan at step 12");
    for (int k = 0; k < 4; k++) r.times[k] = 0.5 * (k + 1);
    r.final.new_acc = 0.93;
    r.final.nlayers = 3;
    r.final.weight_rank[2] = 10;
    r.ckpt = calloc((size_t)nckpt + 1, sizeof *r.ckpt);
    r.nckpt = r.cap = nckpt;
    for (int k = 0; k < nckpt; k++) {
        r.ckpt[k].idx = k;
        r.ckpt[k].step = 50L * (k + 1);
        r.ckpt[k].epoch = 0.2 * (k + 1);
        r.ckpt[k].m.forgetting = 0.01 * k;
        r.ckpt[k].m.new_div.forward_kl = 1.0 / (k + 3);
    }
    return r;
}

static void test_record_round_trip(void **state) {
    (void)state;
    for (int nckpt = 0; nckpt <= 10; nckpt += 5) {
        run_record a = sample_record(nckpt), b;
        void *buf;
        size_t n;
        assert_int_equal(study_record_pack(&a, &buf, &n), 0);
        assert_int_equal(study_record_unpack(buf, n, &b), 0);
        assert_int_equal(b.run, 7);
        assert_int_equal(b.status, RUN_DIVERGED);
        assert_string_equal(b.error, a.error);
        assert_memory_equal(b.times, a.times, sizeof a.times);
        assert_memory_equal(&b.final, &a.final, sizeof a.final);
        assert_int_equal(b.nckpt, nckpt);
        if (nckpt) assert_memory_equal(b.ckpt, a.ckpt, (size_t)nckpt * sizeof *a.ckpt);
        /* Truncated bytes are refused with a message. */
        for (size_t cut = 0; cut < n; cut += 97) {
            run_record c;
            fl_error_clear();
            assert_int_equal(study_record_unpack(buf, cut, &c), -1);
            assert_true(strlen(fl_error_msg()) > 0);
            study_record_free(&c);
        }
        /* Bytes from another build (a different header) are refused. */
        ((unsigned char *)buf)[4] ^= 1;
        run_record d;
        assert_int_equal(study_record_unpack(buf, n, &d), -1);
        assert_non_null(strstr(fl_error_msg(), "different build"));
        free(buf);
        study_record_free(&a);
        study_record_free(&b);
    }
}

static void test_record_commit_is_one_transaction(void **state) {
    (void)state;
    char dir[512];
    assert_int_equal(tu_mkscratch(dir, sizeof dir, "study_parts"), 0);
    char *path = fl_path_join(dir, "results.sqlite");
    fl_razor_config c;
    fl_razor_defaults(&c);
    c.quick = 1;
    planned_run runs[64];
    sweep sw = {.c = &c, .runs = runs, .label = "sweep"};
    study_plan(&c, STUDY_SWEEP, STUDY_NSWEEP, NULL, runs, &sw.n);
    fl_results db;
    assert_int_equal(fl_results_open(&db, path), 0);
    run_record r = sample_record(5);
    r.status = RUN_DONE;
    assert_int_equal(study_record_commit(&db, &sw, &r), 0);
    int nruns, nckpts, done;
    assert_int_equal(fl_results_count(&db, &nruns, &nckpts), 0);
    assert_int_equal(nruns, 1);
    assert_int_equal(nckpts, 5);
    assert_int_equal(fl_results_run_done(&db, runs[7].id, &done), 0);
    assert_true(done);
    /* A failed run writes nothing and names the run. */
    r.run = 8;
    r.status = RUN_FAILED;
    assert_int_equal(study_record_commit(&db, &sw, &r), -1);
    assert_non_null(strstr(fl_error_msg(), runs[8].id));
    assert_int_equal(fl_results_count(&db, &nruns, &nckpts), 0);
    assert_int_equal(nruns, 1);
    assert_int_equal(nckpts, 5);
    /* The study record round-trips. */
    char v[64];
    int found;
    assert_int_equal(fl_results_get_meta(&db, "grid", v, sizeof v, &found), 0);
    assert_false(found);
    assert_int_equal(fl_results_set_meta(&db, "grid", "quick=1"), 0);
    assert_int_equal(fl_results_get_meta(&db, "grid", v, sizeof v, &found), 0);
    assert_true(found);
    assert_string_equal(v, "quick=1");
    fl_results_close(&db);
    study_record_free(&r);
    free(path);
    tu_remove_tree(dir);
}

TU_MAIN(cmocka_unit_test(test_shards_partition_the_grid), cmocka_unit_test(test_threads_per_run_ignore_the_split),
        cmocka_unit_test(test_options_give_the_grid), cmocka_unit_test(test_record_round_trip),
        cmocka_unit_test(test_record_commit_is_one_transaction))
