/*
 * The x64 exception directory (.pdata): RUNTIME_FUNCTION entries, looked up
 * by binary search, with indirect entries (UnwindData bit 0) resolved.
 */
#include "image/image_internal.h"

#include <stdlib.h>

#include "base/cursor.h"

enum { RUNTIME_FUNCTION_SIZE = 12 };

/* RUNTIME_FUNCTION: BeginAddress 0, EndAddress 4, UnwindData 8. */
static dt_runtime_function decode_entry(const uint8_t *p)
{
    dt_runtime_function f = {dt_le32(p), dt_le32(p + 4), dt_le32(p + 8)};
    return f;
}

static int compare_begin(const void *pa, const void *pb)
{
    const dt_runtime_function *a = pa, *b = pb;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return (a->unwind_data > b->unwind_data) - (a->unwind_data < b->unwind_data);
}

static bool is_sorted(const dt_runtime_function *f, size_t count)
{
    for (size_t i = 1; i < count; i++)
        if (f[i].begin < f[i - 1].begin)
            return false;
    return true;
}

/* The number of entries the directory declares, capped. */
static size_t declared_count(dt_image *img, const dt_image_data_dir *dir)
{
    size_t count = dir->size / RUNTIME_FUNCTION_SIZE;
    if (dir->size % RUNTIME_FUNCTION_SIZE)
        dt_image_diag(img, DT_DIAG_WARNING, "exception directory", dir->rva,
                      "size %u is not a multiple of %d", dir->size, RUNTIME_FUNCTION_SIZE);
    if (count > DT_IMAGE_MAX_RUNTIME_FUNCTIONS) {
        dt_image_diag(img, DT_DIAG_ERROR, "exception directory", dir->rva,
                      "%zu entries exceed the limit of %d; reading the first %d", count,
                      DT_IMAGE_MAX_RUNTIME_FUNCTIONS, DT_IMAGE_MAX_RUNTIME_FUNCTIONS);
        count = DT_IMAGE_MAX_RUNTIME_FUNCTIONS;
    }
    return count;
}

/* Reads the entries present; a dump often lacks some or all of .pdata. */
static size_t read_entries(dt_image *img, const dt_image_data_dir *dir, size_t count)
{
    size_t got;
    uint8_t *raw = dt_image_read_array(img, dir->rva, count, RUNTIME_FUNCTION_SIZE, &got);
    img->runtime_functions =
        raw ? dt_arena_array(&img->arena, got ? got : 1, sizeof *img->runtime_functions) : NULL;
    if (!img->runtime_functions) {
        free(raw);
        dt_image_diag(img, DT_DIAG_ERROR, "exception directory", dir->rva, "out of memory");
        return 0;
    }
    if (got < count)
        dt_image_diag(img, img->layout == IMAGE_LAYOUT_DUMP ? DT_DIAG_INFO : DT_DIAG_WARNING,
                      "exception directory", dir->rva,
                      "only %zu of %zu RUNTIME_FUNCTION entries are readable", got, count);
    for (size_t i = 0; i < got; i++)
        img->runtime_functions[i] = decode_entry(raw + i * RUNTIME_FUNCTION_SIZE);
    free(raw);
    return got;
}

void dt_image_decode_pdata(dt_image *img)
{
    const dt_image_data_dir *dir = &img->headers.dirs[DT_IMAGE_DIR_EXCEPTION];
    if (dir->rva == 0 || dir->size == 0)
        return;
    if (img->headers.machine != DT_IMAGE_MACHINE_AMD64) {
        dt_image_diag(img, DT_DIAG_INFO, "exception directory", dir->rva,
                      "not read: machine 0x%04x is not AMD64", img->headers.machine);
        return;
    }
    size_t count = declared_count(img, dir);
    if (count == 0)
        return;
    img->runtime_function_count = read_entries(img, dir, count);
    if (!is_sorted(img->runtime_functions, img->runtime_function_count)) {
        dt_image_diag(img, DT_DIAG_WARNING, "exception directory", dir->rva,
                      "entries are not sorted by BeginAddress; using a sorted copy");
        qsort(img->runtime_functions, img->runtime_function_count,
              sizeof *img->runtime_functions, compare_begin);
    }
}

const dt_runtime_function *dt_image_runtime_functions(const dt_image *img, size_t *count)
{
    *count = img->runtime_function_count;
    return img->runtime_functions;
}

/* The sorted entry with the greatest BeginAddress <= rva, if it covers rva. */
static const dt_runtime_function *entry_covering(const dt_image *img, uint32_t rva)
{
    size_t lo = 0, hi = img->runtime_function_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->runtime_functions[mid].begin <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const dt_runtime_function *f = &img->runtime_functions[lo - 1];
    return rva < f->end ? f : NULL;
}

/* An indirect entry's target: (UnwindData & ~1) is the RVA of another
 * RUNTIME_FUNCTION, which must lie inside the exception directory. */
static bool read_indirect_target(const dt_image *img, uint32_t target, dt_runtime_function *out)
{
    const dt_image_data_dir *dir = &img->headers.dirs[DT_IMAGE_DIR_EXCEPTION];
    uint8_t raw[RUNTIME_FUNCTION_SIZE];
    if (target < dir->rva || target - dir->rva > dir->size ||
        dir->size - (target - dir->rva) < RUNTIME_FUNCTION_SIZE ||
        dt_image_read(img, target, raw, sizeof raw) != sizeof raw)
        return false;
    *out = decode_entry(raw);
    return true;
}

dt_status dt_image_find_runtime_function(const dt_image *img, uint32_t rva,
                                         dt_function_lookup *out)
{
    const dt_runtime_function *entry = entry_covering(img, rva);
    if (!entry)
        return DT_ERR_NOT_FOUND;
    out->entry = *entry;
    out->primary = *entry;
    out->indirections = 0;
    while (out->primary.unwind_data & DT_RUNTIME_FUNCTION_INDIRECT) {
        if (out->indirections == DT_IMAGE_MAX_INDIRECTION)
            return DT_ERR_LIMIT;
        uint32_t target = out->primary.unwind_data & ~DT_RUNTIME_FUNCTION_INDIRECT;
        if (!read_indirect_target(img, target, &out->primary))
            return DT_ERR_FORMAT;
        out->indirections++;
    }
    return DT_OK;
}

/* UNWIND_INFO byte 0: Version (bits 0-2), Flags (bits 3-7; 4 = CHAININFO);
 * byte 2: CountOfCodes. A chained parent RUNTIME_FUNCTION follows the codes,
 * padded to an even count: at 4 + 2 * ((CountOfCodes + 1) & ~1). */
static bool chained_parent(const dt_image *img, uint32_t unwind_rva, dt_runtime_function *parent)
{
    enum { UNW_FLAG_CHAININFO = 4 };
    uint8_t header[4], raw[RUNTIME_FUNCTION_SIZE];
    if (dt_image_read(img, unwind_rva, header, sizeof header) != sizeof header ||
        !((header[0] >> 3) & UNW_FLAG_CHAININFO))
        return false;
    uint32_t at = unwind_rva + 4 + 2u * ((header[2] + 1u) & ~1u);
    if (dt_image_read(img, at, raw, sizeof raw) != sizeof raw)
        return false;
    *parent = decode_entry(raw);
    return true;
}

bool dt_image_function_start(const dt_image *img, uint32_t rva, uint32_t *start)
{
    enum { MAX_CHAIN = 32 };
    dt_function_lookup lookup;
    if (dt_image_find_runtime_function(img, rva, &lookup) != DT_OK)
        return false;
    dt_runtime_function f = lookup.primary, parent;
    for (int depth = 0; depth < MAX_CHAIN &&
                        chained_parent(img, f.unwind_data & ~DT_RUNTIME_FUNCTION_INDIRECT, &parent);
         depth++)
        f = parent;
    *start = f.begin;
    return true;
}
