/*
 * DWARF provider: opening. Finds the image's DWARF sections, checks them
 * (dwarf_validate.c) and hands libdwarf zero-copy views of them through our
 * own Dwarf_Obj_Access_Interface. libdwarf never sees bytes we have not
 * bounded, and every libdwarf call reports failure through a Dwarf_Error;
 * the error handler installed here only makes sure libdwarf never aborts.
 */
#include "symbols/dwarf_internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "image/image_internal.h"

/* The sections libdwarf may read, all optional but .debug_info. */
static const char *const dwarf_section_names[] = {
    ".debug_info",     ".debug_abbrev", ".debug_line",        ".debug_str",
    ".debug_ranges",   ".debug_aranges", ".debug_loc",        ".debug_line_str",
    ".debug_rnglists", ".debug_str_offsets", ".debug_addr",
};

/* ELF section type SHT_PROGBITS: what libdwarf expects of a data section. */
enum { ACCESS_SECTION_PROGBITS = 1 };

/* ---- Diagnostics ---------------------------------------------------------- */

void dwarf_diags_refresh(dt_dwarf *dwarf)
{
    dt_diag_list *list = &dwarf->diags;
    if (list->dropped == dwarf->diags_dropped_reported)
        return;
    if (dwarf->diags_summary_index == SIZE_MAX) {
        size_t before = list->count;
        dt_diag_finish(list, &dwarf->arena);
        if (list->count > before)
            dwarf->diags_summary_index = before;
    } else {
        const char *message = dt_arena_printf(&dwarf->arena, "%zu more diagnostics suppressed",
                                              list->dropped);
        if (message)
            list->items[dwarf->diags_summary_index].message = message;
    }
    dwarf->diags_dropped_reported = list->dropped;
}

void dwarf_diag(dt_dwarf *dwarf, dt_diag_level level, const char *section,
                int64_t section_offset, const char *fmt, ...)
{
    char message[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    const dwarf_section *s = section ? dwarf_section_named(dwarf, section) : NULL;
    int64_t file_offset = -1;
    if (s && section_offset >= 0 && (uint64_t)section_offset <= UINT32_MAX - s->rva)
        file_offset = dt_image_offset_of(dwarf->image, s->rva + (uint32_t)section_offset);
    const char *structure = section ? section : "DWARF";
    if (section_offset >= 0)
        dt_diag_add(&dwarf->diags, &dwarf->arena, level, structure, file_offset,
                    "%s: %s+0x%" PRIx64 ": %s", dwarf->label, structure,
                    (uint64_t)section_offset, message);
    else
        dt_diag_add(&dwarf->diags, &dwarf->arena, level, structure, file_offset, "%s: %s",
                    dwarf->label, message);
}

void dwarf_diag_error(dt_dwarf *dwarf, const char *what, Dwarf_Error error)
{
    const char *why = error ? dwarf_errmsg(error) : "unknown libdwarf error";
    dwarf_diag(dwarf, DT_DIAG_WARNING, NULL, -1, "%s: libdwarf: %.300s", what,
               why ? why : "unknown libdwarf error");
    if (error && dwarf->dbg)
        dwarf_dealloc_error(dwarf->dbg, error);
}

/* Called by libdwarf for an error raised where no Dwarf_Error* was passed:
 * returning (instead of libdwarf's default abort) makes the call fail. */
static void ignore_libdwarf_error(Dwarf_Error error, Dwarf_Ptr arg)
{
    (void)error;
    (void)arg;
}

/* ---- Object access interface ---------------------------------------------- */

static int access_section_info(void *object, Dwarf_Half index, Dwarf_Obj_Access_Section *out,
                               int *error)
{
    const dt_dwarf *dwarf = object;
    *error = 0;
    if (index >= dwarf->section_count)
        return DW_DLV_NO_ENTRY;
    const dwarf_section *s = &dwarf->sections[index];
    memset(out, 0, sizeof *out);
    out->addr = s->rva ? dwarf->image_base + s->rva : 0;
    out->type = index ? ACCESS_SECTION_PROGBITS : 0;
    out->size = s->size;
    out->name = s->name;
    return DW_DLV_OK;
}

static Dwarf_Endianness access_byte_order(void *object)
{
    (void)object;
    return DW_OBJECT_LSB;
}

static Dwarf_Small access_length_size(void *object)
{
    (void)object;
    return 4;
}

static Dwarf_Small access_pointer_size(void *object)
{
    const dt_dwarf *dwarf = object;
    return dwarf->pointer_size;
}

static Dwarf_Unsigned access_section_count(void *object)
{
    const dt_dwarf *dwarf = object;
    return dwarf->section_count;
}

/* libdwarf's interface takes a non-const pointer; it only reads. */
static int access_load_section(void *object, Dwarf_Half index, Dwarf_Small **data, int *error)
{
    const dt_dwarf *dwarf = object;
    *error = 0;
    if (index == 0 || index >= dwarf->section_count)
        return DW_DLV_NO_ENTRY;
    *data = (Dwarf_Small *)(uintptr_t)dwarf->sections[index].bytes;
    return DW_DLV_OK;
}

static const Dwarf_Obj_Access_Methods access_methods = {
    .get_section_info = access_section_info,
    .get_byte_order = access_byte_order,
    .get_length_size = access_length_size,
    .get_pointer_size = access_pointer_size,
    .get_section_count = access_section_count,
    .load_section = access_load_section,
    .relocate_a_section = NULL,
};

/* ---- Sections ------------------------------------------------------------- */

const dwarf_section *dwarf_section_named(const dt_dwarf *dwarf, const char *name)
{
    for (size_t i = 1; i < dwarf->section_count; i++)
        if (strcmp(dwarf->sections[i].name, name) == 0 && dwarf->sections[i].size > 0)
            return &dwarf->sections[i];
    return NULL;
}

static bool ranges_overlap(const dwarf_section *a, const dwarf_section *b)
{
    return (uint64_t)a->rva < (uint64_t)b->rva + b->size &&
           (uint64_t)b->rva < (uint64_t)a->rva + a->size;
}

/* Adds the view of section `name` when it is present, readable, of a sane
 * size and apart from the sections already added. */
static void add_section(dt_dwarf *dwarf, const char *name)
{
    const dt_image_section *s = dt_image_section_by_name(dwarf->image, name);
    if (!s)
        return;
    const uint8_t *bytes = NULL;
    size_t size = dt_image_section_data(dwarf->image, s, &bytes);
    uint32_t declared = dt_image_section_extent(s);
    if (size < declared)
        dwarf_diag(dwarf, DT_DIAG_WARNING, NULL, -1,
                   "%s: only 0x%zx of 0x%" PRIx32 " bytes are in the image", name, size,
                   declared);
    if (size == 0 || !bytes)
        return;
    if (size > DWARF_MAX_SECTION_SIZE) {
        dwarf_diag(dwarf, DT_DIAG_WARNING, NULL, -1, "%s: 0x%zx bytes is over the 0x%x cap; skipped",
                   name, size, (unsigned)DWARF_MAX_SECTION_SIZE);
        return;
    }
    dwarf_section candidate = {.name = name, .bytes = bytes, .size = size, .rva = s->virtual_address};
    for (size_t i = 1; i < dwarf->section_count; i++) {
        if (ranges_overlap(&candidate, &dwarf->sections[i])) {
            dwarf_diag(dwarf, DT_DIAG_WARNING, NULL, -1, "%s overlaps %s; skipped", name,
                       dwarf->sections[i].name);
            return;
        }
    }
    dwarf->sections[dwarf->section_count++] = candidate;
}

static void collect_sections(dt_dwarf *dwarf)
{
    dwarf->sections[0] = (dwarf_section){.name = ""};
    dwarf->section_count = 1;
    for (size_t i = 0; i < sizeof dwarf_section_names / sizeof *dwarf_section_names; i++)
        add_section(dwarf, dwarf_section_names[i]);
}

static dwarf_section *section_to_check(dt_dwarf *dwarf, const char *name)
{
    for (size_t i = 1; i < dwarf->section_count; i++)
        if (strcmp(dwarf->sections[i].name, name) == 0)
            return &dwarf->sections[i];
    return NULL;
}

/* Shortens .debug_info and .debug_rnglists to what passed validation. */
static bool validate_sections(dt_dwarf *dwarf)
{
    dwarf_section *rnglists = section_to_check(dwarf, ".debug_rnglists");
    if (rnglists)
        rnglists->size = dwarf_validate_rnglists(dwarf, rnglists);
    dwarf_section *info = section_to_check(dwarf, ".debug_info");
    if (!info)
        return false;
    info->size = dwarf_validate_info(dwarf, info);
    return info->size > 0;
}

/* ---- Open / free ---------------------------------------------------------- */

static dt_status start_libdwarf(dt_dwarf *dwarf, dt_error *err)
{
    dwarf->access.object = dwarf;
    dwarf->access.methods = &access_methods;
    Dwarf_Error error = NULL;
    int res = dwarf_object_init_b(&dwarf->access, ignore_libdwarf_error, NULL, DW_GROUPNUMBER_ANY,
                                  &dwarf->dbg, &error);
    if (res == DW_DLV_OK)
        return DT_OK;
    const char *why = res == DW_DLV_ERROR && error ? dwarf_errmsg(error) : "no DWARF found";
    dt_status st = dt_error_set(err, DT_ERR_FORMAT, dwarf->label, "DWARF", -1,
                                "libdwarf refused the DWARF sections: %.300s", why);
    if (error)
        dwarf_dealloc_error(NULL, error);
    dwarf->dbg = NULL;
    return st;
}

static pthread_mutex_t libdwarf_mutex = PTHREAD_MUTEX_INITIALIZER;

void dwarf_library_lock(void)
{
    pthread_mutex_lock(&libdwarf_mutex);
}

void dwarf_library_unlock(void)
{
    pthread_mutex_unlock(&libdwarf_mutex);
}

static void release_locked(dt_dwarf *dwarf)
{
    if (dwarf->dbg) {
        Dwarf_Error error = NULL;
        dwarf_object_finish(dwarf->dbg, &error);
    }
    for (size_t i = 0; i < dwarf->unit_count; i++) {
        free(dwarf->units[i].scopes);
        free(dwarf->units[i].ranges);
        free(dwarf->units[i].lines);
    }
    free(dwarf->units);
    free(dwarf->spans);
    free(dwarf->checked_units);
    dt_diag_list_free(&dwarf->diags);
    dt_arena_release(&dwarf->arena);
    free(dwarf);
}

static dt_status open_locked(dt_dwarf **out, const dt_image *image, dt_error *err)
{
    if (!out)
        return dt_error_set(err, DT_ERR_ARGUMENT, "(null)", NULL, -1, "no output pointer");
    *out = NULL;
    if (!image)
        return dt_error_set(err, DT_ERR_ARGUMENT, "(null)", NULL, -1, "no image");
    if (!dt_image_section_by_name(image, ".debug_info"))
        return dt_error_set(err, DT_ERR_NOT_FOUND, dt_image_label(image), ".debug_info", -1,
                            "the image has no DWARF (.debug_info)");
    dt_dwarf *dwarf = calloc(1, sizeof *dwarf);
    if (!dwarf)
        return dt_error_set(err, DT_ERR_NOMEM, dt_image_label(image), NULL, -1, "out of memory");
    const dt_image_headers *headers = dt_image_headers_get(image);
    dwarf->image = image;
    dwarf->label = dt_image_label(image);
    dwarf->image_base = headers->image_base;
    dwarf->pointer_size = headers->pe32_plus ? 8 : 4;
    dwarf->diags_summary_index = SIZE_MAX;
    collect_sections(dwarf);
    if (!validate_sections(dwarf)) {
        dt_error_set(err, DT_ERR_FORMAT, dwarf->label, ".debug_info", -1,
                     "no usable compilation unit in .debug_info");
        release_locked(dwarf);
        return DT_ERR_FORMAT;
    }
    dt_status st = start_libdwarf(dwarf, err);
    if (st != DT_OK) {
        release_locked(dwarf);
        return st;
    }
    dwarf_diags_refresh(dwarf);
    *out = dwarf;
    return DT_OK;
}

dt_status dt_dwarf_open(dt_dwarf **out, const dt_image *image, dt_error *err)
{
    dwarf_library_lock();
    dt_status st = open_locked(out, image, err);
    dwarf_library_unlock();
    return st;
}

void dt_dwarf_free(dt_dwarf *dwarf)
{
    if (!dwarf)
        return;
    dwarf_library_lock();
    release_locked(dwarf);
    dwarf_library_unlock();
}

const dt_diagnostic *dt_dwarf_diagnostics(const dt_dwarf *dwarf, size_t *count)
{
    if (!dwarf) {
        if (count)
            *count = 0;
        return NULL;
    }
    if (count)
        *count = dwarf->diags.count;
    return dwarf->diags.items;
}
