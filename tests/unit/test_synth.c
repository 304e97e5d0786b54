/* Every scenario dump (both variants) reads back without error diagnostics,
 * with the thread and module counts the scenario describes; the output is
 * deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dumptriage/dump.h"
#include "scenarios.h"

static dt_dump *open_buffer(const synth_buf *b)
{
    char path[] = "/tmp/synth_scenario_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(synth_write_file(path, b->data, b->size), 0);
    dt_dump *dump = NULL;
    dt_error err;
    dt_status st = dt_dump_open(&dump, path, NULL, &err);
    unlink(path);
    if (st != DT_OK)
        fail_msg("dt_dump_open: %s", err.message);
    return dump;
}

static void assert_no_errors(const dt_dump *dump, const char *scenario)
{
    size_t count;
    const dt_diagnostic *diags = dt_dump_diagnostics(dump, &count);
    for (size_t i = 0; i < count; i++)
        if (diags[i].level == DT_DIAG_ERROR)
            fail_msg("%s: error diagnostic: %s: %s", scenario, diags[i].structure,
                     diags[i].message);
}

static size_t image_count(const synth_process *p)
{
    size_t n = 0;
    for (size_t i = 0; i < synth_process_unit_count(p); i++)
        n += synth_process_pe(p, (int)i) != NULL;
    return n;
}

static void write_variant(const synth_process *p, synth_variant variant, synth_buf *out)
{
    synth_dump *d = synth_process_dump(p, variant);
    synth_buf_init(out);
    synth_dump_write(d, out);
    synth_dump_free(d);
}

static void check_variant(const synth_scenario *s, const synth_process *p, synth_variant variant)
{
    synth_buf b;
    write_variant(p, variant, &b);
    dt_dump *dump = open_buffer(&b);
    assert_no_errors(dump, s->name);
    assert_int_equal(dt_dump_kind_get(dump),
                     variant == SYNTH_VARIANT_FULL ? DT_DUMP_FULL : DT_DUMP_MINI);
    size_t threads, modules;
    const dt_thread *t = dt_dump_threads(dump, &threads);
    dt_dump_modules(dump, &modules);
    assert_int_equal(threads, synth_process_thread_count(p));
    assert_int_equal(modules, image_count(p));
    for (size_t i = 0; i < threads; i++) {
        assert_int_equal(t[i].id, synth_process_thread(p, i)->id);
        assert_true(t[i].has_context);
        assert_true(t[i].has_times);
        uint64_t sp = dt_context_sp(&t[i].context), value;
        assert_true(dt_dump_read_u64(dump, sp, &value)); /* the stack is present */
    }
    assert_non_null(dt_dump_system_info(dump));
    assert_non_null(dt_dump_misc_info(dump));
    dt_dump_free(dump);
    synth_buf_free(&b);
}

static void test_scenarios_read_back(void **state)
{
    (void)state;
    for (size_t i = 0; i < synth_scenario_count(); i++) {
        const synth_scenario *s = synth_scenario_at(i);
        if (!s->build)
            continue; /* images only */
        synth_process *p = s->build();
        check_variant(s, p, SYNTH_VARIANT_FULL);
        check_variant(s, p, SYNTH_VARIANT_MINI);
        synth_process_free(p);
    }
}

/* seed000: one thread, eight modules, 8 CPUs, Windows 7 / 2008 R2 6.1.7600,
 * process create time present so the uptime is known. */
static void test_seed000_facts(void **state)
{
    (void)state;
    synth_process *p = synth_scenario_find("seed000-w3wp-shutdown")->build();
    synth_buf b;
    write_variant(p, SYNTH_VARIANT_FULL, &b);
    dt_dump *dump = open_buffer(&b);
    size_t n;
    const dt_thread *t = dt_dump_threads(dump, &n);
    assert_int_equal(n, 1);
    assert_int_equal(t->id, 0x2CC);
    dt_dump_modules(dump, &n);
    assert_int_equal(n, 8);
    const dt_system_info *si = dt_dump_system_info(dump);
    assert_int_equal(si->processor_count, 8);
    assert_int_equal(si->major, 6);
    assert_int_equal(si->minor, 1);
    assert_int_equal(si->build, 7600);
    const dt_misc_info *mi = dt_dump_misc_info(dump);
    assert_int_equal(mi->process_id, 0x85C);
    assert_true(mi->flags1 & DT_MISC1_PROCESS_TIMES);
    assert_true(mi->process_create_time < dt_dump_header_get(dump)->timestamp);
    const dt_module *ntdll = dt_dump_module_at(dump, dt_context_ip(&t->context));
    assert_non_null(ntdll);
    assert_string_equal(ntdll->name, "ntdll.dll");
    dt_dump_free(dump);
    synth_buf_free(&b);
    synth_process_free(p);
}

/* seed002: the JIT code sits in private PAGE_EXECUTE_READWRITE memory that
 * MemoryInfoList describes, and 72 threads wait on the monitor. */
static void test_seed002_jit_region(void **state)
{
    (void)state;
    synth_process *p = synth_scenario_find("seed002-clr-monitor-x64")->build();
    size_t waiters = 0;
    for (size_t i = 0; i < synth_process_thread_count(p); i++)
        waiters += strcmp(synth_process_thread(p, i)->role, "monitor-waiter") == 0;
    assert_int_equal(waiters, 72);
    synth_buf b;
    write_variant(p, SYNTH_VARIANT_MINI, &b);
    dt_dump *dump = open_buffer(&b);
    const synth_text *jit = NULL;
    for (size_t i = 0; i < synth_process_unit_count(p); i++)
        if (!synth_process_pe(p, (int)i))
            jit = synth_process_text(p, (int)i);
    assert_non_null(jit);
    uint64_t code = synth_text_function_address(jit, 0);
    const dt_memory_info *mi = dt_dump_memory_info_at(dump, code);
    assert_non_null(mi);
    assert_int_equal(mi->type, SYNTH_MEM_PRIVATE);
    assert_int_equal(mi->protect, SYNTH_PAGE_EXECUTE_READWRITE);
    assert_null(dt_dump_module_at(dump, code));
    dt_dump_free(dump);
    synth_buf_free(&b);
    synth_process_free(p);
}

static void test_output_is_deterministic(void **state)
{
    (void)state;
    for (size_t i = 0; i < synth_scenario_count(); i++) {
        synth_buf a, b;
        if (!synth_scenario_at(i)->build)
            continue;
        synth_process *p = synth_scenario_at(i)->build();
        write_variant(p, SYNTH_VARIANT_FULL, &a);
        synth_process_free(p);
        p = synth_scenario_at(i)->build();
        write_variant(p, SYNTH_VARIANT_FULL, &b);
        synth_process_free(p);
        assert_int_equal(a.size, b.size);
        assert_memory_equal(a.data, b.data, a.size);
        synth_buf_free(&a);
        synth_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios_read_back),
        cmocka_unit_test(test_seed000_facts),
        cmocka_unit_test(test_seed002_jit_region),
        cmocka_unit_test(test_output_is_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
