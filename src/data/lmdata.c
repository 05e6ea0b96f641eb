/* lmdata.c: the language model's data: a text corpus split by lines into
 * training and held-out bytes, the word list, and the synthetic skills
 * (lmdata.h): their examples, train/test split, subtasks and verifier;
 * all of it loaded at once for the language model (fl_lm_data). */
#include "forgetlab/data/lmdata.h"

#include "forgetlab/data/data.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/core/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SKILL_NAMES[FL_NSKILLS] = {"add", "reverse", "sort", "count"};
static const char COUNT_LETTERS[] = "aeiost";

const char *fl_skill_name(fl_skill k) { return k >= 0 && k < FL_NSKILLS ? SKILL_NAMES[k] : "?"; }

int fl_skill_parse(const char *name, fl_skill *out) {
    for (int k = 0; k < FL_NSKILLS; k++)
        if (strcmp(name, SKILL_NAMES[k]) == 0) return *out = (fl_skill)k, 0;
    return fl_error_set("unknown skill '%s' (expected add, reverse, sort or count)", name);
}

int fl_text_load(fl_text *t, const char *path, int heldout_every) {
    memset(t, 0, sizeof *t);
    char *data = NULL;
    size_t n = 0;
    if (fl_read_file(path, &data, &n)) return -1;
    t->train = malloc(n + 1), t->heldout = malloc(n + 1);
    if (!t->train || !t->heldout) {
        free(data);
        fl_text_free(t);
        return fl_error_set("%s: out of memory for %zu bytes", path, n);
    }
    long line = 0;
    for (size_t at = 0; at < n; line++) {
        const char *nl = memchr(data + at, '\n', n - at);
        const size_t len = (nl ? (size_t)(nl - data) + 1 : n) - at;
        const int held = heldout_every > 0 && line % heldout_every == 0;
        memcpy(held ? t->heldout + t->n_heldout : t->train + t->n_train, data + at, len);
        *(held ? &t->n_heldout : &t->n_train) += len;
        at += len;
    }
    free(data);
    if (t->n_train == 0) {
        fl_text_free(t);
        return fl_error_set("%s: no training text", path);
    }
    return 0;
}

void fl_text_free(fl_text *t) {
    free(t->train), free(t->heldout);
    memset(t, 0, sizeof *t);
}

int fl_words_load(fl_words *w, const char *path, int min_len, int max_len) {
    memset(w, 0, sizeof *w);
    if (min_len < 1 || max_len > 7 || min_len > max_len) return fl_error_set("word lengths %d..%d: expected 1..7", min_len, max_len);
    char *data = NULL;
    size_t n = 0;
    if (fl_read_file(path, &data, &n)) return -1;
    int cap = 0;
    for (size_t at = 0; at < n;) {
        size_t len = 0;
        while (at + len < n && data[at + len] != '\n') len++;
        int ok = (int)len >= min_len && (int)len <= max_len;
        for (size_t i = 0; ok && i < len; i++) ok = data[at + i] >= 'a' && data[at + i] <= 'z';
        /* Only the first of equal neighbours (the list is sorted). */
        if (ok && w->n > 0 && strlen(w->word[w->n - 1]) == len && !memcmp(w->word[w->n - 1], data + at, len)) ok = 0;
        if (ok) {
            if (w->n == cap) {
                void *p = realloc(w->word, sizeof *w->word * (size_t)(cap = cap ? 2 * cap : 1024));
                if (!p) {
                    free(data);
                    fl_words_free(w);
                    return fl_error_set("%s: out of memory", path);
                }
                w->word = p;
            }
            memcpy(w->word[w->n], data + at, len);
            w->word[w->n++][len] = '\0';
        }
        at += len + 1;
    }
    free(data);
    if (w->n == 0) return fl_error_set("%s: no lowercase words of %d to %d letters", path, min_len, max_len);
    return 0;
}

void fl_words_free(fl_words *w) {
    free(w->word);
    memset(w, 0, sizeof *w);
}

static int cmp_char(const void *a, const void *b) { return *(const char *)a - *(const char *)b; }

static void reverse_str(char *s) {
    for (size_t i = 0, n = strlen(s); i < n / 2; i++) {
        const char c = s[i];
        s[i] = s[n - 1 - i], s[n - 1 - i] = c;
    }
}

/* The answer to prompt (with the stop byte), from the prompt alone; its
 * subtask in *sub. -1 when the prompt is not of the skill. */
static int answer_of(fl_skill k, const char *prompt, char *ans, size_t n, int *sub) {
    char word[16], letter;
    int a, b, used = -1;
    switch (k) {
    case FL_SKILL_ADD:
        if (sscanf(prompt, "%3d+%3d=%n", &a, &b, &used) != 2 || used < 0 || prompt[used] || a < 0 || b < 0 ||
            a > 99 || b > 99)
            return -1;
        /* Subtasks: whether any column carries (units, or tens with the
         * units' carry), the step a model has to learn for addition. */
        *sub = a % 10 + b % 10 >= 10 || a / 10 + b / 10 + (a % 10 + b % 10 >= 10) >= 10;
        /* The sum written least significant digit first, the order in
         * which the carries are computed: a small transformer learns
         * addition much faster that way (docs/lm.md). */
        snprintf(ans, n, "%d", a + b);
        reverse_str(ans);
        snprintf(ans + strlen(ans), n - strlen(ans), "%c", FL_LM_STOP);
        return 0;
    case FL_SKILL_REVERSE:
    case FL_SKILL_SORT: {
        const char *tag = k == FL_SKILL_REVERSE ? "rev:" : "sort:";
        const size_t tl = strlen(tag), len = strcspn(prompt + tl, "=");
        if (strncmp(prompt, tag, tl) || len < 3 || len > 6 || strcmp(prompt + tl + len, "=")) return -1;
        memcpy(word, prompt + tl, len);
        word[len] = '\0';
        if (k == FL_SKILL_REVERSE)
            reverse_str(word);
        else
            qsort(word, len, 1, cmp_char);
        *sub = (int)len - 3;
        snprintf(ans, n, "%s%c", word, FL_LM_STOP);
        return 0;
    }
    case FL_SKILL_COUNT: {
        if (sscanf(prompt, "count:%c:%15[a-z]=%n", &letter, word, &used) != 2 || used < 0 || prompt[used]) return -1;
        const char *at = strchr(COUNT_LETTERS, letter);
        if (!at || !letter) return -1;
        int c = 0;
        for (const char *p = word; *p; p++) c += *p == letter;
        *sub = (int)(at - COUNT_LETTERS);
        snprintf(ans, n, "%d%c", c, FL_LM_STOP);
        return 0;
    }
    default: return -1;
    }
}

int fl_skill_check(fl_skill k, const char *prompt, const char *completion) {
    char ans[32];
    int sub;
    if (answer_of(k, prompt, ans, sizeof ans, &sub)) return -1;
    const size_t want = strlen(ans) - 1, got = strcspn(completion, "\n");
    return got == want && memcmp(completion, ans, want) == 0;
}

/* Appends the example of prompt (its answer computed) to s. */
static int add_example(fl_skill_set *s, int *cap, const char *prompt) {
    if (s->n == *cap) {
        void *p = realloc(s->ex, sizeof *s->ex * (size_t)(*cap = *cap ? 2 * *cap : 4096));
        if (!p) return fl_error_set("%s: out of memory for %d examples", fl_skill_name(s->skill), s->n);
        s->ex = p;
    }
    fl_skill_example *e = &s->ex[s->n];
    snprintf(e->prompt, sizeof e->prompt, "%s", prompt);
    if (answer_of(s->skill, e->prompt, e->answer, sizeof e->answer, &e->subtask))
        return fl_error_set("%s: cannot answer its own prompt '%s'", fl_skill_name(s->skill), prompt);
    s->n++;
    return 0;
}

/* The examples of a skill, in a fixed order (not the split's seed: the
 * same set for every run). Addition: every pair of operands below 100
 * (with three-digit ones the quick model learnt too little: docs/lm.md). */
static int examples(fl_skill_set *s, const fl_words *w) {
    char p[32];
    int cap = 0, rc = 0;
    switch (s->skill) {
    case FL_SKILL_ADD:
        for (int a = 0; a < 100 && rc == 0; a++)
            for (int b = 0; b < 100 && rc == 0; b++) snprintf(p, sizeof p, "%d+%d=", a, b), rc = add_example(s, &cap, p);
        s->nsub = 2;
        snprintf(s->subtask_name[0], sizeof s->subtask_name[0], "nocarry");
        snprintf(s->subtask_name[1], sizeof s->subtask_name[1], "carry");
        return rc;
    case FL_SKILL_REVERSE:
    case FL_SKILL_SORT:
        for (int i = 0; i < w->n && rc == 0; i++) {
            const size_t len = strlen(w->word[i]);
            if (len < 3 || len > 6) continue;
            snprintf(p, sizeof p, "%s%s=", s->skill == FL_SKILL_REVERSE ? "rev:" : "sort:", w->word[i]);
            rc = add_example(s, &cap, p);
        }
        s->nsub = 4;
        for (int l = 0; l < 4; l++) snprintf(s->subtask_name[l], sizeof s->subtask_name[l], "len%d", l + 3);
        return rc;
    case FL_SKILL_COUNT:
        for (int c = 0; COUNT_LETTERS[c] && rc == 0; c++)
            for (int i = 0; i < w->n && rc == 0; i++) {
                snprintf(p, sizeof p, "count:%c:%s=", COUNT_LETTERS[c], w->word[i]);
                rc = add_example(s, &cap, p);
            }
        s->nsub = (int)strlen(COUNT_LETTERS);
        for (int c = 0; c < s->nsub; c++) snprintf(s->subtask_name[c], sizeof s->subtask_name[c], "%c", COUNT_LETTERS[c]);
        return rc;
    default: return fl_error_set("unknown skill %d", (int)s->skill);
    }
}

int fl_skill_build(fl_skill_set *s, fl_skill k, const fl_words *w, double test_frac, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->skill = k;
    if (!(test_frac > 0 && test_frac < 1)) return fl_error_set("test fraction %g: expected (0, 1)", test_frac);
    if (examples(s, w)) {
        fl_skill_free(s);
        return -1;
    }
    s->train = malloc(sizeof(int) * (size_t)s->n), s->test = malloc(sizeof(int) * (size_t)s->n);
    int *group = malloc(sizeof(int) * (size_t)s->n);
    if (!s->train || !s->test || !group) {
        free(group);
        fl_skill_free(s);
        return fl_error_set("%s: out of memory", fl_skill_name(k));
    }
    for (int i = 0; i < s->n; i++) group[i] = s->ex[i].subtask;
    const int rc = fl_split_groups(group, s->n, s->nsub, test_frac, seed, s->train, &s->n_train, s->test, &s->n_test);
    free(group);
    if (rc) fl_skill_free(s);
    return rc;
}

int fl_split_groups(const int *group, int n, int ngroups, double test_frac, uint64_t seed, int *train, int *n_train,
                    int *test, int *n_test) {
    int *idx = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!idx) return fl_error_set("out of memory");
    *n_train = *n_test = 0;
    /* Each group split on its own, so every group has test items. */
    fl_rng rng;
    fl_rng_init(&rng, seed, FL_STREAM_SPLIT);
    for (int g = 0; g < ngroups; g++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (group[i] == g) idx[m++] = i;
        fl_rng_shuffle(&rng, idx, m);
        const int nt = (int)(test_frac * m + 0.5);
        for (int j = 0; j < m; j++) {
            if (j < nt) test[(*n_test)++] = idx[j];
            else train[(*n_train)++] = idx[j];
        }
    }
    /* The test items in a random order, so the first n of them (what an
     * evaluation scores) are a uniform sample across the groups, not the
     * first groups' items. */
    fl_rng_shuffle(&rng, test, *n_test);
    free(idx);
    return 0;
}

void fl_skill_free(fl_skill_set *s) {
    free(s->ex), free(s->train), free(s->test);
    memset(s, 0, sizeof *s);
}

int fl_lm_data_load(fl_lm_data *d, const char *data_dir, uint64_t seed) {
    memset(d, 0, sizeof *d);
    const char *dir = fl_data_dir(data_dir);
    char *lm = fl_path_join(dir, "lm"), *text = lm ? fl_path_join(lm, "kjv.txt") : NULL;
    char *words = lm ? fl_path_join(lm, "words") : NULL;
    int rc = text && words ? 0 : fl_error_set("out of memory");
    if (rc == 0) rc = fl_text_load(&d->text, text, 20);
    if (rc == 0) rc = fl_words_load(&d->words, words, 3, 6);
    for (int k = 0; k < FL_NSKILLS && rc == 0; k++) rc = fl_skill_build(&d->skill[k], (fl_skill)k, &d->words, 0.1, seed);
    free(lm), free(text), free(words);
    if (rc) fl_lm_data_free(d);
    return rc;
}

void fl_lm_data_free(fl_lm_data *d) {
    fl_text_free(&d->text);
    fl_words_free(&d->words);
    for (int k = 0; k < FL_NSKILLS; k++) fl_skill_free(&d->skill[k]);
}
