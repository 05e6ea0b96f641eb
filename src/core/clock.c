/* clock.c: the monotonic wall clock every timing in forgetlab reads. */
#include "forgetlab/core/clock.h"

#include <time.h>

double fl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
