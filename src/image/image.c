/* Opening and freeing images; identity, section and header accessors. */
#include "image/image_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/text.h"

static dt_image *new_image(image_layout layout)
{
    dt_image *img = calloc(1, sizeof *img);
    if (img) {
        img->layout = layout;
        img->string_budget = DT_IMAGE_STRING_BUDGET;
    }
    return img;
}

/* Decodes everything after the headers; these steps only add diagnostics. */
static void decode_directories(dt_image *img)
{
    dt_image_decode_exports(img);
    dt_image_decode_debug(img);
    dt_image_decode_pdata(img);
    dt_diag_finish(&img->diags, &img->arena);
}

/* Shared tail of the openers: decode, then hand over or free. */
static dt_status finish_open(dt_image *img, const uint8_t *header_bytes, size_t header_size,
                             dt_image **out, dt_error *err)
{
    dt_status st = img->label ? DT_OK
                              : dt_error_set(err, DT_ERR_NOMEM, "image", NULL, -1, "out of memory");
    if (st == DT_OK)
        st = dt_image_decode_headers(img, header_bytes, header_size, err);
    if (st != DT_OK) {
        dt_image_free(img);
        return st;
    }
    decode_directories(img);
    *out = img;
    return DT_OK;
}

dt_status dt_image_open_bytes(dt_image **out, const uint8_t *bytes, size_t size, bool loaded,
                              const char *label, dt_error *err)
{
    *out = NULL;
    dt_image *img = new_image(loaded ? IMAGE_LAYOUT_LOADED : IMAGE_LAYOUT_FILE);
    if (!img)
        return dt_error_set(err, DT_ERR_NOMEM, label, NULL, -1, "out of memory");
    img->bytes = bytes;
    img->size = size;
    img->label = dt_arena_printf(&img->arena, "%s", label);
    return finish_open(img, bytes, size, out, err);
}

dt_status dt_image_open_file(dt_image **out, const char *path, dt_error *err)
{
    *out = NULL;
    if (!path)
        return dt_error_set(err, DT_ERR_ARGUMENT, "(null)", NULL, -1, "no path given");
    dt_image *img = new_image(IMAGE_LAYOUT_FILE);
    if (!img)
        return dt_error_set(err, DT_ERR_NOMEM, path, NULL, -1, "out of memory");
    dt_status st = dt_map_plain(&img->file, path, err);
    if (st != DT_OK) {
        dt_image_free(img);
        return st;
    }
    img->bytes = img->file.data;
    img->size = (size_t)img->file.size;
    img->label = dt_arena_printf(&img->arena, "%s", path);
    return finish_open(img, img->bytes, img->size, out, err);
}

dt_status dt_image_open_memory(dt_image **out, const dt_dump *dump, const dt_module *module,
                               dt_error *err)
{
    *out = NULL;
    const char *name = module && module->name ? module->name : "(unnamed)";
    uint64_t end;
    if (!dump || !module || !dt_add_u64(module->base, module->size, &end))
        return dt_error_set(err, DT_ERR_ARGUMENT, name, NULL, -1,
                            "no dump or module, or the module range wraps");
    dt_image *img = new_image(IMAGE_LAYOUT_DUMP);
    if (!img)
        return dt_error_set(err, DT_ERR_NOMEM, name, NULL, -1, "out of memory");
    img->dump = dump;
    img->base = module->base;
    img->size = module->size;
    img->label = dt_arena_printf(&img->arena, "module %s in dump", name);
    /* The headers are decoded from a copy of the image's first bytes. */
    size_t want = img->size < DT_IMAGE_MEMORY_HEADER_MAX ? img->size : DT_IMAGE_MEMORY_HEADER_MAX;
    uint8_t *headers = malloc(want ? want : 1);
    if (!headers) {
        dt_image_free(img);
        return dt_error_set(err, DT_ERR_NOMEM, name, NULL, -1, "out of memory");
    }
    size_t got = dt_image_read(img, 0, headers, want);
    dt_status st;
    if (got == 0) {
        st = dt_error_set(err, DT_ERR_NOT_FOUND, img->label ? img->label : name, "DOS header",
                          0, "not present in the dump");
        dt_image_free(img);
    } else {
        st = finish_open(img, headers, got, out, err);
    }
    free(headers);
    return st;
}

void dt_image_free(dt_image *img)
{
    if (!img)
        return;
    dt_unmap_file(&img->file);
    dt_diag_list_free(&img->diags);
    dt_arena_release(&img->arena);
    free(img);
}

const char *dt_image_label(const dt_image *img)
{
    return img->label;
}

const dt_diagnostic *dt_image_diagnostics(const dt_image *img, size_t *count)
{
    *count = img->diags.count;
    return img->diags.items;
}

const dt_image_headers *dt_image_headers_get(const dt_image *img)
{
    return &img->headers;
}

void dt_image_store_id(const dt_image *img, char out[DT_IMAGE_ID_SIZE])
{
    snprintf(out, DT_IMAGE_ID_SIZE, "%08X%x", img->headers.timestamp,
             img->headers.size_of_image);
}

bool dt_image_matches_module(const dt_image *img, const dt_module *module)
{
    return img->headers.timestamp == module->timestamp &&
           img->headers.size_of_image == module->size;
}

const dt_image_section *dt_image_sections(const dt_image *img, size_t *count)
{
    *count = img->section_count;
    return img->sections;
}

const dt_image_section *dt_image_section_by_name(const dt_image *img, const char *name)
{
    for (size_t i = 0; i < img->section_count; i++)
        if (strcmp(img->sections[i].name, name) == 0)
            return &img->sections[i];
    return NULL;
}

const dt_image_section *dt_image_section_at(const dt_image *img, uint32_t rva)
{
    for (size_t i = 0; i < img->section_count; i++) {
        const dt_image_section *s = &img->sections[i];
        if (rva >= s->virtual_address && rva - s->virtual_address < dt_image_section_extent(s))
            return s;
    }
    return NULL;
}

size_t dt_image_section_data(const dt_image *img, const dt_image_section *section,
                             const uint8_t **bytes)
{
    return dt_image_view(img, section->virtual_address, dt_image_section_extent(section), bytes);
}

bool dt_image_rva_is_executable(const dt_image *img, uint32_t rva)
{
    const dt_image_section *s = dt_image_section_at(img, rva);
    return s && (s->characteristics & (DT_SCN_MEM_EXECUTE | DT_SCN_CNT_CODE));
}
