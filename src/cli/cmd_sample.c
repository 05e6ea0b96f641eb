/* cmd_sample.c: `forgetlab sample`, completions of a prompt by a byte-level
 * language model (lm-pretrain's), all drawn in one batch with the
 * key/value cache (fl_gpt_sample). */
#include "cli.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/data/lmdata.h"
#include "forgetlab/core/threads.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab sample --model PATH --prompt TEXT [OPTIONS]\n"
    "\n"
    "Completes TEXT with a byte-level language model (an lm-pretrain run directory\n"
    "or its model.safetensors), N times in one batch, and prints one line per\n"
    "completion: the prompt, then the completion, each byte outside printable\n"
    "ASCII written \\xNN and a backslash \\\\. A completion that ended at the\n"
    "stop byte (a newline) is printed without it.\n"
    "\n"
    "Options:\n"
    "  -n, --samples N         completions, 1 to 1024 (default 1)\n";
static char HELP[8192];

typedef struct {
    const char *model, *prompt;
    int n, json, no_stop, threads;
    fl_sample_opts o;
} args;

static int parse_top_k(const char *v, void *field) {
    long n;
    if (fl_parse_long("top-k", v, LONG_MIN, LONG_MAX, &n)) return fl_error_set("expected an integer, got '%s'", v);
    if (n < 1) return fl_error_set("%ld: must be >= 1 (leave it out to draw from every byte)", n);
    *(int *)field = n > 1 << 20 ? 1 << 20 : (int)n;
    return 0;
}
static void format_top_k(const void *field, char *buf, size_t n) {
    const int k = *(const int *)field;
    if (k > 0) snprintf(buf, n, "%d", k);
    else snprintf(buf, n, "every byte");
}

#define F(field) offsetof(args, field)
static const fl_setting SETTINGS[] = {
    {"model", FL_SET_STRING, F(model), 0, 0, "PATH", "run directory or .safetensors file (required)", NULL, NULL, NULL},
    {"prompt", FL_SET_STRING, F(prompt), 0, 0, "TEXT", "the bytes to complete (required, at least one)", NULL, NULL,
     NULL},
    {"temperature", FL_SET_DOUBLE, F(o.temperature), 0, 1e6, "T", ">= 0; 0 takes the likeliest byte each time", NULL,
     NULL, NULL},
    {"top-k", FL_SET_CUSTOM, F(o.top_k), 0, 0, "K", "draw from the K likeliest bytes only, K >= 1", NULL, parse_top_k,
     format_top_k},
    {"max-new", FL_SET_INT, F(o.max_new), 1, 1 << 20, "M",
     "new bytes at most (default: 64, or what the model's context leaves after the prompt if less)", NULL, NULL, NULL},
    {"no-stop", FL_SET_FLAG, F(no_stop), 0, 0, NULL, "do not end a completion at a newline", NULL, NULL, NULL},
    {"seed", FL_SET_U64, F(o.seed), 0, 9.2e18, "S", "seed of the draws: the same seed, the same completions", NULL,
     NULL, NULL},
    {"json", FL_SET_FLAG, F(json), 0, 0, NULL,
     "one JSON object a line instead: prompt, completion (bytes as code points U+0000..U+00FF, the stop byte kept), "
     "logp (the completion's log-probability under the model at temperature 1), bytes, stopped", NULL, NULL, NULL},
    FL_SETTING_THREADS(F(threads)),
};
#undef F
enum { NSETTINGS = sizeof SETTINGS / sizeof *SETTINGS };

/* -n, the one short option, with its long form. */
static const struct option OPTS[] = {{"samples", required_argument, 0, 'n'}, {0, 0, 0, 0}};

static int handle(int opt, const char *v, void *ctx) {
    long n;
    if (opt != 'n' || fl_parse_long("samples (-n)", v, 1, 1024, &n)) return -1;
    ((args *)ctx)->n = (int)n;
    return 0;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_sample = {"sample", "complete a prompt with a language model (lm-pretrain's)", run, HELP};

/* The bytes as one line of printable ASCII. */
static void put_escaped(const int *tok, int n) {
    for (int i = 0; i < n; i++) {
        if (tok[i] == '\\') fputs("\\\\", stdout);
        else if (tok[i] >= 0x20 && tok[i] < 0x7f) putchar(tok[i]);
        else printf("\\x%02x", tok[i] & 0xff);
    }
}

/* The bytes as a UTF-8 string of code points U+0000..U+00FF (Latin-1):
 * valid JSON whatever the model drew, and bytes(text, 'latin-1') gives
 * them back. */
static char *latin1(const int *tok, int n) {
    char *s = malloc((size_t)n * 2 + 1), *p = s;
    for (int i = 0; s && i < n; i++) {
        const unsigned c = (unsigned)tok[i] & 0xff;
        if (c < 0x80) *p++ = (char)c;
        else *p++ = (char)(0xc0 | c >> 6), *p++ = (char)(0x80 | (c & 0x3f));
    }
    if (s) *p = '\0';
    return s;
}

static void print_json(const int *prompt, int plen, const int *tok, int len, const float *logp, int stopped) {
    double sum = 0;
    for (int i = 0; i < len; i++) sum += logp[i];
    char *p = latin1(prompt, plen), *c = latin1(tok, len);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "prompt", p ? p : "");
    cJSON_AddStringToObject(j, "completion", c ? c : "");
    cJSON_AddNumberToObject(j, "logp", sum);
    cJSON_AddNumberToObject(j, "bytes", len);
    cJSON_AddBoolToObject(j, "stopped", stopped);
    char *text = cJSON_PrintUnformatted(j);
    if (text) puts(text);
    free(text), free(p), free(c);
    cJSON_Delete(j);
}

/* Draws and prints a->n completions of the prompt (plen bytes in prompt). */
static int complete(const args *a, const fl_gpt *m, const int *prompt, int plen) {
    const int n = a->n, M = a->o.max_new;
    const int **prompts = malloc(sizeof *prompts * (size_t)n);
    int *plens = malloc(sizeof(int) * (size_t)n), *tok = malloc(sizeof(int) * (size_t)n * M);
    int *len = malloc(sizeof(int) * (size_t)n);
    float *logp = malloc(sizeof(float) * (size_t)n * M);
    fl_gpt_cache cache;
    int rc = prompts && plens && tok && len && logp ? fl_gpt_cache_alloc(&cache, m, n) : fl_error_set("out of memory");
    if (rc == 0) {
        for (int b = 0; b < n; b++) prompts[b] = prompt, plens[b] = plen;
        rc = fl_gpt_sample(m, &cache, prompts, plens, n, &a->o, tok, len, logp);
        fl_gpt_cache_free(&cache);
    }
    for (int b = 0; b < n && rc == 0; b++) {
        const int *t = tok + (size_t)b * M;
        const int stopped = a->o.stop >= 0 && len[b] > 0 && t[len[b] - 1] == a->o.stop;
        if (a->json) {
            print_json(prompt, plen, t, len[b], logp + (size_t)b * M, stopped);
            continue;
        }
        put_escaped(prompt, plen);
        put_escaped(t, len[b] - stopped);
        putchar('\n');
    }
    free(prompts), free(plens), free(tok), free(len), free(logp);
    return rc;
}

static int run(int argc, char **argv) {
    args a = {.n = 1, .o = {.temperature = 0.8, .top_k = 0, .max_new = 0, .stop = FL_LM_STOP, .seed = 0}};
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, SETTINGS, NSETTINGS, &a, "  --help                  show this help\n");
    int rc = fl_parse_settings(argc, argv, &fl_cmd_sample, SETTINGS, NSETTINGS, &a, OPTS, handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (a.no_stop) a.o.stop = -1;
    if (!a.model) return fl_usage_error("sample", "--model PATH is required");
    if (!a.prompt) return fl_usage_error("sample", "--prompt TEXT is required");
    const int plen = (int)strlen(a.prompt);
    if (plen == 0) return fl_usage_error("sample", "--prompt is empty: the model needs at least one byte to complete");
    fl_set_threads(a.threads);
    char arch[32];
    if (fl_checkpoint_arch(a.model, arch, sizeof arch)) return fl_fail("sample");
    if (strcmp(arch, "gpt")) {
        fl_error_set("--model %s: a model of arch '%s', not a language model (lm-pretrain writes one)", a.model, arch);
        return fl_fail("sample");
    }
    fl_gpt m;
    if (fl_gpt_load(a.model, &m, NULL)) return fl_fail("sample");
    const int ctx = m.cfg.ctx, room = ctx - plen;
    if (a.o.max_new == 0) a.o.max_new = room < 64 ? room : 64;
    if (room < 1 || a.o.max_new > room) {
        fl_gpt_free(&m);
        if (room < 1)
            return fl_usage_error("sample", "--prompt of %d bytes leaves no room in the model's context of %d bytes",
                                  plen, ctx);
        return fl_usage_error("sample", "--max-new %d: the prompt's %d bytes and the new ones pass the model's context "
                              "of %d bytes", a.o.max_new, plen, ctx);
    }
    int *prompt = malloc(sizeof(int) * (size_t)plen);
    rc = prompt ? 0 : fl_error_set("out of memory");
    for (int i = 0; i < plen && rc == 0; i++) prompt[i] = (unsigned char)a.prompt[i];
    if (rc == 0) rc = complete(&a, &m, prompt, plen);
    free(prompt);
    fl_gpt_free(&m);
    return rc ? fl_fail("sample") : FL_EXIT_OK;
}
