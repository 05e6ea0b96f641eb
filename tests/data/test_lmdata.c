/* test_lmdata.c: the language model's data: each skill's verifier on
 * hand-made prompts and completions, the example sets (answers the
 * verifier accepts, subtasks, a train/test split that is disjoint,
 * covers every subtask and follows its seed), the word list's filter and
 * the corpus' held-out lines; the new task (word completion): its prompts,
 * reward, targets and split. */
#include "testutil.h"

#include "forgetlab/data/lmdata.h"
#include "forgetlab/data/newtask.h"

static void test_verifier(void **state) {
    (void)state;
    /* Sums are written least significant digit first: 82 as 28. */
    assert_int_equal(fl_skill_check(FL_SKILL_ADD, "37+45=", "28\n"), 1);
    assert_int_equal(fl_skill_check(FL_SKILL_ADD, "37+45=", "28"), 1);          /* cut at the length limit */
    assert_int_equal(fl_skill_check(FL_SKILL_ADD, "37+45=", "28\nmore"), 1);    /* what follows the stop is ignored */
    assert_int_equal(fl_skill_check(FL_SKILL_ADD, "37+45=", "82\n"), 0);        /* most significant first */
    assert_int_equal(fl_skill_check(FL_SKILL_ADD, "37+45=", "280\n"), 0);
    assert_int_equal(fl_skill_check(FL_SKILL_ADD, "95+7=", "201\n"), 1);
    assert_int_equal(fl_skill_check(FL_SKILL_ADD, "0+0=", "0\n"), 1);
    assert_int_equal(fl_skill_check(FL_SKILL_REVERSE, "rev:lamp=", "pmal\n"), 1);
    assert_int_equal(fl_skill_check(FL_SKILL_REVERSE, "rev:lamp=", "lamp\n"), 0);
    assert_int_equal(fl_skill_check(FL_SKILL_SORT, "sort:lamp=", "almp\n"), 1);
    assert_int_equal(fl_skill_check(FL_SKILL_SORT, "sort:banana=", "aaabnn\n"), 1);
    assert_int_equal(fl_skill_check(FL_SKILL_COUNT, "count:a:banana=", "3\n"), 1);
    assert_int_equal(fl_skill_check(FL_SKILL_COUNT, "count:t:banana=", "0\n"), 1);
    assert_int_equal(fl_skill_check(FL_SKILL_COUNT, "count:a:banana=", "2\n"), 0);
    /* Prompts that are not the skill's. */
    assert_int_equal(fl_skill_check(FL_SKILL_ADD, "rev:lamp=", "x"), -1);
    assert_int_equal(fl_skill_check(FL_SKILL_ADD, "1234+5=", "x"), -1);
    assert_int_equal(fl_skill_check(FL_SKILL_ADD, "100+5=", "501"), -1); /* operands below 100 */
    assert_int_equal(fl_skill_check(FL_SKILL_REVERSE, "rev:ab=", "ba"), -1);   /* too short */
    assert_int_equal(fl_skill_check(FL_SKILL_COUNT, "count:z:buzz=", "2"), -1); /* not a counted letter */
    fl_skill k;
    assert_int_equal(fl_skill_parse("sort", &k), 0);
    assert_int_equal(k, FL_SKILL_SORT);
    assert_int_equal(fl_skill_parse("copy", &k), -1);
}

static char *write_scratch(const char *name, const char *text) {
    char *path = tu_scratch(name);
    assert_int_equal(fl_write_text_atomic(path, text), 0);
    return path;
}

static void test_words_and_text(void **state) {
    (void)state;
    char *words = write_scratch("words", "Aaron\nab\nabc\nabc\nabcd's\nbanana\nbananas\ncafe\nlamp\nzebra\n");
    fl_words w;
    assert_int_equal(fl_words_load(&w, words, 3, 6), 0);
    /* Capitals, apostrophes, too short, too long and repeats left out. */
    const char *want[] = {"abc", "banana", "cafe", "lamp", "zebra"};
    assert_int_equal(w.n, 5);
    for (int i = 0; i < 5; i++) assert_string_equal(w.word[i], want[i]);
    fl_words_free(&w);
    char *text = write_scratch("text", "l0\nl1\nl2\nl3\nl4\nl5\nl6\n");
    fl_text t;
    assert_int_equal(fl_text_load(&t, text, 3), 0);
    assert_int_equal(t.n_heldout, 9); /* lines 0, 3, 6 */
    assert_memory_equal(t.heldout, "l0\nl3\nl6\n", 9);
    assert_int_equal(t.n_train, 12);
    assert_memory_equal(t.train, "l1\nl2\nl4\nl5\n", 12);
    fl_text_free(&t);
    free(words), free(text);
}

static void test_skill_sets(void **state) {
    (void)state;
    char *words = write_scratch("words", "ant\nbee\ncats\ndog\neagle\nferret\ngoat\nhorse\nibis\njaguar\nkoala\nlion\n");
    fl_words w;
    assert_int_equal(fl_words_load(&w, words, 3, 6), 0);
    for (int k = 0; k < FL_NSKILLS; k++) {
        fl_skill_set s, again, other;
        assert_int_equal(fl_skill_build(&s, (fl_skill)k, &w, 0.25, 1), 0);
        const int want_n[FL_NSKILLS] = {10000, 12, 12, 6 * 12};
        assert_int_equal(s.n, want_n[k]);
        assert_int_equal(s.n_train + s.n_test, s.n);
        /* Every answer is one the verifier accepts. */
        for (int i = 0; i < s.n; i++) assert_int_equal(fl_skill_check(s.skill, s.ex[i].prompt, s.ex[i].answer), 1);
        /* Disjoint, and every subtask has test prompts. */
        unsigned char *in_test = calloc((size_t)s.n, 1);
        int per_sub[8] = {0};
        for (int j = 0; j < s.n_test; j++) in_test[s.test[j]] = 1, per_sub[s.ex[s.test[j]].subtask]++;
        for (int j = 0; j < s.n_train; j++) assert_false(in_test[s.train[j]]);
        for (int sub = 0; sub < s.nsub; sub++) assert_true(per_sub[sub] > 0);
        free(in_test);
        /* The same seed, the same split; another seed, another one. */
        assert_int_equal(fl_skill_build(&again, (fl_skill)k, &w, 0.25, 1), 0);
        assert_memory_equal(s.test, again.test, sizeof(int) * (size_t)s.n_test);
        assert_int_equal(fl_skill_build(&other, (fl_skill)k, &w, 0.25, 2), 0);
        if (s.n > 20) assert_memory_not_equal(s.test, other.test, sizeof(int) * (size_t)s.n_test);
        fl_skill_free(&s), fl_skill_free(&again), fl_skill_free(&other);
    }
    fl_skill_set s;
    assert_int_equal(fl_skill_build(&s, FL_SKILL_ADD, &w, 0.25, 1), 0);
    /* Without any carry: 55 units pairs x 55 tens pairs. */
    assert_int_equal(s.nsub, 2);
    assert_string_equal(s.subtask_name[0], "nocarry");
    assert_string_equal(s.subtask_name[1], "carry");
    int nocarry = 0, first_sub[2] = {0, 0};
    for (int i = 0; i < s.n; i++) nocarry += s.ex[i].subtask == 0;
    assert_int_equal(nocarry, 55 * 55);
    /* The test prompts come in a random order: the first fifth already
     * holds both subtasks. */
    for (int j = 0; j < s.n_test / 5; j++) first_sub[s.ex[s.test[j]].subtask]++;
    assert_true(first_sub[0] > 0 && first_sub[1] > 0);
    fl_skill_free(&s);
    assert_int_equal(fl_skill_build(&s, FL_SKILL_ADD, &w, 1.5, 1), -1);
    fl_words_free(&w);
    free(words);
}

static void test_newtask(void **state) {
    (void)state;
    /* "ca" begins cab cable cables cafe cage cake (and is no word): a
     * prompt; "cab" begins cable cables only: too few; "ta" begins 5. */
    char *words = write_scratch("words", "cab\ncable\ncables\ncafe\ncage\ncake\ntab\ntail\ntake\ntale\ntame\n"
                                         "dog\nzoo\n");
    fl_words w;
    assert_int_equal(fl_words_load(&w, words, 3, 6), 0);
    fl_newtask t, again;
    assert_int_equal(fl_newtask_build(&t, &w, 0.5, 3), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.p[0].prefix, "ca");
    assert_int_equal(t.p[0].count, 6);
    assert_string_equal(t.p[1].prefix, "ta");
    assert_int_equal(t.p[1].count, 5);
    assert_int_equal(t.n_train + t.n_test, 2);
    char buf[16];
    assert_int_equal(fl_newtask_prompt_text(&t, 0, buf), 7);
    assert_string_equal(buf, "word:ca");
    /* The targets: the rest of the first and of the last word, then '='. */
    fl_newtask_target(&t, 0, 0, buf);
    assert_string_equal(buf, "b=");
    fl_newtask_target(&t, 0, 1, buf);
    assert_string_equal(buf, "ke=");
    assert_int_equal(fl_newtask_check(&t, "word:ca", "ble="), 1);
    assert_int_equal(fl_newtask_check(&t, "word:ca", "bles=more"), 1); /* what follows '=' is ignored */
    assert_int_equal(fl_newtask_check(&t, "word:ca", "ble"), 0);       /* no stop: cut off */
    assert_int_equal(fl_newtask_check(&t, "word:ca", "="), 0);         /* nothing added */
    assert_int_equal(fl_newtask_check(&t, "word:ca", "bx="), 0);
    assert_int_equal(fl_newtask_check(&t, "word:ca", "B="), 0);
    assert_int_equal(fl_newtask_check(&t, "word:ca", "blesss="), 0);   /* longer than any word */
    assert_int_equal(fl_newtask_check(&t, "word:do", "g="), 1);        /* any prefix: the list decides */
    assert_int_equal(fl_newtask_check(&t, "word:c", "ab="), -1);
    assert_int_equal(fl_newtask_check(&t, "word:cabl", "e="), -1);
    assert_int_equal(fl_newtask_check(&t, "rev:ca", "b="), -1);
    assert_int_equal(fl_newtask_check(&t, "word:C1", "b="), -1);
    /* Every target is rewarded; the same seed, the same split. */
    for (int i = 0; i < t.n; i++)
        for (int alt = 0; alt < 2; alt++) {
            char p[16], c[8];
            fl_newtask_prompt_text(&t, i, p);
            fl_newtask_target(&t, i, alt, c);
            assert_int_equal(fl_newtask_check(&t, p, c), 1);
        }
    assert_int_equal(fl_newtask_build(&again, &w, 0.5, 3), 0);
    assert_memory_equal(t.test, again.test, sizeof(int) * (size_t)t.n_test);
    fl_newtask_free(&t), fl_newtask_free(&again);
    assert_int_equal(fl_newtask_build(&t, &w, 0, 3), -1);
    fl_words_free(&w);
    free(words);
}

/* The real data, when setup has put it there: thousands of words, and the
 * whole King James Bible (31,102 verses) with every 20th verse held out. */
static void test_real_data(void **state) {
    (void)state;
    const char *dir = getenv("FORGETLAB_DATA");
    char words[1024], text[1024];
    snprintf(words, sizeof words, "%s/lm/words", dir ? dir : "data");
    snprintf(text, sizeof text, "%s/lm/kjv.txt", dir ? dir : "data");
    if (!fl_file_exists(words) || !fl_file_exists(text)) skip();
    fl_words w;
    assert_int_equal(fl_words_load(&w, words, 3, 6), 0);
    assert_true(w.n > 5000);
    /* The new task on the real list: hundreds of prompts of both lengths,
     * each with at least 5 valid completions, every target rewarded. */
    fl_newtask nt;
    assert_int_equal(fl_newtask_build(&nt, &w, 0.2, 0), 0);
    assert_true(nt.n > 500 && nt.n_test > 100);
    int len2 = 0;
    for (int i = 0; i < nt.n; i++) {
        char p[16], c[8];
        len2 += strlen(nt.p[i].prefix) == 2;
        assert_true(nt.p[i].count >= FL_NEWTASK_MIN_WORDS);
        fl_newtask_prompt_text(&nt, i, p);
        fl_newtask_target(&nt, i, i % 2, c);
        assert_int_equal(fl_newtask_check(&nt, p, c), 1);
    }
    assert_true(len2 > 100 && len2 < nt.n);
    fl_newtask_free(&nt);
    fl_words_free(&w);
    fl_text t;
    assert_int_equal(fl_text_load(&t, text, 20), 0);
    assert_true(t.n_train > 3500000 && t.n_heldout > 150000);
    fl_text_free(&t);
}

TU_MAIN(cmocka_unit_test(test_verifier), TU_SCRATCH_TEST(test_words_and_text), TU_SCRATCH_TEST(test_skill_sets),
        TU_SCRATCH_TEST(test_newtask),
        cmocka_unit_test(test_real_data))
