/* data.c: what every dataset shares: where the data lives and how an
 * fl_images is released. */
#include "forgetlab/data/data.h"

#include <stdlib.h>
#include <string.h>

#ifndef FORGETLAB_DEFAULT_DATA_DIR
#define FORGETLAB_DEFAULT_DATA_DIR "data"
#endif

const char *fl_data_dir(const char *arg) {
    if (arg) return arg;
    /* An empty FORGETLAB_DATA is a variable left over from a script, not a
     * request to read the current directory. */
    const char *env = getenv("FORGETLAB_DATA");
    if (env && *env) return env;
    return FORGETLAB_DEFAULT_DATA_DIR;
}

void fl_images_free(fl_images *im) {
    if (!im) return;
    free(im->x);
    free(im->label);
    memset(im, 0, sizeof *im);
}
