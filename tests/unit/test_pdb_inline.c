/*
 * Unit tests of the PDB provider's inlined frames (src/symbols/pdb_inline.c,
 * pdb_types.c) on a PDB built here with tests/synth/synth_pdb.h: one
 * procedure "outer" with nested S_INLINESITE records whose binary
 * annotations use every code opcode, the module's DEBUG_S_INLINEELINES, IPI
 * items (LF_STRING_ID, LF_FUNC_ID, LF_MFUNC_ID) and a TPI class, optionally
 * behind many filler types and a hash stream's IndexOffsetBuffer; then
 * hostile annotations, records and ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "symbols/pdb_internal.h"
#include "synth_pdb.h"

enum {
    ST_INFO = 1, ST_TPI = 2, ST_DBI = 3, ST_IPI = 4, ST_SECTIONS = 5, ST_MODULE = 6,
    ST_NAMES = 7, ST_TPI_HASH = 8, ST_COUNT = 9,
};
enum { TEXT_VA = 0x1000, OUTER = 0x100, OUTER_SIZE = 0x80 };
enum {
    S_INLINESITE = 0x114D, S_INLINESITE_END = 0x114E,
    LF_FUNC_ID = 0x1601, LF_MFUNC_ID = 0x1602, LF_STRING_ID = 0x1605,
    DEBUG_S_INLINEELINES = 0xF6,
};
/* BinaryAnnotationOpcode */
enum {
    BA_CHANGE_CODE_OFFSET = 3, BA_CHANGE_CODE_LENGTH = 4, BA_CHANGE_FILE = 5,
    BA_CHANGE_LINE_OFFSET = 6, BA_CHANGE_CODE_OFFSET_AND_LINE_OFFSET = 11,
    BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET = 12,
};

/* "helper" (in ns, helper.h:100): [0x10,0x14) line 100, [0x14,0x1C) 101
 * (its length from ChangeCodeLength, which moves past it), then the offset
 * moves 0x14 to [0x30,0x34) at line 103. */
static const uint8_t HELPER_PROGRAM[] = {
    BA_CHANGE_CODE_OFFSET, 0x10,
    BA_CHANGE_CODE_OFFSET_AND_LINE_OFFSET, 1 << 5 | 4, /* line +1 (sign in bit 0), code +4 */
    BA_CHANGE_CODE_LENGTH, 8,
    BA_CHANGE_LINE_OFFSET, 2 << 1,
    BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET, 4, 0x14,
};
/* "inner", inlined into helper (inner.h:200): [0x15,0x19) at line 199,
 * in a file named by ChangeFile (the second checksum entry). */
static const uint8_t INNER_PROGRAM[] = {
    BA_CHANGE_LINE_OFFSET, 1 << 1 | 1,                  /* line -1 */
    BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET, 4, 0x15,
};
/* ~Widget (widget.h:300): [0x40,0x48), a two-byte operand for the length. */
static const uint8_t DTOR_PROGRAM[] = {
    BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET, 0x80, 8, 0x40,
};

typedef struct inline_spec {
    const uint8_t *helper_program; /* NULL: HELPER_PROGRAM */
    size_t helper_program_size;
    uint32_t helper_item;          /* 0: the real LF_FUNC_ID */
    bool extended_lines;           /* CV_INLINEE_SOURCE_LINE_SIGNATURE_EX */
    bool no_inlinee_lines;
    size_t filler_types;           /* TPI records before the class */
    bool index_offsets;            /* a TPI hash stream with IndexOffsetBuffer */
} inline_spec;

typedef struct ids {
    uint32_t helper, inner, dtor;
} ids;

/* ---- Building ---- */

static uint32_t string_id(synth_pdb_types *t, const char *s)
{
    uint32_t index = synth_pdb_type_begin(t, LF_STRING_ID);
    synth_buf_u32(&t->stream, 0); /* no substring list */
    synth_buf_cstr(&t->stream, s);
    synth_pdb_type_end(t);
    return index;
}

/* lfFuncId / lfMFuncId: parent (scope id or class type), type, name. */
static uint32_t function_id(synth_pdb_types *t, uint16_t leaf, uint32_t parent, const char *name)
{
    uint32_t index = synth_pdb_type_begin(t, leaf);
    synth_buf_u32(&t->stream, parent);
    synth_buf_u32(&t->stream, 0);
    synth_buf_cstr(&t->stream, name);
    synth_pdb_type_end(t);
    return index;
}

/* TPI: filler pointers, then class ns::Widget; every 1000th record is in
 * the IndexOffsetBuffer when asked. Returns the class's type index. */
static uint32_t build_tpi(synth_buf *tpi, synth_buf *hash, const inline_spec *spec)
{
    synth_pdb_types t;
    synth_pdb_types_init(&t);
    for (size_t i = 0; i <= spec->filler_types; i++) {
        if (spec->index_offsets && i % 1000 == 0) {
            synth_buf_u32(hash, t.next_index);
            synth_buf_u32(hash, (uint32_t)(t.stream.size - 56));
        }
        if (i < spec->filler_types)
            synth_pdb_type_pointer(&t, SYNTH_T_INT4);
    }
    synth_pdb_udt widget = {.leaf = SYNTH_LF_CLASS, .forward = true, .name = "ns::Widget",
                            .unique_name = ".?AVWidget@ns@@"};
    uint32_t index = synth_pdb_type_udt(&t, &widget);
    synth_pdb_types_finish(&t);
    if (spec->index_offsets) { /* TpiStreamHeader: HashStreamIndex, IndexOffsetBuffer */
        synth_buf_patch_u16(&t.stream, 0x14, ST_TPI_HASH);
        synth_buf_patch_u32(&t.stream, 0x28, 0);
        synth_buf_patch_u32(&t.stream, 0x2C, (uint32_t)hash->size);
    }
    *tpi = t.stream;
    return index;
}

static ids build_ipi(synth_buf *ipi, uint32_t widget)
{
    synth_pdb_types t;
    synth_pdb_types_init(&t);
    ids out;
    out.helper = function_id(&t, LF_FUNC_ID, string_id(&t, "ns"), "helper");
    out.inner = function_id(&t, LF_FUNC_ID, 0, "inner");
    out.dtor = function_id(&t, LF_MFUNC_ID, widget, "{dtor}");
    synth_pdb_types_finish(&t);
    *ipi = t.stream;
    return out;
}

/* S_INLINESITE: pParent, pEnd, inlinee, annotations (padded with zeros,
 * which end them). */
static void inline_site(synth_buf *b, uint32_t inlinee, const uint8_t *program, size_t size)
{
    size_t at = synth_buf_u16(b, 0);
    synth_buf_u16(b, S_INLINESITE);
    synth_buf_u32(b, 0);
    synth_buf_u32(b, 0);
    synth_buf_u32(b, inlinee);
    synth_buf_bytes(b, program, size);
    synth_buf_align(b, 4, 0);
    synth_buf_patch_u16(b, at, (uint16_t)(b->size - at - 2));
}

static void inline_site_end(synth_buf *b)
{
    synth_buf_u16(b, 2);
    synth_buf_u16(b, S_INLINESITE_END);
}

/* DEBUG_S_INLINEELINES: signature, then {inlinee, fileId, line} (and in
 * the extended form a count of extra files and their ids). */
static void inlinee_lines(synth_buf *b, const ids *id, const uint32_t *files, bool extended)
{
    const uint32_t entries[3][3] = {{id->helper, files[1], 100},
                                    {id->inner, files[2], 200},
                                    {id->dtor, files[3], 300}};
    synth_buf_u32(b, DEBUG_S_INLINEELINES);
    size_t length_at = synth_buf_u32(b, 0);
    synth_buf_u32(b, extended ? 1 : 0);
    for (size_t i = 0; i < 3; i++) {
        for (size_t k = 0; k < 3; k++)
            synth_buf_u32(b, entries[i][k]);
        if (extended) {
            synth_buf_u32(b, 1);
            synth_buf_u32(b, files[0]);
        }
    }
    synth_buf_patch_u32(b, length_at, (uint32_t)(b->size - length_at - 4));
}

static uint32_t build_module(synth_buf *b, uint32_t *c13, const ids *id, const uint32_t *names,
                             const inline_spec *spec)
{
    synth_pdb_module_begin(b);
    synth_pdb_proc outer = {.kind = SYNTH_S_GPROC32, .segment = 1, .offset = OUTER,
                            .code_size = OUTER_SIZE, .debug_end = OUTER_SIZE, .name = "outer"};
    size_t proc_at = synth_pdb_sym_proc(b, &outer);
    inline_site(b, spec->helper_item ? spec->helper_item : id->helper,
                spec->helper_program ? spec->helper_program : HELPER_PROGRAM,
                spec->helper_program ? spec->helper_program_size : sizeof HELPER_PROGRAM);
    uint8_t inner[sizeof INNER_PROGRAM + 2] = {BA_CHANGE_FILE, 0};
    memcpy(inner + 2, INNER_PROGRAM, sizeof INNER_PROGRAM);
    synth_pdb_source files[4] = {{.name = names[0]}, {.name = names[1]}, {.name = names[2]},
                                 {.name = names[3]}};
    uint32_t file_ids[4];
    synth_buf scratch;
    synth_buf_init(&scratch);
    synth_pdb_c13_checksums(&scratch, files, 4, file_ids); /* only for the ids */
    synth_buf_free(&scratch);
    inner[1] = (uint8_t)file_ids[2];
    inline_site(b, id->inner, inner, sizeof inner);
    inline_site_end(b);
    inline_site_end(b);
    inline_site(b, id->dtor, DTOR_PROGRAM, sizeof DTOR_PROGRAM);
    inline_site_end(b);
    synth_pdb_sym_end(b, proc_at);
    uint32_t symbols = (uint32_t)b->size;
    synth_pdb_c13_checksums(b, files, 4, file_ids);
    static const synth_pdb_line lines[] = {{0, 10}, {0x10, 12}, {0x40, 14}, {0x50, 15}};
    synth_pdb_c13_lines(b, 1, OUTER, OUTER_SIZE, file_ids[0], lines, 4);
    if (!spec->no_inlinee_lines)
        inlinee_lines(b, id, file_ids, spec->extended_lines);
    *c13 = synth_pdb_module_end(b, symbols);
    return symbols;
}

static void build_dbi(synth_buf *b, uint32_t symbols, uint32_t c13)
{
    static const char *const sources[] = {"outer.cpp"};
    synth_pdb_contribution text = {.segment = 1, .size = 0x1000, .characteristics = 0x60000020};
    synth_pdb_module_info module = {"outer.obj", "outer.obj", ST_MODULE, symbols, c13, sources,
                                    1, text};
    synth_pdb_dbi d;
    synth_pdb_dbi_init(&d);
    d.modules = &module, d.module_count = 1;
    d.contributions = &text, d.contribution_count = 1;
    d.debug_streams[SYNTH_PDB_DEBUG_SECTION_HEADERS] = ST_SECTIONS;
    synth_pdb_dbi_stream(b, &d);
}

static synth_buf build(const inline_spec *spec)
{
    synth_buf s[ST_COUNT];
    for (int i = 0; i < ST_COUNT; i++)
        synth_buf_init(&s[i]);
    synth_pdb_names names;
    synth_pdb_names_init(&names);
    const uint32_t file_names[4] = {
        synth_pdb_names_add(&names, "outer.cpp"), synth_pdb_names_add(&names, "helper.h"),
        synth_pdb_names_add(&names, "inner.h"), synth_pdb_names_add(&names, "widget.h")};
    synth_pdb_names_stream(&s[ST_NAMES], &names);
    synth_pdb_names_free(&names);
    synth_pdb_identity identity = {.signature = 1, .age = 1};
    synth_pdb_info_stream(&s[ST_INFO], &identity, ST_NAMES);
    ids id = build_ipi(&s[ST_IPI], build_tpi(&s[ST_TPI], &s[ST_TPI_HASH], spec));
    uint32_t c13, symbols = build_module(&s[ST_MODULE], &c13, &id, file_names, spec);
    build_dbi(&s[ST_DBI], symbols, c13);
    synth_pdb_section_header(&s[ST_SECTIONS], ".text", TEXT_VA, 0x1000, 0x60000020);
    synth_msf_stream streams[ST_COUNT];
    for (int i = 0; i < ST_COUNT; i++)
        streams[i] = (synth_msf_stream){s[i].data, s[i].size, false, 0};
    synth_buf file;
    synth_buf_init(&file);
    synth_msf_build(streams, ST_COUNT, 4096, &file);
    for (int i = 0; i < ST_COUNT; i++)
        synth_buf_free(&s[i]);
    return file;
}

/* ---- Checking ---- */

typedef struct expected_frame {
    const char *function;
    const char *file;        /* NULL: none */
    uint32_t line;
} expected_frame;

/* Looks up outer+offset: the physical line and the inlined frames,
 * innermost first. */
static void expect_at(dt_pdb *pdb, uint32_t offset, uint32_t line, const expected_frame *frames,
                      size_t count)
{
    dt_symbol s;
    assert_true(dt_pdb_lookup(pdb, TEXT_VA + OUTER + offset, &s));
    assert_string_equal(s.function, "outer");
    assert_int_equal(s.line, line);
    assert_int_equal(s.inline_count, count);
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(s.inlines[i].function, frames[i].function);
        if (frames[i].file)
            assert_string_equal(s.inlines[i].file, frames[i].file);
        else
            assert_null(s.inlines[i].file);
        assert_int_equal(s.inlines[i].line, frames[i].line);
    }
}

static dt_pdb *open_spec(const inline_spec *spec, synth_buf *file)
{
    *file = build(spec);
    dt_pdb *pdb = NULL;
    dt_error err;
    assert_int_equal(dt_pdb_open_bytes(&pdb, file->data, file->size, "inline.pdb", &err), DT_OK);
    return pdb;
}

static void expect_well_formed(const inline_spec *spec, const char *dtor_name)
{
    synth_buf file;
    dt_pdb *pdb = open_spec(spec, &file);
    expect_at(pdb, 0x00, 10, NULL, 0);
    expect_at(pdb, 0x10, 12, (expected_frame[]){{"ns::helper", "helper.h", 100}}, 1);
    expect_at(pdb, 0x14, 12, (expected_frame[]){{"ns::helper", "helper.h", 101}}, 1);
    expect_at(pdb, 0x16, 12,
              (expected_frame[]){{"inner", "inner.h", 199}, {"ns::helper", "helper.h", 101}},
              2);
    expect_at(pdb, 0x1B, 12, (expected_frame[]){{"ns::helper", "helper.h", 101}}, 1);
    expect_at(pdb, 0x1C, 12, NULL, 0); /* ChangeCodeLength ended the entry */
    expect_at(pdb, 0x2F, 12, NULL, 0);
    expect_at(pdb, 0x33, 12, (expected_frame[]){{"ns::helper", "helper.h", 103}}, 1);
    expect_at(pdb, 0x34, 12, NULL, 0);
    expect_at(pdb, 0x40, 14, (expected_frame[]){{dtor_name, "widget.h", 300}}, 1);
    expect_at(pdb, 0x47, 14, (expected_frame[]){{dtor_name, "widget.h", 300}}, 1);
    expect_at(pdb, 0x48, 14, NULL, 0);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

/* ---- Tests ---- */

static void test_chain_and_positions(void **state)
{
    (void)state;
    expect_well_formed(&(inline_spec){0}, "ns::Widget::~Widget");
}

static void test_extended_inlinee_lines(void **state)
{
    (void)state;
    expect_well_formed(&(inline_spec){.extended_lines = true}, "ns::Widget::~Widget");
}

/* The class is 70,000 records into the TPI: past the walk's cap from the
 * first record, found from the nearest IndexOffsetBuffer entry. */
static void test_class_found_from_index_offsets(void **state)
{
    (void)state;
    expect_well_formed(&(inline_spec){.filler_types = 70000, .index_offsets = true},
                       "ns::Widget::~Widget");
    expect_well_formed(&(inline_spec){.filler_types = 70000}, "{dtor}");
}

/* Without DEBUG_S_INLINEELINES the frames are named but have no line, and
 * no file until a ChangeFile names one. */
static void test_no_first_line(void **state)
{
    (void)state;
    synth_buf file;
    dt_pdb *pdb = open_spec(&(inline_spec){.no_inlinee_lines = true}, &file);
    expect_at(pdb, 0x16, 12, (expected_frame[]){{"inner", "inner.h", 0}, {"ns::helper", NULL, 0}},
              2);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

/* Hostile programs: a compressed operand cut short, an opcode past the
 * last, offsets far past the procedure; and a site whose inlinee is not an
 * IPI item. */
static void test_hostile_sites(void **state)
{
    (void)state;
    static const uint8_t cut[] = {BA_CHANGE_CODE_OFFSET, 0xC0, 0x01};
    static const uint8_t bad_opcode[] = {BA_CHANGE_CODE_OFFSET, 0x10, 14, 1,
                                         BA_CHANGE_CODE_LENGTH, 0x20};
    static const uint8_t far_offsets[] = {BA_CHANGE_CODE_OFFSET, 0xDF, 0xFF, 0xFF, 0xFF,
                                       BA_CHANGE_CODE_OFFSET, 0xDF, 0xFF, 0xFF, 0xFF,
                                       BA_CHANGE_CODE_LENGTH, 0x7F};
    const struct { const uint8_t *program; size_t size; } cases[] = {
        {cut, sizeof cut}, {bad_opcode, sizeof bad_opcode}, {far_offsets, sizeof far_offsets}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        synth_buf file;
        inline_spec spec = {.helper_program = cases[i].program,
                            .helper_program_size = cases[i].size};
        dt_pdb *pdb = open_spec(&spec, &file);
        for (uint32_t offset = 0; offset < OUTER_SIZE; offset++) {
            dt_symbol s;
            assert_true(dt_pdb_lookup(pdb, TEXT_VA + OUTER + offset, &s));
            for (size_t k = 0; k < s.inline_count; k++)
                assert_string_not_equal(s.inlines[k].function, "ns::helper");
        }
        dt_pdb_free(pdb);
        synth_buf_free(&file);
    }
    synth_buf file;
    dt_pdb *pdb = open_spec(&(inline_spec){.helper_item = 0x7FFFFFFF}, &file);
    expect_at(pdb, 0x10, 12, (expected_frame[]){{"(inlined function)", NULL, 0}}, 1);
    dt_pdb_free(pdb);
    synth_buf_free(&file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_and_positions),
        cmocka_unit_test(test_extended_inlinee_lines),
        cmocka_unit_test(test_class_found_from_index_offsets),
        cmocka_unit_test(test_no_first_line),
        cmocka_unit_test(test_hostile_sites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
