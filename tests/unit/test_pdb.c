/*
 * Unit tests of the PDB provider on small MSF files built here: a
 * superblock, a directory (across blocks when asked), a PDB info stream
 * with /names, a DBI stream with section headers and one module, a module
 * stream with procedures and C13 lines, and a publics stream; then hostile
 * variants of each structure.
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

/* ---- Byte buffers ---- */

typedef struct buf {
    uint8_t *data;
    size_t size;
    size_t capacity;
} buf;

static void put(buf *b, const void *bytes, size_t n)
{
    if (n == 0)
        return; /* bytes may be NULL */
    if (b->size + n > b->capacity) {
        b->capacity = 2 * (b->size + n);
        b->data = realloc(b->data, b->capacity);
        assert_non_null(b->data);
    }
    memcpy(b->data + b->size, bytes, n);
    b->size += n;
}

static void u8(buf *b, uint8_t v) { put(b, &v, 1); }
static void u16(buf *b, uint16_t v) { uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)}; put(b, x, 2); }
static void u32(buf *b, uint32_t v) { u16(b, (uint16_t)v); u16(b, (uint16_t)(v >> 16)); }
static void str(buf *b, const char *s) { put(b, s, strlen(s) + 1); }
static void align4(buf *b) { while (b->size % 4) u8(b, 0); }
static void set32(buf *b, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->data[at + i] = (uint8_t)(v >> (8 * i));
}

/* ---- The streams of a small PDB ---- */

enum {
    ST_INFO = 1, ST_DBI = 3, ST_NIL = 5, ST_SECTIONS = 6, ST_MODULE = 7, ST_PUBLICS = 8,
    ST_SYMREC = 9, ST_NAMES = 10, ST_FILLER = 11, ST_OMAP_TO = 12, ST_OMAP_FROM = 13,
    ST_ORIG_SECTIONS = 14, ST_COUNT = 15,
};

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
    buf streams[ST_COUNT];
    bool nil[ST_COUNT];
} pdb_spec;

/* PDB info: Version, Signature, Age, Guid, named stream map {"/names"}. */
static void build_info(buf *b)
{
    u32(b, 20000404); u32(b, 0x12345678); u32(b, 9); put(b, GUID, 16);
    u32(b, 7); str(b, "/names"); /* string buffer */
    u32(b, 1); u32(b, 1);       /* hash table size, capacity */
    u32(b, 1); u32(b, 1);       /* present bit vector: bucket 0 */
    u32(b, 0);                  /* deleted bit vector: empty */
    u32(b, 0); u32(b, ST_NAMES);
}

static void section_header(buf *b, const char *name, uint32_t va, uint32_t size)
{
    char n[8] = {0};
    memcpy(n, name, strlen(name));
    put(b, n, 8); u32(b, size); u32(b, va); u32(b, size);
    for (int i = 0; i < 5; i++)
        u32(b, 0);
}

static void build_sections(buf *b, uint32_t text_va, size_t extra)
{
    section_header(b, ".text", text_va, 0x1000);
    section_header(b, ".data", 0x3000, 0x100);
    for (size_t i = 0; i < extra; i++)
        section_header(b, "", 0, 0);
}

/* Module stream: signature 4, S_GPROC32 "ns::func" at 1:0x10 (0x20 bytes),
 * S_END, S_LPROC32_ID "helper" at 1:0x40 (0x10 bytes), then C13: file
 * checksums and one DEBUG_S_LINES block for ns::func. */
static void proc(buf *b, uint16_t kind, uint32_t offset, uint32_t size, const char *name)
{
    size_t start = b->size;
    u16(b, 0); u16(b, kind);
    u32(b, 0); u32(b, 0); u32(b, 0); u32(b, size); u32(b, 0); u32(b, size); u32(b, 0x1000);
    u32(b, offset); u16(b, 1); u8(b, 0); str(b, name);
    align4(b);
    b->data[start] = (uint8_t)(b->size - start - 2);
}

static uint32_t build_module(buf *b, uint32_t *c13_size, size_t extra_procs,
                             size_t extra_lines)
{
    u32(b, 4);
    proc(b, 0x1110, 0x10, 0x20, "ns::func");
    u16(b, 2); u16(b, 0x0006); /* S_END */
    proc(b, 0x1146, 0x40, 0x10, "helper");
    for (size_t i = 0; i < extra_procs; i++)
        proc(b, 0x1110, 0x60, 4, "f");
    uint32_t symbols = (uint32_t)b->size;
    size_t c13 = b->size;
    u32(b, 0xF4); u32(b, 8); u32(b, 1); u8(b, 0); u8(b, 0); u16(b, 0);
    uint32_t lines = (uint32_t)(2 + extra_lines);
    u32(b, 0xF2); u32(b, 12 + 12 + 8 * lines);
    u32(b, 0x10); u16(b, 1); u16(b, 0); u32(b, 0x20);
    u32(b, 0); u32(b, lines); u32(b, 12 + 8 * lines);
    u32(b, 0x0); u32(b, 10 | 0x80000000u);
    for (uint32_t i = 1; i < lines; i++) {
        u32(b, 0x8); u32(b, 11 | 0x80000000u);
    }
    *c13_size = (uint32_t)(b->size - c13);
    return symbols;
}

/* S_PUB32 records; the publics stream's address map points at them. */
static void pub32(buf *b, uint32_t offset, uint16_t seg, const char *name)
{
    size_t start = b->size;
    u16(b, 0); u16(b, 0x110E); u32(b, 2); u32(b, offset); u16(b, seg); str(b, name);
    align4(b);
    b->data[start] = (uint8_t)(b->size - start - 2);
}

static void build_publics(buf *publics, buf *symrec)
{
    uint32_t first = (uint32_t)symrec->size;
    pub32(symrec, 0x80, 1, "?Cleanup@UL_APP_POOL@@QEAAXXZ");
    uint32_t second = (uint32_t)symrec->size;
    pub32(symrec, 0x10, 2, "_data_thing");
    u32(publics, 16); u32(publics, 8); /* cbSymHash, cbAddrMap */
    for (int i = 0; i < 5; i++)
        u32(publics, 0);
    u32(publics, 0xFFFFFFFF); u32(publics, 0xF12F091A); u32(publics, 0); u32(publics, 0);
    u32(publics, first); u32(publics, second);
}

static void build_names(buf *b)
{
    static const char strings[] = "\0c:\\src\\a.cpp";
    u32(b, 0xEFFEEFFE); u32(b, 1); u32(b, sizeof strings);
    put(b, strings, sizeof strings);
    u32(b, 0);
}

/* ModInfo "a.obj" contributing 1:0..0x100, its symbols in `stream`. */
static void mod_info(buf *mod, uint16_t stream, uint32_t symbols, uint32_t c13)
{
    u32(mod, 0);
    u16(mod, 1); u16(mod, 0); u32(mod, 0); u32(mod, 0x100); u32(mod, 0x60000020);
    u16(mod, 0); u16(mod, 0); u32(mod, 0); u32(mod, 0);
    u16(mod, 0); u16(mod, stream); u32(mod, symbols); u32(mod, 0); u32(mod, c13);
    u16(mod, 1); u16(mod, 0); u32(mod, 0); u32(mod, 0); u32(mod, 0);
    str(mod, "a.obj"); str(mod, "a.obj"); align4(mod);
}

/* DBI: header, one ModInfo (and `extra_modules` without symbols), V60
 * section contributions, optional debug header (section headers; OMAP
 * streams and original headers if asked). */
static void build_dbi(buf *b, uint32_t symbols, uint32_t c13, const pdb_spec *spec)
{
    bool omap = spec->omap;
    buf mod = {0}, sc = {0}, dbg = {0};
    mod_info(&mod, ST_MODULE, symbols, c13);
    for (size_t i = 0; i < spec->extra_modules; i++)
        mod_info(&mod, 0xFFFF, 0, 0);
    u32(&sc, 0xEFFE0000u + 19970605u);
    u16(&sc, 1); u16(&sc, 0); u32(&sc, 0); u32(&sc, 0x100); u32(&sc, 0x60000020);
    u16(&sc, 0); u16(&sc, 0); u32(&sc, 0); u32(&sc, 0);
    void *zeros = calloc(spec->extra_contributions ? spec->extra_contributions : 1, 28);
    assert_non_null(zeros);
    put(&sc, zeros, spec->extra_contributions * 28);
    free(zeros);
    for (int i = 0; i < 11; i++)
        u16(&dbg, 0xFFFF);
    dbg.data[2 * 5] = ST_SECTIONS, dbg.data[2 * 5 + 1] = 0;
    if (omap) {
        dbg.data[2 * 3] = ST_OMAP_TO, dbg.data[2 * 3 + 1] = 0;
        dbg.data[2 * 4] = ST_OMAP_FROM, dbg.data[2 * 4 + 1] = 0;
        dbg.data[2 * 10] = ST_ORIG_SECTIONS, dbg.data[2 * 10 + 1] = 0;
    }
    u32(b, 0xFFFFFFFF); u32(b, 19990903); u32(b, 7);
    u16(b, 0xFFFF); u16(b, 0); u16(b, ST_PUBLICS); u16(b, 0); u16(b, ST_SYMREC); u16(b, 0);
    u32(b, (uint32_t)mod.size); u32(b, (uint32_t)sc.size); u32(b, 0); u32(b, 0); u32(b, 0);
    u32(b, 0); u32(b, (uint32_t)dbg.size); u32(b, 0); u16(b, 0); u16(b, 0x8664); u32(b, 0);
    put(b, mod.data, mod.size); put(b, sc.data, sc.size); put(b, dbg.data, dbg.size);
    free(mod.data), free(sc.data), free(dbg.data);
}

/* OMAP: image .text at 0x5000 holds source .text (0x1000) unchanged. */
static void build_omap(pdb_spec *spec)
{
    buf *to = &spec->streams[ST_OMAP_TO], *from = &spec->streams[ST_OMAP_FROM];
    u32(to, 0x5000); u32(to, 0x1000); u32(to, 0x6000); u32(to, 0);
    u32(from, 0x1000); u32(from, 0x5000); u32(from, 0x2000); u32(from, 0);
    build_sections(&spec->streams[ST_ORIG_SECTIONS], 0x1000, 0);
}

static void build_streams(pdb_spec *spec)
{
    uint32_t c13 = 0;
    build_info(&spec->streams[ST_INFO]);
    uint32_t symbols = build_module(&spec->streams[ST_MODULE], &c13, spec->extra_procs,
                                    spec->extra_lines);
    build_dbi(&spec->streams[ST_DBI], symbols, c13, spec);
    build_sections(&spec->streams[ST_SECTIONS], spec->omap ? 0x5000 : 0x1000,
                   spec->extra_sections);
    build_publics(&spec->streams[ST_PUBLICS], &spec->streams[ST_SYMREC]);
    build_names(&spec->streams[ST_NAMES]);
    for (size_t i = 0; i < spec->filler; i++)
        u8(&spec->streams[ST_FILLER], (uint8_t)i);
    if (spec->omap)
        build_omap(spec);
    spec->nil[ST_NIL] = true;
}

/* ---- MSF writer ---- */

static void pad_to_block(buf *file, uint32_t block_size)
{
    while (file->size % block_size)
        u8(file, 0);
}

/* Writes the streams' blocks, the directory and its block map. */
static buf write_msf(pdb_spec *spec)
{
    uint32_t bs = spec->block_size;
    buf file = {0}, dir = {0};
    for (uint32_t i = 0; i < 3 * bs; i++) /* superblock + two free block maps */
        u8(&file, 0);
    u32(&dir, ST_COUNT);
    for (int i = 0; i < ST_COUNT; i++)
        u32(&dir, spec->nil[i] ? 0xFFFFFFFF : (uint32_t)spec->streams[i].size);
    for (int i = 0; i < ST_COUNT; i++) {
        buf *s = &spec->streams[i];
        for (size_t off = 0; !spec->nil[i] && off < s->size; off += bs) {
            u32(&dir, (uint32_t)(file.size / bs));
            put(&file, s->data + off, s->size - off < bs ? s->size - off : bs);
            pad_to_block(&file, bs);
        }
    }
    buf map = {0};
    for (size_t off = 0; off < dir.size; off += bs) {
        u32(&map, (uint32_t)(file.size / bs));
        put(&file, dir.data + off, dir.size - off < bs ? dir.size - off : bs);
        pad_to_block(&file, bs);
    }
    uint32_t map_block = (uint32_t)(file.size / bs);
    put(&file, map.data, map.size);
    pad_to_block(&file, bs);
    memcpy(file.data, "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0\0", 32);
    set32(&file, 0x20, bs);
    set32(&file, 0x24, 1);
    set32(&file, 0x28, (uint32_t)(file.size / bs));
    set32(&file, 0x2C, (uint32_t)dir.size);
    set32(&file, 0x34, map_block);
    free(dir.data), free(map.data);
    return file;
}

static buf build_pdb_spec(pdb_spec *spec)
{
    build_streams(spec);
    buf file = write_msf(spec);
    for (int i = 0; i < ST_COUNT; i++)
        free(spec->streams[i].data);
    return file;
}

static buf build_pdb(uint32_t block_size, size_t filler, bool omap)
{
    pdb_spec spec = {.block_size = block_size, .filler = filler, .omap = omap};
    return build_pdb_spec(&spec);
}

static dt_pdb *open_buf(const buf *file)
{
    dt_pdb *pdb = NULL;
    dt_error err;
    dt_status st = dt_pdb_open_bytes(&pdb, file->data, file->size, "test.pdb", &err);
    if (st != DT_OK)
        print_message("%s\n", err.message);
    assert_int_equal(st, DT_OK);
    return pdb;
}

static dt_status open_status(const buf *file, dt_error *err)
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
        buf file = build_pdb(sizes[i], 0, false);
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
        free(file.data);
    }
}

static void test_identity(void **state)
{
    (void)state;
    buf file = build_pdb(1024, 0, false);
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
    free(file.data);
}

static void test_directory_across_blocks(void **state)
{
    (void)state;
    buf file = build_pdb(512, 256 * 1024, false); /* 512 blocks: a 2 KiB+ directory */
    dt_pdb *pdb = open_buf(&file);
    assert_true(pdb->directory_size > 4 * 512);
    expect_symbols(pdb, 0x1000);
    dt_pdb_free(pdb);
    free(file.data);
}

static void test_lazy_streams(void **state)
{
    (void)state;
    buf file = build_pdb(1024, 4096, false);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x3014, &s)); /* no module covers .data */
    assert_null(pdb->streams[ST_MODULE].data);
    assert_null(pdb->streams[ST_FILLER].data);
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s));
    assert_non_null(pdb->streams[ST_MODULE].data);
    assert_null(pdb->streams[ST_FILLER].data);
    dt_pdb_free(pdb);
    free(file.data);
}

static void test_omap(void **state)
{
    (void)state;
    buf file = build_pdb(1024, 0, true);
    dt_pdb *pdb = open_buf(&file);
    expect_symbols(pdb, 0x5000);
    dt_symbol s;
    assert_false(dt_pdb_lookup(pdb, 0x1010, &s)); /* unmapped in the image */
    dt_pdb_free(pdb);
    free(file.data);
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
    buf file = build_pdb(1024, 0, false);
    buf short_file = {file.data, 40, 40};
    assert_int_equal(open_status(&short_file, &err), DT_ERR_FORMAT);
    assert_non_null(strstr(err.message, "superblock"));
    static const char msf2[] = "Microsoft C/C++ program database 2.00\r\n\x1aJG\0\0";
    buf old = {(uint8_t *)msf2, sizeof msf2, sizeof msf2};
    assert_int_equal(open_status(&old, &err), DT_ERR_UNSUPPORTED);
    buf portable = {(uint8_t *)"BSJB\1\0\1\0\0\0\0\0", 12, 12};
    assert_int_equal(open_status(&portable, &err), DT_ERR_UNSUPPORTED);
    set32(&file, 0x20, 1000); /* not a power of two */
    assert_int_equal(open_status(&file, &err), DT_ERR_FORMAT);
    assert_true(err.has_offset && err.offset == 0x20);
    free(file.data);
}

static void test_directory_past_eof(void **state)
{
    (void)state;
    dt_error err;
    buf file = build_pdb(1024, 0, false);
    set32(&file, 0x34, 99999); /* block map block */
    assert_int_equal(open_status(&file, &err), DT_ERR_FORMAT);
    assert_non_null(strstr(err.message, "block map"));
    free(file.data);
    file = build_pdb(1024, 0, false);
    set32(&file, 0x2C, 0x7FFFFFFF); /* directory bytes */
    assert_int_equal(open_status(&file, &err), DT_ERR_FORMAT);
    free(file.data);
}

/* Directory of the built file, for patching stream sizes and blocks. */
static size_t directory_at(const buf *file)
{
    uint32_t bs = dt_le32(file->data + 0x20);
    uint32_t map = dt_le32(file->data + 0x34);
    return (size_t)dt_le32(file->data + (size_t)map * bs) * bs;
}

static void test_stream_counts_and_sizes(void **state)
{
    (void)state;
    dt_error err;
    buf file = build_pdb(1024, 0, false);
    size_t dir = directory_at(&file);
    set32(&file, dir, 0x0FFFFFFF); /* NumStreams */
    assert_int_equal(open_status(&file, &err), DT_ERR_LIMIT);
    set32(&file, dir, ST_COUNT);
    set32(&file, dir + 4 + 4 * ST_DBI, 0xFFFFFFF0u); /* stream size: block list overflows */
    assert_int_equal(open_status(&file, &err), DT_ERR_FORMAT);
    assert_non_null(strstr(err.message, "stream 3"));
    free(file.data);
}

static void test_block_index_out_of_range(void **state)
{
    (void)state;
    buf file = build_pdb(1024, 0, false);
    size_t dir = directory_at(&file);
    /* The DBI stream's first block: after NumStreams, sizes, and the block
     * lists of streams 0..2. */
    size_t list = dir + 4 + 4 * ST_COUNT;
    for (int i = 0; i < ST_DBI; i++)
        list += 4 * ((dt_le32(file.data + dir + 4 + 4 * i) + 1023) / 1024);
    set32(&file, list, 0x00FFFFFF);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_false(dt_pdb_lookup(pdb, 0x1010, &s));
    size_t n;
    const dt_diagnostic *d = dt_pdb_diagnostics(pdb, &n);
    assert_true(n >= 1);
    assert_non_null(strstr(d[0].message, "block 0 of stream 3 is past the end"));
    dt_pdb_free(pdb);
    free(file.data);
}

/* Finds `needle` in the file (a record built above). */
static size_t find(const buf *file, const void *needle, size_t n)
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
    buf file = build_pdb(1024, 0, false);
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
    free(file.data);
}

static void test_bad_publics_and_lines(void **state)
{
    (void)state;
    buf file = build_pdb(1024, 0, false);
    /* The address map's entries: point the first one past the records. */
    static const uint8_t hash_header[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x1A, 0x09, 0x2F, 0xF1};
    size_t map = find(&file, hash_header, sizeof hash_header) + 16;
    set32(&file, map, 0x7FFFFFF0);
    /* The DEBUG_S_LINES block claims a billion lines. */
    static const uint8_t lines_block[] = {0, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0};
    size_t block = find(&file, lines_block, sizeof lines_block);
    set32(&file, block + 4, 1000000000);
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
    free(file.data);
}

static void test_truncations(void **state)
{
    (void)state;
    buf file = build_pdb(512, 0, false);
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
    free(file.data);
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
    buf blocks[ST_COUNT];
} msf_directory;

static void read_directory(const buf *file, msf_directory *out)
{
    uint32_t bs = dt_le32(file->data + 0x20);
    size_t at = directory_at(file) + 4 + 4 * ST_COUNT;
    for (int i = 0; i < ST_COUNT; i++) {
        uint32_t size = dt_le32(file->data + directory_at(file) + 4 + 4 * i);
        out->sizes[i] = size;
        out->blocks[i] = (buf){0};
        for (uint32_t n = size == 0xFFFFFFFFu ? 0 : (size + bs - 1) / bs; n > 0; n--, at += 4)
            put(&out->blocks[i], file->data + at, 4);
    }
}

/* Appends `dir` and its block map to the file and points the superblock at
 * them (the map blocks listed from offset 0x34). */
static void append_directory(buf *file, const buf *dir)
{
    uint32_t bs = dt_le32(file->data + 0x20);
    buf map = {0};
    for (size_t off = 0; off < dir->size; off += bs) {
        u32(&map, (uint32_t)(file->size / bs));
        put(file, dir->data + off, dir->size - off < bs ? dir->size - off : bs);
        pad_to_block(file, bs);
    }
    for (size_t off = 0; off < map.size; off += bs) {
        assert_true(0x34 + 4 * (off / bs) + 4 <= bs);
        set32(file, 0x34 + 4 * (off / bs), (uint32_t)(file->size / bs));
        put(file, map.data + off, map.size - off < bs ? map.size - off : bs);
        pad_to_block(file, bs);
    }
    set32(file, 0x28, (uint32_t)(file->size / bs));
    set32(file, 0x2C, (uint32_t)dir->size);
    free(map.data);
}

/* Writes `dir` (and frees its block lists) as the file's new directory. */
static void replace_directory(buf *file, msf_directory *dir)
{
    buf bytes = {0};
    u32(&bytes, ST_COUNT);
    for (int i = 0; i < ST_COUNT; i++)
        u32(&bytes, dir->sizes[i]);
    for (int i = 0; i < ST_COUNT; i++) {
        put(&bytes, dir->blocks[i].data, dir->blocks[i].size);
        free(dir->blocks[i].data);
    }
    append_directory(file, &bytes);
    free(bytes.data);
}

/* The file with `count` streams: its own, then empty ones. */
static buf with_stream_count(uint32_t count)
{
    buf file = build_pdb(4096, 0, false);
    msf_directory old;
    read_directory(&file, &old);
    buf dir = {0};
    u32(&dir, count);
    for (uint32_t i = 0; i < count; i++)
        u32(&dir, i < ST_COUNT ? old.sizes[i] : 0);
    for (int i = 0; i < ST_COUNT; i++) {
        put(&dir, old.blocks[i].data, old.blocks[i].size);
        free(old.blocks[i].data);
    }
    append_directory(&file, &dir);
    free(dir.data);
    return file;
}

/* A directory that holds PDB_MAX_STREAMS + 1 stream sizes is refused with
 * DT_ERR_LIMIT; one that holds PDB_MAX_STREAMS is read. */
static void test_stream_cap(void **state)
{
    (void)state;
    dt_error err;
    buf at_cap = with_stream_count(PDB_MAX_STREAMS);
    dt_pdb *pdb = open_buf(&at_cap);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s));
    dt_pdb_free(pdb);
    free(at_cap.data);
    buf past_cap = with_stream_count(PDB_MAX_STREAMS + 1);
    assert_int_equal(open_status(&past_cap, &err), DT_ERR_LIMIT);
    assert_non_null(strstr(err.message, "exceeds the cap of 1048576"));
    free(past_cap.data);
}

/* Streams whose block lists repeat one block, each nearly as large as the
 * file: copying them all would take about seven times the file size, and
 * copies stop at four times, with a diagnostic. */
static void test_read_budget(void **state)
{
    (void)state;
    static const int read[] = {ST_INFO, ST_DBI, ST_SECTIONS, ST_MODULE, ST_PUBLICS, ST_SYMREC,
                               ST_NAMES};
    buf file = build_pdb(1024, 0, false);
    uint32_t file_blocks = (uint32_t)(file.size / 1024);
    msf_directory dir;
    read_directory(&file, &dir);
    for (size_t k = 0; k < sizeof read / sizeof read[0]; k++) {
        buf *blocks = &dir.blocks[read[k]];
        uint32_t first = dt_le32(blocks->data);
        for (size_t n = blocks->size / 4; n < file_blocks; n++)
            u32(blocks, first);
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
    free(file.data);
}

/* A publics address map (PSGSIHDR.cbAddrMap) of PDB_MAX_PUBLICS + 1
 * entries, past the first block all 0xFFFFFFFF: read up to the cap. */
static void test_publics_cap(void **state)
{
    (void)state;
    enum { BS = 4096, MAP_AT = 28 + 16 };
    buf file = build_pdb(BS, 0, false);
    msf_directory dir;
    read_directory(&file, &dir);
    uint32_t header = dt_le32(dir.blocks[ST_PUBLICS].data);
    uint32_t size = MAP_AT + 4u * (PDB_MAX_PUBLICS + 1);
    set32(&file, (size_t)header * BS + 4, size - MAP_AT);
    dir.sizes[ST_PUBLICS] = size;
    for (uint32_t n = 1; n < (size + BS - 1) / BS; n++) {
        u32(&dir.blocks[ST_PUBLICS], (uint32_t)(file.size / BS));
        for (int k = 0; k < BS; k++)
            u8(&file, 0xFF);
    }
    replace_directory(&file, &dir);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1085, &s));
    assert_string_equal(s.function, "UL_APP_POOL::Cleanup");
    assert_int_equal(count_diags(pdb, "4194305 entries exceed the cap of 4194304"), 1);
    dt_pdb_free(pdb);
    free(file.data);
}

/* A module stream with one procedure more than PDB_MAX_PROCS_PER_MODULE:
 * the first ones are kept, with a diagnostic. */
static void test_procedure_cap(void **state)
{
    (void)state;
    pdb_spec spec = {.block_size = 4096, .extra_procs = PDB_MAX_PROCS_PER_MODULE - 1};
    buf file = build_pdb_spec(&spec);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s));
    assert_string_equal(s.function, "ns::func");
    assert_int_equal(count_diags(pdb, "1048577 procedures exceed the cap of 1048576"), 1);
    dt_pdb_free(pdb);
    free(file.data);
}

/* A DEBUG_S_LINES block of PDB_MAX_LINES_PER_MODULE + 1 entries: the first
 * ones are kept, with a diagnostic. */
static void test_line_cap(void **state)
{
    (void)state;
    pdb_spec spec = {.block_size = 4096, .extra_lines = PDB_MAX_LINES_PER_MODULE - 1};
    buf file = build_pdb_spec(&spec);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s));
    assert_int_equal(s.line, 10);
    assert_int_equal(count_diags(pdb, "more than 4194304 line entries"), 1);
    dt_pdb_free(pdb);
    free(file.data);
}

/* PDB_MAX_MODULES + 1 ModInfo records, and PDB_MAX_SECTIONS + 1 section
 * headers: the first ones are read, each with a diagnostic. */
static void test_module_and_section_caps(void **state)
{
    (void)state;
    pdb_spec spec = {.block_size = 4096, .extra_modules = PDB_MAX_MODULES,
                     .extra_sections = PDB_MAX_SECTIONS - 1};
    buf file = build_pdb_spec(&spec);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s));
    assert_string_equal(s.function, "ns::func");
    assert_int_equal(count_diags(pdb, "more than 65535 modules"), 1);
    assert_int_equal(count_diags(pdb, "65536 headers exceed the cap of 65535"), 1);
    dt_pdb_free(pdb);
    free(file.data);
}

/* 2^22 + 1 contributions (117 MB): the first 2^22 are kept, one warning. */
static void test_contribution_cap(void **state)
{
    (void)state;
    pdb_spec spec = {.block_size = 4096, .extra_contributions = PDB_MAX_CONTRIBUTIONS};
    buf file = build_pdb_spec(&spec);
    dt_pdb *pdb = open_buf(&file);
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, 0x1010, &s));
    assert_string_equal(s.function, "ns::func");
    assert_int_equal(count_diags(pdb, "4194305 entries exceed the cap of 4194304"), 1);
    dt_pdb_free(pdb);
    free(file.data);
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
