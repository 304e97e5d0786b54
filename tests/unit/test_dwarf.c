/*
 * Unit tests of the DWARF provider.
 *
 * Lookups: addresses in Wine's DLLs (fixtures/wine-dlls, DWARF 4) and in the
 * project's MinGW programs (fixtures/bin, DWARF 4 and 5, -O0 and -O2), with
 * the frames x86_64-w64-mingw32-addr2line -f -i -C gives for them (function
 * names without parameters or a template's return type, as ours are).
 * fixtures/bin is rebuilt by fixtures/regenerate.sh; a case whose image no
 * longer has the TimeDateStamp it was written for is skipped with a note
 * (tests/symbols/test_dwarf_addr2line.py compares with addr2line live).
 *
 * Hostile input: copies of a fixture image with damaged DWARF sections,
 * opened from memory; every one must give diagnostics, never a crash, and
 * lookups in undamaged units must still answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dumptriage/symbols.h"
#include "image/image_internal.h"

#define FIXTURE(path) DT_SOURCE_DIR "/fixtures/" path

/* ---- Lookups against addr2line's answers --------------------------------- */

typedef struct expected_frame {
    const char *function;
    const char *file;
    uint32_t line;
} expected_frame;

enum { MAX_FRAMES = 10 };

/* Frames innermost first, as addr2line -i prints them; the last one is the
 * function holding the address (dt_symbol's function, file and line). */
typedef struct lookup_case {
    const char *image;
    uint32_t timestamp;       /* 0: a pinned Wine DLL, always checked */
    uint32_t rva;
    expected_frame frames[MAX_FRAMES];
} lookup_case;

static const lookup_case lookup_cases[] = {
    /* ntdll.dll: a function start, a middle, an inlined call 9 deep. */
    {"wine-dlls/ntdll.dll", 0, 0x3a9d0, {{"RtlNormalizeString", "./dlls/ntdll/locale.c", 1054}}},
    {"wine-dlls/ntdll.dll", 0, 0x2e6cc, {{"free_modref", "./dlls/ntdll/loader.c", 3777}}},
    {"wine-dlls/ntdll.dll", 0, 0x21e6e,
     {{"SHA1Transform", "./dlls/ntdll/crypt.c", 85}, {"A_SHAUpdate", "./dlls/ntdll/crypt.c", 161}}},
    {"wine-dlls/ntdll.dll", 0, 0x1a239,
     {{"wine_dbgstr_wn", "./include/wine/debug.h", 257},
      {"debugstr_wn", "./include/wine/debug.h", 496},
      {"debugstr_xml_attr", "./dlls/ntdll/actctx.c", 734},
      {"parse_requested_execution_level_elem", "./dlls/ntdll/actctx.c", 2616},
      {"parse_requested_privileges_elem", "./dlls/ntdll/actctx.c", 2637},
      {"parse_security_elem", "./dlls/ntdll/actctx.c", 2656},
      {"parse_trust_info_elem", "./dlls/ntdll/actctx.c", 2675},
      {"parse_assembly_elem", "./dlls/ntdll/actctx.c", 2755},
      {"parse_manifest_buffer", "./dlls/ntdll/actctx.c", 2829}}},
    /* kernelbase.dll */
    {"wine-dlls/kernelbase.dll", 0, 0x43220,
     {{"PathCchAddExtension", "./dlls/kernelbase/path.c", 473}}},
    {"wine-dlls/kernelbase.dll", 0, 0x7c50a,
     {{"wine_dbg_vlog", "./include/wine/debug.h", 185},
      {"wine_dbg_log", "./include/wine/debug.h", 203}}},
    {"wine-dlls/kernelbase.dll", 0, 0x66628,
     {{"NtCurrentTeb", "./include/winnt.h", 2252},
      {"GetProcessHeap", "./include/winbase.h", 3008},
      {"heap_free", "./include/wine/heap.h", 46},
      {"free_mui_cache_entry", "./dlls/kernelbase/registry.c", 2646},
      {"reg_mui_cache_put", "./dlls/kernelbase/registry.c", 2709},
      {"load_mui_string", "./dlls/kernelbase/registry.c", 2757},
      {"RegLoadMUIStringW", "./dlls/kernelbase/registry.c", 2898}}},
    /* cs_deadlock.exe: -O2, DWARF 5 */
    {"bin/cs_deadlock.exe", 0x6b013fe6, 0x2240,
     {{"__mingw_raise_matherr", "/build/./mingw-w64-crt/crt/usermatherr.c", 14}}},
    {"bin/cs_deadlock.exe", 0x6b013fe6, 0x1579,
     {{"reconcile_accounts", "/work/main/fixtures/programs/cs_deadlock.c", 35}}},
    {"bin/cs_deadlock.exe", 0x6b013fe6, 0x1747,
     {{"vprintf", "/usr/share/mingw-w64/include/stdio.h", 418},
      {"report_line", "/work/main/fixtures/programs/common.c", 11}}},
    /* cs_contention.exe: -O0, DWARF 4 */
    {"bin/cs_contention.exe", 0x6b013fe8, 0x20d0,
     {{"mark_section_writable", "/build/./mingw-w64-crt/crt/pseudo-reloc.c", 184}}},
    {"bin/cs_contention.exe", 0x6b013fe8, 0x1531,
     {{"try_flush_stats", "/work/main/fixtures/programs/cs_contention.c", 16}}},
    /* pipe_read.exe: -O2, DWARF 4 */
    {"bin/pipe_read.exe", 0x6b013fe9, 0x15dc,
     {{"count_primes", "/work/main/fixtures/programs/common.c", 36}}},
    {"bin/pipe_read.exe", 0x6b013fe9, 0x17a4,
     {{"report_role", "/work/main/fixtures/programs/common.c", 18},
      {"start_busy_worker", "/work/main/fixtures/programs/common.c", 60}}},
    /* ll_plugin.dll: -O0, DWARF 5, a DLL */
    {"bin/ll_plugin.dll", 0x6b013fea, 0x1372,
     {{"wait_for_host_config", "/work/main/fixtures/programs/ll_plugin.c", 9}}},
    /* cpp_exception.exe: C++, linkage names demangled; DW_AT_call_file in
     * DW_FORM_implicit_const. */
    {"bin/cpp_exception.exe", 0x6b013ff4, 0x168a,
     {{"parse_quantity", "/work/main/fixtures/programs/cpp_exception.cpp", 41}}},
    {"bin/cpp_exception.exe", 0x6b013ff4, 0x18a9,
     {{"std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"
       "::~basic_string",
       "/usr/lib/gcc/x86_64-w64-mingw32/12-win32/include/c++/bits/basic_string.h", 795},
      {"import_record", "/work/main/fixtures/programs/cpp_exception.cpp", 51}}},
};

static size_t frame_count(const lookup_case *c)
{
    size_t n = 0;
    while (n < MAX_FRAMES && c->frames[n].function)
        n++;
    return n;
}

static void assert_frame(const char *function, const char *file, uint32_t line,
                         const expected_frame *expected)
{
    assert_string_equal(function, expected->function);
    assert_non_null(file);
    assert_string_equal(file, expected->file);
    assert_int_equal(line, expected->line);
}

static void check_case(dt_dwarf *dwarf, const lookup_case *c)
{
    dt_symbol s;
    size_t n = frame_count(c);
    printf("  %s rva %#x: %s\n", c->image, (unsigned)c->rva, c->frames[n - 1].function);
    assert_true(dt_dwarf_lookup(dwarf, c->rva, &s));
    assert_int_equal(s.inline_count, n - 1);
    for (size_t i = 0; i + 1 < n; i++)
        assert_frame(s.inlines[i].function, s.inlines[i].file, s.inlines[i].line, &c->frames[i]);
    assert_frame(s.function, s.file, s.line, &c->frames[n - 1]);
    assert_true(s.function_rva <= c->rva);
    assert_true(s.function_size == 0 || c->rva - s.function_rva < s.function_size);
}

static void test_lookups_match_addr2line(void **state)
{
    (void)state;
    size_t skipped = 0;
    for (size_t i = 0; i < sizeof lookup_cases / sizeof *lookup_cases; i++) {
        const lookup_case *c = &lookup_cases[i];
        char path[512];
        snprintf(path, sizeof path, FIXTURE("%s"), c->image);
        dt_image *img;
        dt_dwarf *dwarf;
        dt_error err;
        assert_int_equal(dt_image_open_file(&img, path, &err), DT_OK);
        if (c->timestamp && dt_image_headers_get(img)->timestamp != c->timestamp) {
            printf("  SKIP %s rva %#x: the fixture was rebuilt (TimeDateStamp %#x)\n", c->image,
                   (unsigned)c->rva, (unsigned)dt_image_headers_get(img)->timestamp);
            skipped++;
            dt_image_free(img);
            continue;
        }
        assert_int_equal(dt_dwarf_open(&dwarf, img, &err), DT_OK);
        check_case(dwarf, c);
        dt_dwarf_free(dwarf);
        dt_image_free(img);
    }
    printf("  %zu cases skipped\n", skipped);
}

static void test_function_range(void **state)
{
    (void)state;
    dt_image *img;
    dt_dwarf *dwarf;
    dt_error err;
    assert_int_equal(dt_image_open_file(&img, FIXTURE("wine-dlls/ntdll.dll"), &err), DT_OK);
    assert_int_equal(dt_dwarf_open(&dwarf, img, &err), DT_OK);
    dt_symbol start, middle;
    assert_true(dt_dwarf_lookup(dwarf, 0x3a9d0, &start));
    assert_int_equal(start.function_rva, 0x3a9d0);
    assert_true(start.function_size > 8);
    assert_true(dt_dwarf_lookup(dwarf, 0x3a9d0 + start.function_size / 2, &middle));
    assert_string_equal(middle.function, start.function);
    assert_int_equal(middle.function_rva, start.function_rva);
    assert_false(dt_dwarf_lookup(dwarf, 0, &middle));
    assert_false(dt_dwarf_lookup(dwarf, UINT32_MAX, &middle));
    size_t n;
    dt_dwarf_diagnostics(dwarf, &n);
    assert_int_equal(n, 0);
    dt_dwarf_free(dwarf);
    dt_image_free(img);
}

static void test_no_dwarf_is_not_found(void **state)
{
    (void)state;
    /* A PE image without sections: a fixture's headers with the section
     * count and the COFF symbol table pointer cleared. */
    FILE *f = fopen(FIXTURE("bin/ll_plugin.dll"), "rb");
    assert_non_null(f);
    uint8_t bytes[0x400];
    assert_int_equal(fread(bytes, 1, sizeof bytes, f), sizeof bytes);
    fclose(f);
    uint32_t lfanew = (uint32_t)bytes[0x3c] | (uint32_t)bytes[0x3d] << 8;
    bytes[lfanew + 6] = bytes[lfanew + 7] = 0;      /* NumberOfSections */
    memset(bytes + lfanew + 8, 0, 8);               /* no COFF symbol table */
    dt_image *img;
    dt_dwarf *dwarf = NULL;
    dt_error err;
    assert_int_equal(dt_image_open_bytes(&img, bytes, sizeof bytes, false, "empty.dll", &err),
                     DT_OK);
    assert_int_equal(dt_dwarf_open(&dwarf, img, &err), DT_ERR_NOT_FOUND);
    assert_null(dwarf);
    dt_image_free(img);
    dt_dwarf_free(NULL);
    assert_false(dt_dwarf_lookup(NULL, 0x1000, &(dt_symbol){0}));
}

/* ---- Hostile input ---------------------------------------------------------- */

typedef struct image_copy {
    uint8_t *bytes;
    size_t size;
    const dt_image_section *debug_info; /* of the pristine image */
    dt_image *pristine;
} image_copy;

static image_copy load_copy(const char *path)
{
    image_copy copy = {0};
    dt_error err;
    assert_int_equal(dt_image_open_file(&copy.pristine, path, &err), DT_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    copy.size = (size_t)ftell(f);
    rewind(f);
    copy.bytes = malloc(copy.size);
    assert_non_null(copy.bytes);
    assert_int_equal(fread(copy.bytes, 1, copy.size, f), copy.size);
    fclose(f);
    return copy;
}

static void free_copy(image_copy *copy)
{
    free(copy->bytes);
    dt_image_free(copy->pristine);
}

/* File offset of byte `at` of section `name` in the copy. */
static uint8_t *section_byte(image_copy *copy, const char *name, size_t at)
{
    const dt_image_section *s = dt_image_section_by_name(copy->pristine, name);
    assert_non_null(s);
    assert_true(at < s->raw_size);
    return copy->bytes + s->raw_offset + at;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

typedef struct probe_result {
    dt_status open_status;
    size_t diagnostics;
    size_t found;
} probe_result;

/* Opens the (damaged) bytes and looks up RVAs across .text. */
static probe_result probe(const uint8_t *bytes, size_t size)
{
    probe_result result = {0};
    dt_image *img;
    dt_dwarf *dwarf;
    dt_error err;
    if (dt_image_open_bytes(&img, bytes, size, false, "damaged.exe", &err) != DT_OK)
        return result;
    result.open_status = dt_dwarf_open(&dwarf, img, &err);
    if (result.open_status == DT_OK) {
        const dt_image_section *text = dt_image_section_by_name(img, ".text");
        uint32_t begin = text ? text->virtual_address : 0x1000;
        uint32_t extent = text ? text->virtual_size : 0x1000;
        dt_symbol s;
        for (uint32_t rva = begin; rva < begin + extent; rva += 61)
            result.found += dt_dwarf_lookup(dwarf, rva, &s);
        dt_dwarf_diagnostics(dwarf, &result.diagnostics);
        dt_dwarf_free(dwarf);
    }
    dt_image_free(img);
    return result;
}

#define HOSTILE_IMAGE FIXTURE("bin/cs_deadlock.exe")

static void test_reserved_unit_length(void **state)
{
    (void)state;
    image_copy copy = load_copy(HOSTILE_IMAGE);
    put32(section_byte(&copy, ".debug_info", 0), 0xfffffff3u);
    probe_result r = probe(copy.bytes, copy.size);
    assert_int_equal(r.open_status, DT_ERR_FORMAT); /* no unit before the bad one */
    free_copy(&copy);
}

/* The first unit's abbreviation offset past .debug_abbrev, then a unit
 * length past the section: the units before stay usable. */
static void test_out_of_range_offsets(void **state)
{
    (void)state;
    image_copy copy = load_copy(HOSTILE_IMAGE);
    probe_result clean = probe(copy.bytes, copy.size);
    assert_true(clean.found > 0);
    put32(section_byte(&copy, ".debug_info", 8), 0x7ffffff0u);   /* v5: abbrev offset */
    probe_result r = probe(copy.bytes, copy.size);
    assert_int_equal(r.open_status, DT_ERR_FORMAT);
    free_copy(&copy);

    copy = load_copy(HOSTILE_IMAGE);
    const dt_image_section *info = dt_image_section_by_name(copy.pristine, ".debug_info");
    uint32_t first_length = 0;
    memcpy(&first_length, section_byte(&copy, ".debug_info", 0), 4);
    put32(section_byte(&copy, ".debug_info", first_length + 4), info->virtual_size);
    r = probe(copy.bytes, copy.size);
    assert_int_equal(r.open_status, DT_OK);
    assert_true(r.diagnostics > 0);
    assert_true(r.found > 0 && r.found < clean.found);
    free_copy(&copy);
}

/* Damaged abbreviations and DIEs: an unknown form, and DIE abbreviation
 * codes that no table defines. */
static void test_bad_abbreviations(void **state)
{
    (void)state;
    image_copy copy = load_copy(HOSTILE_IMAGE);
    *section_byte(&copy, ".debug_abbrev", 4) = 0x7f;
    probe_result r = probe(copy.bytes, copy.size);
    assert_true(r.open_status != DT_OK || r.diagnostics > 0);
    free_copy(&copy);

    copy = load_copy(HOSTILE_IMAGE);
    const dt_image_section *info = dt_image_section_by_name(copy.pristine, ".debug_info");
    for (size_t at = 0x200; at + 0x100 < info->virtual_size; at += 0x100)
        *section_byte(&copy, ".debug_info", at) = 0x7e;
    r = probe(copy.bytes, copy.size);
    assert_int_equal(r.open_status, DT_OK);
    assert_true(r.diagnostics > 0);
    free_copy(&copy);
}

/* Line programs with a huge length, and a zero line_range. */
static void test_bad_line_tables(void **state)
{
    (void)state;
    image_copy copy = load_copy(HOSTILE_IMAGE);
    const dt_image_section *line = dt_image_section_by_name(copy.pristine, ".debug_line");
    uint32_t length;
    for (size_t at = 0; at + 4 < line->virtual_size; at += length + 4) {
        memcpy(&length, section_byte(&copy, ".debug_line", at), 4);
        *section_byte(&copy, ".debug_line", at + 4 + 2 + 2 + 4 + 4) = 0; /* v5 line_range */
    }
    probe_result r = probe(copy.bytes, copy.size);
    assert_int_equal(r.open_status, DT_OK);
    assert_true(r.diagnostics > 0);
    assert_true(r.found > 0);          /* functions without line numbers */
    put32(section_byte(&copy, ".debug_line", 0), 0xfffffff0u);
    r = probe(copy.bytes, copy.size);
    assert_true(r.diagnostics > 0);
    free_copy(&copy);
}

/* Section headers claiming more than the file holds. */
static void test_truncated_sections(void **state)
{
    (void)state;
    image_copy copy = load_copy(HOSTILE_IMAGE);
    size_t n;
    const dt_image_section *sections = dt_image_sections(copy.pristine, &n);
    uint32_t lfanew;
    memcpy(&lfanew, copy.bytes + 0x3c, 4);
    uint16_t optional_size = (uint16_t)(copy.bytes[lfanew + 20] | copy.bytes[lfanew + 21] << 8);
    size_t table = lfanew + 24 + optional_size;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(sections[i].name, ".debug_", 7) != 0)
            continue;
        put32(copy.bytes + table + 40 * i + 8, 0x7fff0000u);   /* VirtualSize */
        put32(copy.bytes + table + 40 * i + 16, 0x7fff0000u);  /* SizeOfRawData */
    }
    probe(copy.bytes, copy.size);
    /* the file itself cut in the middle of .debug_info */
    const dt_image_section *info = dt_image_section_by_name(copy.pristine, ".debug_info");
    size_t cut = info->raw_offset + info->raw_size / 2;
    free_copy(&copy);
    copy = load_copy(HOSTILE_IMAGE);
    probe_result r = probe(copy.bytes, cut);
    assert_true(r.open_status != DT_OK || r.diagnostics > 0);
    free_copy(&copy);
}

/* Random bytes written over random places of the DWARF sections. */
static void test_random_damage(void **state)
{
    (void)state;
    static const char *const targets[] = {".debug_info", ".debug_abbrev", ".debug_line",
                                          ".debug_str", ".debug_rnglists", ".debug_aranges",
                                          ".debug_line_str"};
    image_copy copy = load_copy(HOSTILE_IMAGE);
    uint8_t *pristine = malloc(copy.size);
    assert_non_null(pristine);
    memcpy(pristine, copy.bytes, copy.size);
    srand(20210528);
    for (int round = 0; round < 150; round++) {
        memcpy(copy.bytes, pristine, copy.size);
        const char *name = targets[round % (sizeof targets / sizeof *targets)];
        const dt_image_section *s = dt_image_section_by_name(copy.pristine, name);
        if (!s)
            continue;
        for (int k = 0; k < 1 + round % 16; k++)
            *section_byte(&copy, name, (size_t)rand() % s->virtual_size) = (uint8_t)rand();
        probe(copy.bytes, copy.size);
    }
    free(pristine);
    free_copy(&copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups_match_addr2line),
        cmocka_unit_test(test_function_range),
        cmocka_unit_test(test_no_dwarf_is_not_found),
        cmocka_unit_test(test_reserved_unit_length),
        cmocka_unit_test(test_out_of_range_offsets),
        cmocka_unit_test(test_bad_abbreviations),
        cmocka_unit_test(test_bad_line_tables),
        cmocka_unit_test(test_truncated_sections),
        cmocka_unit_test(test_random_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
