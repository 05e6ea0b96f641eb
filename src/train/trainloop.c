/* trainloop.c: the skeleton of a training loop: fresh start or resume,
 * config.json, atomic state saves, the progress line (trainloop.h). */
#include "forgetlab/train/trainloop.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <stdlib.h>
#include <string.h>

int fl_loop_begin(fl_loop *L, const fl_loop_spec *s, fl_rundir *rd) {
    memset(L, 0, sizeof *L);
    L->s = *s;
    L->rd = rd;
    if (!(L->state_path = fl_path_join(s->dir, "state.safetensors"))) return fl_error_set("out of memory");
    int resumed = s->resumable ? fl_trainstate_load(L->state_path, &s->state) : 0;
    if (resumed < 0) return -1;
    /* config.json first: a run killed at any moment leaves a directory that
     * is empty or says whose it is, so its rerun recognises it. */
    char *cfg = fl_path_join(s->dir, "config.json");
    int rc = cfg && fl_mkdirs(s->dir) == 0 ? fl_config_write_file(cfg, s->config) : -1;
    free(cfg);
    if (rc) return -1;
    if (resumed ? fl_rundir_resume(rd, s->dir, s->resume_key, (double)*s->position) : fl_rundir_open(rd, s->dir))
        return -1;
    if (s->progress) fl_progress_start(&L->pb, s->label, s->total);
    L->drawing = s->progress;
    return resumed;
}

int fl_loop_save(fl_loop *L) { return fl_trainstate_save(L->state_path, &L->s.state); }

void fl_loop_update(fl_loop *L, long done, const char *extra) {
    if (L->drawing) fl_progress_update(&L->pb, done, extra);
}

void fl_loop_end(fl_loop *L) {
    if (L->drawing) fl_progress_finish(&L->pb);
    L->drawing = 0;
}

void fl_loop_free(fl_loop *L) {
    fl_loop_end(L);
    free(L->state_path);
    L->state_path = NULL;
}
