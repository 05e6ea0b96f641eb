/* study_record.c: one run of the study as a record: ready its seed's base
 * (measurement context and probabilities, the first time a run needs
 * it), run it (fine-tune, measuring every checkpoint into memory), write
 * the record's rows in one transaction, and pack it into bytes for
 * another process to write. */
#include "study_int.h"

#include "forgetlab/core/clock.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/train/step.h"
#include "forgetlab/core/log.h"
#include "forgetlab/core/threads.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int on_checkpoint(void *user, int idx, long step, double epoch, const fl_measurement *m) {
    run_record *rec = user;
    if (rec->nckpt == rec->cap) {
        int cap = rec->cap ? 2 * rec->cap : 16;
        run_checkpoint *p = realloc(rec->ckpt, (size_t)cap * sizeof *p);
        if (!p) return fl_error_set("out of memory (checkpoints of run %d)", rec->run);
        rec->ckpt = p;
        rec->cap = cap;
    }
    rec->ckpt[rec->nckpt++] = (run_checkpoint){idx, step, epoch, *m};
    return 0;
}

int study_base_ready(const sweep *sw, int s) {
    study_base *b = &sw->bases[s];
    if (b->probs) return 0;
    const int was = fl_get_threads();
    fl_set_threads(sw->c->threads);
    int rc = fl_measure_ctx_init(&b->mctx, &b->model, fl_data_dir(sw->c->data_dir), FL_MEASURE_FISHER_N,
                                 &sw->c->probe, 0);
    if (rc == 0 && !(b->probs = fl_model_probs(&b->model, sw->train))) {
        fl_measure_ctx_free(&b->mctx);
        rc = -1;
    }
    fl_set_threads(was);
    return rc;
}

int study_record_run(const sweep *sw, int i, run_record *rec) {
    const planned_run *r = &sw->runs[i];
    memset(rec, 0, sizeof *rec);
    rec->run = i;
    char *runs_dir = fl_path_join(sw->c->out_dir, "runs"), *dir = runs_dir ? fl_path_join(runs_dir, r->id) : NULL;
    free(runs_dir);
    if (!dir) {
        rec->status = RUN_FAILED;
        snprintf(rec->error, sizeof rec->error, "out of memory");
        return 0;
    }
    const study_base *b = &sw->bases[r->key.seed];
    char base_dir[32];
    study_base_dir((int)r->key.seed, base_dir, sizeof base_dir);
    if (study_base_ready(sw, (int)r->key.seed)) {
        free(dir);
        rec->status = RUN_FAILED;
        snprintf(rec->error, sizeof rec->error, "%s", fl_error_msg());
        return 0;
    }
    fl_finetune_config ft = r->ft;
    ft.base_probs = b->probs;
    double t0 = fl_now();
    int rc = fl_finetune_run(&ft, &b->model, sw->train, &b->mctx, dir, base_dir, on_checkpoint, rec, &rec->final,
                             &rec->times[1]);
    free(dir);
    rec->times[0] = fl_now() - t0;
    rec->times[2] = rec->final.eval_s;
    rec->times[3] = rec->final.predictors_s;
    rec->times[4] = rec->final.circuit_s;
    /* One run's divergence is a result, not a failure of the study. */
    rec->status = rc == 0 ? RUN_DONE : rc == FL_DIVERGED ? RUN_DIVERGED : RUN_FAILED;
    if (rc) snprintf(rec->error, sizeof rec->error, "%s", fl_error_msg());
    return 0;
}

int study_record_commit(fl_results *db, const sweep *sw, const run_record *rec) {
    const planned_run *r = &sw->runs[rec->run];
    if (rec->status == RUN_FAILED) return fl_error_set("run %s: %s", r->id, rec->error);
    if (rec->status == RUN_DIVERGED) fl_log(FL_LOG_WARN, "forgetlab study: run %s: %s\n", r->id, rec->error);
    if (fl_results_begin(db)) return fl_error_wrap("run %s", r->id);
    /* An earlier attempt killed half-way may have left checkpoints behind
     * (studies written before runs were committed whole did). */
    int rc = fl_results_begin_run(db, r->id);
    for (int k = 0; rc == 0 && k < rec->nckpt; k++) {
        const run_checkpoint *ck = &rec->ckpt[k];
        rc = fl_results_add_checkpoint(db, &r->key, r->id, ck->idx, ck->step, ck->epoch, &ck->m);
    }
    if (rc == 0)
        rc = rec->status == RUN_DIVERGED ? fl_results_mark_diverged(db, &r->key, r->id, rec->error)
                                         : fl_results_finish_run(db, &r->key, r->id, &rec->final, rec->times);
    if (rc == 0) rc = fl_results_commit(db);
    if (rc) {
        fl_results_rollback(db);
        fl_error_wrap("run %s", r->id);
    }
    return rc;
}

void study_record_free(run_record *rec) {
    free(rec->ckpt);
    rec->ckpt = NULL;
    rec->nckpt = rec->cap = 0;
}

/* The header of a packed record: the sizes of what follows it, so bytes
 * from a different build are refused instead of misread. */
typedef struct {
    uint32_t magic, rec_size, ckpt_size, nckpt;
} pack_header;

#define PACK_MAGIC 0x464c5231u /* "FLR1" */

int study_record_pack(const run_record *rec, void **buf, size_t *n) {
    pack_header h = {PACK_MAGIC, (uint32_t)sizeof *rec, (uint32_t)sizeof(run_checkpoint), (uint32_t)rec->nckpt};
    size_t size = sizeof h + sizeof *rec + (size_t)rec->nckpt * sizeof(run_checkpoint);
    unsigned char *p = fl_malloc(size, "a packed run record");
    if (!p) return -1;
    run_record flat = *rec;
    flat.ckpt = NULL; /* the pointer means nothing elsewhere; the rows follow */
    flat.cap = 0;
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, &flat, sizeof flat);
    if (rec->nckpt) memcpy(p + sizeof h + sizeof flat, rec->ckpt, (size_t)rec->nckpt * sizeof(run_checkpoint));
    *buf = p;
    *n = size;
    return 0;
}

int study_record_unpack(const void *buf, size_t n, run_record *rec) {
    const unsigned char *p = buf;
    pack_header h;
    memset(rec, 0, sizeof *rec);
    if (n < sizeof h) return fl_error_set("a run record of %zu bytes is too short", n);
    memcpy(&h, p, sizeof h);
    if (h.magic != PACK_MAGIC || h.rec_size != sizeof *rec || h.ckpt_size != sizeof(run_checkpoint))
        return fl_error_set("a run record from a different build of forgetlab (run every rank from one build)");
    if (n != sizeof h + sizeof *rec + (size_t)h.nckpt * sizeof(run_checkpoint))
        return fl_error_set("a run record of %zu bytes does not hold its %u checkpoints", n, h.nckpt);
    memcpy(rec, p + sizeof h, sizeof *rec);
    rec->error[sizeof rec->error - 1] = '\0';
    rec->nckpt = rec->cap = 0;
    rec->ckpt = NULL;
    if (h.nckpt) {
        rec->ckpt = fl_malloc((size_t)h.nckpt * sizeof(run_checkpoint), "run record checkpoints");
        if (!rec->ckpt) return -1;
        memcpy(rec->ckpt, p + sizeof h + sizeof *rec, (size_t)h.nckpt * sizeof(run_checkpoint));
        rec->nckpt = rec->cap = (int)h.nckpt;
    }
    return 0;
}
