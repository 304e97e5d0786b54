/*
 * DWARF provider: the CU address index, built on the first lookup. Address
 * ranges come from .debug_aranges (read here, DWARF 5 section 6.1.2) and,
 * for units it does not cover, from the CU DIE's DW_AT_low_pc/high_pc or
 * DW_AT_ranges through libdwarf.
 */
#include "symbols/dwarf_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/cursor.h"

typedef struct span_list {
    dwarf_unit_span *items;
    size_t count;
    size_t capacity;
    bool full;
} span_list;

static bool span_add(span_list *list, uint64_t begin, uint64_t end, uint32_t unit)
{
    if (begin >= end || begin == 0)
        return true;       /* empty, or a discarded function's zero address */
    if (list->count == DWARF_MAX_ARANGES) {
        list->full = true;
        return false;
    }
    if (list->count == list->capacity) {
        size_t grown = list->capacity ? list->capacity * 2 : 64;
        dwarf_unit_span *bigger = realloc(list->items, grown * sizeof *bigger);
        if (!bigger) {
            list->full = true;
            return false;
        }
        list->items = bigger;
        list->capacity = grown;
    }
    list->items[list->count++] = (dwarf_unit_span){{begin, end}, unit};
    return true;
}

/* The unit whose header is at `offset` in .debug_info, or -1. */
static int64_t unit_at_offset(const dt_dwarf *dwarf, uint64_t offset)
{
    size_t lo = 0, hi = dwarf->unit_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t at = dwarf->units[mid].header.offset;
        if (at == offset)
            return (int64_t)mid;
        if (at < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ---- .debug_aranges ------------------------------------------------------- */

static bool read_address(dt_cursor *c, uint8_t size, uint64_t *out)
{
    if (size == 8)
        return dt_cursor_u64(c, out);
    uint32_t value;
    if (!dt_cursor_u32(c, &value))
        return false;
    *out = value;
    return true;
}

/* One address range set: header, then (address, length) pairs aligned to
 * twice the address size from the set's start, ending with (0, 0). */
static bool read_arange_set(dt_dwarf *dwarf, dt_cursor *set, span_list *spans, bool *covered)
{
    uint16_t version;
    uint32_t info_offset;
    uint8_t address_size, segment_size;
    if (!dt_cursor_u16(set, &version) || version != 2 || !dt_cursor_u32(set, &info_offset) ||
        !dt_cursor_u8(set, &address_size) || !dt_cursor_u8(set, &segment_size) ||
        address_size != dwarf->pointer_size || segment_size != 0)
        return false;
    int64_t unit = unit_at_offset(dwarf, info_offset);
    if (unit < 0)
        return false;
    size_t tuple = 2u * address_size;
    size_t header_end = set->pos + 4; /* the set's unit_length precedes `set` */
    if (!dt_cursor_skip(set, (tuple - header_end % tuple) % tuple))
        return false;
    uint64_t address, length, end;
    while (read_address(set, address_size, &address) && read_address(set, address_size, &length)) {
        if (address == 0 && length == 0)
            return true;
        if (!dt_add_u64(address, length, &end))
            return false;
        covered[unit] = true;
        if (!span_add(spans, address, end, (uint32_t)unit))
            return false;
    }
    return false;
}

/* Reads every set; a bad set becomes a diagnostic and reading moves on to
 * the next set (its length is still trusted if it fits). */
static void read_aranges(dt_dwarf *dwarf, span_list *spans, bool *covered)
{
    const dwarf_section *aranges = dwarf_section_named(dwarf, ".debug_aranges");
    if (!aranges)
        return;
    dt_cursor c = dt_cursor_make(aranges->bytes, aranges->size);
    while (dt_cursor_remaining(&c) > 0 && !spans->full) {
        size_t start = c.pos;
        uint32_t length;
        dt_cursor set;
        if (!dt_cursor_u32(&c, &length) || length >= 0xfffffff0u ||
            !dt_cursor_sub(&c, length, &set)) {
            dwarf_diag(dwarf, DT_DIAG_WARNING, ".debug_aranges", (int64_t)start,
                       "bad or 64-bit set length; the rest of .debug_aranges is ignored");
            return;
        }
        if (!read_arange_set(dwarf, &set, spans, covered) && !spans->full)
            dwarf_diag(dwarf, DT_DIAG_WARNING, ".debug_aranges", (int64_t)start,
                       "address range set ignored (version, sizes, unit offset or tuples)");
    }
}

/* ---- CU DIEs -------------------------------------------------------------- */

/* Reads the CU DIE of the unit libdwarf's iterator is at. */
static bool read_unit_die(dt_dwarf *dwarf, dwarf_unit *unit, uint32_t index, span_list *spans,
                          bool needs_ranges)
{
    Dwarf_Die die = NULL;
    Dwarf_Error error = NULL;
    int res = dwarf_siblingof_b(dwarf->dbg, NULL, true, &die, &error);
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            dwarf_diag_error(dwarf, "reading a compilation unit DIE", error);
        return false;
    }
    Dwarf_Addr low = 0;
    if (dwarf_dieoffset(die, &unit->die_offset, &error) != DW_DLV_OK) {
        dwarf_diag_error(dwarf, "reading a compilation unit DIE offset", error);
        unit->die_offset = 0;
    }
    if (dwarf_lowpc(die, &low, &error) == DW_DLV_OK)
        unit->base_address = low;
    else if (error)
        dwarf_dealloc_error(dwarf->dbg, error);
    if (needs_ranges) {
        dwarf_range ranges[DWARF_MAX_RANGES_PER_DIE];
        size_t n = dwarf_die_ranges(dwarf, unit, die, ranges, DWARF_MAX_RANGES_PER_DIE);
        for (size_t i = 0; i < n; i++)
            span_add(spans, ranges[i].begin, ranges[i].end, index);
    }
    dwarf_dealloc_die(die);
    return true;
}

/* Walks the units with libdwarf's iterator; they must line up with the
 * units validation accepted. */
static void read_unit_dies(dt_dwarf *dwarf, span_list *spans, const bool *covered)
{
    for (size_t i = 0; i < dwarf->unit_count; i++) {
        Dwarf_Unsigned length = 0, type_offset = 0, next = 0;
        Dwarf_Half version = 0, address_size = 0, length_size = 0, extension_size = 0, type = 0;
        Dwarf_Off abbrev = 0;
        Dwarf_Sig8 signature;
        Dwarf_Error error = NULL;
        int res = dwarf_next_cu_header_d(dwarf->dbg, true, &length, &version, &abbrev,
                                         &address_size, &length_size, &extension_size,
                                         &signature, &type_offset, &next, &type, &error);
        if (res == DW_DLV_ERROR)
            dwarf_diag_error(dwarf, "reading a unit header", error);
        if (res != DW_DLV_OK)
            return;
        if (next != dwarf->units[i].header.end) {
            dwarf_diag(dwarf, DT_DIAG_WARNING, ".debug_info",
                       (int64_t)dwarf->units[i].header.offset,
                       "libdwarf's unit boundaries differ from the headers; units from here on "
                       "are not indexed");
            return;
        }
        if (!read_unit_die(dwarf, &dwarf->units[i], (uint32_t)i, spans, !covered[i]))
            return;
    }
}

static int compare_spans(const void *a, const void *b)
{
    const dwarf_unit_span *x = a, *y = b;
    if (x->range.begin != y->range.begin)
        return x->range.begin < y->range.begin ? -1 : 1;
    return x->unit < y->unit ? -1 : x->unit > y->unit;
}

static bool create_units(dt_dwarf *dwarf)
{
    dwarf->units = calloc(dwarf->checked_unit_count, sizeof *dwarf->units);
    if (!dwarf->units)
        return false;
    dwarf->unit_count = dwarf->checked_unit_count;
    for (size_t i = 0; i < dwarf->unit_count; i++)
        dwarf->units[i].header = dwarf->checked_units[i];
    return true;
}

void dwarf_index_build(dt_dwarf *dwarf)
{
    if (dwarf->indexed)
        return;
    dwarf->indexed = true;
    bool *covered = NULL;
    if (!create_units(dwarf) || !(covered = calloc(dwarf->unit_count, sizeof *covered))) {
        dwarf_diag(dwarf, DT_DIAG_ERROR, NULL, -1, "out of memory building the address index");
        free(covered);
        return;
    }
    span_list spans = {0};
    read_aranges(dwarf, &spans, covered);
    read_unit_dies(dwarf, &spans, covered);
    free(covered);
    if (spans.full)
        dwarf_diag(dwarf, DT_DIAG_WARNING, NULL, -1,
                   "address index capped at %zu ranges (or out of memory)", spans.count);
    if (spans.count > 1)
        qsort(spans.items, spans.count, sizeof *spans.items, compare_spans);
    dwarf->spans = spans.items;
    dwarf->span_count = spans.count;
}

/* Ranges that start at or before `va` and are looked at backwards for one
 * that still holds it (ranges of different units rarely nest). */
enum { SPAN_BACKTRACK = 64 };

dwarf_unit *dwarf_index_find(dt_dwarf *dwarf, uint64_t va)
{
    size_t lo = 0, hi = dwarf->span_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dwarf->spans[mid].range.begin <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, steps = 0; i > 0 && steps < SPAN_BACKTRACK; i--, steps++) {
        const dwarf_unit_span *span = &dwarf->spans[i - 1];
        if (va < span->range.end)
            return &dwarf->units[span->unit];
    }
    return NULL;
}
