/*
 * x86 unwind records of a PDB: the FPO stream (FPO_DATA, winnt.h) and the
 * new-FPO stream (FRAMEDATA, microsoft-pdb include/cvinfo.h), named by
 * slots 0 and 9 of the DBI optional debug header (FORMATS.md 2.5). Records
 * become dt_sym_win records, the shape the .sym STACK WIN lines have.
 */
#include "symbols/pdb_internal.h"

#include <string.h>

#include "base/cursor.h"
#include "dumptriage/sym_cfi.h"

enum {
    DBI_STREAM = 3,
    DBI_HEADER_SIZE = 64,
    DBI_DEBUG_HEADER_SIZE_FIELD = 0x30,
    DEBUG_SLOT_FPO = 0,
    DEBUG_SLOT_NEW_FPO = 9,
    FPO_DATA_SIZE = 16,
    FRAMEDATA_SIZE = 32,
    NESTED_RECORDS = 16      /* overlapping records examined below a match */
};

/* The stream named by a slot of the optional debug header, the last DBI
 * substream (sizes at 0x18, 0x1C, 0x20, 0x24, 0x28 and 0x34 precede it). */
static uint32_t debug_header_stream(dt_pdb *pdb, unsigned slot)
{
    static const uint8_t before[] = {0x18, 0x1C, 0x20, 0x24, 0x28, 0x34};
    uint32_t size;
    const uint8_t *dbi = pdb_stream_data(pdb, DBI_STREAM, &size);
    if (!dbi || size < DBI_HEADER_SIZE)
        return PDB_NO_STREAM;
    uint64_t at = DBI_HEADER_SIZE;
    for (size_t i = 0; i < sizeof before; i++)
        at += dt_le32(dbi + before[i]);
    uint32_t header_size = dt_le32(dbi + DBI_DEBUG_HEADER_SIZE_FIELD);
    if (2 * slot + 2 > header_size || at + 2 * slot + 2 > size)
        return PDB_NO_STREAM;
    uint16_t stream = dt_le16(dbi + at + 2 * slot);
    return stream == 0xFFFF ? PDB_NO_STREAM : stream;
}

/* The last record whose start is <= rva (records are sorted by start RVA,
 * as the linker writes them), then up to NESTED_RECORDS earlier ones: the
 * first whose [start, start + size) covers `rva`. */
static const uint8_t *covering_record(const uint8_t *records, size_t count, size_t record_size,
                                      uint32_t rva)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dt_le32(records + mid * record_size) <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t seen = 0; lo > 0 && seen < NESTED_RECORDS; lo--, seen++) {
        const uint8_t *r = records + (lo - 1) * record_size;
        uint32_t start = dt_le32(r), size = dt_le32(r + 4);
        if (rva - start < size)
            return r;
    }
    return NULL;
}

static const uint8_t *find_record(dt_pdb *pdb, unsigned slot, size_t record_size, uint32_t rva)
{
    uint32_t stream = debug_header_stream(pdb, slot), size;
    const uint8_t *data = stream == PDB_NO_STREAM ? NULL : pdb_stream_data(pdb, stream, &size);
    return data ? covering_record(data, size / record_size, record_size, rva) : NULL;
}

/* FRAMEDATA: 0 ulRvaStart, 4 cbBlock, 8 cbLocals, 0xC cbParams, 0x10 cbStkMax,
 * 0x14 frameFunc (/names offset of the program), 0x18 cbProlog u16,
 * 0x1A cbSavedRegs u16, 0x1C flags. */
static bool decode_framedata(dt_pdb *pdb, const uint8_t *r, dt_sym_win *out)
{
    const char *program = pdb_names_string(pdb, dt_le32(r + 0x14));
    memset(out, 0, sizeof *out);
    out->type = DT_SYM_WIN_FRAME_DATA;
    out->rva = dt_le32(r);
    out->code_size = dt_le32(r + 4);
    out->locals_size = dt_le32(r + 8);
    out->parameter_size = dt_le32(r + 0xC);
    out->max_stack_size = dt_le32(r + 0x10);
    out->prolog_size = dt_le16(r + 0x18);
    out->saved_regs_size = dt_le16(r + 0x1A);
    out->has_program = program && program[0];
    out->program = program;
    out->program_length = program ? strlen(program) : 0;
    return out->has_program;
}

/* FPO_DATA: 0 ulOffStart, 4 cbProcSize, 8 cdwLocals (dwords), 0xC cdwParams
 * u16 (dwords), 0xE bits: cbProlog 0-7, cbRegs 8-10, fHasSEH 11, fUseBP 12,
 * cbFrame 14-15 (0 FPO, 1 trap, 2 TSS, 3 non-FPO). */
static bool decode_fpo(const uint8_t *r, dt_sym_win *out)
{
    uint16_t bits = dt_le16(r + 0xE);
    memset(out, 0, sizeof *out);
    out->type = (dt_sym_win_type)(bits >> 14);
    out->rva = dt_le32(r);
    out->code_size = dt_le32(r + 4);
    out->locals_size = 4 * dt_le32(r + 8);
    out->parameter_size = 4u * dt_le16(r + 0xC);
    out->prolog_size = bits & 0xFF;
    out->saved_regs_size = 4u * ((bits >> 8) & 7);
    out->allocates_base_pointer = (bits >> 12) & 1;
    return out->type == DT_SYM_WIN_FPO;
}

bool dt_pdb_find_fpo(dt_pdb *pdb, uint32_t rva, dt_sym_win *out)
{
    uint32_t source = rva;
    if (!pdb || !pdb_load_dbi(pdb))
        return false;
    if (pdb->has_omap && !pdb_omap_translate(&pdb->omap_to_src, rva, &source))
        return false;
    const uint8_t *r = find_record(pdb, DEBUG_SLOT_NEW_FPO, FRAMEDATA_SIZE, source);
    bool found = r && decode_framedata(pdb, r, out);
    if (!found) {
        r = find_record(pdb, DEBUG_SLOT_FPO, FPO_DATA_SIZE, source);
        found = r && decode_fpo(r, out);
    }
    if (found)
        out->rva = rva - (source - out->rva); /* back to image space */
    return found;
}
