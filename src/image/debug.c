/* The debug directory (IMAGE_DEBUG_DIRECTORY[]) and its CodeView record. */
#include "image/image_internal.h"

#include <string.h>

#include "base/cursor.h"

enum {
    DEBUG_ENTRY_SIZE = 28,
    DEBUG_TYPE_CODEVIEW = 2,
    CV_RSDS = 0x53445352,    /* "RSDS" */
    CV_NB10 = 0x3031424E,    /* "NB10" */
    CV_RSDS_HEADER = 24,
    CV_NB10_HEADER = 16,
    CV_MAX_RECORD = CV_RSDS_HEADER + DT_IMAGE_MAX_STRING
};

/* The PDB path: UTF-8, NUL-terminated within the record (or its end). */
static const char *pdb_path(dt_image *img, const uint8_t *p, size_t n)
{
    const uint8_t *nul = memchr(p, 0, n);
    return dt_arena_strndup(&img->arena, (const char *)p, nul ? (size_t)(nul - p) : n);
}

/* CodeView RSDS {Signature 0, GUID 4, Age 20, PdbFileName 24} or
 * NB10 {Signature 0, Offset 4, Signature 8, Age 12, PdbFileName 16}. */
static bool decode_codeview(dt_image *img, const uint8_t *p, size_t n, dt_codeview *cv)
{
    if (n >= CV_RSDS_HEADER && dt_le32(p) == CV_RSDS) {
        cv->kind = DT_CV_RSDS;
        memcpy(cv->guid, p + 4, 16);
        cv->age = dt_le32(p + 20);
        cv->pdb_path = pdb_path(img, p + CV_RSDS_HEADER, n - CV_RSDS_HEADER);
    } else if (n >= CV_NB10_HEADER && dt_le32(p) == CV_NB10) {
        cv->kind = DT_CV_NB10;
        cv->signature = dt_le32(p + 8);
        cv->age = dt_le32(p + 12);
        cv->pdb_path = pdb_path(img, p + CV_NB10_HEADER, n - CV_NB10_HEADER);
    } else {
        return false;
    }
    return cv->pdb_path != NULL;
}

/* Copies a debug entry's data: by AddressOfRawData (an RVA) when set, else
 * by PointerToRawData (a file offset, raw files only). Returns bytes read. */
static size_t read_entry_data(const dt_image *img, uint32_t rva, uint32_t file_offset,
                              uint8_t *buf, size_t n)
{
    const uint8_t *p;
    if (rva != 0)
        return dt_image_read(img, rva, buf, n);
    if (img->layout != IMAGE_LAYOUT_FILE || !dt_span_at(img->bytes, img->size, file_offset, n, &p))
        return 0;
    memcpy(buf, p, n);
    return n;
}

/* IMAGE_DEBUG_DIRECTORY: Type 0xC, SizeOfData 0x10, AddressOfRawData 0x14,
 * PointerToRawData 0x18. Returns true when the entry gave a CodeView record. */
static bool read_codeview_entry(dt_image *img, const uint8_t *entry, uint32_t entry_rva)
{
    uint32_t size = dt_le32(entry + 0x10);
    uint8_t record[CV_MAX_RECORD];
    size_t n = size < sizeof record ? size : sizeof record;
    size_t got = read_entry_data(img, dt_le32(entry + 0x14), dt_le32(entry + 0x18), record, n);
    if (got == n && decode_codeview(img, record, got, &img->codeview))
        return true;
    memset(&img->codeview, 0, sizeof img->codeview);
    dt_image_diag(img, DT_DIAG_WARNING, "debug directory entry", entry_rva,
                  "CodeView record of %u bytes is unreadable or not RSDS/NB10", size);
    return false;
}

void dt_image_decode_debug(dt_image *img)
{
    const dt_image_data_dir *dir = &img->headers.dirs[DT_IMAGE_DIR_DEBUG];
    size_t count = dir->size / DEBUG_ENTRY_SIZE;
    if (dir->rva == 0 || count == 0)
        return;
    if (count > DT_IMAGE_MAX_DEBUG_ENTRIES) {
        dt_image_diag(img, DT_DIAG_WARNING, "debug directory", dir->rva,
                      "%zu entries exceed the limit of %d; reading the first %d", count,
                      DT_IMAGE_MAX_DEBUG_ENTRIES, DT_IMAGE_MAX_DEBUG_ENTRIES);
        count = DT_IMAGE_MAX_DEBUG_ENTRIES;
    }
    for (size_t i = 0; i < count && !img->has_codeview; i++) {
        uint8_t entry[DEBUG_ENTRY_SIZE];
        uint32_t rva = dir->rva + (uint32_t)(i * DEBUG_ENTRY_SIZE);
        if (rva < dir->rva || dt_image_read(img, rva, entry, sizeof entry) != sizeof entry) {
            dt_image_diag(img, DT_DIAG_WARNING, "debug directory", rva,
                          "entry %zu is unreadable", i);
            return;
        }
        if (dt_le32(entry + 0xC) == DEBUG_TYPE_CODEVIEW)
            img->has_codeview = read_codeview_entry(img, entry, rva);
    }
}

const dt_codeview *dt_image_codeview(const dt_image *img)
{
    return img->has_codeview ? &img->codeview : NULL;
}
