/* replay.h: the experience-replay buffer of continual learning: a
 * reservoir (Vitter's algorithm R) of at most cap examples drawn from a
 * stream, so that after n >= cap examples every one of them is in the
 * buffer with probability cap / n, whatever the order they came in; and
 * uniform draws of a minibatch from it. The buffer holds example ids (the
 * caller keeps the data). */
#ifndef FORGETLAB_REPLAY_H
#define FORGETLAB_REPLAY_H

#include "forgetlab/core/rng.h"

typedef struct {
    int cap, n;     /* room, examples held */
    long seen;      /* examples offered so far */
    int *id;        /* [cap] */
} fl_reservoir;

/* cap >= 1, else -1 with the error set. */
int fl_reservoir_init(fl_reservoir *r, int cap);
void fl_reservoir_free(fl_reservoir *r);
/* Offers example id: kept while the buffer has room, then in place of a
 * uniform slot with probability cap / seen. Returns the slot it took, or
 * -1 when it was not kept. */
int fl_reservoir_offer(fl_reservoir *r, int id, fl_rng *rng);
/* B ids drawn uniformly, with replacement, from the buffer (n >= 1). */
void fl_reservoir_sample(const fl_reservoir *r, int B, fl_rng *rng, int *out);

#endif
