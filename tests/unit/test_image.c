/*
 * Unit tests of the PE image reader: synthetic PE32/PE32+ images built here
 * byte by byte, a synthetic minidump for the dump-memory source, and a
 * cross-check of Wine's PE DLLs against llvm-readobj and MinGW objdump.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dumptriage/image.h"
#include "image/image_internal.h"

/* ---- A tiny PE builder ----------------------------------------------- */

/* The synthetic image is "flat": each section's PointerToRawData equals its
 * VirtualAddress, so the same bytes are valid in file and loaded layout. */
enum {
    IMG_SIZE = 0x6000,
    LFANEW = 0x80,
    FILE_HEADER = LFANEW + 4,
    OPT_HEADER = FILE_HEADER + 20,
    IMG_TIMESTAMP = 0x5F5E1000,
    TEXT_RVA = 0x1000,
    RDATA_RVA = 0x2000,
    PDATA_RVA = 0x3000,
    DATA_RVA = 0x4000,
    EXTRA_RVA = 0x5000
};

typedef struct pe {
    uint8_t *b;
    bool plus;
    uint16_t sections;
} pe;

static void put16(pe *p, size_t off, uint16_t v) { p->b[off] = (uint8_t)v; p->b[off + 1] = (uint8_t)(v >> 8); }
static void put32(pe *p, size_t off, uint32_t v) { put16(p, off, (uint16_t)v); put16(p, off + 2, (uint16_t)(v >> 16)); }
static void put64(pe *p, size_t off, uint64_t v) { put32(p, off, (uint32_t)v); put32(p, off + 4, (uint32_t)(v >> 32)); }
static void put_str(pe *p, size_t off, const char *s) { memcpy(p->b + off, s, strlen(s) + 1); }

static size_t opt_size(const pe *p) { return p->plus ? 0xF0 : 0xE0; }
static size_t dirs_offset(const pe *p) { return OPT_HEADER + (p->plus ? 0x70 : 0x60); }
static size_t section_table(const pe *p) { return OPT_HEADER + opt_size(p); }

static void pe_set_dir(pe *p, int index, uint32_t rva, uint32_t size)
{
    put32(p, dirs_offset(p) + 8 * (size_t)index, rva);
    put32(p, dirs_offset(p) + 8 * (size_t)index + 4, size);
}

static void pe_add_section(pe *p, const char *name, uint32_t rva, uint32_t vsize,
                           uint32_t raw_offset, uint32_t raw_size, uint32_t characteristics)
{
    size_t at = section_table(p) + 40 * (size_t)p->sections++;
    memcpy(p->b + at, name, strlen(name) < 8 ? strlen(name) : 8);
    put32(p, at + 8, vsize);
    put32(p, at + 0xC, rva);
    put32(p, at + 0x10, raw_size);
    put32(p, at + 0x14, raw_offset);
    put32(p, at + 0x24, characteristics);
    put16(p, FILE_HEADER + 2, p->sections);
}

/* DOS header, PE signature, file header, optional header (16 directories)
 * and four flat sections: .text, .rdata, .pdata and a .data with no raw
 * bytes (reads as zero). */
static pe pe_new(bool plus)
{
    pe p = {calloc(1, IMG_SIZE), plus, 0};
    assert_non_null(p.b);
    put16(&p, 0, 0x5A4D);
    put32(&p, 0x3C, LFANEW);
    put32(&p, LFANEW, 0x00004550);
    put16(&p, FILE_HEADER, plus ? 0x8664 : 0x014C);
    put32(&p, FILE_HEADER + 4, IMG_TIMESTAMP);
    put16(&p, FILE_HEADER + 0x10, (uint16_t)opt_size(&p));
    put16(&p, FILE_HEADER + 0x12, 0x2022);
    put16(&p, OPT_HEADER, plus ? 0x20B : 0x10B);
    if (plus)
        put64(&p, OPT_HEADER + 0x18, 0x180000000ull);
    else
        put32(&p, OPT_HEADER + 0x1C, 0x10000000u);
    put32(&p, OPT_HEADER + 0x20, 0x1000);
    put32(&p, OPT_HEADER + 0x24, 0x200);
    put32(&p, OPT_HEADER + 0x38, IMG_SIZE);
    put32(&p, OPT_HEADER + 0x3C, 0x400);
    put32(&p, OPT_HEADER + 0x40, 0x1234);
    put16(&p, OPT_HEADER + 0x44, 3);
    put32(&p, OPT_HEADER + (plus ? 0x6C : 0x5C), 16);
    pe_add_section(&p, ".text", TEXT_RVA, 0x1000, TEXT_RVA, 0x1000, 0x60000020);
    pe_add_section(&p, ".rdata", RDATA_RVA, 0x1000, RDATA_RVA, 0x1000, 0x40000040);
    pe_add_section(&p, ".pdata", PDATA_RVA, 0x1000, PDATA_RVA, 0x1000, 0x40000040);
    pe_add_section(&p, ".data", DATA_RVA, 0x1000, 0, 0, 0xC0000080);
    return p;
}

static void pe_free(pe *p) { free(p->b); }

static dt_image *open_pe(const pe *p, bool loaded)
{
    dt_image *img = NULL;
    dt_error err = {0};
    dt_status st = dt_image_open_bytes(&img, p->b, IMG_SIZE, loaded, "test.dll", &err);
    if (st != DT_OK)
        fail_msg("open failed: %s", err.message);
    return img;
}

static bool has_diag(const dt_image *img, const char *needle)
{
    size_t n;
    const dt_diagnostic *d = dt_image_diagnostics(img, &n);
    for (size_t i = 0; i < n; i++)
        if (strstr(d[i].message, needle) || strstr(d[i].structure, needle))
            return true;
    return false;
}

/* Exports at RDATA_RVA: Base 5; functions [0x1010, 0x1000, 0, forwarder,
 * 0x1020]; names Alpha->1, Beta->0, Fwd->3, Zeta->1 (an alias). */
static void pe_add_exports(pe *p)
{
    uint32_t dir = RDATA_RVA;
    put32(p, dir + 0xC, 0x2100);
    put32(p, dir + 0x10, 5);
    put32(p, dir + 0x14, 5);
    put32(p, dir + 0x18, 4);
    put32(p, dir + 0x1C, 0x2040);
    put32(p, dir + 0x20, 0x2060);
    put32(p, dir + 0x24, 0x2080);
    const uint32_t functions[] = {0x1010, 0x1000, 0, 0x2120, 0x1020};
    for (size_t i = 0; i < 5; i++)
        put32(p, 0x2040 + 4 * i, functions[i]);
    const uint32_t names[] = {0x2110, 0x2118, 0x2130, 0x2140};
    const uint16_t ordinals[] = {1, 0, 3, 1};
    for (size_t i = 0; i < 4; i++) {
        put32(p, 0x2060 + 4 * i, names[i]);
        put16(p, 0x2080 + 2 * i, ordinals[i]);
    }
    put_str(p, 0x2100, "test.dll");
    put_str(p, 0x2110, "Alpha");
    put_str(p, 0x2118, "Beta");
    put_str(p, 0x2130, "Fwd");
    put_str(p, 0x2120, "OTHER.Func");
    put_str(p, 0x2140, "Zeta");
    pe_set_dir(p, 0, dir, 0x200);
}

/* RUNTIME_FUNCTIONs at PDATA_RVA (`order` permutes where each is stored):
 * 0 [0x1000,0x1010) direct; 1 [0x1010,0x1020) direct; 2 [0x1020,0x1030)
 * indirect -> 0; 3 [0x1030,0x1040) indirect to itself; 4 [0x1040,0x1050)
 * indirect outside .pdata; 5 [0x1050,0x1060) indirect -> 2 -> 0. */
static void pe_add_pdata(pe *p, const size_t order[6])
{
    uint32_t slot_of[6];
    for (size_t i = 0; i < 6; i++)
        slot_of[order[i]] = PDATA_RVA + 12 * (uint32_t)i;
    const uint32_t unwind[6] = {0x2800, 0x2810, slot_of[0] | 1, slot_of[3] | 1, 0x2000 | 1,
                                slot_of[2] | 1};
    for (size_t f = 0; f < 6; f++) {
        put32(p, slot_of[f], 0x1000 + 0x10 * (uint32_t)f);
        put32(p, slot_of[f] + 4, 0x1010 + 0x10 * (uint32_t)f);
        put32(p, slot_of[f] + 8, unwind[f]);
    }
    pe_set_dir(p, 3, PDATA_RVA, 6 * 12);
}

static const size_t SORTED[6] = {0, 1, 2, 3, 4, 5};

/* ---- Headers ----------------------------------------------------------- */

static void test_pe32_plus_headers(void **state)
{
    (void)state;
    pe p = pe_new(true);
    dt_image *img = open_pe(&p, false);
    const dt_image_headers *h = dt_image_headers_get(img);
    assert_true(h->pe32_plus);
    assert_int_equal(h->machine, DT_IMAGE_MACHINE_AMD64);
    assert_int_equal(h->section_count, 4);
    assert_int_equal(h->image_base, 0x180000000ull);
    assert_int_equal(h->size_of_image, IMG_SIZE);
    assert_int_equal(h->size_of_headers, 0x400);
    assert_int_equal(h->checksum, 0x1234);
    assert_int_equal(h->subsystem, 3);
    assert_int_equal(h->rva_and_size_count, 16);
    char id[DT_IMAGE_ID_SIZE];
    dt_image_store_id(img, id);
    assert_string_equal(id, "5F5E10006000");
    dt_module m = {.base = 0x7ff00000, .size = IMG_SIZE, .timestamp = IMG_TIMESTAMP};
    assert_true(dt_image_matches_module(img, &m));
    m.timestamp++;
    assert_false(dt_image_matches_module(img, &m));
    dt_image_free(img);
    pe_free(&p);
}

static void test_pe32_headers(void **state)
{
    (void)state;
    pe p = pe_new(false);
    pe_set_dir(&p, 6, 0x2400, 28);
    dt_image *img = open_pe(&p, false);
    const dt_image_headers *h = dt_image_headers_get(img);
    assert_false(h->pe32_plus);
    assert_int_equal(h->machine, DT_IMAGE_MACHINE_I386);
    assert_int_equal(h->image_base, 0x10000000u);
    assert_int_equal(h->dirs[6].rva, 0x2400);
    assert_int_equal(h->dirs[6].size, 28);
    dt_image_free(img);
    pe_free(&p);
}

static void expect_open_error(const pe *p, size_t size, dt_status status, const char *structure)
{
    dt_image *img = (dt_image *)1;
    dt_error err = {0};
    assert_int_equal(dt_image_open_bytes(&img, p->b, size, false, "bad.dll", &err), status);
    assert_null(img);
    assert_string_equal(err.structure, structure);
    assert_non_null(strstr(err.message, "bad.dll"));
}

static void test_truncated_headers(void **state)
{
    (void)state;
    pe p = pe_new(true);
    size_t headers_end = section_table(&p) + 4 * 40;
    for (size_t size = 0; size < headers_end; size++) {
        dt_image *img = NULL;
        dt_error err = {0};
        assert_int_equal(dt_image_open_bytes(&img, p.b, size, false, "bad.dll", &err),
                         DT_ERR_FORMAT);
        assert_non_null(strstr(err.message, "bad.dll"));
        assert_true(err.has_offset);
    }
    expect_open_error(&p, 0x3F, DT_ERR_FORMAT, "DOS header");
    expect_open_error(&p, LFANEW + 10, DT_ERR_FORMAT, "PE header");
    expect_open_error(&p, OPT_HEADER + 0x20, DT_ERR_FORMAT, "optional header");
    expect_open_error(&p, section_table(&p) + 40, DT_ERR_FORMAT, "section table");
    pe_free(&p);
}

static void test_bad_signatures(void **state)
{
    (void)state;
    pe p = pe_new(true);
    put16(&p, 0, 0x4D5A);
    expect_open_error(&p, IMG_SIZE, DT_ERR_FORMAT, "DOS header");
    put16(&p, 0, 0x5A4D);
    put32(&p, 0x3C, 0xFFFFFFF0u);
    expect_open_error(&p, IMG_SIZE, DT_ERR_FORMAT, "PE header");
    put32(&p, 0x3C, LFANEW);
    put32(&p, LFANEW, 0x00004550 + 1);
    expect_open_error(&p, IMG_SIZE, DT_ERR_FORMAT, "PE header");
    put32(&p, LFANEW, 0x00004550);
    put16(&p, OPT_HEADER, 0x107);
    expect_open_error(&p, IMG_SIZE, DT_ERR_UNSUPPORTED, "optional header");
    put16(&p, OPT_HEADER, 0x20B);
    put16(&p, FILE_HEADER + 0x10, 0x60); /* too small for PE32+ */
    expect_open_error(&p, IMG_SIZE, DT_ERR_FORMAT, "optional header");
    pe_free(&p);
}

static void test_count_overflows(void **state)
{
    (void)state;
    pe p = pe_new(true);
    put16(&p, FILE_HEADER + 2, 97);
    expect_open_error(&p, IMG_SIZE, DT_ERR_LIMIT, "file header");
    put16(&p, FILE_HEADER + 2, 0xFFFF);
    expect_open_error(&p, IMG_SIZE, DT_ERR_LIMIT, "file header");
    put16(&p, FILE_HEADER + 2, 4);

    /* Export counts past the cap: exports dropped, .pdata kept. */
    pe_add_exports(&p);
    pe_add_pdata(&p, SORTED);
    put32(&p, RDATA_RVA + 0x14, 0xFFFFFFFFu);
    dt_image *img = open_pe(&p, false);
    size_t n;
    dt_image_exports(img, &n);
    assert_int_equal(n, 0);
    assert_true(has_diag(img, "exceeds the limit"));
    dt_image_runtime_functions(img, &n);
    assert_int_equal(n, 6);
    dt_image_free(img);

    /* Huge .pdata and debug sizes: capped, and only readable entries kept. */
    put32(&p, RDATA_RVA + 0x14, 5);
    pe_set_dir(&p, 3, PDATA_RVA, 0xFFFFFFF0u);
    pe_set_dir(&p, 6, RDATA_RVA + 0x400, 65 * 28);
    img = open_pe(&p, true);
    dt_image_runtime_functions(img, &n);
    assert_int_equal(n, (IMG_SIZE - PDATA_RVA) / 12);
    assert_true(has_diag(img, "exceed the limit of 4194304"));
    assert_true(has_diag(img, "exceed the limit of 64"));
    dt_image_exports(img, &n);
    assert_int_equal(n, 5);
    dt_image_free(img);

    /* NumberOfRvaAndSizes larger than SizeOfOptionalHeader allows. */
    put32(&p, OPT_HEADER + 0x6C, 0xFFFFFFFFu);
    put16(&p, FILE_HEADER + 0x10, 0x70 + 8 * 2); /* room for 2 directories */
    memmove(p.b + OPT_HEADER + 0x80, p.b + section_table(&p), 4 * 40);
    img = open_pe(&p, false);
    assert_true(has_diag(img, "NumberOfRvaAndSizes"));
    dt_image_exports(img, &n);
    assert_int_equal(n, 5);
    dt_image_runtime_functions(img, &n);
    assert_int_equal(n, 0);
    dt_image_free(img);
    pe_free(&p);
}

/* ---- Sections and byte access ---------------------------------------- */

/* A "/4" name resolved through the COFF string table at
 * PointerToSymbolTable + 18 * NumberOfSymbols, and an unresolvable "/999". */
static void test_long_section_names(void **state)
{
    (void)state;
    pe p = pe_new(true);
    pe_add_section(&p, "/4", EXTRA_RVA, 0x10, EXTRA_RVA, 0x200, 0x42000040);
    pe_add_section(&p, "/999", EXTRA_RVA + 0x200, 0x10, EXTRA_RVA + 0x200, 0x200, 0x42000040);
    put32(&p, FILE_HEADER + 8, DATA_RVA + 0x800);
    put32(&p, FILE_HEADER + 0xC, 2);
    uint32_t table = DATA_RVA + 0x800 + 36;
    put32(&p, table, 4 + 12);
    put_str(&p, table + 4, ".debug_info");
    memcpy(p.b + EXTRA_RVA, "DWARF bytes....!", 16);

    dt_image *img = open_pe(&p, false);
    const dt_image_section *s = dt_image_section_by_name(img, ".debug_info");
    assert_non_null(s);
    assert_int_equal(s->virtual_address, EXTRA_RVA);
    const uint8_t *bytes;
    assert_int_equal(dt_image_section_data(img, s, &bytes), 16);
    assert_memory_equal(bytes, "DWARF bytes....!", 16);
    assert_non_null(dt_image_section_by_name(img, "/999"));
    assert_true(has_diag(img, "/999"));
    assert_null(dt_image_section_by_name(img, ".debug_line"));
    dt_image_free(img);

    /* In loaded layout the string table is not part of the image. */
    img = open_pe(&p, true);
    assert_non_null(dt_image_section_by_name(img, "/4"));
    dt_image_free(img);
    pe_free(&p);
}

static char *write_temp(const uint8_t *bytes, size_t size)
{
    char *path = strdup("/tmp/dt_test_image_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, size), (ssize_t)size);
    close(fd);
    return path;
}

/* A raw file whose .text bytes sit at file offset 0x400 (not at the RVA),
 * followed by a gap in the RVA space and a short .rdata. */
static void test_file_layout_translation(void **state)
{
    (void)state;
    enum { SHORT_RVA = 0x3000 };
    pe p = pe_new(true);
    p.sections = 0;
    pe_add_section(&p, ".text", TEXT_RVA, 0x1000, 0x400, 0x200, 0x60000020);
    pe_add_section(&p, ".rdata", SHORT_RVA, 0x100, 0x600, 0x200, 0x40000040);
    memcpy(p.b + 0x400, "\x48\x83\xEC\x28", 4);
    memset(p.b + 0x5FC, 0xCC, 4);
    char *path = write_temp(p.b, 0x800);
    dt_image *img = NULL;
    dt_error err = {0};
    assert_int_equal(dt_image_open_file(&img, path, &err), DT_OK);
    uint8_t buf[16];
    assert_int_equal(dt_image_read(img, TEXT_RVA, buf, 4), 4);
    assert_memory_equal(buf, "\x48\x83\xEC\x28", 4);
    /* The last raw bytes, then zeros up to VirtualSize. */
    memset(buf, 0x55, sizeof buf);
    assert_int_equal(dt_image_read(img, TEXT_RVA + 0x1FC, buf, 8), 8);
    assert_memory_equal(buf, "\xCC\xCC\xCC\xCC\0\0\0\0", 8);
    /* Reads stop at the end of .text's VirtualSize (a gap follows), at the
     * end of .rdata's VirtualSize, and outside the image. */
    assert_int_equal(dt_image_read(img, TEXT_RVA + 0xFFC, buf, 8), 4);
    assert_int_equal(dt_image_read(img, SHORT_RVA + 0xF0, buf, 16), 16);
    assert_int_equal(dt_image_read(img, SHORT_RVA + 0xF8, buf, 16), 8);
    assert_int_equal(dt_image_read(img, 0xFFFFFFF8u, buf, 16), 0);
    /* The headers are readable at RVA 0. */
    assert_int_equal(dt_image_read(img, 0, buf, 2), 2);
    assert_memory_equal(buf, "MZ", 2);
    assert_true(dt_image_rva_is_executable(img, TEXT_RVA + 0x10));
    assert_false(dt_image_rva_is_executable(img, SHORT_RVA));
    assert_false(dt_image_rva_is_executable(img, 0x2000));
    assert_string_equal(dt_image_label(img), path);
    dt_image_free(img);
    unlink(path);
    free(path);

    assert_int_equal(dt_image_open_file(&img, "/nonexistent/x.dll", &err), DT_ERR_IO);
    assert_null(img);
    pe_free(&p);
}

static void test_out_of_range_rvas(void **state)
{
    (void)state;
    pe p = pe_new(true);
    pe_add_pdata(&p, SORTED);
    pe_set_dir(&p, 0, 0x7FFFFFF0u, 40);
    pe_set_dir(&p, 6, 0xFFFFFFF0u, 28);
    dt_image *img = open_pe(&p, true);
    uint8_t buf[32];
    assert_int_equal(dt_image_read(img, IMG_SIZE - 16, buf, 32), 16);
    assert_int_equal(dt_image_read(img, IMG_SIZE, buf, 1), 0);
    assert_int_equal(dt_image_read(img, 0xFFFFFFFFu, buf, 32), 0);
    assert_true(has_diag(img, "export directory"));
    assert_true(has_diag(img, "debug directory"));
    assert_null(dt_image_codeview(img));
    size_t n;
    dt_image_runtime_functions(img, &n);
    assert_int_equal(n, 6);
    dt_image_free(img);
    pe_free(&p);
}

/* The loader maps nothing past SizeOfImage, whatever the sections say. */
static void test_reads_stop_at_size_of_image(void **state)
{
    (void)state;
    pe p = pe_new(true);
    put32(&p, OPT_HEADER + 0x38, TEXT_RVA + 0x100);
    dt_image *img = open_pe(&p, false);
    uint8_t buf[16];
    assert_int_equal(dt_image_read(img, TEXT_RVA + 0xF8, buf, 16), 8);
    assert_int_equal(dt_image_read(img, DATA_RVA, buf, 16), 0);
    dt_image_free(img);
    pe_free(&p);
}

/* ---- Exports ----------------------------------------------------------- */

static void test_exports(void **state)
{
    (void)state;
    pe p = pe_new(true);
    pe_add_exports(&p);
    dt_image *img = open_pe(&p, false);
    assert_string_equal(dt_image_export_dll_name(img), "test.dll");
    size_t n;
    const dt_image_export *e = dt_image_exports(img, &n);
    assert_int_equal(n, 5);
    assert_int_equal(e[0].ordinal, 5);
    assert_string_equal(e[0].name, "Beta");
    assert_int_equal(e[0].rva, 0x1010);
    assert_int_equal(e[1].ordinal, 6);
    assert_string_equal(e[1].name, "Alpha");
    assert_int_equal(e[2].ordinal, 6);
    assert_string_equal(e[2].name, "Zeta");
    assert_int_equal(e[3].ordinal, 8);
    assert_string_equal(e[3].name, "Fwd");
    assert_string_equal(e[3].forwarder, "OTHER.Func");
    assert_int_equal(e[4].ordinal, 9);
    assert_null(e[4].name);
    assert_int_equal(e[4].rva, 0x1020);

    assert_string_equal(dt_image_export_at_or_below(img, 0x1005)->name, "Alpha");
    assert_string_equal(dt_image_export_at_or_below(img, 0x1000)->name, "Alpha");
    assert_string_equal(dt_image_export_at_or_below(img, 0x101F)->name, "Beta");
    assert_int_equal(dt_image_export_at_or_below(img, 0x5000)->ordinal, 9);
    assert_null(dt_image_export_at_or_below(img, 0xFFF));
    /* The forwarder's RVA (0x2120) is never a symbol. */
    assert_int_equal(dt_image_export_at_or_below(img, 0x2120)->ordinal, 9);
    dt_image_free(img);
    pe_free(&p);
}

static void test_broken_exports_keep_the_rest(void **state)
{
    (void)state;
    pe p = pe_new(true);
    pe_add_exports(&p);
    pe_add_pdata(&p, SORTED);
    put32(&p, 0x2060, 0xFFFFFF00u);   /* Alpha's name points outside the image */
    put16(&p, 0x2080 + 2, 40);        /* Beta's ordinal index is out of range */
    put32(&p, 0x2040 + 12, IMG_SIZE - 8); /* the forwarder runs off the image */
    pe_set_dir(&p, 0, RDATA_RVA, IMG_SIZE - RDATA_RVA);
    memset(p.b + IMG_SIZE - 8, 'A', 8);
    dt_image *img = open_pe(&p, true);
    size_t n;
    const dt_image_export *e = dt_image_exports(img, &n);
    /* Beta's function stays, unnamed; Alpha's function keeps its alias. */
    assert_int_equal(n, 4);
    assert_null(e[0].name);
    assert_int_equal(e[0].rva, 0x1010);
    assert_string_equal(e[1].name, "Zeta");
    assert_string_equal(e[2].name, "Fwd");
    assert_null(e[2].forwarder);
    assert_true(has_diag(img, "export name table"));
    assert_true(has_diag(img, "forwarder string of ordinal 8"));
    dt_image_runtime_functions(img, &n);
    assert_int_equal(n, 6);
    dt_image_free(img);
    pe_free(&p);
}

/* ---- Exception directory --------------------------------------------- */

static void check_lookups(const dt_image *img)
{
    dt_function_lookup f;
    assert_int_equal(dt_image_find_runtime_function(img, 0x1005, &f), DT_OK);
    assert_int_equal(f.entry.begin, 0x1000);
    assert_int_equal(f.primary.unwind_data, 0x2800);
    assert_int_equal(f.indirections, 0);
    assert_int_equal(dt_image_find_runtime_function(img, 0x101F, &f), DT_OK);
    assert_int_equal(f.primary.unwind_data, 0x2810);
    assert_int_equal(dt_image_find_runtime_function(img, 0x1020, &f), DT_OK);
    assert_int_equal(f.entry.begin, 0x1020);
    assert_int_equal(f.primary.begin, 0x1000);
    assert_int_equal(f.primary.unwind_data, 0x2800);
    assert_int_equal(f.indirections, 1);
    assert_int_equal(dt_image_find_runtime_function(img, 0x1035, &f), DT_ERR_LIMIT);
    assert_int_equal(dt_image_find_runtime_function(img, 0x1045, &f), DT_ERR_FORMAT);
    assert_int_equal(dt_image_find_runtime_function(img, 0x1055, &f), DT_OK);
    assert_int_equal(f.indirections, 2);
    assert_int_equal(f.primary.begin, 0x1000);
    assert_int_equal(dt_image_find_runtime_function(img, 0x1060, &f), DT_ERR_NOT_FOUND);
    assert_int_equal(dt_image_find_runtime_function(img, 0xFFF, &f), DT_ERR_NOT_FOUND);
    assert_int_equal(dt_image_find_runtime_function(img, 0xFFFFFFFFu, &f), DT_ERR_NOT_FOUND);
}

static void test_runtime_functions(void **state)
{
    (void)state;
    pe p = pe_new(true);
    pe_add_pdata(&p, SORTED);
    dt_image *img = open_pe(&p, false);
    size_t n;
    const dt_runtime_function *f = dt_image_runtime_functions(img, &n);
    assert_int_equal(n, 6);
    assert_int_equal(f[5].begin, 0x1050);
    check_lookups(img);
    assert_false(has_diag(img, "sorted"));
    /* UNWIND_INFO bytes are reachable through dt_image_read. */
    memcpy(p.b + 0x2800, "\x01\x04\x01\x00\x04\x42", 6);
    uint8_t unwind[6];
    assert_int_equal(dt_image_read(img, 0x2800, unwind, 6), 6);
    assert_memory_equal(unwind, "\x01\x04\x01\x00\x04\x42", 6);
    dt_image_free(img);
    pe_free(&p);
}

static void test_unsorted_pdata(void **state)
{
    (void)state;
    static const size_t shuffled[6] = {4, 1, 5, 0, 3, 2};
    pe p = pe_new(true);
    pe_add_pdata(&p, shuffled);
    dt_image *img = open_pe(&p, true);
    assert_true(has_diag(img, "not sorted"));
    size_t n;
    const dt_runtime_function *f = dt_image_runtime_functions(img, &n);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(f[i].begin, 0x1000 + 0x10 * i);
    check_lookups(img);
    dt_image_free(img);
    pe_free(&p);
}

static void test_pdata_only_for_amd64(void **state)
{
    (void)state;
    pe p = pe_new(false);
    pe_add_pdata(&p, SORTED);
    dt_image *img = open_pe(&p, false);
    size_t n;
    dt_image_runtime_functions(img, &n);
    assert_int_equal(n, 0);
    assert_true(has_diag(img, "not AMD64"));
    dt_image_free(img);
    pe_free(&p);
}

/* ---- Debug directory ------------------------------------------------- */

static void test_codeview_rsds(void **state)
{
    (void)state;
    pe p = pe_new(true);
    uint32_t entry = RDATA_RVA + 0x400, record = RDATA_RVA + 0x500;
    put32(&p, entry + 0xC, 13);                /* a POGO entry first */
    put32(&p, entry + 28 + 0xC, 2);            /* then CodeView */
    put32(&p, entry + 28 + 0x10, 24 + 16);
    put32(&p, entry + 28 + 0x14, record);
    put32(&p, entry + 28 + 0x18, record);
    memcpy(p.b + record, "RSDS", 4);
    for (int i = 0; i < 16; i++)
        p.b[record + 4 + i] = (uint8_t)(0xA0 + i);
    put32(&p, record + 20, 7);
    put_str(&p, record + 24, "c:\\b\\test.pdb");
    pe_set_dir(&p, 6, entry, 2 * 28);
    dt_image *img = open_pe(&p, true);
    const dt_codeview *cv = dt_image_codeview(img);
    assert_non_null(cv);
    assert_int_equal(cv->kind, DT_CV_RSDS);
    assert_int_equal(cv->guid[0], 0xA0);
    assert_int_equal(cv->guid[15], 0xAF);
    assert_int_equal(cv->age, 7);
    assert_string_equal(cv->pdb_path, "c:\\b\\test.pdb");
    dt_image_free(img);
    pe_free(&p);
}

/* NB10 found by PointerToRawData alone (AddressOfRawData 0), raw file only. */
static void test_codeview_nb10_by_file_offset(void **state)
{
    (void)state;
    pe p = pe_new(true);
    uint32_t entry = RDATA_RVA + 0x400, record = DATA_RVA + 0x100; /* not in a section's raw data */
    put32(&p, entry + 0xC, 2);
    put32(&p, entry + 0x10, 16 + 8);
    put32(&p, entry + 0x18, record);
    memcpy(p.b + record, "NB10", 4);
    put32(&p, record + 8, 0x3A1B2C3D);
    put32(&p, record + 12, 2);
    put_str(&p, record + 16, "old.pdb");
    pe_set_dir(&p, 6, entry, 28);
    dt_image *img = open_pe(&p, false);
    const dt_codeview *cv = dt_image_codeview(img);
    assert_non_null(cv);
    assert_int_equal(cv->kind, DT_CV_NB10);
    assert_int_equal(cv->signature, 0x3A1B2C3D);
    assert_int_equal(cv->age, 2);
    assert_string_equal(cv->pdb_path, "old.pdb");
    dt_image_free(img);
    /* In loaded layout a file offset means nothing. */
    img = open_pe(&p, true);
    assert_null(dt_image_codeview(img));
    assert_true(has_diag(img, "CodeView"));
    dt_image_free(img);
    pe_free(&p);
}

/* ---- Dump memory source ---------------------------------------------- */

typedef struct dump_range {
    uint32_t rva;
    uint32_t size;
} dump_range;

static void put_dump32(uint8_t *b, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void put_dump64(uint8_t *b, size_t off, uint64_t v)
{
    put_dump32(b, off, (uint32_t)v);
    put_dump32(b, off + 4, (uint32_t)(v >> 32));
}

/* A minidump with one module "test.dll" at `base` and a Memory64List
 * holding the given ranges of `image`. Returns the temporary file's path. */
static char *write_dump(const pe *p, uint64_t base, const dump_range *ranges, size_t count)
{
    enum { DIR = 0x20, MODULES = 0x38, NAME = 0xA8, MEM64 = 0xC0 };
    size_t data = MEM64 + 16 + 16 * count, total = data;
    for (size_t i = 0; i < count; i++)
        total += ranges[i].size;
    uint8_t *b = calloc(1, total);
    assert_non_null(b);
    put_dump32(b, 0, 0x504D444D);                    /* MINIDUMP_HEADER */
    put_dump32(b, 4, 0xA793);
    put_dump32(b, 8, 2);
    put_dump32(b, 0xC, DIR);
    put_dump32(b, DIR, 4);                           /* ModuleList */
    put_dump32(b, DIR + 4, 4 + 0x6C);
    put_dump32(b, DIR + 8, MODULES);
    put_dump32(b, DIR + 12, 9);                      /* Memory64List */
    put_dump32(b, DIR + 16, (uint32_t)(16 + 16 * count));
    put_dump32(b, DIR + 20, MEM64);
    put_dump32(b, MODULES, 1);
    put_dump64(b, MODULES + 4, base);                /* MINIDUMP_MODULE */
    put_dump32(b, MODULES + 4 + 8, IMG_SIZE);
    put_dump32(b, MODULES + 4 + 0x10, IMG_TIMESTAMP);
    put_dump32(b, MODULES + 4 + 0x14, NAME);
    put_dump32(b, NAME, 16);
    for (size_t i = 0; i < 8; i++)
        b[NAME + 4 + 2 * i] = (uint8_t)"test.dll"[i];
    put_dump64(b, MEM64, count);
    put_dump64(b, MEM64 + 8, data);
    for (size_t i = 0; i < count; i++) {
        put_dump64(b, MEM64 + 16 + 16 * i, base + ranges[i].rva);
        put_dump64(b, MEM64 + 24 + 16 * i, ranges[i].size);
        memcpy(b + data, p->b + ranges[i].rva, ranges[i].size);
        data += ranges[i].size;
    }
    char *path = write_temp(b, total);
    free(b);
    return path;
}

static dt_dump *open_dump(const char *path, const dt_module **module)
{
    dt_dump *dump = NULL;
    dt_error err = {0};
    if (dt_dump_open(&dump, path, NULL, &err) != DT_OK)
        fail_msg("dump open failed: %s", err.message);
    size_t n;
    *module = dt_dump_modules(dump, &n);
    assert_int_equal(n, 1);
    return dump;
}

/* Headers and .pdata are in the dump; .rdata (the exports) is not. */
static void test_memory_image_with_missing_pages(void **state)
{
    (void)state;
    pe p = pe_new(true);
    pe_add_exports(&p);
    pe_add_pdata(&p, SORTED);
    const dump_range ranges[] = {{0, 0x1000}, {PDATA_RVA, 0x1000}, {TEXT_RVA, 0x800}};
    char *path = write_dump(&p, 0x7FF612340000ull, ranges, 3);
    const dt_module *module;
    dt_dump *dump = open_dump(path, &module);
    dt_image *img = NULL;
    dt_error err = {0};
    assert_int_equal(dt_image_open_memory(&img, dump, module, &err), DT_OK);
    assert_string_equal(dt_image_label(img), "module test.dll in dump");
    assert_true(dt_image_matches_module(img, module));
    size_t n;
    dt_image_exports(img, &n);
    assert_int_equal(n, 0);
    assert_true(has_diag(img, "export directory"));
    check_lookups(img);
    uint8_t buf[32];
    assert_int_equal(dt_image_read(img, TEXT_RVA + 0x7F0, buf, 32), 16);
    assert_int_equal(dt_image_read(img, RDATA_RVA, buf, 4), 0);
    const uint8_t *bytes;
    assert_int_equal(dt_image_section_data(img, dt_image_section_by_name(img, ".pdata"), &bytes),
                     0x1000);
    assert_true(dt_image_rva_is_executable(img, TEXT_RVA));
    dt_image_free(img);
    dt_dump_free(dump);
    unlink(path);
    free(path);
    pe_free(&p);
}

/* .rdata saved as two ranges, stored out of order, split inside "Alpha":
 * strings that cross a range boundary are still read. */
static void test_memory_image_split_strings(void **state)
{
    (void)state;
    pe p = pe_new(true);
    pe_add_exports(&p);
    const dump_range ranges[] = {{0, 0x1000}, {0x2112, 0xEEE}, {RDATA_RVA, 0x112}};
    char *path = write_dump(&p, 0x180000000ull, ranges, 3);
    const dt_module *module;
    dt_dump *dump = open_dump(path, &module);
    dt_image *img = NULL;
    dt_error err = {0};
    assert_int_equal(dt_image_open_memory(&img, dump, module, &err), DT_OK);
    size_t n;
    const dt_image_export *e = dt_image_exports(img, &n);
    assert_int_equal(n, 5);
    assert_string_equal(e[1].name, "Alpha");
    assert_string_equal(dt_image_export_at_or_below(img, 0x1001)->name, "Alpha");
    dt_image_free(img);
    dt_dump_free(dump);
    unlink(path);
    free(path);
    pe_free(&p);
}

static void test_memory_image_without_headers(void **state)
{
    (void)state;
    pe p = pe_new(true);
    const dump_range ranges[] = {{TEXT_RVA, 0x1000}};
    char *path = write_dump(&p, 0x10000000ull, ranges, 1);
    const dt_module *module;
    dt_dump *dump = open_dump(path, &module);
    dt_image *img = (dt_image *)1;
    dt_error err = {0};
    assert_int_equal(dt_image_open_memory(&img, dump, module, &err), DT_ERR_NOT_FOUND);
    assert_null(img);
    assert_non_null(strstr(err.message, "module test.dll in dump"));
    dt_dump_free(dump);
    unlink(path);
    free(path);
    pe_free(&p);
}

/* ---- Cross-check against llvm-readobj and objdump -------------------- */

#define WINE_DIR "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/"

/* A missing tool skips the test, except under CI where it fails. */
static bool tool_available(const char *tool)
{
    char command[256];
    snprintf(command, sizeof command, "command -v %s >/dev/null 2>&1", tool);
    if (system(command) == 0)
        return true;
    if (getenv("CI"))
        fail_msg("%s is required when CI is set", tool);
    return false;
}

/* Compares the export list with llvm-readobj's Export {Ordinal, Name, RVA}
 * blocks, in order, and the RUNTIME_FUNCTION begins with its StartAddress
 * values. */
static void compare_with_readobj(const dt_image *img, const char *path)
{
    char command[512], line[1024];
    snprintf(command, sizeof command, "llvm-readobj-14 --coff-exports --unwind '%s'", path);
    FILE *out = popen(command, "r");
    assert_non_null(out);
    size_t export_count, function_count, exports_seen = 0, functions_seen = 0;
    const dt_image_export *e = dt_image_exports(img, &export_count);
    const dt_runtime_function *f = dt_image_runtime_functions(img, &function_count);
    uint64_t image_base = dt_image_headers_get(img)->image_base;
    while (fgets(line, sizeof line, out)) {
        unsigned long long value;
        char name[512];
        if (sscanf(line, "  Ordinal: %llu", &value) == 1) {
            assert_true(exports_seen < export_count);
            assert_int_equal(e[exports_seen].ordinal, value);
        } else if (strncmp(line, "  Name: ", 8) == 0) {
            name[0] = '\0';
            sscanf(line, "  Name: %511s", name);
            const char *ours = e[exports_seen].name;
            assert_string_equal(ours ? ours : "", name);
        } else if (sscanf(line, "  RVA: 0x%llx", &value) == 1) {
            assert_int_equal(e[exports_seen++].rva, value);
        } else if (strncmp(line, "    StartAddress:", 17) == 0) {
            const char *paren = strrchr(line, '(');
            assert_non_null(paren);
            assert_int_equal(sscanf(paren, "(0x%llx)", &value), 1);
            assert_true(functions_seen < function_count);
            assert_int_equal(image_base + f[functions_seen++].begin, value);
        }
    }
    assert_int_equal(pclose(out), 0);
    assert_int_equal(exports_seen, export_count);
    assert_int_equal(functions_seen, function_count);
    print_message("%s: %zu exports, %zu RUNTIME_FUNCTIONs match llvm-readobj\n", path,
                  export_count, function_count);
}

/* objdump -p lists "[i] +base[ordinal] rva Forwarder RVA -- DLL.Func". */
static void compare_forwarders_with_objdump(const dt_image *img, const char *path)
{
    char command[512], line[1024];
    snprintf(command, sizeof command, "x86_64-w64-mingw32-objdump -p '%s'", path);
    FILE *out = popen(command, "r");
    assert_non_null(out);
    size_t count, theirs = 0, ours = 0;
    const dt_image_export *e = dt_image_exports(img, &count);
    while (fgets(line, sizeof line, out)) {
        unsigned ordinal;
        char target[512];
        const char *mark = strstr(line, "Forwarder RVA -- ");
        if (!mark || sscanf(line, " [%*u] +base[%u]", &ordinal) != 1)
            continue;
        assert_int_equal(sscanf(mark + 17, "%511s", target), 1);
        theirs++;
        bool found = false;
        for (size_t i = 0; i < count && !found; i++)
            found = e[i].ordinal == ordinal && e[i].forwarder &&
                    strcmp(e[i].forwarder, target) == 0;
        if (!found)
            fail_msg("%s: ordinal %u forwarder %s not found", path, ordinal, target);
    }
    assert_int_equal(pclose(out), 0);
    for (size_t i = 0; i < count; i++)
        ours += e[i].forwarder != NULL;
    assert_int_equal(ours, theirs);
    print_message("%s: %zu forwarders match objdump\n", path, theirs);
}

static void test_wine_dlls_match_readobj(void **state)
{
    (void)state;
    static const char *const dlls[] = {"ntdll.dll", "kernel32.dll", "kernelbase.dll"};
    if (!tool_available("llvm-readobj-14") || !tool_available("x86_64-w64-mingw32-objdump"))
        skip();
    size_t checked = 0;
    for (size_t i = 0; i < sizeof dlls / sizeof dlls[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, WINE_DIR "%s", dlls[i]);
        if (access(path, R_OK) != 0)
            continue;
        dt_image *img = NULL;
        dt_error err = {0};
        if (dt_image_open_file(&img, path, &err) != DT_OK)
            fail_msg("%s", err.message);
        compare_with_readobj(img, path);
        compare_forwarders_with_objdump(img, path);
        assert_non_null(dt_image_section_by_name(img, ".debug_info"));
        dt_image_free(img);
        checked++;
    }
    if (checked == 0)
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pe32_plus_headers),
        cmocka_unit_test(test_pe32_headers),
        cmocka_unit_test(test_truncated_headers),
        cmocka_unit_test(test_bad_signatures),
        cmocka_unit_test(test_count_overflows),
        cmocka_unit_test(test_long_section_names),
        cmocka_unit_test(test_file_layout_translation),
        cmocka_unit_test(test_out_of_range_rvas),
        cmocka_unit_test(test_reads_stop_at_size_of_image),
        cmocka_unit_test(test_exports),
        cmocka_unit_test(test_broken_exports_keep_the_rest),
        cmocka_unit_test(test_runtime_functions),
        cmocka_unit_test(test_unsorted_pdata),
        cmocka_unit_test(test_pdata_only_for_amd64),
        cmocka_unit_test(test_codeview_rsds),
        cmocka_unit_test(test_codeview_nb10_by_file_offset),
        cmocka_unit_test(test_memory_image_with_missing_pages),
        cmocka_unit_test(test_memory_image_split_strings),
        cmocka_unit_test(test_memory_image_without_headers),
        cmocka_unit_test(test_wine_dlls_match_readobj),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
