/*
 * Unit tests of the minidump reader (src/dump): every stream decoder, the
 * writer quirks it tolerates, and every error path, on dumps made by the
 * synthetic builder (tests/synth).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "dump/dump_internal.h"
#include "dumptriage/dump.h"
#include "synth_dump.h"

enum { THREAD_ID = 0x1d4c, MODULE_BASE = 0x140000000ull, STACK_BASE = 0x7ff00000ull };

/* A decoded dump and the bytes it reads from (kept alive together). */
typedef struct fixture {
    synth_buf bytes;
    dt_dump *dump;
    dt_error err;
    dt_status status;
} fixture;

static synth_dump *basic_process(void)
{
    synth_dump *d = synth_dump_new();
    synth_dump_set_timestamp(d, 1600000000);
    synth_system_info sys = {.cpu = SYNTH_CPU_AMD64, .processor_level = 6,
                             .processor_revision = 0x8c01, .processor_count = 8,
                             .product_type = 1, .major = 10, .minor = 0, .build = 19042,
                             .csd = "Service Pack 1"};
    synth_dump_set_system_info(d, &sys);
    static uint8_t stack[256];
    for (size_t i = 0; i < sizeof stack; i++)
        stack[i] = (uint8_t)i;
    synth_thread t = {.id = THREAD_ID, .suspend_count = 1, .priority = 2, .teb = 0x7ffde000,
                      .stack_start = STACK_BASE, .stack = stack, .stack_size = sizeof stack,
                      .has_context = true};
    synth_context_init(&t.context, SYNTH_CPU_AMD64);
    t.context.regs[DT_AMD64_RIP] = MODULE_BASE + 0x1234;
    t.context.regs[DT_AMD64_RSP] = STACK_BASE + 0x40;
    t.context.regs[DT_AMD64_RBX] = 0xb0b;
    synth_dump_add_thread(d, &t);
    synth_module m = {.path = "C:\\Windows\\System32\\inetsrv\\w3wp.exe", .base = MODULE_BASE,
                      .size = 0x10000, .timestamp = 0x4a5bc9d4, .has_version = true,
                      .version = {7, 5, 7600, 16385}, .has_codeview = true,
                      .codeview = {.age = 3, .pdb_name = "d:\\build\\w3wp.pdb"}};
    synth_guid_from_seed(m.codeview.guid, "w3wp");
    synth_dump_add_module(d, &m);
    synth_misc_info misc = {.size = 232, .process_id = 4242, .process_create_time = 1599990000};
    synth_dump_set_misc_info(d, &misc);
    return d;
}

static void open_fixture(fixture *f, synth_dump *d)
{
    synth_buf_init(&f->bytes);
    synth_dump_write(d, &f->bytes);
    synth_dump_free(d);
    f->status = dt_dump_open_memory(&f->dump, f->bytes.data, f->bytes.size, "test.dmp", &f->err);
}

static void close_fixture(fixture *f)
{
    dt_dump_free(f->dump);
    synth_buf_free(&f->bytes);
}

/* Number of diagnostics of at least `level` whose structure contains `what`. */
static size_t count_diags(const dt_dump *dump, dt_diag_level level, const char *what)
{
    size_t n, found = 0;
    const dt_diagnostic *diags = dt_dump_diagnostics(dump, &n);
    for (size_t i = 0; i < n; i++)
        found += diags[i].level >= level && strstr(diags[i].structure, what) != NULL;
    return found;
}

static const dt_stream *find_stream(const dt_dump *dump, uint32_t type)
{
    size_t n;
    const dt_stream *streams = dt_dump_streams(dump, &n);
    for (size_t i = 0; i < n; i++)
        if (streams[i].type == type)
            return &streams[i];
    return NULL;
}

static void test_threads_and_context(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, basic_process());
    assert_int_equal(f.status, DT_OK);
    size_t n;
    const dt_thread *t = dt_dump_threads(f.dump, &n);
    assert_int_equal(n, 1);
    assert_int_equal(t->id, THREAD_ID);
    assert_int_equal(t->suspend_count, 1);
    assert_int_equal(t->teb, 0x7ffde000);
    assert_true(t->has_context);
    assert_int_equal(t->context.cpu, DT_CPU_AMD64);
    assert_int_equal(dt_context_ip(&t->context), MODULE_BASE + 0x1234);
    assert_int_equal(dt_context_sp(&t->context), STACK_BASE + 0x40);
    assert_int_equal(t->context.regs[DT_AMD64_RBX], 0xb0b);
    assert_string_equal(dt_context_reg_name(DT_CPU_AMD64, DT_AMD64_R15), "r15");
    assert_ptr_equal(dt_dump_thread_by_id(f.dump, THREAD_ID), t);
    assert_null(dt_dump_thread_by_id(f.dump, 1));
    assert_int_equal(count_diags(f.dump, DT_DIAG_WARNING, ""), 0);
    close_fixture(&f);
}

static void test_modules_codeview_version(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, basic_process());
    size_t n;
    const dt_module *m = dt_dump_modules(f.dump, &n);
    assert_int_equal(n, 1);
    assert_string_equal(m->name, "w3wp.exe");
    assert_string_equal(m->path, "C:\\Windows\\System32\\inetsrv\\w3wp.exe");
    assert_int_equal(m->timestamp, 0x4a5bc9d4);
    assert_true(m->has_version);
    assert_int_equal(m->version[2], 7600);
    assert_int_equal(m->codeview.kind, DT_CV_RSDS);
    assert_int_equal(m->codeview.age, 3);
    assert_string_equal(m->codeview.pdb_path, "d:\\build\\w3wp.pdb");
    assert_ptr_equal(dt_dump_module_at(f.dump, MODULE_BASE + 0xffff), m);
    assert_null(dt_dump_module_at(f.dump, MODULE_BASE + 0x10000));
    assert_string_equal(dt_dump_process_name(f.dump), "w3wp.exe");
    close_fixture(&f);
}

static void test_system_and_misc(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, basic_process());
    const dt_system_info *s = dt_dump_system_info(f.dump);
    assert_non_null(s);
    assert_int_equal(s->cpu, DT_CPU_AMD64);
    assert_int_equal(s->build, 19042);
    assert_string_equal(s->csd, "Service Pack 1");
    assert_int_equal(s->cpu_model, 140);
    assert_int_equal(s->cpu_stepping, 1);
    const dt_misc_info *m = dt_dump_misc_info(f.dump);
    assert_non_null(m);
    assert_int_equal(m->process_id, 4242);
    uint64_t uptime;
    assert_true(dt_dump_process_uptime(f.dump, &uptime));
    assert_int_equal(uptime, 10000);
    close_fixture(&f);
}

static void test_memory_reads(void **state)
{
    (void)state;
    synth_dump *d = basic_process();
    uint8_t next[16];
    memset(next, 0xee, sizeof next);
    synth_dump_add_memory(d, STACK_BASE + 256, next, sizeof next); /* adjacent range */
    fixture f;
    open_fixture(&f, d);
    uint8_t buf[300];
    assert_int_equal(dt_dump_read(f.dump, STACK_BASE + 250, buf, 22), 22);
    assert_int_equal(buf[0], 250);
    assert_int_equal(buf[6], 0xee); /* crossed into the adjacent range */
    assert_int_equal(dt_dump_read(f.dump, STACK_BASE + 260, buf, 64), 12); /* partly present */
    assert_int_equal(dt_dump_read(f.dump, STACK_BASE - 1, buf, 4), 0);
    uint64_t word;
    assert_true(dt_dump_read_u64(f.dump, STACK_BASE + 8, &word));
    assert_int_equal(word, 0x0f0e0d0c0b0a0908ull);
    assert_int_equal(dt_dump_kind_get(f.dump), DT_DUMP_MINI);
    close_fixture(&f);
}

/* MemoryList ranges in several runs out of address order, with a duplicate
 * and an overlap: the earlier listed range wins where two cover a byte. */
static void test_memory_out_of_order(void **state)
{
    (void)state;
    static const struct {
        uint64_t base;
        uint8_t fill;
    } ranges[] = {{0x1000, 0xa1}, {0x3000, 0xb1}, {0x2000, 0xc1},
                  {0x2000, 0xd1}, {0x0800, 0xe1}, {0x1008, 0xf1}};
    static uint8_t bytes[6][16];
    synth_dump *d = basic_process();
    for (size_t i = 0; i < 6; i++) {
        memset(bytes[i], ranges[i].fill, sizeof bytes[i]);
        synth_dump_add_memory(d, ranges[i].base, bytes[i], sizeof bytes[i]);
    }
    fixture f;
    open_fixture(&f, d);
    uint8_t buf[32];
    assert_int_equal(dt_dump_read(f.dump, 0x1000, buf, sizeof buf), 24);
    assert_int_equal(buf[0xc], 0xa1);  /* the overlap is the first range's */
    assert_int_equal(buf[0x14], 0xf1);
    const struct { uint64_t address; uint8_t fill; } expected[] = {
        {0x0800, 0xe1}, {0x2000, 0xc1}, {0x200f, 0xc1}, {0x3000, 0xb1}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(dt_dump_read(f.dump, expected[i].address, buf, 1), 1);
        assert_int_equal(buf[0], expected[i].fill);
    }
    assert_int_equal(dt_dump_read(f.dump, 0x2010, buf, 1), 0);
    close_fixture(&f);
}

static void test_full_dump_with_stack_rva_zero(void **state)
{
    (void)state;
    synth_dump *d = basic_process();
    synth_dump_set_full_memory(d);
    synth_dump_quirks quirks = {.stack_rva_zero = true};
    synth_dump_set_quirks(d, &quirks);
    fixture f;
    open_fixture(&f, d);
    assert_int_equal(f.status, DT_OK);
    assert_int_equal(dt_dump_kind_get(f.dump), DT_DUMP_FULL);
    size_t n;
    const dt_thread *t = dt_dump_threads(f.dump, &n);
    assert_int_equal(t->stack_rva, 0);
    uint64_t word;
    assert_true(dt_dump_read_u64(f.dump, STACK_BASE, &word)); /* found by address */
    assert_int_equal(word, 0x0706050403020100ull);
    close_fixture(&f);
}

static void test_quirks_padding_unaligned_unused(void **state)
{
    (void)state;
    synth_dump *d = basic_process();
    synth_dump_quirks quirks = {.pad_list_counts = true, .unaligned_streams = true,
                                .unused_entries = 3};
    synth_dump_set_quirks(d, &quirks);
    synth_dump_add_thread_name(d, THREAD_ID, "worker");
    fixture f;
    open_fixture(&f, d);
    assert_int_equal(f.status, DT_OK);
    size_t n;
    const dt_thread *t = dt_dump_threads(f.dump, &n);
    assert_int_equal(n, 1);
    assert_int_equal(t->id, THREAD_ID);
    assert_string_equal(t->name, "worker");
    const dt_module *m = dt_dump_modules(f.dump, &n);
    assert_int_equal(n, 1);
    assert_string_equal(m->name, "w3wp.exe");
    assert_int_equal(count_diags(f.dump, DT_DIAG_WARNING, ""), 0);
    close_fixture(&f);
}

static void test_exception_and_thread_info(void **state)
{
    (void)state;
    synth_dump *d = basic_process();
    synth_exception e = {.thread_id = THREAD_ID, .code = 0xC0000005, .address = MODULE_BASE + 0x10,
                         .parameter_count = 2, .parameters = {0, 0x10}, .has_context = true};
    synth_context_init(&e.context, SYNTH_CPU_AMD64);
    e.context.regs[DT_AMD64_RIP] = MODULE_BASE + 0x10;
    synth_dump_set_exception(d, &e);
    synth_thread_info ti = {.thread_id = THREAD_ID, .user_time = 123456789, .kernel_time = 10};
    synth_dump_add_thread_info(d, &ti);
    fixture f;
    open_fixture(&f, d);
    const dt_exception *x = dt_dump_exception(f.dump);
    assert_non_null(x);
    assert_int_equal(x->code, 0xC0000005);
    assert_int_equal(x->parameter_count, 2);
    assert_int_equal(x->parameters[1], 0x10);
    assert_int_equal(dt_context_ip(&x->context), MODULE_BASE + 0x10);
    assert_string_equal(dt_exception_code_name(x->code), "EXCEPTION_ACCESS_VIOLATION");
    size_t n;
    const dt_thread *t = dt_dump_threads(f.dump, &n);
    assert_true(t->has_times);
    assert_int_equal(t->times.user_time, 123456789);
    close_fixture(&f);
}

static void add_thread_handle(synth_dump *d, uint64_t value, uint32_t tid, uint32_t exit_status)
{
    static uint8_t payloads[8][SYNTH_THREAD_BASIC_INFO_SIZE];
    static int next;
    synth_thread_basic_info info = {.exit_status = exit_status, .process_id = 4242,
                                    .thread_id = tid};
    uint8_t *payload = payloads[next++ % 8];
    synth_thread_basic_info_encode(&info, payload);
    synth_handle_info chain = {SYNTH_HANDLE_INFO_THREAD1, payload, SYNTH_THREAD_BASIC_INFO_SIZE};
    synth_handle h = {.handle = value, .type_name = "Thread", .handle_count = 1,
                      .pointer_count = 2, .info_count = 1, .infos = &chain};
    synth_dump_add_handle(d, &h);
}

static void test_handles_with_object_info(void **state)
{
    (void)state;
    synth_dump *d = basic_process();
    add_thread_handle(d, 0x40, 777, 0);          /* exited with status 0 */
    add_thread_handle(d, 0x44, THREAD_ID, SYNTH_STATUS_PENDING);
    synth_handle event = {.handle = 0x48, .type_name = "Event", .object_name = "\\BaseNamedObjects\\x"};
    synth_dump_add_handle(d, &event);
    fixture f;
    open_fixture(&f, d);
    size_t n;
    const dt_handle *h = dt_dump_handles(f.dump, &n);
    assert_int_equal(n, 3);
    assert_string_equal(h[0].type_name, "Thread");
    assert_true(h[0].has_exit_status);
    assert_int_equal(h[0].exit_status, 0);
    assert_int_equal(h[0].owner_thread_id, 777);
    assert_int_equal(h[1].exit_status, 0x103);
    assert_string_equal(h[2].object_name, "\\BaseNamedObjects\\x");
    assert_false(h[2].has_exit_status);
    close_fixture(&f);
}

static void test_memory_info_lookup(void **state)
{
    (void)state;
    synth_dump *d = basic_process();
    synth_memory_info regions[] = {
        {0x20000, 0x20000, SYNTH_PAGE_READWRITE, 0x1000, SYNTH_MEM_COMMIT, SYNTH_PAGE_READWRITE,
         SYNTH_MEM_PRIVATE},
        {0x10000, 0x10000, SYNTH_PAGE_EXECUTE_READWRITE, 0x2000, SYNTH_MEM_COMMIT,
         SYNTH_PAGE_EXECUTE_READWRITE, SYNTH_MEM_PRIVATE}};
    synth_dump_add_memory_info(d, &regions[0]);
    synth_dump_add_memory_info(d, &regions[1]);
    fixture f;
    open_fixture(&f, d);
    const dt_memory_info *m = dt_dump_memory_info_at(f.dump, 0x11fff);
    assert_non_null(m);
    assert_int_equal(m->protect, SYNTH_PAGE_EXECUTE_READWRITE);
    assert_null(dt_dump_memory_info_at(f.dump, 0x12000));
    assert_non_null(dt_dump_memory_info_at(f.dump, 0x20000));
    close_fixture(&f);
}

static void test_duplicate_and_empty_streams(void **state)
{
    (void)state;
    synth_dump *d = basic_process();
    synth_dump_duplicate_stream(d, SYNTH_STREAM_MODULE_LIST);
    synth_dump_add_raw_stream(d, SYNTH_STREAM_COMMENT_W, "", 0);
    synth_dump_add_raw_stream(d, 0xFFF0, "wine", 4); /* a vendor stream is listed */
    fixture f;
    open_fixture(&f, d);
    size_t n, duplicates = 0, empty = 0;
    const dt_stream *streams = dt_dump_streams(f.dump, &n);
    for (size_t i = 0; i < n; i++) {
        duplicates += streams[i].state == DT_STREAM_DUPLICATE;
        empty += streams[i].state == DT_STREAM_EMPTY;
    }
    assert_int_equal(duplicates, 1);
    assert_int_equal(empty, 1);
    assert_int_equal(find_stream(f.dump, 0xFFF0)->state, DT_STREAM_UNKNOWN);
    dt_dump_modules(f.dump, &n);
    assert_int_equal(n, 1);
    close_fixture(&f);
}

static void test_stream_rva_past_end(void **state)
{
    (void)state;
    synth_dump *d = basic_process();
    synth_dump_add_raw_entry(d, 16 /* MemoryInfoList */, 64, 0x7fffffff);
    fixture f;
    open_fixture(&f, d);
    assert_int_equal(f.status, DT_OK);
    assert_int_equal(find_stream(f.dump, 16)->state, DT_STREAM_DAMAGED);
    size_t n;
    const dt_diagnostic *diags = dt_dump_diagnostics(f.dump, &n);
    assert_int_equal(n, 1);
    assert_true(diags[0].has_offset);
    assert_int_equal(diags[0].offset, 0x7fffffff);
    dt_dump_threads(f.dump, &n);
    assert_int_equal(n, 1); /* the other streams are still decoded */
    close_fixture(&f);
}

static void test_count_overflow_salvages_entries(void **state)
{
    (void)state;
    synth_dump *d = basic_process();
    fixture f;
    open_fixture(&f, d);
    /* Claim 0xFFFFFFFF threads in the ThreadList that holds one. */
    const dt_stream *s = find_stream(f.dump, SYNTH_STREAM_THREAD_LIST);
    uint32_t rva = s->rva;
    dt_dump_free(f.dump);
    synth_put_u32(f.bytes.data + rva, 0xFFFFFFFFu);
    f.status = dt_dump_open_memory(&f.dump, f.bytes.data, f.bytes.size, "t.dmp", &f.err);
    assert_int_equal(f.status, DT_OK);
    size_t n;
    dt_dump_threads(f.dump, &n);
    assert_int_equal(n, 1);
    assert_true(count_diags(f.dump, DT_DIAG_ERROR, "ThreadList") >= 1);
    close_fixture(&f);
}

static void test_truncated_directory(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, basic_process());
    const dt_dump_header *h = dt_dump_header_get(f.dump);
    uint32_t directory = h->directory_rva, count = h->stream_count;
    dt_dump_free(f.dump);
    /* Cut the file inside the directory's second entry: the first survives. */
    size_t cut = directory + 12 + 6;
    f.status = dt_dump_open_memory(&f.dump, f.bytes.data, cut, "cut.dmp", &f.err);
    assert_int_equal(f.status, DT_OK);
    size_t n;
    dt_dump_streams(f.dump, &n);
    assert_int_equal(n, 1);
    assert_true(count > 1);
    assert_int_equal(count_diags(f.dump, DT_DIAG_ERROR, "stream directory"), 1);
    dt_dump_free(f.dump);
    /* Cut before the directory: nothing to salvage, a clear error. */
    f.status = dt_dump_open_memory(&f.dump, f.bytes.data, directory, "cut.dmp", &f.err);
    assert_int_equal(f.status, DT_ERR_FORMAT);
    assert_null(f.dump);
    assert_true(f.err.has_offset);
    assert_int_equal(f.err.offset, directory);
    assert_non_null(strstr(f.err.message, "cut.dmp: stream directory at offset"));
    close_fixture(&f);
}

static void test_zero_size_context(void **state)
{
    (void)state;
    synth_dump *d = basic_process();
    synth_thread t = {.id = 99, .has_context = false};
    synth_dump_add_thread(d, &t);
    fixture f;
    open_fixture(&f, d);
    const dt_thread *thread = dt_dump_thread_by_id(f.dump, 99);
    assert_non_null(thread);
    assert_false(thread->has_context);
    assert_int_equal(count_diags(f.dump, DT_DIAG_INFO, "context"), 1);
    assert_int_equal(count_diags(f.dump, DT_DIAG_WARNING, ""), 0);
    close_fixture(&f);
}

static void test_x86_context(void **state)
{
    (void)state;
    synth_dump *d = synth_dump_new();
    synth_system_info sys = {.cpu = SYNTH_CPU_X86, .major = 6, .minor = 1, .build = 7600,
                             .vendor = "GenuineIntel"};
    synth_dump_set_system_info(d, &sys);
    synth_thread t = {.id = 7, .has_context = true};
    synth_context_init(&t.context, SYNTH_CPU_X86);
    t.context.regs[DT_X86_EIP] = 0x77001234;
    t.context.regs[DT_X86_ESP] = 0x0012ff00;
    t.context.regs[DT_X86_EBP] = 0x0012ff40;
    synth_dump_add_thread(d, &t);
    fixture f;
    open_fixture(&f, d);
    size_t n;
    const dt_thread *thread = dt_dump_threads(f.dump, &n);
    assert_int_equal(thread->context.cpu, DT_CPU_X86);
    assert_int_equal(dt_context_ip(&thread->context), 0x77001234);
    assert_int_equal(thread->context.regs[DT_X86_EBP], 0x0012ff40);
    assert_string_equal(dt_dump_system_info(f.dump)->vendor, "GenuineIntel");
    close_fixture(&f);
}

static void test_signatures_refused(void **state)
{
    (void)state;
    dt_dump *dump;
    dt_error err;
    uint8_t kernel[0x2000] = "PAGEDU64";
    assert_int_equal(dt_dump_open_memory(&dump, kernel, sizeof kernel, "k.dmp", &err),
                     DT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "kernel dump"));
    uint8_t elf[64] = "\x7f" "ELF";
    assert_int_equal(dt_dump_open_memory(&dump, elf, sizeof elf, "core", &err), DT_ERR_UNSUPPORTED);
    uint8_t junk[64] = "MZ not a dump";
    assert_int_equal(dt_dump_open_memory(&dump, junk, sizeof junk, "x.exe", &err), DT_ERR_FORMAT);
    assert_int_equal(dt_dump_open_memory(&dump, junk, 3, "tiny", &err), DT_ERR_FORMAT);
}

static void test_gzip_file(void **state)
{
    (void)state;
    synth_buf bytes;
    synth_buf_init(&bytes);
    synth_dump *d = basic_process();
    synth_dump_write(d, &bytes);
    synth_dump_free(d);
    char path[] = "/tmp/dt-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    gzFile gz = gzdopen(fd, "wb");
    assert_int_equal(gzwrite(gz, bytes.data, (unsigned)bytes.size), (int)bytes.size);
    gzclose(gz);
    dt_dump *dump;
    dt_error err;
    assert_int_equal(dt_dump_open(&dump, path, NULL, &err), DT_OK);
    assert_true(dt_dump_was_compressed(dump));
    assert_int_equal(dt_dump_file_size(dump), bytes.size);
    size_t n;
    dt_dump_threads(dump, &n);
    assert_int_equal(n, 1);
    dt_dump_free(dump);
    dt_open_options small = {100, NULL}; /* the inflate cap */
    assert_int_equal(dt_dump_open(&dump, path, &small, &err), DT_ERR_LIMIT);
    assert_non_null(strstr(err.message, "size cap"));
    unlink(path);
    synth_buf_free(&bytes);
}

/* ---- Resource bounds ---- */

enum { THREAD_ENTRY = 48, MODULE_ENTRY = 108, MEMORY_DESCRIPTOR = 16, VENDOR_STREAM = 0x8001 };

/* A stream of a u32 count then `held` zeroed entries of `entry_size`. */
static void add_list_stream(synth_dump *d, uint32_t type, uint32_t count, size_t held,
                            size_t entry_size)
{
    size_t size = 4 + held * entry_size;
    uint8_t *bytes = calloc(1, size);
    assert_non_null(bytes);
    synth_put_u32(bytes, count);
    synth_dump_add_raw_stream(d, type, bytes, size);
    free(bytes);
}

static size_t count_messages(const dt_dump *dump, const char *message)
{
    size_t n, found = 0;
    const dt_diagnostic *diags = dt_dump_diagnostics(dump, &n);
    for (size_t i = 0; i < n; i++)
        found += strstr(diags[i].message, message) != NULL;
    return found;
}

static bool has_diag(const dt_dump *dump, const char *structure, const char *message)
{
    size_t n;
    const dt_diagnostic *diags = dt_dump_diagnostics(dump, &n);
    for (size_t i = 0; i < n; i++)
        if (strstr(diags[i].structure, structure) && strstr(diags[i].message, message))
            return true;
    return false;
}

/* Opens a dump whose list stream `type` holds `count` entries of
 * `entry_size` bytes. */
static void open_full_list(fixture *f, uint32_t type, uint32_t count, size_t entry_size)
{
    synth_dump *d = synth_dump_new();
    add_list_stream(d, type, count, count, entry_size);
    open_fixture(f, d);
    assert_int_equal(f->status, DT_OK);
}

/* A ThreadList that really holds one thread more than DT_MAX_THREADS is
 * read up to the cap, with a diagnostic. */
static void test_thread_cap(void **state)
{
    (void)state;
    fixture f;
    open_full_list(&f, SYNTH_STREAM_THREAD_LIST, DT_MAX_THREADS + 1, THREAD_ENTRY);
    size_t n;
    dt_dump_threads(f.dump, &n);
    assert_int_equal(n, DT_MAX_THREADS);
    assert_true(has_diag(f.dump, "ThreadList", "exceeds the cap of 65536"));
    close_fixture(&f);
}

static void test_module_cap(void **state)
{
    (void)state;
    fixture f;
    open_full_list(&f, SYNTH_STREAM_MODULE_LIST, DT_MAX_MODULES + 1, MODULE_ENTRY);
    size_t n;
    dt_dump_modules(f.dump, &n);
    assert_int_equal(n, DT_MAX_MODULES);
    assert_true(has_diag(f.dump, "ModuleList", "exceeds the cap of 65536"));
    close_fixture(&f);
}

/* A MemoryList whose count is past DT_MAX_MEMORY_RANGES is capped before
 * the entries it lacks are noticed (4M real descriptors would be 64 MB). */
static void test_memory_range_cap(void **state)
{
    (void)state;
    synth_dump *d = synth_dump_new();
    add_list_stream(d, SYNTH_STREAM_MEMORY_LIST, DT_MAX_MEMORY_RANGES + 1, 1, MEMORY_DESCRIPTOR);
    fixture f;
    open_fixture(&f, d);
    assert_int_equal(f.status, DT_OK);
    assert_true(has_diag(f.dump, "MemoryList", "exceeds the cap of 4194304"));
    assert_true(has_diag(f.dump, "MemoryList", "holds 1 of 4194304 entries"));
    close_fixture(&f);
}

/* HandleData and MemoryInfoList declare one entry more than their caps and
 * hold one: each is read with an error naming the cap. */
static void test_handle_and_memory_info_caps(void **state)
{
    (void)state;
    enum { HEADER = 16, HANDLE_DESCRIPTOR = 32, MEMORY_INFO = 48 };
    uint8_t handles[HEADER + HANDLE_DESCRIPTOR] = {0}, infos[HEADER + MEMORY_INFO] = {0};
    /* MINIDUMP_HANDLE_DATA_STREAM: SizeOfHeader, SizeOfDescriptor, NumberOfDescriptors */
    synth_put_u32(handles, HEADER);
    synth_put_u32(handles + 4, HANDLE_DESCRIPTOR);
    synth_put_u32(handles + 8, DT_MAX_HANDLES + 1);
    /* MINIDUMP_MEMORY_INFO_LIST: SizeOfHeader, SizeOfEntry, NumberOfEntries (u64) */
    synth_put_u32(infos, HEADER);
    synth_put_u32(infos + 4, MEMORY_INFO);
    synth_put_u64(infos + 8, DT_MAX_MEMORY_INFOS + 1);
    synth_dump *d = synth_dump_new();
    synth_dump_add_raw_stream(d, SYNTH_STREAM_HANDLE_DATA, handles, sizeof handles);
    synth_dump_add_raw_stream(d, SYNTH_STREAM_MEMORY_INFO_LIST, infos, sizeof infos);
    fixture f;
    open_fixture(&f, d);
    assert_int_equal(f.status, DT_OK);
    assert_true(has_diag(f.dump, "HandleData", "count 1048577 exceeds the cap of 1048576"));
    assert_true(has_diag(f.dump, "MemoryInfoList", "count 4194305 exceeds the cap of 4194304"));
    size_t n;
    dt_dump_handles(f.dump, &n);
    assert_int_equal(n, 1);
    dt_dump_memory_infos(f.dump, &n);
    assert_int_equal(n, 1);
    close_fixture(&f);
}

/* A MemoryList at the cap and a Memory64List of two ranges: the total is
 * capped too, with one diagnostic, and the ranges kept still read. */
static void test_total_memory_range_cap(void **state)
{
    (void)state;
    enum { LIST_RANGES = DT_MAX_MEMORY_RANGES, LIST64_RANGES = 2 };
    const uint64_t base = 0x10000, stride = 16;
    size_t size = 4 + (size_t)LIST_RANGES * MEMORY_DESCRIPTOR;
    uint8_t *list = malloc(size);
    assert_non_null(list);
    synth_put_u32(list, LIST_RANGES);
    for (size_t i = 0; i < LIST_RANGES; i++) { /* one byte each, all from file offset 0 */
        uint8_t *p = list + 4 + i * MEMORY_DESCRIPTOR;
        synth_put_u64(p, base + i * stride);
        synth_put_u32(p + 8, 1);
        synth_put_u32(p + 0xC, 0);
    }
    uint8_t list64[16 + LIST64_RANGES * 16] = {0};
    synth_put_u64(list64, LIST64_RANGES);
    for (size_t i = 0; i < LIST64_RANGES; i++) {
        synth_put_u64(list64 + 16 + i * 16, 0x7f0000000000ull + i * 0x1000);
        synth_put_u64(list64 + 24 + i * 16, 1);
    }
    synth_dump *d = synth_dump_new();
    synth_dump_add_raw_stream(d, SYNTH_STREAM_MEMORY_LIST, list, size);
    synth_dump_add_raw_stream(d, SYNTH_STREAM_MEMORY64_LIST, list64, sizeof list64);
    free(list);
    fixture f;
    open_fixture(&f, d);
    assert_int_equal(f.status, DT_OK);
    size_t n;
    dt_dump_memory_ranges(f.dump, &n);
    assert_int_equal(n, DT_MAX_MEMORY_RANGES);
    assert_int_equal(count_messages(f.dump, "more than 4194304 memory ranges in all"), 1);
    uint8_t byte;
    assert_int_equal(dt_dump_read(f.dump, base + (LIST_RANGES - 1) * stride, &byte, 1), 1);
    close_fixture(&f);
}

/* Modules that all name one 64 KB string would decode 64 KB each: decoding
 * stops at DT_STRING_BUDGET_FLOOR plus twice the file size, noted once. */
static void test_string_budget(void **state)
{
    (void)state;
    enum { MODULES = 64, STRING_BYTES = DT_MAX_STRING_BYTES };
    synth_dump *d = synth_dump_new();
    add_list_stream(d, SYNTH_STREAM_MODULE_LIST, MODULES, MODULES, MODULE_ENTRY);
    uint8_t *string = malloc(4 + STRING_BYTES);
    assert_non_null(string);
    synth_put_u32(string, STRING_BYTES);
    for (size_t i = 0; i < STRING_BYTES; i += 2)
        synth_put_u16(string + 4 + i, 'a');
    synth_dump_add_raw_stream(d, VENDOR_STREAM, string, 4 + STRING_BYTES);
    free(string);
    fixture f;
    open_fixture(&f, d);
    uint32_t list = find_stream(f.dump, SYNTH_STREAM_MODULE_LIST)->rva;
    uint32_t shared = find_stream(f.dump, VENDOR_STREAM)->rva;
    dt_dump_free(f.dump);
    for (size_t i = 0; i < MODULES; i++)
        synth_put_u32(f.bytes.data + list + 4 + i * MODULE_ENTRY + 0x14, shared);
    assert_true(MODULES * (uint64_t)STRING_BYTES > DT_STRING_BUDGET_FLOOR + 2 * f.bytes.size);
    f.status = dt_dump_open_memory(&f.dump, f.bytes.data, f.bytes.size, "t.dmp", &f.err);
    assert_int_equal(f.status, DT_OK);
    size_t n;
    const dt_module *modules = dt_dump_modules(f.dump, &n);
    assert_int_equal(n, MODULES);
    assert_int_equal(strlen(modules[0].path), STRING_BYTES / 2);
    assert_string_equal(modules[MODULES - 1].path, "");
    assert_int_equal(count_diags(f.dump, DT_DIAG_ERROR, "ModuleList"), 1);
    assert_true(has_diag(f.dump, "ModuleList", "strings exceed twice the file size"));
    close_fixture(&f);
}

/* A handle whose object information chain is one entry longer than
 * DT_MAX_OBJECT_INFO_CHAIN keeps the first entries, with a diagnostic. */
static void test_object_info_chain_cap(void **state)
{
    (void)state;
    static const uint8_t payload[4] = {0};
    synth_handle_info infos[DT_MAX_OBJECT_INFO_CHAIN + 1];
    for (size_t i = 0; i < DT_MAX_OBJECT_INFO_CHAIN + 1; i++)
        infos[i] = (synth_handle_info){.type = 0x100, .payload = payload, .size = 4};
    synth_handle handle = {.handle = 0x48, .type_name = "Event",
                           .info_count = DT_MAX_OBJECT_INFO_CHAIN + 1, .infos = infos};
    synth_dump *d = basic_process();
    synth_dump_add_handle(d, &handle);
    fixture f;
    open_fixture(&f, d);
    size_t n;
    const dt_handle *h = dt_dump_handles(f.dump, &n);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].info_count, DT_MAX_OBJECT_INFO_CHAIN);
    assert_true(has_diag(f.dump, "HandleData descriptor 0", "chain longer than 16 entries"));
    close_fixture(&f);
}

/* A directory of DT_MAX_STREAMS + 1 entries: the first DT_MAX_STREAMS are read. */
static void test_stream_cap(void **state)
{
    (void)state;
    synth_dump *d = synth_dump_new();
    for (uint32_t i = 0; i <= DT_MAX_STREAMS; i++)
        synth_dump_add_raw_entry(d, VENDOR_STREAM + i, 0, 0);
    fixture f;
    open_fixture(&f, d);
    assert_int_equal(f.status, DT_OK);
    size_t n;
    dt_dump_streams(f.dump, &n);
    assert_int_equal(n, DT_MAX_STREAMS);
    assert_true(has_diag(f.dump, "stream directory", "4097 streams exceed the cap of 4096"));
    close_fixture(&f);
}

/* A FunctionTable stream of DT_MAX_FUNCTION_TABLES + 1 descriptors (32
 * bytes, no entries each): the first DT_MAX_FUNCTION_TABLES are read. */
static void test_function_table_cap(void **state)
{
    (void)state;
    enum { HEADER = 24, DESCRIPTOR = 32, COUNT = DT_MAX_FUNCTION_TABLES + 1 };
    size_t size = HEADER + (size_t)COUNT * DESCRIPTOR;
    uint8_t *bytes = calloc(1, size);
    assert_non_null(bytes);
    const uint32_t header[] = {HEADER, DESCRIPTOR, 0, 12, COUNT, 0};
    for (size_t i = 0; i < 6; i++)
        synth_put_u32(bytes + 4 * i, header[i]);
    synth_dump *d = synth_dump_new();
    synth_dump_add_raw_stream(d, SYNTH_STREAM_FUNCTION_TABLE, bytes, size);
    free(bytes);
    fixture f;
    open_fixture(&f, d);
    size_t n;
    dt_dump_function_tables(f.dump, &n);
    assert_int_equal(n, DT_MAX_FUNCTION_TABLES);
    assert_true(has_diag(f.dump, "FunctionTable", "NumberOfDescriptors 65537 exceeds the cap"));
    close_fixture(&f);
}

/* Past DT_DIAG_CAP diagnostics only a count is kept, in one summary entry. */
static void test_diagnostic_cap(void **state)
{
    (void)state;
    enum { MODULES = DT_DIAG_CAP + 10 };
    synth_dump *d = synth_dump_new();
    add_list_stream(d, SYNTH_STREAM_MODULE_LIST, MODULES, MODULES, MODULE_ENTRY);
    fixture f;
    open_fixture(&f, d);
    uint32_t list = find_stream(f.dump, SYNTH_STREAM_MODULE_LIST)->rva;
    dt_dump_free(f.dump);
    for (size_t i = 0; i < MODULES; i++) /* ModuleNameRva past the end: one warning each */
        synth_put_u32(f.bytes.data + list + 4 + i * MODULE_ENTRY + 0x14, 0xFFFFFFF0u);
    f.status = dt_dump_open_memory(&f.dump, f.bytes.data, f.bytes.size, "t.dmp", &f.err);
    assert_int_equal(f.status, DT_OK);
    size_t n;
    const dt_diagnostic *diags = dt_dump_diagnostics(f.dump, &n);
    assert_int_equal(n, DT_DIAG_CAP + 1);
    assert_string_equal(diags[DT_DIAG_CAP].structure, "diagnostics");
    assert_non_null(strstr(diags[DT_DIAG_CAP].message, "10 more diagnostics suppressed"));
    close_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_and_context),
        cmocka_unit_test(test_modules_codeview_version),
        cmocka_unit_test(test_system_and_misc),
        cmocka_unit_test(test_memory_reads),
        cmocka_unit_test(test_memory_out_of_order),
        cmocka_unit_test(test_full_dump_with_stack_rva_zero),
        cmocka_unit_test(test_quirks_padding_unaligned_unused),
        cmocka_unit_test(test_exception_and_thread_info),
        cmocka_unit_test(test_handles_with_object_info),
        cmocka_unit_test(test_memory_info_lookup),
        cmocka_unit_test(test_duplicate_and_empty_streams),
        cmocka_unit_test(test_stream_rva_past_end),
        cmocka_unit_test(test_count_overflow_salvages_entries),
        cmocka_unit_test(test_truncated_directory),
        cmocka_unit_test(test_zero_size_context),
        cmocka_unit_test(test_x86_context),
        cmocka_unit_test(test_signatures_refused),
        cmocka_unit_test(test_gzip_file),
        cmocka_unit_test(test_thread_cap),
        cmocka_unit_test(test_module_cap),
        cmocka_unit_test(test_memory_range_cap),
        cmocka_unit_test(test_total_memory_range_cap),
        cmocka_unit_test(test_handle_and_memory_info_caps),
        cmocka_unit_test(test_string_budget),
        cmocka_unit_test(test_object_info_chain_cap),
        cmocka_unit_test(test_stream_cap),
        cmocka_unit_test(test_function_table_cap),
        cmocka_unit_test(test_diagnostic_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
