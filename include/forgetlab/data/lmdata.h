/* lmdata.h: what the byte-level language model learns from (docs/lm.md):
 * natural English (the King James Bible, one verse a line, from Debian's
 * bible-kjv-text; a held-out part for bits per byte) and synthetic skills,
 * each a prompt -> answer text format with an exact verifier, a fixed set
 * of examples split into disjoint train and test prompts, and named
 * subtasks (for circuit stability):
 *
 *   add      "37+45="         -> "28\n"    subtasks: nocarry, carry (operands below 100)
 *   reverse  "rev:lamp="      -> "pmal\n"  subtasks by word length: len3 .. len6
 *   sort     "sort:lamp="     -> "almp\n"  subtasks by word length: len3 .. len6
 *   count    "count:a:banana=" -> "3\n"    subtasks by the letter counted: a e i o s t
 *
 * Sums are written least significant digit first (82 as "28").
 * Words come from Debian's wamerican list: lowercase a-z, 3 to 6 letters.
 * An answer ends with the stop byte '\n'. */
#ifndef FORGETLAB_LMDATA_H
#define FORGETLAB_LMDATA_H

#include <stddef.h>
#include <stdint.h>

#define FL_LM_STOP '\n'

typedef enum { FL_SKILL_ADD, FL_SKILL_REVERSE, FL_SKILL_SORT, FL_SKILL_COUNT, FL_NSKILLS } fl_skill;

const char *fl_skill_name(fl_skill k);
int fl_skill_parse(const char *name, fl_skill *out);

/* A text corpus as bytes, lines kept whole: every line whose index is a
 * multiple of heldout_every goes to the held-out part (0: none). */
typedef struct {
    unsigned char *train, *heldout;
    size_t n_train, n_heldout;
} fl_text;
int fl_text_load(fl_text *t, const char *path, int heldout_every);
void fl_text_free(fl_text *t);

/* The word list: distinct lowercase a-z words of min_len..max_len
 * letters, in the file's order. */
typedef struct {
    int n;
    char (*word)[8];
} fl_words;
int fl_words_load(fl_words *w, const char *path, int min_len, int max_len);
void fl_words_free(fl_words *w);

typedef struct {
    char prompt[32];
    char answer[16];     /* with the stop byte */
    int subtask;
} fl_skill_example;

/* Every example of a skill, in a fixed order, split into train and test
 * by a shuffle of (seed, FL_STREAM_SPLIT): test_frac of each subtask's
 * examples are test prompts, the rest train; no prompt is in both. */
typedef struct {
    fl_skill skill;
    int n;
    fl_skill_example *ex;
    int nsub;
    char subtask_name[8][8];
    int n_train, n_test;
    int *train, *test;   /* example indices */
} fl_skill_set;
int fl_skill_build(fl_skill_set *s, fl_skill k, const fl_words *w, double test_frac, uint64_t seed);
void fl_skill_free(fl_skill_set *s);

/* Splits items 0..n-1, each in a group 0..ngroups-1, into train and test
 * (arrays of n): a shuffle of (seed, FL_STREAM_SPLIT) puts test_frac of
 * every group's items (rounded) in test, the rest in train; then the test
 * items are shuffled, so the first k of them are a uniform sample. */
int fl_split_groups(const int *group, int n, int ngroups, double test_frac, uint64_t seed, int *train, int *n_train,
                    int *test, int *n_test);

/* The exact verifier: 1 when completion, up to its first stop byte (or
 * its end), is the right answer to prompt, computed from the prompt
 * itself; 0 when it is not; -1 when the prompt is not of the skill. */
int fl_skill_check(fl_skill k, const char *prompt, const char *completion);

/* Everything the language model learns from and is scored on: the text,
 * the word list and the four skills. */
typedef struct {
    fl_text text;
    fl_words words;
    fl_skill_set skill[FL_NSKILLS];
} fl_lm_data;
/* DATA_DIR/lm/kjv.txt (every 20th verse held out) and DATA_DIR/lm/words;
 * the skills' train/test split from seed. */
int fl_lm_data_load(fl_lm_data *d, const char *data_dir, uint64_t seed);
void fl_lm_data_free(fl_lm_data *d);

#endif
