/* test_settings.c: one table describes a command's settings: values are
 * parsed strictly into every field type, --help shows each with its
 * default, and config.json written from a config reads back into the same
 * config (and refuses one whose value is missing or out of range). */
#include "testutil.h"

#include "forgetlab/io/settings.h"

#include <cjson/cJSON.h>
#include <string.h>

typedef struct {
    int n;
    long big;
    uint64_t seed;
    double lr;
    const char *name;
    int flag;
    int mode; /* custom: "slow" 0, "fast" 1 */
} cfg;

static int parse_mode(const char *v, void *field) {
    if (strcmp(v, "slow") == 0) *(int *)field = 0;
    else if (strcmp(v, "fast") == 0) *(int *)field = 1;
    else return fl_error_set("expected slow or fast, got '%s'", v);
    return 0;
}

static void format_mode(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", *(const int *)field ? "fast" : "slow");
}

#define F(f) offsetof(cfg, f)
static const fl_setting T[] = {
    {"n", FL_SET_INT, F(n), 1, 100, "N", "a count", "n", NULL, NULL},
    {"big", FL_SET_LONG, F(big), -5, 1e12, "N", "a long", "big", NULL, NULL},
    {"seed", FL_SET_U64, F(seed), 0, 9.2e18, "N", "a seed", "seed", NULL, NULL},
    {"lr", FL_SET_DOUBLE, F(lr), 1e-9, 1, "X", "a rate", "lr", NULL, NULL},
    {"name", FL_SET_STRING, F(name), 0, 0, "S", "a name", "name", NULL, NULL},
    {"flag", FL_SET_FLAG, F(flag), 0, 0, NULL, "a switch", "flag", NULL, NULL},
    {"mode", FL_SET_CUSTOM, F(mode), 0, 0, "M", "slow or fast", "mode", parse_mode, format_mode},
    {"threads", FL_SET_INT, F(n), 0, 8, "N", "not recorded (default: all)", NULL, NULL, NULL},
};
#undef F
enum { NT = sizeof T / sizeof *T };

static void test_apply(void **state) {
    (void)state;
    cfg c = {0};
    assert_int_equal(fl_setting_apply(&T[0], &c, "42"), 0);
    assert_int_equal(c.n, 42);
    assert_int_equal(fl_setting_apply(&T[1], &c, "1000000000000"), 0);
    assert_true(c.big == 1000000000000L);
    assert_int_equal(fl_setting_apply(&T[2], &c, "123456789012"), 0);
    assert_true(c.seed == 123456789012ULL);
    assert_int_equal(fl_setting_apply(&T[3], &c, "3e-4"), 0);
    assert_float_equal(c.lr, 3e-4, 0);
    assert_int_equal(fl_setting_apply(&T[4], &c, "abc"), 0);
    assert_string_equal(c.name, "abc");
    assert_int_equal(fl_setting_apply(&T[5], &c, NULL), 0);
    assert_int_equal(c.flag, 1);
    assert_int_equal(fl_setting_apply(&T[6], &c, "fast"), 0);
    assert_int_equal(c.mode, 1);
    /* Bad values: the whole string, within range; the field untouched. */
    const char *bad[][2] = {{"n", "0"}, {"n", "101"}, {"n", "4x"}, {"n", ""}, {"lr", "nan"}, {"lr", "2"},
                            {"big", "-6"}, {"seed", "-1"}, {"mode", "medium"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cfg d = c;
        const fl_setting *s = fl_setting_find(T, NT, bad[i][0]);
        assert_non_null(s);
        assert_int_equal(fl_setting_apply(s, &d, bad[i][1]), -1);
        assert_memory_equal(&d, &c, sizeof c);
        char want[32];
        snprintf(want, sizeof want, "--%s", bad[i][0]);
        assert_non_null(strstr(fl_error_msg(), want));
    }
    assert_null(fl_setting_find(T, NT, "nope"));
}

static void test_help(void **state) {
    (void)state;
    cfg d = {.n = 7, .lr = 0.001, .mode = 0};
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    fl_settings_help(f, T, NT, &d);
    fclose(f);
    assert_non_null(strstr(buf, "  --n N                   a count (default 7)\n"));
    assert_non_null(strstr(buf, "--lr X                  a rate (default 0.001)\n"));
    assert_non_null(strstr(buf, "--mode M                slow or fast (default slow)\n"));
    assert_non_null(strstr(buf, "--flag                  a switch\n")); /* a flag has no default */
    assert_non_null(strstr(buf, "--name S                a name\n"));   /* nor an unset string */
    assert_non_null(strstr(buf, "not recorded (default: all)\n"));     /* its own default text */
}

static void test_json_round_trip(void **state) {
    (void)state;
    cfg c = {.n = 9, .big = -3, .seed = 77, .lr = 0.125, .name = "x y", .flag = 1, .mode = 1};
    cJSON *j = cJSON_CreateObject();
    fl_settings_to_json(j, T, NT, &c);
    /* Keys in table order; the unrecorded setting left out. */
    const char *order[] = {"n", "big", "seed", "lr", "name", "flag", "mode"};
    int k = 0;
    for (const cJSON *it = j->child; it; it = it->next, k++) assert_string_equal(it->string, order[k]);
    assert_int_equal(k, 7);
    cfg back = {0};
    assert_int_equal(fl_settings_from_json(j, T, NT, &back), 0);
    assert_int_equal(back.n, 9);
    assert_true(back.big == -3 && back.seed == 77 && back.flag == 1 && back.mode == 1);
    assert_float_equal(back.lr, 0.125, 0);
    assert_string_equal(back.name, "x y");
    /* A missing key, or a value out of range, is named. */
    cJSON_ReplaceItemInObject(j, "n", cJSON_CreateNumber(1000));
    assert_int_equal(fl_settings_from_json(j, T, NT, &back), -1);
    assert_non_null(strstr(fl_error_msg(), "'n'"));
    cJSON_DeleteItemFromObject(j, "mode");
    cJSON_ReplaceItemInObject(j, "n", cJSON_CreateNumber(5));
    assert_int_equal(fl_settings_from_json(j, T, NT, &back), -1);
    assert_non_null(strstr(fl_error_msg(), "'mode'"));
    cJSON_Delete(j);
}

/* What a preset applied now would undo: the first changed setting, unless exempt. */
static void test_first_change(void **state) {
    (void)state;
    cfg base = {.n = 7, .lr = 0.001}, c = base;
    assert_null(fl_settings_first_change(T, NT, &c, &base, NULL));
    c.lr = 0.5;
    assert_string_equal(fl_settings_first_change(T, NT, &c, &base, NULL)->flag, "lr");
    const char *const except[] = {"lr", NULL};
    assert_null(fl_settings_first_change(T, NT, &c, &base, except));
    c.flag = 1;
    assert_string_equal(fl_settings_first_change(T, NT, &c, &base, except)->flag, "flag");
}

TU_MAIN(cmocka_unit_test(test_apply), cmocka_unit_test(test_help), cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_first_change))
