/*
 * Module symbol streams: the procedure records of one module, read when an
 * address first falls in that module's contributions
 * (llvm.org/docs/PDB/ModiStream.md, CodeViewSymbols.md).
 */
#include "symbols/pdb_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"

enum {
    CV_SIGNATURE_C13 = 4,
    S_LPROC32 = 0x110F,
    S_GPROC32 = 0x1110,
    S_LPROC32_ID = 0x1146,
    S_GPROC32_ID = 0x1147,
    PROC32_NAME = 0x27,
};

static bool is_proc(uint16_t kind)
{
    return kind == S_LPROC32 || kind == S_GPROC32 || kind == S_LPROC32_ID ||
           kind == S_GPROC32_ID;
}

/* Walks the symbol records in [4, end): each is u16 RecordLength (>= 2,
 * excluding itself, total 4-aligned), u16 RecordKind, payload. Calls
 * `visit` for procedure records; returns false when a record is bad. */
typedef void (*proc_visitor)(dt_pdb *pdb, pdb_module *m, const uint8_t *record, uint32_t length,
                             uint32_t at);

static bool walk_symbols(dt_pdb *pdb, pdb_module *m, const uint8_t *data, uint32_t end,
                         proc_visitor visit)
{
    uint32_t pos = 4;
    while (pos < end) {
        if (end - pos < 4)
            break;
        uint32_t length = (uint32_t)dt_le16(data + pos) + 2;
        if (length < 4 || length % 4 != 0 || length > end - pos) {
            pdb_diag(pdb, m->stream, pos, "module symbol record",
                     "bad record length %u (module %s); later records ignored", length - 2,
                     m->name);
            return false;
        }
        if (is_proc(dt_le16(data + pos + 2)))
            visit(pdb, m, data + pos, length, pos);
        pos += length;
    }
    return true;
}

static void count_proc(dt_pdb *pdb, pdb_module *m, const uint8_t *record, uint32_t length,
                       uint32_t at)
{
    (void)pdb, (void)record, (void)length, (void)at;
    m->proc_count++;
}

/* S_GPROC32 / S_LPROC32 (and _ID): PtrParent 4, PtrEnd 8, PtrNext 0xC,
 * CodeSize 0x10, DbgStart 0x14, DbgEnd 0x18, FunctionType 0x1C,
 * Offset 0x20, Segment 0x24 (u16), Flags 0x26 (u8), Name 0x27. */
static void add_proc(dt_pdb *pdb, pdb_module *m, const uint8_t *record, uint32_t length,
                     uint32_t at)
{
    if (m->proc_count >= PDB_MAX_PROCS_PER_MODULE || length <= PROC32_NAME ||
        !memchr(record + PROC32_NAME, 0, length - PROC32_NAME))
        return;
    pdb_proc *p = &m->procs[m->proc_count];
    if (!pdb_section_rva(pdb, dt_le16(record + 0x24), dt_le32(record + 0x20), &p->rva))
        return;
    p->size = dt_le32(record + 0x10);
    p->name = pdb_display_name(pdb, (const char *)record + PROC32_NAME);
    p->record_at = at;
    p->record_end = dt_le32(record + 8);
    m->proc_count++;
}

static int compare_procs(const void *a, const void *b)
{
    const pdb_proc *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return x->size < y->size ? -1 : x->size > y->size;
}

static bool read_procs(dt_pdb *pdb, pdb_module *m, const uint8_t *data, uint32_t end)
{
    walk_symbols(pdb, m, data, end, count_proc);
    size_t capacity = m->proc_count;
    if (capacity > PDB_MAX_PROCS_PER_MODULE) { /* reported at the first record, after Signature */
        pdb_diag(pdb, m->stream, 4, "module symbol records",
                 "module %s: %zu procedures exceed the cap of %d; the rest are ignored", m->name,
                 capacity, PDB_MAX_PROCS_PER_MODULE);
        capacity = PDB_MAX_PROCS_PER_MODULE;
    }
    m->proc_count = 0;
    m->procs = calloc(capacity ? capacity : 1, sizeof *m->procs);
    if (!m->procs)
        return false;
    walk_symbols(pdb, m, data, end, add_proc);
    qsort(m->procs, m->proc_count, sizeof *m->procs, compare_procs);
    return true;
}

/* Module stream: u32 Signature (4 = C13), symbol records up to
 * SymByteSize, C11 lines (C11ByteSize, unused), C13 subsections
 * (C13ByteSize). */
bool pdb_load_module(dt_pdb *pdb, pdb_module *m)
{
    if (m->state != PDB_UNLOADED)
        return m->state == PDB_LOADED;
    m->state = PDB_FAILED;
    if (m->stream == PDB_NO_STREAM)
        return false;
    uint32_t size;
    const uint8_t *data = pdb_stream_data(pdb, m->stream, &size);
    if (!data)
        return false;
    if (size < 4 || dt_le32(data) != CV_SIGNATURE_C13 || m->symbols_size > size ||
        m->symbols_size < 4) {
        pdb_diag(pdb, m->stream, 0, "module stream",
                 "module %s: bad signature or symbol size %u (stream is %u bytes)", m->name,
                 m->symbols_size, size);
        return false;
    }
    if (!read_procs(pdb, m, data, m->symbols_size))
        return false;
    uint64_t c13_at = (uint64_t)m->symbols_size + m->c11_size;
    if (c13_at + m->c13_size <= size)
        pdb_decode_c13(pdb, m, data + c13_at, m->c13_size, (uint32_t)c13_at);
    else if (m->c13_size)
        pdb_diag(pdb, m->stream, c13_at, "module C13 line information",
                 "module %s: %u bytes at 0x%llx run past the %u-byte stream", m->name,
                 m->c13_size, (unsigned long long)c13_at, size);
    m->state = PDB_LOADED;
    return true;
}
