/*
 * Private state of the DWARF provider (src/symbols/dwarf_*.c).
 *
 * Layout: dwarf_open.c maps the image's DWARF sections (validated by
 * dwarf_validate.c) into libdwarf through our own object-access interface;
 * dwarf_index.c builds the CU address index on the first lookup;
 * dwarf_unit.c reads one CU's functions and inlined calls, dwarf_lines.c its
 * line table, when a lookup first lands in it; dwarf_lookup.c answers.
 * docs/dwarf.md describes what is read and the limits.
 */
#ifndef DT_SYMBOLS_DWARF_INTERNAL_H
#define DT_SYMBOLS_DWARF_INTERNAL_H

#include <libdwarf.h>

#include "dumptriage/symbols.h"
#include "base/arena.h"
#include "base/diag.h"

/* Caps on work driven by the image's bytes. */
enum {
    DWARF_MAX_SECTION_SIZE = 1 << 30,
    DWARF_MAX_UNITS = 1 << 16,
    DWARF_MAX_ABBREVS_PER_TABLE = 1 << 16,
    DWARF_MAX_ATTRS_PER_ABBREV = 256,
    DWARF_MAX_ARANGES = 1 << 20,
    DWARF_MAX_DIES_PER_UNIT = 1 << 20,
    DWARF_MAX_DIE_DEPTH = 64,
    DWARF_MAX_RANGES_PER_DIE = 4096,
    DWARF_MAX_RANGES_PER_UNIT = 1 << 20,
    DWARF_MAX_LINES_PER_UNIT = 1 << 21,
    DWARF_MAX_FILES_PER_UNIT = 1 << 16,
    DWARF_MAX_NAME_HOPS = 8,      /* DW_AT_specification / abstract_origin */
    DWARF_MAX_INLINE_DEPTH = 64,
    DWARF_MAX_STRING = 4096
};

/* The DWARF sections we hand to libdwarf (index 0 of the access interface
 * is an empty placeholder, as ELF's section 0 is). */
enum { DWARF_SECTION_SLOTS = 12 };

typedef struct dwarf_section {
    const char *name;
    const uint8_t *bytes;
    size_t size;
    uint32_t rva;
} dwarf_section;

/* A unit of .debug_info as checked by dwarf_validate.c. */
typedef struct dwarf_unit_header {
    uint64_t offset;         /* of the unit header in .debug_info */
    uint64_t end;            /* one past the unit */
    uint16_t version;
} dwarf_unit_header;

/* [begin, end) in VAs at the preferred ImageBase, as DWARF holds them. */
typedef struct dwarf_range {
    uint64_t begin;
    uint64_t end;
} dwarf_range;

/* A subprogram or inlined subroutine with code. */
typedef struct dwarf_scope {
    Dwarf_Off die_offset;
    uint32_t parent;          /* enclosing scope, or DWARF_NO_SCOPE */
    uint32_t depth;           /* scopes above it in the unit */
    bool inlined;
    bool name_resolved;
    const char *name;         /* resolved on first use */
    uint64_t call_file;       /* DW_AT_call_file / call_line (inlined) */
    uint32_t call_line;
    size_t first_range;       /* into dwarf_unit.ranges */
    size_t range_count;
} dwarf_scope;

#define DWARF_NO_SCOPE UINT32_MAX

typedef struct dwarf_scope_range {
    dwarf_range range;
    uint32_t scope;
} dwarf_scope_range;

/* One address range of the line table: [begin, end) is file:line. */
typedef struct dwarf_line_span {
    uint64_t begin;
    uint64_t end;
    uint32_t file;            /* file number as the line program gives it */
    uint32_t line;
} dwarf_line_span;

typedef struct dwarf_unit {
    dwarf_unit_header header;
    Dwarf_Off die_offset;     /* of the CU DIE; 0 when libdwarf could not read it */
    uint64_t base_address;    /* CU DIE DW_AT_low_pc */
    bool loaded;

    dwarf_scope *scopes;
    size_t scope_count;
    dwarf_scope_range *ranges;
    size_t range_count;

    dwarf_line_span *lines;   /* sorted by begin */
    size_t line_count;
    const char **files;       /* the line table's file names (NULL: unknown) */
    size_t file_count;
    uint16_t line_version;    /* file numbers are 0-based from version 5 */
} dwarf_unit;

/* A CU's address range in the index, sorted by begin. */
typedef struct dwarf_unit_span {
    dwarf_range range;
    uint32_t unit;
} dwarf_unit_span;

struct dt_dwarf {
    const dt_image *image;
    const char *label;
    dt_arena arena;
    dt_diag_list diags;
    size_t diags_dropped_reported;
    size_t diags_summary_index;

    uint64_t image_base;
    uint8_t pointer_size;
    dwarf_section sections[DWARF_SECTION_SLOTS];
    size_t section_count;      /* including the placeholder at 0 */

    Dwarf_Obj_Access_Interface access;
    Dwarf_Debug dbg;

    dwarf_unit_header *checked_units; /* units that passed validation */
    size_t checked_unit_count;

    bool indexed;
    dwarf_unit *units;
    size_t unit_count;
    dwarf_unit_span *spans;
    size_t span_count;
};

/* ---- dwarf_open.c --------------------------------------------------------- */

/* The validated view of a DWARF section, or NULL when the image lacks it. */
const dwarf_section *dwarf_section_named(const dt_dwarf *dwarf, const char *name);
/* Records a diagnostic about `section` at `section_offset` (< 0: none). */
void dwarf_diag(dt_dwarf *dwarf, dt_diag_level level, const char *section,
                int64_t section_offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Keeps one "N more diagnostics suppressed" entry up to date; called after
 * each public call, as lookups keep adding diagnostics. */
void dwarf_diags_refresh(dt_dwarf *dwarf);
/* Records libdwarf's error as a diagnostic and releases it. */
void dwarf_diag_error(dt_dwarf *dwarf, const char *what, Dwarf_Error error);

/* ---- dwarf_validate.c ----------------------------------------------------- */

/* Walks the unit headers of .debug_info and checks each against the other
 * sections (version, address size, abbreviation table). Fills
 * dwarf->checked_units and returns how many bytes of .debug_info, from the
 * start, libdwarf may see: the units before the first bad one. */
size_t dwarf_validate_info(dt_dwarf *dwarf, const dwarf_section *info);
/* Checks every .debug_rnglists table header (libdwarf 20210528 reads them
 * all when it first reads .debug_info, and its error path there frees
 * memory twice); returns how many leading bytes hold sound tables. */
size_t dwarf_validate_rnglists(dt_dwarf *dwarf, const dwarf_section *rnglists);
/* True when the line program header at `offset` of .debug_line is sound. */
bool dwarf_validate_line_header(dt_dwarf *dwarf, uint64_t offset);

/* ---- dwarf_index.c -------------------------------------------------------- */

/* Builds the CU address index (once); failures become diagnostics. */
void dwarf_index_build(dt_dwarf *dwarf);
/* The unit whose address ranges hold `va`, or NULL. */
dwarf_unit *dwarf_index_find(dt_dwarf *dwarf, uint64_t va);

/* ---- dwarf_unit.c --------------------------------------------------------- */

/* The address ranges of `die` (a DIE of `unit`) into `out`: DW_AT_low_pc/
 * DW_AT_high_pc, else DW_AT_ranges. Returns how many (at most `cap`). */
size_t dwarf_die_ranges(dt_dwarf *dwarf, const dwarf_unit *unit, Dwarf_Die die,
                        dwarf_range *out, size_t cap);
/* Reads the unit's scopes and line table (once). */
void dwarf_unit_load(dt_dwarf *dwarf, dwarf_unit *unit);
/* The scope's display name (demangled linkage name or DW_AT_name). */
const char *dwarf_scope_name(dt_dwarf *dwarf, dwarf_scope *scope);

/* ---- dwarf_open.c --------------------------------------------------------- */

/* libdwarf keeps process-wide state (a shared buffer written while reading
 * line tables), so it is not safe from two threads at once even on separate
 * Dwarf_Debug handles. Every public dt_dwarf_* entry point holds this lock
 * while it may call into libdwarf; batch jobs symbolize in parallel. */
void dwarf_library_lock(void);
void dwarf_library_unlock(void);

/* ---- dwarf_lines.c -------------------------------------------------------- */

/* Reads the line table of the unit whose CU DIE is `cu_die`. */
void dwarf_lines_load(dt_dwarf *dwarf, dwarf_unit *unit, Dwarf_Die cu_die);
/* The line span holding `va`, or NULL. */
const dwarf_line_span *dwarf_lines_find(const dwarf_unit *unit, uint64_t va);
/* The file name for a DW_AT_call_file / line-table file number, or NULL. */
const char *dwarf_lines_file(const dwarf_unit *unit, uint64_t file_number);

#endif
