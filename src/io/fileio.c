/* fileio.c: atomic writes (temporary file beside the destination, fsync,
 * rename, fsync of the directory), whole-file reads, durable line appends
 * and small path helpers. */
#define _GNU_SOURCE /* dladdr */
#include "forgetlab/io/fileio.h"

#include "forgetlab/core/error.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* The directory part of path ("." when there is none), malloc'ed. */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

/* A rename is only durable once the directory entry itself reaches the disk.
 * This is best effort: by now the new file is already in place, and some
 * file systems refuse fsync on directories, so a failure here must not make
 * the caller believe the old file is still there. */
static void fsync_dir_of(const char *path) {
    char *dir = dir_of(path);
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    free(dir);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

/* mkstemp creates files with mode 0600; a result file should get the
 * permissions an ordinary fopen would give it. The umask can only be read
 * race-free from /proc; elsewhere assume the common 022. */
static mode_t current_umask(void) {
    mode_t mask = 022;
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp) return mask;
    char line[256];
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "Umask:", 6) == 0) {
            mask = (mode_t)strtol(line + 6, NULL, 8);
            break;
        }
    }
    fclose(fp);
    return mask;
}

static void afile_release(fl_afile *f) {
    free(f->path);
    free(f->tmp_path);
    f->fp = NULL;
    f->path = NULL;
    f->tmp_path = NULL;
}

int fl_afile_open(fl_afile *f, const char *path) {
    memset(f, 0, sizeof *f);
    if (!path || !*path) return fl_error_set("(empty path): cannot write a file without a name");
    size_t n = strlen(path);
    f->path = strdup(path);
    f->tmp_path = malloc(n + sizeof ".tmp.XXXXXX");
    if (!f->path || !f->tmp_path) {
        afile_release(f);
        return fl_error_set("%s: out of memory", path);
    }
    memcpy(f->tmp_path, path, n);
    memcpy(f->tmp_path + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(f->tmp_path);
    if (fd < 0) {
        int e = errno;
        afile_release(f);
        return fl_error_set("%s: cannot create a temporary file beside it: %s", path, strerror(e));
    }
    (void)fchmod(fd, 0666 & ~current_umask());
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        int e = errno;
        close(fd);
        unlink(f->tmp_path);
        afile_release(f);
        return fl_error_set("%s: cannot open the temporary file: %s", path, strerror(e));
    }
    return 0;
}

int fl_afile_write(fl_afile *f, const void *data, size_t n) {
    if (!f->fp) return fl_error_set("%s: write to a closed file", f->path ? f->path : "(closed)");
    if (f->failed) return fl_error_set("%s: an earlier write failed", f->path);
    if (n == 0) return 0;
    if (fwrite(data, 1, n, f->fp) != n) {
        f->failed = 1;
        return fl_error_set("%s: write failed: %s", f->path, strerror(errno));
    }
    return 0;
}

int fl_afile_commit(fl_afile *f) {
    if (!f->fp) {
        afile_release(f);
        return fl_error_set("(closed): commit of a file that is not open");
    }
    int rc = 0;
    if (f->failed) {
        rc = fl_error_set("%s: not written because an earlier write failed", f->path);
    } else if (fflush(f->fp) != 0) {
        rc = fl_error_set("%s: write failed: %s", f->path, strerror(errno));
    } else if (fsync(fileno(f->fp)) != 0) {
        rc = fl_error_set("%s: fsync failed: %s", f->path, strerror(errno));
    }
    /* fclose can report a deferred write error (e.g. on NFS). */
    if (fclose(f->fp) != 0 && rc == 0)
        rc = fl_error_set("%s: write failed: %s", f->path, strerror(errno));
    f->fp = NULL;
    if (rc == 0 && rename(f->tmp_path, f->path) != 0)
        rc = fl_error_set("%s: cannot rename the temporary file into place: %s", f->path,
                          strerror(errno));
    if (rc == 0)
        fsync_dir_of(f->path);
    else
        unlink(f->tmp_path);
    afile_release(f);
    return rc;
}

void fl_afile_abort(fl_afile *f) {
    if (f->fp) fclose(f->fp);
    if (f->tmp_path) unlink(f->tmp_path);
    afile_release(f);
}

int fl_write_file_atomic(const char *path, const void *data, size_t n) {
    fl_afile f;
    if (fl_afile_open(&f, path)) return -1;
    if (fl_afile_write(&f, data, n)) {
        fl_afile_abort(&f);
        return -1;
    }
    return fl_afile_commit(&f);
}

int fl_write_text_atomic(const char *path, const char *text) {
    return fl_write_file_atomic(path, text, strlen(text));
}

int fl_read_file(const char *path, char **data, size_t *n) {
    *data = NULL;
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return fl_error_set("%s: cannot open: %s", path, strerror(errno));
    /* The size from fstat is only a first guess: /proc files and pipes
     * report 0, and a file may grow while it is read. */
    struct stat st;
    size_t cap = 4096;
    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(fp);
        return fl_error_set("%s: out of memory (%zu bytes)", path, cap);
    }
    size_t len = 0;
    for (;;) {
        size_t want = cap - 1 - len;
        size_t got = fread(buf + len, 1, want, fp);
        len += got;
        if (got < want) break;
        /* Full buffer: grow only if there really is more to read, so an
         * exactly sized buffer is not doubled for nothing. */
        int c = fgetc(fp);
        if (c == EOF) break;
        size_t ncap = cap * 2;
        char *nb = ncap > cap ? realloc(buf, ncap) : NULL;
        if (!nb) {
            free(buf);
            fclose(fp);
            return fl_error_set("%s: out of memory (%zu bytes)", path, ncap);
        }
        buf = nb;
        cap = ncap;
        buf[len++] = (char)c;
    }
    int bad = ferror(fp);
    int e = errno;
    fclose(fp);
    if (bad) {
        free(buf);
        return fl_error_set("%s: read failed: %s", path, strerror(e));
    }
    buf[len] = '\0';
    *data = buf;
    *n = len;
    return 0;
}

int fl_append_line(const char *path, const char *line) {
    size_t n = strlen(line);
    char *buf = malloc(n + 1);
    if (!buf) return fl_error_set("%s: out of memory", path);
    memcpy(buf, line, n);
    buf[n] = '\n';
    /* One write call with O_APPEND keeps a line in one piece even if another
     * process appends to the same log. */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0666);
    if (fd < 0) {
        int e = errno;
        free(buf);
        return fl_error_set("%s: cannot open for appending: %s", path, strerror(e));
    }
    size_t done = 0;
    int rc = 0;
    while (done < n + 1) {
        ssize_t w = write(fd, buf + done, n + 1 - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            rc = fl_error_set("%s: append failed: %s", path, strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    free(buf);
    if (rc == 0 && fsync(fd) != 0) rc = fl_error_set("%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == 0) rc = fl_error_set("%s: append failed: %s", path, strerror(errno));
    return rc;
}

static int mkdir_one(const char *dir, const char *full) {
    if (mkdir(dir, 0777) == 0) return 0;
    int e = errno;
    struct stat st;
    if (e == EEXIST && stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return 0;
        return fl_error_set("%s: cannot create directory: %s exists and is not a directory", full,
                            dir);
    }
    return fl_error_set("%s: cannot create directory %s: %s", full, dir, strerror(e));
}

int fl_mkdirs(const char *path) {
    if (!path || !*path) return fl_error_set("(empty path): cannot create a directory without a name");
    char *p = strdup(path);
    if (!p) return fl_error_set("%s: out of memory", path);
    int rc = 0;
    /* Create each ancestor in turn; skip the leading '/' and runs of '/'. */
    for (char *s = p + 1; *s && rc == 0; s++) {
        if (*s != '/' || s[-1] == '/') continue;
        *s = '\0';
        rc = mkdir_one(p, path);
        *s = '/';
    }
    if (rc == 0) rc = mkdir_one(p, path);
    free(p);
    return rc;
}

int fl_file_exists(const char *path) {
    struct stat st;
    return path && stat(path, &st) == 0;
}

char *fl_path_join(const char *dir, const char *name) {
    size_t nd = strlen(dir), nn = strlen(name);
    if (nd == 0) {
        char *r = strdup(name);
        if (!r) fl_error_set("%s: out of memory", name);
        return r;
    }
    int slash = dir[nd - 1] != '/';
    char *r = malloc(nd + (size_t)slash + nn + 1);
    if (!r) {
        fl_error_set("%s/%s: out of memory", dir, name);
        return NULL;
    }
    memcpy(r, dir, nd);
    if (slash) r[nd] = '/';
    memcpy(r + nd + slash, name, nn + 1);
    return r;
}

const char *fl_build_id(void) {
    static char id[64];
    if (id[0]) return id;
    uLong crc = crc32(0L, Z_NULL, 0);
    /* The file that holds this code: the shared library in a host such as
     * Python (whose /proc/self/exe is the interpreter), else the program. */
    Dl_info info;
    const int shared = dladdr((void *)fl_build_id, &info) && info.dli_fname && strstr(info.dli_fname, ".so");
    FILE *f = fopen(shared ? info.dli_fname : "/proc/self/exe", "rb");
    unsigned char buf[1 << 16];
    size_t n, total = 0;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) crc = crc32(crc, buf, (uInt)n), total += n;
    if (f && !ferror(f) && total > 0) snprintf(id, sizeof id, "%s+%08lx", FORGETLAB_VERSION, (unsigned long)crc);
    else snprintf(id, sizeof id, "%s+unknown", FORGETLAB_VERSION);
    if (f) fclose(f);
    return id;
}
