/*
 * Byte access by RVA for the three image layouts: a raw image file (RVAs
 * translated through the section table), flat bytes in loaded layout, and a
 * module's memory in a dump (missing pages read as absent).
 */
#include "image/image_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"

/* Backs the part of a section past its raw data: the loader zero-fills it. */
static const uint8_t zero_page[4096];

static size_t min_size(uint64_t a, uint64_t b)
{
    return (size_t)(a < b ? a : b);
}

/* Raw file: a section's bytes sit at PointerToRawData for SizeOfRawData bytes
 * (clipped to the file), then read as zero up to VirtualSize; the headers
 * sit at offset 0 up to SizeOfHeaders. Nothing is read past SizeOfImage. */
static size_t view_file(const dt_image *img, uint32_t rva, size_t max, const uint8_t **bytes)
{
    /* The loader maps nothing at or past SizeOfImage. */
    uint32_t image_end = img->headers.size_of_image;
    if (rva >= image_end)
        return 0;
    max = min_size(max, image_end - rva);
    const dt_image_section *s = dt_image_section_at(img, rva);
    uint64_t offset, raw_left;
    if (s) {
        uint32_t delta = rva - s->virtual_address;
        uint32_t extent = dt_image_section_extent(s);
        uint32_t raw = s->raw_size < extent ? s->raw_size : extent;
        if (delta >= raw) {
            *bytes = zero_page;
            return min_size(min_size(extent - delta, sizeof zero_page), max);
        }
        offset = (uint64_t)s->raw_offset + delta;
        raw_left = raw - delta;
    } else if (rva < img->headers.size_of_headers) {
        offset = rva;
        raw_left = img->headers.size_of_headers - rva;
    } else {
        return 0;
    }
    if (offset >= img->size)
        return 0;
    *bytes = img->bytes + offset;
    return min_size(min_size(raw_left, img->size - offset), max);
}

size_t dt_image_view(const dt_image *img, uint32_t rva, size_t max, const uint8_t **bytes)
{
    switch (img->layout) {
    case IMAGE_LAYOUT_FILE:
        return view_file(img, rva, max, bytes);
    case IMAGE_LAYOUT_LOADED:
        if (rva >= img->size)
            return 0;
        *bytes = img->bytes + rva;
        return min_size(img->size - rva, max);
    case IMAGE_LAYOUT_DUMP:
        if (rva >= img->size)
            return 0;
        return dt_dump_view(img->dump, img->base + rva, min_size(img->size - rva, max), bytes);
    }
    return 0;
}

size_t dt_image_read(const dt_image *img, uint32_t rva, void *buf, size_t n)
{
    uint8_t *out = buf;
    size_t done = 0;
    /* Each pass copies at least one byte, so the loop runs at most n times. */
    while (done < n) {
        uint64_t at = (uint64_t)rva + done;
        const uint8_t *bytes;
        if (at > UINT32_MAX)
            break;
        size_t got = dt_image_view(img, (uint32_t)at, n - done, &bytes);
        if (got == 0)
            break;
        memcpy(out + done, bytes, got);
        done += got;
    }
    return done;
}

/* Grows *array to hold at least `needed` bytes (doubling, at most `limit`). */
static bool reserve(uint8_t **array, size_t *capacity, size_t needed, size_t limit)
{
    if (needed <= *capacity)
        return true;
    size_t grown = *capacity * 2 > needed ? *capacity * 2 : needed;
    if (grown > limit)
        grown = limit;
    uint8_t *bigger = realloc(*array, grown);
    if (!bigger)
        return false;
    *array = bigger;
    *capacity = grown;
    return true;
}

uint8_t *dt_image_read_array(const dt_image *img, uint32_t rva, size_t count, size_t width,
                             size_t *got)
{
    enum { CHUNK = 64 * 1024 };
    size_t want = count * width, done = 0, capacity = 0;
    uint8_t *array = NULL;
    /* Chunk by chunk, so memory follows the bytes present rather than the
     * count the image declares. */
    while (done < want && (uint64_t)rva + done <= UINT32_MAX) {
        size_t step = want - done < CHUNK ? want - done : CHUNK;
        if (!reserve(&array, &capacity, done + step, want)) {
            free(array);
            return NULL;
        }
        size_t read = dt_image_read(img, rva + (uint32_t)done, array + done, step);
        done += read;
        if (read < step)
            break;
    }
    *got = done / width;
    return array ? array : malloc(1);
}

bool dt_image_read_u32(const dt_image *img, uint32_t rva, uint32_t *out)
{
    uint8_t b[4];
    if (dt_image_read(img, rva, b, sizeof b) != sizeof b)
        return false;
    *out = dt_le32(b);
    return true;
}

int64_t dt_image_offset_of(const dt_image *img, uint32_t rva)
{
    if (img->layout != IMAGE_LAYOUT_FILE)
        return rva;
    const uint8_t *bytes;
    if (view_file(img, rva, 1, &bytes) == 0 || bytes == zero_page)
        return -1;
    return bytes - img->bytes;
}

/* Charges `n` scanned bytes to the image's string budget; false (with one
 * diagnostic) once it is spent. */
static bool charge_string_budget(dt_image *img, size_t n)
{
    if (img->string_budget_spent)
        return false;
    if (n <= img->string_budget) {
        img->string_budget -= n;
        return true;
    }
    img->string_budget_spent = true;
    dt_diag_add(&img->diags, &img->arena, DT_DIAG_WARNING, "strings", -1,
                "more than %d bytes of strings scanned; further strings are dropped",
                DT_IMAGE_STRING_BUDGET);
    return false;
}

const char *dt_image_read_string(dt_image *img, uint32_t rva)
{
    const uint8_t *bytes;
    size_t got = dt_image_view(img, rva, DT_IMAGE_MAX_STRING, &bytes);
    const uint8_t *nul = got ? memchr(bytes, 0, got) : NULL;
    if (!charge_string_budget(img, nul ? (size_t)(nul - bytes) + 1 : got))
        return NULL;
    if (nul)
        return dt_arena_strndup(&img->arena, (const char *)bytes, (size_t)(nul - bytes));
    if (got == 0 || got == DT_IMAGE_MAX_STRING)
        return NULL;
    /* The string crosses a section or memory-range boundary: copy it. */
    char buffer[DT_IMAGE_MAX_STRING];
    got = dt_image_read(img, rva, buffer, sizeof buffer);
    nul = memchr(buffer, 0, got);
    if (!charge_string_budget(img, got))
        return NULL;
    return nul ? dt_arena_strndup(&img->arena, buffer, (size_t)((const char *)nul - buffer))
               : NULL;
}

void dt_image_diag(dt_image *img, dt_diag_level level, const char *structure, uint32_t rva,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dt_diag_vadd(&img->diags, &img->arena, level, structure, dt_image_offset_of(img, rva), fmt,
                 ap);
    va_end(ap);
}
