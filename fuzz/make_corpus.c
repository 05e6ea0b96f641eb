/* make_corpus.c: writes the seed corpus of every fuzz target (run by
 * fuzz/make_corpus.sh). Valid files come from forgetlab's own writers, so
 * the seeds follow the formats exactly as the program writes them; a few
 * hand-made ones add what the writers never produce but other tools do (a
 * NumPy version 2.0 header, tensors stored out of name order) and the edge
 * cases (0-d and empty arrays, truncations). The fuzzer starts from these
 * and mutates; keeping them small keeps each execution fast. Deterministic:
 * rerunning rewrites identical files, apart from what SQLite records of its
 * own version. */
#include "data/digits_cache.h"
#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/io/npy.h"
#include "forgetlab/store/results.h"
#include "forgetlab/io/safetensors.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const char *out_dir;

static void check(int rc, const char *what) {
    if (rc != 0) {
        fprintf(stderr, "make_corpus: %s: %s\n", what, fl_error_msg());
        exit(1);
    }
}

/* out_dir/target/name, in a static buffer; creates the target directory. */
static const char *seed(const char *target, const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", out_dir, target);
    check(fl_mkdirs(buf), buf);
    snprintf(buf, sizeof buf, "%s/%s/%s", out_dir, target, name);
    return buf;
}

static void raw(const char *target, const char *name, const void *data, size_t n) {
    const char *p = seed(target, name);
    check(fl_write_file_atomic(p, data, n), p);
}

static void gz(const char *target, const char *name, const void *data, size_t n) {
    const char *p = seed(target, name);
    gzFile f = gzopen(p, "wb9");
    if (!f || gzwrite(f, data, (unsigned)n) != (int)n || gzclose(f) != Z_OK) check(-1, p);
}

/* ---- safetensors and checkpoints */

static void save_mlp(const char *target, const char *name, const char *spec, const char *config) {
    fl_mlp m;
    check(fl_mlp_create_from_spec(&m, spec), spec);
    for (size_t i = 0; i < m.blob.n; i++) m.blob.params[i] = (float)((int)(i % 7) - 3) / 8.0f;
    check(fl_mlp_save(seed(target, name), &m, config), name);
    fl_mlp_free(&m);
}

/* 8-byte length, the JSON header as given, then the data. */
static void handmade_st(const char *target, const char *name, const char *header,
                        const float *data, size_t nfloats) {
    size_t h = strlen(header), n = 8 + h + nfloats * sizeof(float);
    unsigned char *b = malloc(n);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    if (nfloats) memcpy(b + 8 + h, data, nfloats * sizeof(float));
    raw(target, name, b, n);
    free(b);
}

static void safetensors_seeds(void) {
    save_mlp("safetensors", "mlp_4-3-2.safetensors", "4-3-2", "{\"seed\":0}");
    float v[3] = {1.0f, -2.5f, 0.125f};
    fl_st_tensor ts[3] = {
        {.name = "scalar", .ndim = 0, .data = v},
        {.name = "empty", .ndim = 2, .shape = {0, 5}},
        {.name = "vec", .ndim = 1, .shape = {2}, .data = v + 1},
    };
    const char *keys[] = {"k"}, *vals[] = {"v"};
    check(fl_safetensors_write(seed("safetensors", "scalar_empty_vec.safetensors"), ts, 3, keys,
                               vals, 1), "scalar_empty_vec");
    check(fl_safetensors_write(seed("safetensors", "nothing.safetensors"), NULL, 0, NULL, NULL, 0),
          "nothing");
    /* Offsets need not follow the header's key order. */
    handmade_st("safetensors", "out_of_order.safetensors",
                "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[4,12]},"
                "\"__metadata__\":{\"format\":\"pt\"}}  ",
                v, 3);
    /* A 1.0 header length with nothing after it. */
    handmade_st("safetensors", "header_only.safetensors", "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],"
                "\"data_offsets\":[0,16]}}", NULL, 0);

    save_mlp("checkpoint", "mlp_4-3-2.safetensors", "4-3-2", "{\"seed\":0}");
    save_mlp("checkpoint", "mlp_6-5-4-3.safetensors", "6-5-4-3", NULL);
    /* The spec promises more than the tensors hold. */
    fl_mlp m;
    check(fl_mlp_create_from_spec(&m, "2-2"), "2-2");
    fl_st_tensor w[2];
    for (int i = 0; i < 2; i++) {
        const fl_view *vw = &m.blob.views[i];
        w[i] = (fl_st_tensor){.name = (char *)vw->name, .ndim = vw->ndim,
                              .data = m.blob.params + vw->offset};
        for (int d = 0; d < vw->ndim; d++) w[i].shape[d] = vw->shape[d];
    }
    const char *mk[] = {"arch", "spec"}, *mv[] = {"mlp", "2-3"};
    check(fl_safetensors_write(seed("checkpoint", "spec_mismatch.safetensors"), w, 2, mk, mv, 2),
          "spec_mismatch");
    fl_mlp_free(&m);
    /* No tensors, and a spec that would need 9.6 GB. */
    const char *hv[] = {"mlp", "30000-20000"};
    check(fl_safetensors_write(seed("checkpoint", "huge_spec.safetensors"), NULL, 0, mk, hv, 2),
          "huge_spec");
}

/* ---- npy */

static void npy_seeds(void) {
    float v[6] = {0.0f, 1.0f, -1.0f, 0.5f, 3.25f, -7.0f};
    int64_t s0[1] = {0}, s1[1] = {5}, s2[2] = {2, 3}, sz[2] = {0, 4};
    check(fl_npy_write(seed("npy", "scalar.npy"), v, 0, s0), "scalar");
    check(fl_npy_write(seed("npy", "vec5.npy"), v, 1, s1), "vec5");
    check(fl_npy_write(seed("npy", "mat2x3.npy"), v, 2, s2), "mat2x3");
    check(fl_npy_write(seed("npy", "empty0x4.npy"), v, 2, sz), "empty0x4");
    /* NumPy's version 2.0 preamble (4-byte header length), double quotes,
     * no trailing comma in the dict. */
    const char *h = "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}";
    size_t hl = strlen(h), pad = (16 - (12 + hl + 1) % 16) % 16, n = 12 + hl + pad + 1 + 12;
    unsigned char b[256] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0};
    uint32_t len = (uint32_t)(hl + pad + 1);
    for (int i = 0; i < 4; i++) b[8 + i] = (unsigned char)(len >> (8 * i));
    memcpy(b + 12, h, hl);
    memset(b + 12 + hl, ' ', pad);
    b[12 + hl + pad] = '\n';
    memcpy(b + 12 + hl + pad + 1, v, 12);
    raw("npy", "v2_header.npy", b, n);
}

/* ---- idx */

static void idx_seeds(void) {
    /* 3 images of 2x3 pixels, then 4 labels. */
    unsigned char img[16 + 18] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3};
    for (int i = 0; i < 18; i++) img[16 + i] = (unsigned char)(i * 15);
    unsigned char lab[8 + 4] = {0, 0, 8, 1, 0, 0, 0, 4, 9, 0, 3, 7};
    raw("idx", "images.idx3", img, sizeof img);
    gz("idx", "images.idx3.gz", img, sizeof img);
    raw("idx", "labels.idx1", lab, sizeof lab);
    gz("idx", "labels.idx1.gz", lab, sizeof lab);
    /* A download cut short: the gzip trailer and the last bytes missing. */
    gz("idx", "tmp.gz", img, sizeof img);
    char *all;
    size_t n;
    const char *tmp = seed("idx", "tmp.gz");
    check(fl_read_file(tmp, &all, &n), tmp);
    unlink(tmp);
    raw("idx", "images_cut.idx3.gz", all, n - 10);
    free(all);
}

/* ---- MNIST digit JSON */

static void digit_file(const char *name, int images, int style) {
    size_t cap = (size_t)images * 784 * 12 + 64, n = 0;
    char *b = malloc(cap);
    n += (size_t)sprintf(b + n, style ? "{\n  \"data\": [\n" : "{\"data\":[");
    static const char *vals[] = {"0", "1", "0.5", "0.25098039215686274", "1e-3", "0.0", "1.0", "9.8E-1"};
    for (int i = 0; i < images * 784; i++)
        n += (size_t)sprintf(b + n, "%s%s", i ? (style ? ", " : ",") : "",
                             i % 97 == 0 ? vals[(i / 97) % 8] : "0");
    n += (size_t)sprintf(b + n, style ? "\n  ]\n}\n" : "]}");
    raw("mnist_json", name, b, n);
    free(b);
}

static void mnist_seeds(void) {
    digit_file("one_image.json", 1, 0);
    digit_file("two_images_pretty.json", 2, 1);
    /* Too few values for an image, and a key the reader ignores. */
    const char *bad = "{\"data\":[0.5,1,0],\"label\":3}";
    raw("mnist_json", "short_data.json", bad, strlen(bad));
}

/* ---- digits.cache */

static void cache_seeds(void) {
    fl_digits_source src[FL_DIGITS_FILES];
    for (int i = 0; i < FL_DIGITS_FILES; i++)
        src[i] = (fl_digits_source){.size = 1000u + (unsigned)i, .mtime_sec = 1700000000 + i,
                                    .mtime_nsec = 123456789};
    static float x[2 * 784];
    for (int i = 0; i < 2 * 784; i++) x[i] = (float)(i % 256) / 255.0f;
    int label[2] = {3, 7};
    fl_images im = {.n = 1, .rows = 28, .cols = 28, .x = x, .label = label};
    check(fl_digits_cache_write(seed("digits_cache", "one.cache"), src, &im), "one.cache");
    im.n = 2;
    check(fl_digits_cache_write(seed("digits_cache", "two.cache"), src, &im), "two.cache");
}

/* ---- JSON (config.json and friends) */

static void json_seeds(void) {
    const char *config =
        "{\n  \"command\": \"pretrain\",\n  \"version\": \"0.1.0\",\n  \"seed\": 0,\n"
        "  \"streams\": {\"init\": 1, \"data\": 2, \"labels\": 3},\n"
        "  \"lr\": 1e-3, \"betas\": [0.9, 0.999], \"weight_decay\": 0,\n"
        "  \"spec\": \"785-512-256-10\", \"quick\": false, \"teacher\": null,\n"
        "  \"data\": [\"data/fashion-mnist/train-images-idx3-ubyte.gz\"]\n}\n";
    raw("json", "config.json", config, strlen(config));
    const char *summary = "{\"parity_acc\":0.9125,\"fashion_acc\":8.33e-1,\"wall_time_s\":12.5,"
                          "\"weight_rank\":[10,9,-0],\"note\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\"\"}";
    raw("json", "summary.json", summary, strlen(summary));
    const char *arr = "[[], {}, [1, [2, [3]]], \"\", true]";
    raw("json", "array.json", arr, strlen(arr));
}

/* ---- results.sqlite */

static void results_seeds(void) {
    raw("results", "empty.sqlite", "", 0);
    /* Small pages keep the seed a few KB; fl_results_open keeps them. */
    const char *p = seed("results", "study.sqlite");
    unlink(p);
    sqlite3 *db;
    if (sqlite3_open(p, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA page_size=512; VACUUM;", NULL, NULL, NULL) != SQLITE_OK)
        check(-1, p);
    sqlite3_close(db);
    fl_results r;
    check(fl_results_open(&r, p), p);
    fl_run_key k = {"grpo", 1e-4, "constant", 1, 0};
    fl_measurement m = {.new_acc_base = 0.1, .new_acc = 0.9, .prior_acc_base = 0.8, .prior_acc = 0.7,
                        .forgetting = 0.1, .nlayers = 2, .weight_rank = {3, 2}};
    char id[128];
    fl_run_id(&k, id, sizeof id);
    check(fl_results_begin_run(&r, id), "begin");
    check(fl_results_add_checkpoint(&r, &k, id, 0, 10, 0.5, &m), "checkpoint");
    double times[5] = {1, 2, 3, 4, 0.5};
    check(fl_results_finish_run(&r, &k, id, &m, times), "finish");
    fl_run_key d = {"sft1", 3e-3, "cosine", 2, 1};
    fl_run_id(&d, id, sizeof id);
    check(fl_results_mark_diverged(&r, &d, id, "loss is NaN"), "diverged");
    fl_results_close(&r);
    /* The same database in rollback-journal mode. */
    char *all;
    size_t n;
    check(fl_read_file(p, &all, &n), p);
    const char *q = seed("results", "study_rollback.sqlite");
    check(fl_write_file_atomic(q, all, n), q);
    if (sqlite3_open(q, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=DELETE;", NULL, NULL, NULL) != SQLITE_OK)
        check(-1, q);
    sqlite3_close(db);
    /* Rows forgetlab never writes: NULL keys and methods, a long value. */
    q = seed("results", "foreign_rows.sqlite");
    check(fl_write_file_atomic(q, all, n), q);
    free(all);
    if (sqlite3_open(q, &db) != SQLITE_OK ||
        sqlite3_exec(db, "UPDATE checkpoints SET run_id = replace(hex(zeroblob(500)), '0', 'r');"
                         "INSERT INTO checkpoints (run_id, method, idx) VALUES ('x', NULL, 1);"
                         "INSERT INTO runs (run_id, method, status) VALUES (NULL, 'grpo', 'done');",
                     NULL, NULL, NULL) != SQLITE_OK)
        check(-1, q);
    sqlite3_close(db);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus OUT_DIR (fuzz/corpus)\n");
        return 2;
    }
    out_dir = argv[1];
    safetensors_seeds();
    npy_seeds();
    idx_seeds();
    mnist_seeds();
    cache_seeds();
    json_seeds();
    results_seeds();
    return 0;
}
