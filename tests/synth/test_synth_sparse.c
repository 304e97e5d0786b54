/* The sparse writer: zero ranges stay holes, the bytes read back are the
 * same as from synth_dump_write, and synth_large makes a readable process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dumptriage/dump.h"
#include "synth_dump.h"
#include "synth_large.h"

enum { DATA_ADDRESS = 0x10000, ZERO_ADDRESS = 0x40000000, PAGE = 4096 };
static const uint64_t ZERO_SIZE = 256ull << 20;

static char *temp_path(void)
{
    static char path[64];
    strcpy(path, "/tmp/synth_sparse_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return path;
}

static dt_dump *open_dump(const char *path)
{
    dt_dump *dump = NULL;
    dt_error err;
    if (dt_dump_open(&dump, path, NULL, &err) != DT_OK)
        fail_msg("dt_dump_open: %s", err.message);
    return dump;
}

/* A data range of two pages (the second all zero) and a 256 MiB zero range. */
static synth_dump *sparse_dump(void)
{
    static uint8_t data[2 * PAGE];
    for (size_t i = 0; i < PAGE; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    synth_dump *d = synth_dump_new();
    synth_dump_set_full_memory(d);
    synth_dump_add_memory(d, DATA_ADDRESS, data, sizeof data);
    synth_dump_add_zero_memory(d, ZERO_ADDRESS, ZERO_SIZE);
    return d;
}

static void test_holes_and_bytes(void **state)
{
    (void)state;
    synth_dump *d = sparse_dump();
    const char *path = temp_path();
    assert_int_equal(synth_dump_write_sparse(d, path), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true((uint64_t)st.st_size > ZERO_SIZE);
    assert_true((uint64_t)st.st_blocks * 512 < 1u << 20);
    dt_dump *dump = open_dump(path);
    uint8_t byte = 0xFF, first[4];
    assert_int_equal(dt_dump_read(dump, DATA_ADDRESS, first, 4), 4);
    assert_int_equal(first[0], 1);
    assert_int_equal(first[3], 22);
    assert_int_equal(dt_dump_read(dump, ZERO_ADDRESS + ZERO_SIZE - 1, &byte, 1), 1);
    assert_int_equal(byte, 0);
    assert_int_equal(dt_dump_read(dump, DATA_ADDRESS + PAGE + 5, &byte, 1), 1);
    assert_int_equal(byte, 0);
    dt_dump_free(dump);
    unlink(path);
    synth_dump_free(d);
}

static void test_large_process(void **state)
{
    (void)state;
    synth_large_options o = {.thread_count = 8, .module_count = 6, .heap_bytes = 64ull << 20,
                             .heap_ranges = 4};
    const char *path = temp_path();
    assert_int_equal(synth_large_write(&o, path), 0);
    dt_dump *dump = open_dump(path);
    size_t threads, modules, ranges;
    dt_dump_threads(dump, &threads);
    dt_dump_modules(dump, &modules);
    dt_dump_memory_ranges(dump, &ranges);
    assert_int_equal(threads, 8);
    assert_int_equal(modules, 6);
    assert_true(ranges >= 4 + 6 + 8);
    assert_int_equal(dt_dump_kind_get(dump), DT_DUMP_FULL);
    dt_dump_free(dump);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_holes_and_bytes),
        cmocka_unit_test(test_large_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
