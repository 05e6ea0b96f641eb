/* rundir.c: the run directory (config.json, metrics.jsonl, summary.json)
 * and atomic JSON file helpers. */
/* realpath() is XSI. */
#define _XOPEN_SOURCE 700

#include "forgetlab/store/rundir.h"

#include "forgetlab/core/blas.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/core/log.h"
#include "forgetlab/core/threads.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fl_rundir_open(fl_rundir *r, const char *dir) {
    memset(r, 0, sizeof *r);
    if (fl_mkdirs(dir)) return -1;
    r->dir = strdup(dir);
    r->metrics_path = fl_path_join(dir, "metrics.jsonl");
    if (!r->dir || !r->metrics_path) {
        fl_rundir_close(r);
        return fl_error_set("out of memory");
    }
    /* A new run starts a new log: stale lines from an earlier run in the
     * same directory would otherwise mix with this one's. */
    if (fl_write_text_atomic(r->metrics_path, "")) {
        fl_rundir_close(r);
        return -1;
    }
    return 0;
}

int fl_rundir_resume(fl_rundir *r, const char *dir, const char *key, double upto) {
    memset(r, 0, sizeof *r);
    r->dir = strdup(dir);
    r->metrics_path = fl_path_join(dir, "metrics.jsonl");
    char *text = NULL, *kept = NULL;
    size_t n = 0, used = 0;
    if (!r->dir || !r->metrics_path) goto oom;
    if (!fl_file_exists(r->metrics_path)) return fl_write_text_atomic(r->metrics_path, "");
    if (fl_read_file(r->metrics_path, &text, &n)) goto fail;
    if (!(kept = malloc(n + 1))) goto oom;
    for (char *line = text; line < text + n;) {
        char *end = memchr(line, '\n', (size_t)(text + n - line));
        if (!end) break; /* no newline: a line cut short by a kill */
        cJSON *j = cJSON_ParseWithLength(line, (size_t)(end - line));
        const cJSON *v = j ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;
        if (cJSON_IsNumber(v) && v->valuedouble <= upto) {
            memcpy(kept + used, line, (size_t)(end - line) + 1);
            used += (size_t)(end - line) + 1;
        }
        cJSON_Delete(j);
        line = end + 1;
    }
    kept[used] = '\0';
    if (fl_write_text_atomic(r->metrics_path, kept)) goto fail;
    free(text);
    free(kept);
    return 0;
oom:
    fl_error_set("out of memory");
fail:
    free(text);
    free(kept);
    fl_rundir_close(r);
    return -1;
}

void fl_rundir_close(fl_rundir *r) {
    free(r->dir);
    free(r->metrics_path);
    memset(r, 0, sizeof *r);
}

char *fl_rundir_path(const fl_rundir *r, const char *name) { return fl_path_join(r->dir, name); }

int fl_json_write_file(const char *path, const cJSON *obj) {
    char *text = cJSON_Print(obj);
    if (!text) return fl_error_set("%s: cannot serialise JSON", path);
    size_t n = strlen(text);
    char *withnl = realloc(text, n + 2);
    if (!withnl) {
        free(text);
        return fl_error_set("out of memory");
    }
    withnl[n] = '\n';
    withnl[n + 1] = '\0';
    int rc = fl_write_text_atomic(path, withnl);
    free(withnl);
    return rc;
}

/* The CPU's model name as /proc/cpuinfo gives it ("" where it does not). */
static void cpu_model(char *buf, size_t n) {
    buf[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *v = strchr(line, ':');
        if (v) snprintf(buf, n, "%.*s", (int)strcspn(v + 2, "\n"), v + 2);
        break;
    }
    if (f) fclose(f);
}

cJSON *fl_environment_json(void) {
    fl_cpu_features f;
    char feat[160], model[200];
    fl_cpu_features_detect(&f);
    fl_cpu_features_text(&f, feat, sizeof feat);
    cpu_model(model, sizeof model);
    const char *best = fl_blas_core_for(&f);
    cJSON *e = cJSON_CreateObject();
    if (!e) return NULL;
    cJSON_AddStringToObject(e, "forgetlab", fl_build_id());
    cJSON_AddStringToObject(e, "blas", fl_blas_config());
    cJSON_AddStringToObject(e, "blas_core", fl_blas_core());
    cJSON_AddStringToObject(e, "blas_core_chosen_by", fl_blas_chosen_by());
    cJSON_AddStringToObject(e, "blas_core_best", best ? best : "");
    cJSON_AddStringToObject(e, "blas_threading", fl_blas_parallel());
    cJSON_AddNumberToObject(e, "openmp", _OPENMP);
    cJSON_AddStringToObject(e, "cpu", model);
    cJSON_AddStringToObject(e, "cpu_features", feat);
    cJSON_AddNumberToObject(e, "cores", fl_cpu_count());
    return e;
}

int fl_config_write_file(const char *path, const cJSON *config) {
    cJSON *c = cJSON_Duplicate(config, 1), *e = fl_environment_json();
    if (!c || !e || !cJSON_AddItemToObject(c, "environment", e)) {
        cJSON_Delete(c), cJSON_Delete(e);
        return fl_error_set("%s: out of memory", path);
    }
    const int rc = fl_json_write_file(path, c);
    cJSON_Delete(c);
    return rc;
}

int fl_json_read_file(const char *path, cJSON **out) {
    char *text;
    size_t n;
    if (fl_read_file(path, &text, &n)) return -1;
    cJSON *obj = cJSON_ParseWithLength(text, n);
    if (!obj) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= text && at <= text + n ? (long)(at - text) : -1;
        free(text);
        return fl_error_set("%s: malformed JSON near byte %ld", path, off);
    }
    free(text);
    *out = obj;
    return 0;
}

int fl_rundir_write_json(const fl_rundir *r, const char *name, const cJSON *obj) {
    char *path = fl_rundir_path(r, name);
    if (!path) return fl_error_set("out of memory");
    int rc = fl_json_write_file(path, obj);
    free(path);
    return rc;
}

int fl_rundir_log(const fl_rundir *r, const cJSON *obj) {
    char *line = cJSON_PrintUnformatted(obj);
    if (!line) return fl_error_set("%s: cannot serialise JSON", r->metrics_path);
    int rc = fl_append_line(r->metrics_path, line);
    free(line);
    return rc;
}

/* ---- claiming an output directory ---- */

/* Whether dir holds anything at all (a missing dir holds nothing). */
/* Whether name is what an atomic write killed half-way leaves behind
 * (NAME.tmp.XXXXXX, fileio.c): never a complete file of anyone's. */
static int torn_write(const char *name) {
    const char *t = strstr(name, ".tmp.");
    return t && strlen(t) == sizeof ".tmp.XXXXXX" - 1;
}

/* Whether dir holds anything but such leftovers. */
static int dir_has_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d))) any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && !torn_write(e->d_name);
    closedir(d);
    return any;
}

/* Value of a JSON item as short text, for messages. */
static void json_brief(const cJSON *v, char *buf, size_t n) {
    char *t = v ? cJSON_PrintUnformatted(v) : NULL;
    snprintf(buf, n, "%s", t ? t : "(absent)");
    free(t);
}

int fl_rundir_claim(const char *dir, const char *command, const char *identity, int overwrite, char **replaced) {
    *replaced = NULL;
    if (!dir_has_entries(dir)) return 0;
    char *path = fl_path_join(dir, "config.json"), *db = fl_path_join(dir, "results.sqlite");
    cJSON *have = NULL, *want = identity ? cJSON_Parse(identity) : NULL;
    char what[512] = "";
    if (!path || !db) {
        free(path), free(db);
        return fl_error_set("out of memory");
    }
    if (fl_file_exists(path) && fl_json_read_file(path, &have) == 0) {
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(have, "command");
        if (!cJSON_IsString(cmd) || strcmp(cmd->valuestring, command) != 0) {
            snprintf(what, sizeof what, "a '%s' run", cJSON_IsString(cmd) ? cmd->valuestring : "?");
        } else {
            /* The same command: the same run when every setting that defines
             * it agrees (threads and the like are not among them). */
            const cJSON *item;
            cJSON_ArrayForEach(item, want) {
                const cJSON *old = cJSON_GetObjectItemCaseSensitive(have, item->string);
                if (old && cJSON_Compare(old, item, 1)) continue;
                char a[96], b[96];
                json_brief(old, a, sizeof a), json_brief(item, b, sizeof b);
                snprintf(what, sizeof what, "a '%s' run of another configuration (%s = %s there, %s here)", command,
                         item->string, a, b);
                break;
            }
        }
    } else if (fl_file_exists(db)) {
        snprintf(what, sizeof what, "a study (results.sqlite)");
    } else if (!fl_file_exists(path)) {
        /* A run killed before its config was written leaves its state and
         * log only; anything else is not ours to replace. */
        char *st = fl_path_join(dir, "state.safetensors");
        int ours = st && fl_file_exists(st);
        free(st);
        if (!ours) snprintf(what, sizeof what, "files that are not a forgetlab run");
    } else {
        snprintf(what, sizeof what, "an unreadable config.json");
    }
    cJSON_Delete(have), cJSON_Delete(want);
    free(path), free(db);
    if (!what[0]) return 0;
    if (!overwrite)
        return fl_error_set("%s holds %s: choose another --out, or add --overwrite to replace it", dir, what);
    /* Moved aside, not deleted: the caller removes it once the new run has
     * finished, and says where it is if the new run fails. */
    size_t n = strlen(dir) + 48;
    char *aside = malloc(n);
    if (!aside) return fl_error_set("out of memory");
    snprintf(aside, n, "%s.replaced-%ld", dir, (long)getpid());
    if (rename(dir, aside) != 0) {
        free(aside);
        return fl_error_set("%s: cannot move the old run aside: %s", dir, strerror(errno));
    }
    fl_log(FL_LOG_INFO, "forgetlab: --overwrite: %s (%s) moved to %s until the new run finishes\n", dir, what, aside);
    *replaced = aside;
    return 0;
}

static int remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *child = fl_path_join(path, e->d_name);
            if (child) remove_tree(child);
            free(child);
        }
        if (d) closedir(d);
        return rmdir(path);
    }
    return unlink(path);
}

void fl_rundir_release(char *replaced, int ok) {
    if (!replaced) return;
    if (ok) remove_tree(replaced);
    else fl_log(FL_LOG_INFO, "forgetlab: the replaced run is kept at %s\n", replaced);
    free(replaced);
}

int fl_out_is_not_input(const char *out, const char *input, const char *flag) {
    if (!out || !input) return 0;
    struct stat st;
    char *dir = NULL, a[PATH_MAX], b[PATH_MAX];
    /* An input file names its directory: the run it belongs to. */
    if (stat(input, &st) == 0 && !S_ISDIR(st.st_mode)) {
        const char *slash = strrchr(input, '/');
        dir = slash ? strndup(input, (size_t)(slash - input + (slash == input))) : strdup(".");
    } else {
        dir = strdup(input);
    }
    int same = dir && realpath(dir, a) && realpath(out, b) && strcmp(a, b) == 0;
    free(dir);
    if (same) return fl_error_set("--out %s is where %s %s lives: writing there would replace what this command "
                                  "reads; choose another --out", out, flag, input);
    return 0;
}
