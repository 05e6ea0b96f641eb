/* newtask.c: the language model's new task, word completion (newtask.h):
 * its prompts (every 2- and 3-letter prefix that begins enough words),
 * their train/test split, the reward and the fixed supervised targets. */
#include "forgetlab/data/newtask.h"

#include "forgetlab/core/error.h"

#include <stdlib.h>
#include <string.h>

static int cmp_word(const void *a, const void *b) { return strcmp(a, b); }

/* The first index of sorted[lo, hi) not below key (strcmp order). */
static int lower_bound(const fl_newtask *t, const char *key, int lo, int hi) {
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        if (strcmp(t->sorted[mid], key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int is_prefix(const char *pre, const char *w) { return strncmp(pre, w, strlen(pre)) == 0; }

static int add_prompts(fl_newtask *t, int len, int *cap) {
    for (int i = 0; i < t->nwords;) {
        if ((int)strlen(t->sorted[i]) < len) {
            i++;
            continue;
        }
        char pre[4] = {0};
        memcpy(pre, t->sorted[i], (size_t)len);
        /* The prefix's words are contiguous in sorted order, the prefix
         * itself (when a word) first: the valid ones are the longer ones. */
        int first = i, end = i;
        while (end < t->nwords && is_prefix(pre, t->sorted[end])) end++;
        if (strcmp(t->sorted[first], pre) == 0) first++;
        if (end - first >= FL_NEWTASK_MIN_WORDS) {
            if (t->n == *cap) {
                void *p = realloc(t->p, sizeof *t->p * (size_t)(*cap = *cap ? 2 * *cap : 512));
                if (!p) return fl_error_set("out of memory");
                t->p = p;
            }
            fl_newtask_prompt *q = &t->p[t->n++];
            memcpy(q->prefix, pre, sizeof pre);
            q->first = first, q->count = end - first;
        }
        i = end;
    }
    return 0;
}

int fl_newtask_build(fl_newtask *t, const fl_words *w, double test_frac, uint64_t seed) {
    memset(t, 0, sizeof *t);
    if (!(test_frac > 0 && test_frac < 1)) return fl_error_set("test fraction %g: expected (0, 1)", test_frac);
    t->sorted = malloc(sizeof *t->sorted * (size_t)(w->n > 0 ? w->n : 1));
    if (!t->sorted) return fl_error_set("out of memory");
    memcpy(t->sorted, w->word, sizeof *t->sorted * (size_t)w->n);
    t->nwords = w->n;
    qsort(t->sorted, (size_t)t->nwords, sizeof *t->sorted, cmp_word);
    int cap = 0, rc = add_prompts(t, 2, &cap);
    if (rc == 0) rc = add_prompts(t, 3, &cap);
    if (rc == 0 && t->n == 0) rc = fl_error_set("word completion: no prefix begins %d words", FL_NEWTASK_MIN_WORDS);
    int *group = rc ? NULL : malloc(sizeof(int) * (size_t)t->n);
    t->train = malloc(sizeof(int) * (size_t)(t->n + 1)), t->test = malloc(sizeof(int) * (size_t)(t->n + 1));
    if (rc == 0 && (!group || !t->train || !t->test)) rc = fl_error_set("out of memory");
    for (int i = 0; rc == 0 && i < t->n; i++) group[i] = (int)strlen(t->p[i].prefix) - 2;
    if (rc == 0) rc = fl_split_groups(group, t->n, 2, test_frac, seed, t->train, &t->n_train, t->test, &t->n_test);
    free(group);
    if (rc) fl_newtask_free(t);
    return rc;
}

void fl_newtask_free(fl_newtask *t) {
    free(t->sorted), free(t->p), free(t->train), free(t->test);
    memset(t, 0, sizeof *t);
}

int fl_newtask_prompt_text(const fl_newtask *t, int i, char *buf) {
    strcpy(buf, "word:");
    strcat(buf, t->p[i].prefix);
    return (int)strlen(buf);
}

int fl_newtask_check(const fl_newtask *t, const char *prompt, const char *completion) {
    if (strncmp(prompt, "word:", 5) != 0) return -1;
    const char *pre = prompt + 5;
    const size_t lp = strlen(pre);
    if (lp < 2 || lp > 3) return -1;
    for (size_t i = 0; i < lp; i++)
        if (pre[i] < 'a' || pre[i] > 'z') return -1;
    const char *stop = strchr(completion, FL_NEWTASK_STOP);
    if (!stop || stop == completion) return 0;
    const size_t lc = (size_t)(stop - completion);
    if (lc > 6 - lp) return 0;
    char word[16];
    memcpy(word, pre, lp);
    for (size_t i = 0; i < lc; i++) {
        if (completion[i] < 'a' || completion[i] > 'z') return 0;
        word[lp + i] = completion[i];
    }
    word[lp + lc] = '\0';
    const int at = lower_bound(t, word, 0, t->nwords);
    return at < t->nwords && strcmp(t->sorted[at], word) == 0;
}

void fl_newtask_answer(const fl_newtask *t, int i, int k, char *buf) {
    const fl_newtask_prompt *q = &t->p[i];
    strcpy(buf, t->sorted[q->first + k] + strlen(q->prefix));
    const size_t n = strlen(buf);
    buf[n] = FL_NEWTASK_STOP, buf[n + 1] = '\0';
}

void fl_newtask_target(const fl_newtask *t, int i, int alt, char *buf) {
    fl_newtask_answer(t, i, alt ? t->p[i].count - 1 : 0, buf);
}
