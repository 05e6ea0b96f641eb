/* compare.c: `forgetlab compare` (compare.h): every study's own tables
 * read back (predictors.csv, rl_vs_sft.csv, a grok-forget study's results.csv) and
 * laid side by side by setting: findings.csv, ranking.csv, rl_vs_sft.csv
 * and cs.csv; the page and the heatmap are compare_html.c's. */
#include "compare_int.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/store/results.h"
#include "forgetlab/store/rundir.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Bad input: the error set, FL_BAD_REQUEST returned. */
#define BAD(...) (fl_error_set(__VA_ARGS__), FL_BAD_REQUEST)

/* The setting a study's kind and grid name. */
static void setting_name(const char *kind, const char *grid, char *buf, size_t n) {
    const int quick = strstr(grid, "quick=1") != NULL;
    char bench[32] = "", scenario[32] = "";
    const char *at;
    if (strcmp(kind, "lm") == 0) snprintf(buf, n, "lm-%s", quick ? "quick" : "default");
    else if (strcmp(kind, "grok-forget") == 0) snprintf(buf, n, "grok-forget-%s", quick ? "quick" : "default");
    else if (strcmp(kind, "continual") == 0) {
        if ((at = strstr(grid, "bench="))) sscanf(at, "bench=%31s", bench);
        if ((at = strstr(grid, "scenario="))) sscanf(at, "scenario=%31s", scenario);
        snprintf(buf, n, "continual-%s-%s", bench, scenario);
    } else snprintf(buf, n, "mlp");
}

/* DIR/name into t when it exists (*have), an error only when it must. */
static int read_table(const char *dir, const char *name, int need, fl_csv *t, int *have) {
    char *path = fl_path_join(dir, name);
    int rc = path ? 0 : fl_error_set("out of memory");
    *have = rc == 0 && fl_file_exists(path);
    if (rc == 0 && *have) rc = fl_csv_read(path, t);
    else if (rc == 0 && need)
        rc = BAD("%s: no %s (its analysis did not run, or an older version's did: 'forgetlab report %s')", dir, name,
                 dir);
    free(path);
    return rc;
}

/* Runs, checkpoints and seeds, as the fits see them. */
static int counts(const char *db_path, cmp_study *s) {
    fl_results db;
    fl_points p;
    if (fl_results_open_any(&db, db_path)) return -1;
    int rc = fl_results_points(&db, &p);
    fl_results_close(&db);
    if (rc) return -1;
    s->nruns = p.nruns, s->nckpts = p.n, s->nseeds = 0;
    for (int r = 0; r < p.nruns; r++) {
        int seen = 0;
        for (int q = 0; q < r && !seen; q++) seen = p.run_seed[q] == p.run_seed[r];
        s->nseeds += !seen;
    }
    fl_points_free(&p);
    return 0;
}

/* A grok run's circuit stability across its grokking (its metrics.jsonl
 * as the grokking rows of a grok-forget study's results.csv, one seed):
 * the run is a setting of its own, "grok", with no fits. */
static int load_grok_run(const char *dir, cmp_study *s) {
    char *sum = fl_path_join(dir, "summary.json"), *met = fl_path_join(dir, "metrics.jsonl"), *text = NULL;
    cJSON *j = NULL;
    size_t len = 0, tlen = 0;
    int rc = sum && met ? 0 : fl_error_set("out of memory");
    if (rc == 0 && (fl_json_read_file(sum, &j) || fl_read_file(met, &text, &len)))
        rc = BAD("%s: a grok run without its summary.json or metrics.jsonl (unfinished?)", dir);
    const cJSON *m = rc ? NULL : cJSON_GetObjectItem(j, "memorized_epoch");
    snprintf(s->kind, sizeof s->kind, "grok"), snprintf(s->setting, sizeof s->setting, "grok");
    s->memorised[0] = cJSON_IsNumber(m) ? m->valuedouble : NAN;
    s->nruns = 1, s->nseeds = 1;
    char *csv = NULL;
    FILE *f = rc ? NULL : open_memstream(&csv, &tlen);
    if (rc == 0 && !f) rc = fl_error_set("out of memory");
    if (f) {
        static const char *const COL[] = {"cs_by_a_excess", "cs_by_answer_excess"};
        fputs("phase,seed,epoch,cs_by_a_excess,cs_by_answer_excess\n", f);
        for (char *save = NULL, *p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
            cJSON *l = cJSON_Parse(p);
            const cJSON *e = cJSON_GetObjectItem(l, "epoch");
            if (cJSON_IsNumber(e)) {
                fprintf(f, "grok,0,%.17g", e->valuedouble);
                for (int c = 0; c < 2; c++) {
                    const cJSON *v = cJSON_GetObjectItem(l, COL[c]);
                    if (cJSON_IsNumber(v)) fprintf(f, ",%.17g", v->valuedouble);
                    else fputs(",", f);
                }
                fputs("\n", f);
            }
            cJSON_Delete(l);
        }
        fclose(f);
        rc = fl_csv_parse(csv, tlen, met, &s->res);
        s->has_res = rc == 0;
    }
    cJSON_Delete(j);
    free(sum), free(met), free(text), free(csv);
    return rc;
}

/* Whether dir is a grok run (its config.json says so). */
static int is_grok_run(const char *dir) {
    char *cfg = fl_path_join(dir, "config.json");
    cJSON *j = NULL;
    const int yes = cfg && fl_json_read_file(cfg, &j) == 0 &&
                    cJSON_IsString(cJSON_GetObjectItem(j, "command")) &&
                    strcmp(cJSON_GetObjectItem(j, "command")->valuestring, "grok") == 0;
    cJSON_Delete(j);
    free(cfg);
    return yes;
}

static int load(const char *dir, cmp_study *s) {
    memset(s, 0, sizeof *s);
    s->dir = dir;
    char *db = fl_path_join(dir, "results.sqlite"), grid[1024] = "";
    int have = 0, rc = db ? 0 : fl_error_set("out of memory");
    if (rc == 0 && !fl_file_exists(db) && is_grok_run(dir)) {
        free(db);
        return load_grok_run(dir, s);
    }
    if (rc == 0 && !fl_file_exists(db))
        rc = BAD("%s: not a study directory (no results.sqlite) nor a grok run", dir);
    if (rc == 0) rc = fl_results_peek_meta(db, "kind", s->kind, sizeof s->kind, &have);
    if (rc == 0 && !have) snprintf(s->kind, sizeof s->kind, "razor");
    if (rc == 0) rc = fl_results_peek_meta(db, "grid", grid, sizeof grid, &have);
    if (rc == 0) setting_name(s->kind, grid, s->setting, sizeof s->setting);
    if (rc == 0) rc = counts(db, s);
    /* A study with frontier.csv (the razor analysis) has its rl_vs_sft.csv
     * unless an older version analysed it. */
    char *front = rc ? NULL : fl_path_join(dir, "frontier.csv");
    const int razor = front && fl_file_exists(front);
    free(front);
    for (int k = 0; k < 3 && rc == 0; k++) {
        static const char *const NAME[3] = {"predictors.csv", "rl_vs_sft.csv", "results.csv"};
        fl_csv *t[3] = {&s->pred, &s->gap, &s->res};
        int *h[3] = {&s->has_pred, &s->has_gap, &s->has_res};
        if (k == 2 && strcmp(s->kind, "grok-forget") != 0) continue; /* only its grokking rows are read */
        rc = read_table(dir, NAME[k], k == 0 || (k == 1 && razor), t[k], h[k]);
    }
    for (int seed = 0; rc == 0 && strcmp(s->kind, "grok-forget") == 0 && seed < s->nseeds && seed < CMP_MAX_SEEDS;
         seed++) {
        char key[32], base[4096];
        snprintf(key, sizeof key, "base_s%d", seed);
        s->memorised[seed] = NAN;
        if (fl_results_peek_meta(db, key, base, sizeof base, &have) || !have) continue;
        char *sum = fl_path_join(base, "summary.json");
        cJSON *j = NULL;
        if (sum && fl_json_read_file(sum, &j) == 0) {
            const cJSON *m = cJSON_GetObjectItem(j, "memorized_epoch");
            if (cJSON_IsNumber(m)) s->memorised[seed] = m->valuedouble;
        }
        cJSON_Delete(j);
        free(sum);
    }
    free(db);
    return rc;
}

static void unload(cmp_study *s) {
    fl_csv_free(&s->pred), fl_csv_free(&s->gap), fl_csv_free(&s->res);
}

/* Two studies of one setting must have the same predictor columns. */
static int same_columns(const cmp_study *a, const cmp_study *b) {
    int same = a->pred.ncols == b->pred.ncols;
    for (int i = 0; same && i < a->pred.ncols; i++) same = strcmp(a->pred.head[i], b->pred.head[i]) == 0;
    return same ? 0
                : BAD("%s and %s are studies of the same setting (%s) with different columns in predictors.csv: "
                      "made by different versions?", a->dir, b->dir, a->setting);
}

static const char *const FIND_R2[] = {"r2", "r2_lo", "r2_hi", "r2_lomo", "r2_lomo_lo", "r2_lomo_hi", "spearman"};
static const char *const FIND_TAIL[] = {"r2_regime",     "r2_regime_lo",     "r2_regime_hi", "n_regime",
                                        "r2_partial_lr", "r2_partial_lr_lo", "r2_partial_lr_hi"};

static void write_findings(FILE *f, const cmp_study *st, int n) {
    fputs("setting,study,predictor,side,r2,r2_lo,r2_hi,r2_lomo,r2_lomo_lo,r2_lomo_hi,spearman,n_runs,n_checkpoints,"
          "seeds,r2_regime,r2_regime_lo,r2_regime_hi,n_regime,r2_partial_lr,r2_partial_lr_lo,r2_partial_lr_hi\n",
          f);
    for (int k = 0; k < n; k++) {
        const fl_csv *t = &st[k].pred;
        for (int r = 0; r < t->nrows; r++) {
            char num[32];
            fl_csv_put(f, st[k].setting, 0), fl_csv_put(f, st[k].dir, 0);
            fl_csv_put(f, fl_csv_get(t, r, fl_csv_col(t, "predictor")), 0);
            fl_csv_put(f, fl_csv_get(t, r, fl_csv_col(t, "side")), 0);
            for (size_t i = 0; i < sizeof FIND_R2 / sizeof *FIND_R2; i++)
                fl_csv_put(f, fl_csv_get(t, r, fl_csv_col(t, FIND_R2[i])), 0);
            /* Checkpoints: the fit's own count where the study wrote it (a
             * task-sequence study fits one point per boundary step). */
            const char *nfit = fl_csv_get(t, r, fl_csv_col(t, "n"));
            const int c[3] = {st[k].nruns, *nfit ? atoi(nfit) : st[k].nckpts, st[k].nseeds};
            for (int i = 0; i < 3; i++) snprintf(num, sizeof num, "%d", c[i]), fl_csv_put(f, num, 0);
            for (size_t i = 0; i < sizeof FIND_TAIL / sizeof *FIND_TAIL; i++)
                fl_csv_put(f, fl_csv_get(t, r, fl_csv_col(t, FIND_TAIL[i])),
                           i + 1 == sizeof FIND_TAIL / sizeof *FIND_TAIL);
        }
    }
}

static void write_ranking(FILE *f, const cmp_study *st, int n) {
    fputs("setting,study,rank,predictor,score_kind,score,score_lo,score_hi,apart_from_next,apart_from_best,vs_best,"
          "vs_best_lo,vs_best_hi\n",
          f);
    for (int k = 0; k < n; k++) {
        cmp_rank r[CMP_MAX_ROWS];
        const int m = cmp_ranking(&st[k], r, CMP_MAX_ROWS);
        for (int i = 0; i < m; i++) {
            fprintf(f, "%s,%s,%d,%s,%s,%.6g,%.6g,%.6g,%s,%s", st[k].setting, st[k].dir, i + 1, r[i].predictor,
                    r[i].kind, r[i].score, r[i].lo, r[i].hi, i + 1 < m ? r[i].lo > r[i + 1].hi ? "yes" : "no" : "",
                    i > 0 ? cmp_apart_from_best(r, i) ? "yes" : "no" : "");
            const double vs[3] = {r[i].vs, r[i].vs_lo, r[i].vs_hi};
            for (int j = 0; j < 3; j++)
                if (isfinite(vs[j])) fprintf(f, ",%.6g", vs[j]);
                else fputs(",", f);
            fputs("\n", f);
        }
    }
}

static const char *const GAP_COLS[] = {"measure", "level",   "rl_method", "rl",  "rl_lo",  "rl_hi", "sft_method",
                                       "sft",     "sft_lo", "sft_hi",    "gap", "gap_lo", "gap_hi"};

/* Each study's own rl_vs_sft.csv, and whether its sides are apart. */
static void write_rl_vs_sft(FILE *f, const cmp_study *st, int n) {
    fputs("setting,study", f);
    for (size_t i = 0; i < sizeof GAP_COLS / sizeof *GAP_COLS; i++) fprintf(f, ",%s", GAP_COLS[i]);
    fputs(",apart\n", f);
    for (int k = 0; k < n; k++)
        for (int r = 0; st[k].has_gap && r < st[k].gap.nrows; r++) {
            fl_csv_put(f, st[k].setting, 0), fl_csv_put(f, st[k].dir, 0);
            for (size_t i = 0; i < sizeof GAP_COLS / sizeof *GAP_COLS; i++)
                fl_csv_put(f, fl_csv_get(&st[k].gap, r, fl_csv_col(&st[k].gap, GAP_COLS[i])), 0);
            fprintf(f, "%s\n", cmp_gap_apart(&st[k], r) ? "yes" : "no");
        }
}

static int is_cs(const char *name) { return strncmp(name, "circuit_", 8) == 0 || strncmp(name, "cs", 2) == 0; }

static void write_cs(FILE *f, const cmp_study *st, int n) {
    fputs("setting,study,measure,against,seed,r2,r2_lo,r2_hi,spearman,at_memorised,at_end\n", f);
    for (int k = 0; k < n; k++) {
        const fl_csv *t = &st[k].pred;
        const int fp = fl_csv_col(t, "predictor");
        for (int r = 0; r < t->nrows; r++) {
            if (!is_cs(fl_csv_get(t, r, fp))) continue;
            fl_csv_put(f, st[k].setting, 0), fl_csv_put(f, st[k].dir, 0);
            fl_csv_put(f, fl_csv_get(t, r, fp), 0);
            fputs("forgetting,,", f);
            for (int i = 0; i < 3; i++) fl_csv_put(f, fl_csv_get(t, r, fl_csv_col(t, FIND_R2[i])), 0);
            fl_csv_put(f, fl_csv_get(t, r, fl_csv_col(t, "spearman")), 0);
            fputs(",\n", f);
        }
        static const char *const GROK[] = {"cs_by_a_excess", "cs_by_answer_excess"};
        for (int g = 0; g < 2; g++)
            for (int seed = 0; seed < st[k].nseeds; seed++) {
                double m, e;
                if (cmp_grokking(&st[k], GROK[g], seed, &m, &e, NULL)) continue;
                fprintf(f, "%s,%s,%s,grokking,%d,,,,,%.6g,%.6g\n", st[k].setting, st[k].dir, GROK[g], seed, m, e);
            }
    }
}

/* One table into out_dir/name, atomically. */
static int write_table(const char *out_dir, const char *name, void (*fn)(FILE *, const cmp_study *, int),
                       const cmp_study *st, int n) {
    char *text = NULL, *path = fl_path_join(out_dir, name);
    size_t len = 0;
    FILE *f = path ? open_memstream(&text, &len) : NULL;
    int rc = f ? 0 : fl_error_set("out of memory");
    if (f) {
        fn(f, st, n);
        fclose(f);
        rc = fl_write_text_atomic(path, text);
    }
    free(text), free(path);
    return rc;
}

int fl_compare(const char *const *dirs, int n, const char *out_dir, FILE *out) {
    if (n < 1) return BAD("no study to compare");
    cmp_study *st = calloc((size_t)n, sizeof *st);
    int rc = st ? 0 : fl_error_set("out of memory");
    for (int k = 0; k < n && rc == 0; k++) {
        rc = load(dirs[k], &st[k]);
        for (int j = 0; j < k && rc == 0; j++)
            if (strcmp(st[j].setting, st[k].setting) == 0) rc = same_columns(&st[j], &st[k]);
    }
    if (rc == 0) rc = fl_mkdirs(out_dir);
    if (rc == 0) rc = write_table(out_dir, "findings.csv", write_findings, st, n);
    if (rc == 0) rc = write_table(out_dir, "ranking.csv", write_ranking, st, n);
    if (rc == 0) rc = write_table(out_dir, "rl_vs_sft.csv", write_rl_vs_sft, st, n);
    if (rc == 0) rc = write_table(out_dir, "cs.csv", write_cs, st, n);
    if (rc == 0) rc = cmp_report(out_dir, st, n, out);
    for (int k = 0; st && k < n; k++) unload(&st[k]);
    free(st);
    return rc;
}
