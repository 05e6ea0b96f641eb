/* clock.h: wall time, for timing work and for progress. */
#ifndef FORGETLAB_CLOCK_H
#define FORGETLAB_CLOCK_H

/* Seconds on a monotonic clock (only differences mean anything). */
double fl_now(void);

#endif
