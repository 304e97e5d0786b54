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

enum { NOT_FOUND = SIZE_MAX };

/* Inline frames for one chain of INLINE records, built once. */
typedef struct inline_chain {
    struct inline_chain *next;
    size_t count;
    size_t *records;         /* indexes, outermost first */
    dt_inline_frame *frames; /* innermost first */
} inline_chain;

typedef struct inline_record {
    uint32_t depth;          /* nest level: 0 is inlined straight into the FUNC */
    uint32_t call_line;
    bool has_call_file;      /* older files omit the call site's file */
    uint64_t call_file;
    uint64_t origin;
    size_t first_range;
    size_t range_count;
    inline_chain *chains;    /* chains ending at this record, on first use */
} inline_record;

/* INLINE records nest by address: the record at nest level n + 1 that
 * covers an address is inlined into the level-n record covering it. Files
 * do not list them in tree order, so they are grouped by level. */
struct sym_body {
    line_record *lines;      /* by address */
    size_t line_count;
    inline_record *inlines;  /* file order */
    size_t inline_count;
    size_t *by_depth;        /* inline indexes grouped by level, file order within */
    size_t depth_start[DT_SYM_MAX_INLINE_DEPTH + 1]; /* level d: by_depth[start[d]..start[d+1]) */
    address_range *ranges;
    size_t range_count;
};

typedef struct body_parser {
    dt_sym_file *sym;
    sym_line line;
    sym_vec lines;           /* line_record */
    sym_vec inlines;         /* inline_record */
    sym_vec ranges;          /* address_range */
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
    if (depth >= DT_SYM_MAX_INLINE_DEPTH) {
        sym_diag(p->sym, DT_DIAG_ERROR, &p->line, "INLINE", "nest level %llu over the limit of %d",
                 (unsigned long long)depth, DT_SYM_MAX_INLINE_DEPTH - 1);
        return;
    }
    inline_record rec = {.depth = (uint32_t)depth, .call_line = (uint32_t)call_line,
                         .has_call_file = has_file, .call_file = call_file, .origin = origin};
    if (!parse_inline_ranges(p, &f, (fields - head) / 2, &rec))
        return;
    inline_record *slot = push(p, &p->inlines, sizeof *slot);
    if (slot)
        *slot = rec;
}

/* Parses one line of the body; false once the record cap is reached. */
static bool parse_body_line(body_parser *p, size_t *records)
{
    if (p->line.length == 0 || p->line.length > DT_SYM_MAX_LINE)
        return true; /* long lines were reported while indexing */
    if (++*records > DT_SYM_MAX_FUNC_RECORDS) {
        sym_diag(p->sym, DT_DIAG_ERROR, &p->line, "line",
                 "more than %d line and INLINE records in one FUNC; the rest are ignored",
                 DT_SYM_MAX_FUNC_RECORDS);
        return false;
    }
    if (sym_starts_with(&p->line, "INLINE ", 7))
        parse_inline_record(p);
    else
        parse_line_record(p);
    return true;
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

/* Counting sort of the INLINE records by nest level. Without memory for
 * the index no inline frames are reported. */
static void group_by_depth(dt_sym_file *sym, sym_body *body)
{
    size_t counts[DT_SYM_MAX_INLINE_DEPTH] = {0};
    for (size_t i = 0; i < body->inline_count; i++)
        counts[body->inlines[i].depth]++;
    for (size_t d = 0; d < DT_SYM_MAX_INLINE_DEPTH; d++)
        body->depth_start[d + 1] = body->depth_start[d] + counts[d];
    body->by_depth = body->inline_count
                         ? dt_arena_array(&sym->arena, body->inline_count, sizeof(size_t))
                         : NULL;
    if (!body->by_depth) {
        memset(body->depth_start, 0, sizeof body->depth_start);
        return;
    }
    size_t next[DT_SYM_MAX_INLINE_DEPTH];
    memcpy(next, body->depth_start, sizeof next);
    for (size_t i = 0; i < body->inline_count; i++)
        body->by_depth[next[body->inlines[i].depth]++] = i;
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
    size_t pos = (size_t)func->body_begin, records = 0;
    bool more = true;
    while (more && !p.out_of_memory &&
           sym_next_line(sym->text, (size_t)func->body_end, &pos, &p.line))
        more = parse_body_line(&p, &records);
    sym_body *body = p.out_of_memory ? NULL : dt_arena_alloc(&sym->arena, sizeof *body);
    if (!body) {
        free_parser(&p);
        return NULL;
    }
    sort_lines(&p.lines);
    body->lines = move_to_arena(sym, &p.lines, sizeof(line_record), &body->line_count);
    body->inlines = move_to_arena(sym, &p.inlines, sizeof(inline_record), &body->inline_count);
    body->ranges = move_to_arena(sym, &p.ranges, sizeof(address_range), &body->range_count);
    group_by_depth(sym, body);
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

/* The INLINE records covering `rva`, one per nest level from 0 down, until
 * a level has none; the first in file order wins within a level. */
static size_t find_inline_path(const sym_body *body, uint64_t rva,
                               size_t path[DT_SYM_MAX_INLINE_DEPTH])
{
    size_t depth = 0;
    for (; depth < DT_SYM_MAX_INLINE_DEPTH; depth++) {
        size_t found = NOT_FOUND;
        for (size_t k = body->depth_start[depth];
             k < body->depth_start[depth + 1] && found == NOT_FOUND; k++) {
            if (inline_covers(body, &body->inlines[body->by_depth[k]], rva))
                found = body->by_depth[k];
        }
        if (found == NOT_FOUND)
            break;
        path[depth] = found;
    }
    return depth;
}

static const char *origin_name(dt_sym_file *sym, uint64_t origin)
{
    const char *name = sym_named_lookup(sym, &sym->origins, origin, "INLINE_ORIGIN");
    if (name)
        return name;
    name = dt_arena_printf(&sym->arena, "(inline origin %llu)", (unsigned long long)origin);
    return name ? name : "(unknown inline origin)";
}

/* Frames for `path`, innermost first: each names the inlined function and
 * where it was called from. */
static inline_chain *build_chain(dt_sym_file *sym, sym_body *body, const size_t *path,
                                 size_t count)
{
    inline_chain *chain = dt_arena_alloc(&sym->arena, sizeof *chain);
    size_t *records = dt_arena_array(&sym->arena, count, sizeof *records);
    dt_inline_frame *frames = dt_arena_array(&sym->arena, count, sizeof *frames);
    if (!chain || !records || !frames)
        return NULL;
    memcpy(records, path, count * sizeof *records);
    for (size_t i = 0; i < count; i++) {
        const inline_record *r = &body->inlines[path[count - 1 - i]];
        frames[i].function = origin_name(sym, r->origin);
        frames[i].file = r->has_call_file
                             ? sym_named_lookup(sym, &sym->files, r->call_file, "FILE")
                             : NULL;
        frames[i].line = r->call_line;
    }
    *chain = (inline_chain){.count = count, .records = records, .frames = frames};
    return chain;
}

/* The frames for `path`, shared by every lookup that takes the same path;
 * built on first use and kept with the path's innermost record. */
static const dt_inline_frame *inline_frames(dt_sym_file *sym, sym_body *body, const size_t *path,
                                            size_t count)
{
    inline_record *innermost = &body->inlines[path[count - 1]];
    for (inline_chain *c = innermost->chains; c; c = c->next) {
        if (c->count == count && memcmp(c->records, path, count * sizeof *path) == 0)
            return c->frames;
    }
    inline_chain *chain = build_chain(sym, body, path, count);
    if (!chain)
        return NULL;
    chain->next = innermost->chains;
    innermost->chains = chain;
    return chain->frames;
}

/* The convention of every provider (symbols.h): each frame carries its own
 * position. The innermost inlined function is at the line record; each
 * outer one, and finally the FUNC itself, is at the call site of the frame
 * inside it. `calls` holds the call sites, innermost first. */
static void place_inlines(dt_sym_file *sym, const dt_inline_frame *calls, size_t depth,
                          dt_symbol *out)
{
    dt_inline_frame *frames = calls ? dt_arena_array(&sym->arena, depth, sizeof *frames) : NULL;
    if (!frames)
        return;
    for (size_t i = 0; i < depth; i++) {
        frames[i].function = calls[i].function;
        frames[i].file = i ? calls[i - 1].file : out->file;
        frames[i].line = i ? calls[i - 1].line : out->line;
    }
    out->file = calls[depth - 1].file;
    out->line = calls[depth - 1].line;
    out->inlines = frames;
    out->inline_count = depth;
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
    size_t path[DT_SYM_MAX_INLINE_DEPTH];
    size_t depth = find_inline_path(body, rva, path);
    if (depth > 0)
        place_inlines(sym, inline_frames(sym, body, path, depth), depth, out);
}
