/*
 * The publics stream: its address map lists the S_PUB32 records of the
 * symbol record stream in address order (microsoft-pdb PDB/dbi/gsi.h:
 * PSGSIHDR, then the GSI hash, then the address map).
 */
#include "symbols/pdb_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"

enum { PSGSIHDR_SIZE = 28, S_PUB32 = 0x110E, PUB32_NAME = 0xE };

/* S_PUB32 at `offset` of the symbol record stream: 0 RecordLength u16
 * (excluding itself), 2 RecordKind, 4 Flags, 8 Offset, 0xC Segment u16,
 * 0xE Name\0. False when the record is not a well-formed S_PUB32. */
static bool decode_public(const uint8_t *records, uint32_t size, uint32_t offset,
                          uint16_t *segment, uint32_t *seg_offset, const char **name)
{
    const uint8_t *r;
    if (!dt_span_at(records, size, offset, 4, &r))
        return false;
    uint32_t length = (uint32_t)dt_le16(r) + 2;
    if (length < PUB32_NAME + 1 || dt_le16(r + 2) != S_PUB32 ||
        !dt_span_at(records, size, offset, length, &r))
        return false;
    if (!memchr(r + PUB32_NAME, 0, length - PUB32_NAME))
        return false;
    *seg_offset = dt_le32(r + 8);
    *segment = dt_le16(r + 0xC);
    *name = (const char *)r + PUB32_NAME;
    return true;
}

static int compare_publics(const void *a, const void *b)
{
    const pdb_public *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return strcmp(x->raw_name, y->raw_name);
}

/* Reads every address map entry; bad entries are counted in one
 * diagnostic. */
static void read_address_map(dt_pdb *pdb, const uint8_t *map, size_t count, uint32_t map_at,
                             const uint8_t *records, uint32_t records_size)
{
    size_t bad = 0, first_bad = 0;
    for (size_t i = 0; i < count; i++) {
        pdb_public *p = &pdb->publics[pdb->public_count];
        uint32_t seg_offset;
        if (!decode_public(records, records_size, dt_le32(map + 4 * i), &p->section,
                           &seg_offset, &p->raw_name)) {
            if (bad++ == 0)
                first_bad = i;
            continue;
        }
        if (pdb_section_rva(pdb, p->section, seg_offset, &p->rva))
            pdb->public_count++;
    }
    if (bad)
        pdb_diag(pdb, pdb->publics_stream, map_at + 4 * first_bad, "publics address map",
                 "%zu of %zu entries do not point at an S_PUB32 record", bad, count);
}

bool pdb_load_publics(dt_pdb *pdb)
{
    if (pdb->publics_state != PDB_UNLOADED)
        return pdb->publics_state == PDB_LOADED;
    pdb->publics_state = PDB_FAILED;
    if (!pdb_load_dbi(pdb) || pdb->publics_stream == PDB_NO_STREAM)
        return false;
    uint32_t size, records_size;
    const uint8_t *data = pdb_stream_data(pdb, pdb->publics_stream, &size);
    const uint8_t *records = pdb_stream_data(pdb, pdb->symrec_stream, &records_size);
    if (!data || !records)
        return false;
    /* PSGSIHDR: 0 cbSymHash, 4 cbAddrMap; the map follows the hash. */
    uint64_t map_at = PSGSIHDR_SIZE + (uint64_t)(size >= 8 ? dt_le32(data) : 0);
    uint32_t map_bytes = size >= 8 ? dt_le32(data + 4) : 0;
    const uint8_t *map;
    if (size < PSGSIHDR_SIZE || !dt_span_at(data, size, map_at, map_bytes, &map)) {
        pdb_diag(pdb, pdb->publics_stream, 0, "publics stream header",
                 "address map (%u bytes) runs past the %u-byte stream", map_bytes, size);
        return false;
    }
    size_t count = map_bytes / 4; /* PSGSIHDR.cbAddrMap: u32 offsets into the symbol records */
    if (count > PDB_MAX_PUBLICS) {
        pdb_diag(pdb, pdb->publics_stream, map_at + 4ull * PDB_MAX_PUBLICS, "publics address map",
                 "%zu entries exceed the cap of %d; the rest are ignored", count, PDB_MAX_PUBLICS);
        count = PDB_MAX_PUBLICS;
    }
    pdb->publics = calloc(count ? count : 1, sizeof *pdb->publics);
    if (!pdb->publics)
        return false;
    read_address_map(pdb, map, count, (uint32_t)map_at, records, records_size);
    qsort(pdb->publics, pdb->public_count, sizeof *pdb->publics, compare_publics);
    pdb->publics_state = PDB_LOADED;
    return true;
}
