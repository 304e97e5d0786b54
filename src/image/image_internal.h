/* Private state of a PE image, shared by the image reader's source files. */
#ifndef DT_IMAGE_INTERNAL_H
#define DT_IMAGE_INTERNAL_H

#include "dumptriage/image.h"
#include "base/arena.h"
#include "base/diag.h"
#include "base/mapfile.h"

/* Caps on counts read from the image, checked before any allocation. */
enum {
    DT_IMAGE_MAX_SECTIONS = 96,
    DT_IMAGE_MAX_EXPORTS = 1 << 20,
    DT_IMAGE_MAX_RUNTIME_FUNCTIONS = 1 << 22,
    DT_IMAGE_MAX_DEBUG_ENTRIES = 64,
    DT_IMAGE_MAX_STRING = 4096,
    /* Total bytes scanned for strings per image: bounds the work of many
     * names pointing at long unterminated runs. */
    DT_IMAGE_STRING_BUDGET = 16 * 1024 * 1024,
    /* Header bytes read from a dump before the headers are decoded. */
    DT_IMAGE_MEMORY_HEADER_MAX = 64 * 1024
};

typedef enum image_layout {
    IMAGE_LAYOUT_FILE,   /* raw file: sections at PointerToRawData */
    IMAGE_LAYOUT_LOADED, /* flat bytes in loaded layout: RVA = offset */
    IMAGE_LAYOUT_DUMP    /* loaded layout read through a dt_dump */
} image_layout;

struct dt_image {
    const char *label;
    dt_arena arena;
    dt_diag_list diags;

    image_layout layout;
    dt_mapped_file file;     /* IMAGE_LAYOUT_FILE when opened from a path */
    const uint8_t *bytes;    /* FILE / LOADED: the image bytes */
    size_t size;
    const dt_dump *dump;     /* DUMP */
    uint64_t base;

    dt_image_headers headers;
    dt_image_section *sections;
    size_t section_count;

    const char *export_dll_name;
    dt_image_export *exports;        /* ordinal order */
    size_t export_count;
    const dt_image_export **exports_by_rva; /* non-forwarded, sorted */
    size_t exports_by_rva_count;

    bool has_codeview;
    dt_codeview codeview;

    size_t string_budget;    /* bytes left of DT_IMAGE_STRING_BUDGET */
    bool string_budget_spent;

    dt_runtime_function *runtime_functions; /* sorted by begin */
    size_t runtime_function_count;
};

/* Opens `size` bytes at `bytes`, borrowed until dt_image_free, as a raw
 * image file (`loaded` false) or as an image in loaded layout (`loaded`
 * true). `label` names the image in messages. For fuzzing and tests. */
dt_status dt_image_open_bytes(dt_image **out, const uint8_t *bytes, size_t size, bool loaded,
                              const char *label, dt_error *err);

/* The extent of a section in the loaded image: VirtualSize, or SizeOfRawData
 * when a linker left VirtualSize 0. */
static inline uint32_t dt_image_section_extent(const dt_image_section *s)
{
    return s->virtual_size ? s->virtual_size : s->raw_size;
}

/* Byte access (source.c). */
/* Zero-copy view of the contiguous bytes at `rva`, up to `max`. */
size_t dt_image_view(const dt_image *img, uint32_t rva, size_t max, const uint8_t **bytes);
/* File offset of `rva` in a raw image file; -1 when it has none or the image
 * is not a file. Used to report offsets. */
int64_t dt_image_offset_of(const dt_image *img, uint32_t rva);
/* Reads the NUL-terminated string at `rva` (at most DT_IMAGE_MAX_STRING
 * bytes) into the arena. NULL when unreadable, unterminated or out of memory. */
const char *dt_image_read_string(dt_image *img, uint32_t rva);
/* Reads up to `count` entries of `width` bytes at `rva` into a malloc'd
 * array (the caller frees it) and sets *got to the whole entries present.
 * The caller caps count * width well below SIZE_MAX. NULL when out of memory. */
uint8_t *dt_image_read_array(const dt_image *img, uint32_t rva, size_t count, size_t width,
                             size_t *got);
/* Reads a little-endian u32 at `rva`. */
bool dt_image_read_u32(const dt_image *img, uint32_t rva, uint32_t *out);

/* Decoders, run in this order by the openers (headers.c, exports.c,
 * debug.c, pdata.c). Only the header decoder can fail. */
dt_status dt_image_decode_headers(dt_image *img, const uint8_t *bytes, size_t size,
                                  dt_error *err);
void dt_image_decode_exports(dt_image *img);
void dt_image_decode_debug(dt_image *img);
void dt_image_decode_pdata(dt_image *img);

/* A diagnostic about `structure` at `rva` (offset reported per layout). */
void dt_image_diag(dt_image *img, dt_diag_level level, const char *structure, uint32_t rva,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
