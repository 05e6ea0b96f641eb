/* study_grokforget.c: `forgetlab study grok-forget` (study_grokforget.h):
 * each seed's grokked base (grown once into the cache, or given), its
 * grokking log copied into results.sqlite as the "grok" phase, then the
 * grid of fine-tuning runs handed to the worker pool (or MPI ranks), each
 * finished run's checkpoints copied from its metrics.jsonl. */
#include "study_int.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/log.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/store/checkpoint.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/train/grok.h"
#include "forgetlab/train/step.h"
#include "forgetlab/train/study_grokforget.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The grids: from a rate at which a run hardly moves in its epochs to one
 * at which every method learns the new task and forgets a + b almost
 * entirely (docs/grok-forget.md), by half decades. */
static const double GRID_QUICK[] = {1e-4, 3e-4, 1e-3};
static const double GRID_FULL[] = {1e-4, 3e-4, 1e-3};
enum { GRID_N = 3 };
/* The measured fields, then the x axis of a model's whole life. */
enum { NF = FL_GF_NFIELDS + 1 };

void fl_gfstudy_defaults(fl_gfstudy_config *c) {
    memset(c, 0, sizeof *c);
    c->seeds = 1, c->progress = 1, c->cs_per = 16;
    c->new_task = "difference";
    fl_gf_defaults(&c->ft);
    /* The new task is learnt slowly (docs/grok-forget.md): 30 epochs, a
     * checkpoint every 3. */
    c->ft.epochs = 30, c->ft.checkpoint_every = 3;
}

static int parse_shard(const char *v, void *field) {
    int *s = field;
    return fl_parse_shard(v, &s[0], &s[1]);
}
static void format_shard(const void *field, char *buf, size_t n) {
    const int *s = field;
    if (s[1] > 0) snprintf(buf, n, "%d/%d", s[0], s[1]);
    else buf[0] = '\0';
}

#define F(field) offsetof(fl_gfstudy_config, field)
const fl_setting FL_GFSTUDY_SETTINGS[] = {
    {"quick", FL_SET_FLAG, F(quick), 0, 0, NULL, "the tiny grok preset's base (p 31) and its grid of rates", NULL,
     NULL, NULL},
    {"seeds", FL_SET_INT, F(seeds), 1, 100, "N", "seeds 0..N-1, each its own base and runs", NULL, NULL, NULL},
    {"methods", FL_SET_STRING, F(methods), 0, 0, "LIST",
     "comma-separated methods (default: sft1, sft2, oracle, grpo, grpo-kl, reinforce)", NULL, NULL, NULL},
    {"lrs", FL_SET_STRING, F(lrs), 0, 0, "LIST",
     "comma-separated learning rates (default: 1e-4,3e-4,1e-3)", NULL, NULL, NULL},
    {"new-task", FL_SET_STRING, F(new_task), 0, 0, "T",
     "the new task: difference (c = a - b or b - a mod p)", NULL, NULL, NULL},
    {"base", FL_SET_STRING, F(base), 0, 0, "DIR",
     "a grokked run of 'forgetlab grok --op + --reserve-ops 1' for every seed (no grokking here)", NULL, NULL, NULL},
    {"base-cache", FL_SET_STRING, F(base_cache), 0, 0, "DIR",
     "where bases are grown and kept (default: $FORGETLAB_CACHE, else ~/.cache/forgetlab)", NULL, NULL, NULL},
    {"epochs", FL_SET_INT, F(ft.epochs), 1, 1000, "N", "passes over the new task's training pairs", NULL, NULL, NULL},
    {"batch", FL_SET_INT, F(ft.batch), 1, 4096, "N", "training pairs per step", NULL, NULL, NULL},
    {"group-size", FL_SET_INT, F(ft.group_size), 2, 1024, "G", "on-policy: answers sampled per input", NULL, NULL,
     NULL},
    {"kl-coef", FL_SET_DOUBLE, F(ft.kl_coef), 0.0, 1e6, "X", "weight of KL(pi || pi_0) in grpo-kl", NULL, NULL, NULL},
    {"checkpoint-every", FL_SET_DOUBLE, F(ft.checkpoint_every), 1e-3, 1e3, "X", "epochs between measured checkpoints",
     NULL, NULL, NULL},
    {"cs-per", FL_SET_INT, F(cs_per), 2, 10000, "N", "measurement: equations per subtask for circuit stability",
     NULL, NULL, NULL},
    {"shard", FL_SET_CUSTOM, F(shard), 0, 0, "I/N",
     "run only the I-th (1 <= I <= N) of N disjoint parts of the grid, each into its own --out; 'forgetlab merge' "
     "combines them", NULL, parse_shard, format_shard},
    {"jobs", FL_SET_INT, F(jobs), 0, 1024, "N", "concurrent runs (default: one per core)", NULL, NULL, NULL},
    FL_SETTING_THREADS(F(threads)),
};
#undef F
const int FL_GFSTUDY_NSETTINGS = (int)(sizeof FL_GFSTUDY_SETTINGS / sizeof *FL_GFSTUDY_SETTINGS);

typedef struct {
    fl_gf_config ft;
    fl_run_key key;
    char id[128];
    char dir[4096];
    int seed;
} gf_run;

typedef struct {
    const fl_gfstudy_config *c;
    char (*base)[4096];       /* each seed's grokked base */
    double *life0;            /* each base's epochs: where fine-tuning starts on the life axis */
    fl_gf_method methods[FL_GF_NMETHODS];
    int nmethods;
    double lrs[FL_GFSTUDY_MAX_LRS];
    int nlrs;
    gf_run *runs;
    int n;
    int *todo;
    char db[4096];
    int run_threads;
} gf_plan;

static int parse_lists(const fl_gfstudy_config *c, gf_plan *p) {
    if (strcmp(c->new_task, "difference") != 0)
        return fl_error_set("--new-task: unknown task '%s' (expected difference)", c->new_task);
    p->nmethods = 0;
    if (!c->methods)
        for (int m = 0; m < FL_GF_NMETHODS; m++) p->methods[p->nmethods++] = (fl_gf_method)m;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", c->methods ? c->methods : "");
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        fl_gf_method m;
        if (fl_gf_method_parse(t, &m)) return fl_error_wrap("--methods");
        for (int k = 0; k < p->nmethods; k++)
            if (p->methods[k] == m) return fl_error_set("--methods: %s named twice", t);
        p->methods[p->nmethods++] = m;
    }
    if (p->nmethods == 0) return fl_error_set("--methods: no method");
    p->nlrs = 0;
    if (!c->lrs) {
        for (int k = 0; k < GRID_N; k++) p->lrs[p->nlrs++] = c->quick ? GRID_QUICK[k] : GRID_FULL[k];
        return 0;
    }
    return study_parse_lrs(c->lrs, p->lrs, FL_GFSTUDY_MAX_LRS, &p->nlrs);
}

static void grid_string(const fl_gfstudy_config *c, const gf_plan *p, char *buf, size_t n) {
    size_t off = (size_t)snprintf(buf, n, "grok-forget quick=%d seeds=%d task=%s methods=", c->quick, c->seeds,
                                  c->new_task);
    for (int k = 0; k < p->nmethods && off < n; k++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s", k ? "," : "", fl_gf_method_name(p->methods[k]));
    for (int k = 0; k < p->nlrs && off < n; k++)
        off += (size_t)snprintf(buf + off, n - off, "%s%g", k ? "," : " lrs=", p->lrs[k]);
    const fl_gf_config *f = &c->ft;
    if (off < n)
        snprintf(buf + off, n - off, " epochs=%d batch=%d group=%d kl=%g ckpt=%g cs=%d base=%s", f->epochs, f->batch,
                 f->group_size, f->kl_coef, f->checkpoint_every, c->cs_per,
                 c->base ? c->base : c->quick ? "tiny" : "quick");
}

/* The grok settings of seed s's base: the preset, one operation token
 * reserved for the new task and 64 (tiny) or 128 training pairs asked
 * with it towards the uniform distribution (without them the grokked base
 * answers a + b with certainty on the new task's inputs, and on-policy
 * RL, which learns only from the answers it samples, could never move),
 * half as many epochs again (grokking comes later with the longer input),
 * the progress measures every 100. */
static void base_config(const fl_gfstudy_config *c, int s, fl_grok_config *g) {
    fl_grok_defaults(g);
    g->seed = (uint64_t)s, g->reserve_ops = 1, g->threads = c->threads, g->progress = c->progress;
    fl_grok_preset(g, c->quick ? "tiny" : "quick");
    g->intro_new = c->quick ? 64 : 128;
    g->epochs = g->epochs * 3 / 2;
    g->measure_every = 100, g->checkpoint_every = 500;
}

/* Whether a grok run directory holds a finished, grokked run; the error
 * says why not. *epochs: how long it trained. */
static int grokked(const char *dir, double *epochs) {
    char *path = fl_path_join(dir, "summary.json");
    cJSON *sum = NULL;
    int rc = path ? fl_json_read_file(path, &sum) : fl_error_set("out of memory");
    free(path);
    if (rc) return fl_error_wrap("%s: not a finished grok run", dir);
    const cJSON *g = cJSON_GetObjectItem(sum, "grokked_epoch"), *e = cJSON_GetObjectItem(sum, "epochs"),
                *acc = cJSON_GetObjectItem(sum, "test_acc");
    *epochs = cJSON_IsNumber(e) ? e->valuedouble : NAN;
    if (!cJSON_IsNumber(g))
        rc = fl_error_set("%s never grokked (test accuracy %.3f after %.0f epochs): a base must generalise before "
                          "there is a circuit to forget (more epochs, or another seed)",
                          dir, cJSON_IsNumber(acc) ? acc->valuedouble : NAN, *epochs);
    cJSON_Delete(sum);
    return rc;
}

/* Seed s's base: the given one, or the preset's grown with seed s in the
 * cache (grown, or resumed, when grow is set). */
static int ensure_base(const fl_gfstudy_config *c, int s, int grow, char *dir, size_t n, double *epochs) {
    fl_grok_config g;
    base_config(c, s, &g);
    if (c->base) snprintf(dir, n, "%s", c->base);
    else {
        char cache[3072];
        study_cache_dir(c->base_cache, c->out_dir, cache, sizeof cache);
        snprintf(dir, n, "%s/grok-%s-r1-i%d-e%ld-m%d-s%d", cache, g.preset, g.intro_new, g.epochs, g.measure_every,
                 s);
        char *sum = fl_path_join(dir, "summary.json");
        const int done = sum && fl_file_exists(sum);
        free(sum);
        if (grow && !done) {
            fl_log(FL_LOG_INFO, "study: growing the grokked base of seed %d into %s (once; later studies reuse it)\n",
                   s, dir);
            if (fl_mkdirs(cache) || fl_grok_run(&g, dir)) return fl_error_wrap("growing the base of seed %d", s);
        }
    }
    return grokked(dir, epochs);
}

/* The measured fields and where each is read from in a grok run's log
 * (test_acc is a + b's test accuracy; its epoch is the life axis). */
static void field_names(const char **names, const char **grok_src) {
    fl_gf_measurement dummy = {0};
    fl_gf_measurement_fields(&dummy, names, NULL);
    names[FL_GF_NFIELDS] = "life_epoch";
    for (int i = 0; i < NF && grok_src; i++) {
        grok_src[i] = NULL;
        if (strcmp(names[i], "old_acc") == 0) grok_src[i] = "test_acc";
        if (strcmp(names[i], "old_loss") == 0) grok_src[i] = "test_loss";
        if (strcmp(names[i], "life_epoch") == 0) grok_src[i] = "epoch";
    }
}

/* Seed s's grokking log into the database as the run "grok" (once), under
 * the rate it grokked at. */
static int commit_grok(fl_results *db, const gf_plan *p, int s) {
    const char *names[NF], *src[NF];
    field_names(names, src);
    char *path = fl_path_join(p->base[s], "config.json");
    cJSON *cfg = NULL;
    if (!path || fl_json_read_file(path, &cfg)) {
        free(path);
        return -1;
    }
    free(path);
    const cJSON *lr = cJSON_GetObjectItem(cfg, "lr");
    const fl_run_key key = {"grok", cJSON_IsNumber(lr) ? lr->valuedouble : NAN, "constant", (int)p->life0[s],
                            (uint64_t)s};
    cJSON_Delete(cfg);
    char id[128];
    int done = 0;
    fl_run_id(&key, id, sizeof id);
    if (fl_results_run_done(db, id, &done)) return -1;
    return done ? 0 : study_commit_jsonl(db, &key, id, p->base[s], names, src, NF, "cs_by_a");
}

/* Plan index i trained: its base and task loaded, fine-tuned, measured. */
static int plan_train(void *ctx, int i) {
    const gf_plan *p = ctx;
    const gf_run *r = &p->runs[i];
    fl_transformer base = {0};
    fl_modarith d = {0};
    fl_gf_ctx gc = {0};
    char *cfg = NULL;
    int rc = fl_tf_load(p->base[r->seed], &base, &cfg);
    if (rc == 0) rc = fl_grok_dataset(p->base[r->seed], cfg, &d);
    if (rc == 0) rc = fl_gf_ctx_init(&gc, &base, &d, 5, p->c->cs_per, (uint64_t)r->seed);
    if (rc == 0) rc = fl_gf_finetune(&r->ft, &gc, r->dir);
    fl_gf_ctx_free(&gc);
    fl_modarith_free(&d);
    fl_tf_free(&base);
    free(cfg);
    return rc;
}

static const char *plan_id(void *ctx, int i) { return ((const gf_plan *)ctx)->runs[i].id; }
static const fl_run_key *plan_key(void *ctx, int i) { return &((const gf_plan *)ctx)->runs[i].key; }
static int plan_commit(void *ctx, fl_results *db, int i) {
    const gf_plan *p = ctx;
    const char *names[NF];
    field_names(names, NULL);
    return study_commit_jsonl(db, &p->runs[i].key, p->runs[i].id, p->runs[i].dir, names, NULL, NF, "checkpoint");
}

/* Rank 0 (or the only process): claims DIR, grows or finds the bases,
 * records the study and each base's grokking phase. */
static int setup(const fl_gfstudy_config *c, gf_plan *p, const char *grid, char **replaced) {
    int rc = study_claim(c->out_dir, p->db, grid, c->overwrite, replaced);
    if (rc == 0) rc = fl_mkdirs(c->out_dir);
    for (int s = 0; s < c->seeds && rc == 0; s++)
        rc = ensure_base(c, s, 1, p->base[s], sizeof p->base[s], &p->life0[s]);
    if (rc) return -1;
    const char *names[NF];
    static const char *fields[NF];
    field_names(names, NULL);
    memcpy(fields, names, sizeof fields);
    fl_results db;
    if (fl_results_open_with(&db, p->db, fields, NF)) return -1;
    char threads[32], setup_threads[32], shard[48] = "all";
    snprintf(threads, sizeof threads, "%d", p->run_threads);
    snprintf(setup_threads, sizeof setup_threads, "%d", c->threads > 0 ? c->threads : fl_cpu_count());
    if (c->shard[1] > 1) snprintf(shard, sizeof shard, "%d/%d", c->shard[0], c->shard[1]);
    rc = fl_results_set_meta(&db, "kind", "grok-forget");
    if (rc == 0) rc = fl_results_set_meta(&db, "shard", shard);
    if (rc == 0) rc = fl_results_set_meta(&db, "setup_threads", setup_threads);
    if (rc == 0) rc = fl_results_set_meta(&db, "phase_method", "grok");
    if (rc == 0) rc = fl_results_set_meta(&db, "version", FORGETLAB_VERSION);
    if (rc == 0) rc = fl_results_set_meta(&db, "grid", grid);
    if (rc == 0) rc = fl_results_set_meta(&db, "run_threads", threads);
    if (rc == 0) rc = fl_results_set_meta(&db, "circuit_probe", "a + b: ap-ig steps=5 loss=kl corrupt=within, "
                                                                 "by-a and by-answer, 20 random splits");
    if (rc == 0) rc = study_note_build(&db, c->out_dir);
    for (int s = 0; s < c->seeds && rc == 0; s++) {
        char key[32];
        snprintf(key, sizeof key, "base_s%d", s);
        rc = fl_results_set_meta(&db, key, p->base[s]);
        if (rc == 0) rc = commit_grok(&db, p, s);
    }
    fl_results_close(&db);
    return rc;
}

static void add_run(gf_plan *p, fl_gf_method m, double lr, int s) {
    gf_run *r = &p->runs[p->n++];
    r->ft = p->c->ft;
    r->ft.method = m, r->ft.lr = lr, r->ft.seed = (uint64_t)s, r->ft.threads = p->run_threads;
    r->ft.life_offset = p->life0[s];
    r->seed = s;
    r->key = (fl_run_key){fl_gf_method_name(m), lr, "constant", r->ft.epochs, (uint64_t)s};
    fl_run_id(&r->key, r->id, sizeof r->id);
    snprintf(r->dir, sizeof r->dir, "%s/runs/%s", p->c->out_dir, r->id);
}

static int gfstudy(const study_world *w, const void *cfg) {
    const fl_gfstudy_config *c = cfg;
    gf_plan p = {.c = c};
    char grid[1024], *replaced = NULL;
    if (parse_lists(c, &p)) return FL_BAD_REQUEST;
    const int max = c->seeds * p.nlrs * p.nmethods;
    p.runs = calloc((size_t)max, sizeof *p.runs), p.todo = malloc(sizeof(int) * (size_t)max);
    p.base = calloc((size_t)c->seeds, sizeof *p.base), p.life0 = calloc((size_t)c->seeds, sizeof *p.life0);
    int rc = p.runs && p.todo && p.base && p.life0 ? 0 : fl_error_set("out of memory");
    snprintf(p.db, sizeof p.db, "%s/results.sqlite", c->out_dir);
    grid_string(c, &p, grid, sizeof grid);
    p.run_threads = study_cmd_run_threads(c->threads, c->jobs);
    if (w->rank == 0 && rc == 0) rc = setup(c, &p, grid, &replaced);
    if (study_mpi_share(w, rc ? -1 : 0) < 0 || rc) goto out;
    for (int s = 0; s < c->seeds && rc == 0; s++)
        rc = ensure_base(c, s, 0, p.base[s], sizeof p.base[s], &p.life0[s]);
    for (int s = 0; s < c->seeds && rc == 0; s++)
        for (int k = 0; k < p.nmethods; k++)
            for (int l = 0; l < p.nlrs; l++) add_run(&p, p.methods[k], p.lrs[l], s);
    study_cmd_phase ph = {p.db, "grok-forget", p.n, c->shard[0], c->shard[1], c->jobs, c->threads, p.run_threads,
                          c->progress, plan_id, plan_key, plan_train, plan_commit, &p, p.todo, 0};
    if (rc == 0) rc = study_cmd_phase_run(w, &ph);
out:
    fl_rundir_release(replaced, rc == 0);
    free(p.runs), free(p.todo), free(p.base), free(p.life0);
    return rc;
}

int fl_gfstudy_run(const fl_gfstudy_config *c, int *writer) { return study_in_world(gfstudy, c, writer); }

int fl_gfstudy_plan_ids(const char *grid, char (**ids)[128], int *n) {
    fl_gfstudy_config c;
    fl_gfstudy_defaults(&c);
    char methods[256] = "", lrs[512] = "";
    if (study_grid_fields(grid, "grok-forget ", &c.seeds, methods, lrs, &c.ft.epochs)) return -1;
    c.methods = methods, c.lrs = lrs;
    gf_plan p = {.c = &c};
    if (parse_lists(&c, &p)) return -1;
    *n = 0;
    *ids = malloc(sizeof **ids * (size_t)(c.seeds * p.nlrs * p.nmethods));
    if (!*ids) return fl_error_set("out of memory");
    for (int s = 0; s < c.seeds; s++)
        for (int k = 0; k < p.nmethods; k++)
            for (int l = 0; l < p.nlrs; l++) {
                const fl_run_key key = {fl_gf_method_name(p.methods[k]), p.lrs[l], "constant", c.ft.epochs,
                                        (uint64_t)s};
                fl_run_id(&key, (*ids)[(*n)++], sizeof **ids);
            }
    return 0;
}
