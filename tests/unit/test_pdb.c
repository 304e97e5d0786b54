/*
 * Unit tests of the PDB provider on small MSF files built here with the
 * synthetic PDB writer (tests/synth/synth_pdb.h): a PDB info stream with
 * /names, empty TPI and IPI streams, a DBI stream with section headers and
 * one module, a module stream with procedures and C13 lines, and a publics
 * stream; spread over blocks of any size (the directory across blocks when
 * asked); then hostile variants of each structure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cursor.h"
#include "symbols/pdb_internal.h"
#include "synth_pdb.h"

/* ---- The streams of a small PDB ---- */

enum {
    ST_INFO = 1, ST_TPI = 2, ST_DBI = 3, ST_IPI = 4, ST_NIL = 5, ST_SECTIONS = 6, ST_MODULE = 7,
    ST_PUBLICS = 8, ST_SYMREC = 9, ST_NAMES = 10, ST_FILLER = 11, ST_OMAP_TO = 12,
    ST_OMAP_FROM = 13, ST_ORIG_SECTIONS = 14, ST_COUNT = 15,
};

enum { PSGSIHDR_SIZE = 28 }; /* the publics stream header, before the GSI hash */

static const uint8_t GUID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

typedef struct pdb_spec {
    uint32_t block_size;
    size_t filler;           /* bytes of an extra stream: spreads the directory */
    size_t extra_procs;      /* S_GPROC32 "f" at 1:0x60 (4 bytes), this many times */
    size_t extra_lines;      /* more CV_Line_t for ns::func, each offset 8 line 11 */
    size_t extra_modules;    /* more ModInfo records, without a stream */
    size_t extra_sections;   /* more (empty) section headers */
    size_t extra_contributions; /* more (zeroed) section contribution entries */
    bool omap;
    synth_buf streams[ST_COUNT];
    bool nil[ST_COUNT];
} pdb_spec;

/* PDB info: signature, age 9 (the DBI says 7), GUID, /names. */
static void build_info(synth_buf *b)
{
    synth_pdb_identity id = {.signature = 0x12345678, .age = 9};
    memcpy(id.guid, GUID, sizeof GUID);
    synth_pdb_info_stream(b, &id, ST_NAMES);
}

static void build_sections(synth_buf *b, uint32_t text_va, size_t extra)
{
    synth_pdb_section_header(b, ".text", text_va, 0x1000, 0);
    synth_pdb_section_header(b, ".data", 0x3000, 0x100, 0);
    for (size_t i = 0; i < extra; i++)
        synth_pdb_section_header(b, "", 0, 0, 0);
}

/* A procedure record without S_END. */
static size_t proc(synth_buf *b, uint16_t kind, uint32_t offset, uint32_t size, const char *name)
{
    synth_pdb_proc p = {.kind = kind, .segment = 1, .offset = offset, .code_size = size,
                        .debug_end = size, .type = 0x1000, .name = name};
    return synth_pdb_sym_proc(b, &p);
}

/* Module stream: S_GPROC32 "ns::func" at 1:0x10 (0x20 bytes), S_END,
 * S_LPROC32_ID "helper" at 1:0x40 (0x10 bytes), then C13: file checksums
 * (the file named at `file` in /names) and one DEBUG_S_LINES block for
 * ns::func: offset 0 line 10, offset 8 line 11 (and the extra lines). */
static uint32_t build_module(synth_buf *b, uint32_t *c13_size, uint32_t file,
                             const pdb_spec *spec)
{
    synth_pdb_module_begin(b);
    synth_pdb_sym_end(b, proc(b, SYNTH_S_GPROC32, 0x10, 0x20, "ns::func"));
    proc(b, SYNTH_S_LPROC32_ID, 0x40, 0x10, "helper");
    for (size_t i = 0; i < spec->extra_procs; i++)
        proc(b, SYNTH_S_GPROC32, 0x60, 4, "f");
    uint32_t symbols = (uint32_t)b->size;
    synth_pdb_source source = {.name = file};
    uint32_t file_id;
    synth_pdb_c13_checksums(b, &source, 1, &file_id);
    size_t count = 2 + spec->extra_lines;
    synth_pdb_line *lines = calloc(count, sizeof *lines);
    assert_non_null(lines);
    lines[0] = (synth_pdb_line){0, 10};
    for (size_t i = 1; i < count; i++)
        lines[i] = (synth_pdb_line){8, 11};
    synth_pdb_c13_lines(b, 1, 0x10, 0x20, file_id, lines, count);
    free(lines);
    *c13_size = synth_pdb_module_end(b, symbols);
    return symbols;
}

static void build_publics(synth_buf *publics, synth_buf *symrec)
{
    static const synth_pdb_public list[] = {
        {.segment = 1, .offset = 0x80, .flags = 2, .name = "?Cleanup@UL_APP_POOL@@QEAAXXZ"},
        {.segment = 2, .offset = 0x10, .flags = 2, .name = "_data_thing"},
    };
    synth_pdb_publics(publics, symrec, list, sizeof list / sizeof list[0]);
}

/* /names with one file; returns its offset. */
static uint32_t build_names(synth_buf *b)
{
    synth_pdb_names names;
    synth_pdb_names_init(&names);
    uint32_t file = synth_pdb_names_add(&names, "c:\\src\\a.cpp");
    synth_pdb_names_stream(b, &names);
    synth_pdb_names_free(&names);
    return file;
}

/* DBI: ModInfo "a.obj" contributing 1:0..0x100 with its symbols in
 * ST_MODULE (and `extra_modules` like it without a stream), that
 * contribution (and `extra_contributions` zeroed ones), the optional debug
 * header: section headers; OMAP streams and original headers if asked. */
static void build_dbi(synth_buf *b, uint32_t symbols, uint32_t c13, const pdb_spec *spec)
{
    synth_pdb_contribution text = {.segment = 1, .size = 0x100, .characteristics = 0x60000020};
    size_t modules = 1 + spec->extra_modules, contributions = 1 + spec->extra_contributions;
    synth_pdb_module_info *infos = calloc(modules, sizeof *infos);
    synth_pdb_contribution *entries = calloc(contributions, sizeof *entries);
    assert_true(infos && entries);
    static const char *const sources[] = {"c:\\src\\a.cpp"};
    infos[0] = (synth_pdb_module_info){"a.obj", "a.obj", ST_MODULE, symbols, c13, sources, 1,
                                       text};
    for (size_t i = 1; i < modules; i++)
        infos[i] = (synth_pdb_module_info){"a.obj", "a.obj", SYNTH_PDB_NO_STREAM, 0, 0, sources,
                                           1, text};
    entries[0] = text;
    synth_pdb_dbi d;
    synth_pdb_dbi_init(&d);
    d.age = 7;
    d.publics_stream = ST_PUBLICS;
    d.records_stream = ST_SYMREC;
    d.modules = infos, d.module_count = modules;
    d.contributions = entries, d.contribution_count = contributions;
    d.debug_streams[SYNTH_PDB_DEBUG_SECTION_HEADERS] = ST_SECTIONS;
    if (spec->omap) {
        d.debug_streams[SYNTH_PDB_DEBUG_OMAP_TO_SRC] = ST_OMAP_TO;
        d.debug_streams[SYNTH_PDB_DEBUG_OMAP_FROM_SRC] = ST_OMAP_FROM;
        d.debug_streams[SYNTH_PDB_DEBUG_ORIGINAL_SECTION_HEADERS] = ST_ORIG_SECTIONS;
    }
    synth_pdb_dbi_stream(b, &d);
    free(infos);
    free(entries);
}

/* OMAP: image .text at 0x5000 holds source .text (0x1000) unchanged. */
static void build_omap(pdb_spec *spec)
{
    static const uint32_t to[] = {0x5000, 0x1000, 0x6000, 0};
    static const uint32_t from[] = {0x1000, 0x5000, 0x2000, 0};
    for (size_t i = 0; i < 4; i++) {
        synth_buf_u32(&spec->streams[ST_OMAP_TO], to[i]);
        synth_buf_u32(&spec->streams[ST_OMAP_FROM], from[i]);
    }
    build_sections(&spec->streams[ST_ORIG_SECTIONS], 0x1000, 0);
}

/* An empty type stream (header only) for TPI or IPI. */
static void build_types(synth_buf *b)
{
    synth_pdb_types types;
    synth_pdb_types_init(&types);
    synth_pdb_types_finish(&types);
    *b = types.stream;
}

static void build_streams(pdb_spec *spec)
{
    uint32_t c13 = 0;
    for (int i = 0; i < ST_COUNT; i++)
        synth_buf_init(&spec->streams[i]);
    build_info(&spec->streams[ST_INFO]);
    build_types(&spec->streams[ST_TPI]);
    build_types(&spec->streams[ST_IPI]);
    uint32_t file = build_names(&spec->streams[ST_NAMES]);
    uint32_t symbols = build_module(&spec->streams[ST_MODULE], &c13, file, spec);
    build_dbi(&spec->streams[ST_DBI], symbols, c13, spec);
    build_sections(&spec->streams[ST_SECTIONS], spec->omap ? 0x5000 : 0x1000,
                   spec->extra_sections);
    build_publics(&spec->streams[ST_PUBLICS], &spec->streams[ST_SYMREC]);
    for (size_t i = 0; i < spec->filler; i++)
        synth_buf_u8(&spec->streams[ST_FILLER], (uint8_t)i);
    if (spec->omap)
        build_omap(spec);
    spec->nil[ST_NIL] = true;
}

static synth_buf build_pdb_spec(pdb_spec *spec)
{
    build_streams(spec);
    synth_msf_stream streams[ST_COUNT];
    for (int i = 0; i < ST_COUNT; i++)
        streams[i] = (synth_msf_stream){spec->streams[i].data, spec->streams[i].size,
                                        spec->nil[i], 0};
    synth_buf file;
    synth_buf_init(&file);
    synth_msf_build(streams, ST_COUNT, spec->block_size, &file);
    for (int i = 0; i < ST_COUNT; i++)
        synth_buf_free(&spec->streams[i]);
    return file;
}

static synth_buf build_pdb(uint32_t block_size, size_t filler, bool omap)
{
    pdb_spec spec = {.block_size = block_size, .filler = filler, .omap = omap};
    return build_pdb_spec(&spec);
}

static dt_pdb *open_buf(const synth_buf *file)
{
    dt_pdb *pdb = NULL;
    dt_error err;
    dt_status st = dt_pdb_open_bytes(&pdb, file->data, file->size, "test.pdb", &err);
    if (st != DT_OK)
        print_message("%s\n", err.message);
    assert_int_equal(st, DT_OK);
    return pdb;
}

static dt_status open_status(const synth_buf *file, dt_error *err)
{
    dt_pdb *pdb = NULL;
    dt_status st = dt_pdb_open_bytes(&pdb, file->data, file->size, "test.pdb", err);
    dt_pdb_free(pdb);
    return st;
}
/* ---- Well-formed files ---- */

static void expect_symbols(dt_pdb *pdb, uint32_t text)
{
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, text + 0x10, &s));
    assert_string_equal(s.function, "ns::func");
    assert_int_equal(s.function_rva, text + 0x10);
    assert_int_equal(s.function_size, 0x20);
    assert_string_equal(s.file, "c:\\src\\a.cpp");
    assert_int_equal(s.line, 10);
    assert_true(dt_pdb_lookup(pdb, text + 0x19, &s));
    assert_int_equal(s.line, 11);
    assert_true(dt_pdb_lookup(pdb, text + 0x4F, &s));
    assert_string_equal(s.function, "helper");
    assert_null(s.file);
    assert_true(dt_pdb_lookup(pdb, text + 0x85, &s));
    assert_string_equal(s.function, "UL_APP_POOL::Cleanup");
    assert_int_equal(s.function_rva, text + 0x80);
    assert_int_equal(s.function_size, 0);
}

static void test_block_sizes(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {512, 1024, 4096, 32768};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        synth_buf file = build_pdb(sizes[i], 0, false);
        dt_pdb *pdb = open_buf(&file);
        expect_symbols(pdb, 0x1000);
        dt_symbol s;
        assert_true(dt_pdb_lookup(pdb, 0x3014, &s));
        assert_string_equal(s.function, "_data_thing");
        assert_false(dt_pdb_lookup(pdb, 0x9000, &s));
        size_t n;
        dt_pdb_diagnostics(pdb, &n);
        assert_int_equal(n, 0);
        dt_pdb_free(pdb);
        synth_buf_free(&file);
    }
}

static void test_identity(void **state)
{
    (void)state;
    synth_buf file = build_pdb(1024, 0, false);
    dt_pdb *pdb = open_buf(&file);
    uint8_t guid[16];
    uint32_t age;
    assert_true(dt_pdb_identity(pdb, guid, &age));
    assert_memory_equal(guid, GUID, 16);
    assert_int_equal(age, 7); /* the DBI age, not the info stream's 9 */
    dt_codeview cv = {.kind = DT_CV_RSDS, .age = 7};
    memcpy(cv.guid, GUID, 16);
    assert_true(dt_pdb_matches(pdb, &cv));
    cv.age = 9;
    assert_false(dt_pdb_matches(pdb, &cv));
    cv.age = 7, cv.guid[0] ^= 1;
    assert_false(dt_pdb_matches(pdb, &cv));
    /* Identity reads the info stream and 64 DBI header bytes only. */
    assert_null(pdb->streams[ST_DBI].data);
    assert_null(pdb->streams[ST_MODULE].data);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

static void test_directory_across_blocks(void **state)
{
    (void)state;
    synth_buf file = build_pdb(512, 256 * 1024, false); /* 512 blocks: a 2 KiB+ directory */
    dt_pdb *pdb = open_buf(&file);
    assert_true(pdb->directory_size > 4 * 512);
    expect_symbols(pdb, 0x1000);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

static void test_lazy_streams(void **state)
{
    (void)state;
    synth_buf file = build_pdb(1024, 4096, false);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x3014, &s)); /* no module covers .data */
    assert_null(pdb->streams[ST_MODULE].data);
    assert_null(pdb->streams[ST_FILLER].data);
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s));
    assert_non_null(pdb->streams[ST_MODULE].data);
    assert_null(pdb->streams[ST_FILLER].data);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

static void test_omap(void **state)
{
    (void)state;
    synth_buf file = build_pdb(1024, 0, true);
    dt_pdb *pdb = open_buf(&file);
    expect_symbols(pdb, 0x5000);
    dt_symbol s;
    assert_false(dt_pdb_lookup(pdb, 0x1010, &s)); /* unmapped in the image */
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

static void test_undecorate(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"?Cleanup@UL_APP_POOL@@QEAAXXZ", "UL_APP_POOL::Cleanup"},
        {"??0X@@QEAA@XZ", "X::X"},
        {"??1X@@UEAA@XZ", "X::~X"},
        {"??_GX@@UEAAPEAXI@Z", "X::`scalar deleting destructor'"},
        {"??2@YAPEAX_K@Z", "operator new"},
        {"?f@?A0x1234abcd@ns@@YAXXZ", "ns::`anonymous namespace'::f"},
        {"??0?$vector@HV?$allocator@H@std@@@std@@QEAA@XZ",
         "std::vector<int, class std::allocator<int>>::vector<int, class std::allocator<int>>"},
        {"?g@?$A@PEBD@1@QEAAXXZ", "A<char const *>::A<char const *>::g"},
        {"??$f@P6AHH@Z@@YAXXZ", "f<int (__cdecl *)(int)>"},
        {"?x@?1??f@@YAXXZ@4HA", "`f'::`2'::x"},
        {"??_7X@@6B@", "X::`vftable'"},
        {"??BX@@QEAAHXZ", "X::operator int"},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(dt_undecorate_msvc(cases[i][0], out, sizeof out));
        assert_string_equal(out, cases[i][1]);
    }
    static const char *const left_as_is[] = {"_main", "@fastcall@8", "main", "?", "?x", "??$"};
    for (size_t i = 0; i < sizeof left_as_is / sizeof left_as_is[0]; i++) {
        assert_false(dt_undecorate_msvc(left_as_is[i], out, sizeof out));
        assert_string_equal(out, left_as_is[i]);
    }
    assert_false(dt_undecorate_msvc("?Cleanup@UL_APP_POOL@@QEAAXXZ", out, 8));
    assert_string_equal(out, "?Cleanu");
}

static void test_undecorate_bounds(void **state)
{
    (void)state;
    char name[4200], out[64];
    memset(name, 0, sizeof name);
    name[0] = '?';
    for (size_t i = 1; i + 3 < 400; i += 2)
        memcpy(name + i, "?$", 2); /* nested templates past the depth bound */
    assert_false(dt_undecorate_msvc(name, out, sizeof out));
    memset(name + 1, 'a', sizeof name - 2); /* longer than the input cap */
    assert_false(dt_undecorate_msvc(name, out, sizeof out));
    assert_int_equal(strlen(out), sizeof out - 1);
}

/* ---- Hostile files ---- */

static void test_refused_formats(void **state)
{
    (void)state;
    dt_error err;
    synth_buf file = build_pdb(1024, 0, false);
    synth_buf short_file = {file.data, 40, 40};
    assert_int_equal(open_status(&short_file, &err), DT_ERR_FORMAT);
    assert_non_null(strstr(err.message, "superblock"));
    static const char msf2[] = "Microsoft C/C++ program database 2.00\r\n\x1aJG\0\0";
    synth_buf old = {(uint8_t *)msf2, sizeof msf2, sizeof msf2};
    assert_int_equal(open_status(&old, &err), DT_ERR_UNSUPPORTED);
    synth_buf portable = {(uint8_t *)"BSJB\1\0\1\0\0\0\0\0", 12, 12};
    assert_int_equal(open_status(&portable, &err), DT_ERR_UNSUPPORTED);
    synth_buf_patch_u32(&file, 0x20, 1000); /* not a power of two */
    assert_int_equal(open_status(&file, &err), DT_ERR_FORMAT);
    assert_true(err.has_offset && err.offset == 0x20);
    synth_buf_free(&file);
}

static void test_directory_past_eof(void **state)
{
    (void)state;
    dt_error err;
    synth_buf file = build_pdb(1024, 0, false);
    synth_buf_patch_u32(&file, 0x34, 99999); /* block map block */
    assert_int_equal(open_status(&file, &err), DT_ERR_FORMAT);
    assert_non_null(strstr(err.message, "block map"));
    synth_buf_free(&file);
    file = build_pdb(1024, 0, false);
    synth_buf_patch_u32(&file, 0x2C, 0x7FFFFFFF); /* directory bytes */
    assert_int_equal(open_status(&file, &err), DT_ERR_FORMAT);
    synth_buf_free(&file);
}

/* Directory of the built file, for patching stream sizes and blocks. */
static size_t directory_at(const synth_buf *file)
{
    uint32_t bs = dt_le32(file->data + 0x20);
    uint32_t map = dt_le32(file->data + 0x34);
    return (size_t)dt_le32(file->data + (size_t)map * bs) * bs;
}

static void test_stream_counts_and_sizes(void **state)
{
    (void)state;
    dt_error err;
    synth_buf file = build_pdb(1024, 0, false);
    size_t dir = directory_at(&file);
    synth_buf_patch_u32(&file, dir, 0x0FFFFFFF); /* NumStreams */
    assert_int_equal(open_status(&file, &err), DT_ERR_LIMIT);
    synth_buf_patch_u32(&file, dir, ST_COUNT);
    /* A stream size whose block list overflows. */
    synth_buf_patch_u32(&file, dir + 4 + 4 * ST_DBI, 0xFFFFFFF0u);
    assert_int_equal(open_status(&file, &err), DT_ERR_FORMAT);
    assert_non_null(strstr(err.message, "stream 3"));
    synth_buf_free(&file);
}

static void test_block_index_out_of_range(void **state)
{
    (void)state;
    synth_buf file = build_pdb(1024, 0, false);
    size_t dir = directory_at(&file);
    /* The DBI stream's first block: after NumStreams, sizes, and the block
     * lists of streams 0..2. */
    size_t list = dir + 4 + 4 * ST_COUNT;
    for (int i = 0; i < ST_DBI; i++)
        list += 4 * ((dt_le32(file.data + dir + 4 + 4 * i) + 1023) / 1024);
    synth_buf_patch_u32(&file, list, 0x00FFFFFF);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_false(dt_pdb_lookup(pdb, 0x1010, &s));
    size_t n;
    const dt_diagnostic *d = dt_pdb_diagnostics(pdb, &n);
    assert_true(n >= 1);
    assert_non_null(strstr(d[0].message, "block 0 of stream 3 is past the end"));
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

/* Finds `needle` in the file (a record built above). */
static size_t find(const synth_buf *file, const void *needle, size_t n)
{
    for (size_t i = 0; i + n <= file->size; i++)
        if (memcmp(file->data + i, needle, n) == 0)
            return i;
    fail_msg("pattern not found");
    return 0;
}

static void test_bad_record_lengths(void **state)
{
    (void)state;
    synth_buf file = build_pdb(1024, 0, false);
    /* The S_GPROC32 record starts 0x27 bytes before its name. */
    size_t name = find(&file, "ns::func", 8);
    file.data[name - 0x27] = 1; /* RecordLength 1: below the minimum */
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1085, &s)); /* publics still answer */
    assert_string_equal(s.function, "UL_APP_POOL::Cleanup");
    assert_false(dt_pdb_lookup(pdb, 0x1010, &s)); /* no procedure, no public below */
    size_t n;
    const dt_diagnostic *d = dt_pdb_diagnostics(pdb, &n);
    assert_true(n >= 1);
    assert_non_null(strstr(d[0].message, "bad record length"));
    assert_true(d[0].has_offset);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

static void test_bad_publics_and_lines(void **state)
{
    (void)state;
    synth_buf file = build_pdb(1024, 0, false);
    /* The address map's entries, after the GSI hash (PSGSIHDR.cbSymHash
     * bytes from its header): point the first one past the records. */
    static const uint8_t hash_header[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x1A, 0x09, 0x2F, 0xF1};
    size_t hash = find(&file, hash_header, sizeof hash_header);
    size_t map = hash + dt_le32(file.data + hash - PSGSIHDR_SIZE);
    synth_buf_patch_u32(&file, map, 0x7FFFFFF0);
    /* The DEBUG_S_LINES block claims a billion lines. */
    static const uint8_t lines_block[] = {0, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0};
    size_t block = find(&file, lines_block, sizeof lines_block);
    synth_buf_patch_u32(&file, block + 4, 1000000000);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s));
    assert_string_equal(s.function, "ns::func");
    assert_null(s.file);
    assert_false(dt_pdb_lookup(pdb, 0x1085, &s) && s.function_size == 0 &&
                 strcmp(s.function, "UL_APP_POOL::Cleanup") == 0);
    size_t n;
    dt_pdb_diagnostics(pdb, &n);
    assert_int_equal(n, 2);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

static void test_truncations(void **state)
{
    (void)state;
    synth_buf file = build_pdb(512, 0, false);
    for (size_t cut = 0; cut < file.size; cut += 97) {
        dt_pdb *pdb = NULL;
        if (dt_pdb_open_bytes(&pdb, file.data, cut, "cut.pdb", NULL) != DT_OK)
            continue;
        dt_symbol s;
        uint32_t age;
        dt_pdb_identity(pdb, NULL, &age);
        for (uint32_t rva = 0x1000; rva < 0x1100; rva += 8)
            dt_pdb_lookup(pdb, rva, &s);
        dt_pdb_free(pdb);
    }
    synth_buf_free(&file);
}

static void test_arguments(void **state)
{
    (void)state;
    dt_pdb *pdb = (dt_pdb *)1;
    dt_error err;
    assert_int_equal(dt_pdb_open(&pdb, NULL, &err), DT_ERR_ARGUMENT);
    assert_null(pdb);
    assert_int_equal(dt_pdb_open(&pdb, "/nonexistent/x.pdb", &err), DT_ERR_IO);
    dt_pdb_free(NULL);
    dt_symbol s;
    assert_false(dt_pdb_lookup(NULL, 0, &s));
    assert_false(dt_pdb_identity(NULL, NULL, NULL));
    assert_false(dt_pdb_matches(NULL, NULL));
}

/* ---- Resource bounds ---- */

/* Counts the diagnostics whose message contains `needle`. */
static size_t count_diags(const dt_pdb *pdb, const char *needle)
{
    size_t n, found = 0;
    const dt_diagnostic *d = dt_pdb_diagnostics(pdb, &n);
    for (size_t i = 0; i < n; i++)
        found += strstr(d[i].message, needle) != NULL;
    return found;
}

/* The directory of a file built above: per stream its size and block list. */
typedef struct msf_directory {
    uint32_t sizes[ST_COUNT];
    synth_buf blocks[ST_COUNT];
} msf_directory;

static void read_directory(const synth_buf *file, msf_directory *out)
{
    uint32_t bs = dt_le32(file->data + 0x20);
    size_t at = directory_at(file) + 4 + 4 * ST_COUNT;
    for (int i = 0; i < ST_COUNT; i++) {
        uint32_t size = dt_le32(file->data + directory_at(file) + 4 + 4 * i);
        out->sizes[i] = size;
        synth_buf_init(&out->blocks[i]);
        for (uint32_t n = size == 0xFFFFFFFFu ? 0 : (size + bs - 1) / bs; n > 0; n--, at += 4)
            synth_buf_bytes(&out->blocks[i], file->data + at, 4);
    }
}

/* Appends `dir` and its block map to the file and points the superblock at
 * them (the map blocks listed from offset 0x34). */
static void append_directory(synth_buf *file, const synth_buf *dir)
{
    uint32_t bs = dt_le32(file->data + 0x20);
    synth_buf map;
    synth_buf_init(&map);
    for (size_t off = 0; off < dir->size; off += bs) {
        synth_buf_u32(&map, (uint32_t)(file->size / bs));
        synth_buf_bytes(file, dir->data + off, dir->size - off < bs ? dir->size - off : bs);
        synth_buf_align(file, bs, 0);
    }
    for (size_t off = 0; off < map.size; off += bs) {
        assert_true(0x34 + 4 * (off / bs) + 4 <= bs);
        synth_buf_patch_u32(file, 0x34 + 4 * (off / bs), (uint32_t)(file->size / bs));
        synth_buf_bytes(file, map.data + off, map.size - off < bs ? map.size - off : bs);
        synth_buf_align(file, bs, 0);
    }
    synth_buf_patch_u32(file, 0x28, (uint32_t)(file->size / bs));
    synth_buf_patch_u32(file, 0x2C, (uint32_t)dir->size);
    synth_buf_free(&map);
}

/* Writes `dir` (and frees its block lists) as the file's new directory. */
static void replace_directory(synth_buf *file, msf_directory *dir)
{
    synth_buf bytes;
    synth_buf_init(&bytes);
    synth_buf_u32(&bytes, ST_COUNT);
    for (int i = 0; i < ST_COUNT; i++)
        synth_buf_u32(&bytes, dir->sizes[i]);
    for (int i = 0; i < ST_COUNT; i++) {
        synth_buf_bytes(&bytes, dir->blocks[i].data, dir->blocks[i].size);
        synth_buf_free(&dir->blocks[i]);
    }
    append_directory(file, &bytes);
    synth_buf_free(&bytes);
}

/* The file with `count` streams: its own, then empty ones. */
static synth_buf with_stream_count(uint32_t count)
{
    synth_buf file = build_pdb(4096, 0, false);
    msf_directory old;
    read_directory(&file, &old);
    synth_buf dir;
    synth_buf_init(&dir);
    synth_buf_u32(&dir, count);
    for (uint32_t i = 0; i < count; i++)
        synth_buf_u32(&dir, i < ST_COUNT ? old.sizes[i] : 0);
    for (int i = 0; i < ST_COUNT; i++) {
        synth_buf_bytes(&dir, old.blocks[i].data, old.blocks[i].size);
        synth_buf_free(&old.blocks[i]);
    }
    append_directory(&file, &dir);
    synth_buf_free(&dir);
    return file;
}

/* A directory that holds PDB_MAX_STREAMS + 1 stream sizes is refused with
 * DT_ERR_LIMIT; one that holds PDB_MAX_STREAMS is read. */
static void test_stream_cap(void **state)
{
    (void)state;
    dt_error err;
    synth_buf at_cap = with_stream_count(PDB_MAX_STREAMS);
    dt_pdb *pdb = open_buf(&at_cap);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s));
    dt_pdb_free(pdb);
    synth_buf_free(&at_cap);
    synth_buf past_cap = with_stream_count(PDB_MAX_STREAMS + 1);
    assert_int_equal(open_status(&past_cap, &err), DT_ERR_LIMIT);
    assert_non_null(strstr(err.message, "exceeds the cap of 1048576"));
    synth_buf_free(&past_cap);
}

/* Streams whose block lists repeat one block, each nearly as large as the
 * file: copying them all would take about seven times the file size, and
 * copies stop at four times, with a diagnostic. */
static void test_read_budget(void **state)
{
    (void)state;
    static const int read[] = {ST_INFO, ST_DBI, ST_SECTIONS, ST_MODULE, ST_PUBLICS, ST_SYMREC,
                               ST_NAMES};
    synth_buf file = build_pdb(1024, 0, false);
    uint32_t file_blocks = (uint32_t)(file.size / 1024);
    msf_directory dir;
    read_directory(&file, &dir);
    for (size_t k = 0; k < sizeof read / sizeof read[0]; k++) {
        synth_buf *blocks = &dir.blocks[read[k]];
        uint32_t first = dt_le32(blocks->data);
        for (size_t n = blocks->size / 4; n < file_blocks; n++)
            synth_buf_u32(blocks, first);
        dir.sizes[read[k]] = file_blocks * 1024;
    }
    replace_directory(&file, &dir);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s)); /* streams read before the budget ran out */
    assert_string_equal(s.function, "ns::func");
    dt_pdb_lookup(pdb, 0x1085, &s);
    assert_true(count_diags(pdb, "exceeds the file or the read budget") >= 1);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

/* A publics address map (PSGSIHDR.cbAddrMap) of PDB_MAX_PUBLICS + 1
 * entries, past the first block all 0xFFFFFFFF: read up to the cap. */
static void test_publics_cap(void **state)
{
    (void)state;
    enum { BS = 4096 };
    synth_buf file = build_pdb(BS, 0, false);
    msf_directory dir;
    read_directory(&file, &dir);
    uint32_t header = dt_le32(dir.blocks[ST_PUBLICS].data);
    /* The map follows PSGSIHDR and the GSI hash (cbSymHash bytes). */
    uint32_t map_at = PSGSIHDR_SIZE + dt_le32(file.data + (size_t)header * BS);
    uint32_t size = map_at + 4u * (PDB_MAX_PUBLICS + 1);
    synth_buf_patch_u32(&file, (size_t)header * BS + 4, size - map_at);
    dir.sizes[ST_PUBLICS] = size;
    for (uint32_t n = 1; n < (size + BS - 1) / BS; n++) {
        synth_buf_u32(&dir.blocks[ST_PUBLICS], (uint32_t)(file.size / BS));
        for (int k = 0; k < BS; k++)
            synth_buf_u8(&file, 0xFF);
    }
    replace_directory(&file, &dir);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1085, &s));
    assert_string_equal(s.function, "UL_APP_POOL::Cleanup");
    assert_int_equal(count_diags(pdb, "4194305 entries exceed the cap of 4194304"), 1);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

/* Builds `spec` past one or two caps: ns::func and its first line are still
 * found, and each cap has one diagnostic. */
static void expect_capped(pdb_spec spec, const char *diagnostic, const char *another)
{
    synth_buf file = build_pdb_spec(&spec);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s));
    assert_string_equal(s.function, "ns::func");
    assert_int_equal(s.line, 10);
    assert_int_equal(count_diags(pdb, diagnostic), 1);
    if (another)
        assert_int_equal(count_diags(pdb, another), 1);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

/* A module stream with one procedure more than PDB_MAX_PROCS_PER_MODULE. */
static void test_procedure_cap(void **state)
{
    (void)state;
    expect_capped((pdb_spec){.block_size = 4096, .extra_procs = PDB_MAX_PROCS_PER_MODULE - 1},
                  "1048577 procedures exceed the cap of 1048576", NULL);
}

/* A DEBUG_S_LINES block of PDB_MAX_LINES_PER_MODULE + 1 entries. */
static void test_line_cap(void **state)
{
    (void)state;
    expect_capped((pdb_spec){.block_size = 4096, .extra_lines = PDB_MAX_LINES_PER_MODULE - 1},
                  "more than 4194304 line entries", NULL);
}

/* PDB_MAX_MODULES + 1 ModInfo records and PDB_MAX_SECTIONS + 1 section
 * headers. */
static void test_module_and_section_caps(void **state)
{
    (void)state;
    expect_capped((pdb_spec){.block_size = 4096, .extra_modules = PDB_MAX_MODULES,
                             .extra_sections = PDB_MAX_SECTIONS - 1},
                  "more than 65535 modules", "65536 headers exceed the cap of 65535");
}

/* 2^22 + 1 section contributions (117 MB). */
static void test_contribution_cap(void **state)
{
    (void)state;
    expect_capped((pdb_spec){.block_size = 4096, .extra_contributions = PDB_MAX_CONTRIBUTIONS},
                  "4194305 entries exceed the cap of 4194304", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_sizes),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_directory_across_blocks),
        cmocka_unit_test(test_lazy_streams),
        cmocka_unit_test(test_omap),
        cmocka_unit_test(test_undecorate),
        cmocka_unit_test(test_undecorate_bounds),
        cmocka_unit_test(test_refused_formats),
        cmocka_unit_test(test_directory_past_eof),
        cmocka_unit_test(test_stream_counts_and_sizes),
        cmocka_unit_test(test_block_index_out_of_range),
        cmocka_unit_test(test_bad_record_lengths),
        cmocka_unit_test(test_bad_publics_and_lines),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_stream_cap),
        cmocka_unit_test(test_read_budget),
        cmocka_unit_test(test_publics_cap),
        cmocka_unit_test(test_procedure_cap),
        cmocka_unit_test(test_line_cap),
        cmocka_unit_test(test_module_and_section_caps),
        cmocka_unit_test(test_contribution_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
