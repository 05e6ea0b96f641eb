/* modarith.c: the modular arithmetic datasets of the grokking experiments
 * (see modarith.h): every equation a o b = c mod p, and its seeded split. */
#include "forgetlab/data/modarith.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *sym, *word;
} OP_NAMES[FL_NOPS] = {{"+", "add"}, {"-", "sub"}, {"*", "mul"}, {"/", "div"},
                       {"x2+y2", "sqsum"}, {"x2+xy+y2", "sqmix"}, {"x3+xy", "cubemix"}};

int fl_mod_op_parse(const char *name, fl_mod_op *out) {
    for (int i = 0; i < FL_NOPS; i++)
        if (strcmp(name, OP_NAMES[i].sym) == 0 || strcmp(name, OP_NAMES[i].word) == 0) {
            *out = (fl_mod_op)i;
            return 0;
        }
    return fl_error_set("unknown operation '%s' (expected +, -, *, /, x2+y2, x2+xy+y2 or x3+xy)", name);
}

const char *fl_mod_op_name(fl_mod_op op) { return op >= 0 && op < FL_NOPS ? OP_NAMES[op].sym : "?"; }

int fl_mod_ops_parse(const char *s, fl_mod_ops *out) {
    char buf[256];
    fl_mod_ops o = {.n = 0};
    if (strlen(s) >= sizeof buf) return fl_error_set("operations '%.32s...': too long", s);
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (o.n == FL_NOPS) return fl_error_set("at most %d operations", FL_NOPS);
        if (fl_mod_op_parse(tok, &o.op[o.n])) return -1;
        for (int k = 0; k < o.n; k++)
            if (o.op[k] == o.op[o.n]) return fl_error_set("'%s' appears twice", tok);
        o.n++;
    }
    if (!o.n) return fl_error_set("no operation given");
    *out = o;
    return 0;
}

void fl_mod_ops_format(const fl_mod_ops *o, char *buf, size_t n) {
    size_t at = 0;
    buf[0] = '\0';
    for (int k = 0; k < o->n && at < n; k++) at += (size_t)snprintf(buf + at, n - at, "%s%s", k ? "," : "", fl_mod_op_name(o->op[k]));
}

int fl_is_prime(int p) {
    if (p < 2) return 0;
    for (int k = 2; (long)k * k <= p; k++)
        if (p % k == 0) return 0;
    return 1;
}

/* b^(p-2) mod p: the inverse of b by Fermat's little theorem. */
static long inverse(long b, long p) {
    long r = 1, e = p - 2;
    b %= p;
    while (e > 0) {
        if (e & 1) r = r * b % p;
        b = b * b % p;
        e >>= 1;
    }
    return r;
}

int fl_mod_apply(fl_mod_op op, int a, int b, int p) {
    const long A = a, B = b, P = p;
    switch (op) {
    case FL_OP_ADD: return (int)((A + B) % P);
    case FL_OP_SUB: return (int)(((A - B) % P + P) % P);
    case FL_OP_MUL: return (int)(A * B % P);
    case FL_OP_DIV: return B % P == 0 ? -1 : (int)(A * inverse(B, P) % P);
    case FL_OP_SQ_SUM: return (int)((A * A + B * B) % P);
    case FL_OP_SQ_MIX: return (int)((A * A + A * B + B * B) % P);
    case FL_OP_CUBE_MIX: return (int)((A * A % P * A + A * B) % P);
    default: return -1;
    }
}

void fl_modarith_free(fl_modarith *d) {
    free(d->tok), free(d->y), free(d->a), free(d->b), free(d->op), free(d->train), free(d->test);
    memset(d, 0, sizeof *d);
}

static int cmp_int(const void *x, const void *y) { return *(const int *)x - *(const int *)y; }

int fl_modarith_build(fl_modarith *d, int p, const fl_mod_op *ops, int nops, double frac, uint64_t seed) {
    return fl_modarith_build_reserved(d, p, ops, nops, 0, frac, seed);
}

int fl_modarith_build_reserved(fl_modarith *d, int p, const fl_mod_op *ops, int nops, int reserved, double frac,
                               uint64_t seed) {
    memset(d, 0, sizeof *d);
    if (reserved < 0 || reserved > FL_NOPS)
        return fl_error_set("between 0 and %d reserved operations (got %d)", FL_NOPS, reserved);
    if (p < 2 || p > 4096 || !fl_is_prime(p)) return fl_error_set("p must be a prime in [2, 4096] (got %d)", p);
    if (nops < 1 || nops > FL_NOPS) return fl_error_set("between 1 and %d operations (got %d)", FL_NOPS, nops);
    if (!(frac > 0.0 && frac < 1.0)) return fl_error_set("the training fraction must be in (0, 1) (got %g)", frac);
    d->p = p;
    d->nops = nops;
    memcpy(d->ops, ops, sizeof(fl_mod_op) * nops);
    const int layout_op = nops > 1 || reserved > 0;
    d->reserved = reserved;
    d->ctx = layout_op ? 4 : 3;
    d->vocab = p + 1 + (layout_op ? nops + reserved : 0);
    const size_t cap = (size_t)nops * p * p;
    d->tok = malloc(cap * d->ctx * sizeof(int));
    d->y = malloc(cap * sizeof(int)), d->a = malloc(cap * sizeof(int));
    d->b = malloc(cap * sizeof(int)), d->op = malloc(cap * sizeof(int));
    d->train = malloc(cap * sizeof(int)), d->test = malloc(cap * sizeof(int));
    if (!d->tok || !d->y || !d->a || !d->b || !d->op || !d->train || !d->test) {
        fl_modarith_free(d);
        return fl_error_set("out of memory building %zu equations", cap);
    }
    int n = 0;
    for (int k = 0; k < nops; k++)
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++) {
                int c = fl_mod_apply(ops[k], a, b, p);
                if (c < 0) continue;
                int *t = d->tok + (size_t)n * d->ctx;
                if (!layout_op) {
                    t[0] = a, t[1] = b, t[2] = p;
                } else {
                    t[0] = a, t[1] = p + 1 + k, t[2] = b, t[3] = p;
                }
                d->y[n] = c, d->a[n] = a, d->b[n] = b, d->op[n] = k;
                n++;
            }
    d->n = n;
    d->n_train = (int)(frac * n);
    d->n_test = n - d->n_train;
    if (d->n_train < 1 || d->n_test < 1) {
        fl_modarith_free(d);
        return fl_error_set("a training fraction of %g leaves an empty split", frac);
    }
    int *perm = d->train; /* the shuffle happens in place, then each split is sorted */
    for (int i = 0; i < n; i++) perm[i] = i;
    fl_rng rng;
    fl_rng_init(&rng, seed, FL_STREAM_SPLIT);
    fl_rng_shuffle(&rng, perm, n);
    memcpy(d->test, perm + d->n_train, sizeof(int) * d->n_test);
    qsort(d->train, d->n_train, sizeof(int), cmp_int);
    qsort(d->test, d->n_test, sizeof(int), cmp_int);
    return 0;
}
