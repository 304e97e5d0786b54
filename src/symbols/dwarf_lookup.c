/*
 * DWARF provider: answering a lookup. The innermost scope holding the
 * address gives the chain of inlined calls up to the function that holds
 * them. Frames follow addr2line -i: the innermost inlined function is at
 * the line table's file:line, each caller at the DW_AT_call_file/call_line
 * of the call inlined into it, and the containing function (dt_symbol's
 * function, file, line) at the call site of its outermost inlined call, or
 * at the line table's position when nothing is inlined there.
 */
#include "symbols/dwarf_internal.h"

#include <string.h>

/* The deepest scope with a range holding `va` (ties: the last read). */
static dwarf_scope *innermost_scope(dwarf_unit *unit, uint64_t va)
{
    dwarf_scope *best = NULL;
    for (size_t i = 0; i < unit->range_count; i++) {
        const dwarf_scope_range *r = &unit->ranges[i];
        if (va < r->range.begin || va >= r->range.end)
            continue;
        dwarf_scope *scope = &unit->scopes[r->scope];
        if (!best || scope->depth >= best->depth)
            best = scope;
    }
    return best;
}

/* The range of `scope` holding `va`, else its first range. */
static dwarf_range scope_range_at(const dwarf_unit *unit, const dwarf_scope *scope, uint64_t va)
{
    for (size_t i = 0; i < scope->range_count; i++) {
        dwarf_range r = unit->ranges[scope->first_range + i].range;
        if (va >= r.begin && va < r.end)
            return r;
    }
    return unit->ranges[scope->first_range].range;
}

/* Inlined scopes from `inner` outwards (at most DWARF_MAX_INLINE_DEPTH);
 * *function becomes the scope that holds them: the first non-inlined one,
 * or the outermost inlined one when the unit nests them in nothing. */
static size_t inline_chain(dwarf_unit *unit, dwarf_scope *inner, dwarf_scope **chain,
                           dwarf_scope **function)
{
    size_t n = 0;
    dwarf_scope *scope = inner;
    while (scope->inlined && scope->parent != DWARF_NO_SCOPE && n < DWARF_MAX_INLINE_DEPTH) {
        chain[n++] = scope;
        scope = &unit->scopes[scope->parent];
    }
    *function = scope;
    return n;
}

static const char *name_or_unknown(dt_dwarf *dwarf, dwarf_scope *scope)
{
    const char *name = dwarf_scope_name(dwarf, scope);
    return name ? name : "??";
}

static bool fill_symbol(dt_dwarf *dwarf, dwarf_unit *unit, dwarf_scope *inner, uint64_t va,
                        dt_symbol *out)
{
    dwarf_scope *chain[DWARF_MAX_INLINE_DEPTH];
    dwarf_scope *function;
    size_t n = inline_chain(unit, inner, chain, &function);
    dt_inline_frame *frames = NULL;
    if (n > 0 && !(frames = dt_arena_array(&dwarf->arena, n, sizeof *frames)))
        return false;
    const dwarf_line_span *span = dwarf_lines_find(unit, va);
    const char *file = span ? dwarf_lines_file(unit, span->file) : NULL;
    uint32_t line = span ? span->line : 0;
    for (size_t i = 0; i < n; i++) {
        frames[i] = (dt_inline_frame){name_or_unknown(dwarf, chain[i]), file, line};
        file = dwarf_lines_file(unit, chain[i]->call_file);
        line = chain[i]->call_line;
    }
    dwarf_range range = scope_range_at(unit, function, va);
    out->function = name_or_unknown(dwarf, function);
    out->function_rva = (uint32_t)(range.begin - dwarf->image_base);
    uint64_t size = range.end - range.begin;
    out->function_size = size <= UINT32_MAX ? (uint32_t)size : 0;
    out->file = file;
    out->line = line;
    out->inline_count = n;
    out->inlines = frames;
    return true;
}

static bool lookup_locked(dt_dwarf *dwarf, uint32_t rva, dt_symbol *out)
{
    dwarf_index_build(dwarf);
    uint64_t va = dwarf->image_base + rva;
    dwarf_unit *unit = dwarf_index_find(dwarf, va);
    bool found = false;
    if (unit) {
        dwarf_unit_load(dwarf, unit);
        dwarf_scope *inner = innermost_scope(unit, va);
        found = inner && fill_symbol(dwarf, unit, inner, va, out);
    }
    dwarf_diags_refresh(dwarf);
    return found;
}

bool dt_dwarf_lookup(dt_dwarf *dwarf, uint32_t rva, dt_symbol *out)
{
    if (!out)
        return false;
    memset(out, 0, sizeof *out);
    if (!dwarf)
        return false;
    dwarf_library_lock();
    bool found = lookup_locked(dwarf, rva, out);
    dwarf_library_unlock();
    return found;
}
