/*
 * DWARF provider: checks done on the raw bytes before libdwarf reads them.
 * Debian's libdwarf 20210528 predates most of the fuzzing-driven hardening
 * of later releases, so every unit header, the abbreviation table each unit
 * names and each line-program header are checked here first. The layouts
 * are those of DWARF 5 (dwarfstd.org), sections 7.5.1 (unit headers),
 * 7.5.3 (abbreviations) and 6.2.4 (line program header); versions 2-4
 * differ where noted.
 */
#include "symbols/dwarf_internal.h"

#include <dwarf.h>
#include <stdlib.h>

#include "base/checked.h"
#include "base/cursor.h"

/* ---- Primitive readers ---------------------------------------------------- */

/* Unsigned LEB128 of at most 10 bytes that fits in 64 bits. */
static bool read_uleb(dt_cursor *c, uint64_t *out)
{
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        uint8_t byte;
        if (!dt_cursor_u8(c, &byte))
            return false;
        if (shift == 63 && (byte & 0x7E))
            return false;
        value |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *out = value;
            return true;
        }
    }
    return false;
}

static bool skip_sleb(dt_cursor *c)
{
    uint64_t ignored;
    return read_uleb(c, &ignored);
}

/* The initial length field (7.4): 32-bit, or 0xffffffff then 64-bit.
 * 0xfffffff0-0xfffffffe are reserved. */
static bool read_initial_length(dt_cursor *c, uint64_t *length, uint8_t *offset_size)
{
    uint32_t short_length;
    if (!dt_cursor_u32(c, &short_length))
        return false;
    if (short_length < 0xfffffff0u) {
        *length = short_length;
        *offset_size = 4;
        return true;
    }
    *offset_size = 8;
    return short_length == 0xffffffffu && dt_cursor_u64(c, length);
}

static bool read_offset(dt_cursor *c, uint8_t offset_size, uint64_t *out)
{
    if (offset_size == 8)
        return dt_cursor_u64(c, out);
    uint32_t value;
    if (!dt_cursor_u32(c, &value))
        return false;
    *out = value;
    return true;
}

/* ---- Abbreviation tables -------------------------------------------------- */

/* Forms libdwarf 20210528 decodes (DWARF 5 table 7.6 and the GNU forms GCC
 * emits). DW_FORM_indirect is refused: it lets a DIE pick forms at run time
 * and old libdwarf releases mishandled chains of it. */
static bool form_is_known(uint64_t form)
{
    if (form >= DW_FORM_addr && form <= DW_FORM_addrx4)
        return form != 0x02 && form != DW_FORM_indirect;
    return form == DW_FORM_GNU_addr_index || form == DW_FORM_GNU_str_index ||
           form == DW_FORM_GNU_ref_alt || form == DW_FORM_GNU_strp_alt;
}

/* One abbreviation's attribute specifications up to the (0, 0) pair. */
static bool check_attribute_specs(dt_cursor *c)
{
    for (unsigned i = 0; i <= DWARF_MAX_ATTRS_PER_ABBREV; i++) {
        uint64_t name, form;
        if (!read_uleb(c, &name) || !read_uleb(c, &form))
            return false;
        if (name == 0 && form == 0)
            return true;
        if (name == 0 || !form_is_known(form))
            return false;
        if (form == DW_FORM_implicit_const && !skip_sleb(c))
            return false;
    }
    return false;
}

/* The abbreviation table at `offset`: entries (code, tag, children, specs)
 * until a zero code, all inside .debug_abbrev. */
static bool check_abbrev_table(const dwarf_section *abbrev, uint64_t offset, const char **why)
{
    dt_cursor c = dt_cursor_make(abbrev->bytes, abbrev->size);
    if (!dt_cursor_seek(&c, offset)) {
        *why = "abbreviation offset is past .debug_abbrev";
        return false;
    }
    for (unsigned i = 0; i <= DWARF_MAX_ABBREVS_PER_TABLE; i++) {
        uint64_t code, tag;
        uint8_t children;
        if (!read_uleb(&c, &code))
            break;
        if (code == 0)
            return true;
        if (!read_uleb(&c, &tag) || tag == 0 || tag > 0xffff || !dt_cursor_u8(&c, &children) ||
            children > 1 || !check_attribute_specs(&c)) {
            *why = "malformed abbreviation";
            return false;
        }
    }
    *why = "abbreviation table is unterminated or too long";
    return false;
}

/* ---- Unit headers --------------------------------------------------------- */

typedef struct unit_check {
    dt_dwarf *dwarf;
    const dwarf_section *abbrev;
    uint64_t last_abbrev_checked; /* UINT64_MAX: none yet */
    const char *why;
} unit_check;

/* DWARF 5 unit types with the fields after abbrev_offset (7.5.1). */
static bool skip_unit_type_fields(dt_cursor *c, uint8_t unit_type, uint8_t offset_size)
{
    switch (unit_type) {
    case DW_UT_compile:
    case DW_UT_partial:
        return true;
    case DW_UT_type:
        return dt_cursor_skip(c, 8) && dt_cursor_skip(c, offset_size);
    default:
        return false;     /* skeleton and split units need a .dwo */
    }
}

/* Reads the header of the unit `c` holds (its unit_length excluded). */
static bool check_unit_fields(unit_check *check, dt_cursor *c, uint8_t offset_size,
                              uint16_t *version)
{
    uint8_t address_size = 0, unit_type = DW_UT_compile;
    uint64_t abbrev_offset;
    if (!dt_cursor_u16(c, version) || *version < 2 || *version > 5) {
        check->why = "unsupported DWARF version";
        return false;
    }
    bool header_read = *version >= 5
        ? dt_cursor_u8(c, &unit_type) && dt_cursor_u8(c, &address_size) &&
              read_offset(c, offset_size, &abbrev_offset) &&
              skip_unit_type_fields(c, unit_type, offset_size)
        : read_offset(c, offset_size, &abbrev_offset) && dt_cursor_u8(c, &address_size);
    if (!header_read || dt_cursor_remaining(c) == 0) {
        check->why = "truncated header or unsupported unit type";
        return false;
    }
    if (address_size != check->dwarf->pointer_size) {
        check->why = "address size differs from the image's pointer size";
        return false;
    }
    if (abbrev_offset == check->last_abbrev_checked)
        return true;
    if (!check_abbrev_table(check->abbrev, abbrev_offset, &check->why))
        return false;
    check->last_abbrev_checked = abbrev_offset;
    return true;
}

static bool append_unit(dt_dwarf *dwarf, size_t *capacity, const dwarf_unit_header *unit)
{
    if (dwarf->checked_unit_count == *capacity) {
        size_t grown = *capacity ? *capacity * 2 : 64;
        dwarf_unit_header *bigger = realloc(dwarf->checked_units, grown * sizeof *bigger);
        if (!bigger)
            return false;
        dwarf->checked_units = bigger;
        *capacity = grown;
    }
    dwarf->checked_units[dwarf->checked_unit_count++] = *unit;
    return true;
}

size_t dwarf_validate_info(dt_dwarf *dwarf, const dwarf_section *info)
{
    unit_check check = {.dwarf = dwarf, .abbrev = dwarf_section_named(dwarf, ".debug_abbrev"),
                        .last_abbrev_checked = UINT64_MAX};
    static const dwarf_section no_abbrev = {.name = ".debug_abbrev"};
    if (!check.abbrev)
        check.abbrev = &no_abbrev;
    dt_cursor c = dt_cursor_make(info->bytes, info->size);
    size_t capacity = 0;
    while (dt_cursor_remaining(&c) > 0) {
        dwarf_unit_header unit = {.offset = c.pos};
        uint64_t length;
        uint8_t offset_size;
        dt_cursor body;
        check.why = "unit length runs past .debug_info";
        bool good = read_initial_length(&c, &length, &offset_size) &&
                    length <= dt_cursor_remaining(&c) && dt_cursor_sub(&c, length, &body) &&
                    check_unit_fields(&check, &body, offset_size, &unit.version);
        if (good && dwarf->checked_unit_count >= DWARF_MAX_UNITS) {
            check.why = "too many units";
            good = false;
        }
        unit.end = c.pos;
        if (!good || !append_unit(dwarf, &capacity, &unit)) {
            dwarf_diag(dwarf, DT_DIAG_WARNING, ".debug_info", (int64_t)unit.offset,
                       "unit skipped with all after it: %s", good ? "out of memory" : check.why);
            return (size_t)unit.offset;
        }
    }
    return info->size;
}

/* ---- Line program headers ------------------------------------------------- */

/* The fields of a line program header that libdwarf divides by or sizes
 * arrays with (6.2.4 items 1-12). */
static bool check_line_fields(dt_cursor *c, uint8_t offset_size, const char **why)
{
    uint16_t version;
    uint64_t header_length;
    uint8_t min_instruction, max_ops = 1, default_is_stmt, line_base, line_range, opcode_base;
    *why = "truncated line program header";
    if (!dt_cursor_u16(c, &version))
        return false;
    if (version < 2 || version > 5) {
        *why = "unsupported line table version";
        return false;
    }
    if (version >= 5 && !dt_cursor_skip(c, 2)) /* address_size, segment_selector_size */
        return false;
    if (!read_offset(c, offset_size, &header_length) || header_length > dt_cursor_remaining(c))
        return false;
    if (!dt_cursor_u8(c, &min_instruction) || (version >= 4 && !dt_cursor_u8(c, &max_ops)) ||
        !dt_cursor_u8(c, &default_is_stmt) || !dt_cursor_u8(c, &line_base) ||
        !dt_cursor_u8(c, &line_range) || !dt_cursor_u8(c, &opcode_base))
        return false;
    if (line_range == 0 || opcode_base == 0 || max_ops == 0 || min_instruction == 0) {
        *why = "line_range, opcode_base or an instruction size is zero";
        return false;
    }
    return true;
}

bool dwarf_validate_line_header(dt_dwarf *dwarf, uint64_t offset)
{
    const dwarf_section *line = dwarf_section_named(dwarf, ".debug_line");
    const char *why = "no .debug_line section";
    if (line) {
        dt_cursor c = dt_cursor_make(line->bytes, line->size);
        uint64_t length;
        uint8_t offset_size;
        dt_cursor body;
        why = "line program offset or length runs past .debug_line";
        if (dt_cursor_seek(&c, offset) && read_initial_length(&c, &length, &offset_size) &&
            length <= dt_cursor_remaining(&c) && dt_cursor_sub(&c, length, &body) &&
            check_line_fields(&body, offset_size, &why))
            return true;
    }
    dwarf_diag(dwarf, DT_DIAG_WARNING, line ? ".debug_line" : NULL,
               line ? (int64_t)offset : -1, "line table not read: %s", why);
    return false;
}

/* ---- Range list tables ---------------------------------------------------- */

/* One .debug_rnglists table header (7.28): version 5, our address size, no
 * segment selectors, and its offset array inside the table. */
static bool check_rnglists_header(const dt_dwarf *dwarf, dt_cursor *table, uint8_t offset_size)
{
    uint16_t version;
    uint8_t address_size, segment_size;
    uint32_t offset_count;
    uint64_t array_size;
    return dt_cursor_u16(table, &version) && version == 5 &&
           dt_cursor_u8(table, &address_size) && address_size == dwarf->pointer_size &&
           dt_cursor_u8(table, &segment_size) && segment_size == 0 &&
           dt_cursor_u32(table, &offset_count) &&
           dt_mul_u64(offset_count, offset_size > address_size ? offset_size : address_size,
                      &array_size) &&
           array_size <= dt_cursor_remaining(table);
}

size_t dwarf_validate_rnglists(dt_dwarf *dwarf, const dwarf_section *rnglists)
{
    dt_cursor c = dt_cursor_make(rnglists->bytes, rnglists->size);
    while (dt_cursor_remaining(&c) > 0) {
        size_t start = c.pos;
        uint64_t length;
        uint8_t offset_size;
        dt_cursor table;
        if (!read_initial_length(&c, &length, &offset_size) ||
            length > dt_cursor_remaining(&c) || !dt_cursor_sub(&c, length, &table) ||
            !check_rnglists_header(dwarf, &table, offset_size)) {
            dwarf_diag(dwarf, DT_DIAG_WARNING, ".debug_rnglists", (int64_t)start,
                       "bad range list table header; it and the tables after it are ignored");
            return start;
        }
    }
    return rnglists->size;
}
