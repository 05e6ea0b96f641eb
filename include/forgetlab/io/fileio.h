/* fileio.h: atomic writes and whole-file reads.
 *
 * Every file forgetlab produces is written to a temporary file in the same
 * directory, fsync'ed, then renamed over the destination (and the directory
 * fsync'ed), so a killed process leaves either the old file or the new one,
 * never a truncated mix. */
#ifndef FORGETLAB_FILEIO_H
#define FORGETLAB_FILEIO_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *fp;
    char *path;      /* destination */
    char *tmp_path;  /* temporary file beside it */
    int failed;      /* a write failed: commit will refuse */
} fl_afile;

/* Opens a temporary file beside path for writing. */
int fl_afile_open(fl_afile *f, const char *path);
int fl_afile_write(fl_afile *f, const void *data, size_t n);
/* Flushes, fsyncs, renames over path; frees f. On failure the temporary
 * file is removed and the destination is untouched. */
int fl_afile_commit(fl_afile *f);
/* Discards the temporary file; frees f. */
void fl_afile_abort(fl_afile *f);

/* One-shot atomic write of a buffer / a NUL-terminated string. */
int fl_write_file_atomic(const char *path, const void *data, size_t n);
int fl_write_text_atomic(const char *path, const char *text);

/* Reads a whole file into a malloc'ed buffer (NUL-terminated, *n excludes
 * the NUL). */
int fl_read_file(const char *path, char **data, size_t *n);

/* Appends one line (a '\n' is added) to path and fsyncs it: metrics.jsonl.
 * A crash may lose the last line, never corrupt earlier ones. */
int fl_append_line(const char *path, const char *line);

/* mkdir -p. */
int fl_mkdirs(const char *path);
int fl_file_exists(const char *path);
/* Joins dir and name into a malloc'ed "dir/name". */
char *fl_path_join(const char *dir, const char *name);

/* What built this program: "VERSION+CRC" with the CRC-32 of the file
 * that holds forgetlab's code (the executable, /proc/self/exe, or the
 * shared library a host such as Python loaded; "VERSION+unknown" where it
 * cannot be read),
 * so two builds from different code tell themselves apart even at the
 * same version. Computed once. */
const char *fl_build_id(void);

#endif
