/* newtask.h: the language model's new task (docs/lm.md, "The new task"),
 * absent from pretraining: complete a word from its first letters.
 *
 *   prompt "word:ca"  ->  completion "ble="   (reward 1: "cable" is a word)
 *
 * The prompt is "word:" and a prefix of 2 or 3 letters; the completion is
 * one or more lowercase letters, then the stop byte '='. The reward is 1
 * when prefix + letters is a word of the list (3 to 6 letters) longer than
 * the prefix, else 0. Every prefix that begins at least FL_NEWTASK_MIN_WORDS
 * such words is a prompt, so every prompt has many correct completions:
 * fixed supervised targets (the alphabetically first or last word) and the
 * model's own correct answers differ, as the SFT targets and the samples
 * of an on-policy method do in RL's Razor.
 *
 * The pretrained model has seen every word (reversed, sorted, counted) and
 * the "prompt=answer" layout, never "word:": it goes on with a word-like
 * string and '=' often enough for RL to start (docs/lm.md measures it). */
#ifndef FORGETLAB_NEWTASK_H
#define FORGETLAB_NEWTASK_H

#include "forgetlab/data/lmdata.h"

#include <stdint.h>

#define FL_NEWTASK_STOP '='
#define FL_NEWTASK_MIN_WORDS 5
#define FL_NEWTASK_MAX_NEW 6 /* the longest completion (4 letters and '='), and a byte more */

typedef struct {
    char prefix[4];
    int first, count;   /* its valid words: sorted[first .. first + count) */
} fl_newtask_prompt;

typedef struct {
    int nwords;
    char (*sorted)[8];  /* the word list in strcmp order */
    int n;              /* prompts, in prefix order */
    fl_newtask_prompt *p;
    int n_train, n_test;
    int *train, *test;  /* prompt indices; the test ones in a random order */
} fl_newtask;

/* Every prompt from the word list, split by a shuffle of (seed,
 * FL_STREAM_SPLIT): test_frac of the prompts of each prefix length are
 * test prompts, the rest train. */
int fl_newtask_build(fl_newtask *t, const fl_words *w, double test_frac, uint64_t seed);
void fl_newtask_free(fl_newtask *t);

/* Prompt i as text ("word:ca") into buf (at least 16 bytes); its length. */
int fl_newtask_prompt_text(const fl_newtask *t, int i, char *buf);
/* The reward: 1 when completion, up to its first '=' (which must come),
 * completes the prompt's prefix to a valid word; 0 otherwise; -1 when
 * prompt is not "word:" and a prefix of 2 or 3 lowercase letters. */
int fl_newtask_check(const fl_newtask *t, const char *prompt, const char *completion);
/* The fixed supervised target of prompt i: the rest of its alphabetically
 * first valid word (alt 0: `sft`) or last (alt 1: `sft-alt`), then '=',
 * into buf (at least 8 bytes). */
void fl_newtask_target(const fl_newtask *t, int i, int alt, char *buf);
/* The completion of prompt i to its k-th valid word (0 <= k < count, in
 * strcmp order), then '=', into buf (at least 8 bytes). */
void fl_newtask_answer(const fl_newtask *t, int i, int k, char *buf);

#endif
