/* fashion.c: Fashion-MNIST as Debian's dataset-fashion-mnist ships it, a
 * pair of IDX files (images, labels) per split. The pair is checked against
 * each other, since a mismatched pair would silently mislabel every image. */
#include "forgetlab/data/data.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DIR/fashion-mnist/PREFIX-KIND-ubyte.gz, malloc'ed. */
static char *fashion_path(const char *data_dir, const char *prefix, const char *kind) {
    char name[64];
    snprintf(name, sizeof name, "fashion-mnist/%s-%s-ubyte.gz", prefix, kind);
    return fl_path_join(data_dir, name);
}

int fl_fashion_load(const char *data_dir, const char *split, fl_images *out) {
    memset(out, 0, sizeof *out);
    const char *prefix;
    if (split && strcmp(split, "train") == 0)
        prefix = "train";
    else if (split && strcmp(split, "test") == 0)
        prefix = "t10k";
    else
        return fl_error_set("%s: unknown Fashion-MNIST split (expected train or test)",
                            split ? split : "(null)");
    char *img_path = fashion_path(data_dir, prefix, "images-idx3");
    char *lab_path = fashion_path(data_dir, prefix, "labels-idx1");
    fl_images im = {0};
    int nlab = 0, rc = -1;
    if (!img_path || !lab_path) goto out;
    if (fl_idx_read_images(img_path, &im.x, &im.n, &im.rows, &im.cols)) goto out;
    if (fl_idx_read_labels(lab_path, &im.label, &nlab)) goto out;
    if (nlab != im.n) {
        fl_error_set("%s: %d labels for the %d images of %s", lab_path, nlab, im.n, img_path);
        goto out;
    }
    for (int i = 0; i < nlab; i++) {
        if (im.label[i] > 9) {
            fl_error_set("%s: label %d of item %d is outside 0..9", lab_path, im.label[i], i);
            goto out;
        }
    }
    *out = im;
    rc = 0;
out:
    if (rc) fl_images_free(&im);
    free(img_path);
    free(lab_path);
    return rc;
}
