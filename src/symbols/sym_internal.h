/*
 * Private state of a Breakpad .sym file, shared by src/symbols/sym*.c.
 *
 * Opening makes one pass over the mapped text and records, per FUNC, PUBLIC,
 * FILE, INLINE_ORIGIN, STACK CFI INIT and STACK WIN record, its address (or
 * id) and byte offset in growable arrays sorted afterwards. A FUNC's line and
 * INLINE records are parsed only when a lookup lands in that FUNC; STACK CFI
 * delta records only when dt_sym_find_cfi lands in their INIT record.
 */
#ifndef DT_SYMBOLS_SYM_INTERNAL_H
#define DT_SYMBOLS_SYM_INTERNAL_H

#include <stdarg.h>
#include <string.h>

#include "dumptriage/sym_cfi.h"
#include "base/arena.h"
#include "base/diag.h"
#include "base/mapfile.h"

/* Limits on hostile input (docs/sym.md). */
enum {
    DT_SYM_MAX_LINE = 64 * 1024,            /* bytes per line, CR/LF excluded */
    DT_SYM_MAX_RECORDS = 50 * 1000 * 1000,  /* indexed records in one file */
    DT_SYM_MAX_FUNC_RECORDS = 1 << 20,      /* line + INLINE records in one FUNC */
    DT_SYM_MAX_INLINE_DEPTH = 64,           /* INLINE nest levels */
    DT_SYM_MAX_INLINE_RANGES = 1 << 20,     /* INLINE address ranges in one FUNC */
    DT_SYM_MAX_CFI_DELTAS = 1 << 16         /* delta records after one INIT */
};

/* One line of the file, without its CR/LF. */
typedef struct sym_line {
    const char *text;
    size_t length;
    uint64_t offset;         /* byte offset of the line's first character */
    uint64_t end;            /* byte offset just past its newline */
    uint64_t number;         /* 1-based */
} sym_line;

/* Space-separated fields of a line, read left to right. */
typedef struct sym_fields {
    const char *pos;
    const char *end;
} sym_fields;

typedef struct sym_vec {
    void *items;
    size_t count;
    size_t capacity;
} sym_vec;

typedef struct sym_body sym_body;

typedef struct sym_func {
    uint64_t address;
    uint64_t size;
    uint64_t offset;         /* of the FUNC line */
    uint64_t line_number;
    uint64_t body_begin;     /* first byte after the FUNC line */
    uint64_t body_end;       /* end of its line and INLINE records */
    const char *name_text;   /* in the mapped file */
    size_t name_length;
    bool multiple;           /* the `m` flag */
    const char *name;        /* NUL-terminated, demangled; on first use */
    sym_body *body;          /* on first use */
} sym_func;

typedef struct sym_public {
    uint64_t address;
    uint64_t offset;
    uint64_t line_number;
    const char *name_text;
    size_t name_length;
    bool multiple;
    const char *name;
} sym_public;

/* FILE and INLINE_ORIGIN records: an id and a name. */
typedef struct sym_named {
    uint64_t id;
    uint64_t offset;
    uint64_t line_number;
    const char *name_text;
    size_t name_length;
    const char *name;
} sym_named;

typedef struct sym_cfi_init {
    uint64_t address;
    uint64_t size;
    uint64_t offset;
    uint64_t line_number;
    const char *rules;
    size_t rules_length;
    uint64_t deltas_begin;   /* the delta records that follow it */
    uint64_t deltas_end;
} sym_cfi_init;

typedef struct sym_win {
    dt_sym_win win;
    uint64_t offset;
} sym_win;

enum { SYM_WIN_TYPES = 5 };

struct dt_sym_file {
    const char *label;
    dt_arena arena;
    dt_diag_list diags;
    dt_mapped_file file;
    const char *text;
    size_t size;

    dt_sym_module_info module;
    bool has_module;

    sym_vec funcs;           /* sym_func, by address */
    sym_vec publics;         /* sym_public, by address */
    sym_vec files;           /* sym_named, by id */
    sym_vec origins;         /* sym_named, by id */
    sym_vec cfi;             /* sym_cfi_init, by address */
    sym_vec win[SYM_WIN_TYPES]; /* sym_win per type, by rva */
    size_t record_count;
    size_t max_records;      /* DT_SYM_MAX_RECORDS unless a test sets a smaller one */

    dt_sym_cfi_rules *cfi_rules; /* dt_sym_find_cfi's result buffer */
    size_t cfi_rules_capacity;
};

/* Opens .sym text that the caller keeps alive (fuzzing, tests), indexing at
 * most `max_records` records (0: DT_SYM_MAX_RECORDS, whose smallest input
 * past it is too large for a unit test). */
dt_status dt_sym_open_bytes(dt_sym_file **out, const uint8_t *bytes, size_t size,
                            const char *label, size_t max_records, dt_error *err);

/* ---- sym_text.c ---------------------------------------------------------- */

/* Reads the line at *pos and moves *pos past its newline; false at the end. */
bool sym_next_line(const char *text, size_t size, size_t *pos, sym_line *out);
bool sym_next_field(sym_fields *fields, const char **field, size_t *length);
/* The rest of the line after the separating space; false when empty. */
bool sym_rest(sym_fields *fields, const char **rest, size_t *length);
/* Hexadecimal without "0x", at most 64 bits. */
bool sym_parse_hex(const char *text, size_t length, uint64_t *out);
/* Unsigned decimal, at most `max`. */
bool sym_parse_decimal(const char *text, size_t length, uint64_t max, uint64_t *out);
bool sym_next_hex(sym_fields *fields, uint64_t *out);
bool sym_next_decimal(sym_fields *fields, uint64_t max, uint64_t *out);
static inline bool sym_starts_with(const sym_line *line, const char *prefix, size_t length)
{
    return line->length >= length && memcmp(line->text, prefix, length) == 0;
}
static inline bool sym_is_hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/* `address + size` does not wrap and `rva` lies in [address, address + size). */
static inline bool sym_covers(uint64_t address, uint64_t size, uint64_t rva)
{
    return rva >= address && rva - address < size;
}

void *sym_vec_push(sym_vec *vec, size_t item_size);
void sym_vec_free(sym_vec *vec);

/* A diagnostic naming the file, the record, the line number and offset. */
void sym_diag(dt_sym_file *sym, dt_diag_level level, const sym_line *line, const char *record,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A NUL-terminated copy of a name in the arena; an Itanium-mangled name is
 * demangled. A NUL byte inside the name truncates it, with a warning. */
const char *sym_copy_name(dt_sym_file *sym, const char *text, size_t length,
                          const sym_line *line, const char *record);

/* ---- sym_index.c --------------------------------------------------------- */

/* Index of the first record at the greatest address <= rva, or the count
 * when there is none. */
size_t sym_floor_cfi(const dt_sym_file *sym, uint64_t rva);
size_t sym_floor_win(const sym_vec *win, uint64_t rva);
/* The FILE or INLINE_ORIGIN name with `id`, NULL when there is none. */
const char *sym_named_lookup(dt_sym_file *sym, sym_vec *named, uint64_t id, const char *record);

/* ---- sym_func.c ---------------------------------------------------------- */

/* Parses the FUNC's line and INLINE records once; NULL when out of memory. */
sym_body *sym_func_body(dt_sym_file *sym, sym_func *func);
/* Fills `out` for `rva` inside `func`. */
void sym_func_resolve(dt_sym_file *sym, sym_func *func, uint64_t rva, dt_symbol *out);

/* ---- sym_stack.c --------------------------------------------------------- */

/* Parses a STACK WIN record (the text after "STACK WIN ") into sym->win. */
void sym_index_stack_win(dt_sym_file *sym, const sym_line *line, sym_fields *fields);

#endif
