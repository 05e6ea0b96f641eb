/* study_lm.c: `forgetlab study lm` (study_lm.h): the bases (pretrained into
 * a cache once per configuration, or given), the grid of lm-finetune runs
 * handed to the worker pool, each finished run's measured checkpoints
 * copied from its metrics.jsonl into results.sqlite in one transaction,
 * the distill phase, and the razor study's analysis on the result. */
#include "study_int.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/train/lm_pretrain.h"
#include "forgetlab/train/study_lm.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/train/step.h"
#include "forgetlab/core/log.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default grid: from the rate the base's pretraining ended at down by
 * half decades, so that no run leaves pretraining's regime and the lowest
 * shows the small-update one (quick: 1e-5 .. 3e-4; default: 6.7e-6 .. 2e-4). */
static const double GRID_FRACS[] = {1.0 / 30, 1.0 / 10, 1.0 / 3, 1.0};
enum { GRID_N = sizeof GRID_FRACS / sizeof *GRID_FRACS };

static int default_lrs(int quick, double *lrs) {
    fl_lm_config lc;
    fl_lm_defaults(&lc);
    fl_lm_preset(&lc, quick ? "quick" : "default");
    for (int k = 0; k < GRID_N; k++) {
        char b[32]; /* two significant digits: the grid as it is written */
        snprintf(b, sizeof b, "%.2g", fl_lm_final_lr(&lc) * GRID_FRACS[k]);
        lrs[k] = strtod(b, NULL);
    }
    return GRID_N;
}

void fl_lmstudy_defaults(fl_lmstudy_config *c) {
    memset(c, 0, sizeof *c);
    c->seeds = 1, c->progress = 1;
    fl_lmft_defaults(&c->ft);
    c->ft.progress = 0, c->ft.epochs = 2;
    /* An SFT epoch costs about a twentieth of an RL one (no sampling, one
     * sequence per prompt instead of a group): four times the epochs still
     * gives SFT a fifth of RL's compute (docs/lm.md). */
    c->sft_epochs = 8;
}

static int parse_shard(const char *v, void *field) {
    fl_lmstudy_config *c = (fl_lmstudy_config *)((char *)field - offsetof(fl_lmstudy_config, shard_index));
    return fl_parse_shard(v, &c->shard_index, &c->shard_count);
}
static void format_shard(const void *field, char *buf, size_t n) {
    const fl_lmstudy_config *c =
        (const fl_lmstudy_config *)((const char *)field - offsetof(fl_lmstudy_config, shard_index));
    if (c->shard_count > 0) snprintf(buf, n, "%d/%d", c->shard_index, c->shard_count);
    else buf[0] = '\0';
}

#define F(field) offsetof(fl_lmstudy_config, field)
const fl_setting FL_LMSTUDY_SETTINGS[] = {
    {"quick", FL_SET_FLAG, F(quick), 0, 0, NULL, "the quick base (2 layers, width 64) and its grid of rates", NULL,
     NULL, NULL},
    {"seeds", FL_SET_INT, F(seeds), 1, 100, "N", "seeds 0..N-1, each its own base and runs", NULL, NULL, NULL},
    {"methods", FL_SET_STRING, F(methods), 0, 0, "LIST",
     "comma-separated methods (default: sft, sft-alt, rft, grpo, grpo-kl, reinforce, simpo, sft-teacher, sft-any, "
     "sft-self, then distill)", NULL, NULL, NULL},
    {"lrs", FL_SET_STRING, F(lrs), 0, 0, "LIST",
     "comma-separated learning rates (default: 1e-5,3e-5,1e-4,3e-4 with --quick, else 6.7e-6 .. 2e-4: up to the rate "
     "pretraining ended at)", NULL, NULL, NULL},
    {"no-distill", FL_SET_FLAG, F(no_distill), 0, 0, NULL, "no distill runs", NULL, NULL, NULL},
    {"base", FL_SET_STRING, F(base), 0, 0, "DIR", "a pretrained language model for every seed (no pretraining)", NULL,
     NULL, NULL},
    {"base-cache", FL_SET_STRING, F(base_cache), 0, 0, "DIR",
     "where bases are pretrained and kept (default: $FORGETLAB_CACHE, else ~/.cache/forgetlab)", NULL, NULL, NULL},
    {"epochs", FL_SET_INT, F(ft.epochs), 1, 1000, "N", "passes over the new task's training prompts", NULL, NULL, NULL},
    {"sft-epochs", FL_SET_INT, F(sft_epochs), 0, 1000, "N",
     "the supervised methods' passes, with as many checkpoints (0: --epochs)", NULL, NULL, NULL},
    {"batch", FL_SET_INT, F(ft.batch), 1, 4096, "N", "training prompts per step", NULL, NULL, NULL},
    {"group-size", FL_SET_INT, F(ft.group_size), 2, 1024, "G", "on-policy: completions per prompt", NULL, NULL, NULL},
    {"checkpoint-every", FL_SET_DOUBLE, F(ft.checkpoint_every), 1e-3, 1e3, "X", "epochs between measured checkpoints",
     NULL, NULL, NULL},
    {"new-samples", FL_SET_INT, F(ft.measure.new_samples), 1, 1024, "N",
     "measurement: samples per new-task test prompt", NULL, NULL, NULL},
    {"prior-prompts", FL_SET_INT, F(ft.measure.prior_prompts), 1, 100000, "N",
     "measurement: test prompts per prior skill", NULL, NULL, NULL},
    {"prior-kl-prompts", FL_SET_INT, F(ft.measure.prior_kl_prompts), 1, 100000, "N",
     "measurement: prompts per prior skill for the outcome-side divergences", NULL, NULL, NULL},
    {"fisher-n", FL_SET_INT, F(ft.measure.fisher_n), 1, 100000, "N", "measurement: sequences of the base's Fisher",
     NULL, NULL, NULL},
    {"cs-per", FL_SET_INT, F(ft.measure.cs_per), 0, 10000, "N",
     "measurement: prompts per subtask of reverse for circuit stability (0: none)", NULL, NULL, NULL},
    {"cs-steps", FL_SET_INT, F(ft.measure.cs_steps), 1, 1000, "M", "measurement: circuit stability's integrated-"
     "gradient steps", NULL, NULL, NULL},
    {"shard", FL_SET_CUSTOM, F(shard_index), 0, 0, "I/N",
     "run only the I-th (1 <= I <= N) of N disjoint parts of the sweep (no distill), each into its own --out; "
     "'forgetlab merge' combines them", NULL, parse_shard, format_shard},
    {"jobs", FL_SET_INT, F(jobs), 0, 1024, "N", "concurrent runs (default: one per core)", NULL, NULL, NULL},
    FL_SETTING_THREADS(F(threads)),
    FL_SETTING_DATA_DIR(F(data_dir)),
};
#undef F
const int FL_LMSTUDY_NSETTINGS = (int)(sizeof FL_LMSTUDY_SETTINGS / sizeof *FL_LMSTUDY_SETTINGS);

/* One run of the plan. */
typedef struct {
    fl_lmft_config ft;
    fl_run_key key;
    char id[128];
    char dir[4096];
} lm_run;

typedef struct {
    const fl_lmstudy_config *c;
    char (*base)[4096];       /* each seed's base */
    char (*teacher)[4096];    /* each seed's foreign teacher (sft-teacher) */
    fl_lmft_method methods[FL_LMFT_NMETHODS];
    int nmethods;
    double lrs[FL_LMSTUDY_MAX_LRS];
    int nlrs;
    lm_run *runs;
    int n;
    int *todo;               /* room for the phase's plan indices to do */
    char db[4096];
    int run_threads;
} lm_plan;

static int parse_lists(const fl_lmstudy_config *c, lm_plan *p) {
    p->nmethods = 0;
    if (!c->methods) {
        /* sft-teacher needs a base of another seed: not with one --base */
        for (int m = 0; m < FL_LMFT_NMETHODS; m++)
            if (m != FL_LMFT_DISTILL && !(m == FL_LMFT_SFT_TEACHER && c->base))
                p->methods[p->nmethods++] = (fl_lmft_method)m;
    } else {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", c->methods);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            fl_lmft_method m;
            if (fl_lmft_method_parse(t, &m)) return fl_error_wrap("--methods");
            for (int k = 0; k < p->nmethods; k++)
                if (p->methods[k] == m) return fl_error_set("--methods: %s named twice", t);
            if (m == FL_LMFT_DISTILL) continue; /* the distill phase, after the sweep */
            if (m == FL_LMFT_SFT_TEACHER && c->base)
                return fl_error_set("--methods sft-teacher: its teacher grows from another seed's base, which one "
                                    "--base for every seed does not give");
            p->methods[p->nmethods++] = m;
        }
    }
    p->nlrs = 0;
    if (!c->lrs) {
        p->nlrs = default_lrs(c->quick, p->lrs);
        return 0;
    }
    return study_parse_lrs(c->lrs, p->lrs, FL_LMSTUDY_MAX_LRS, &p->nlrs);
}

/* The supervised methods' epochs. */
static int sft_epochs(const fl_lmstudy_config *c) { return c->sft_epochs > 0 ? c->sft_epochs : c->ft.epochs; }

/* Whether distill runs follow the sweep: they need grpo runs to learn from. */
static int with_distill(const fl_lmstudy_config *c, const lm_plan *p) {
    if (c->no_distill || c->shard_count > 1) return 0;
    int grpo = 0;
    for (int k = 0; k < p->nmethods; k++) grpo |= p->methods[k] == FL_LMFT_GRPO;
    return grpo && (!c->methods || strstr(c->methods, "distill"));
}

/* What makes two studies' grids the same, as recorded in results.sqlite. */
static void grid_string(const fl_lmstudy_config *c, const lm_plan *p, char *buf, size_t n) {
    size_t off = (size_t)snprintf(buf, n, "lm quick=%d seeds=%d methods=", c->quick, c->seeds);
    for (int k = 0; k < p->nmethods && off < n; k++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s", k ? "," : "", fl_lmft_method_name(p->methods[k]));
    if (with_distill(c, p) && off < n) off += (size_t)snprintf(buf + off, n - off, ",distill");
    for (int k = 0; k < p->nlrs && off < n; k++) off += (size_t)snprintf(buf + off, n - off, "%s%g", k ? "," : " lrs=", p->lrs[k]);
    const fl_lmft_config *f = &c->ft;
    if (off < n)
        snprintf(buf + off, n - off,
                 " epochs=%d sft_epochs=%d batch=%d group=%d ckpt=%g samples=%d prior=%d prior_kl=%d fisher=%d cs=%d/%d base=%s",
                 f->epochs, sft_epochs(c), f->batch, f->group_size, f->checkpoint_every, f->measure.new_samples,
                 f->measure.prior_prompts, f->measure.prior_kl_prompts, f->measure.fisher_n, f->measure.cs_per,
                 f->measure.cs_steps,
                 c->base ? c->base : c->quick ? "quick" : "default");
}

/* Whether a run directory holds a finished run. */
static int finished(const char *dir) {
    char *sum = fl_path_join(dir, "summary.json");
    const int done = sum && fl_file_exists(sum);
    free(sum);
    return done;
}

/* Seed s's base: the given one, or the preset's pretrained with seed s in
 * the cache (with pretrain: lm-pretrain resumes, or finds it done; without,
 * its path only). */
static int ensure_base(const fl_lmstudy_config *c, int s, int pretrain, char *dir, size_t n) {
    if (c->base) {
        snprintf(dir, n, "%s", c->base);
        return 0;
    }
    char cache[3072];
    study_cache_dir(c->base_cache, c->out_dir, cache, sizeof cache);
    const char *preset = c->quick ? "quick" : "default";
    snprintf(dir, n, "%s/lm-%s-s%d", cache, preset, s);
    if (finished(dir) || !pretrain) return 0;
    fl_lm_config lc;
    fl_lm_defaults(&lc);
    fl_lm_preset(&lc, preset);
    lc.seed = (uint64_t)s, lc.threads = c->threads, lc.progress = c->progress, lc.data_dir = c->data_dir;
    fl_log(FL_LOG_INFO, "study: pretraining the %s base of seed %d into %s (once; later studies reuse it)\n", preset, s,
            dir);
    if (fl_mkdirs(cache) || fl_lm_pretrain_run(&lc, dir)) return fl_error_wrap("pretraining the base of seed %d", s);
    return 0;
}

/* FNV-1a of n bytes: names a teacher's settings and checks a base's file. */
static uint64_t fnv1a(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* Whether the plan has sft-teacher runs. */
static int taught_by_another(const lm_plan *p) {
    for (int k = 0; k < p->nmethods; k++)
        if (p->methods[k] == FL_LMFT_SFT_TEACHER) return 1;
    return 0;
}

/* Seed s's foreign teacher for sft-teacher: a grpo run of seed s + 1's
 * base at the grid's top rate for the study's epochs, on seed s's split
 * of the new task (so the teacher learnt on the student's training
 * prompts only), measured once at its end; kept beside the bases, made
 * when make is set (its base pretrained too, if need be). */
static int ensure_teacher(const fl_lmstudy_config *c, const lm_plan *p, int s, int make, char *dir, size_t n) {
    char cache[3072], base[4096];
    study_cache_dir(c->base_cache, c->out_dir, cache, sizeof cache);
    double lr = p->lrs[0];
    for (int k = 1; k < p->nlrs; k++) lr = p->lrs[k] > lr ? p->lrs[k] : lr;
    ensure_base(c, s + 1, 0, base, sizeof base);
    fl_lmft_config t = c->ft;
    t.method = FL_LMFT_GRPO, t.has_method = 1, t.lr = lr, t.seed = (uint64_t)s, t.base = base;
    t.data_dir = c->data_dir, t.threads = c->threads, t.progress = c->progress;
    t.checkpoint_every = t.epochs;
    /* The directory's name carries every setting the teacher's numbers
     * depend on (a hash of its recorded settings), so a study with other
     * settings grows its own teacher instead of reusing this one. */
    cJSON *j = cJSON_CreateObject();
    fl_settings_to_json(j, FL_LMFT_SETTINGS, FL_LMFT_NSETTINGS, &t);
    char *text = cJSON_PrintUnformatted(j);
    const uint64_t h = fnv1a(text ? text : "", text ? strlen(text) : 0);
    cJSON_free(text), cJSON_Delete(j);
    snprintf(dir, n, "%s/lm-%s-s%d-grpo-for-s%d-%016llx", cache, c->quick ? "quick" : "default", s + 1, s,
             (unsigned long long)h);
    if (!make || finished(dir)) return 0;
    if (ensure_base(c, s + 1, 1, base, sizeof base)) return -1;
    fl_log(FL_LOG_INFO, "study: growing seed %d's teacher for sft-teacher from the base of seed %d into %s (once)\n",
           s, s + 1, dir);
    if (fl_lmft_run(&t, dir)) return fl_error_wrap("the teacher of seed %d", s);
    return 0;
}

static void add_run(lm_plan *p, fl_lmft_method m, double lr, int s, const char *teacher) {
    lm_run *r = &p->runs[p->n++];
    r->ft = p->c->ft;
    if (fl_lmft_is_sft(m) && sft_epochs(p->c) != r->ft.epochs) {
        /* As many measured checkpoints as every other run. */
        r->ft.checkpoint_every *= (double)sft_epochs(p->c) / r->ft.epochs;
        r->ft.epochs = sft_epochs(p->c);
    }
    r->ft.method = m, r->ft.has_method = 1, r->ft.lr = lr, r->ft.seed = (uint64_t)s;
    r->ft.base = p->base[s], r->ft.teacher = teacher, r->ft.data_dir = p->c->data_dir;
    r->ft.threads = p->run_threads, r->ft.progress = 0, r->ft.overwrite = 0;
    r->key = (fl_run_key){fl_lmft_method_name(m), lr, "constant", r->ft.epochs, (uint64_t)s};
    fl_run_id(&r->key, r->id, sizeof r->id);
    snprintf(r->dir, sizeof r->dir, "%s/runs/%s", p->c->out_dir, r->id);
}

/* The run's measured checkpoints (metrics.jsonl lines with new_acc) and
 * final figures into the database. */
static int commit_run(fl_results *db, const lm_run *r) {
    const char *names[FL_LM_NFIELDS];
    fl_lm_measurement dummy = {0};
    fl_lm_measurement_fields(&dummy, names, NULL);
    return study_commit_jsonl(db, &r->key, r->id, r->dir, names, NULL, FL_LM_NFIELDS, "new_acc");
}

/* The phase's callbacks (study_cmd_phase). */
static const char *plan_id(void *ctx, int i) { return ((const lm_plan *)ctx)->runs[i].id; }
static const fl_run_key *plan_key(void *ctx, int i) { return &((const lm_plan *)ctx)->runs[i].key; }
static int plan_train(void *ctx, int i) {
    const lm_plan *p = ctx;
    return fl_lmft_run(&p->runs[i].ft, p->runs[i].dir);
}
static int plan_commit(void *ctx, fl_results *db, int i) { return commit_run(db, &((const lm_plan *)ctx)->runs[i]); }

static int run_phase(const study_world *w, lm_plan *p, const char *label) {
    study_cmd_phase ph = {p->db, label, p->n, p->c->shard_index, p->c->shard_count, p->c->jobs, p->c->threads,
                          p->run_threads, p->c->progress, plan_id, plan_key, plan_train, plan_commit, p, p->todo, 0};
    return study_cmd_phase_run(w, &ph);
}

/* FNV-1a of the model file of a base (a run directory or the file). */
static int file_hash(const char *base, uint64_t *h) {
    char *model = fl_path_join(base, "model.safetensors"), *data = NULL;
    size_t n = 0;
    int rc = model ? fl_read_file(fl_file_exists(model) ? model : base, &data, &n) : fl_error_set("out of memory");
    *h = fnv1a(data, rc == 0 ? n : 0);
    free(model), free(data);
    return rc;
}

/* Rank 0 (or the only process): claims DIR, makes sure of the bases and
 * records the study in results.sqlite. */
static int setup(const fl_lmstudy_config *c, lm_plan *p, const char *grid, char **replaced) {
    int rc = study_claim(c->out_dir, p->db, grid, c->overwrite, replaced);
    if (rc == 0) rc = fl_mkdirs(c->out_dir);
    for (int s = 0; s < c->seeds && rc == 0; s++) {
        char arch[32];
        rc = ensure_base(c, s, 1, p->base[s], sizeof p->base[s]);
        if (rc == 0) rc = fl_checkpoint_arch(p->base[s], arch, sizeof arch);
        if (rc == 0 && strcmp(arch, "gpt"))
            rc = fl_error_set("--base %s: a model of arch '%s', not a language model (lm-pretrain writes one)",
                              p->base[s], arch);
        if (rc == 0 && taught_by_another(p)) rc = ensure_teacher(c, p, s, 1, p->teacher[s], sizeof p->teacher[s]);
    }
    if (rc) return -1;
    const char *names[FL_LM_NFIELDS];
    static const char *fields[FL_LM_NFIELDS];
    fl_lm_measurement dummy = {0};
    fl_lm_measurement_fields(&dummy, names, NULL);
    memcpy(fields, names, sizeof fields);
    fl_results db;
    if (fl_results_open_with(&db, p->db, fields, FL_LM_NFIELDS)) return -1;
    char threads[32];
    snprintf(threads, sizeof threads, "%d", p->run_threads);
    char shard[48], setup_threads[32], probe[64], bases[8192] = "";
    if (c->shard_count > 1) snprintf(shard, sizeof shard, "%d/%d", c->shard_index, c->shard_count);
    else snprintf(shard, sizeof shard, "all");
    snprintf(setup_threads, sizeof setup_threads, "%d", c->threads > 0 ? c->threads : fl_cpu_count());
    snprintf(probe, sizeof probe, "reverse ap-ig kl within per=%d steps=%d", c->ft.measure.cs_per,
             c->ft.measure.cs_steps);
    /* What the parts of a sharded study must share: the same bases, byte
     * for byte (a cache on another machine may hold other ones). */
    for (int s = 0; s < c->seeds && rc == 0; s++) {
        size_t off = strlen(bases);
        uint64_t h = 0;
        rc = file_hash(p->base[s], &h);
        snprintf(bases + off, sizeof bases - off, "%ss%d:%016llx", s ? " " : "", s, (unsigned long long)h);
        /* ... and the same foreign teachers. */
        if (rc == 0 && taught_by_another(p)) {
            off = strlen(bases);
            rc = file_hash(p->teacher[s], &h);
            snprintf(bases + off, sizeof bases - off, " t%d:%016llx", s, (unsigned long long)h);
        }
    }
    if (rc == 0) rc = fl_results_set_meta(&db, "kind", "lm");
    if (rc == 0) rc = fl_results_set_meta(&db, "version", FORGETLAB_VERSION);
    if (rc == 0) rc = fl_results_set_meta(&db, "grid", grid);
    if (rc == 0) rc = fl_results_set_meta(&db, "run_threads", threads);
    if (rc == 0) rc = fl_results_set_meta(&db, "shard", shard);
    if (rc == 0) rc = fl_results_set_meta(&db, "setup_threads", setup_threads);
    if (rc == 0) rc = fl_results_set_meta(&db, "circuit_probe", probe);
    if (rc == 0) rc = fl_results_set_meta(&db, "bases", bases);
    if (rc == 0) rc = study_note_build(&db, c->out_dir);
    for (int s = 0; s < c->seeds && rc == 0; s++) {
        char key[32];
        snprintf(key, sizeof key, "base_s%d", s);
        rc = fl_results_set_meta(&db, key, p->base[s]);
    }
    fl_results_close(&db);
    return rc;
}

/* Each seed's distill runs, taught by its best grpo run (every rank reads
 * it from the database, which rank 0 finished writing). */
static int distill_phase(const study_world *w, lm_plan *p) {
    const fl_lmstudy_config *c = p->c;
    char (*teacher)[4096] = calloc((size_t)c->seeds, sizeof *teacher);
    if (!teacher) return fl_error_set("out of memory");
    fl_results db;
    int rc = fl_results_open_any(&db, p->db);
    for (int s = 0; s < c->seeds && rc == 0; s++) {
        char id[128];
        rc = fl_results_best_run(&db, "grpo", s, id, sizeof id);
        snprintf(teacher[s], sizeof teacher[s], "%s/runs/%s", c->out_dir, id);
    }
    if (db.db) fl_results_close(&db);
    p->n = 0;
    for (int s = 0; s < c->seeds && rc == 0; s++)
        for (int l = 0; l < p->nlrs; l++) add_run(p, FL_LMFT_DISTILL, p->lrs[l], s, teacher[s]);
    if (rc == 0) rc = run_phase(w, p, "lm distill");
    free(teacher);
    return rc;
}

static int lmstudy(const study_world *w, const void *cfg) {
    const fl_lmstudy_config *c = cfg;
    lm_plan p = {.c = c};
    char grid[1024], *replaced = NULL;
    if (parse_lists(c, &p)) return FL_BAD_REQUEST;
    const int max = c->seeds * p.nlrs * (p.nmethods + 1);
    p.runs = calloc((size_t)max, sizeof *p.runs), p.todo = malloc(sizeof(int) * (size_t)max);
    p.base = calloc((size_t)c->seeds, sizeof *p.base), p.teacher = calloc((size_t)c->seeds, sizeof *p.teacher);
    int rc = p.runs && p.todo && p.base && p.teacher ? 0 : fl_error_set("out of memory");
    snprintf(p.db, sizeof p.db, "%s/results.sqlite", c->out_dir);
    grid_string(c, &p, grid, sizeof grid);
    p.run_threads = study_cmd_run_threads(c->threads, c->jobs);
    if (w->rank == 0 && rc == 0) rc = setup(c, &p, grid, &replaced);
    if (study_mpi_share(w, rc ? -1 : 0) < 0 || rc) goto out;
    for (int s = 0; s < c->seeds && rc == 0; s++) {
        rc = ensure_base(c, s, 0, p.base[s], sizeof p.base[s]);
        if (rc == 0) rc = ensure_teacher(c, &p, s, 0, p.teacher[s], sizeof p.teacher[s]);
    }
    for (int s = 0; s < c->seeds && rc == 0; s++)
        for (int k = 0; k < p.nmethods; k++)
            for (int l = 0; l < p.nlrs; l++)
                add_run(&p, p.methods[k], p.lrs[l], s, p.methods[k] == FL_LMFT_SFT_TEACHER ? p.teacher[s] : NULL);
    if (rc == 0) rc = run_phase(w, &p, "lm sweep");
    if (rc == 0 && with_distill(c, &p)) rc = distill_phase(w, &p);
out:
    fl_rundir_release(replaced, rc == 0);
    free(p.runs), free(p.todo), free(p.base), free(p.teacher);
    return rc;
}

int fl_lmstudy_run(const fl_lmstudy_config *c, int *writer) { return study_in_world(lmstudy, c, writer); }

int fl_lmstudy_plan_ids(const char *grid, char (**ids)[128], int *n) {
    fl_lmstudy_config c;
    fl_lmstudy_defaults(&c);
    char methods[256] = "", lrs[512] = "";
    const char *at;
    if (study_grid_fields(grid, "lm ", &c.seeds, methods, lrs, &c.ft.epochs)) return -1;
    /* A grid written before --sft-epochs has none: every method ran --epochs. */
    c.sft_epochs = 0;
    if ((at = strstr(grid, " sft_epochs=")) && sscanf(at, " sft_epochs=%d", &c.sft_epochs) != 1)
        return fl_error_set("not a language-model study's grid: '%s'", grid);
    c.methods = methods, c.lrs = lrs;
    lm_plan p = {.c = &c};
    if (parse_lists(&c, &p)) return -1;
    const int distill = strstr(methods, "distill") != NULL;
    *n = 0;
    *ids = malloc(sizeof **ids * (size_t)(c.seeds * p.nlrs * (p.nmethods + 1)));
    if (!*ids) return fl_error_set("out of memory");
    for (int s = 0; s < c.seeds; s++)
        for (int k = 0; k < p.nmethods + distill; k++)
            for (int l = 0; l < p.nlrs; l++) {
                const fl_lmft_method m = k < p.nmethods ? p.methods[k] : FL_LMFT_DISTILL;
                const fl_run_key key = {fl_lmft_method_name(m), p.lrs[l], "constant",
                                        fl_lmft_is_sft(m) ? sft_epochs(&c) : c.ft.epochs, (uint64_t)s};
                fl_run_id(&key, (*ids)[(*n)++], sizeof **ids);
            }
    return 0;
}
