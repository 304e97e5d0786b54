/*
 * The built-in rules: every contract id exists, and on the synthetic
 * scenarios (tests/synth) walked, symbolized and analyzed like a real dump,
 * seed000 gives exactly iis-shutdown-close-request-queue, seed002 gives the
 * monitor, compilation and directory findings, and a healthy w3wp.exe gives
 * none. The YAML trees parsed at build time are those of the embedded text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dumptriage/rules.h"
#include "dumptriage/symbolizer.h"
#include "rules/builtin.h"
#include "scenarios.h"

static const char *const contract_ids[] = {
    "iis-shutdown-close-request-queue", "leaked-exited-thread-handles",
    "directory-enumeration-stall", "clr-monitor-contention", "aspnet-compilation-lock",
    "access-violation", "stack-overflow", "clr-unhandled-exception", "fail-fast",
    "heap-corruption", "memory-growth", "critical-section-deadlock", "orphaned-critical-section",
    "critical-section-contention", "loader-lock", "runaway-thread", "com-call-holding-lock",
    "sta-serialization", "outbound-rpc-wait", "messagebox-in-service",
    "loadlibrary-serialization", "crl-retrieval", "network-wait", "sleep-on-worker",
    "hung-in-exception-handling", "clr-gc-wait", "monitor-wait", "database-wait",
    "threadpool-starvation", "cross-thread-sendmessage"};

static void test_contract_ids(void **state)
{
    (void)state;
    dt_rule_set *set;
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(dt_rule_set_add_builtin(set), DT_OK);
    size_t index;
    for (size_t i = 0; i < sizeof contract_ids / sizeof contract_ids[0]; i++)
        if (!dt_rule_set_find(set, contract_ids[i], &index))
            fail_msg("no built-in rule %s", contract_ids[i]);
    assert_int_equal(dt_rule_set_count(set), sizeof contract_ids / sizeof contract_ids[0]);
    dt_rule_set_free(set);
}

/* ---- Scenarios ------------------------------------------------------------- */

typedef struct pipeline {
    dt_dump *dump;
    dt_image_set *images;
    dt_symbolizer *symbols;
    dt_stacks *stacks;
    dt_analysis *analysis;
} pipeline;

static void open_scenario(pipeline *p, const char *root, const char *name, const char *dump)
{
    char dir[512], path[600], images[600], symbols[600];
    assert_int_equal(synth_scenario_write(synth_scenario_find(name), root), 0);
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(path, sizeof path, "%s/%s", dir, dump);
    snprintf(images, sizeof images, "%s/images", dir);
    snprintf(symbols, sizeof symbols, "%s/symbols", dir);
    const char *image_paths[] = {images}, *symbol_paths[] = {symbols};
    dt_error err;
    assert_int_equal(dt_dump_open(&p->dump, path, NULL, &err), DT_OK);
    dt_image_search image_search = {image_paths, 1, false, true, true};
    assert_int_equal(dt_image_set_new(&p->images, p->dump, &image_search, &err), DT_OK);
    dt_symbol_search symbol_search = {symbol_paths, 1, false, true, p->images};
    assert_int_equal(dt_symbolizer_new(&p->symbols, p->dump, &symbol_search, &err), DT_OK);
    dt_walk_options walk = {.images = p->images};
    assert_int_equal(dt_walk_threads(&p->stacks, p->dump, &walk), DT_OK);
    assert_int_equal(dt_stacks_symbolize(p->stacks, p->symbols), DT_OK);
    assert_int_equal(dt_analyze_process(&p->analysis, p->dump, p->stacks), DT_OK);
}

static void close_scenario(pipeline *p)
{
    dt_analysis_free(p->analysis);
    dt_stacks_free(p->stacks);
    dt_symbolizer_free(p->symbols);
    dt_image_set_free(p->images);
    dt_dump_free(p->dump);
}

/* The ids of the findings on `name`, space-separated in finding order. */
static void findings_on(const char *name, const char *dump, char *ids, size_t size,
                        char *first_summary, size_t summary_size)
{
    char root[] = "/tmp/dt_rules_XXXXXX";
    assert_non_null(mkdtemp(root));
    pipeline p = {0};
    open_scenario(&p, root, name, dump);
    dt_rule_set *set;
    assert_int_equal(dt_rule_set_new(&set), DT_OK);
    assert_int_equal(dt_rule_set_add_builtin(set), DT_OK);
    dt_findings *findings;
    assert_int_equal(dt_rules_evaluate(&findings, set, p.dump, p.stacks, p.analysis), DT_OK);
    size_t count, used = 0;
    const dt_finding *list = dt_findings_list(findings, &count);
    ids[0] = first_summary[0] = '\0';
    for (size_t i = 0; i < count; i++)
        used += (size_t)snprintf(ids + used, size - used, "%s%s", i ? " " : "", list[i].rule_id);
    if (count)
        snprintf(first_summary, summary_size, "%s", list[0].summary);
    dt_findings_free(findings);
    dt_rule_set_free(set);
    close_scenario(&p);
    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", root);
    assert_int_equal(system(command), 0);
}

/* Whether two YAML trees are the same, node for node. */
static bool same_tree(const ynode *a, const ynode *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind || a->pos.line != b->pos.line || a->pos.column != b->pos.column ||
        a->start != b->start || a->end != b->end || a->length != b->length ||
        a->plain != b->plain || a->count != b->count || (a->text == NULL) != (b->text == NULL) ||
        (a->text && memcmp(a->text, b->text, a->length + 1) != 0))
        return false;
    for (a = a->first, b = b->first; a || b; a = a->next, b = b->next)
        if (!same_tree(a, b))
            return false;
    return true;
}

static void test_build_time_trees_match_text(void **state)
{
    (void)state;
    size_t count;
    const dt_builtin_rule_file *files = dt_builtin_rule_files(&count);
    assert_int_equal(count, dt_builtin_rule_tree_count);
    for (size_t i = 0; i < count; i++) {
        dt_arena arena = {0};
        dt_status status;
        char error[300];
        rule_pos pos;
        const ynode *root = yaml_tree_parse(&arena, files[i].text, files[i].size, &status, error,
                                            sizeof error, &pos);
        assert_non_null(root);
        assert_true(same_tree(root, dt_builtin_rule_trees[i]));
        dt_arena_release(&arena);
    }
}

static void test_seed000_fires_s1_only(void **state)
{
    (void)state;
    static const char *const dumps[] = {"mini.dmp", "full.dmp"};
    for (size_t i = 0; i < 2; i++) {
        char ids[1024], summary[1024];
        findings_on("seed000-w3wp-shutdown", dumps[i], ids, sizeof ids, summary, sizeof summary);
        assert_string_equal(ids, "iis-shutdown-close-request-queue");
        assert_string_equal(summary,
                            "Only 1 thread is left in w3wp.exe: thread 716 has been blocked in "
                            "ntdll!ZwClose+0xa under httpapi!HttpCloseRequestQueue while the "
                            "worker process stops; the process has been up 3d 17:30:00.");
    }
}

static void test_healthy_w3wp_has_no_findings(void **state)
{
    (void)state;
    static const char *const dumps[] = {"mini.dmp", "full.dmp"};
    for (size_t i = 0; i < 2; i++) {
        char ids[1024], summary[1024];
        findings_on("healthy-w3wp", dumps[i], ids, sizeof ids, summary, sizeof summary);
        assert_string_equal(ids, "");
    }
}

static void test_seed002_monitor_compilation_directory(void **state)
{
    (void)state;
    char ids[1024], summary[1024];
    findings_on("seed002-clr-monitor-x64", "mini.dmp", ids, sizeof ids, summary, sizeof summary);
    assert_string_equal(ids, "clr-monitor-contention aspnet-compilation-lock "
                             "directory-enumeration-stall");
    assert_string_equal(summary, "72 of 82 threads (88%) wait to enter a .NET monitor (lock "
                                 "statement) in clr!AwareLock::EnterEpilog+0xc8.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract_ids),
        cmocka_unit_test(test_build_time_trees_match_text),
        cmocka_unit_test(test_seed000_fires_s1_only),
        cmocka_unit_test(test_healthy_w3wp_has_no_findings),
        cmocka_unit_test(test_seed002_monitor_compilation_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
