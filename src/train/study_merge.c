/* study_merge.c: `forgetlab merge`: combines the shard directories of one
 * study (--shard I/N, run anywhere, e.g. as a SLURM job array) into one
 * study directory, then analyses it as if one process had run the grid.
 *
 * Any kind of study: razor's, the language model's (study_lm.c), the task
 * sequences', the grok-forget study's, whose plan it rebuilds from the
 * recorded grid and whose bases it checks by the hashes each part recorded. It refuses what would not give that
 * study: directories of different kinds, versions, grids, threads per run
 * or base models, two copies of one shard,
 * and (unless partial) runs of the grid that no directory finished. Merging
 * again into the same directory adds what is new and keeps what is there. */
#define _DEFAULT_SOURCE /* realpath, DT_* */
#include "study_int.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/train/study_continual.h"
#include "forgetlab/train/study_grokforget.h"
#include "forgetlab/train/study_lm.h"
#include "forgetlab/core/log.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What a study directory says about itself (results.sqlite, table study). */
typedef struct {
    char kind[16], version[32], grid[1024], shard[48], threads[32], setup[32], probe[96], bases[1024];
    int shard_index, shard_count; /* 0 0: the whole grid */
} study_info;

static char *db_path(const char *dir) { return fl_path_join(dir, "results.sqlite"); }

/* Reads dir's record; need_db: a missing database is an error (else *found 0). */
static int read_info(const char *dir, study_info *info, int need_db, int *found) {
    memset(info, 0, sizeof *info);
    *found = 0;
    char *path = db_path(dir);
    if (!path) return fl_error_set("out of memory");
    if (!fl_file_exists(path)) {
        free(path);
        return need_db ? fl_error_set("%s: no results.sqlite (not a study directory)", dir) : 0;
    }
    fl_results db;
    int rc = fl_results_open_any(&db, path), have = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0;
    free(path);
    if (rc) return -1;
    rc = fl_results_get_meta(&db, "grid", info->grid, sizeof info->grid, &have);
    if (rc == 0) rc = fl_results_get_meta(&db, "version", info->version, sizeof info->version, &h2);
    if (rc == 0) rc = fl_results_get_meta(&db, "shard", info->shard, sizeof info->shard, &h3);
    if (rc == 0) rc = fl_results_get_meta(&db, "run_threads", info->threads, sizeof info->threads, &h4);
    if (rc == 0) rc = fl_results_get_meta(&db, "setup_threads", info->setup, sizeof info->setup, &h5);
    if (rc == 0) rc = fl_results_get_meta(&db, "circuit_probe", info->probe, sizeof info->probe, &h6);
    int h7, h8;
    if (rc == 0) rc = fl_results_get_meta(&db, "kind", info->kind, sizeof info->kind, &h7);
    if (rc == 0 && !h7) snprintf(info->kind, sizeof info->kind, "razor");
    if (rc == 0) rc = fl_results_get_meta(&db, "bases", info->bases, sizeof info->bases, &h8);
    fl_results_close(&db);
    if (rc) return -1;
    if (!have || !h2 || !h3 || !h4 || !h5 || !h6)
        return fl_error_set("%s: results.sqlite has no study record (made before shards existed: run the study "
                            "again with this version)", dir);
    if (strcmp(info->shard, "all") != 0 &&
        sscanf(info->shard, "%d/%d", &info->shard_index, &info->shard_count) != 2)
        return fl_error_set("%s: unreadable shard '%s' in results.sqlite", dir, info->shard);
    *found = 1;
    return 0;
}

/* The fields two parts of one study must share; what differs, named. */
static int same_study(const char *dir, const study_info *a, const char *dir0, const study_info *b) {
    if (strcmp(a->kind, b->kind) != 0)
        return fl_error_set("%s: a study of kind %s, %s of kind %s", dir, a->kind, dir0, b->kind);
    if (strcmp(a->bases, b->bases) != 0)
        return fl_error_set("%s: its base models (%s) differ from %s's (%s): the parts must share their bases, "
                            "byte for byte", dir, a->bases, dir0, b->bases);
    if (strcmp(a->version, b->version) != 0)
        return fl_error_set("%s: made by forgetlab %s, %s by %s", dir, a->version, dir0, b->version);
    if (strcmp(a->grid, b->grid) != 0)
        return fl_error_set("%s: grid '%s' differs from %s's '%s'", dir, a->grid, dir0, b->grid);
    if (strcmp(a->probe, b->probe) != 0)
        return fl_error_set("%s: circuit probe '%s' differs from %s's '%s'", dir, a->probe, dir0, b->probe);
    if (strcmp(a->threads, b->threads) != 0)
        return fl_error_set("%s: ran %s thread(s) per run, %s ran %s (the numbers would differ in the last bits: "
                            "give every part the same --threads and --jobs)", dir, a->threads, dir0, b->threads);
    if (strcmp(a->setup, b->setup) != 0)
        return fl_error_set("%s: measured with %s thread(s), %s with %s (the numbers would differ in the last bits: "
                            "give every part the same --threads)", dir, a->setup, dir0, b->setup);
    return 0;
}

/* Whether two files hold the same bytes. */
static int same_file(const char *a, const char *b, int *same) {
    char *da = NULL, *db = NULL;
    size_t na = 0, nb = 0;
    int rc = fl_read_file(a, &da, &na);
    if (rc == 0) rc = fl_read_file(b, &db, &nb);
    *same = rc == 0 && na == nb && memcmp(da, db, na) == 0;
    free(da);
    free(db);
    return rc;
}

/* The seed count a grid string names (1 if it names none). */
static int grid_seeds(const char *grid) {
    const char *at = strstr(grid, "seeds=");
    int s = 1;
    if (at && (sscanf(at, "seeds=%d", &s) != 1 || s < 1)) s = 1;
    return s;
}

/* Every seed's base model of dir equals dir0's. */
static int same_bases(const char *dir, const char *dir0, int seeds) {
    int rc = 0;
    for (int s = 0; s < seeds && rc == 0; s++) {
        char name[32];
        study_base_dir(s, name, sizeof name);
        char *b = fl_path_join(dir, name), *b0 = fl_path_join(dir0, name);
        char *m = b ? fl_path_join(b, "model.safetensors") : NULL, *m0 = b0 ? fl_path_join(b0, "model.safetensors") : NULL;
        int same = 0;
        rc = m && m0 ? same_file(m, m0, &same) : fl_error_set("out of memory");
        if (rc == 0 && !same)
            rc = fl_error_set("%s: its base model %s differs from %s's (the parts must share their base models: "
                              "docs/scaling.md)", dir, name, dir0);
        free(b);
        free(b0);
        free(m);
        free(m0);
    }
    return rc;
}

/* Copies the regular files of src into dst (created), skipping those dst
 * already has; with depth 1, each subdirectory the same way (runs/ID/). */
static int copy_files(const char *src, const char *dst, int depth) {
    DIR *d = opendir(src);
    if (!d) return 0; /* nothing to copy: a part without runs/ */
    int rc = fl_mkdirs(dst);
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *s = fl_path_join(src, e->d_name), *t = fl_path_join(dst, e->d_name);
        struct stat st;
        if (!s || !t) {
            rc = fl_error_set("out of memory");
        } else if (stat(s, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (depth > 0) rc = copy_files(s, t, depth - 1);
        } else if (S_ISREG(st.st_mode) && !fl_file_exists(t)) {
            char *data = NULL;
            size_t n = 0;
            rc = fl_read_file(s, &data, &n);
            if (rc == 0) rc = fl_write_file_atomic(t, data, n);
            free(data);
        }
        free(s);
        free(t);
    }
    closedir(d);
    return rc;
}

static int copy_subdir(const char *from, const char *to, const char *name, int depth) {
    char *s = fl_path_join(from, name), *t = fl_path_join(to, name);
    int rc = s && t ? copy_files(s, t, depth) : fl_error_set("out of memory");
    free(s);
    free(t);
    return rc;
}

/* The ids of every run of the study's plan, in plan order. */
static int plan_ids(const study_info *info, char (**ids)[128], int *n) {
    if (strcmp(info->kind, "lm") == 0) return fl_lmstudy_plan_ids(info->grid, ids, n);
    if (strcmp(info->kind, "continual") == 0) return fl_clstudy_plan_ids(info->grid, ids, n);
    if (strcmp(info->kind, "grok-forget") == 0) return fl_gfstudy_plan_ids(info->grid, ids, n);
    fl_razor_config c;
    fl_razor_defaults(&c);
    if (study_grid_parse(info->grid, &c)) return -1;
    planned_run *runs = fl_malloc((size_t)study_max_runs(&c) * sizeof *runs, "run plan");
    *ids = runs ? fl_malloc((size_t)study_max_runs(&c) * sizeof **ids, "run plan") : NULL;
    if (!*ids) {
        free(runs);
        return -1;
    }
    int nmethods;
    const fl_ft_method *methods = study_methods(&c, &nmethods);
    *n = 0;
    study_plan(&c, methods, nmethods, NULL, runs, n);
    for (int i = 0; i < *n; i++) snprintf((*ids)[i], sizeof **ids, "%s", runs[i].id);
    free(runs);
    return 0;
}

/* Which runs of the plan each directory finished: a run finished by two
 * parts is reported, one finished by none is missing. */
static int check_runs(const char *const *dirs, int n, const char *out, const study_info *info, int partial) {
    char(*ids)[128] = NULL;
    int nplan = 0, rc = plan_ids(info, &ids, &nplan), missing = 0, dups = 0, first_missing = -1, first_dup = -1;
    int dup_dir = 0;
    int *where = rc ? NULL : fl_malloc((size_t)(nplan > 0 ? nplan : 1) * sizeof *where, "run owners");
    if (!where) rc = -1;
    for (int i = 0; i < nplan && rc == 0; i++) where[i] = -1;
    /* Directory n is out: what an earlier merge there already holds. */
    for (int k = 0; k <= n && rc == 0; k++) {
        const char *dir = k < n ? dirs[k] : out;
        char *path = db_path(dir);
        fl_results db;
        if (!path || (k == n && !fl_file_exists(path))) {
            free(path);
            continue;
        }
        rc = fl_results_open_any(&db, path);
        free(path);
        for (int i = 0; i < nplan && rc == 0; i++) {
            int done = 0;
            rc = fl_results_run_done(&db, ids[i], &done);
            if (rc || !done) continue;
            if (where[i] >= 0 && k < n && dups++ == 0) {
                first_dup = i;
                dup_dir = k;
            }
            if (where[i] < 0) where[i] = k;
        }
        if (db.db) fl_results_close(&db);
    }
    for (int i = 0; i < nplan && rc == 0; i++)
        if (where[i] < 0 && missing++ == 0) first_missing = i;
    if (rc == 0 && dups > 0)
        fl_log(FL_LOG_WARN, "forgetlab merge: %d run(s) finished in more than one directory (e.g. %s in %s and %s); "
                "kept the first copy\n", dups, ids[first_dup], dirs[where[first_dup]], dirs[dup_dir]);
    if (rc == 0 && missing > 0) {
        char shard[64] = "";
        if (info->shard_count > 1)
            snprintf(shard, sizeof shard, " of shard %d/%d", first_missing % info->shard_count + 1, info->shard_count);
        if (!partial)
            rc = fl_error_set("%d of %d runs are missing (e.g. %s%s): finish or add that part (rerunning its "
                              "command resumes it), or merge with --partial", missing, nplan, ids[first_missing],
                              shard);
        else
            fl_log(FL_LOG_WARN, "forgetlab merge: %d of %d runs missing (e.g. %s%s); merged the rest (--partial)\n",
                    missing, nplan, ids[first_missing], shard);
    }
    free(ids);
    free(where);
    return rc;
}

/* Checks every part against the first (and out, if an earlier merge wrote
 * it), and that no shard is given twice. */
static int check_parts(const char *const *dirs, int n, const char *out, study_info *info0) {
    char real_out[PATH_MAX];
    int have_out = realpath(out, real_out) != NULL, found;
    study_info *info = fl_calloc((size_t)n, sizeof *info, "study records");
    int rc = info ? 0 : -1;
    for (int k = 0; k < n && rc == 0; k++) {
        char real[PATH_MAX];
        if (have_out && realpath(dirs[k], real) && strcmp(real, real_out) == 0)
            rc = fl_error_set("%s: the output directory is one of the parts: merge into a new directory", dirs[k]);
        if (rc == 0) rc = read_info(dirs[k], &info[k], 1, &found);
        if (rc == 0 && k > 0) rc = same_study(dirs[k], &info[k], dirs[0], &info[0]);
        if (rc == 0 && k > 0 && info[k].shard_count != info[0].shard_count)
            rc = fl_error_set("%s: shard %s, but %s is shard %s: parts of different splits", dirs[k], info[k].shard,
                              dirs[0], info[0].shard);
        for (int j = 0; j < k && rc == 0; j++)
            if (info[k].shard_count > 1 && info[j].shard_index == info[k].shard_index)
                rc = fl_error_set("%s: shard %s given twice (also %s)", dirs[k], info[k].shard, dirs[j]);
        if (rc == 0 && k > 0 && strcmp(info[0].kind, "razor") == 0)
            rc = same_bases(dirs[k], dirs[0], grid_seeds(info[0].grid));
    }
    if (rc == 0) *info0 = info[0];
    free(info);
    if (rc) return -1;
    study_info prev;
    if (read_info(out, &prev, 0, &found)) return fl_error_wrap("merging into %s", out);
    if (found && same_study(out, &prev, dirs[0], info0)) return -1;
    if (found && strcmp(prev.shard, "all") != 0)
        return fl_error_set("%s: holds shard %s, not a merged study: merge into a new directory", out, prev.shard);
    return 0;
}

/* The values of one identity of the parts' makers (each part's all_key,
 * else first_key: the builds, or the matrix kernels), each once, in the
 * order met; *count of them. */
static int part_values(const char *const *dirs, int n, const char *first_key, const char *all_key, char *all,
                       size_t cap, int *count) {
    all[0] = '\0';
    *count = 0;
    for (int k = 0; k < n; k++) {
        char *src = db_path(dirs[k]), v[1024] = "";
        int have = 0;
        int rc = src ? fl_results_peek_meta(src, all_key, v, sizeof v, &have) : fl_error_set("out of memory");
        if (rc == 0 && !have) rc = fl_results_peek_meta(src, first_key, v, sizeof v, &have);
        free(src);
        if (rc) return -1;
        for (char *save = NULL, *b = have ? strtok_r(v, ",", &save) : NULL; b; b = strtok_r(NULL, ",", &save)) {
            if (strstr(all, b)) continue;
            const size_t len = strlen(all);
            snprintf(all + len, cap - len, "%s%s", len ? "," : "", b);
            (*count)++;
        }
    }
    return 0;
}

/* Carries the parts' builds and kernels over ("build" and "blas": the
 * first; "builds" and "blas_all": all), warning where the parts differ. */
static int merge_makers(fl_results *db, const char *const *dirs, int n) {
    static const struct {
        const char *first, *all, *warning;
    } K[] = {{"build", "builds", "merge: the parts were made by %d builds of forgetlab (%s): their runs are merged "
                                 "as each made them\n"},
             {"blas", "blas_all", "merge: the parts ran on %d sets of matrix kernels (%s): the same seeds give "
                                  "other numbers on each, and their runs are merged as each made them\n"}};
    for (size_t i = 0; i < sizeof K / sizeof *K; i++) {
        char all[1024], first[160];
        int count = 0;
        if (part_values(dirs, n, K[i].first, K[i].all, all, sizeof all, &count)) return -1;
        if (count > 1) fl_log(FL_LOG_WARN, K[i].warning, count, all);
        if (!all[0]) continue;
        snprintf(first, sizeof first, "%.*s", (int)strcspn(all, ","), all);
        if (fl_results_set_meta(db, K[i].first, first) || fl_results_set_meta(db, K[i].all, all)) return -1;
    }
    return 0;
}

int fl_razor_merge(const char *const *dirs, int n, const char *out, int partial, int *added) {
    study_info info;
    if (check_parts(dirs, n, out, &info) || check_runs(dirs, n, out, &info, partial)) return -1;
    if (fl_mkdirs(out)) return -1;
    /* The merged database takes the parts' columns. */
    char *path = db_path(out), *first = db_path(dirs[0]);
    fl_results db = {0}, part = {0};
    int orc = path && first ? fl_results_open_any(&part, first) : fl_error_set("out of memory");
    if (orc == 0) orc = fl_results_open_with(&db, path, part.fields, part.nfields);
    free(path), free(first);
    if (orc) {
        if (part.db) fl_results_close(&part);
        return -1;
    }
    int rc = 0, copied = 0, total = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        char *src = db_path(dirs[k]);
        int dups = 0;
        rc = src ? fl_results_import(&db, src, &copied, &dups) : fl_error_set("out of memory");
        total += copied;
        free(src);
        if (rc == 0) rc = copy_subdir(dirs[k], out, "runs", 1);
    }
    if (rc == 0) rc = fl_results_set_meta(&db, "version", info.version);
    if (rc == 0) rc = fl_results_set_meta(&db, "grid", info.grid);
    if (rc == 0) rc = fl_results_set_meta(&db, "shard", "all");
    if (rc == 0) rc = fl_results_set_meta(&db, "run_threads", info.threads);
    if (rc == 0) rc = fl_results_set_meta(&db, "setup_threads", info.setup);
    if (rc == 0) rc = fl_results_set_meta(&db, "circuit_probe", info.probe);
    if (rc == 0 && strcmp(info.kind, "razor") != 0) rc = fl_results_set_meta(&db, "kind", info.kind);
    if (rc == 0 && info.bases[0]) rc = fl_results_set_meta(&db, "bases", info.bases);
    if (rc == 0) rc = merge_makers(&db, dirs, n);
    for (int s = -1; s < grid_seeds(info.grid) && rc == 0; s++) {
        char key[32], v[4096];
        int have = 0;
        /* Each seed's base, and the method of a phase before the runs
         * (grok-forget's grokking), which the fits leave out. */
        if (s < 0) snprintf(key, sizeof key, "phase_method");
        else snprintf(key, sizeof key, "base_s%d", s);
        rc = fl_results_get_meta(&part, key, v, sizeof v, &have);
        if (rc == 0 && have) rc = fl_results_set_meta(&db, key, v);
    }
    fl_results_close(&db);
    fl_results_close(&part);
    /* A razor study's base models too: resuming, or adding the distill runs,
     * needs them (a language-model study's live in the cache it names). */
    for (int s = 0; s < grid_seeds(info.grid) && rc == 0 && strcmp(info.kind, "razor") == 0; s++) {
        char name[32];
        study_base_dir(s, name, sizeof name);
        rc = copy_subdir(dirs[0], out, name, 0);
    }
    if (rc) return -1;
    if (added) *added = total;
    return 0;
}
