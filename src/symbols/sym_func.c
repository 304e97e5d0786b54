/*
 * A FUNC record's line and INLINE records, parsed when a lookup first lands
 * in the FUNC, and the lookup itself: line at the address, inline chain.
 */
#include "symbols/sym_internal.h"

#include <stdlib.h>

typedef struct line_record {
    uint64_t address;
    uint64_t size;
    uint64_t file;
    uint32_t line;
} line_record;

typedef struct address_range {
    uint64_t address;
    uint64_t size;
} address_range;

enum { NO_PARENT = SIZE_MAX };

typedef struct inline_record {
    uint32_t depth;          /* nest level: 0 is inlined straight into the FUNC */
    uint32_t call_line;
    bool has_call_file;      /* older files omit the call site's file */
    uint64_t call_file;
    uint64_t origin;
    size_t parent;           /* the enclosing record, NO_PARENT at depth 0 */
    size_t first_range;
    size_t range_count;
    dt_inline_frame *chain;  /* depth + 1 frames, innermost first; on first use */
} inline_record;

struct sym_body {
    line_record *lines;      /* by address */
    size_t line_count;
    inline_record *inlines;  /* file order */
    size_t inline_count;
    address_range *ranges;
    size_t range_count;
};

typedef struct body_parser {
    dt_sym_file *sym;
    sym_line line;
    sym_vec lines;           /* line_record */
    sym_vec inlines;         /* inline_record */
    sym_vec ranges;          /* address_range */
    size_t last_at_depth[DT_SYM_MAX_INLINE_DEPTH];
    bool out_of_memory;
} body_parser;

static void *push(body_parser *p, sym_vec *vec, size_t item_size)
{
    void *item = sym_vec_push(vec, item_size);
    if (!item)
        p->out_of_memory = true;
    return item;
}

/* Line record: address size line filenum (line and filenum decimal). */
static void parse_line_record(body_parser *p)
{
    sym_fields f = {p->line.text, p->line.text + p->line.length};
    uint64_t address, size, line, file;
    const char *extra;
    size_t extra_len;
    if (!sym_next_hex(&f, &address) || !sym_next_hex(&f, &size) ||
        !sym_next_decimal(&f, UINT32_MAX, &line) || !sym_next_decimal(&f, UINT64_MAX, &file) ||
        sym_next_field(&f, &extra, &extra_len)) {
        sym_diag(p->sym, DT_DIAG_ERROR, &p->line, "line",
                 "expected hex address and size, decimal line and file number");
        return;
    }
    if (address + size < address) {
        sym_diag(p->sym, DT_DIAG_ERROR, &p->line, "line", "address + size wraps");
        return;
    }
    line_record *rec = push(p, &p->lines, sizeof *rec);
    if (rec)
        *rec = (line_record){.address = address, .size = size, .file = file,
                             .line = (uint32_t)line};
}

static size_t count_fields(sym_fields f)
{
    size_t count = 0;
    const char *field;
    size_t length;
    while (sym_next_field(&f, &field, &length))
        count++;
    return count;
}

/* The (address size)+ pairs at the end of an INLINE record. */
static bool parse_inline_ranges(body_parser *p, sym_fields *f, size_t pairs, inline_record *rec)
{
    if (p->ranges.count + pairs > DT_SYM_MAX_INLINE_RANGES) {
        sym_diag(p->sym, DT_DIAG_ERROR, &p->line, "INLINE",
                 "more than %d address ranges in one FUNC", DT_SYM_MAX_INLINE_RANGES);
        return false;
    }
    rec->first_range = p->ranges.count;
    rec->range_count = pairs;
    for (size_t i = 0; i < pairs; i++) {
        uint64_t address, size;
        if (!sym_next_hex(f, &address) || !sym_next_hex(f, &size) || address + size < address) {
            sym_diag(p->sym, DT_DIAG_ERROR, &p->line, "INLINE",
                     "address range %zu is not hexadecimal or wraps", i + 1);
            p->ranges.count = rec->first_range;
            return false;
        }
        address_range *range = push(p, &p->ranges, sizeof *range);
        if (!range)
            return false;
        *range = (address_range){address, size};
    }
    return true;
}

/* The enclosing record of a record at `depth`: the last one read at
 * depth - 1. False (with a diagnostic) when there is none. */
static bool find_parent(body_parser *p, uint32_t depth, size_t *parent)
{
    if (depth >= DT_SYM_MAX_INLINE_DEPTH) {
        sym_diag(p->sym, DT_DIAG_ERROR, &p->line, "INLINE", "nest level %u over the limit of %d",
                 depth, DT_SYM_MAX_INLINE_DEPTH - 1);
        return false;
    }
    *parent = depth == 0 ? NO_PARENT : p->last_at_depth[depth - 1];
    if (depth > 0 && *parent == NO_PARENT) {
        sym_diag(p->sym, DT_DIAG_ERROR, &p->line, "INLINE",
                 "nest level %u without an enclosing level %u record before it", depth,
                 depth - 1);
        return false;
    }
    return true;
}

/* Records the newest record at `depth`; deeper records cannot nest in an
 * older one any more. */
static void set_last_at_depth(body_parser *p, uint32_t depth, size_t index)
{
    p->last_at_depth[depth] = index;
    for (size_t d = depth + 1; d < DT_SYM_MAX_INLINE_DEPTH; d++)
        p->last_at_depth[d] = NO_PARENT;
}

/* INLINE nest_level call_site_line call_site_file_num origin_num
 *        (address size)+
 * with decimal numbers and hex ranges. Files written before the call site
 * file was added lack call_site_file_num; the field count tells them apart
 * (even with it, odd without). */
static void parse_inline_record(body_parser *p)
{
    sym_fields f = {p->line.text + 7, p->line.text + p->line.length};
    size_t fields = count_fields(f);
    bool has_file = fields % 2 == 0;
    size_t head = has_file ? 4 : 3;
    uint64_t depth, call_line, call_file = 0, origin;
    if (fields < head + 2 || !sym_next_decimal(&f, UINT32_MAX, &depth) ||
        !sym_next_decimal(&f, UINT32_MAX, &call_line) ||
        (has_file && !sym_next_decimal(&f, UINT64_MAX, &call_file)) ||
        !sym_next_decimal(&f, UINT64_MAX, &origin)) {
        sym_diag(p->sym, DT_DIAG_ERROR, &p->line, "INLINE",
                 "expected decimal nest level, call line, [call file,] origin and ranges");
        return;
    }
    inline_record rec = {.depth = (uint32_t)depth, .call_line = (uint32_t)call_line,
                         .has_call_file = has_file, .call_file = call_file, .origin = origin};
    if (!find_parent(p, rec.depth, &rec.parent) ||
        !parse_inline_ranges(p, &f, (fields - head) / 2, &rec))
        return;
    inline_record *slot = push(p, &p->inlines, sizeof *slot);
    if (!slot)
        return;
    *slot = rec;
    set_last_at_depth(p, rec.depth, p->inlines.count - 1);
}

static void parse_body_line(body_parser *p, size_t *records)
{
    if (p->line.length == 0 || p->line.length > DT_SYM_MAX_LINE)
        return; /* long lines were reported while indexing */
    if (++*records > DT_SYM_MAX_FUNC_RECORDS) {
        if (*records == DT_SYM_MAX_FUNC_RECORDS + 1)
            sym_diag(p->sym, DT_DIAG_ERROR, &p->line, "line",
                     "more than %d line and INLINE records in one FUNC; the rest are ignored",
                     DT_SYM_MAX_FUNC_RECORDS);
        return;
    }
    if (sym_starts_with(&p->line, "INLINE ", 7))
        parse_inline_record(p);
    else
        parse_line_record(p);
}

static int compare_lines(const void *pa, const void *pb)
{
    const line_record *a = pa, *b = pb;
    if (a->address != b->address)
        return a->address < b->address ? -1 : 1;
    if (a->size != b->size)
        return a->size < b->size ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

static void sort_lines(sym_vec *lines)
{
    const line_record *items = lines->items;
    for (size_t i = 1; i < lines->count; i++) {
        if (items[i - 1].address > items[i].address) {
            qsort(lines->items, lines->count, sizeof(line_record), compare_lines);
            return;
        }
    }
}

/* Moves a vector's items into the arena (the file's lifetime). */
static void *move_to_arena(dt_sym_file *sym, sym_vec *vec, size_t item_size, size_t *count)
{
    void *copy = vec->count ? dt_arena_array(&sym->arena, vec->count, item_size) : NULL;
    if (copy)
        memcpy(copy, vec->items, vec->count * item_size);
    *count = copy ? vec->count : 0;
    sym_vec_free(vec);
    return copy;
}

static void free_parser(body_parser *p)
{
    sym_vec_free(&p->lines);
    sym_vec_free(&p->inlines);
    sym_vec_free(&p->ranges);
}

sym_body *sym_func_body(dt_sym_file *sym, sym_func *func)
{
    if (func->body)
        return func->body;
    body_parser p = {.sym = sym, .line = {.number = func->line_number}};
    for (size_t d = 0; d < DT_SYM_MAX_INLINE_DEPTH; d++)
        p.last_at_depth[d] = NO_PARENT;
    size_t pos = (size_t)func->body_begin, records = 0;
    while (!p.out_of_memory && sym_next_line(sym->text, (size_t)func->body_end, &pos, &p.line))
        parse_body_line(&p, &records);
    sym_body *body = p.out_of_memory ? NULL : dt_arena_alloc(&sym->arena, sizeof *body);
    if (!body) {
        free_parser(&p);
        return NULL;
    }
    sort_lines(&p.lines);
    body->lines = move_to_arena(sym, &p.lines, sizeof(line_record), &body->line_count);
    body->inlines = move_to_arena(sym, &p.inlines, sizeof(inline_record), &body->inline_count);
    body->ranges = move_to_arena(sym, &p.ranges, sizeof(address_range), &body->range_count);
    func->body = body;
    return body;
}

/* ---- Lookup ------------------------------------------------------------ */

static const line_record *find_line(const sym_body *body, uint64_t rva)
{
    size_t lo = 0, hi = body->line_count; /* first line starting above rva */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (body->lines[mid].address <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const line_record *line = &body->lines[lo - 1];
    return sym_covers(line->address, line->size, rva) ? line : NULL;
}

static bool inline_covers(const sym_body *body, const inline_record *rec, uint64_t rva)
{
    if (rec->first_range + rec->range_count > body->range_count)
        return false; /* ranges were dropped when memory ran out */
    for (size_t i = 0; i < rec->range_count; i++) {
        const address_range *range = &body->ranges[rec->first_range + i];
        if (sym_covers(range->address, range->size, rva))
            return true;
    }
    return false;
}

/* The deepest INLINE record covering `rva` whose enclosing records all
 * cover it too; NO_PARENT when none does. Descends one level per round. */
static size_t find_innermost_inline(const sym_body *body, uint64_t rva)
{
    size_t current = NO_PARENT;
    for (size_t depth = 0; depth < DT_SYM_MAX_INLINE_DEPTH; depth++) {
        size_t child = NO_PARENT;
        for (size_t i = 0; i < body->inline_count && child == NO_PARENT; i++) {
            if (body->inlines[i].parent == current && inline_covers(body, &body->inlines[i], rva))
                child = i;
        }
        if (child == NO_PARENT)
            break;
        current = child;
    }
    return current;
}

static const char *origin_name(dt_sym_file *sym, uint64_t origin)
{
    const char *name = sym_named_lookup(sym, &sym->origins, origin, "INLINE_ORIGIN");
    if (name)
        return name;
    name = dt_arena_printf(&sym->arena, "(inline origin %llu)", (unsigned long long)origin);
    return name ? name : "(unknown inline origin)";
}

/* The frames from `innermost` out to depth 0, built once per record. Each
 * frame names the inlined function and where it was called from. */
static const dt_inline_frame *inline_chain(dt_sym_file *sym, sym_body *body, size_t innermost,
                                           size_t *count)
{
    inline_record *rec = &body->inlines[innermost];
    *count = 0;
    if (!rec->chain) {
        size_t frames = (size_t)rec->depth + 1;
        dt_inline_frame *chain = dt_arena_array(&sym->arena, frames, sizeof *chain);
        if (!chain)
            return NULL;
        size_t index = innermost;
        for (size_t i = 0; i < frames && index != NO_PARENT; i++) {
            const inline_record *r = &body->inlines[index];
            chain[i].function = origin_name(sym, r->origin);
            chain[i].file = r->has_call_file ? sym_named_lookup(sym, &sym->files, r->call_file,
                                                                "FILE")
                                             : NULL;
            chain[i].line = r->call_line;
            index = r->parent;
        }
        rec->chain = chain;
    }
    *count = (size_t)rec->depth + 1;
    return rec->chain;
}

void sym_func_resolve(dt_sym_file *sym, sym_func *func, uint64_t rva, dt_symbol *out)
{
    if (!func->name) {
        sym_line line = {.offset = func->offset, .number = func->line_number};
        func->name = sym_copy_name(sym, func->name_text, func->name_length, &line, "FUNC");
    }
    out->function = func->name;
    out->function_rva = (uint32_t)func->address;
    out->function_size = func->size > UINT32_MAX ? UINT32_MAX : (uint32_t)func->size;
    sym_body *body = sym_func_body(sym, func);
    if (!body)
        return;
    const line_record *line = find_line(body, rva);
    if (line) {
        out->file = sym_named_lookup(sym, &sym->files, line->file, "FILE");
        out->line = line->line;
    }
    size_t innermost = find_innermost_inline(body, rva);
    if (innermost != NO_PARENT)
        out->inlines = inline_chain(sym, body, innermost, &out->inline_count);
}
