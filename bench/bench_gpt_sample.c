/* bench_gpt_sample.c: wall time of batched sampling from the byte-level
 * language model with its key/value cache (fl_gpt_sample): B prompts of P
 * bytes, each completed by N new tokens at temperature 1 with no stop, the
 * log-probability of every sampled token returned, as the RL methods use it.
 *
 *   build/bench_gpt_sample [--batch B] [--prompt P] [--new N] [--ctx T] [--layers L]
 *                          [--embd C] [--heads H] [--repeat R] [--threads T]
 *
 * Prints one JSON line with the median, p10 and p90 of R calls in ms;
 * bench/torch_gpt_sample.py prints the same for a PyTorch sampler of the
 * same model with a key/value cache, bench/gpt.sh sample sets them side by
 * side. */
#include "bench.h"

#include "forgetlab/core/clock.h"
#include "forgetlab/core/error.h"
#include "forgetlab/nn/gpt.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/core/threads.h"

#include <string.h>

int main(int argc, char **argv) {
    int batch = 64, prompt = 16, new = 64, ctx = 128, layers = 4, embd = 128, heads = 4, repeat = 10, threads = 0;
    const bench_opt opts[] = {{"--batch", &batch, 1},   {"--prompt", &prompt, 1}, {"--new", &new, 1},
                              {"--ctx", &ctx, 1},       {"--layers", &layers, 1}, {"--embd", &embd, 1},
                              {"--heads", &heads, 1},   {"--repeat", &repeat, 1}, {"--threads", &threads, 0}};
    if (parse_opts(argc, argv, opts, (int)(sizeof opts / sizeof *opts))) return 2;
    threads = fl_set_threads(threads);
    const fl_gpt_config c = {256, ctx, layers, embd, heads};
    fl_gpt m;
    fl_gpt_cache cache;
    if (fl_gpt_create(&m, &c) || fl_gpt_cache_alloc(&cache, &m, batch)) {
        fprintf(stderr, "bench_gpt_sample: %s\n", fl_error_msg());
        return 1;
    }
    fl_rng rng;
    fl_rng_init(&rng, 1, FL_STREAM_INIT);
    fl_gpt_init(&m, &rng);
    int *ptok = malloc(sizeof(int) * (size_t)batch * prompt), *plen = malloc(sizeof(int) * (size_t)batch);
    const int **prompts = malloc(sizeof(int *) * (size_t)batch);
    int *out = malloc(sizeof(int) * (size_t)batch * new), *out_len = malloc(sizeof(int) * (size_t)batch);
    float *logp = malloc(sizeof(float) * (size_t)batch * new);
    double *times = malloc(sizeof(double) * (size_t)repeat);
    if (!ptok || !plen || !prompts || !out || !out_len || !logp || !times) return 1;
    fl_rng_init(&rng, 1, FL_STREAM_DATA);
    for (int b = 0; b < batch; b++) {
        for (int t = 0; t < prompt; t++) ptok[b * prompt + t] = (int)fl_rng_below(&rng, 256);
        prompts[b] = ptok + b * prompt, plen[b] = prompt;
    }
    const fl_sample_opts o = {.temperature = 1.0, .top_k = 0, .max_new = new, .stop = -1, .seed = 7};
    long tokens = 0;
    for (int r = -1; r < repeat; r++) { /* r = -1: warm-up */
        const double t0 = fl_now();
        if (fl_gpt_sample(&m, &cache, prompts, plen, batch, &o, out, out_len, logp)) {
            fprintf(stderr, "bench_gpt_sample: %s\n", fl_error_msg());
            return 1;
        }
        if (r >= 0) times[r] = 1e3 * (fl_now() - t0);
        for (int b = 0; b < batch; b++) tokens += out_len[b];
    }
    qsort(times, (size_t)repeat, sizeof *times, cmp_double);
    printf("{\"impl\":\"forgetlab\",\"params\":%zu,\"batch\":%d,\"prompt\":%d,\"new\":%d,\"threads\":%d,"
           "\"repeat\":%d,\"median_ms\":%.4f,\"p10_ms\":%.4f,\"p90_ms\":%.4f,\"tokens\":%ld}\n",
           m.blob.n, batch, prompt, new, threads, repeat, percentile(times, repeat, 50),
           percentile(times, repeat, 10), percentile(times, repeat, 90), tokens);
    free(ptok), free(plen), free(prompts), free(out), free(out_len), free(logp), free(times);
    fl_gpt_cache_free(&cache);
    fl_gpt_free(&m);
    return 0;
}
