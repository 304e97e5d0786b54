/*
 * Unit tests of image finding (src/image/image_set.c): tiny PE32+ files in a
 * temporary directory tree, a synthetic minidump naming the modules, and
 * search paths over flat directories, symbol stores, srv* and cache* entries,
 * _NT_EXECUTABLE_IMAGE_PATH and dump memory. Hostile module names must never
 * reach a file outside the search roots: bait images placed outside would be
 * accepted if they were opened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dumptriage/image.h"
#include "synth_buf.h"
#include "synth_dump.h"

/* ---- Tiny PE32+ files ------------------------------------------------- */

/* Flat layout (PointerToRawData == VirtualAddress), so the same bytes are a
 * valid file and a valid loaded image: headers, .text at 0x1000 and .pdata
 * at 0x2000 holding one RUNTIME_FUNCTION. */
enum {
    PE_FILE_SIZE = 0x3000,
    PE_LFANEW = 0x80,
    PE_FILE_HEADER = PE_LFANEW + 4,
    PE_OPT_HEADER = PE_FILE_HEADER + 20,
    PE_SECTIONS = PE_OPT_HEADER + 0xF0,
    PE_HEADERS_SIZE = 0x1000,
    PDATA_RVA = 0x2000
};

static void put16(uint8_t *b, size_t off, uint16_t v)
{
    b[off] = (uint8_t)v;
    b[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
    put16(b, off, (uint16_t)v);
    put16(b, off + 2, (uint16_t)(v >> 16));
}

static void put_section(uint8_t *b, int index, const char *name, uint32_t rva,
                        uint32_t characteristics)
{
    size_t at = PE_SECTIONS + 40 * (size_t)index;
    memcpy(b + at, name, strlen(name));
    put32(b, at + 8, 0x1000);        /* VirtualSize */
    put32(b, at + 0xC, rva);         /* VirtualAddress */
    put32(b, at + 0x10, 0x1000);     /* SizeOfRawData */
    put32(b, at + 0x14, rva);        /* PointerToRawData */
    put32(b, at + 0x24, characteristics);
}

/* PE_FILE_SIZE bytes; the caller frees them. */
static uint8_t *pe_build(uint32_t timestamp, uint32_t size_of_image)
{
    uint8_t *b = calloc(1, PE_FILE_SIZE);
    assert_non_null(b);
    put16(b, 0, 0x5A4D);
    put32(b, 0x3C, PE_LFANEW);
    put32(b, PE_LFANEW, 0x00004550);
    put16(b, PE_FILE_HEADER, 0x8664);
    put16(b, PE_FILE_HEADER + 2, 2);
    put32(b, PE_FILE_HEADER + 4, timestamp);
    put16(b, PE_FILE_HEADER + 0x10, 0xF0);
    put16(b, PE_FILE_HEADER + 0x12, 0x2022);
    put16(b, PE_OPT_HEADER, 0x20B);
    put32(b, PE_OPT_HEADER + 0x20, 0x1000);   /* SectionAlignment */
    put32(b, PE_OPT_HEADER + 0x24, 0x200);    /* FileAlignment */
    put32(b, PE_OPT_HEADER + 0x38, size_of_image);
    put32(b, PE_OPT_HEADER + 0x3C, 0x400);    /* SizeOfHeaders */
    put32(b, PE_OPT_HEADER + 0x6C, 16);       /* NumberOfRvaAndSizes */
    put32(b, PE_OPT_HEADER + 0x70 + 8 * 3, PDATA_RVA);
    put32(b, PE_OPT_HEADER + 0x70 + 8 * 3 + 4, 12);
    put_section(b, 0, ".text", 0x1000, 0x60000020);
    put_section(b, 1, ".pdata", PDATA_RVA, 0x40000040);
    put32(b, PDATA_RVA, 0x1000);
    put32(b, PDATA_RVA + 4, 0x1010);
    put32(b, PDATA_RVA + 8, 0x2100);
    b[0x2100] = 1; /* UNWIND_INFO version 1, no codes */
    return b;
}

/* ---- Modules ----------------------------------------------------------- */

typedef struct test_module {
    const char *path;        /* as the dump records it */
    uint64_t base;
    uint32_t timestamp;
    uint32_t size;
} test_module;

#define SIZE_OF_IMAGE 0x3000u
static const test_module NTDLL = {"C:\\Windows\\System32\\ntdll.dll", 0x7FF800000000ull,
                                  0x5F5E1000u, SIZE_OF_IMAGE};
static const test_module APP = {"C:\\app\\app.exe", 0x140000000ull, 0x61000000u, SIZE_OF_IMAGE};
static const test_module LIB = {"C:\\app\\lib.dll", 0x180000000ull, 0x62000000u, 0x4000u};

/* How the test dump holds module memory. */
typedef enum memory_kind {
    NO_MEMORY,
    FULL_IMAGE,          /* full-memory dump with every image byte */
    FULL_HEADERS_ONLY,   /* full-memory dump with the headers only: no .pdata */
    MINI_IMAGE           /* a MemoryList holding the image, no full-memory flag */
} memory_kind;

/* ---- Fixture: a temporary tree and a dump ----------------------------- */

typedef struct fixture {
    char tmp[256];
    synth_buf dump_bytes;
    dt_dump *dump;
    dt_image_set *set;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    const char *base = getenv("TMPDIR");
    snprintf(fx->tmp, sizeof fx->tmp, "%s/dt-image-set-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(fx->tmp));
    synth_buf_init(&fx->dump_bytes);
    *state = fx;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    dt_image_set_free(fx->set);
    dt_dump_free(fx->dump);
    synth_buf_free(&fx->dump_bytes);
    nftw(fx->tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

/* fx->tmp + "/" + rel, in a static buffer of the caller. */
static const char *at(const fixture *fx, const char *rel, char out[512])
{
    snprintf(out, 512, "%s/%s", fx->tmp, rel);
    return out;
}

/* mkdir -p for every directory leading to `rel` (a file path). */
static void make_parents(const fixture *fx, const char *rel)
{
    char path[512];
    at(fx, rel, path);
    for (char *p = path + strlen(fx->tmp) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        assert_true(mkdir(path, 0755) == 0 || access(path, F_OK) == 0);
        *p = '/';
    }
}

static void write_pe(const fixture *fx, const char *rel, uint32_t timestamp,
                     uint32_t size_of_image)
{
    char path[512];
    make_parents(fx, rel);
    uint8_t *pe = pe_build(timestamp, size_of_image);
    assert_int_equal(synth_write_file(at(fx, rel, path), pe, PE_FILE_SIZE), 0);
    free(pe);
}

static void write_module_pe(const fixture *fx, const char *rel, const test_module *m)
{
    write_pe(fx, rel, m->timestamp, m->size);
}

static void add_module_memory(synth_dump *d, const test_module *m, memory_kind memory)
{
    uint8_t *pe = pe_build(m->timestamp, m->size);
    synth_dump_add_memory(d, m->base, pe, memory == FULL_HEADERS_ONLY ? PE_HEADERS_SIZE
                                                                      : PE_FILE_SIZE);
    free(pe);
}

static void open_dump(fixture *fx, const test_module *const *modules, size_t count,
                      memory_kind memory)
{
    synth_dump *d = synth_dump_new();
    if (memory == FULL_IMAGE || memory == FULL_HEADERS_ONLY)
        synth_dump_set_full_memory(d);
    for (size_t i = 0; i < count; i++) {
        synth_module m = {.path = modules[i]->path, .base = modules[i]->base,
                          .size = modules[i]->size, .timestamp = modules[i]->timestamp};
        synth_dump_add_module(d, &m);
        if (memory != NO_MEMORY)
            add_module_memory(d, modules[i], memory);
    }
    synth_dump_write(d, &fx->dump_bytes);
    synth_dump_free(d);
    dt_error err = {0};
    if (dt_dump_open_memory(&fx->dump, fx->dump_bytes.data, fx->dump_bytes.size, "t.dmp", &err) !=
        DT_OK)
        fail_msg("dump: %s", err.message);
}

/* A set over `paths` (NULL-terminated), no environment, no dump memory
 * unless `use_memory`. */
static void new_set(fixture *fx, const char *const *paths, bool use_environment,
                    bool use_memory)
{
    size_t count = 0;
    while (paths && paths[count])
        count++;
    dt_image_search search = {paths, count, use_environment, use_memory, true};
    dt_error err = {0};
    assert_int_equal(dt_image_set_new(&fx->set, fx->dump, &search, &err), DT_OK);
}

static const dt_module *module_of(const fixture *fx, const test_module *m)
{
    const dt_module *module = dt_dump_module_at(fx->dump, m->base);
    assert_non_null(module);
    return module;
}

static const char *source_of(fixture *fx, const test_module *m)
{
    const dt_module *module = module_of(fx, m);
    const dt_image *img = dt_image_set_get(fx->set, module);
    const char *source = dt_image_set_source(fx->set, module);
    assert_true((img != NULL) == (source != NULL));
    if (img)
        assert_true(dt_image_matches_module(img, module));
    return source;
}

static size_t count_diags(fixture *fx, const char *needle)
{
    size_t n, found = 0;
    const dt_diagnostic *d = dt_image_set_diagnostics(fx->set, &n);
    for (size_t i = 0; i < n; i++)
        if (strstr(d[i].message, needle))
            found++;
    return found;
}

static void assert_source(const fixture *fx, const char *source, const char *rel)
{
    char expected[512];
    assert_non_null(source);
    assert_string_equal(source, at(fx, rel, expected));
}

/* ---- Search path layouts ----------------------------------------------- */

static void test_flat_directory(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "images/ntdll.dll", &NTDLL);
    const test_module *mods[] = {&NTDLL};
    open_dump(fx, mods, 1, NO_MEMORY);
    char dir[512];
    const char *paths[] = {at(fx, "images", dir), NULL};
    new_set(fx, paths, false, false);
    assert_source(fx, source_of(fx, &NTDLL), "images/ntdll.dll");
}

static void test_name_is_case_insensitive(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "images/NtDll.DLL", &NTDLL);
    write_module_pe(fx, "images/APP.exe", &APP);
    const test_module *mods[] = {&NTDLL, &APP};
    open_dump(fx, mods, 2, NO_MEMORY);
    char dir[512];
    const char *paths[] = {at(fx, "images", dir), NULL};
    new_set(fx, paths, false, false);
    assert_source(fx, source_of(fx, &NTDLL), "images/NtDll.DLL");
    assert_source(fx, source_of(fx, &APP), "images/APP.exe");
}

static void test_store_layout_any_case(void **state)
{
    fixture *fx = *state;
    /* Id "5F5E10003000": the directory is written in lower case here. */
    write_module_pe(fx, "store/NTDLL.DLL/5f5e10003000/Ntdll.dll", &NTDLL);
    write_module_pe(fx, "store/app.exe/610000003000/app.exe", &APP);
    const test_module *mods[] = {&NTDLL, &APP};
    open_dump(fx, mods, 2, NO_MEMORY);
    char dir[512];
    const char *paths[] = {at(fx, "store", dir), NULL};
    new_set(fx, paths, false, false);
    assert_source(fx, source_of(fx, &NTDLL), "store/NTDLL.DLL/5f5e10003000/Ntdll.dll");
    assert_source(fx, source_of(fx, &APP), "store/app.exe/610000003000/app.exe");
}

static void test_mismatch_is_reported_and_search_goes_on(void **state)
{
    fixture *fx = *state;
    write_pe(fx, "old/ntdll.dll", 0x11111111u, 0x5000u);
    write_module_pe(fx, "new/ntdll.dll", &NTDLL);
    const test_module *mods[] = {&NTDLL};
    open_dump(fx, mods, 1, NO_MEMORY);
    char old_dir[512], new_dir[512];
    const char *paths[] = {at(fx, "old", old_dir), at(fx, "new", new_dir), NULL};
    new_set(fx, paths, false, false);
    assert_source(fx, source_of(fx, &NTDLL), "new/ntdll.dll");
    assert_int_equal(count_diags(fx, "ntdll.dll: TimeDateStamp 0x11111111 SizeOfImage 0x5000 "
                                     "does not match the module's 0x5F5E1000 0x3000"),
                     1);
}

static void test_semicolon_list_and_missing_directory(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "b/ntdll.dll", &NTDLL);
    const test_module *mods[] = {&NTDLL};
    open_dump(fx, mods, 1, NO_MEMORY);
    char list[1100], missing[512], present[512];
    snprintf(list, sizeof list, ";%s;;%s;", at(fx, "missing", missing), at(fx, "b", present));
    const char *paths[] = {list, NULL};
    new_set(fx, paths, false, false);
    assert_source(fx, source_of(fx, &NTDLL), "b/ntdll.dll");
    assert_int_equal(count_diags(fx, "cannot be read"), 1);
}

static void test_environment_path_comes_after_paths(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "env/ntdll.dll", &NTDLL);
    write_module_pe(fx, "env/app.exe", &APP);
    write_module_pe(fx, "given/app.exe", &APP);
    const test_module *mods[] = {&NTDLL, &APP};
    open_dump(fx, mods, 2, NO_MEMORY);
    char env_dir[512], given_dir[512], value[1100];
    snprintf(value, sizeof value, "%s/nowhere;%s", fx->tmp, at(fx, "env", env_dir));
    assert_int_equal(setenv("_NT_EXECUTABLE_IMAGE_PATH", value, 1), 0);
    const char *paths[] = {at(fx, "given", given_dir), NULL};
    new_set(fx, paths, true, false);
    unsetenv("_NT_EXECUTABLE_IMAGE_PATH");
    assert_source(fx, source_of(fx, &NTDLL), "env/ntdll.dll");
    assert_source(fx, source_of(fx, &APP), "given/app.exe");
}

static void test_environment_ignored_unless_asked(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "env/ntdll.dll", &NTDLL);
    const test_module *mods[] = {&NTDLL};
    open_dump(fx, mods, 1, NO_MEMORY);
    char env_dir[512];
    assert_int_equal(setenv("_NT_EXECUTABLE_IMAGE_PATH", at(fx, "env", env_dir), 1), 0);
    new_set(fx, NULL, false, false);
    unsetenv("_NT_EXECUTABLE_IMAGE_PATH");
    assert_null(source_of(fx, &NTDLL));
}

static void test_srv_entry_searches_local_cache(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "cache/ntdll.dll/5F5E10003000/ntdll.dll", &NTDLL);
    write_module_pe(fx, "downstream/app.exe/610000003000/app.exe", &APP);
    write_module_pe(fx, "cache/lib.dll", &LIB); /* flat: not a store layout */
    const test_module *mods[] = {&NTDLL, &APP, &LIB};
    open_dump(fx, mods, 3, NO_MEMORY);
    char srv[1100], cache[512], downstream[512];
    snprintf(srv, sizeof srv, "srv*%s*https://msdl.microsoft.com/download/symbols",
             at(fx, "cache", cache));
    char cache_entry[600];
    snprintf(cache_entry, sizeof cache_entry, "CACHE*%s", at(fx, "downstream", downstream));
    const char *paths[] = {srv, cache_entry, NULL};
    new_set(fx, paths, false, false);
    assert_source(fx, source_of(fx, &NTDLL), "cache/ntdll.dll/5F5E10003000/ntdll.dll");
    assert_source(fx, source_of(fx, &APP), "downstream/app.exe/610000003000/app.exe");
    assert_null(source_of(fx, &LIB));
    assert_int_equal(count_diags(fx, "download"), 0); /* offline: the server is not asked */
}

static void test_unknown_star_entry_is_reported(void **state)
{
    fixture *fx = *state;
    const test_module *mods[] = {&NTDLL};
    open_dump(fx, mods, 1, NO_MEMORY);
    const char *paths[] = {"symsrv*symsrv.dll*/nowhere", NULL};
    new_set(fx, paths, false, false);
    assert_null(source_of(fx, &NTDLL));
    assert_int_equal(count_diags(fx, "only srv* and cache* entries are understood"), 1);
}

/* ---- Dump memory -------------------------------------------------------- */

static void test_full_dump_prefers_dump_memory(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "images/ntdll.dll", &NTDLL);
    const test_module *mods[] = {&NTDLL};
    open_dump(fx, mods, 1, FULL_IMAGE);
    char dir[512];
    const char *paths[] = {at(fx, "images", dir), NULL};
    new_set(fx, paths, false, true);
    assert_string_equal(source_of(fx, &NTDLL), "dump memory");
    size_t count;
    dt_image_runtime_functions(dt_image_set_get(fx->set, module_of(fx, &NTDLL)), &count);
    assert_int_equal(count, 1);
}

static void test_full_dump_without_pdata_prefers_disk(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "images/ntdll.dll", &NTDLL);
    const test_module *mods[] = {&NTDLL, &APP};
    open_dump(fx, mods, 2, FULL_HEADERS_ONLY);
    char dir[512];
    const char *paths[] = {at(fx, "images", dir), NULL};
    new_set(fx, paths, false, true);
    assert_source(fx, source_of(fx, &NTDLL), "images/ntdll.dll");
    /* Nothing on disk for app.exe: the partial memory image is still used. */
    assert_string_equal(source_of(fx, &APP), "dump memory");
}

static void test_minidump_prefers_disk_then_memory(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "images/ntdll.dll", &NTDLL);
    const test_module *mods[] = {&NTDLL, &APP};
    open_dump(fx, mods, 2, MINI_IMAGE);
    assert_int_equal(dt_dump_kind_get(fx->dump), DT_DUMP_MINI);
    char dir[512];
    const char *paths[] = {at(fx, "images", dir), NULL};
    new_set(fx, paths, false, true);
    assert_source(fx, source_of(fx, &NTDLL), "images/ntdll.dll");
    assert_string_equal(source_of(fx, &APP), "dump memory");
}

static void test_dump_memory_only_when_allowed(void **state)
{
    fixture *fx = *state;
    const test_module *mods[] = {&NTDLL};
    open_dump(fx, mods, 1, FULL_IMAGE);
    new_set(fx, NULL, false, false);
    assert_null(source_of(fx, &NTDLL));
    assert_int_equal(count_diags(fx, "ntdll.dll: no matching image found"), 1);
}

static void test_mismatching_dump_memory_is_refused(void **state)
{
    fixture *fx = *state;
    const test_module listed = {NTDLL.path, NTDLL.base, 0x12345678u, NTDLL.size};
    synth_dump *d = synth_dump_new();
    synth_dump_set_full_memory(d);
    synth_module m = {.path = listed.path, .base = listed.base, .size = listed.size,
                      .timestamp = listed.timestamp};
    synth_dump_add_module(d, &m);
    add_module_memory(d, &NTDLL, FULL_IMAGE); /* headers say 0x5F5E1000 */
    synth_dump_write(d, &fx->dump_bytes);
    synth_dump_free(d);
    assert_int_equal(dt_dump_open_memory(&fx->dump, fx->dump_bytes.data, fx->dump_bytes.size,
                                         "t.dmp", NULL),
                     DT_OK);
    new_set(fx, NULL, false, true);
    assert_null(source_of(fx, &listed));
    assert_int_equal(count_diags(fx, "module ntdll.dll in dump: TimeDateStamp 0x5F5E1000"), 1);
}

/* ---- Laziness and caching -------------------------------------------- */

static void test_only_requested_modules_are_opened(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "images/ntdll.dll", &NTDLL);
    write_pe(fx, "images/app.exe", 0x1u, 0x1000u); /* a mismatch, noted when opened */
    const test_module *mods[] = {&NTDLL, &APP};
    open_dump(fx, mods, 2, NO_MEMORY);
    char dir[512];
    const char *paths[] = {at(fx, "images", dir), NULL};
    new_set(fx, paths, false, false);
    assert_non_null(source_of(fx, &NTDLL));
    assert_int_equal(count_diags(fx, "app.exe"), 0);
    assert_null(source_of(fx, &APP));
    assert_int_equal(count_diags(fx, "app.exe: TimeDateStamp 0x00000001"), 1);
}

static void test_results_and_listings_are_cached(void **state)
{
    fixture *fx = *state;
    write_module_pe(fx, "images/ntdll.dll", &NTDLL);
    const test_module *mods[] = {&NTDLL, &APP, &LIB};
    open_dump(fx, mods, 3, NO_MEMORY);
    char dir[512];
    const char *paths[] = {at(fx, "images", dir), NULL};
    new_set(fx, paths, false, false);
    const dt_image *first = dt_image_set_get(fx->set, module_of(fx, &NTDLL));
    assert_non_null(first);
    assert_ptr_equal(dt_image_set_get(fx->set, module_of(fx, &NTDLL)), first);
    /* A miss is cached: asking again adds no second "no matching image". */
    assert_null(source_of(fx, &APP));
    assert_null(source_of(fx, &APP));
    assert_int_equal(count_diags(fx, "app.exe: no matching image found"), 1);
    /* The directory was listed once: a file added later is not seen. */
    write_module_pe(fx, "images/lib.dll", &LIB);
    assert_null(source_of(fx, &LIB));
}

static void test_foreign_module_and_null_arguments(void **state)
{
    fixture *fx = *state;
    const test_module *mods[] = {&NTDLL};
    open_dump(fx, mods, 1, FULL_IMAGE);
    dt_error err = {0};
    dt_image_set *none = NULL;
    assert_int_equal(dt_image_set_new(&none, NULL, NULL, &err), DT_ERR_ARGUMENT);
    assert_null(none);
    new_set(fx, NULL, false, true);
    dt_module copy = *module_of(fx, &NTDLL);
    assert_null(dt_image_set_get(fx->set, &copy));
    assert_null(dt_image_set_source(fx->set, &copy));
    assert_null(dt_image_set_get(fx->set, NULL));
    assert_null(dt_image_set_source(fx->set, module_of(fx, &NTDLL))); /* not requested yet */
    assert_non_null(dt_image_set_get(fx->set, module_of(fx, &NTDLL)));
    dt_image_set_free(NULL);
}

/* ---- Hostile names ------------------------------------------------------ */

static const test_module HOSTILE[] = {
    {"..\\..\\bait.dll", 0x10000000ull, 0x70000001u, SIZE_OF_IMAGE},
    {"C:\\Windows\\..\\bait.dll", 0x11000000ull, 0x70000001u, SIZE_OF_IMAGE},
    {"/etc/passwd", 0x12000000ull, 0x70000002u, SIZE_OF_IMAGE},
    {"C:\\Windows\\..", 0x13000000ull, 0x70000003u, SIZE_OF_IMAGE},       /* name ".." */
    {"C:", 0x14000000ull, 0x70000004u, SIZE_OF_IMAGE},                     /* drive */
    {"C:\\dir\\", 0x15000000ull, 0x70000005u, SIZE_OF_IMAGE},              /* empty */
    {"C:\\x\\evil\x01.dll", 0x16000000ull, 0x70000006u, SIZE_OF_IMAGE},    /* control */
    {"C:\\x\\a..b.dll", 0x17000000ull, 0x70000007u, SIZE_OF_IMAGE},        /* ".." inside */
    {"C:\\x\\.", 0x18000000ull, 0x70000008u, SIZE_OF_IMAGE},               /* "." */
    {"C:\\x\\tab\t.dll", 0x19000000ull, 0x70000009u, SIZE_OF_IMAGE},       /* control */
};
enum { HOSTILE_COUNT = sizeof HOSTILE / sizeof HOSTILE[0], REFUSED_FIRST = 3 };

/* Bait: images matching the hostile modules, outside the root (tmp/,
 * tmp/etc/) and, under names only a refused module would look up, inside
 * it. If any were opened the module would get an image. */
static void plant_bait(const fixture *fx)
{
    write_module_pe(fx, "bait.dll", &HOSTILE[0]);
    write_module_pe(fx, "a/bait.dll", &HOSTILE[0]);
    write_module_pe(fx, "etc/passwd", &HOSTILE[2]);
    write_module_pe(fx, "a/root/C:", &HOSTILE[4]);
    write_module_pe(fx, "a/root/evil\x01.dll", &HOSTILE[6]);
    write_module_pe(fx, "a/root/a..b.dll", &HOSTILE[7]);
    write_module_pe(fx, "a/root/tab\t.dll", &HOSTILE[9]);
}

static void test_hostile_names_stay_inside_roots(void **state)
{
    fixture *fx = *state;
    plant_bait(fx);
    const test_module *mods[HOSTILE_COUNT];
    for (size_t i = 0; i < HOSTILE_COUNT; i++)
        mods[i] = &HOSTILE[i];
    open_dump(fx, mods, HOSTILE_COUNT, NO_MEMORY);
    char root[512], store[600];
    snprintf(store, sizeof store, "srv*%s", at(fx, "a/root", root));
    const char *paths[] = {root, store, NULL};
    new_set(fx, paths, false, false);
    for (size_t i = 0; i < HOSTILE_COUNT; i++)
        assert_null(source_of(fx, &HOSTILE[i]));
    assert_int_equal(count_diags(fx, " refused: "), HOSTILE_COUNT - REFUSED_FIRST);
    assert_int_equal(count_diags(fx, "\"..\" refused: it contains \"..\""), 1);
    assert_int_equal(count_diags(fx, "\"C:\" refused: it contains ':'"), 1);
    assert_int_equal(count_diags(fx, "\"\" refused: it is empty"), 1);
    assert_int_equal(count_diags(fx, "refused: it contains a control character"), 2);
    assert_int_equal(count_diags(fx, "\".\" refused: it is \".\""), 1);
    /* No bait was opened: not even as a mismatch. */
    assert_int_equal(count_diags(fx, "does not match"), 0);
}

static void test_refused_name_can_still_use_dump_memory(void **state)
{
    fixture *fx = *state;
    const test_module drive = {"C:", 0x14000000ull, NTDLL.timestamp, SIZE_OF_IMAGE};
    const test_module *mods[] = {&drive};
    open_dump(fx, mods, 1, FULL_IMAGE);
    new_set(fx, NULL, false, true);
    assert_string_equal(source_of(fx, &drive), "dump memory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flat_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_is_case_insensitive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_layout_any_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatch_is_reported_and_search_goes_on, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_semicolon_list_and_missing_directory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_environment_path_comes_after_paths, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_environment_ignored_unless_asked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_srv_entry_searches_local_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_star_entry_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_dump_prefers_dump_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_dump_without_pdata_prefers_disk, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_minidump_prefers_disk_then_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_memory_only_when_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatching_dump_memory_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_only_requested_modules_are_opened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_and_listings_are_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_module_and_null_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_names_stay_inside_roots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_name_can_still_use_dump_memory, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
