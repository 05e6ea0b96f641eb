/* rundir.c: the run directory (config.json, metrics.jsonl, summary.json)
 * and atomic JSON file helpers. */
#include "forgetlab/rundir.h"

#include "forgetlab/error.h"
#include "forgetlab/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
