/*
 * Unit tests of the Breakpad .sym provider: every record type on crafted
 * text, lookups at function boundaries, hostile lines, the STACK CFI / STACK
 * WIN API and its postfix evaluator, Itanium demangling, and checks against
 * the shared corpus (skipped when DT_SHARED_DIR is absent).
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

#include "dumptriage/sym_cfi.h"
#include "symbols/sym_internal.h"

/* ---- Helpers ----------------------------------------------------------- */

static dt_sym_file *open_text(const char *text, size_t size)
{
    dt_sym_file *sym = NULL;
    dt_error err;
    assert_int_equal(dt_sym_open_bytes(&sym, (const uint8_t *)text, size, "test.sym", 0, &err),
                     DT_OK);
    return sym;
}

static dt_sym_file *open_string(const char *text)
{
    return open_text(text, strlen(text));
}

static size_t count_diags(const dt_sym_file *sym, dt_diag_level level)
{
    size_t n, found = 0;
    const dt_diagnostic *d = dt_sym_diagnostics(sym, &n);
    for (size_t i = 0; i < n; i++)
        found += d[i].level == level;
    return found;
}

/* True when a diagnostic at `level` mentions `needle` and `line_text`. */
static bool has_diag(const dt_sym_file *sym, dt_diag_level level, const char *needle,
                     const char *line_text)
{
    size_t n;
    const dt_diagnostic *d = dt_sym_diagnostics(sym, &n);
    for (size_t i = 0; i < n; i++) {
        if (d[i].level == level && strstr(d[i].message, needle) &&
            strstr(d[i].message, line_text) && strstr(d[i].message, "test.sym"))
            return true;
    }
    return false;
}

static const char *const SAMPLE =
    "MODULE windows x86_64 ABCDEF0123456789ABCDEF01234567891 sample app.pdb\n"
    "INFO CODE_ID 5C8AD05F12000 sample.dll\n"
    "INFO GENERATOR test 1.0\n"
    "FILE 0 c:\\src\\a.cpp\n"
    "FILE 1 c:\\src\\b.h\n"
    "INLINE_ORIGIN 0 inner_helper\n"
    "INLINE_ORIGIN 1 Middle::step\n"
    "FUNC m 1000 40 8 Outer::run(int)\n"
    "INLINE 0 10 0 1 1010 20\n"
    "INLINE 1 20 1 0 1018 8\n"
    "1000 10 5 0\n"
    "1010 8 30 1\n"
    "1018 8 40 1\n"
    "1020 10 11 0\n"
    "1030 10 12 0\n"
    "FUNC 1040 10 0 _ZN9__gnu_cxx13new_allocatorIcE8allocateEmPKv\n"
    "1040 10 7 0\n"
    "PUBLIC m 2000 0 public_two\n"
    "PUBLIC 1800 4 public_one\n"
    "STACK CFI INIT 1000 40 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
    "STACK CFI 1001 .cfa: $rsp 16 + $rbp: .cfa -16 + ^\n"
    "STACK CFI 1004 .cfa: $rbp 16 +\n"
    "STACK WIN 4 1000 40 4 0 8 4 10 0 1 $T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = "
    "$esp $T0 8 + =\n"
    "STACK WIN 0 1040 10 1 0 c 0 0 0 0 1\n";

/* ---- Records and lookups ------------------------------------------------ */

static void test_module_and_info(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string(SAMPLE);
    assert_string_equal(dt_sym_debug_id(sym), "ABCDEF0123456789ABCDEF01234567891");
    assert_string_equal(dt_sym_debug_file(sym), "sample app.pdb");
    dt_sym_module_info info;
    dt_sym_module(sym, &info);
    assert_string_equal(info.os, "windows");
    assert_string_equal(info.cpu, "x86_64");
    assert_string_equal(info.code_id, "5C8AD05F12000");
    assert_string_equal(info.code_file, "sample.dll");
    assert_int_equal(count_diags(sym, DT_DIAG_ERROR) + count_diags(sym, DT_DIAG_WARNING), 0);
    dt_sym_free(sym);
}

static void test_multiple_flags(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string(SAMPLE);
    const sym_func *funcs = sym->funcs.items;
    assert_int_equal(sym->funcs.count, 2);
    assert_true(funcs[0].multiple);
    assert_false(funcs[1].multiple);
    const sym_public *publics = sym->publics.items;
    assert_int_equal(sym->publics.count, 2);
    assert_int_equal(publics[0].address, 0x1800); /* sorted */
    assert_false(publics[0].multiple);
    assert_true(publics[1].multiple);
    dt_sym_free(sym);
}

static void test_function_boundaries(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string(SAMPLE);
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x1000, &s));
    assert_string_equal(s.function, "Outer::run(int)");
    assert_int_equal(s.function_rva, 0x1000);
    assert_int_equal(s.function_size, 0x40);
    assert_string_equal(s.file, "c:\\src\\a.cpp");
    assert_int_equal(s.line, 5);
    assert_int_equal(s.inline_count, 0);

    assert_true(dt_sym_lookup(sym, 0x103f, &s)); /* last byte */
    assert_string_equal(s.function, "Outer::run(int)");
    assert_int_equal(s.line, 12);

    assert_true(dt_sym_lookup(sym, 0x1040, &s)); /* one past: the next FUNC */
    assert_string_equal(s.function, "__gnu_cxx::new_allocator<char>::allocate");
    assert_int_equal(s.line, 7);

    assert_false(dt_sym_lookup(sym, 0x1050, &s)); /* one past, nothing below */
    assert_false(dt_sym_lookup(sym, 0xfff, &s));
    dt_sym_free(sym);
}

static void test_inline_nesting(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string(SAMPLE);
    dt_symbol s;
    /* Each frame at its own position: the innermost at the line record, each
     * outer one at the call site inside it, the FUNC at the outermost call. */
    assert_true(dt_sym_lookup(sym, 0x1018, &s));
    assert_string_equal(s.function, "Outer::run(int)");
    assert_string_equal(s.file, "c:\\src\\a.cpp");
    assert_int_equal(s.line, 10);
    assert_int_equal(s.inline_count, 2);
    assert_string_equal(s.inlines[0].function, "inner_helper"); /* innermost first */
    assert_string_equal(s.inlines[0].file, "c:\\src\\b.h");
    assert_int_equal(s.inlines[0].line, 40);
    assert_string_equal(s.inlines[1].function, "Middle::step");
    assert_string_equal(s.inlines[1].file, "c:\\src\\b.h");
    assert_int_equal(s.inlines[1].line, 20);

    assert_true(dt_sym_lookup(sym, 0x1012, &s)); /* only the outer inline */
    assert_int_equal(s.inline_count, 1);
    assert_string_equal(s.inlines[0].function, "Middle::step");
    assert_int_equal(s.inlines[0].line, 30);
    assert_int_equal(s.line, 10);

    assert_true(dt_sym_lookup(sym, 0x102f, &s)); /* last byte of the outer range */
    assert_int_equal(s.inline_count, 1);
    assert_true(dt_sym_lookup(sym, 0x1030, &s)); /* one past it */
    assert_int_equal(s.inline_count, 0);
    dt_sym_free(sym);
}

/* Files written before INLINE had a call-site file: nest line origin ranges. */
static void test_inline_without_call_file(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string("MODULE Linux x86_64 00 a.so\n"
                                   "INLINE_ORIGIN 3 old_style\n"
                                   "FUNC 100 20 0 f\n"
                                   "INLINE 0 77 3 104 4 110 2\n"
                                   "100 20 1 0\n");
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x111, &s));
    assert_int_equal(s.inline_count, 1);
    assert_string_equal(s.inlines[0].function, "old_style");
    assert_null(s.inlines[0].file);
    assert_int_equal(s.inlines[0].line, 1);
    assert_int_equal(s.line, 77);
    assert_true(dt_sym_lookup(sym, 0x108, &s));
    assert_int_equal(s.inline_count, 0);
    assert_null(s.file); /* no FILE 0 */
    assert_int_equal(s.line, 1);
    dt_sym_free(sym);
}

/* Nesting follows addresses, not file order: C is listed after B but lies
 * inside A (crash-client.sym has such runs). */
static void test_inline_nesting_by_address(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string("MODULE Mac x86_64 00 a\n"
                                   "INLINE_ORIGIN 0 A\n"
                                   "INLINE_ORIGIN 1 B\n"
                                   "INLINE_ORIGIN 2 C\n"
                                   "FUNC 100 100 0 f\n"
                                   "INLINE 0 1 0 0 100 10\n"
                                   "INLINE 0 2 0 1 120 10\n"
                                   "INLINE 1 3 0 2 104 4\n"
                                   "100 100 9 0\n");
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x105, &s));
    assert_int_equal(s.inline_count, 2);
    assert_string_equal(s.inlines[0].function, "C");
    assert_int_equal(s.inlines[0].line, 9);
    assert_string_equal(s.inlines[1].function, "A");
    assert_int_equal(s.inlines[1].line, 3);
    assert_int_equal(s.line, 1);
    assert_true(dt_sym_lookup(sym, 0x122, &s));
    assert_int_equal(s.inline_count, 1);
    assert_string_equal(s.inlines[0].function, "B");
    assert_int_equal(s.line, 2);
    dt_sym_free(sym);
}

static void test_public_fallback(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string(SAMPLE);
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x1800, &s));
    assert_string_equal(s.function, "public_one");
    assert_int_equal(s.function_rva, 0x1800);
    assert_int_equal(s.function_size, 0);
    assert_null(s.file);
    assert_true(dt_sym_lookup(sym, 0x1fff, &s));
    assert_string_equal(s.function, "public_one");
    assert_true(dt_sym_lookup(sym, 0xfffffff0, &s));
    assert_string_equal(s.function, "public_two");
    dt_sym_free(sym);
}

/* Several records at one address: the first in the file wins, sorted or not. */
static void test_unsorted_and_duplicates(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string("MODULE windows x86 00 a.pdb\n"
                                   "FUNC 300 10 0 third\n"
                                   "FUNC 100 10 0 first\n"
                                   "FUNC 100 20 0 first_again\n"
                                   "FUNC 200 10 0 second\n");
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x105, &s));
    assert_string_equal(s.function, "first");
    assert_true(dt_sym_lookup(sym, 0x205, &s));
    assert_string_equal(s.function, "second");
    assert_true(dt_sym_lookup(sym, 0x30f, &s));
    assert_string_equal(s.function, "third");
    assert_false(dt_sym_lookup(sym, 0x115, &s));
    dt_sym_free(sym);
}

/* ---- Hostile input ----------------------------------------------------- */

static void test_not_a_sym_file(void **state)
{
    (void)state;
    dt_sym_file *sym = NULL;
    dt_error err;
    const char *text = "FUNC 1000 10 0 f\n";
    assert_int_equal(dt_sym_open_bytes(&sym, (const uint8_t *)text, strlen(text), "x.sym", 0, &err),
                     DT_ERR_FORMAT);
    assert_null(sym);
    assert_non_null(strstr(err.message, "MODULE"));
    assert_int_equal(dt_sym_open_bytes(&sym, NULL, 0, "empty.sym", 0, &err), DT_ERR_FORMAT);
    assert_int_equal(dt_sym_open(&sym, "/nonexistent/x.sym", &err), DT_ERR_IO);
    dt_sym_free(NULL);
}

static void test_malformed_lines_kept_going(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string(
        "MODULE windows x86_64 00 a.pdb\n"
        "FUNC 10g0 10 0 bad_hex\n"                /* line 2 */
        "FUNC 11112222333344445 10 0 too_wide\n"  /* line 3: 17 digits */
        "FUNC ffffffffffffffff 2 0 wraps\n"      /* line 4 */
        "FUNC 1000 10\n"                          /* line 5: missing fields */
        "FUNC 1000 10 0\n"                        /* line 6: missing name */
        "PUBLIC zz 0 p\n"                         /* line 7 */
        "FILE x name\n"                           /* line 8 */
        "FILE 99999999999999999999 name\n"        /* line 9: decimal overflow */
        "STACK WIN 9 1000 10 0 0 0 0 0 0 0 0\n"   /* line 10: unknown type */
        "STACK WIN 4 1000 10 0 0 0 0 0 0 2 0\n"   /* line 11: flag not 0/1 */
        "STACK WIN 4 100000000 10 0 0 0 0 0 0 0 0\n" /* line 12: rva over 32 bits */
        "STACK CFI 1000 .cfa: $rsp\n"             /* line 13: delta without INIT */
        "STACK CFI INIT 1000 10\n"                /* line 14: no rules */
        "1000 4 5 0\n"                            /* line 15: outside a FUNC */
        "BOGUS record\n"                          /* line 16 */
        "FUNC 2000 10 0 good\n"                   /* line 17 */
        "2000 4 9 0\n");
    assert_true(has_diag(sym, DT_DIAG_ERROR, "FUNC record", "line 2 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "FUNC record", "line 3 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "wraps", "line 4 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "FUNC record", "line 5 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "missing name", "line 6 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "PUBLIC record", "line 7 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "FILE record", "line 8 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "FILE record", "line 9 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "unknown frame type", "line 10 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "STACK WIN", "line 11 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "STACK WIN", "line 12 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "without a STACK CFI INIT", "line 13 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "STACK CFI INIT", "line 14 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "outside a FUNC", "line 15 "));
    assert_true(has_diag(sym, DT_DIAG_INFO, "unknown record", "line 16 "));
    assert_true(has_diag(sym, DT_DIAG_ERROR, "offset 0x1f", "line 2 "));
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x2002, &s));
    assert_string_equal(s.function, "good");
    assert_int_equal(s.line, 9);
    assert_false(dt_sym_lookup(sym, 0x1005, &s));
    dt_sym_free(sym);
}

static void test_bad_body_records(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string("MODULE windows x86_64 00 a.pdb\n"
                                   "FUNC 1000 40 0 f\n"
                                   "1000 4 -1 0\n"            /* line 3: negative line */
                                   "1004 4 4294967296 0\n"    /* line 4: line over 32 bits */
                                   "1008 4 8\n"               /* line 5: missing file */
                                   "100c 4 8 0 extra\n"       /* line 6: extra field */
                                   "INLINE 1 5 0 0 1000 4\n"  /* line 7: no level 0 above */
                                   "INLINE 0 5 0 1000\n"      /* line 8: half a range */
                                   "INLINE 0 5 0 0 1000 zz\n" /* line 9: bad range */
                                   "INLINE 70 5 0 0 1000 4\n" /* line 10: too deep */
                                   "1010 4 16 0\n");
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x1000, &s));
    assert_int_equal(s.line, 0);
    assert_int_equal(s.inline_count, 0);
    assert_true(dt_sym_lookup(sym, 0x1010, &s));
    assert_int_equal(s.line, 16);
    static const int bad_lines[] = {3, 4, 5, 6, 8, 9, 10};
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        int line = bad_lines[i];
        char needle[16];
        snprintf(needle, sizeof needle, "line %d ", line);
        assert_true(has_diag(sym, DT_DIAG_ERROR, "record", needle));
    }
    dt_sym_free(sym);
}

static void test_overlong_line(void **state)
{
    (void)state;
    size_t name_length = DT_SYM_MAX_LINE + 10;
    const char *head = "MODULE windows x86_64 00 a.pdb\nFUNC 1000 10 0 ";
    const char *tail = "\nFUNC 2000 10 0 short\n2000 10 3 0\n";
    char *text = malloc(strlen(head) + name_length + strlen(tail) + 1);
    assert_non_null(text);
    strcpy(text, head);
    memset(text + strlen(head), 'x', name_length);
    strcpy(text + strlen(head) + name_length, tail);
    dt_sym_file *sym = open_string(text);
    assert_true(has_diag(sym, DT_DIAG_ERROR, "longer than", "line 2 "));
    dt_symbol s;
    assert_false(dt_sym_lookup(sym, 0x1000, &s));
    assert_true(dt_sym_lookup(sym, 0x2000, &s));
    assert_string_equal(s.function, "short");
    dt_sym_free(sym);
    free(text);
}

static void test_crlf_and_nul(void **state)
{
    (void)state;
    static const char text[] = "MODULE windows x86_64 00 crlf.pdb\r\n"
                               "FILE 0 a.cpp\r\n"
                               "FUNC 1000 10 0 na\0me\r\n"
                               "1000 10 42 0\r\n"
                               "PUBLIC 3000 0 pub\r\n"
                               "FUNC 2000 10 0 no_final_newline";
    dt_sym_file *sym = open_text(text, sizeof text - 1);
    assert_string_equal(dt_sym_debug_file(sym), "crlf.pdb");
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x1004, &s));
    assert_string_equal(s.function, "na");
    assert_string_equal(s.file, "a.cpp");
    assert_int_equal(s.line, 42);
    assert_true(has_diag(sym, DT_DIAG_WARNING, "NUL byte", "line 3 "));
    assert_true(dt_sym_lookup(sym, 0x3000, &s));
    assert_string_equal(s.function, "pub");
    assert_true(dt_sym_lookup(sym, 0x2000, &s));
    assert_string_equal(s.function, "no_final_newline");
    dt_sym_free(sym);
}

/* ---- STACK CFI and STACK WIN ------------------------------------------ */

static bool rule_is(const dt_sym_cfi *cfi, const char *reg, const char *expected)
{
    dt_sym_cfi_rule rule;
    return dt_sym_cfi_rule_for(cfi, reg, &rule) && rule.expr_length == strlen(expected) &&
           memcmp(rule.expr, expected, rule.expr_length) == 0;
}

static void test_cfi_lookup(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string(SAMPLE);
    dt_sym_cfi cfi;
    assert_true(dt_sym_find_cfi(sym, 0x1000, &cfi));
    assert_int_equal(cfi.init_rva, 0x1000);
    assert_int_equal(cfi.init_size, 0x40);
    assert_int_equal(cfi.rules_count, 1);
    assert_true(rule_is(&cfi, ".cfa", "$rsp 8 +"));
    assert_true(rule_is(&cfi, ".ra", ".cfa -8 + ^"));
    assert_false(rule_is(&cfi, "$rbp", ".cfa -16 + ^"));

    assert_true(dt_sym_find_cfi(sym, 0x1003, &cfi));
    assert_int_equal(cfi.rules_count, 2);
    assert_int_equal(cfi.rules[1].rva, 0x1001);
    assert_true(rule_is(&cfi, ".cfa", "$rsp 16 +"));
    assert_true(rule_is(&cfi, "$rbp", ".cfa -16 + ^"));

    assert_true(dt_sym_find_cfi(sym, 0x103f, &cfi));
    assert_int_equal(cfi.rules_count, 3);
    assert_true(rule_is(&cfi, ".cfa", "$rbp 16 +"));
    assert_true(rule_is(&cfi, ".ra", ".cfa -8 + ^"));

    assert_false(dt_sym_find_cfi(sym, 0x1040, &cfi));
    assert_false(dt_sym_find_cfi(sym, 0xfff, &cfi));
    dt_sym_free(sym);
}

/* One INIT record with more deltas than a lookup reads. */
static void test_cfi_delta_cap(void **state)
{
    (void)state;
    const char *head = "MODULE windows x86_64 00 a.pdb\nSTACK CFI INIT 1000 10 .cfa: $rsp 8 +\n";
    const char *delta = "STACK CFI 1001 .cfa: $rsp 16 +\n";
    size_t deltas = DT_SYM_MAX_CFI_DELTAS + 10;
    char *text = malloc(strlen(head) + deltas * strlen(delta) + 1);
    assert_non_null(text);
    char *p = stpcpy(text, head);
    for (size_t i = 0; i < deltas; i++)
        p = stpcpy(p, delta);
    dt_sym_file *sym = open_string(text);
    dt_sym_cfi cfi;
    assert_true(dt_sym_find_cfi(sym, 0x1001, &cfi));
    assert_int_equal(cfi.rules_count, 1 + DT_SYM_MAX_CFI_DELTAS);
    assert_true(has_diag(sym, DT_DIAG_ERROR, "delta records", "STACK CFI"));
    dt_sym_free(sym);
    free(text);
}

static void test_cfi_rule_splitting(void **state)
{
    (void)state;
    const char *text = ".cfa: $rsp 8 +  .ra: .cfa -8 + ^ $rbx: .cfa -24 + ^";
    const char *end = text + strlen(text);
    dt_sym_cfi_rule rule;
    const char *expected[][2] = {{".cfa", "$rsp 8 +"}, {".ra", ".cfa -8 + ^"},
                                 {"$rbx", ".cfa -24 + ^"}};
    for (size_t i = 0; i < 3; i++) {
        assert_true(dt_sym_cfi_next_rule(&text, end, &rule));
        assert_int_equal(rule.reg_length, strlen(expected[i][0]));
        assert_memory_equal(rule.reg, expected[i][0], rule.reg_length);
        assert_int_equal(rule.expr_length, strlen(expected[i][1]));
        assert_memory_equal(rule.expr, expected[i][1], rule.expr_length);
    }
    assert_false(dt_sym_cfi_next_rule(&text, end, &rule));

    const char *bad[] = {"$rsp 8 +", ".cfa:", ".cfa: .ra: 8", ":", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = bad[i];
        assert_false(dt_sym_cfi_next_rule(&p, p + strlen(p), &rule));
    }
}

static void test_win_lookup(void **state)
{
    (void)state;
    dt_sym_file *sym = open_string(SAMPLE);
    dt_sym_win win;
    assert_true(dt_sym_find_win(sym, 0x1010, &win));
    assert_int_equal(win.type, DT_SYM_WIN_FRAME_DATA);
    assert_int_equal(win.rva, 0x1000);
    assert_int_equal(win.code_size, 0x40);
    assert_int_equal(win.prolog_size, 4);
    assert_int_equal(win.epilog_size, 0);
    assert_int_equal(win.parameter_size, 8);
    assert_int_equal(win.saved_regs_size, 4);
    assert_int_equal(win.locals_size, 0x10);
    assert_int_equal(win.max_stack_size, 0);
    assert_true(win.has_program);
    const char *program = "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =";
    assert_int_equal(win.program_length, strlen(program));
    assert_memory_equal(win.program, program, win.program_length);

    assert_true(dt_sym_find_win(sym, 0x104f, &win));
    assert_int_equal(win.type, DT_SYM_WIN_FPO);
    assert_false(win.has_program);
    assert_true(win.allocates_base_pointer);
    assert_int_equal(win.parameter_size, 0xc);
    assert_false(dt_sym_find_win(sym, 0x1050, &win));
    dt_sym_free(sym);
}

/* ---- The evaluator ----------------------------------------------------- */

typedef struct registers {
    const char *names[8];
    uint64_t values[8];
    size_t count;
    uint64_t memory_base;      /* 8-byte words readable from here */
    uint64_t memory[16];
} registers;

static bool get_register(void *ctx, const char *name, size_t length, uint64_t *value)
{
    registers *r = ctx;
    for (size_t i = 0; i < r->count; i++) {
        if (strlen(r->names[i]) == length && memcmp(r->names[i], name, length) == 0) {
            *value = r->values[i];
            return true;
        }
    }
    return false;
}

static bool set_register(void *ctx, const char *name, size_t length, uint64_t value)
{
    registers *r = ctx;
    for (size_t i = 0; i < r->count; i++) {
        if (strlen(r->names[i]) == length && memcmp(r->names[i], name, length) == 0) {
            r->values[i] = value;
            return true;
        }
    }
    return false;
}

static bool read_memory(void *ctx, uint64_t address, uint64_t *value)
{
    registers *r = ctx;
    if (address < r->memory_base || (address - r->memory_base) % 8 ||
        (address - r->memory_base) / 8 >= 16)
        return false;
    *value = r->memory[(address - r->memory_base) / 8];
    return true;
}

static dt_sym_cfi_eval eval(const dt_sym_cfi_env *env, const char *expr, uint64_t *out)
{
    return dt_sym_cfi_evaluate(expr, strlen(expr), env, out);
}

/* The corpus rules of pe_only_symbol_test.sym / dump_syms_regtest64.sym:
 * "STACK CFI INIT 1010 6a .cfa: $rsp .ra: .cfa 8 - ^", "STACK CFI 1010
 * .cfa: $rsp 80 +", and crash-client.sym's frame-pointer rules. */
static void test_evaluate_corpus_rules(void **state)
{
    (void)state;
    registers regs = {.names = {"$rsp", "$rbp"}, .values = {0x1000, 0x1040}, .count = 2,
                      .memory_base = 0x1000};
    regs.memory[8] = 0x2000;       /* saved rbp at 0x1040 */
    regs.memory[9] = 0x140001234;  /* return address at 0x1048 */
    dt_sym_cfi_env env = {get_register, read_memory, NULL, &regs, 8};
    uint64_t cfa, ra, rbp;
    assert_int_equal(eval(&env, "$rsp", &cfa), DT_CFI_EVAL_OK);
    assert_int_equal(cfa, 0x1000);
    assert_int_equal(eval(&env, "$rsp 80 +", &cfa), DT_CFI_EVAL_OK);
    assert_int_equal(cfa, 0x1050);
    regs.names[2] = ".cfa";
    regs.values[2] = cfa;
    regs.count = 3;
    assert_int_equal(eval(&env, ".cfa 8 - ^", &ra), DT_CFI_EVAL_OK);
    assert_int_equal(ra, 0x140001234);
    /* .cfa: $rbp 16 + $rbp: .cfa -16 + ^ .ra: .cfa -8 + ^ */
    assert_int_equal(eval(&env, "$rbp 16 +", &cfa), DT_CFI_EVAL_OK);
    assert_int_equal(cfa, 0x1050);
    assert_int_equal(eval(&env, ".cfa -16 + ^", &rbp), DT_CFI_EVAL_OK);
    assert_int_equal(rbp, 0x2000);
    assert_int_equal(eval(&env, ".cfa -8 + ^", &ra), DT_CFI_EVAL_OK);
    assert_int_equal(ra, 0x140001234);
    assert_int_equal(eval(&env, "$rsp 8 *  3 / 1000 % 16 @", &cfa), DT_CFI_EVAL_OK);
    assert_int_equal(cfa, 912); /* 0x8000 / 3 = 10922; % 1000 = 922; aligned to 16 */
}

static void test_evaluate_operators(void **state)
{
    (void)state;
    registers regs = {.names = {"$esp"}, .values = {0x10}, .count = 1};
    dt_sym_cfi_env env = {get_register, NULL, NULL, &regs, 8};
    uint64_t v;
    assert_int_equal(eval(&env, "7 2 -", &v), DT_CFI_EVAL_OK);
    assert_int_equal(v, 5);
    assert_int_equal(eval(&env, "2 7 -", &v), DT_CFI_EVAL_OK);
    assert_int_equal(v, UINT64_MAX - 4); /* wraps */
    assert_int_equal(eval(&env, "17 5 %", &v), DT_CFI_EVAL_OK);
    assert_int_equal(v, 2);
    assert_int_equal(eval(&env, "$esp 23 + 16 @", &v), DT_CFI_EVAL_OK);
    assert_int_equal(v, 0x20);
    env.address_size = 4;
    assert_int_equal(eval(&env, "2 7 -", &v), DT_CFI_EVAL_OK);
    assert_int_equal(v, 0xfffffffb);
    assert_int_equal(eval(&env, "-1", &v), DT_CFI_EVAL_OK);
    assert_int_equal(v, 0xffffffff);
}

static void test_evaluate_hostile(void **state)
{
    (void)state;
    registers regs = {.names = {"$rsp"}, .values = {0x1000}, .count = 1};
    dt_sym_cfi_env env = {get_register, NULL, NULL, &regs, 8};
    uint64_t v;
    static const struct {
        const char *expr;
        dt_sym_cfi_eval expected;
    } cases[] = {
        {"+", DT_CFI_EVAL_STACK_UNDERFLOW},
        {"1 +", DT_CFI_EVAL_STACK_UNDERFLOW},
        {"^", DT_CFI_EVAL_STACK_UNDERFLOW},
        {"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 "
         "31 32 33", DT_CFI_EVAL_STACK_OVERFLOW},
        {"1 &", DT_CFI_EVAL_BAD_TOKEN},
        {"1 2 ++", DT_CFI_EVAL_BAD_TOKEN},
        {"12x", DT_CFI_EVAL_BAD_TOKEN},
        {"-", DT_CFI_EVAL_STACK_UNDERFLOW},
        {"--1", DT_CFI_EVAL_BAD_TOKEN},
        {"99999999999999999999", DT_CFI_EVAL_BAD_TOKEN},
        {"1 0 /", DT_CFI_EVAL_DIVIDE_BY_ZERO},
        {"1 0 %", DT_CFI_EVAL_DIVIDE_BY_ZERO},
        {"16 0 @", DT_CFI_EVAL_BAD_ALIGNMENT},
        {"16 3 @", DT_CFI_EVAL_BAD_ALIGNMENT},
        {"$rsp ^", DT_CFI_EVAL_MEMORY},
        {"$nope 8 +", DT_CFI_EVAL_UNKNOWN_REGISTER},
        {"$rsp 1 =", DT_CFI_EVAL_ASSIGNMENT},
        {"1 2", DT_CFI_EVAL_RESULT},
        {"", DT_CFI_EVAL_RESULT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dt_sym_cfi_eval r = eval(&env, cases[i].expr, &v);
        if (r != cases[i].expected)
            fail_msg("\"%s\": got %s, expected %s", cases[i].expr, dt_sym_cfi_eval_name(r),
                     dt_sym_cfi_eval_name(cases[i].expected));
    }
    /* A long but shallow program stays bounded by the token cap. */
    size_t length = (DT_SYM_CFI_TOKEN_MAX + 1) * 4;
    char *longest = malloc(length + 1);
    assert_non_null(longest);
    strcpy(longest, "1");
    for (size_t used = 1; used + 4 <= length;)
        used += (size_t)sprintf(longest + used, " 1 +");
    assert_int_equal(eval(&env, longest, &v), DT_CFI_EVAL_BAD_TOKEN);
    free(longest);
    assert_string_equal(dt_sym_cfi_eval_name(DT_CFI_EVAL_DIVIDE_BY_ZERO), "division by zero");
}

/* STACK WIN program of an x86 frame-data record. */
static void test_win_program(void **state)
{
    (void)state;
    registers regs = {.names = {"$ebp", "$esp", "$eip", "$T0"},
                      .values = {0x1010, 0x1000, 0, 0}, .count = 4, .memory_base = 0x1010};
    regs.memory[0] = 0x1080;       /* saved ebp at [ebp] */
    regs.memory[1] = 0x401234;     /* return address at [ebp + 8]: 8-byte slots here */
    dt_sym_cfi_env env = {get_register, read_memory, set_register, &regs, 4};
    const char *program = "$T0 $ebp = $eip $T0 8 + ^ = $ebp $T0 ^ = $esp $T0 16 + =";
    assert_int_equal(dt_sym_win_run_program(program, strlen(program), &env), DT_CFI_EVAL_OK);
    assert_int_equal(regs.values[3], 0x1010);
    assert_int_equal(regs.values[2], 0x401234);
    assert_int_equal(regs.values[0], 0x1080);
    assert_int_equal(regs.values[1], 0x1020);
    const char *leftover = "$T0 $ebp = 5";
    assert_int_equal(dt_sym_win_run_program(leftover, strlen(leftover), &env),
                     DT_CFI_EVAL_RESULT);
    const char *to_number = "5 $ebp =";
    assert_int_equal(dt_sym_win_run_program(to_number, strlen(to_number), &env),
                     DT_CFI_EVAL_ASSIGNMENT);
    env.set_register = NULL;
    assert_int_equal(dt_sym_win_run_program(program, strlen(program), &env),
                     DT_CFI_EVAL_ASSIGNMENT);
}

/* ---- Demangling -------------------------------------------------------- */

static void expect_demangled(const char *mangled, const char *expected)
{
    char out[512];
    assert_true(dt_demangle_itanium(mangled, out, sizeof out));
    assert_string_equal(out, expected);
}

/* Names from x86_64-w64-mingw32-nm fixtures/bin/cpp_exception.exe. */
static void test_demangle_mingw_names(void **state)
{
    (void)state;
    expect_demangled("_ZN9__gnu_cxx13new_allocatorIcE8allocateEmPKv",
                     "__gnu_cxx::new_allocator<char>::allocate");
    expect_demangled("_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEED4Ev",
                     "std::__cxx11::basic_string<char, std::char_traits<char>, "
                     "std::allocator<char> >::~basic_string");
    expect_demangled("_ZL14parse_quantityRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE",
                     "parse_quantity");
    expect_demangled("_ZL12import_batchPKPKci.constprop.0", "import_batch");
    expect_demangled("_ZN10__cxxabiv111__terminateEPFvvE", "__cxxabiv1::__terminate");
    expect_demangled("_ZN9__gnu_cxx15__concat_size_tEPcyy", "__gnu_cxx::__concat_size_t");
    expect_demangled("_ZN10BatchTimer13elapsed_totalE", "BatchTimer::elapsed_total");
    expect_demangled("_Z6printfPKcz", "printf");
    expect_demangled("__Z6printfPKcz", "printf"); /* 32-bit MinGW underscore */
}

static void test_demangle_rejects(void **state)
{
    (void)state;
    char out[64];
    assert_false(dt_demangle_itanium("main", out, sizeof out));
    assert_string_equal(out, "main");
    assert_false(dt_demangle_itanium("_Z", out, sizeof out));
    assert_string_equal(out, "_Z");
    assert_false(dt_demangle_itanium("?Cleanup@UL_APP_POOL@@QEAAXXZ", out, sizeof out));
    assert_false(dt_demangle_itanium("_ZN1a", out, 0));
    char small[8];
    assert_true(dt_demangle_itanium("_ZN10BatchTimer13elapsed_totalE", small, sizeof small));
    assert_string_equal(small, "BatchTi"); /* truncated, terminated */
    size_t length = 5000;
    char *huge = malloc(length + 1);
    assert_non_null(huge);
    memset(huge, 'a', length);
    memcpy(huge, "_ZN", 3);
    huge[length] = '\0';
    assert_false(dt_demangle_itanium(huge, out, sizeof out)); /* over the input cap */
    assert_int_equal(strlen(out), sizeof out - 1);
    free(huge);
}

/* ---- The shared corpus ------------------------------------------------- */

static const char *corpus_path(char *buffer, size_t size, const char *relative)
{
    snprintf(buffer, size, "%s/corpus/%s", DT_SHARED_DIR, relative);
    return access(buffer, R_OK) == 0 ? buffer : NULL;
}

static const char *const CORPUS_SYMS[] = {
    "google+breakpad/src/tools/windows/dump_syms/testdata/dump_syms_regtest64.sym",
    "google+breakpad/src/tools/windows/dump_syms/testdata/pe_only_symbol_test.sym",
    "getsentry+symbolic/symbolic-testutils/fixtures/windows/CrashWithException.pdb.sym",
    "rust-minidump+rust-minidump/testdata/symbols/crash-client/"
    "509C0610949836F7B70BD88BCF03E5400/crash-client.sym",
};

/* Every corpus file opens without error diagnostics, and every FUNC's body
 * parses cleanly when looked up. */
static void test_corpus_parses_cleanly(void **state)
{
    (void)state;
    char path[4096];
    size_t opened = 0;
    for (size_t i = 0; i < sizeof CORPUS_SYMS / sizeof CORPUS_SYMS[0]; i++) {
        if (!corpus_path(path, sizeof path, CORPUS_SYMS[i]))
            continue;
        dt_sym_file *sym;
        dt_error err;
        assert_int_equal(dt_sym_open(&sym, path, &err), DT_OK);
        const sym_func *funcs = sym->funcs.items;
        for (size_t f = 0; f < sym->funcs.count; f++) {
            dt_symbol s;
            assert_true(dt_sym_lookup(sym, (uint32_t)funcs[f].address, &s));
        }
        size_t n;
        const dt_diagnostic *d = dt_sym_diagnostics(sym, &n);
        for (size_t k = 0; k < n; k++)
            if (d[k].level != DT_DIAG_INFO)
                fail_msg("%s", d[k].message);
        dt_sym_free(sym);
        opened++;
    }
    if (opened == 0)
        skip();
}

static void expect_lookup(dt_sym_file *sym, uint32_t rva, const char *function, uint32_t start,
                          const char *file_suffix, uint32_t line)
{
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, rva, &s));
    assert_string_equal(s.function, function);
    assert_int_equal(s.function_rva, start);
    if (file_suffix) {
        assert_non_null(s.file);
        assert_non_null(strstr(s.file, file_suffix));
    }
    assert_int_equal(s.line, line);
}

/* dump_syms_regtest64.sym: FUNC 1010 6a 0 main with lines
 * 1010 d 57, ..., 105f 16 64, 1075 5 65. */
static void test_corpus_regtest64(void **state)
{
    (void)state;
    char path[4096];
    if (!corpus_path(path, sizeof path, CORPUS_SYMS[0]))
        skip();
    dt_sym_file *sym;
    dt_error err;
    assert_int_equal(dt_sym_open(&sym, path, &err), DT_OK);
    assert_string_equal(dt_sym_debug_id(sym), "72E103A85CB249078B76B2E7C06257B13");
    expect_lookup(sym, 0x1010, "main", 0x1010, "dump_syms_regtest.cc", 57);
    expect_lookup(sym, 0x1060, "main", 0x1010, "dump_syms_regtest.cc", 64);
    expect_lookup(sym, 0x1079, "main", 0x1010, "dump_syms_regtest.cc", 65);
    expect_lookup(sym, 0x1080, "google_breakpad::C::C()", 0x1080, "dump_syms_regtest.cc", 37);
    dt_sym_cfi cfi;
    assert_true(dt_sym_find_cfi(sym, 0x1030, &cfi));
    assert_int_equal(cfi.init_rva, 0x1010);
    assert_true(rule_is(&cfi, ".cfa", "$rsp 80 +"));
    assert_true(rule_is(&cfi, ".ra", ".cfa 8 - ^"));
    dt_sym_free(sym);
}

/* crash-client.sym: FUNC m dd0 8b 0 alloc::raw_vec::finish_grow<..> with
 * INLINE 0 465 2 1 df3 5 dfb b / INLINE 1 256 1 2 df3 5 dfb b /
 * INLINE 2 203 1 3 dfb b, and line dfb .. in alloc.rs. */
static void test_corpus_crash_client_inlines(void **state)
{
    (void)state;
    char path[4096];
    if (!corpus_path(path, sizeof path, CORPUS_SYMS[3]))
        skip();
    dt_sym_file *sym;
    dt_error err;
    assert_int_equal(dt_sym_open(&sym, path, &err), DT_OK);
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0xdfd, &s));
    assert_string_equal(s.function, "alloc::raw_vec::finish_grow::<alloc::alloc::Global>");
    assert_int_equal(s.inline_count, 3);
    assert_string_equal(s.inlines[0].function, "alloc::alloc::realloc");
    assert_string_equal(s.inlines[1].function, "alloc::alloc::Global::grow_impl");
    assert_int_equal(s.inlines[1].line, 203);
    assert_string_equal(s.inlines[2].function,
                        "<alloc::alloc::Global as core::alloc::Allocator>::grow");
    assert_int_equal(s.inlines[2].line, 256);
    assert_int_equal(s.line, 465);
    assert_non_null(strstr(s.file, "raw_vec.rs"));
    /* rust-minidump's test_minidump_stackwalk__macos_inlines_human.snap,
     * thread 0 frames 2-4 (crash-client at 0x102a54000, return address
     * 0x102a5823e, looked up one byte before): real_main::{closure#1}
     * [main.rs : 88], real_main [main.rs : 132], main [main.rs : 142]. */
    assert_true(dt_sym_lookup(sym, 0x423d, &s));
    assert_string_equal(s.function, "crash_client::main");
    assert_non_null(strstr(s.file, "main.rs"));
    assert_int_equal(s.line, 142);
    assert_int_equal(s.inline_count, 2);
    assert_string_equal(s.inlines[0].function, "crash_client::real_main::{closure#1}");
    assert_int_equal(s.inlines[0].line, 88);
    assert_string_equal(s.inlines[1].function, "crash_client::real_main");
    assert_int_equal(s.inlines[1].line, 132);
    /* Frames 0-1 at rip 0x102a68cd4: write_volatile [mod.rs : 1574] inlined
     * into raise_segfault [lib.rs : 133]. */
    assert_true(dt_sym_lookup(sym, 0x14cd4, &s));
    assert_string_equal(s.function, "sadness_generator::raise_segfault");
    assert_int_equal(s.line, 133);
    assert_int_equal(s.inline_count, 1);
    assert_string_equal(s.inlines[0].function, "core::ptr::write_volatile::<u8>");
    assert_int_equal(s.inlines[0].line, 1574);
    assert_true(dt_sym_lookup(sym, 0x43f5, &s)); /* PUBLIC 43f0 0 main */
    dt_sym_cfi cfi;
    assert_true(dt_sym_find_cfi(sym, 0xdd0, &cfi));
    assert_true(rule_is(&cfi, "$r15", ".cfa -24 + ^"));
    dt_sym_free(sym);
}

/* ---- Resource bounds ----------------------------------------------------- */

/* A FUNC with one line record more than DT_SYM_MAX_FUNC_RECORDS, record i
 * covering byte 0x1000 + i with line i + 1: the last one is not read. */
static void test_func_record_cap(void **state)
{
    (void)state;
    size_t records = DT_SYM_MAX_FUNC_RECORDS + 1;
    char *text = malloc(64 + records * 24);
    assert_non_null(text);
    char *p = text;
    p += sprintf(p, "MODULE windows x86_64 00 a.pdb\nFUNC 1000 %zx 0 big\n", records);
    for (size_t i = 0; i < records; i++)
        p += sprintf(p, "%zx 1 %zu 0\n", 0x1000 + i, i + 1);
    dt_sym_file *sym = open_string(text);
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x1000 + records - 2, &s));
    assert_int_equal(s.line, records - 1);
    assert_true(dt_sym_lookup(sym, 0x1000 + records - 1, &s));
    assert_string_equal(s.function, "big");
    assert_int_equal(s.line, 0);
    assert_true(
        has_diag(sym, DT_DIAG_ERROR, "line and INLINE records in one FUNC", "line 1048579"));
    dt_sym_free(sym);
    free(text);
}

/* Indexing stops at the record cap, here 1000 of 1001 FUNC records: the
 * records before it are kept and looked up, the rest of the file is
 * ignored, with one error naming the line. */
static void test_record_cap(void **state)
{
    (void)state;
    enum { CAP = 1000 };
    char *text = malloc(64 + (CAP + 1) * 32);
    assert_non_null(text);
    char *p = text + sprintf(text, "MODULE windows x86_64 00 a.pdb\n");
    for (size_t i = 0; i <= CAP; i++)
        p += sprintf(p, "FUNC %zx 10 0 f%zu\n", 0x1000 + i * 0x10, i);
    dt_sym_file *sym = NULL;
    dt_error err;
    assert_int_equal(dt_sym_open_bytes(&sym, (const uint8_t *)text, strlen(text), "test.sym", CAP,
                                       &err), DT_OK);
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x1000 + (CAP - 1) * 0x10, &s));
    assert_string_equal(s.function, "f999");
    assert_false(dt_sym_lookup(sym, 0x1000 + CAP * 0x10, &s) && strcmp(s.function, "f1000") == 0);
    assert_int_equal(count_diags(sym, DT_DIAG_ERROR), 1);
    assert_true(has_diag(sym, DT_DIAG_ERROR, "more than 1000 records", "line 1002"));
    dt_sym_free(sym);
    free(text);
}

/* INLINE nest levels stop at DT_SYM_MAX_INLINE_DEPTH - 1. */
static void test_inline_depth_cap(void **state)
{
    (void)state;
    char text[256];
    snprintf(text, sizeof text,
             "MODULE windows x86_64 00 a.pdb\nFILE 0 a.cpp\nINLINE_ORIGIN 0 inner\n"
             "FUNC 1000 10 0 outer\nINLINE %d 5 0 0 1000 10\n1000 10 3 0\n",
             DT_SYM_MAX_INLINE_DEPTH);
    dt_sym_file *sym = open_string(text);
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x1000, &s));
    assert_string_equal(s.function, "outer");
    assert_int_equal(s.inline_count, 0);
    assert_true(has_diag(sym, DT_DIAG_ERROR, "nest level 64 over the limit of 63", "line 5"));
    dt_sym_free(sym);
}

/* INLINE records whose address ranges add up to more than
 * DT_SYM_MAX_INLINE_RANGES in one FUNC: the record that crosses it is dropped. */
static void test_inline_range_cap(void **state)
{
    (void)state;
    enum { PAIRS_PER_LINE = 6000 };
    size_t lines = DT_SYM_MAX_INLINE_RANGES / PAIRS_PER_LINE + 1;
    char *text = malloc(256 + lines * (16 + PAIRS_PER_LINE * 7));
    assert_non_null(text);
    char *p = stpcpy(text, "MODULE windows x86_64 00 a.pdb\nFILE 0 a.cpp\nINLINE_ORIGIN 0 inner\n"
                           "FUNC 1000 10 0 outer\n1000 10 3 0\n");
    for (size_t i = 0; i < lines; i++) {
        p = stpcpy(p, "INLINE 0 5 0 0");
        for (size_t k = 0; k < PAIRS_PER_LINE; k++)
            p = stpcpy(p, " 1000 1");
        p = stpcpy(p, "\n");
    }
    dt_sym_file *sym = open_string(text);
    dt_symbol s;
    assert_true(dt_sym_lookup(sym, 0x1000, &s));
    assert_string_equal(s.function, "outer");
    assert_int_equal(s.inline_count, 1);
    assert_true(has_diag(sym, DT_DIAG_ERROR, "address ranges in one FUNC", "INLINE"));
    dt_sym_free(sym);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_module_and_info),
        cmocka_unit_test(test_multiple_flags),
        cmocka_unit_test(test_function_boundaries),
        cmocka_unit_test(test_inline_nesting),
        cmocka_unit_test(test_inline_without_call_file),
        cmocka_unit_test(test_inline_nesting_by_address),
        cmocka_unit_test(test_public_fallback),
        cmocka_unit_test(test_unsorted_and_duplicates),
        cmocka_unit_test(test_not_a_sym_file),
        cmocka_unit_test(test_malformed_lines_kept_going),
        cmocka_unit_test(test_bad_body_records),
        cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_crlf_and_nul),
        cmocka_unit_test(test_cfi_lookup),
        cmocka_unit_test(test_cfi_delta_cap),
        cmocka_unit_test(test_func_record_cap),
        cmocka_unit_test(test_record_cap),
        cmocka_unit_test(test_inline_depth_cap),
        cmocka_unit_test(test_inline_range_cap),
        cmocka_unit_test(test_cfi_rule_splitting),
        cmocka_unit_test(test_win_lookup),
        cmocka_unit_test(test_evaluate_corpus_rules),
        cmocka_unit_test(test_evaluate_operators),
        cmocka_unit_test(test_evaluate_hostile),
        cmocka_unit_test(test_win_program),
        cmocka_unit_test(test_demangle_mingw_names),
        cmocka_unit_test(test_demangle_rejects),
        cmocka_unit_test(test_corpus_parses_cleanly),
        cmocka_unit_test(test_corpus_regtest64),
        cmocka_unit_test(test_corpus_crash_client_inlines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
