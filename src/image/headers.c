/*
 * DOS header, PE signature, IMAGE_FILE_HEADER, IMAGE_OPTIONAL_HEADER32/64 and
 * the section table, with long section names ("/N") resolved through the
 * COFF string table.
 */
#include "image/image_internal.h"

#include <string.h>

#include "base/checked.h"
#include "base/cursor.h"
#include "base/text.h"

enum {
    DOS_MAGIC = 0x5A4D,             /* "MZ" */
    PE_SIGNATURE = 0x00004550,      /* "PE\0\0" */
    DOS_HEADER_SIZE = 0x40,
    FILE_HEADER_SIZE = 20,
    OPTIONAL_MAGIC_PE32 = 0x10B,
    OPTIONAL_MAGIC_PE32_PLUS = 0x20B,
    SECTION_HEADER_SIZE = 40,
    COFF_SYMBOL_SIZE = 18,
    SHORT_NAME_SIZE = 8
};

/* The fixed part of each optional-header flavour: where NumberOfRvaAndSizes
 * and the data directories sit. */
typedef struct optional_layout {
    size_t rva_count_offset;
    size_t dirs_offset;
} optional_layout;

static const optional_layout PE32_LAYOUT = {0x5C, 0x60};
static const optional_layout PE32_PLUS_LAYOUT = {0x6C, 0x70};

static dt_status header_error(dt_image *img, dt_error *err, dt_status status,
                              const char *structure, uint64_t offset, const char *reason)
{
    return dt_error_set(err, status, img->label, structure, (int64_t)offset, "%s", reason);
}

/* IMAGE_DOS_HEADER: e_magic 0 ("MZ"), e_lfanew 0x3C; then the "PE\0\0"
 * signature at e_lfanew. Sets *pe_offset to the IMAGE_FILE_HEADER. */
static dt_status read_signatures(dt_image *img, const uint8_t *bytes, size_t size,
                                 size_t *pe_offset, dt_error *err)
{
    const uint8_t *p;
    if (!dt_span_at(bytes, size, 0, DOS_HEADER_SIZE, &p))
        return header_error(img, err, DT_ERR_FORMAT, "DOS header", 0, "truncated");
    if (dt_le16(p) != DOS_MAGIC)
        return header_error(img, err, DT_ERR_FORMAT, "DOS header", 0, "no MZ signature");
    uint32_t lfanew = dt_le32(p + 0x3C);
    if (!dt_span_at(bytes, size, lfanew, 4 + FILE_HEADER_SIZE, &p))
        return header_error(img, err, DT_ERR_FORMAT, "PE header", lfanew,
                            "e_lfanew points past the end of the headers");
    if (dt_le32(p) != PE_SIGNATURE)
        return header_error(img, err, DT_ERR_FORMAT, "PE header", lfanew, "no PE signature");
    *pe_offset = (size_t)lfanew + 4;
    return DT_OK;
}

/* IMAGE_FILE_HEADER: Machine 0, NumberOfSections 2, TimeDateStamp 4,
 * PointerToSymbolTable 8, NumberOfSymbols 0xC, SizeOfOptionalHeader 0x10,
 * Characteristics 0x12. */
static void read_file_header(dt_image_headers *h, const uint8_t *p)
{
    h->machine = dt_le16(p);
    h->section_count = dt_le16(p + 2);
    h->timestamp = dt_le32(p + 4);
    h->symbol_table_offset = dt_le32(p + 8);
    h->symbol_count = dt_le32(p + 0xC);
    h->optional_header_size = dt_le16(p + 0x10);
    h->characteristics = dt_le16(p + 0x12);
}

/* IMAGE_DATA_DIRECTORY[] {VirtualAddress, Size}: reads as many entries as
 * NumberOfRvaAndSizes, SizeOfOptionalHeader and the 16-entry array allow. */
static void read_data_dirs(dt_image *img, const uint8_t *opt, size_t opt_offset,
                           const optional_layout *layout)
{
    dt_image_headers *h = &img->headers;
    size_t room = (h->optional_header_size - layout->dirs_offset) / 8;
    size_t count = h->rva_and_size_count;
    if (count > DT_IMAGE_DIR_COUNT)
        count = DT_IMAGE_DIR_COUNT;
    if (count > room) {
        dt_image_diag(img, DT_DIAG_WARNING, "optional header",
                      (uint32_t)(opt_offset + layout->rva_count_offset),
                      "NumberOfRvaAndSizes %u exceeds the %zu directories that fit",
                      h->rva_and_size_count, room);
        count = room;
    }
    for (size_t i = 0; i < count; i++) {
        h->dirs[i].rva = dt_le32(opt + layout->dirs_offset + 8 * i);
        h->dirs[i].size = dt_le32(opt + layout->dirs_offset + 8 * i + 4);
    }
}

/* IMAGE_OPTIONAL_HEADER32/64: Magic 0; ImageBase 0x1C (u32, PE32) or 0x18
 * (u64, PE32+); SectionAlignment 0x20; FileAlignment 0x24; SizeOfImage 0x38;
 * SizeOfHeaders 0x3C; CheckSum 0x40; Subsystem 0x44; NumberOfRvaAndSizes
 * 0x5C / 0x6C; DataDirectory 0x60 / 0x70. */
static dt_status read_optional_header(dt_image *img, const uint8_t *bytes, size_t size,
                                      size_t offset, dt_error *err)
{
    dt_image_headers *h = &img->headers;
    const uint8_t *opt;
    if (!dt_span_at(bytes, size, offset, h->optional_header_size, &opt) ||
        h->optional_header_size < 2)
        return header_error(img, err, DT_ERR_FORMAT, "optional header", offset,
                            "truncated or SizeOfOptionalHeader too small");
    uint16_t magic = dt_le16(opt);
    if (magic != OPTIONAL_MAGIC_PE32 && magic != OPTIONAL_MAGIC_PE32_PLUS)
        return header_error(img, err, DT_ERR_UNSUPPORTED, "optional header", offset,
                            "Magic is neither 0x10B (PE32) nor 0x20B (PE32+)");
    h->pe32_plus = magic == OPTIONAL_MAGIC_PE32_PLUS;
    const optional_layout *layout = h->pe32_plus ? &PE32_PLUS_LAYOUT : &PE32_LAYOUT;
    if (h->optional_header_size < layout->dirs_offset)
        return header_error(img, err, DT_ERR_FORMAT, "optional header", offset,
                            "SizeOfOptionalHeader too small for its Magic");
    h->image_base = h->pe32_plus ? dt_le64(opt + 0x18) : dt_le32(opt + 0x1C);
    h->section_alignment = dt_le32(opt + 0x20);
    h->file_alignment = dt_le32(opt + 0x24);
    h->size_of_image = dt_le32(opt + 0x38);
    h->size_of_headers = dt_le32(opt + 0x3C);
    h->checksum = dt_le32(opt + 0x40);
    h->subsystem = dt_le16(opt + 0x44);
    h->rva_and_size_count = dt_le32(opt + layout->rva_count_offset);
    read_data_dirs(img, opt, offset, layout);
    return DT_OK;
}

/* COFF string table: at PointerToSymbolTable + 18 * NumberOfSymbols, a u32
 * total size (including itself) followed by NUL-terminated strings. Returns
 * the string at `index`, or NULL. Only a raw file carries the table. */
static const char *string_table_entry(dt_image *img, uint32_t index)
{
    const dt_image_headers *h = &img->headers;
    uint64_t table, at;
    const uint8_t *p;
    if (img->layout != IMAGE_LAYOUT_FILE || h->symbol_table_offset == 0 ||
        !dt_mul_u64(h->symbol_count, COFF_SYMBOL_SIZE, &table) ||
        !dt_add_u64(table, h->symbol_table_offset, &table) ||
        !dt_span_at(img->bytes, img->size, table, 4, &p))
        return NULL;
    uint32_t table_size = dt_le32(p);
    if (index < 4 || index >= table_size || !dt_add_u64(table, index, &at) ||
        !dt_span_at(img->bytes, img->size, at, 1, &p))
        return NULL;
    uint64_t room = table_size - index;
    if (room > img->size - at)
        room = img->size - at;
    if (room > DT_IMAGE_MAX_STRING)
        room = DT_IMAGE_MAX_STRING;
    const uint8_t *nul = memchr(p, 0, (size_t)room);
    return nul ? dt_arena_strndup(&img->arena, (const char *)p, (size_t)(nul - p)) : NULL;
}

/* A "/N" name: N is a decimal offset into the string table. Returns the long
 * name, or NULL when the name is not of that form or N does not resolve. */
static const char *long_section_name(dt_image *img, const char *short_name)
{
    if (short_name[0] != '/' || short_name[1] == '\0')
        return NULL;
    uint32_t index = 0;
    for (const char *c = short_name + 1; *c; c++) {
        if (*c < '0' || *c > '9')
            return NULL;
        index = index * 10 + (uint32_t)(*c - '0'); /* at most 7 digits */
    }
    return string_table_entry(img, index);
}

/* IMAGE_SECTION_HEADER (40 bytes): Name[8] 0, VirtualSize 8,
 * VirtualAddress 0xC, SizeOfRawData 0x10, PointerToRawData 0x14,
 * Characteristics 0x24. */
static bool read_section(dt_image *img, const uint8_t *p, uint64_t offset, dt_image_section *s)
{
    size_t len = 0;
    while (len < SHORT_NAME_SIZE && p[len])
        len++;
    const char *short_name = dt_arena_strndup(&img->arena, (const char *)p, len);
    if (!short_name)
        return false;
    s->name = long_section_name(img, short_name);
    if (!s->name) {
        if (short_name[0] == '/' && img->layout == IMAGE_LAYOUT_FILE)
            dt_image_diag(img, DT_DIAG_WARNING, "section header", (uint32_t)offset,
                          "long name %s is not in the COFF string table", short_name);
        s->name = short_name;
    }
    s->virtual_size = dt_le32(p + 8);
    s->virtual_address = dt_le32(p + 0xC);
    s->raw_size = dt_le32(p + 0x10);
    s->raw_offset = dt_le32(p + 0x14);
    s->characteristics = dt_le32(p + 0x24);
    return true;
}

/* The section table follows the optional header: NumberOfSections entries. */
static dt_status read_sections(dt_image *img, const uint8_t *bytes, size_t size,
                               size_t offset, dt_error *err)
{
    size_t count = img->headers.section_count;
    const uint8_t *table;
    if (count > DT_IMAGE_MAX_SECTIONS)
        return dt_error_set(err, DT_ERR_LIMIT, img->label, "file header", (int64_t)offset,
                            "NumberOfSections %zu exceeds the limit of %d", count,
                            DT_IMAGE_MAX_SECTIONS);
    if (!dt_span_at(bytes, size, offset, count * SECTION_HEADER_SIZE, &table))
        return header_error(img, err, DT_ERR_FORMAT, "section table", offset, "truncated");
    img->sections = dt_arena_array(&img->arena, count ? count : 1, sizeof *img->sections);
    if (!img->sections)
        return header_error(img, err, DT_ERR_NOMEM, "section table", offset, "out of memory");
    for (size_t i = 0; i < count; i++) {
        size_t at = i * SECTION_HEADER_SIZE;
        if (!read_section(img, table + at, offset + at, &img->sections[i]))
            return header_error(img, err, DT_ERR_NOMEM, "section table", offset,
                                "out of memory");
    }
    img->section_count = count;
    return DT_OK;
}

dt_status dt_image_decode_headers(dt_image *img, const uint8_t *bytes, size_t size,
                                  dt_error *err)
{
    size_t file_header = 0;
    dt_status st = read_signatures(img, bytes, size, &file_header, err);
    if (st != DT_OK)
        return st;
    read_file_header(&img->headers, bytes + file_header);
    size_t optional = file_header + FILE_HEADER_SIZE;
    st = read_optional_header(img, bytes, size, optional, err);
    if (st != DT_OK)
        return st;
    return read_sections(img, bytes, size, optional + img->headers.optional_header_size, err);
}
