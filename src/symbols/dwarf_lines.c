/*
 * DWARF provider: one compilation unit's line table, read through libdwarf
 * (dwarf_srclines_b) after dwarf_validate_line_header has checked the
 * header at DW_AT_stmt_list. Rows become address spans [row, next row) of
 * each sequence; several rows at one address leave only the last one's span
 * non-empty, which is the row addr2line reports.
 */
#include "symbols/dwarf_internal.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

typedef struct line_row {
    Dwarf_Addr address;
    Dwarf_Unsigned line;
    Dwarf_Unsigned file;
    Dwarf_Bool end_sequence;
} line_row;

static bool read_row(Dwarf_Line line, line_row *out, Dwarf_Error *error)
{
    return dwarf_lineaddr(line, &out->address, error) == DW_DLV_OK &&
           dwarf_lineno(line, &out->line, error) == DW_DLV_OK &&
           dwarf_line_srcfileno(line, &out->file, error) == DW_DLV_OK &&
           dwarf_lineendsequence(line, &out->end_sequence, error) == DW_DLV_OK;
}

/* Turns consecutive rows of a sequence into spans. */
static void add_spans(dt_dwarf *dwarf, dwarf_unit *unit, Dwarf_Line *lines, Dwarf_Signed count)
{
    if (count <= 0)
        return;
    size_t n = (size_t)count < DWARF_MAX_LINES_PER_UNIT ? (size_t)count : DWARF_MAX_LINES_PER_UNIT;
    if ((size_t)count > n)
        dwarf_diag(dwarf, DT_DIAG_WARNING, ".debug_info", (int64_t)unit->header.offset,
                   "line table capped at %zu of %lld rows", n, (long long)count);
    unit->lines = calloc(n, sizeof *unit->lines);
    if (!unit->lines)
        return;
    line_row previous = {.end_sequence = true};
    Dwarf_Error error = NULL;
    for (size_t i = 0; i < n; i++) {
        line_row row;
        if (!read_row(lines[i], &row, &error)) {
            dwarf_diag_error(dwarf, "reading a line table row", error);
            break;
        }
        if (!previous.end_sequence && previous.address < row.address &&
            previous.file <= UINT32_MAX && previous.line <= UINT32_MAX)
            unit->lines[unit->line_count++] = (dwarf_line_span){
                previous.address, row.address, (uint32_t)previous.file, (uint32_t)previous.line};
        previous = row;
    }
}

static int compare_spans(const void *a, const void *b)
{
    const dwarf_line_span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Copies the unit's file names (dwarf_srcfiles: full paths as libdwarf
 * joins them with the include directories and DW_AT_comp_dir). */
static void read_files(dt_dwarf *dwarf, dwarf_unit *unit, Dwarf_Die cu_die)
{
    char **names = NULL;
    Dwarf_Signed count = 0;
    Dwarf_Error error = NULL;
    int res = dwarf_srcfiles(cu_die, &names, &count, &error);
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            dwarf_diag_error(dwarf, "reading the line table's file names", error);
        return;
    }
    size_t n = (size_t)count < DWARF_MAX_FILES_PER_UNIT ? (size_t)count : DWARF_MAX_FILES_PER_UNIT;
    unit->files = dt_arena_array(&dwarf->arena, n, sizeof *unit->files);
    for (Dwarf_Signed i = 0; i < count; i++) {
        if (unit->files && (size_t)i < n && names[i])
            unit->files[i] = dt_arena_strndup(&dwarf->arena, names[i],
                                              strnlen(names[i], DWARF_MAX_STRING));
        dwarf_dealloc(dwarf->dbg, names[i], DW_DLA_STRING);
    }
    dwarf_dealloc(dwarf->dbg, names, DW_DLA_LIST);
    unit->file_count = unit->files ? n : 0;
}

/* DW_AT_stmt_list of the CU DIE, when present and readable. */
static bool statement_list_offset(dt_dwarf *dwarf, Dwarf_Die cu_die, Dwarf_Off *offset)
{
    Dwarf_Attribute attr = NULL;
    Dwarf_Error error = NULL;
    int res = dwarf_attr(cu_die, DW_AT_stmt_list, &attr, &error);
    if (res == DW_DLV_OK) {
        res = dwarf_global_formref(attr, offset, &error);
        dwarf_dealloc_attribute(attr);
    }
    if (res == DW_DLV_ERROR)
        dwarf_diag_error(dwarf, "reading DW_AT_stmt_list", error);
    return res == DW_DLV_OK;
}

void dwarf_lines_load(dt_dwarf *dwarf, dwarf_unit *unit, Dwarf_Die cu_die)
{
    Dwarf_Off offset = 0;
    if (!statement_list_offset(dwarf, cu_die, &offset) || !dwarf_validate_line_header(dwarf, offset))
        return;
    Dwarf_Unsigned version = 0;
    Dwarf_Small table_count = 0;
    Dwarf_Line_Context context = NULL;
    Dwarf_Line *lines = NULL;
    Dwarf_Signed count = 0;
    Dwarf_Error error = NULL;
    if (dwarf_srclines_b(cu_die, &version, &table_count, &context, &error) != DW_DLV_OK) {
        dwarf_diag_error(dwarf, "reading the line table", error);
        return;
    }
    if (dwarf_srclines_from_linecontext(context, &lines, &count, &error) == DW_DLV_OK)
        add_spans(dwarf, unit, lines, count);
    else if (error)
        dwarf_diag_error(dwarf, "reading the line table rows", error);
    dwarf_srclines_dealloc_b(context);
    unit->line_version = (uint16_t)version;
    if (unit->line_count > 1)
        qsort(unit->lines, unit->line_count, sizeof *unit->lines, compare_spans);
    read_files(dwarf, unit, cu_die);
}

const dwarf_line_span *dwarf_lines_find(const dwarf_unit *unit, uint64_t va)
{
    size_t lo = 0, hi = unit->line_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (unit->lines[mid].begin <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && va < unit->lines[lo - 1].end)
        return &unit->lines[lo - 1];
    return NULL;
}

const char *dwarf_lines_file(const dwarf_unit *unit, uint64_t file_number)
{
    /* DWARF 5 numbers files from 0 (6.2.4 item 20); earlier versions from 1. */
    uint64_t index = file_number;
    if (unit->line_version < 5) {
        if (file_number == 0)
            return NULL;
        index = file_number - 1;
    }
    return index < unit->file_count ? unit->files[index] : NULL;
}
