/* study_continual.c: `forgetlab study continual` (study_continual.h): the benchmark
 * loaded once, every method x seed learnt on worker processes (study_pool.c),
 * each run's accuracy matrix written as .npy and its rows and metrics into
 * results.sqlite in one transaction. */
#include "study_int.h"

#include "forgetlab/train/study_continual.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/io/npy.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/core/threads.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const FL_CLSTUDY_FIELDS[FL_CLSTUDY_NFIELDS] = {
    "boundary", "task", "acc", "acc_random", "kl_prev", "cs", "cs_random", "avg_acc", "bwt", "fwt", "forgetting_first",
    "forgetting_max"};

void fl_clstudy_defaults(fl_clstudy_config *c) {
    memset(c, 0, sizeof *c);
    c->seeds = 1, c->progress = 1;
    fl_cl_defaults(&c->cl);
}

static int parse_shard(const char *v, void *field) {
    fl_clstudy_config *c = (fl_clstudy_config *)((char *)field - offsetof(fl_clstudy_config, shard_index));
    return fl_parse_shard(v, &c->shard_index, &c->shard_count);
}
static void format_shard(const void *field, char *buf, size_t n) {
    const fl_clstudy_config *c =
        (const fl_clstudy_config *)((const char *)field - offsetof(fl_clstudy_config, shard_index));
    if (c->shard_count > 0) snprintf(buf, n, "%d/%d", c->shard_index, c->shard_count);
    else buf[0] = '\0';
}
static int parse_bench(const char *v, void *field) { return fl_cl_benchmark_parse(v, field); }
static void format_bench(const void *field, char *buf, size_t n) {
    const fl_cl_benchmark b = *(const fl_cl_benchmark *)field;
    snprintf(buf, n, "%s", b >= 0 && b < FL_CL_NBENCH ? fl_cl_benchmark_name(b) : "");
}
static int parse_scenario(const char *v, void *field) { return fl_cl_scenario_parse(v, field); }
static void format_scenario(const void *field, char *buf, size_t n) {
    const fl_cl_scenario s = *(const fl_cl_scenario *)field;
    snprintf(buf, n, "%s", s >= 0 && s < FL_CL_NSCENARIO ? fl_cl_scenario_name(s) : "");
}

#define F(field) offsetof(fl_clstudy_config, field)
const fl_setting FL_CLSTUDY_SETTINGS[] = {
    {"benchmark", FL_SET_CUSTOM, F(bench), 0, 0, "B", "split-mnist, split-fashion, permuted-mnist or rotated-mnist",
     NULL, parse_bench, format_bench},
    {"scenario", FL_SET_CUSTOM, F(scenario), 0, 0, "S", "task, domain or class (docs/continual.md)", NULL,
     parse_scenario, format_scenario},
    {"methods", FL_SET_STRING, F(methods), 0, 0, "LIST",
     "comma-separated (default: naive, joint, replay, ewc, online-ewc, si, lwf, l2sp, kl, agem)", NULL, NULL, NULL},
    {"seeds", FL_SET_INT, F(seeds), 1, 100, "N", "seeds 0..N-1", NULL, NULL, NULL},
    {"quick", FL_SET_FLAG, F(quick), 0, 0, NULL, "1,000 training examples a task, 1 epoch", NULL, NULL, NULL},
    {"tasks", FL_SET_INT, F(ntasks), 0, FL_CL_MAX_TASKS, "N", "tasks (default: 5 for split, 10 otherwise)", NULL, NULL,
     NULL},
    {"per-task", FL_SET_INT, F(per_task), 0, 100000, "N", "training examples a task at most (0: all)", NULL, NULL,
     NULL},
    {"validation", FL_SET_DOUBLE, F(validation), 0, 0.9, "F",
     "hold this fraction of each task's training examples out and evaluate on it instead of the test set, for "
     "choosing hyper-parameters (0: the test set)", NULL, NULL, NULL},
    {"epochs", FL_SET_INT, F(cl.epochs), 1, 1000, "N", "epochs a task", NULL, NULL, NULL},
    {"batch", FL_SET_INT, F(cl.batch), 1, 1024, "N", "examples a step", NULL, NULL, NULL},
    {"lr", FL_SET_DOUBLE, F(cl.lr), 1e-9, 10, "X", "AdamW learning rate", NULL, NULL, NULL},
    {"hidden", FL_SET_INT, F(cl.hidden), 1, 100000, "N", "width of the two hidden layers", NULL, NULL, NULL},
    {"buffer", FL_SET_INT, F(cl.buffer), 0, 10000000, "N", "replay, agem: examples kept", NULL, NULL, NULL},
    {"ewc-lambda", FL_SET_DOUBLE, F(cl.ewc_lambda), -1e12, 1e12, "X",
     "EWC's and online EWC's weight (default: the published one for the benchmark and scenario, docs/continual.md)",
     NULL, NULL, NULL},
    {"ewc-gamma", FL_SET_DOUBLE, F(cl.ewc_gamma), 0, 1, "X", "online EWC's decay of the running Fisher", NULL, NULL,
     NULL},
    {"si-c", FL_SET_DOUBLE, F(cl.si_c), 0, 1e12, "X",
     "SI's weight (default: the published one for the benchmark and scenario)", NULL, NULL, NULL},
    {"si-xi", FL_SET_DOUBLE, F(cl.si_xi), 1e-12, 1e6, "X", "SI's damping of a weight's squared change", NULL, NULL,
     NULL},
    {"lwf-alpha", FL_SET_DOUBLE, F(cl.lwf_alpha), 0, 1e6, "X", "LwF's distillation weight", NULL, NULL, NULL},
    {"l2sp-lambda", FL_SET_DOUBLE, F(cl.l2sp_lambda), 0, 1e12, "X", "L2-SP's weight", NULL, NULL, NULL},
    {"kl-beta", FL_SET_DOUBLE, F(cl.kl_beta), 0, 1e6, "X", "the KL regulariser's weight", NULL, NULL, NULL},
    {"cs-per", FL_SET_INT, F(cl.cs_per), 0, 10000, "N", "circuit stability: test examples per class (0: none)", NULL,
     NULL, NULL},
    {"shard", FL_SET_CUSTOM, F(shard_index), 0, 0, "I/N",
     "run only the I-th (1 <= I <= N) of N disjoint parts of the runs, each into its own --out; 'forgetlab merge' "
     "combines them", NULL, parse_shard, format_shard},
    {"jobs", FL_SET_INT, F(jobs), 0, 1024, "N", "concurrent runs (default: one per core)", NULL, NULL, NULL},
    FL_SETTING_THREADS(F(threads)),
    FL_SETTING_DATA_DIR(F(data_dir)),
};
#undef F
const int FL_CLSTUDY_NSETTINGS = (int)(sizeof FL_CLSTUDY_SETTINGS / sizeof *FL_CLSTUDY_SETTINGS);

typedef struct {
    const fl_clstudy_config *c;
    const fl_cl_bench *b;
    fl_cl_method methods[FL_CL_NMETHODS];
    int nmethods, n, ntodo;
    int todo[FL_CL_NMETHODS * 100];
    char db[4096];
} cl_plan;

static void run_key(const cl_plan *p, int i, fl_run_key *k, char *id, size_t n) {
    *k = (fl_run_key){fl_cl_method_name(p->methods[i % p->nmethods]), p->c->cl.lr, "constant", p->c->cl.epochs,
                      (uint64_t)(i / p->nmethods)};
    fl_run_id(k, id, n);
}

/* Plan index i learnt and its matrix written (any process; the run's
 * directory on the shared file system). */
static int learn(const cl_plan *p, int i, fl_cl_result *r) {
    const int T = p->b->ntasks;
    fl_run_key key;
    char id[128], dir[4096];
    run_key(p, i, &key, id, sizeof id);
    fl_cl_config cc = p->c->cl;
    cc.method = p->methods[i % p->nmethods], cc.seed = key.seed;
    float *m = malloc(sizeof(float) * (size_t)T * T);
    int rc = m ? fl_cl_run(&cc, p->b, r) : fl_error_set("out of memory");
    snprintf(dir, sizeof dir, "%s/runs/%s", p->c->out_dir, id);
    if (rc == 0) rc = fl_mkdirs(dir);
    if (rc == 0) {
        for (int q = 0; q < T * T; q++) m[q] = (float)r->R[q];
        char *path = fl_path_join(dir, "accuracy_matrix.npy");
        const int64_t shape[2] = {T, T};
        rc = path ? fl_npy_write(path, m, 2, shape) : fl_error_set("out of memory");
        free(path);
    }
    free(m);
    return rc ? fl_error_wrap("run %s", id) : 0;
}

/* A learnt run's rows (one per boundary and task) and metrics, in one
 * transaction. */
static int record(fl_results *db, const cl_plan *p, int i, const fl_cl_result *r) {
    const int T = p->b->ntasks;
    fl_run_key key;
    char id[128];
    run_key(p, i, &key, id, sizeof id);
    int rc = fl_results_begin(db);
    if (rc == 0) rc = fl_results_begin_run(db, id);
    for (int t = 0; t < T && rc == 0; t++)
        for (int q = 0; q < T && rc == 0; q++) {
            const double row[FL_CLSTUDY_NFIELDS] = {t, q, r->R[t * T + q], r->random[q], r->kl[t * T + q],
                                                    r->cs[t * T + q], r->cs_random[t * T + q], NAN, NAN, NAN, NAN,
                                                    NAN};
            rc = fl_results_add_checkpoint_vals(db, &key, id, t * T + q, t, t + 1, row);
        }
    if (rc == 0) {
        const fl_cl_metrics *mt = &r->metrics;
        const double fin[FL_CLSTUDY_NFIELDS] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, mt->avg_acc, mt->bwt, mt->fwt,
                                                mt->forgetting_first, mt->forgetting_max};
        const double times[5] = {NAN, NAN, NAN, NAN, NAN};
        rc = fl_results_finish_run_vals(db, &key, id, fin, times, NULL);
    }
    if (rc == 0) rc = fl_results_commit(db);
    else if (db->db) fl_results_rollback(db);
    return rc;
}

/* Job k of the pool: plan index todo[k], learnt and recorded. */
static int run_job(void *ctx, int k, fl_results *db) {
    const cl_plan *p = ctx;
    const int i = p->todo[k];
    fl_run_key key;
    char id[128];
    run_key(p, i, &key, id, sizeof id);
    int done = 0;
    if (fl_results_run_done(db, id, &done) || done) return done ? 0 : -1;
    fl_cl_result *r = malloc(sizeof *r);
    int rc = r ? learn(p, i, r) : fl_error_set("out of memory");
    if (rc == 0) rc = record(db, p, i, r);
    free(r);
    return rc;
}

/* The same over MPI ranks: the result travels to rank 0 as it is (ranks
 * run the same build), behind its plan index and status. */
typedef struct {
    int i, status;
    char error[512];
    fl_cl_result r;
} cl_outcome;

static int mpi_run(void *ctx, int i, void **out, size_t *n) {
    cl_outcome *o = calloc(1, sizeof *o);
    if (!o) return fl_error_set("out of memory");
    o->i = i, o->status = learn(ctx, i, &o->r);
    snprintf(o->error, sizeof o->error, "%s", o->status ? fl_error_msg() : "");
    *out = o, *n = sizeof *o;
    return o->status ? 1 : 0;
}

static int mpi_commit(void *ctx, fl_results *db, const void *buf, size_t n, int *ckpts) {
    const cl_plan *p = ctx;
    if (n != sizeof(cl_outcome)) return fl_error_set("a run's outcome of %zu bytes, not %zu", n, sizeof(cl_outcome));
    const cl_outcome *o = buf;
    if (o->i < 0 || o->i >= p->n) return fl_error_set("an outcome of run %d, not in the plan", o->i);
    if (o->status) return fl_error_set("%.511s", o->error);
    *ckpts = p->b->ntasks * p->b->ntasks;
    return record(db, p, o->i, &o->r);
}

static int parse_methods(const fl_clstudy_config *c, cl_plan *p) {
    p->nmethods = 0;
    if (!c->methods) {
        for (int m = 0; m < FL_CL_NMETHODS; m++) p->methods[p->nmethods++] = (fl_cl_method)m;
        return 0;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", c->methods);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        fl_cl_method m;
        if (fl_cl_method_parse(t, &m)) return fl_error_wrap("--methods");
        for (int k = 0; k < p->nmethods; k++)
            if (p->methods[k] == m) return fl_error_set("--methods: %s named twice", t);
        p->methods[p->nmethods++] = m;
    }
    return p->nmethods ? 0 : fl_error_set("--methods: none");
}

/* What makes two studies' grids the same: its record in results.sqlite. */
static void grid_string(const fl_clstudy_config *c, const cl_plan *p, char *grid, size_t n) {
    size_t off = (size_t)snprintf(grid, n, "continual bench=%s scenario=%s tasks=%d per_task=%d seeds=%d methods=",
                                  fl_cl_benchmark_name(c->bench), fl_cl_scenario_name(c->scenario), p->b->ntasks,
                                  c->per_task, c->seeds);
    for (int k = 0; k < p->nmethods && off < n; k++)
        off += (size_t)snprintf(grid + off, n - off, "%s%s", k ? "," : "", fl_cl_method_name(p->methods[k]));
    const fl_cl_config *h = &c->cl;
    if (c->validation > 0 && off < n) off += (size_t)snprintf(grid + off, n - off, " validation=%g", c->validation);
    if (off < n)
        snprintf(grid + off, n - off, " epochs=%d batch=%d lr=%g hidden=%d buffer=%d ewc=%g/%g si=%g/%g lwf=%g l2sp=%g "
                 "kl=%g cs=%d", h->epochs, h->batch, h->lr, h->hidden, h->buffer, h->ewc_lambda, h->ewc_gamma, h->si_c, h->si_xi,
                 h->lwf_alpha, h->l2sp_lambda, h->kl_beta, h->cs_per);
}

/* Rank 0 (or the only process): claims DIR, records the study and finds
 * the runs of this shard still to do. */
static int setup(const fl_clstudy_config *c, cl_plan *p, int run_threads, char **replaced) {
    char grid[1024], shard[48], threads[32], setup_threads[32];
    grid_string(c, p, grid, sizeof grid);
    if (c->shard_count > 1) snprintf(shard, sizeof shard, "%d/%d", c->shard_index, c->shard_count);
    else snprintf(shard, sizeof shard, "all");
    snprintf(threads, sizeof threads, "%d", run_threads);
    snprintf(setup_threads, sizeof setup_threads, "%d", c->threads > 0 ? c->threads : fl_cpu_count());
    int rc = study_claim(c->out_dir, p->db, grid, c->overwrite, replaced);
    if (rc == 0) rc = fl_mkdirs(c->out_dir);
    fl_results db;
    if (rc || fl_results_open_with(&db, p->db, FL_CLSTUDY_FIELDS, FL_CLSTUDY_NFIELDS)) return -1;
    /* What `merge` checks the parts of a sharded study by. */
    const char *const meta[][2] = {{"kind", "continual"}, {"grid", grid},         {"version", FORGETLAB_VERSION},
                                   {"shard", shard},      {"run_threads", threads}, {"setup_threads", setup_threads},
                                   {"circuit_probe", "none"}};
    for (size_t k = 0; k < sizeof meta / sizeof *meta && rc == 0; k++) rc = fl_results_set_meta(&db, meta[k][0], meta[k][1]);
    if (rc == 0) rc = study_note_build(&db, c->out_dir);
    for (int i = 0; i < p->n && rc == 0; i++) {
        fl_run_key key;
        char id[128];
        int done = 0;
        if (c->shard_count > 1 && i % c->shard_count != c->shard_index - 1) continue;
        run_key(p, i, &key, id, sizeof id);
        rc = fl_results_run_done(&db, id, &done);
        if (rc == 0 && !done) p->todo[p->ntodo++] = i;
    }
    fl_results_close(&db);
    return rc;
}

static int clstudy(const study_world *w, const void *config) {
    fl_clstudy_config copy = *(const fl_clstudy_config *)config;
    fl_clstudy_config *c = &copy;
    cl_plan p = {.c = c};
    if (c->quick && !c->per_task) c->per_task = 1000;
    fl_cl_resolve(&c->cl, c->bench, c->scenario);
    if (parse_methods(c, &p)) return FL_BAD_REQUEST;
    for (int k = 0; k < p.nmethods; k++)
        if ((p.methods[k] == FL_CL_REPLAY || p.methods[k] == FL_CL_AGEM) && c->cl.buffer < 1)
            return fl_error_set("--buffer %d: %s keeps at least 1 example", c->cl.buffer,
                                fl_cl_method_name(p.methods[k])), FL_BAD_REQUEST;
    if (c->cl.ewc_lambda < 0) return fl_error_set("--ewc-lambda %g: must be >= 0", c->cl.ewc_lambda), FL_BAD_REQUEST;
    fl_set_threads(c->threads);
    fl_cl_bench b;
    if (fl_cl_bench_load(&b, c->bench, c->scenario, c->ntasks, c->per_task, c->data_dir, 0)) return -1;
    if (c->validation > 0 && fl_cl_bench_hold_out(&b, c->validation, 0)) {
        fl_cl_bench_free(&b);
        return FL_BAD_REQUEST;
    }
    p.b = &b;
    p.n = p.nmethods * c->seeds;
    snprintf(p.db, sizeof p.db, "%s/results.sqlite", c->out_dir);
    /* Threads per run: the cores shared by the concurrent runs, under MPI
     * too, so a study gives the same numbers however it is spread. */
    const int cores = c->threads > 0 ? c->threads : fl_cpu_count();
    const int jobs = c->jobs > 0 ? c->jobs : cores, run_threads = cores / jobs > 0 ? cores / jobs : 1;
    char *replaced = NULL;
    int rc = w->rank == 0 ? setup(c, &p, run_threads, &replaced) : 0;
    if (study_mpi_share(w, rc ? -1 : 0) < 0 || rc) rc = -1;
    if (rc == 0 && w->size > 1) {
        const study_jobs j = {p.db, "continual", p.n, p.todo, p.ntodo, run_threads, c->progress, mpi_run, mpi_commit,
                              &p};
        rc = study_mpi_jobs(w, &j);
    } else if (rc == 0) {
        const study_pool pool = {p.db, p.ntodo, jobs, run_threads, c->progress, "continual", run_job, &p};
        rc = study_pool_run(&pool);
    }
    fl_rundir_release(replaced, rc == 0);
    fl_cl_bench_free(&b);
    return rc;
}

int fl_clstudy_run(const fl_clstudy_config *c, int *writer) { return study_in_world(clstudy, c, writer); }

int fl_clstudy_plan_ids(const char *grid, char (**ids)[128], int *n) {
    fl_clstudy_config c;
    fl_clstudy_defaults(&c);
    char methods[256] = "";
    const char *at;
    int ok = strncmp(grid, "continual ", 10) == 0;
    ok = ok && (at = strstr(grid, " seeds=")) && sscanf(at, " seeds=%d", &c.seeds) == 1;
    ok = ok && (at = strstr(grid, " methods=")) && sscanf(at, " methods=%255s", methods) == 1;
    ok = ok && (at = strstr(grid, " epochs=")) && sscanf(at, " epochs=%d", &c.cl.epochs) == 1;
    ok = ok && (at = strstr(grid, " lr=")) && sscanf(at, " lr=%lf", &c.cl.lr) == 1;
    if (!ok) return fl_error_set("not a continual-learning study's grid: '%s'", grid);
    c.methods = methods;
    cl_plan p = {.c = &c};
    if (parse_methods(&c, &p)) return -1;
    p.n = p.nmethods * c.seeds;
    *ids = malloc(sizeof **ids * (size_t)(p.n > 0 ? p.n : 1));
    if (!*ids) return fl_error_set("out of memory");
    for (int i = 0; i < p.n; i++) {
        fl_run_key key;
        run_key(&p, i, &key, (*ids)[i], sizeof **ids);
    }
    *n = p.n;
    return 0;
}
