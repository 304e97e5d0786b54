/*
 * Opening a Breakpad .sym file: one pass over the text that indexes the
 * records by address or id, then sorting. Record layouts follow Breakpad's
 * docs/symbol_files.md; all numbers are hexadecimal unless noted.
 */
#include "symbols/sym_internal.h"

#include <stdlib.h>

#include "base/text.h"

/* The FUNC or STACK CFI INIT record whose trailing records are being read. */
typedef struct index_state {
    dt_sym_file *sym;
    sym_line line;
    sym_func *open_func;     /* valid until the next push to sym->funcs */
    sym_cfi_init *open_cfi;
    bool stopped;            /* the record cap was reached */
} index_state;

static bool count_record(index_state *st)
{
    if (st->sym->record_count < st->sym->max_records) {
        st->sym->record_count++;
        return true;
    }
    sym_diag(st->sym, DT_DIAG_ERROR, &st->line, "any",
             "more than %zu records; the rest of the file is ignored", st->sym->max_records);
    st->stopped = true;
    return false;
}

static void *push_record(index_state *st, sym_vec *vec, size_t item_size, const char *record)
{
    if (!count_record(st))
        return NULL;
    void *item = sym_vec_push(vec, item_size);
    if (!item) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, record, "out of memory; record dropped");
        st->sym->record_count--;
    }
    return item;
}

static sym_fields fields_after(const sym_line *line, size_t prefix)
{
    sym_fields f = {line->text + prefix, line->text + line->length};
    return f;
}

static const char *copy_field(dt_sym_file *sym, const char *text, size_t length)
{
    const char *copy = dt_arena_strndup(&sym->arena, text, length);
    return copy ? copy : "";
}

/* MODULE operatingsystem architecture id name (name may hold spaces). */
static void index_module(index_state *st)
{
    sym_fields f = fields_after(&st->line, 7);
    const char *os, *cpu, *id, *name;
    size_t os_len, cpu_len, id_len, name_len;
    if (!sym_next_field(&f, &os, &os_len) || !sym_next_field(&f, &cpu, &cpu_len) ||
        !sym_next_field(&f, &id, &id_len) || !sym_rest(&f, &name, &name_len)) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, "MODULE", "missing fields");
        return;
    }
    if (st->sym->has_module) {
        sym_diag(st->sym, DT_DIAG_WARNING, &st->line, "MODULE", "second MODULE record ignored");
        return;
    }
    dt_sym_module_info *m = &st->sym->module;
    m->os = copy_field(st->sym, os, os_len);
    m->cpu = copy_field(st->sym, cpu, cpu_len);
    m->debug_id = copy_field(st->sym, id, id_len);
    m->debug_file = copy_field(st->sym, name, name_len);
    st->sym->has_module = true;
}

/* INFO CODE_ID code_id [code_file]; other INFO records carry nothing we use. */
static void index_info(index_state *st)
{
    if (!sym_starts_with(&st->line, "INFO CODE_ID ", 13))
        return;
    sym_fields f = fields_after(&st->line, 13);
    const char *id, *file;
    size_t id_len, file_len;
    if (!sym_next_field(&f, &id, &id_len)) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, "INFO CODE_ID", "missing code id");
        return;
    }
    st->sym->module.code_id = copy_field(st->sym, id, id_len);
    if (sym_rest(&f, &file, &file_len))
        st->sym->module.code_file = copy_field(st->sym, file, file_len);
}

/* FILE number name / INLINE_ORIGIN number name; the number is decimal. */
static void index_named(index_state *st, sym_vec *vec, size_t prefix, const char *record)
{
    sym_fields f = fields_after(&st->line, prefix);
    uint64_t id;
    const char *name;
    size_t name_len;
    if (!sym_next_decimal(&f, UINT64_MAX, &id)) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, record, "bad or missing decimal number");
        return;
    }
    if (!sym_rest(&f, &name, &name_len)) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, record, "missing name");
        return;
    }
    sym_named *item = push_record(st, vec, sizeof *item, record);
    if (item)
        *item = (sym_named){.id = id, .offset = st->line.offset,
                            .line_number = st->line.number, .name_text = name,
                            .name_length = name_len};
}

/* The optional "m" field of FUNC and PUBLIC: several symbols share the
 * address (identical code folding). */
static bool take_multiple_flag(sym_fields *f)
{
    if (f->end - f->pos >= 2 && f->pos[0] == 'm' && f->pos[1] == ' ') {
        f->pos += 2;
        return true;
    }
    return false;
}

/* FUNC [m] address size parameter_size name */
static void index_func(index_state *st)
{
    sym_fields f = fields_after(&st->line, 5);
    bool multiple = take_multiple_flag(&f);
    uint64_t address, size, parameter_size;
    const char *name;
    size_t name_len;
    if (!sym_next_hex(&f, &address) || !sym_next_hex(&f, &size) ||
        !sym_next_hex(&f, &parameter_size)) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, "FUNC",
                 "address, size or parameter size missing, not hexadecimal or over 64 bits");
        return;
    }
    if (address + size < address) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, "FUNC", "address + size wraps");
        return;
    }
    if (!sym_rest(&f, &name, &name_len)) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, "FUNC", "missing name");
        return;
    }
    sym_func *func = push_record(st, &st->sym->funcs, sizeof *func, "FUNC");
    if (!func)
        return;
    uint64_t body = st->line.end;
    *func = (sym_func){.address = address, .size = size, .offset = st->line.offset,
                       .line_number = st->line.number, .body_begin = body, .body_end = body,
                       .name_text = name, .name_length = name_len, .multiple = multiple};
    st->open_func = func;
}

/* PUBLIC [m] address parameter_size name */
static void index_public(index_state *st)
{
    sym_fields f = fields_after(&st->line, 7);
    bool multiple = take_multiple_flag(&f);
    uint64_t address, parameter_size;
    const char *name;
    size_t name_len;
    if (!sym_next_hex(&f, &address) || !sym_next_hex(&f, &parameter_size)) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, "PUBLIC",
                 "address or parameter size missing, not hexadecimal or over 64 bits");
        return;
    }
    if (!sym_rest(&f, &name, &name_len)) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, "PUBLIC", "missing name");
        return;
    }
    sym_public *pub = push_record(st, &st->sym->publics, sizeof *pub, "PUBLIC");
    if (pub)
        *pub = (sym_public){.address = address, .offset = st->line.offset,
                            .line_number = st->line.number, .name_text = name,
                            .name_length = name_len, .multiple = multiple};
}

/* STACK CFI INIT address size rules */
static void index_cfi_init(index_state *st)
{
    sym_fields f = fields_after(&st->line, 15);
    uint64_t address, size;
    const char *rules;
    size_t rules_len;
    if (!sym_next_hex(&f, &address) || !sym_next_hex(&f, &size) ||
        address + size < address || !sym_rest(&f, &rules, &rules_len)) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, "STACK CFI INIT",
                 "bad address or size, or no rules");
        return;
    }
    sym_cfi_init *init = push_record(st, &st->sym->cfi, sizeof *init, "STACK CFI INIT");
    if (!init)
        return;
    uint64_t end = st->line.end;
    *init = (sym_cfi_init){.address = address, .size = size, .offset = st->line.offset,
                           .line_number = st->line.number, .rules = rules,
                           .rules_length = rules_len, .deltas_begin = end, .deltas_end = end};
    st->open_cfi = init;
}

/* STACK CFI address rules: a delta of the INIT record before it, read on
 * lookup. */
static void index_cfi_delta(index_state *st)
{
    if (!st->open_cfi) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, "STACK CFI",
                 "delta record without a STACK CFI INIT record before it");
        return;
    }
    st->open_cfi->deltas_end = st->line.end;
}

static void index_stack(index_state *st)
{
    if (sym_starts_with(&st->line, "STACK CFI INIT ", 15)) {
        index_cfi_init(st);
    } else if (sym_starts_with(&st->line, "STACK CFI ", 10)) {
        index_cfi_delta(st);
    } else if (sym_starts_with(&st->line, "STACK WIN ", 10)) {
        sym_fields f = fields_after(&st->line, 10);
        if (count_record(st))
            sym_index_stack_win(st->sym, &st->line, &f);
    } else {
        sym_diag(st->sym, DT_DIAG_INFO, &st->line, "STACK", "unknown STACK record ignored");
    }
}

/* A line or INLINE record belongs to the FUNC record before it. */
static void extend_func_body(index_state *st, const char *record)
{
    if (!st->open_func) {
        sym_diag(st->sym, DT_DIAG_ERROR, &st->line, record, "outside a FUNC record");
        return;
    }
    st->open_func->body_end = st->line.end;
}

/* A line record starts with a hexadecimal address field; keywords never
 * consist of hex digits only. */
static bool is_line_record(const sym_line *line)
{
    size_t i = 0;
    while (i < line->length && sym_is_hex_digit(line->text[i]))
        i++;
    return i > 0 && (i == line->length || line->text[i] == ' ');
}

static void index_keyword(index_state *st)
{
    dt_sym_file *sym = st->sym;
    const sym_line *line = &st->line;
    if (sym_starts_with(line, "FUNC ", 5))
        index_func(st);
    else if (sym_starts_with(line, "FILE ", 5))
        index_named(st, &sym->files, 5, "FILE");
    else if (sym_starts_with(line, "INLINE_ORIGIN ", 14))
        index_named(st, &sym->origins, 14, "INLINE_ORIGIN");
    else if (sym_starts_with(line, "PUBLIC ", 7))
        index_public(st);
    else if (sym_starts_with(line, "STACK ", 6))
        index_stack(st);
    else if (sym_starts_with(line, "MODULE ", 7))
        index_module(st);
    else if (sym_starts_with(line, "INFO ", 5))
        index_info(st);
    else
        sym_diag(sym, DT_DIAG_INFO, line, "unknown", "unknown record ignored");
}

/* Dispatches one line. Records other than line, INLINE and STACK CFI delta
 * records end the FUNC or STACK CFI INIT record they would belong to. */
static void index_line(index_state *st)
{
    const sym_line *line = &st->line;
    if (line->length == 0)
        return;
    bool body = is_line_record(line) || sym_starts_with(line, "INLINE ", 7);
    bool delta = sym_starts_with(line, "STACK CFI ", 10) &&
                 !sym_starts_with(line, "STACK CFI INIT ", 15);
    if (!body)
        st->open_func = NULL;
    if (!delta)
        st->open_cfi = NULL;
    if (line->length > DT_SYM_MAX_LINE) {
        sym_diag(st->sym, DT_DIAG_ERROR, line, "any", "line longer than %d bytes ignored",
                 DT_SYM_MAX_LINE);
        return;
    }
    if (body)
        extend_func_body(st, sym_starts_with(line, "INLINE ", 7) ? "INLINE" : "line");
    else if (delta)
        index_cfi_delta(st);
    else
        index_keyword(st);
}

/* ---- Sorting ----------------------------------------------------------- */

/* Orders by key, then by file offset: of several records with one key the
 * first in the file wins, whatever qsort does. */
static int order_by(uint64_t key_a, uint64_t offset_a, uint64_t key_b, uint64_t offset_b)
{
    if (key_a != key_b)
        return key_a < key_b ? -1 : 1;
    return (offset_a > offset_b) - (offset_a < offset_b);
}

static int compare_func(const void *pa, const void *pb)
{
    const sym_func *a = pa, *b = pb;
    return order_by(a->address, a->offset, b->address, b->offset);
}

static int compare_public(const void *pa, const void *pb)
{
    const sym_public *a = pa, *b = pb;
    return order_by(a->address, a->offset, b->address, b->offset);
}

static int compare_named(const void *pa, const void *pb)
{
    const sym_named *a = pa, *b = pb;
    return order_by(a->id, a->offset, b->id, b->offset);
}

static int compare_cfi(const void *pa, const void *pb)
{
    const sym_cfi_init *a = pa, *b = pb;
    return order_by(a->address, a->offset, b->address, b->offset);
}

static int compare_win(const void *pa, const void *pb)
{
    const sym_win *a = pa, *b = pb;
    return order_by(a->win.rva, a->offset, b->win.rva, b->offset);
}

/* Sorts only when the file was not already in order (dump_syms output is). */
static void sort_vec(sym_vec *vec, size_t item_size, int (*compare)(const void *, const void *))
{
    const char *items = vec->items;
    for (size_t i = 1; i < vec->count; i++) {
        if (compare(items + (i - 1) * item_size, items + i * item_size) > 0) {
            qsort(vec->items, vec->count, item_size, compare);
            return;
        }
    }
}

static void sort_indexes(dt_sym_file *sym)
{
    sort_vec(&sym->funcs, sizeof(sym_func), compare_func);
    sort_vec(&sym->publics, sizeof(sym_public), compare_public);
    sort_vec(&sym->files, sizeof(sym_named), compare_named);
    sort_vec(&sym->origins, sizeof(sym_named), compare_named);
    sort_vec(&sym->cfi, sizeof(sym_cfi_init), compare_cfi);
    for (size_t t = 0; t < SYM_WIN_TYPES; t++)
        sort_vec(&sym->win[t], sizeof(sym_win), compare_win);
}

/* ---- Opening ----------------------------------------------------------- */

static void skip_byte_order_mark(const dt_sym_file *sym, size_t *pos)
{
    if (sym->size >= 3 && memcmp(sym->text, "\xEF\xBB\xBF", 3) == 0)
        *pos = 3;
}

/* The first non-empty line must be a MODULE record. */
static bool starts_with_module(const dt_sym_file *sym)
{
    size_t pos = 0;
    skip_byte_order_mark(sym, &pos);
    sym_line line = {0};
    while (sym_next_line(sym->text, sym->size, &pos, &line)) {
        if (line.length > 0)
            return sym_starts_with(&line, "MODULE ", 7);
    }
    return false;
}

static void index_file(dt_sym_file *sym)
{
    index_state st = {.sym = sym};
    size_t pos = 0;
    skip_byte_order_mark(sym, &pos);
    while (!st.stopped && sym_next_line(sym->text, sym->size, &pos, &st.line))
        index_line(&st);
    sort_indexes(sym);
    dt_diag_finish(&sym->diags, &sym->arena);
}

static dt_status index_text(dt_sym_file *sym, dt_sym_file **out, dt_error *err)
{
    if (!sym->label) {
        dt_sym_free(sym);
        return dt_error_set(err, DT_ERR_NOMEM, "sym", NULL, -1, "out of memory");
    }
    if (!starts_with_module(sym)) {
        dt_status st = dt_error_set(err, DT_ERR_FORMAT, sym->label, "MODULE record", 0,
                                    "not a Breakpad symbol file: the first line is not a "
                                    "MODULE record");
        dt_sym_free(sym);
        return st;
    }
    index_file(sym);
    *out = sym;
    return DT_OK;
}

dt_status dt_sym_open_bytes(dt_sym_file **out, const uint8_t *bytes, size_t size,
                            const char *label, size_t max_records, dt_error *err)
{
    *out = NULL;
    dt_sym_file *sym = calloc(1, sizeof *sym);
    if (!sym)
        return dt_error_set(err, DT_ERR_NOMEM, label, NULL, -1, "out of memory");
    sym->text = (const char *)bytes;
    sym->size = size;
    sym->max_records = max_records ? max_records : DT_SYM_MAX_RECORDS;
    sym->label = dt_arena_printf(&sym->arena, "%s", label ? label : "(sym)");
    return index_text(sym, out, err);
}

dt_status dt_sym_open(dt_sym_file **out, const char *path, dt_error *err)
{
    *out = NULL;
    if (!path)
        return dt_error_set(err, DT_ERR_ARGUMENT, "(null)", NULL, -1, "no path given");
    dt_sym_file *sym = calloc(1, sizeof *sym);
    if (!sym)
        return dt_error_set(err, DT_ERR_NOMEM, path, NULL, -1, "out of memory");
    dt_status st = dt_map_plain(&sym->file, path, err);
    if (st != DT_OK) {
        dt_sym_free(sym);
        return st;
    }
    sym->text = (const char *)sym->file.data;
    sym->size = (size_t)sym->file.size;
    sym->max_records = DT_SYM_MAX_RECORDS;
    sym->label = dt_arena_printf(&sym->arena, "%s", path);
    return index_text(sym, out, err);
}

void dt_sym_free(dt_sym_file *sym)
{
    if (!sym)
        return;
    sym_vec_free(&sym->funcs);
    sym_vec_free(&sym->publics);
    sym_vec_free(&sym->files);
    sym_vec_free(&sym->origins);
    sym_vec_free(&sym->cfi);
    for (size_t t = 0; t < SYM_WIN_TYPES; t++)
        sym_vec_free(&sym->win[t]);
    free(sym->cfi_rules);
    dt_unmap_file(&sym->file);
    dt_diag_list_free(&sym->diags);
    dt_arena_release(&sym->arena);
    free(sym);
}

/* ---- Accessors and lookups --------------------------------------------- */

void dt_sym_module(const dt_sym_file *sym, dt_sym_module_info *out)
{
    *out = sym->module;
    const char **fields[] = {&out->os, &out->cpu, &out->debug_id, &out->debug_file,
                             &out->code_id, &out->code_file};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!*fields[i])
            *fields[i] = "";
}

const char *dt_sym_debug_id(const dt_sym_file *sym)
{
    return sym->module.debug_id ? sym->module.debug_id : "";
}

const char *dt_sym_debug_file(const dt_sym_file *sym)
{
    return sym->module.debug_file ? sym->module.debug_file : "";
}

const dt_diagnostic *dt_sym_diagnostics(const dt_sym_file *sym, size_t *count)
{
    *count = sym->diags.count;
    return sym->diags.items;
}

/* Index of the first record in the run with the greatest key <= `key`, or
 * `count` when every key is greater. `key_at` reads item i's key. */
static size_t floor_first(const void *items, size_t count, size_t item_size, uint64_t key,
                          uint64_t (*key_at)(const void *))
{
    const char *base = items;
    size_t lo = 0, hi = count; /* first index with key_at > key */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_at(base + mid * item_size) <= key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return count;
    uint64_t found = key_at(base + (lo - 1) * item_size);
    size_t first = 0, end = lo; /* first index with key_at == found */
    while (first < end) {
        size_t mid = first + (end - first) / 2;
        if (key_at(base + mid * item_size) < found)
            first = mid + 1;
        else
            end = mid;
    }
    return first;
}

static uint64_t func_key(const void *p) { return ((const sym_func *)p)->address; }
static uint64_t public_key(const void *p) { return ((const sym_public *)p)->address; }
static uint64_t named_key(const void *p) { return ((const sym_named *)p)->id; }
static uint64_t cfi_key(const void *p) { return ((const sym_cfi_init *)p)->address; }
static uint64_t win_key(const void *p) { return ((const sym_win *)p)->win.rva; }

static size_t floor_func(const dt_sym_file *sym, uint64_t rva)
{
    return floor_first(sym->funcs.items, sym->funcs.count, sizeof(sym_func), rva, func_key);
}

size_t sym_floor_cfi(const dt_sym_file *sym, uint64_t rva)
{
    return floor_first(sym->cfi.items, sym->cfi.count, sizeof(sym_cfi_init), rva, cfi_key);
}

size_t sym_floor_win(const sym_vec *win, uint64_t rva)
{
    return floor_first(win->items, win->count, sizeof(sym_win), rva, win_key);
}

const char *sym_named_lookup(dt_sym_file *sym, sym_vec *named, uint64_t id, const char *record)
{
    size_t i = floor_first(named->items, named->count, sizeof(sym_named), id, named_key);
    if (i == named->count)
        return NULL;
    sym_named *item = (sym_named *)named->items + i;
    if (item->id != id)
        return NULL;
    if (!item->name) {
        sym_line line = {.offset = item->offset, .number = item->line_number};
        item->name = sym_copy_name(sym, item->name_text, item->name_length, &line, record);
    }
    return item->name;
}

static bool resolve_public(dt_sym_file *sym, uint64_t rva, dt_symbol *out)
{
    size_t i = floor_first(sym->publics.items, sym->publics.count, sizeof(sym_public), rva,
                           public_key);
    if (i == sym->publics.count)
        return false;
    sym_public *pub = (sym_public *)sym->publics.items + i;
    if (!pub->name) {
        sym_line line = {.offset = pub->offset, .number = pub->line_number};
        pub->name = sym_copy_name(sym, pub->name_text, pub->name_length, &line, "PUBLIC");
    }
    if (!pub->name)
        return false;
    *out = (dt_symbol){.function = pub->name, .function_rva = (uint32_t)pub->address};
    return true;
}

bool dt_sym_lookup(dt_sym_file *sym, uint32_t rva, dt_symbol *out)
{
    memset(out, 0, sizeof *out);
    size_t i = floor_func(sym, rva);
    if (i < sym->funcs.count) {
        sym_func *func = (sym_func *)sym->funcs.items + i;
        if (sym_covers(func->address, func->size, rva)) {
            sym_func_resolve(sym, func, rva, out);
            if (out->function)
                return true;
        }
    }
    return resolve_public(sym, rva, out);
}
