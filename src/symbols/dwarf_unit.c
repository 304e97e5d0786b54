/*
 * DWARF provider: one compilation unit's functions. Walks the CU's DIE tree
 * (bounded in count and depth) and records each DW_TAG_subprogram and
 * DW_TAG_inlined_subroutine that has code as a scope with its address
 * ranges, its enclosing scope and, for inlined calls, DW_AT_call_file/
 * DW_AT_call_line. Names are resolved when a lookup returns the scope.
 */
#include "symbols/dwarf_internal.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"

/* ---- Address ranges ------------------------------------------------------- */

/* DW_AT_low_pc with DW_AT_high_pc, an address (class address) or, from
 * DWARF 4, an offset from low_pc (class constant). */
static size_t low_high_range(Dwarf_Debug dbg, Dwarf_Die die, dwarf_range *out)
{
    Dwarf_Addr low = 0, high = 0;
    Dwarf_Half form = 0;
    enum Dwarf_Form_Class form_class = DW_FORM_CLASS_UNKNOWN;
    Dwarf_Error error = NULL;
    if (dwarf_lowpc(die, &low, &error) != DW_DLV_OK) {
        if (error)
            dwarf_dealloc_error(dbg, error);
        return 0;
    }
    if (dwarf_highpc_b(die, &high, &form, &form_class, &error) != DW_DLV_OK) {
        if (error)
            dwarf_dealloc_error(dbg, error);
        return 0;
    }
    uint64_t end = high;
    if (form_class == DW_FORM_CLASS_CONSTANT && !dt_add_u64(low, high, &end))
        return 0;
    out->begin = low;
    out->end = end;
    return low < end ? 1 : 0;
}

/* DWARF 2-4 DW_AT_ranges: a .debug_ranges list of (begin, end) pairs
 * relative to the CU base address, with base-address selection entries. */
static size_t debug_ranges(dt_dwarf *dwarf, const dwarf_unit *unit, Dwarf_Die die,
                           Dwarf_Off offset, dwarf_range *out, size_t cap)
{
    Dwarf_Ranges *list = NULL;
    Dwarf_Signed count = 0;
    Dwarf_Unsigned bytes = 0;
    Dwarf_Off real_offset = 0;
    Dwarf_Error error = NULL;
    int res = dwarf_get_ranges_b(dwarf->dbg, offset, die, &real_offset, &list, &count, &bytes,
                                 &error);
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            dwarf_diag_error(dwarf, "reading .debug_ranges", error);
        return 0;
    }
    uint64_t base = unit->base_address;
    size_t n = 0;
    for (Dwarf_Signed i = 0; i < count && n < cap; i++) {
        if (list[i].dwr_type == DW_RANGES_ADDRESS_SELECTION)
            base = list[i].dwr_addr2;
        else if (list[i].dwr_type == DW_RANGES_ENTRY &&
                 dt_add_u64(base, list[i].dwr_addr1, &out[n].begin) &&
                 dt_add_u64(base, list[i].dwr_addr2, &out[n].end) && out[n].begin < out[n].end)
            n++;
    }
    dwarf_ranges_dealloc(dwarf->dbg, list, count);
    return n;
}

/* DWARF 5 DW_AT_ranges: a .debug_rnglists list; libdwarf applies the base
 * address and .debug_addr ("cooked" values). */
static size_t rnglists_ranges(dt_dwarf *dwarf, Dwarf_Attribute attr, Dwarf_Half form,
                              Dwarf_Unsigned value, dwarf_range *out, size_t cap)
{
    Dwarf_Rnglists_Head head = NULL;
    Dwarf_Unsigned count = 0, global_offset = 0;
    Dwarf_Error error = NULL;
    int res = dwarf_rnglists_get_rle_head(attr, form, value, &head, &count, &global_offset,
                                          &error);
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            dwarf_diag_error(dwarf, "reading .debug_rnglists", error);
        return 0;
    }
    size_t n = 0;
    for (Dwarf_Unsigned i = 0; i < count && n < cap; i++) {
        unsigned entry_length = 0, kind = 0;
        Dwarf_Unsigned raw1 = 0, raw2 = 0, begin = 0, end = 0;
        Dwarf_Bool no_debug_addr = false;
        res = dwarf_get_rnglists_entry_fields_a(head, i, &entry_length, &kind, &raw1, &raw2,
                                                &no_debug_addr, &begin, &end, &error);
        if (res != DW_DLV_OK) {
            if (res == DW_DLV_ERROR)
                dwarf_diag_error(dwarf, "reading a .debug_rnglists entry", error);
            break;
        }
        bool is_range = kind != DW_RLE_end_of_list && kind != DW_RLE_base_addressx &&
                        kind != DW_RLE_base_address;
        if (is_range && !no_debug_addr && begin < end)
            out[n++] = (dwarf_range){begin, end};
    }
    dwarf_dealloc_rnglists_head(head);
    return n;
}

static size_t attribute_ranges(dt_dwarf *dwarf, const dwarf_unit *unit, Dwarf_Die die,
                               Dwarf_Attribute attr, dwarf_range *out, size_t cap)
{
    Dwarf_Half form = 0;
    Dwarf_Off offset = 0;
    Dwarf_Unsigned index = 0;
    Dwarf_Error error = NULL;
    if (dwarf_whatform(attr, &form, &error) != DW_DLV_OK) {
        dwarf_diag_error(dwarf, "reading DW_AT_ranges", error);
        return 0;
    }
    if (form == DW_FORM_rnglistx) {
        if (dwarf_formudata(attr, &index, &error) == DW_DLV_OK)
            return rnglists_ranges(dwarf, attr, form, index, out, cap);
    } else if (dwarf_global_formref(attr, &offset, &error) == DW_DLV_OK) {
        if (unit->header.version >= 5)
            return rnglists_ranges(dwarf, attr, form, offset, out, cap);
        return debug_ranges(dwarf, unit, die, offset, out, cap);
    }
    dwarf_diag_error(dwarf, "reading DW_AT_ranges", error);
    return 0;
}

size_t dwarf_die_ranges(dt_dwarf *dwarf, const dwarf_unit *unit, Dwarf_Die die,
                        dwarf_range *out, size_t cap)
{
    if (cap == 0)
        return 0;
    if (low_high_range(dwarf->dbg, die, out))
        return 1;
    Dwarf_Attribute attr = NULL;
    Dwarf_Error error = NULL;
    int res = dwarf_attr(die, DW_AT_ranges, &attr, &error);
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            dwarf_diag_error(dwarf, "reading DW_AT_ranges", error);
        return 0;
    }
    size_t n = attribute_ranges(dwarf, unit, die, attr, out, cap);
    dwarf_dealloc_attribute(attr);
    return n;
}

/* ---- The DIE walk --------------------------------------------------------- */

typedef struct unit_walk {
    dt_dwarf *dwarf;
    dwarf_unit *unit;
    size_t scope_capacity;
    size_t range_capacity;
    size_t dies_left;
    bool stopped;             /* a cap was hit or memory ran out */
    dwarf_range buffer[DWARF_MAX_RANGES_PER_DIE];
} unit_walk;

static bool grow(void **array, size_t *capacity, size_t needed, size_t width)
{
    if (needed <= *capacity)
        return true;
    size_t grown = *capacity ? *capacity * 2 : 64;
    while (grown < needed)
        grown *= 2;
    void *bigger = realloc(*array, grown * width);
    if (!bigger)
        return false;
    *array = bigger;
    *capacity = grown;
    return true;
}

/* The value of a constant attribute. libdwarf 20210528's dwarf_formudata
 * refuses DW_FORM_implicit_const (GCC 12 uses it for DW_AT_call_file);
 * dwarf_formsdata reads it. */
static bool attribute_constant(Dwarf_Attribute attr, uint64_t *out, Dwarf_Error *error)
{
    Dwarf_Half form = 0;
    if (dwarf_whatform(attr, &form, error) != DW_DLV_OK)
        return false;
    if (form != DW_FORM_implicit_const) {
        Dwarf_Unsigned value = 0;
        if (dwarf_formudata(attr, &value, error) != DW_DLV_OK)
            return false;
        *out = value;
        return true;
    }
    Dwarf_Signed value = 0;
    if (dwarf_formsdata(attr, &value, error) != DW_DLV_OK || value < 0)
        return false;
    *out = (uint64_t)value;
    return true;
}

/* Attribute `name` of `die` as an unsigned constant; 0 when absent. */
static uint64_t unsigned_attribute(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half name)
{
    Dwarf_Attribute attr = NULL;
    uint64_t value = 0;
    Dwarf_Error error = NULL;
    if (dwarf_attr(die, name, &attr, &error) == DW_DLV_OK) {
        if (!attribute_constant(attr, &value, &error))
            value = 0;
        dwarf_dealloc_attribute(attr);
    }
    if (error)
        dwarf_dealloc_error(dbg, error);
    return value;
}

/* Appends the scope of `die` when it has code; returns its index, or
 * `parent` when it has none. */
static uint32_t add_scope(unit_walk *walk, Dwarf_Die die, Dwarf_Half tag, uint32_t parent)
{
    dwarf_unit *unit = walk->unit;
    size_t n = dwarf_die_ranges(walk->dwarf, unit, die, walk->buffer, DWARF_MAX_RANGES_PER_DIE);
    if (n == 0)
        return parent;
    Dwarf_Error error = NULL;
    Dwarf_Off offset = 0;
    if (unit->range_count + n > DWARF_MAX_RANGES_PER_UNIT || unit->scope_count >= UINT32_MAX - 1 ||
        dwarf_dieoffset(die, &offset, &error) != DW_DLV_OK ||
        !grow((void **)&unit->scopes, &walk->scope_capacity, unit->scope_count + 1,
              sizeof *unit->scopes) ||
        !grow((void **)&unit->ranges, &walk->range_capacity, unit->range_count + n,
              sizeof *unit->ranges)) {
        if (error)
            dwarf_dealloc_error(walk->dwarf->dbg, error);
        walk->stopped = true;
        return parent;
    }
    uint32_t index = (uint32_t)unit->scope_count++;
    dwarf_scope *scope = &unit->scopes[index];
    *scope = (dwarf_scope){.die_offset = offset, .parent = parent,
                           .inlined = tag == DW_TAG_inlined_subroutine,
                           .first_range = unit->range_count, .range_count = n};
    scope->depth = parent == DWARF_NO_SCOPE ? 0 : unit->scopes[parent].depth + 1;
    if (scope->inlined) {
        scope->call_file = unsigned_attribute(walk->dwarf->dbg, die, DW_AT_call_file);
        scope->call_line = (uint32_t)unsigned_attribute(walk->dwarf->dbg, die, DW_AT_call_line);
    }
    for (size_t i = 0; i < n; i++)
        unit->ranges[unit->range_count++] = (dwarf_scope_range){walk->buffer[i], index};
    return index;
}

/* Tags whose children may hold code: scopes, blocks and the C++ containers
 * a function definition can sit in. */
static bool may_hold_code(Dwarf_Half tag)
{
    switch (tag) {
    case DW_TAG_compile_unit:
    case DW_TAG_partial_unit:
    case DW_TAG_subprogram:
    case DW_TAG_inlined_subroutine:
    case DW_TAG_lexical_block:
    case DW_TAG_namespace:
    case DW_TAG_module:
    case DW_TAG_class_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
        return true;
    default:
        return false;
    }
}

static void walk_children(unit_walk *walk, Dwarf_Die parent, uint32_t scope, unsigned depth);

static void visit_die(unit_walk *walk, Dwarf_Die die, uint32_t parent, unsigned depth)
{
    Dwarf_Half tag = 0;
    Dwarf_Error error = NULL;
    if (dwarf_tag(die, &tag, &error) != DW_DLV_OK) {
        dwarf_diag_error(walk->dwarf, "reading a DIE tag", error);
        return;
    }
    uint32_t scope = parent;
    if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine)
        scope = add_scope(walk, die, tag, parent);
    bool empty_function = tag == DW_TAG_subprogram && scope == parent;
    if (may_hold_code(tag) && !empty_function && depth < DWARF_MAX_DIE_DEPTH)
        walk_children(walk, die, scope, depth + 1);
}

static void walk_children(unit_walk *walk, Dwarf_Die parent, uint32_t scope, unsigned depth)
{
    Dwarf_Debug dbg = walk->dwarf->dbg;
    Dwarf_Die child = NULL;
    Dwarf_Error error = NULL;
    int res = dwarf_child(parent, &child, &error);
    while (res == DW_DLV_OK && !walk->stopped) {
        if (walk->dies_left-- == 0) {
            walk->stopped = true;
            break;
        }
        visit_die(walk, child, scope, depth);
        Dwarf_Die next = NULL;
        res = dwarf_siblingof_b(dbg, child, true, &next, &error);
        dwarf_dealloc_die(child);
        child = next;
    }
    if (res == DW_DLV_OK)
        dwarf_dealloc_die(child);
    if (res == DW_DLV_ERROR)
        dwarf_diag_error(walk->dwarf, "walking DIEs", error);
}

static void walk_unit(dt_dwarf *dwarf, dwarf_unit *unit, Dwarf_Die cu_die)
{
    unit_walk *walk = calloc(1, sizeof *walk);
    if (!walk) {
        dwarf_diag(dwarf, DT_DIAG_ERROR, NULL, -1, "out of memory reading a unit");
        return;
    }
    walk->dwarf = dwarf;
    walk->unit = unit;
    walk->dies_left = DWARF_MAX_DIES_PER_UNIT;
    walk_children(walk, cu_die, DWARF_NO_SCOPE, 1);
    if (walk->stopped)
        dwarf_diag(dwarf, DT_DIAG_WARNING, ".debug_info", (int64_t)unit->header.offset,
                   "unit read partly: a cap on DIEs or ranges was hit, or memory ran out");
    free(walk);
}

void dwarf_unit_load(dt_dwarf *dwarf, dwarf_unit *unit)
{
    if (unit->loaded)
        return;
    unit->loaded = true;
    if (unit->die_offset == 0)
        return;
    Dwarf_Die cu_die = NULL;
    Dwarf_Error error = NULL;
    int res = dwarf_offdie_b(dwarf->dbg, unit->die_offset, true, &cu_die, &error);
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            dwarf_diag_error(dwarf, "reading a compilation unit DIE", error);
        return;
    }
    walk_unit(dwarf, unit, cu_die);
    dwarf_lines_load(dwarf, unit, cu_die);
    dwarf_dealloc_die(cu_die);
}

/* ---- Names ---------------------------------------------------------------- */

/* The string value of attribute `name` of `die`, or NULL. */
static const char *string_attribute(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half name)
{
    Dwarf_Attribute attr = NULL;
    char *value = NULL;
    Dwarf_Error error = NULL;
    if (dwarf_attr(die, name, &attr, &error) == DW_DLV_OK) {
        if (dwarf_formstring(attr, &value, &error) != DW_DLV_OK)
            value = NULL;
        dwarf_dealloc_attribute(attr);
    }
    if (error)
        dwarf_dealloc_error(dbg, error);
    return value;
}

/* The DIE that `die`'s DW_AT_specification or DW_AT_abstract_origin names. */
static Dwarf_Die referenced_die(Dwarf_Debug dbg, Dwarf_Die die)
{
    static const Dwarf_Half links[] = {DW_AT_specification, DW_AT_abstract_origin};
    for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
        Dwarf_Attribute attr = NULL;
        Dwarf_Off offset = 0;
        Dwarf_Die target = NULL;
        Dwarf_Error error = NULL;
        if (dwarf_attr(die, links[i], &attr, &error) != DW_DLV_OK) {
            if (error)
                dwarf_dealloc_error(dbg, error);
            continue;
        }
        int res = dwarf_global_formref(attr, &offset, &error);
        dwarf_dealloc_attribute(attr);
        if (res == DW_DLV_OK)
            res = dwarf_offdie_b(dbg, offset, true, &target, &error);
        if (error)
            dwarf_dealloc_error(dbg, error);
        if (res == DW_DLV_OK)
            return target;
    }
    return NULL;
}

/* A copy of `s` in the arena, cut at DWARF_MAX_STRING bytes. */
static const char *keep_string(dt_dwarf *dwarf, const char *s)
{
    return s ? dt_arena_strndup(&dwarf->arena, s, strnlen(s, DWARF_MAX_STRING)) : NULL;
}

/* Follows DW_AT_specification / DW_AT_abstract_origin from `die` (a bounded
 * number of hops) for the first linkage name and the first DW_AT_name. */
static void find_names(dt_dwarf *dwarf, Dwarf_Die die, const char **linkage, const char **plain)
{
    Dwarf_Debug dbg = dwarf->dbg;
    Dwarf_Die current = die;
    for (unsigned hop = 0; hop < DWARF_MAX_NAME_HOPS && current && !*linkage; hop++) {
        *linkage = keep_string(dwarf, string_attribute(dbg, current, DW_AT_linkage_name));
        if (!*linkage)
            *linkage = keep_string(dwarf, string_attribute(dbg, current, DW_AT_MIPS_linkage_name));
        if (!*plain)
            *plain = keep_string(dwarf, string_attribute(dbg, current, DW_AT_name));
        Dwarf_Die next = *linkage ? NULL : referenced_die(dbg, current);
        if (current != die)
            dwarf_dealloc_die(current);
        current = next;
    }
    if (current && current != die)
        dwarf_dealloc_die(current);
}

static const char *demangled(dt_dwarf *dwarf, const char *linkage)
{
    char buffer[DWARF_MAX_STRING];
    if (!dt_demangle_itanium(linkage, buffer, sizeof buffer))
        return linkage;
    return dt_arena_strndup(&dwarf->arena, buffer, strnlen(buffer, sizeof buffer));
}

const char *dwarf_scope_name(dt_dwarf *dwarf, dwarf_scope *scope)
{
    if (scope->name_resolved)
        return scope->name;
    scope->name_resolved = true;
    Dwarf_Die die = NULL;
    Dwarf_Error error = NULL;
    int res = dwarf_offdie_b(dwarf->dbg, scope->die_offset, true, &die, &error);
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            dwarf_diag_error(dwarf, "reading a function's DIE", error);
        return NULL;
    }
    const char *linkage = NULL, *plain = NULL;
    find_names(dwarf, die, &linkage, &plain);
    dwarf_dealloc_die(die);
    scope->name = linkage ? demangled(dwarf, linkage) : plain;
    return scope->name;
}
