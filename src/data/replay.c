/* replay.c: the reservoir of experience replay (replay.h). */
#include "forgetlab/data/replay.h"

#include "forgetlab/core/error.h"

#include <stdlib.h>
#include <string.h>

int fl_reservoir_init(fl_reservoir *r, int cap) {
    memset(r, 0, sizeof *r);
    if (cap < 1) return fl_error_set("replay buffer of %d examples: at least 1", cap);
    r->id = malloc(sizeof(int) * (size_t)cap);
    if (!r->id) return fl_error_set("replay buffer: out of memory for %d examples", cap);
    r->cap = cap;
    return 0;
}

void fl_reservoir_free(fl_reservoir *r) {
    free(r->id);
    memset(r, 0, sizeof *r);
}

int fl_reservoir_offer(fl_reservoir *r, int id, fl_rng *rng) {
    r->seen++;
    if (r->n < r->cap) {
        r->id[r->n] = id;
        return r->n++;
    }
    /* Algorithm R: a uniform position among all seen; kept if it is a slot. */
    const uint64_t j = fl_rng_u64(rng) % (uint64_t)r->seen;
    if (j >= (uint64_t)r->cap) return -1;
    r->id[j] = id;
    return (int)j;
}

void fl_reservoir_sample(const fl_reservoir *r, int B, fl_rng *rng, int *out) {
    for (int b = 0; b < B; b++) out[b] = r->id[fl_rng_below(rng, (uint32_t)r->n)];
}
