/*
 * The rule-file parser: every file of tests/rules/malformed/ must fail with
 * the position and message on its first line ("# expect: LINE:COLUMN
 * text"), every file of tests/rules/valid/ must parse into the number of
 * rules it states ("# rules: N"); duplicate ids across files name both
 * places; the caps on rules, patterns and string length hold; and every
 * built-in rule file parses.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dumptriage/rules.h"

#define RULES_DIR DT_SOURCE_DIR "/tests/rules"

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

typedef void (*file_check)(const char *path, const char *text);

static size_t for_each_file(const char *dir, file_check check)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    size_t count = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".yaml"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = read_text(path);
        check(path, text);
        free(text);
        count++;
    }
    closedir(d);
    return count;
}

static size_t malformed_failures;

static void check_malformed(const char *path, const char *text)
{
    unsigned line, column;
    char expected[256];
    if (sscanf(text, "# expect: %u:%u %255[^\n]", &line, &column, expected) != 3)
        fail_msg("%s: no '# expect: LINE:COLUMN text' line", path);
    dt_rule_set *set;
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    dt_status status = dt_rule_set_add_path(set, path);
    size_t count;
    const dt_rule_error *errors = dt_rule_set_errors(set, &count);
    if (status == DT_OK || count == 0)
        fail_msg("%s: parsed without errors", path);
    if (errors[0].line != line || errors[0].column != column ||
        !strstr(errors[0].message, expected)) {
        print_error("%s: got %u:%u %s; expected %u:%u %s\n", path, errors[0].line,
                    errors[0].column, errors[0].message, line, column, expected);
        malformed_failures++;
    }
    assert_int_equal(dt_rule_set_count(set), 0);
    dt_rule_set_free(set);
}

static void check_valid(const char *path, const char *text)
{
    size_t expected;
    if (sscanf(text, "# rules: %zu", &expected) != 1)
        fail_msg("%s: no '# rules: N' line", path);
    dt_rule_set *set;
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    if (dt_rule_set_add_path(set, path) != DT_OK) {
        size_t count;
        const dt_rule_error *e = dt_rule_set_errors(set, &count);
        fail_msg("%s:%u:%u: %s", path, e[0].line, e[0].column, e[0].message);
    }
    assert_int_equal(dt_rule_set_count(set), expected);
    dt_rule_set_free(set);
}

static void test_malformed_files(void **state)
{
    (void)state;
    assert_true(for_each_file(RULES_DIR "/malformed", check_malformed) >= 50);
    assert_int_equal(malformed_failures, 0);
}

static void test_valid_files(void **state)
{
    (void)state;
    assert_true(for_each_file(RULES_DIR "/valid", check_valid) >= 2);
}

static void test_duplicate_ids_name_both_places(void **state)
{
    (void)state;
    dt_rule_set *set;
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(dt_rule_set_add_path(set, RULES_DIR "/duplicates"), DT_ERR_FORMAT);
    size_t count;
    const dt_rule_error *e = dt_rule_set_errors(set, &count);
    assert_int_equal(count, 1);
    assert_non_null(strstr(e[0].file, "duplicates/b.yaml"));
    assert_int_equal(e[0].line, 8);
    assert_int_equal(e[0].column, 5);
    assert_non_null(strstr(e[0].message, "duplicate rule id 'same-id' (also defined at "));
    assert_non_null(strstr(e[0].message, "duplicates/a.yaml:2:5)"));
    assert_int_equal(dt_rule_set_count(set), 1);
    dt_rule_set_free(set);
}

static void test_unreadable_path(void **state)
{
    (void)state;
    dt_rule_set *set;
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(dt_rule_set_add_path(set, RULES_DIR "/no-such-file.yaml"), DT_ERR_IO);
    size_t count;
    const dt_rule_error *e = dt_rule_set_errors(set, &count);
    assert_int_equal(count, 1);
    assert_int_equal(e[0].line, 0);
    dt_rule_set_free(set);
}

/* head, then `count` items "<before><index><after>" (no index when `after`
 * is NULL: just `before`), then tail. */
static char *repeated(const char *head, const char *before, const char *after, size_t count,
                      const char *tail)
{
    size_t item = strlen(before) + (after ? strlen(after) + 24 : 0);
    char *text = malloc(strlen(head) + count * item + strlen(tail) + 1), *at = text;
    at += sprintf(at, "%s", head);
    for (size_t i = 0; i < count; i++)
        at += after ? sprintf(at, "%s%zu%s", before, i, after) : sprintf(at, "%s", before);
    sprintf(at, "%s", tail);
    return text;
}

static dt_status add(dt_rule_set *set, const char *text, const dt_rule_error **first)
{
    dt_status status = dt_rule_set_add_text(set, "caps.yaml", text, strlen(text));
    size_t count;
    *first = dt_rule_set_errors(set, &count);
    return status;
}

static void test_cap_on_rules(void **state)
{
    (void)state;
    static const char after[] = ", title: t, severity: info, match: {exception: {}}, "
                                "summary: s}\n";
    dt_rule_set *set;
    const dt_rule_error *e;
    char *text = repeated("rules:\n", "- {id: r", after, DT_RULES_MAX_RULES + 1, "");
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(add(set, text, &e), DT_ERR_LIMIT);
    assert_non_null(strstr(e[0].message, "more than 10000 rules"));
    dt_rule_set_free(set);
    free(text);
    text = repeated("rules:\n", "- {id: r", after, DT_RULES_MAX_RULES, "");
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(add(set, text, &e), DT_OK);
    assert_int_equal(dt_rule_set_count(set), DT_RULES_MAX_RULES);
    dt_rule_set_free(set);
    free(text);
}

static void test_cap_on_patterns(void **state)
{
    (void)state;
    static const char head[] = "rules:\n- {id: a, title: t, severity: info, summary: s,\n"
                               "   match: {stack: {frames: [";
    dt_rule_set *set;
    const dt_rule_error *e;
    char *text = repeated(head, "m!f", ", ", DT_RULES_MAX_PATTERNS, "]}}}\n");
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(add(set, text, &e), DT_OK);
    dt_rule_set_free(set);
    free(text);
    text = repeated(head, "m!f", ", ", DT_RULES_MAX_PATTERNS + 1, "]}}}\n");
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(add(set, text, &e), DT_ERR_FORMAT);
    assert_int_equal(e[0].line, 3);
    assert_int_equal(e[0].column, 28);
    assert_non_null(strstr(e[0].message, "frames needs from 1 to 64 patterns"));
    dt_rule_set_free(set);
    free(text);
}

static void test_cap_on_string_length(void **state)
{
    (void)state;
    dt_rule_set *set;
    const dt_rule_error *e;
    char *text = repeated("rules:\n- {id: a, title: \"", "x", NULL, DT_RULES_MAX_STRING + 1,
                          "\", severity: info, summary: s, match: {exception: {}}}\n");
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(add(set, text, &e), DT_ERR_LIMIT);
    assert_int_equal(e[0].line, 2);
    assert_int_equal(e[0].column, 18);
    assert_non_null(strstr(e[0].message, "string longer than 4096 bytes"));
    dt_rule_set_free(set);
    free(text);
}

static void test_deep_yaml_is_refused(void **state)
{
    (void)state;
    dt_rule_set *set;
    const dt_rule_error *e;
    char *text = repeated("rules: ", "[", NULL, 100, "");
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(add(set, text, &e), DT_ERR_LIMIT);
    assert_non_null(strstr(e[0].message, "nested more than 64 levels"));
    dt_rule_set_free(set);
    free(text);
}

static void test_builtin_files_parse(void **state)
{
    (void)state;
    dt_rule_set *set;
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(dt_rule_set_add_builtin(set), DT_OK);
    size_t files;
    dt_builtin_rule_files(&files);
    assert_true(files >= 6);
    for (size_t i = 0; i < dt_rule_set_count(set); i++) {
        dt_rule_info info;
        assert_true(dt_rule_set_info(set, i, &info));
        assert_non_null(info.explanation);
        assert_non_null(info.advice);
        assert_non_null(strstr(info.file, "builtin:"));
        assert_non_null(strstr(info.source, info.id));
    }
    dt_rule_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_valid_files),
        cmocka_unit_test(test_duplicate_ids_name_both_places),
        cmocka_unit_test(test_unreadable_path),
        cmocka_unit_test(test_cap_on_rules),
        cmocka_unit_test(test_cap_on_patterns),
        cmocka_unit_test(test_cap_on_string_length),
        cmocka_unit_test(test_deep_yaml_is_refused),
        cmocka_unit_test(test_builtin_files_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
