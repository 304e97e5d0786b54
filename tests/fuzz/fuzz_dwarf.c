/*
 * libFuzzer target: the DWARF provider entry. The input is a PE image file
 * (seeds: MinGW programs built with -g); it is opened as a raw image from
 * memory, its DWARF opened with dt_dwarf_open and looked up at a spread of
 * RVAs over its executable sections, so the lazy index, unit loading, name
 * resolution and line tables all run on mutated DWARF.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dumptriage/symbols.h"
#include "image/image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lookups per executable section, so one input stays fast. */
enum { PROBES_PER_SECTION = 48 };

static void consume_symbol(const dt_symbol *s)
{
    size_t total = strlen(s->function) + (s->file ? strlen(s->file) : 0);
    for (size_t i = 0; i < s->inline_count; i++)
        total += strlen(s->inlines[i].function) +
                 (s->inlines[i].file ? strlen(s->inlines[i].file) : 0);
    (void)total;
}

static void probe_section(dt_dwarf *dwarf, const dt_image_section *section)
{
    uint32_t extent = dt_image_section_extent(section);
    uint32_t step = extent / PROBES_PER_SECTION + 1;
    dt_symbol s;
    for (uint64_t offset = 0; offset < extent; offset += step) {
        uint32_t rva = section->virtual_address + (uint32_t)offset;
        if (dt_dwarf_lookup(dwarf, rva, &s))
            consume_symbol(&s);
        if (dt_dwarf_lookup(dwarf, rva + 1, &s))  /* again, now cached */
            consume_symbol(&s);
    }
}

static void probe(dt_dwarf *dwarf, const dt_image *img)
{
    size_t n;
    const dt_image_section *sections = dt_image_sections(img, &n);
    for (size_t i = 0; i < n; i++)
        if (sections[i].characteristics & (DT_SCN_MEM_EXECUTE | DT_SCN_CNT_CODE))
            probe_section(dwarf, &sections[i]);
    dt_symbol s;
    dt_dwarf_lookup(dwarf, 0, &s);
    dt_dwarf_lookup(dwarf, UINT32_MAX, &s);
    const dt_diagnostic *d = dt_dwarf_diagnostics(dwarf, &n);
    for (size_t i = 0; i < n; i++)
        (void)(strlen(d[i].message) + strlen(d[i].structure));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_image *img;
    dt_dwarf *dwarf;
    dt_error err;
    if (dt_image_open_bytes(&img, data, size, false, "fuzz.exe", &err) != DT_OK)
        return 0;
    if (dt_dwarf_open(&dwarf, img, &err) == DT_OK) {
        probe(dwarf, img);
        dt_dwarf_free(dwarf);
    }
    dt_image_free(img);
    return 0;
}
