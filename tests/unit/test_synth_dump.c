/* Round trip: dumps written by synth_dump are read back by dt_dump_open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dumptriage/dump.h"
#include "synth_dump.h"

enum { TEB = 0x7FFFFFD3000ull, STACK_START = 0x2F000, STACK_SIZE = 0x1000 };

/* Writes `d` to a temporary file, opens it with the reader, and removes
 * the file (the reader keeps its mapping). */
static dt_dump *round_trip(const synth_dump *d)
{
    char path[] = "/tmp/synth_dump_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(synth_dump_write_file(d, path), 0);
    dt_dump *dump = NULL;
    dt_error err;
    dt_status st = dt_dump_open(&dump, path, NULL, &err);
    unlink(path);
    if (st != DT_OK)
        fail_msg("dt_dump_open: %s", err.message);
    return dump;
}

static size_t count_diagnostics(const dt_dump *dump, dt_diag_level level)
{
    size_t count, n = 0;
    const dt_diagnostic *diags = dt_dump_diagnostics(dump, &count);
    for (size_t i = 0; i < count; i++)
        n += diags[i].level == level;
    return n;
}

static void assert_no_errors(const dt_dump *dump)
{
    size_t count;
    const dt_diagnostic *diags = dt_dump_diagnostics(dump, &count);
    for (size_t i = 0; i < count; i++)
        if (diags[i].level == DT_DIAG_ERROR)
            fail_msg("error diagnostic: %s: %s", diags[i].structure, diags[i].message);
}

static void set_amd64_system(synth_dump *d)
{
    synth_system_info si = {.cpu = SYNTH_CPU_AMD64, .processor_level = 6,
                            .processor_revision = 0x1A05, .processor_count = 8,
                            .product_type = 3, .major = 6, .minor = 1, .build = 7600,
                            .csd = "Service Pack 1"};
    synth_dump_set_system_info(d, &si);
}

static uint8_t *pattern(size_t size, uint8_t seed)
{
    uint8_t *p = malloc(size);
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)(seed + i * 7);
    return p;
}

static void add_amd64_thread(synth_dump *d, uint32_t id, uint64_t stack_start, const uint8_t *stack)
{
    synth_thread t = {.id = id, .suspend_count = 1, .priority_class = 0x20, .priority = 2,
                      .teb = TEB, .stack_start = stack_start, .stack = stack,
                      .stack_size = STACK_SIZE, .has_context = true};
    synth_context_init(&t.context, SYNTH_CPU_AMD64);
    t.context.regs[DT_AMD64_RIP] = 0x77BC04AA;
    t.context.regs[DT_AMD64_RSP] = stack_start + 0x100;
    t.context.regs[DT_AMD64_RBX] = 0x1234;
    t.context.regs[DT_AMD64_R15] = 0xF15;
    synth_dump_add_thread(d, &t);
}

static void test_thread_and_stack_in_memory_list(void **state)
{
    (void)state;
    uint8_t *stack = pattern(STACK_SIZE, 3);
    synth_dump *d = synth_dump_new();
    synth_dump_set_timestamp(d, 1253836800);
    set_amd64_system(d);
    add_amd64_thread(d, 0x2CC, STACK_START, stack);
    dt_dump *dump = round_trip(d);
    assert_no_errors(dump);
    assert_int_equal(dt_dump_kind_get(dump), DT_DUMP_MINI);
    assert_int_equal(dt_dump_header_get(dump)->timestamp, 1253836800);
    size_t n;
    const dt_thread *t = dt_dump_threads(dump, &n);
    assert_int_equal(n, 1);
    assert_int_equal(t->id, 0x2CC);
    assert_int_equal(t->teb, TEB);
    assert_true(t->stack_rva != 0);
    assert_true(t->has_context);
    assert_int_equal(t->context.cpu, DT_CPU_AMD64);
    assert_int_equal(dt_context_ip(&t->context), 0x77BC04AA);
    assert_int_equal(t->context.regs[DT_AMD64_RBX], 0x1234);
    assert_int_equal(t->context.regs[DT_AMD64_R15], 0xF15);
    assert_int_equal(t->context.regs[DT_AMD64_CS], 0x33);
    uint8_t back[STACK_SIZE];
    assert_int_equal(dt_dump_read(dump, STACK_START, back, STACK_SIZE), STACK_SIZE);
    assert_memory_equal(back, stack, STACK_SIZE);
    const dt_system_info *si = dt_dump_system_info(dump);
    assert_non_null(si);
    assert_int_equal(si->cpu, DT_CPU_AMD64);
    assert_int_equal(si->processor_count, 8);
    assert_int_equal(si->build, 7600);
    assert_string_equal(si->csd, "Service Pack 1");
    dt_dump_free(dump);
    synth_dump_free(d);
    free(stack);
}

static void check_full_dump(bool stack_rva_zero)
{
    uint8_t *stack = pattern(STACK_SIZE, 9);
    uint8_t *heap = pattern(0x2000, 1);
    synth_dump *d = synth_dump_new();
    synth_dump_set_full_memory(d);
    synth_dump_set_quirks(d, &(synth_dump_quirks){.stack_rva_zero = stack_rva_zero});
    set_amd64_system(d);
    add_amd64_thread(d, 1, STACK_START, stack);
    synth_dump_add_memory(d, 0x500000, heap, 0x2000);
    dt_dump *dump = round_trip(d);
    assert_no_errors(dump);
    assert_int_equal(dt_dump_kind_get(dump), DT_DUMP_FULL);
    size_t n;
    const dt_thread *t = dt_dump_threads(dump, &n);
    assert_int_equal(n, 1);
    assert_int_equal(t->stack_rva == 0, stack_rva_zero);
    uint8_t back[0x2000];
    assert_int_equal(dt_dump_read(dump, STACK_START, back, STACK_SIZE), STACK_SIZE);
    assert_memory_equal(back, stack, STACK_SIZE);
    assert_int_equal(dt_dump_read(dump, 0x500000, back, 0x2000), 0x2000);
    assert_memory_equal(back, heap, 0x2000);
    dt_dump_free(dump);
    synth_dump_free(d);
    free(stack);
    free(heap);
}

static void test_full_memory(void **state)
{
    (void)state;
    check_full_dump(false);
}

static void test_full_memory_stack_rva_zero(void **state)
{
    (void)state;
    check_full_dump(true);
}

/* Memory64List without the full-memory flag: a "memory" dump; a header
 * version whose low word is not 0xA793 draws a warning. */
static void test_memory64_layout_and_version(void **state)
{
    (void)state;
    uint8_t *heap = pattern(0x100, 2);
    synth_dump *d = synth_dump_new();
    synth_dump_set_memory_layout(d, SYNTH_MEMORY64_LIST);
    synth_dump_set_version(d, 0x0006A790);
    set_amd64_system(d);
    synth_dump_add_memory(d, 0x600000, heap, 0x100);
    dt_dump *dump = round_trip(d);
    assert_no_errors(dump);
    assert_int_equal(dt_dump_kind_get(dump), DT_DUMP_MEMORY);
    assert_int_equal(dt_dump_header_get(dump)->version, 0x0006A790);
    assert_true(count_diagnostics(dump, DT_DIAG_WARNING) >= 1);
    uint8_t back[0x100];
    assert_int_equal(dt_dump_read(dump, 0x600000, back, sizeof back), sizeof back);
    assert_memory_equal(back, heap, sizeof back);
    dt_dump_free(dump);
    synth_dump_free(d);
    free(heap);
}

static void test_modules(void **state)
{
    (void)state;
    synth_dump *d = synth_dump_new();
    set_amd64_system(d);
    synth_module m = {.path = "C:\\Windows\\System32\\ntdll.dll", .base = 0x77BA0000,
                      .size = 0x1AB000, .checksum = 0x1B1A3A, .timestamp = 0x4A5BDFE0,
                      .has_version = true, .version = {6, 1, 7600, 16385}, .is_dll = true,
                      .has_codeview = true, .codeview = {.age = 2, .pdb_name = "ntdll.pdb"}};
    synth_guid_from_seed(m.codeview.guid, "ntdll");
    synth_dump_add_module(d, &m);
    m.path = "c:\\windows\\system32\\inetsrv\\w3wp.exe";
    m.base = 0xFF5A0000;
    m.has_codeview = false;
    m.has_version = false;
    synth_dump_add_module(d, &m);
    dt_dump *dump = round_trip(d);
    assert_no_errors(dump);
    size_t n;
    const dt_module *mods = dt_dump_modules(dump, &n);
    assert_int_equal(n, 2);
    assert_string_equal(mods[0].name, "ntdll.dll");
    assert_string_equal(mods[0].path, "C:\\Windows\\System32\\ntdll.dll");
    assert_int_equal(mods[0].base, 0x77BA0000);
    assert_int_equal(mods[0].size, 0x1AB000);
    assert_int_equal(mods[0].timestamp, 0x4A5BDFE0);
    assert_true(mods[0].has_version);
    assert_int_equal(mods[0].version[2], 7600);
    assert_int_equal(mods[0].codeview.kind, DT_CV_RSDS);
    assert_memory_equal(mods[0].codeview.guid, m.codeview.guid, 16);
    assert_int_equal(mods[0].codeview.age, 2);
    assert_string_equal(mods[0].codeview.pdb_path, "ntdll.pdb");
    assert_string_equal(mods[1].name, "w3wp.exe");
    assert_false(mods[1].has_version);
    assert_int_equal(mods[1].codeview.kind, DT_CV_NONE);
    assert_ptr_equal(dt_dump_module_at(dump, 0x77BA1234), &mods[0]);
    dt_dump_free(dump);
    synth_dump_free(d);
}

static void test_exception_and_x86_context(void **state)
{
    (void)state;
    synth_dump *d = synth_dump_new();
    synth_system_info si = {.cpu = SYNTH_CPU_X86, .processor_count = 2, .major = 5, .minor = 2,
                            .build = 3790, .vendor = "GenuineIntel"};
    synth_dump_set_system_info(d, &si);
    synth_exception e = {.thread_id = 0x2028, .code = 0xC0000005, .address = 0x7C82ED54,
                         .parameter_count = 2, .parameters = {1, 0x10}, .has_context = true};
    synth_context_init(&e.context, SYNTH_CPU_X86);
    e.context.regs[DT_X86_EIP] = 0x7C82ED54;
    e.context.regs[DT_X86_ESP] = 0x0E8CF25C;
    e.context.regs[DT_X86_EBP] = 0x0E8CF2D8;
    synth_dump_set_exception(d, &e);
    dt_dump *dump = round_trip(d);
    assert_no_errors(dump);
    const dt_exception *x = dt_dump_exception(dump);
    assert_non_null(x);
    assert_int_equal(x->thread_id, 0x2028);
    assert_int_equal(x->code, 0xC0000005);
    assert_int_equal(x->parameter_count, 2);
    assert_int_equal(x->parameters[1], 0x10);
    assert_true(x->has_context);
    assert_int_equal(x->context.cpu, DT_CPU_X86);
    assert_int_equal(dt_context_ip(&x->context), 0x7C82ED54);
    assert_int_equal(dt_context_sp(&x->context), 0x0E8CF25C);
    assert_int_equal(x->context.regs[DT_X86_EBP], 0x0E8CF2D8);
    assert_string_equal(dt_dump_system_info(dump)->vendor, "GenuineIntel");
    dt_dump_free(dump);
    synth_dump_free(d);
}

static void test_misc_info_sizes(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {24, 44, 232, 832, 1364};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        synth_dump *d = synth_dump_new();
        synth_misc_info mi = {.size = sizes[i], .process_id = 0x85C,
                              .process_create_time = 1253000000, .processor_max_mhz = 2933,
                              .time_zone_bias = -60, .time_zone_standard_name = "W. Europe",
                              .build_string = "7600.16385.amd64fre.win7_rtm.090713-1255",
                              .process_cookie = 0xC00C1E};
        synth_dump_set_misc_info(d, &mi);
        dt_dump *dump = round_trip(d);
        assert_no_errors(dump);
        const dt_misc_info *m = dt_dump_misc_info(dump);
        assert_non_null(m);
        assert_int_equal(m->size, sizes[i]);
        assert_int_equal(m->process_id, 0x85C);
        assert_int_equal(m->process_create_time, 1253000000);
        assert_true(m->flags1 & DT_MISC1_PROCESS_ID);
        if (sizes[i] >= 44)
            assert_int_equal(m->processor_max_mhz, 2933);
        if (sizes[i] >= 232) {
            assert_int_equal(m->time_zone_bias, -60);
            assert_string_equal(m->time_zone_standard_name, "W. Europe");
        }
        if (sizes[i] >= 832)
            assert_string_equal(m->build_string, mi.build_string);
        if (sizes[i] >= 1364)
            assert_int_equal(m->process_cookie, 0xC00C1E);
        dt_dump_free(dump);
        synth_dump_free(d);
    }
}

static void test_handle_data(void **state)
{
    (void)state;
    uint8_t tbi[SYNTH_THREAD_BASIC_INFO_SIZE];
    synth_thread_basic_info_encode(&(synth_thread_basic_info){.exit_status = 0,
        .teb = TEB, .process_id = 0x85C, .thread_id = 0x9D0, .affinity = 0xFF,
        .priority = 8, .base_priority = 8}, tbi);
    synth_handle_info infos[] = {{SYNTH_HANDLE_INFO_THREAD1, tbi, sizeof tbi}};
    synth_dump *d = synth_dump_new();
    set_amd64_system(d);
    synth_dump_add_handle(d, &(synth_handle){.handle = 0x1A4, .type_name = "Thread",
        .granted_access = 0x1FFFFF, .handle_count = 2, .pointer_count = 3,
        .info_count = 1, .infos = infos});
    synth_dump_add_handle(d, &(synth_handle){.handle = 0x1A8, .type_name = "Event",
        .object_name = "\\BaseNamedObjects\\Shutdown"});
    dt_dump *dump = round_trip(d);
    assert_no_errors(dump);
    size_t n;
    const dt_handle *h = dt_dump_handles(dump, &n);
    assert_int_equal(n, 2);
    assert_string_equal(h[0].type_name, "Thread");
    assert_int_equal(h[0].info_count, 1);
    assert_true(h[0].has_exit_status);
    assert_int_equal(h[0].exit_status, 0);
    assert_int_equal(h[0].owner_process_id, 0x85C);
    assert_int_equal(h[0].owner_thread_id, 0x9D0);
    assert_string_equal(h[1].object_name, "\\BaseNamedObjects\\Shutdown");
    assert_int_equal(h[1].info_count, 0);
    dt_dump_free(dump);
    synth_dump_free(d);
}

static void test_thread_lists_and_memory_info(void **state)
{
    (void)state;
    uint8_t *stack = pattern(STACK_SIZE, 1);
    synth_dump *d = synth_dump_new();
    set_amd64_system(d);
    add_amd64_thread(d, 0x9D0, STACK_START, stack);
    synth_dump_add_thread_info(d, &(synth_thread_info){.thread_id = 0x9D0,
        .create_time = 128980000000000000ull, .user_time = 5000000, .kernel_time = 10000,
        .start_address = 0x77BCB3C0, .affinity = 0xFF});
    synth_dump_add_thread_name(d, 0x9D0, "w3wp shutdown");
    synth_dump_add_memory_info(d, &(synth_memory_info){.base = 0x1BD0000,
        .allocation_base = 0x1BD0000, .allocation_protect = SYNTH_PAGE_EXECUTE_READWRITE,
        .region_size = 0x10000, .state = SYNTH_MEM_COMMIT,
        .protect = SYNTH_PAGE_EXECUTE_READWRITE, .type = SYNTH_MEM_PRIVATE});
    synth_dump_add_unloaded_module(d, &(synth_unloaded_module){.base = 0x7FEF0000,
        .size = 0x20000, .timestamp = 0x4A5BE000, .name = "oldfilter.dll"});
    synth_dump_set_comment_w(d, "synthetic");
    dt_dump *dump = round_trip(d);
    assert_no_errors(dump);
    const dt_thread *t = dt_dump_thread_by_id(dump, 0x9D0);
    assert_non_null(t);
    assert_true(t->has_times);
    assert_int_equal(t->times.user_time, 5000000);
    assert_int_equal(t->times.start_address, 0x77BCB3C0);
    assert_string_equal(t->name, "w3wp shutdown");
    const dt_memory_info *mi = dt_dump_memory_info_at(dump, 0x1BD1234);
    assert_non_null(mi);
    assert_int_equal(mi->type, SYNTH_MEM_PRIVATE);
    assert_int_equal(mi->protect, SYNTH_PAGE_EXECUTE_READWRITE);
    size_t n;
    const dt_unloaded_module *u = dt_dump_unloaded_modules(dump, &n);
    assert_int_equal(n, 1);
    assert_string_equal(u->name, "oldfilter.dll");
    assert_string_equal(dt_dump_comment(dump), "synthetic");
    dt_dump_free(dump);
    synth_dump_free(d);
    free(stack);
}

/* Every quirk at once: padded counts, unaligned streams, unused entries and
 * a duplicated stream. The reader decodes all of it with warnings only. */
static void test_quirks(void **state)
{
    (void)state;
    uint8_t *stack = pattern(STACK_SIZE, 5);
    synth_dump *d = synth_dump_new();
    synth_dump_set_quirks(d, &(synth_dump_quirks){.pad_list_counts = true,
        .unaligned_streams = true, .unused_entries = 2});
    synth_dump_add_raw_stream(d, SYNTH_STREAM_UNUSED, NULL, 0);
    set_amd64_system(d);
    add_amd64_thread(d, 1, STACK_START, stack);
    add_amd64_thread(d, 2, STACK_START + STACK_SIZE, stack);
    synth_dump_add_module(d, &(synth_module){.path = "a.dll", .base = 0x10000000, .size = 0x1000});
    synth_dump_add_thread_name(d, 2, "second");
    synth_dump_duplicate_stream(d, SYNTH_STREAM_THREAD_LIST);
    dt_dump *dump = round_trip(d);
    assert_no_errors(dump);
    size_t n;
    const dt_thread *t = dt_dump_threads(dump, &n);
    assert_int_equal(n, 2);
    assert_int_equal(t[1].id, 2);
    assert_string_equal(t[1].name, "second");
    assert_int_equal(dt_dump_read(dump, STACK_START + STACK_SIZE, &(uint8_t){0}, 1), 1);
    dt_dump_modules(dump, &n);
    assert_int_equal(n, 1);
    const dt_stream *s = dt_dump_streams(dump, &n);
    size_t duplicates = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_not_equal(s[i].type, 0);
        assert_true(s[i].rva % 4 == 1);
        duplicates += s[i].state == DT_STREAM_DUPLICATE;
    }
    assert_int_equal(duplicates, 1);
    assert_true(count_diagnostics(dump, DT_DIAG_WARNING) >= 1);
    dt_dump_free(dump);
    synth_dump_free(d);
    free(stack);
}

/* Raw streams and entries let a test craft damage the reader reports. */
static void test_raw_streams(void **state)
{
    (void)state;
    synth_dump *d = synth_dump_new();
    set_amd64_system(d);
    uint8_t vendor[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    synth_dump_add_raw_stream(d, 0xFFF0, vendor, sizeof vendor);
    uint8_t short_threads[4] = {5, 0, 0, 0}; /* count 5, no entries */
    synth_dump_add_raw_stream(d, SYNTH_STREAM_THREAD_LIST, short_threads, sizeof short_threads);
    synth_dump_add_raw_entry(d, SYNTH_STREAM_MODULE_LIST, 0x6C, 0x7FFFFFF0);
    dt_dump *dump = round_trip(d);
    size_t n;
    const dt_stream *s = dt_dump_streams(dump, &n);
    assert_int_equal(n, 4);
    assert_int_equal(s[1].state, DT_STREAM_UNKNOWN);
    assert_int_equal(s[2].state, DT_STREAM_DAMAGED);
    assert_int_equal(s[3].state, DT_STREAM_DAMAGED);
    assert_true(count_diagnostics(dump, DT_DIAG_ERROR) >= 2);
    dt_dump_free(dump);
    synth_dump_free(d);
}

static void test_buffer_output_is_deterministic(void **state)
{
    (void)state;
    synth_buf a, b;
    synth_buf_init(&a);
    synth_buf_init(&b);
    for (int round = 0; round < 2; round++) {
        synth_dump *d = synth_dump_new();
        set_amd64_system(d);
        synth_dump_add_thread_name(d, 7, "x");
        synth_dump_write(d, round ? &b : &a);
        synth_dump_free(d);
    }
    assert_int_equal(a.size, b.size);
    assert_memory_equal(a.data, b.data, a.size);
    assert_memory_equal(a.data, "MDMP", 4);
    synth_buf_free(&a);
    synth_buf_free(&b);
}

static void test_codeview_id(void **state)
{
    (void)state;
    synth_codeview cv = {.age = 3};
    static const uint8_t guid[16] = {0xA8, 0x03, 0xE1, 0x72, 0xB2, 0x5C, 0x07, 0x49,
                                     0x8B, 0x76, 0xB2, 0xE7, 0xC0, 0x62, 0x57, 0xB1};
    memcpy(cv.guid, guid, 16);
    char id[42];
    synth_codeview_id(&cv, id);
    assert_string_equal(id, "72E103A85CB249078B76B2E7C06257B13");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_and_stack_in_memory_list),
        cmocka_unit_test(test_full_memory),
        cmocka_unit_test(test_full_memory_stack_rva_zero),
        cmocka_unit_test(test_memory64_layout_and_version),
        cmocka_unit_test(test_modules),
        cmocka_unit_test(test_exception_and_x86_context),
        cmocka_unit_test(test_misc_info_sizes),
        cmocka_unit_test(test_handle_data),
        cmocka_unit_test(test_thread_lists_and_memory_info),
        cmocka_unit_test(test_quirks),
        cmocka_unit_test(test_raw_streams),
        cmocka_unit_test(test_buffer_output_is_deterministic),
        cmocka_unit_test(test_codeview_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
