/* fuzz_util.h: what the fuzz targets share. forgetlab's readers take a path,
 * not a buffer, so every input is first written to a scratch file. The
 * scratch directory is in /dev/shm when there is one (a write per input
 * then costs no disk I/O) and is removed when the fuzzer exits. Header-only:
 * each target is its own executable. */
#ifndef FORGETLAB_FUZZ_UTIL_H
#define FORGETLAB_FUZZ_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_root[512];

static void fz_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            fz_remove_tree(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void fz_cleanup(void) { fz_remove_tree(fz_root); }

/* A harness that cannot set up its files is broken, not the reader: stop
 * loudly rather than report a finding. */
static void fz_die(const char *what, const char *path) {
    perror(path);
    fprintf(stderr, "fuzz harness: %s failed\n", what);
    exit(2);
}

/* The scratch directory, made on first use. */
static const char *fz_dir(void) {
    if (!*fz_root) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(fz_root, sizeof fz_root, "%s/forgetlab-fuzz.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(fz_root)) fz_die("mkdtemp", fz_root);
        atexit(fz_cleanup);
    }
    return fz_root;
}

/* DIR/name, malloc'ed once per name and kept for the process's lifetime
 * (targets cache it in a static). */
static char *fz_path(const char *name) {
    const char *dir = fz_dir();
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    if (!p) fz_die("malloc", name);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* Replaces the file at path with the size bytes at data. */
static void fz_write(const char *path, const uint8_t *data, size_t size) {
    FILE *fp = fopen(path, "wb");
    if (!fp) fz_die("fopen", path);
    size_t w = size ? fwrite(data, 1, size, fp) : 0;
    if (fclose(fp) != 0 || w != size) fz_die("write", path);
}

#endif
