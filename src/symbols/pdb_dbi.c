/*
 * The DBI stream (stream 3): module list, section contributions, and the
 * optional debug header's section header and OMAP streams
 * (llvm.org/docs/PDB/DbiStream.md).
 */
#include "symbols/pdb_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/cursor.h"

enum {
    DBI_STREAM = 3,
    DBI_HEADER_SIZE = 64,
    MODINFO_FIXED_SIZE = 0x40,
    SC_VERSION_60 = 0xEFFE0000u + 19970605u,
    SC_VERSION_V2 = 0xEFFE0000u + 20140516u,
    SECTION_HEADER_SIZE = 40,
    /* Optional debug header slots (u16 stream numbers). */
    DBG_OMAP_TO_SRC = 3,
    DBG_OMAP_FROM_SRC = 4,
    DBG_SECTION_HEADERS = 5,
    DBG_ORIGINAL_SECTION_HEADERS = 10,
};

static uint32_t stream_or_none(uint16_t value)
{
    return value == 0xFFFF ? PDB_NO_STREAM : value;
}

/* DBI header: 0 VersionSignature (-1), 4 VersionHeader, 8 Age,
 * 0x10 PublicStreamIndex u16, 0x14 SymRecordStream u16. Only these 64 bytes
 * are read, so identity does not materialize the DBI stream. */
bool pdb_load_dbi_header(dt_pdb *pdb)
{
    if (pdb->dbi_header_state != PDB_UNLOADED)
        return pdb->dbi_header_state == PDB_LOADED;
    pdb->dbi_header_state = PDB_FAILED;
    uint8_t h[DBI_HEADER_SIZE];
    if (!pdb_stream_read(pdb, DBI_STREAM, 0, h, sizeof h)) {
        pdb_diag(pdb, DBI_STREAM, 0, "DBI stream header", "missing or shorter than 64 bytes");
        return false;
    }
    if (dt_le32(h) != 0xFFFFFFFFu) {
        pdb_diag(pdb, DBI_STREAM, 0, "DBI stream header",
                 "VersionSignature 0x%x is not -1 (pre-VC7 DBI unsupported)", dt_le32(h));
        return false;
    }
    pdb->dbi_age = dt_le32(h + 8);
    pdb->publics_stream = stream_or_none(dt_le16(h + 0x10));
    pdb->symrec_stream = stream_or_none(dt_le16(h + 0x14));
    pdb->dbi_header_state = PDB_LOADED;
    return true;
}

/* ModInfo: 0 Unused, 4 SectionContr (28 bytes: 0 Section u16, 4 Offset,
 * 8 Size, 0xC Characteristics, 0x10 ModuleIndex u16), 0x20 Flags,
 * 0x22 ModuleSymStream u16, 0x24 SymByteSize, 0x28 C11ByteSize,
 * 0x2C C13ByteSize, ..., 0x40 ModuleName\0 ObjFileName\0, aligned to 4. */
static bool parse_module(dt_pdb *pdb, dt_cursor *c, pdb_module *m)
{
    const uint8_t *f;
    if (!dt_cursor_bytes(c, MODINFO_FIXED_SIZE, &f))
        return false;
    const uint8_t *name = c->data + c->pos;
    const uint8_t *end = memchr(name, 0, dt_cursor_remaining(c));
    if (!end || !dt_cursor_skip(c, (size_t)(end - name) + 1))
        return false;
    const uint8_t *obj = c->data + c->pos;
    const uint8_t *obj_end = memchr(obj, 0, dt_cursor_remaining(c));
    if (!obj_end || !dt_cursor_skip(c, (size_t)(obj_end - obj) + 1))
        return false;
    size_t pad = (4 - c->pos % 4) % 4;
    if (!dt_cursor_skip(c, pad))
        c->pos = c->size;
    m->name = (const char *)name;
    m->stream = stream_or_none(dt_le16(f + 0x22));
    m->symbols_size = dt_le32(f + 0x24);
    m->c11_size = dt_le32(f + 0x28);
    m->c13_size = dt_le32(f + 0x2C);
    uint32_t rva;
    if (pdb_section_rva(pdb, dt_le16(f + 4), dt_le32(f + 8), &rva)) {
        m->first_contribution.rva = rva;
        m->first_contribution.size = dt_le32(f + 0xC);
    }
    return true;
}

static void parse_modules(dt_pdb *pdb, const uint8_t *data, uint32_t size, uint32_t at)
{
    size_t cap = size / MODINFO_FIXED_SIZE;
    if (cap > PDB_MAX_MODULES)
        cap = PDB_MAX_MODULES;
    pdb->modules = dt_arena_array(&pdb->arena, cap ? cap : 1, sizeof *pdb->modules);
    if (!pdb->modules)
        return;
    dt_cursor c = dt_cursor_make(data, size);
    while (dt_cursor_remaining(&c) > 0 && pdb->module_count < cap) {
        size_t start = c.pos;
        if (!parse_module(pdb, &c, &pdb->modules[pdb->module_count])) {
            pdb_diag(pdb, DBI_STREAM, at + start, "DBI module info",
                     "module %zu is truncated; later modules are ignored", pdb->module_count);
            return;
        }
        pdb->module_count++;
    }
    if (dt_cursor_remaining(&c) > 0 && pdb->module_count == PDB_MAX_MODULES)
        pdb_diag(pdb, DBI_STREAM, at + c.pos, "DBI module info",
                 "more than %d modules; the rest are ignored", PDB_MAX_MODULES);
}

static int compare_contributions(const void *a, const void *b)
{
    const pdb_contribution *x = a, *y = b;
    return x->rva < y->rva ? -1 : x->rva > y->rva;
}

/* Section contribution substream: u32 Version, then entries of 28 bytes
 * (Ver60) or 32 bytes (V2, + ISectCoff): 0 Section u16, 4 Offset, 8 Size,
 * 0xC Characteristics, 0x10 ModuleIndex u16. */
static void parse_contributions(dt_pdb *pdb, const uint8_t *data, uint32_t size, uint32_t at)
{
    if (size < 4)
        return;
    uint32_t version = dt_le32(data);
    size_t width = version == SC_VERSION_60 ? 28 : version == SC_VERSION_V2 ? 32 : 0;
    if (!width) {
        pdb_diag(pdb, DBI_STREAM, at, "DBI section contributions", "unknown version 0x%x",
                 version);
        return;
    }
    size_t count = (size - 4) / width;
    if (count > PDB_MAX_CONTRIBUTIONS) {
        pdb_diag(pdb, DBI_STREAM, at + 4 + (uint64_t)PDB_MAX_CONTRIBUTIONS * width,
                 "DBI section contributions", "%zu entries exceed the cap of %d; the rest are "
                 "ignored", count, PDB_MAX_CONTRIBUTIONS);
        count = PDB_MAX_CONTRIBUTIONS;
    }
    pdb->contributions = dt_arena_array(&pdb->arena, count ? count : 1, sizeof(pdb_contribution));
    if (!pdb->contributions)
        return;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e = data + 4 + i * width;
        pdb_contribution *out = &pdb->contributions[pdb->contribution_count];
        uint32_t length = dt_le32(e + 8);
        out->module = dt_le16(e + 0x10);
        out->size = length;
        if (length && out->module < pdb->module_count &&
            pdb_section_rva(pdb, dt_le16(e), dt_le32(e + 4), &out->rva))
            pdb->contribution_count++;
    }
    qsort(pdb->contributions, pdb->contribution_count, sizeof(pdb_contribution),
          compare_contributions);
}

/* Modules whose contribution list is absent still have the first
 * contribution in their ModInfo record. */
static void contributions_from_modules(dt_pdb *pdb)
{
    pdb->contributions = dt_arena_array(&pdb->arena, pdb->module_count ? pdb->module_count : 1,
                                        sizeof(pdb_contribution));
    if (!pdb->contributions)
        return;
    for (size_t i = 0; i < pdb->module_count; i++) {
        pdb_contribution c = pdb->modules[i].first_contribution;
        if (c.size) {
            c.module = (uint16_t)i;
            pdb->contributions[pdb->contribution_count++] = c;
        }
    }
    qsort(pdb->contributions, pdb->contribution_count, sizeof(pdb_contribution),
          compare_contributions);
}

/* IMAGE_SECTION_HEADER (40 bytes): 8 VirtualSize, 0xC VirtualAddress,
 * 0x10 SizeOfRawData. */
static bool load_sections(dt_pdb *pdb, uint32_t stream)
{
    uint32_t size;
    const uint8_t *data = pdb_stream_data(pdb, stream, &size);
    if (!data)
        return false;
    size_t count = size / SECTION_HEADER_SIZE;
    if (count > PDB_MAX_SECTIONS) {
        pdb_diag(pdb, stream, (uint64_t)PDB_MAX_SECTIONS * SECTION_HEADER_SIZE, "section headers",
                 "%zu headers exceed the cap of %d; the rest are ignored", count,
                 PDB_MAX_SECTIONS);
        count = PDB_MAX_SECTIONS;
    }
    pdb->sections = dt_arena_array(&pdb->arena, count ? count : 1, sizeof *pdb->sections);
    if (!pdb->sections)
        return false;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *h = data + i * SECTION_HEADER_SIZE;
        uint32_t virtual_size = dt_le32(h + 8);
        pdb->sections[i].virtual_address = dt_le32(h + 0xC);
        pdb->sections[i].extent = virtual_size ? virtual_size : dt_le32(h + 0x10);
    }
    pdb->section_count = count;
    return true;
}

/* An OMAP stream: {u32 rva, u32 rvaTo} pairs sorted by rva. It needs no
 * count cap: the pairs are used in place and looked up by binary search, and
 * the stream's size is bounded by the file and the read budget. */
static bool load_omap(dt_pdb *pdb, uint32_t stream, pdb_omap *out)
{
    uint32_t size;
    const uint8_t *data = pdb_stream_data(pdb, stream, &size);
    if (!data)
        return false;
    out->entries = data;
    out->count = size / 8;
    return true;
}

/* Optional debug header: u16 stream numbers; see the DBG_* slots. With OMAP,
 * symbols refer to the original (pre-OMAP) section headers. */
static void parse_debug_header(dt_pdb *pdb, const uint8_t *data, uint32_t size, uint32_t at)
{
    uint32_t slot[11];
    for (size_t i = 0; i < 11; i++)
        slot[i] = 2 * i + 2 <= size ? stream_or_none(dt_le16(data + 2 * i)) : PDB_NO_STREAM;
    bool omap = slot[DBG_OMAP_TO_SRC] != PDB_NO_STREAM &&
                slot[DBG_OMAP_FROM_SRC] != PDB_NO_STREAM &&
                slot[DBG_ORIGINAL_SECTION_HEADERS] != PDB_NO_STREAM;
    if (omap && load_omap(pdb, slot[DBG_OMAP_TO_SRC], &pdb->omap_to_src) &&
        load_omap(pdb, slot[DBG_OMAP_FROM_SRC], &pdb->omap_from_src) &&
        load_sections(pdb, slot[DBG_ORIGINAL_SECTION_HEADERS])) {
        pdb->has_omap = true;
        return;
    }
    if (omap)
        pdb_diag(pdb, DBI_STREAM, at, "DBI optional debug header",
                 "OMAP streams unreadable; addresses are used untranslated");
    if (slot[DBG_SECTION_HEADERS] == PDB_NO_STREAM || !load_sections(pdb, slot[DBG_SECTION_HEADERS]))
        pdb_diag(pdb, DBI_STREAM, at, "DBI optional debug header",
                 "no readable section headers: addresses cannot be resolved");
}

/* Substream sizes: 0x18 ModInfoSize, 0x1C SectionContributionSize,
 * 0x20 SectionMapSize, 0x24 SourceInfoSize, 0x28 TypeServerMapSize,
 * 0x30 OptionalDbgHeaderSize, 0x34 ECSubstreamSize. Substreams follow the
 * header in the order ModInfo, SecContr, SectionMap, SourceInfo,
 * TypeServerMap, EC, OptionalDbgHeader. */
enum { SUB_MODINFO, SUB_CONTRIB, SUB_SECMAP, SUB_SOURCE, SUB_TSMAP, SUB_EC, SUB_DEBUG, SUB_N };

static bool substream_layout(dt_pdb *pdb, const uint8_t *data, uint32_t size,
                             uint32_t offsets[SUB_N], uint32_t sizes[SUB_N])
{
    static const uint8_t field[SUB_N] = {0x18, 0x1C, 0x20, 0x24, 0x28, 0x34, 0x30};
    uint64_t at = DBI_HEADER_SIZE;
    for (size_t i = 0; i < SUB_N; i++) {
        uint32_t n = dt_le32(data + field[i]);
        if (n > size || at + n > size) {
            pdb_diag(pdb, DBI_STREAM, field[i], "DBI stream header",
                     "substream size %d at field 0x%x runs past the %u-byte stream",
                     (int32_t)n, field[i], size);
            return false;
        }
        offsets[i] = (uint32_t)at;
        sizes[i] = n;
        at += n;
    }
    return true;
}

bool pdb_load_dbi(dt_pdb *pdb)
{
    if (pdb->dbi_state != PDB_UNLOADED)
        return pdb->dbi_state == PDB_LOADED;
    pdb->dbi_state = PDB_FAILED;
    uint32_t size, off[SUB_N], len[SUB_N];
    if (!pdb_load_dbi_header(pdb))
        return false;
    const uint8_t *data = pdb_stream_data(pdb, DBI_STREAM, &size);
    if (!data || size < DBI_HEADER_SIZE || !substream_layout(pdb, data, size, off, len))
        return false;
    parse_debug_header(pdb, data + off[SUB_DEBUG], len[SUB_DEBUG], off[SUB_DEBUG]);
    parse_modules(pdb, data + off[SUB_MODINFO], len[SUB_MODINFO], off[SUB_MODINFO]);
    parse_contributions(pdb, data + off[SUB_CONTRIB], len[SUB_CONTRIB], off[SUB_CONTRIB]);
    if (pdb->contribution_count == 0)
        contributions_from_modules(pdb);
    pdb->dbi_state = PDB_LOADED;
    return true;
}
