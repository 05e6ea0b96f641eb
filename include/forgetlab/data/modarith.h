/* modarith.h: modular arithmetic tasks, the grokking benchmark (Power et
 * al. 2022; Nanda et al. 2023): predict c = a o b mod p for a prime p.
 *
 * One operation: the sequence is [a, b, =] with "=" the token p. Several
 * operations mixed: [a, op, b, =] with op the token p+1+k for the k-th one.
 * The answer c in [0, p) is read at the last position. Every pair (a, b)
 * the operation is defined on is an example (b != 0 for division); a fixed
 * fraction of them, chosen by a seeded shuffle, is the training set. */
#ifndef FORGETLAB_MODARITH_H
#define FORGETLAB_MODARITH_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    FL_OP_ADD,      /* a + b */
    FL_OP_SUB,      /* a - b */
    FL_OP_MUL,      /* a * b */
    FL_OP_DIV,      /* a * b^-1, b != 0 */
    FL_OP_SQ_SUM,   /* a^2 + b^2 */
    FL_OP_SQ_MIX,   /* a^2 + ab + b^2 */
    FL_OP_CUBE_MIX, /* a^3 + ab */
    FL_NOPS
} fl_mod_op;

typedef struct {
    int p, nops;
    fl_mod_op ops[FL_NOPS];
    int ctx, vocab;     /* sequence length (3 or 4) and input tokens */
    int reserved;       /* operation tokens past the trained ones' (never in tok) */
    int n;              /* examples */
    int *tok;           /* [n, ctx] */
    int *y;             /* [n] the answer c */
    int *a, *b, *op;    /* [n] operands and the operation's index in ops */
    int n_train, n_test;
    int *train, *test;  /* example indices of each split, ascending */
} fl_modarith;

/* "+", "-", "*", "/", "x2+y2", "x2+xy+y2", "x3+xy" (or "add", "sub",
 * "mul", "div"). */
int fl_mod_op_parse(const char *name, fl_mod_op *out);
const char *fl_mod_op_name(fl_mod_op op);
/* A list of distinct operations, "+" or "+,x2+y2" as text. */
typedef struct {
    fl_mod_op op[FL_NOPS];
    int n;
} fl_mod_ops;
int fl_mod_ops_parse(const char *s, fl_mod_ops *out);
void fl_mod_ops_format(const fl_mod_ops *o, char *buf, size_t n);
/* c = a o b mod p; -1 when undefined (division by 0). */
int fl_mod_apply(fl_mod_op op, int a, int b, int p);
int fl_is_prime(int p);

/* Every defined (op, a, b) of the given operations mod p, and a split with
 * floor(frac * n) training examples drawn by a shuffle of (seed,
 * FL_STREAM_SPLIT). p must be a prime in [2, 4096], frac in (0, 1). */
int fl_modarith_build(fl_modarith *d, int p, const fl_mod_op *ops, int nops, double frac, uint64_t seed);
/* The same with `reserved` more operation tokens (p+1+nops ..) in the
 * vocabulary that no equation uses: a model trained on these equations
 * can later be asked a task it has never seen, named by its own token
 * (the grok-forget study). With reserved > 0 even one operation uses the
 * [a, op, b, =] layout. The split is the same as without (the same n and
 * seed): the same pairs are training pairs. */
int fl_modarith_build_reserved(fl_modarith *d, int p, const fl_mod_op *ops, int nops, int reserved, double frac,
                               uint64_t seed);
/* The token of operation k: k < nops the trained ones, then the reserved
 * ones (ctx 4 only). */
static inline int fl_modarith_op_token(const fl_modarith *d, int k) { return d->p + 1 + k; }
void fl_modarith_free(fl_modarith *d);

#endif
