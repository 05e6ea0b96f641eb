/* fuzz_idx.c: the Fashion-MNIST IDX readers, through zlib, so one target
 * covers gzip and plain files (the corpus holds both). Each input goes to
 * both the image and the label reader: the magic decides which accepts. */
#include "fuzz_util.h"

#include "forgetlab/data/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char *path;
    if (!path) path = fz_path("data.idx.gz");
    fz_write(path, data, size);
    float *x = NULL;
    int n = 0, rows = 0, cols = 0;
    if (fl_idx_read_images(path, &x, &n, &rows, &cols) == 0) {
        if (n < 1 || rows < 1 || cols < 1) abort();
        volatile float last = x[(size_t)n * (size_t)rows * (size_t)cols - 1];
        (void)last;
        free(x);
    }
    int *labels = NULL;
    if (fl_idx_read_labels(path, &labels, &n) == 0) {
        if (n < 1) abort();
        for (int i = 0; i < n; i++)
            if (labels[i] < 0 || labels[i] > 255) abort();
        free(labels);
    }
    return 0;
}
