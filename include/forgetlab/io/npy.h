/* npy.h: NumPy .npy arrays (format version 1.0, '<f4' C order; labels
 * '<i4', or '<i8' read).
 *
 * The interchange format for logits, circuit vectors and matrices: a user
 * opens them with numpy.load(). */
#ifndef FORGETLAB_NPY_H
#define FORGETLAB_NPY_H

#include <stdint.h>

#define FL_NPY_MAX_DIMS 8

/* Writes data (product of shape floats) atomically. ndim 0..8. */
int fl_npy_write(const char *path, const float *data, int ndim, const int64_t *shape);
/* Writes n labels as a one-dimensional '<i4' array, atomically. */
int fl_npy_write_ints(const char *path, const int32_t *data, int64_t n);

/* Reads a '<f4' C-order array. Checks magic, version, header syntax, dtype,
 * order, shape and that the file holds exactly the data the header
 * announces, before allocating. *data is malloc'ed. */
int fl_npy_read(const char *path, float **data, int *ndim, int64_t *shape);

/* Reads a one-dimensional array of labels: '<i8' or '<i4' (NumPy's integer
 * arrays), or '<f4' holding whole numbers; every element a non-negative
 * integer, else an error naming the file and the element. */
int fl_npy_read_ints(const char *path, int **data, int64_t *n);

#endif
