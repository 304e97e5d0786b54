/*
 * The export directory (IMAGE_EXPORT_DIRECTORY) and its three tables, built
 * once into an ordinal-ordered list and an RVA-sorted index for
 * "nearest export at or below" lookups.
 */
#include "image/image_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"

enum { EXPORT_DIRECTORY_SIZE = 40 };

/* The tables of one export directory, decoded into host arrays. */
typedef struct export_tables {
    uint32_t dir_rva, dir_size;
    uint32_t base;           /* ordinal bias */
    uint32_t *functions;     /* AddressOfFunctions: RVA per ordinal index */
    size_t function_count;
    uint32_t *names;         /* AddressOfNames: RVA of each name */
    uint16_t *name_ordinals; /* AddressOfNameOrdinals: index into functions */
    size_t name_count;
} export_tables;

static void free_tables(export_tables *t)
{
    free(t->functions);
    free(t->names);
    free(t->name_ordinals);
}

/* Reads `count` little-endian entries of `width` bytes (2 or 4) at `rva`
 * and converts them in place to host u32 or u16. Sets *got to the whole
 * entries present (fewer in a dump with missing pages). NULL when out of
 * memory. */
static void *read_table(const dt_image *img, uint32_t rva, size_t count, size_t width,
                        size_t *got)
{
    uint8_t *table = dt_image_read_array(img, rva, count, width, got);
    for (size_t i = 0; table && i < *got; i++) {
        uint8_t *p = table + i * width;
        if (width == 4) {
            uint32_t v = dt_le32(p);
            memcpy(p, &v, 4);
        } else {
            uint16_t v = dt_le16(p);
            memcpy(p, &v, 2);
        }
    }
    return table;
}

/* Reads one table and reports a short read. */
static bool load_table(dt_image *img, const char *structure, uint32_t rva, size_t count,
                       size_t width, void **out, size_t *got)
{
    *out = read_table(img, rva, count, width, got);
    if (!*out) {
        dt_image_diag(img, DT_DIAG_ERROR, structure, rva, "out of memory");
        return false;
    }
    if (*got < count)
        dt_image_diag(img, DT_DIAG_WARNING, structure, rva,
                      "only %zu of %zu entries are readable", *got, count);
    return true;
}

/* IMAGE_EXPORT_DIRECTORY: Name 0xC, Base 0x10, NumberOfFunctions 0x14,
 * NumberOfNames 0x18, AddressOfFunctions 0x1C, AddressOfNames 0x20,
 * AddressOfNameOrdinals 0x24. */
static bool read_directory(dt_image *img, export_tables *t)
{
    uint8_t dir[EXPORT_DIRECTORY_SIZE];
    if (dt_image_read(img, t->dir_rva, dir, sizeof dir) != sizeof dir) {
        dt_image_diag(img, DT_DIAG_WARNING, "export directory", t->dir_rva, "unreadable");
        return false;
    }
    img->export_dll_name = dt_image_read_string(img, dt_le32(dir + 0xC));
    t->base = dt_le32(dir + 0x10);
    uint32_t function_count = dt_le32(dir + 0x14);
    uint32_t name_count = dt_le32(dir + 0x18);
    if (function_count > DT_IMAGE_MAX_EXPORTS || name_count > DT_IMAGE_MAX_EXPORTS) {
        dt_image_diag(img, DT_DIAG_ERROR, "export directory", t->dir_rva,
                      "NumberOfFunctions %u or NumberOfNames %u exceeds the limit of %d",
                      function_count, name_count, DT_IMAGE_MAX_EXPORTS);
        return false;
    }
    size_t names_got, ordinals_got;
    if (!load_table(img, "export address table", dt_le32(dir + 0x1C), function_count, 4,
                    (void **)&t->functions, &t->function_count) ||
        !load_table(img, "export name table", dt_le32(dir + 0x20), name_count, 4,
                    (void **)&t->names, &names_got) ||
        !load_table(img, "export ordinal table", dt_le32(dir + 0x24), name_count, 2,
                    (void **)&t->name_ordinals, &ordinals_got))
        return false;
    t->name_count = names_got < ordinals_got ? names_got : ordinals_got;
    return true;
}

/* Fills one export for function slot `index`: an RVA inside the export
 * directory is a forwarder string "DLL.Function". */
static void fill_export(dt_image *img, const export_tables *t, size_t index, const char *name,
                        dt_image_export *e)
{
    uint32_t rva = t->functions[index];
    e->ordinal = t->base + (uint32_t)index;
    e->rva = rva;
    e->name = name;
    e->forwarder = NULL;
    if (rva >= t->dir_rva && rva - t->dir_rva < t->dir_size) {
        e->forwarder = dt_image_read_string(img, rva);
        if (!e->forwarder)
            dt_image_diag(img, DT_DIAG_WARNING, "export forwarder", rva,
                          "forwarder string of ordinal %u is unreadable", e->ordinal);
    }
}

/* One export per readable name, then one per unnamed non-zero slot. Bad
 * names are summarized in one diagnostic. */
static size_t collect_exports(dt_image *img, const export_tables *t, bool *named,
                              dt_image_export *out)
{
    size_t n = 0, bad = 0, first_bad = 0;
    for (size_t i = 0; i < t->name_count; i++) {
        uint16_t index = t->name_ordinals[i];
        const char *name =
            index < t->function_count ? dt_image_read_string(img, t->names[i]) : NULL;
        if (!name) {
            first_bad = bad++ ? first_bad : i;
            continue;
        }
        named[index] = true;
        fill_export(img, t, index, name, &out[n++]);
    }
    if (bad)
        dt_image_diag(img, DT_DIAG_WARNING, "export name table", t->names[first_bad],
                      "%zu names are unreadable or have an out-of-range ordinal index "
                      "(first: name %zu, index %u)",
                      bad, first_bad, t->name_ordinals[first_bad]);
    for (size_t i = 0; i < t->function_count; i++)
        if (!named[i] && t->functions[i] != 0)
            fill_export(img, t, i, NULL, &out[n++]);
    return n;
}

static int compare_names(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int compare_by_ordinal(const void *pa, const void *pb)
{
    const dt_image_export *a = pa, *b = pb;
    if (a->ordinal != b->ordinal)
        return a->ordinal < b->ordinal ? -1 : 1;
    return compare_names(a->name, b->name);
}

static int compare_by_rva(const void *pa, const void *pb)
{
    const dt_image_export *a = *(const dt_image_export *const *)pa;
    const dt_image_export *b = *(const dt_image_export *const *)pb;
    if (a->rva != b->rva)
        return a->rva < b->rva ? -1 : 1;
    return compare_by_ordinal(a, b);
}

/* The RVA-sorted index of exports that are code or data: not forwarders,
 * not RVA 0. */
static bool index_by_rva(dt_image *img)
{
    img->exports_by_rva = dt_arena_array(&img->arena, img->export_count ? img->export_count : 1,
                                         sizeof *img->exports_by_rva);
    if (!img->exports_by_rva)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < img->export_count; i++)
        if (!img->exports[i].forwarder && img->exports[i].rva != 0)
            img->exports_by_rva[n++] = &img->exports[i];
    qsort(img->exports_by_rva, n, sizeof *img->exports_by_rva, compare_by_rva);
    img->exports_by_rva_count = n;
    return true;
}

static void build_exports(dt_image *img, const export_tables *t)
{
    size_t capacity = t->name_count + t->function_count; /* each <= 1M */
    bool *named = calloc(t->function_count ? t->function_count : 1, sizeof *named);
    img->exports = dt_arena_array(&img->arena, capacity ? capacity : 1, sizeof *img->exports);
    if (!named || !img->exports) {
        free(named);
        img->exports = NULL;
        dt_image_diag(img, DT_DIAG_ERROR, "export directory", t->dir_rva, "out of memory");
        return;
    }
    img->export_count = collect_exports(img, t, named, img->exports);
    free(named);
    qsort(img->exports, img->export_count, sizeof *img->exports, compare_by_ordinal);
    if (!index_by_rva(img)) {
        img->export_count = 0;
        dt_image_diag(img, DT_DIAG_ERROR, "export directory", t->dir_rva, "out of memory");
    }
}

void dt_image_decode_exports(dt_image *img)
{
    const dt_image_data_dir *dir = &img->headers.dirs[DT_IMAGE_DIR_EXPORT];
    if (dir->rva == 0 || dir->size == 0)
        return;
    export_tables t = {.dir_rva = dir->rva, .dir_size = dir->size};
    if (read_directory(img, &t))
        build_exports(img, &t);
    free_tables(&t);
}

const char *dt_image_export_dll_name(const dt_image *img)
{
    return img->export_dll_name;
}

const dt_image_export *dt_image_exports(const dt_image *img, size_t *count)
{
    *count = img->export_count;
    return img->exports;
}

const dt_image_export *dt_image_export_at_or_below(const dt_image *img, uint32_t rva)
{
    /* First index whose RVA is greater than `rva`. */
    size_t lo = 0, hi = img->exports_by_rva_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->exports_by_rva[mid]->rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    /* Step back to the first entry with the same RVA (lowest ordinal). */
    uint32_t found = img->exports_by_rva[lo - 1]->rva;
    size_t first = 0, last = lo - 1;
    while (first < last) {
        size_t mid = first + (last - first) / 2;
        if (img->exports_by_rva[mid]->rva < found)
            first = mid + 1;
        else
            last = mid;
    }
    return img->exports_by_rva[first];
}
