/*
 * libFuzzer target: the PE image reader. The input is opened twice, as a raw
 * image file and as an image in loaded layout, and every lookup is run over
 * what was decoded.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dumptriage/image.h"
#include "image/image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Per-collection work is capped so one input stays fast. */
enum { MAX_PROBES = 4096 };

static void probe_sections(const dt_image *img)
{
    size_t n;
    const dt_image_section *sections = dt_image_sections(img, &n);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *bytes;
        size_t got = dt_image_section_data(img, &sections[i], &bytes);
        if (got)
            (void)(bytes[0] + bytes[got - 1]);
        dt_image_section_by_name(img, sections[i].name);
        dt_image_section_at(img, sections[i].virtual_address);
        dt_image_rva_is_executable(img, sections[i].virtual_address + sections[i].virtual_size);
    }
    dt_image_section_by_name(img, ".debug_info");
}

static void probe_exports(const dt_image *img)
{
    size_t n;
    const dt_image_export *exports = dt_image_exports(img, &n);
    const char *dll = dt_image_export_dll_name(img);
    if (dll)
        (void)strlen(dll);
    for (size_t i = 0; i < n && i < MAX_PROBES; i++) {
        if (exports[i].name)
            (void)strlen(exports[i].name);
        if (exports[i].forwarder)
            (void)strlen(exports[i].forwarder);
        dt_image_export_at_or_below(img, exports[i].rva);
        dt_image_export_at_or_below(img, exports[i].rva - 1);
    }
    dt_image_export_at_or_below(img, 0);
    dt_image_export_at_or_below(img, UINT32_MAX);
}

static void probe_runtime_functions(const dt_image *img)
{
    size_t n;
    const dt_runtime_function *f = dt_image_runtime_functions(img, &n);
    dt_function_lookup lookup;
    uint8_t unwind_info[64];
    for (size_t i = 0; i < n && i < MAX_PROBES; i++) {
        dt_image_find_runtime_function(img, f[i].begin, &lookup);
        dt_image_find_runtime_function(img, f[i].end - 1, &lookup);
        if (dt_image_find_runtime_function(img, f[i].begin + (f[i].end - f[i].begin) / 2,
                                           &lookup) == DT_OK)
            dt_image_read(img, lookup.primary.unwind_data, unwind_info, sizeof unwind_info);
    }
    dt_image_find_runtime_function(img, 0, &lookup);
    dt_image_find_runtime_function(img, UINT32_MAX, &lookup);
}

static void probe_identity(const dt_image *img)
{
    char id[DT_IMAGE_ID_SIZE];
    dt_image_store_id(img, id);
    const dt_image_headers *h = dt_image_headers_get(img);
    dt_module module = {.base = h->image_base, .size = h->size_of_image,
                        .timestamp = h->timestamp};
    dt_image_matches_module(img, &module);
    const dt_codeview *cv = dt_image_codeview(img);
    if (cv)
        (void)strlen(cv->pdb_path);
    size_t n;
    const dt_diagnostic *d = dt_image_diagnostics(img, &n);
    for (size_t i = 0; i < n; i++)
        (void)(strlen(d[i].message) + strlen(d[i].structure));
    uint8_t buffer[256];
    for (size_t i = 0; i < DT_IMAGE_DIR_COUNT; i++)
        dt_image_read(img, h->dirs[i].rva, buffer, sizeof buffer);
}

static void probe(const uint8_t *data, size_t size, bool loaded)
{
    dt_image *img;
    dt_error err;
    if (dt_image_open_bytes(&img, data, size, loaded, "fuzz.dll", &err) != DT_OK)
        return;
    probe_sections(img);
    probe_exports(img);
    probe_runtime_functions(img);
    probe_identity(img);
    dt_image_free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    probe(data, size, false);
    probe(data, size, true);
    return 0;
}
