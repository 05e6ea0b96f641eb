/* trainloop.h: the skeleton every training command's loop shares
 * (pretrain, finetune, grok, and those to come): start a fresh run
 * directory or resume from DIR/state.safetensors, write config.json, save
 * the resumable state atomically at the command's checkpoints, and draw
 * the progress line. The command keeps its own step and its own cadence;
 * the skeleton keeps what was written three times before it.
 *
 *   fl_loop L;
 *   int resumed = fl_loop_begin(&L, &spec, &rd);   // 1: state loaded
 *   for (long u = *spec.position; u < total; u++) {
 *       ... one step or epoch, its divergence checks (step.h) ...
 *       if (checkpoint due) { *spec.position = u + 1; fl_loop_save(&L); }
 *       fl_loop_update(&L, u + 1, "loss 0.1234");
 *   }
 *   fl_loop_end(&L);
 *   ... the final save, the model, the summary ...
 *   fl_loop_free(&L);
 */
#ifndef FORGETLAB_TRAINLOOP_H
#define FORGETLAB_TRAINLOOP_H

#include "forgetlab/core/progress.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/store/trainstate.h"

typedef struct {
    const char *dir;
    const struct cJSON *config; /* written as DIR/config.json */
    /* What the state holds; its kind and configuration text are checked
     * when resuming (a state of another configuration is refused). */
    fl_trainstate state;
    long *position;             /* units done (steps or epochs): one of state's longs */
    const char *resume_key;     /* the metrics.jsonl field that gives a line's position */
    int resumable;              /* 0: always start afresh (a study redoes whole runs) */
    const char *label;          /* the progress line's */
    long total;                 /* units in the whole run */
    int progress;               /* draw the progress line */
} fl_loop_spec;

typedef struct {
    fl_loop_spec s;
    fl_rundir *rd;
    char *state_path;
    fl_progress pb;
    int drawing;                /* the progress line was started */
} fl_loop;

/* Opens rd: from the saved state when s->resumable and DIR holds one
 * (everything s->state points to is loaded, metrics.jsonl cut back to its
 * position; returns 1), else fresh (0); writes config.json and starts the
 * progress line. -1 (error set) on failure. */
int fl_loop_begin(fl_loop *L, const fl_loop_spec *s, fl_rundir *rd);
/* Writes the state (atomically) as it is now. */
int fl_loop_save(fl_loop *L);
/* The progress line at done units, with extra text. */
void fl_loop_update(fl_loop *L, long done, const char *extra);
/* Ends the progress line (once; later calls do nothing). */
void fl_loop_end(fl_loop *L);
/* Ends the progress line if it is still drawn and frees the loop (not rd). */
void fl_loop_free(fl_loop *L);

#endif
