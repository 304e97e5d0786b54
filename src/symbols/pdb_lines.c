/*
 * C13 line information of a module stream: DEBUG_S_LINES (0xF2) blocks map
 * code offsets to line numbers of a file named through DEBUG_S_FILECHKSMS
 * (0xF4) and the /names table (microsoft-pdb include/cvinfo.h,
 * CV_DebugSLinesHeader_t, CV_DebugSLinesFileBlockHeader_t, CV_Line_t).
 */
#include "symbols/pdb_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"

enum {
    DEBUG_S_IGNORE = 0x80000000u,
    DEBUG_S_LINES = 0xF2,
    DEBUG_S_FILECHKSMS = 0xF4,
    DEBUG_S_INLINEELINES = 0xF6,
    CV_LINES_HAVE_COLUMNS = 0x0001,
    LINES_HEADER_SIZE = 12,
    FILE_BLOCK_HEADER_SIZE = 12,
};

/* Visits each subsection: u32 Kind, u32 Length, payload padded to 4. */
typedef void (*subsection_visitor)(dt_pdb *pdb, pdb_module *m, uint32_t kind,
                                   const uint8_t *payload, uint32_t length, uint32_t at);

static void walk_subsections(dt_pdb *pdb, pdb_module *m, const uint8_t *data, uint32_t size,
                             uint32_t at, subsection_visitor visit)
{
    uint32_t pos = 0;
    while (size - pos >= 8) {
        uint32_t kind = dt_le32(data + pos), length = dt_le32(data + pos + 4);
        if (length > size - pos - 8) {
            pdb_diag(pdb, m->stream, at + pos, "C13 subsection",
                     "module %s: length %u runs past the line information", m->name, length);
            return;
        }
        if (!(kind & DEBUG_S_IGNORE))
            visit(pdb, m, kind, data + pos + 8, length, at + pos + 8);
        uint64_t next = (uint64_t)pos + 8 + length + (4 - length % 4) % 4;
        if (next >= size)
            return;
        pos = (uint32_t)next;
    }
}

/* Reports, once per module, the first CV_Line_t past PDB_MAX_LINES_PER_MODULE. */
static void note_line_cap(dt_pdb *pdb, pdb_module *m, uint64_t offset)
{
    if (m->lines_capped)
        return;
    m->lines_capped = true;
    pdb_diag(pdb, m->stream, offset, "C13 DEBUG_S_LINES CV_Line_t",
             "module %s: more than %d line entries; the rest are ignored", m->name,
             PDB_MAX_LINES_PER_MODULE);
}

/* One DEBUG_S_LINES payload: header 0 offCon, 4 segCon u16, 6 flags u16,
 * 8 cbCon; then file blocks: 0 fileid (offset in the checksum
 * subsection), 4 nLines, 8 cbBlock; then nLines CV_Line_t {offset,
 * linenumStart:24 deltaLineEnd:7 fStatement:1} and, with columns, nLines
 * CV_Column_t (4 bytes). `out` NULL only counts. */
static void decode_lines(dt_pdb *pdb, pdb_module *m, const uint8_t *p, uint32_t length,
                         uint32_t at, pdb_line *out, size_t *count)
{
    if (length < LINES_HEADER_SIZE)
        return;
    uint32_t base;
    uint32_t code_size = dt_le32(p + 8);
    bool columns = dt_le16(p + 6) & CV_LINES_HAVE_COLUMNS;
    bool mapped = pdb_section_rva(pdb, dt_le16(p + 4), dt_le32(p), &base) &&
                  (uint64_t)base + code_size <= UINT32_MAX;
    uint32_t pos = LINES_HEADER_SIZE;
    while (length - pos >= FILE_BLOCK_HEADER_SIZE) {
        const uint8_t *b = p + pos;
        uint32_t n = dt_le32(b + 4), block = dt_le32(b + 8);
        uint64_t need = FILE_BLOCK_HEADER_SIZE + (uint64_t)n * (columns ? 12 : 8);
        if (block < need || block > length - pos) {
            if (!out) /* reported once, while counting */
                    pdb_diag(pdb, m->stream, at + pos, "C13 DEBUG_S_LINES file block",
                         "module %s: %u lines do not fit in %u bytes", m->name, n, block);
            return;
        }
        uint32_t i = 0;
        for (; mapped && i < n && *count < PDB_MAX_LINES_PER_MODULE; i++) {
            const uint8_t *e = b + FILE_BLOCK_HEADER_SIZE + 8ull * i;
            uint32_t offset = dt_le32(e);
            uint32_t next = i + 1 < n ? dt_le32(e + 8) : code_size;
            if (offset >= code_size)
                continue;
            if (out)
                out[*count] = (pdb_line){.rva = base + offset,
                                         .end = base + (next > offset && next <= code_size
                                                            ? next : code_size),
                                         .line = dt_le32(e + 4) & 0xFFFFFF,
                                         .file_id = dt_le32(b),
                                         .order = (uint32_t)*count};
            ++*count;
        }
        if (!out && mapped && i < n)
            note_line_cap(pdb, m, at + pos + FILE_BLOCK_HEADER_SIZE + 8ull * i);
        pos += block;
    }
}

static void count_lines(dt_pdb *pdb, pdb_module *m, uint32_t kind, const uint8_t *payload,
                        uint32_t length, uint32_t at)
{
    if (kind == DEBUG_S_FILECHKSMS) {
        m->checksums = payload;
        m->checksums_size = length;
    } else if (kind == DEBUG_S_LINES) {
        decode_lines(pdb, m, payload, length, at, NULL, &m->line_count);
    } else if (kind == DEBUG_S_INLINEELINES) { /* read by pdb_inline.c */
        m->inlinee_lines = payload;
        m->inlinee_lines_size = length;
    }
}

static void fill_lines(dt_pdb *pdb, pdb_module *m, uint32_t kind, const uint8_t *payload,
                       uint32_t length, uint32_t at)
{
    if (kind == DEBUG_S_LINES)
        decode_lines(pdb, m, payload, length, at, m->lines, &m->line_count);
}

static int compare_lines(const void *a, const void *b)
{
    const pdb_line *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void pdb_decode_c13(dt_pdb *pdb, pdb_module *m, const uint8_t *data, uint32_t size,
                    uint32_t at)
{
    walk_subsections(pdb, m, data, size, at, count_lines);
    size_t capacity = m->line_count;
    m->line_count = 0;
    if (capacity == 0 || !(m->lines = calloc(capacity, sizeof *m->lines)))
        return;
    walk_subsections(pdb, m, data, size, at, fill_lines);
    qsort(m->lines, m->line_count, sizeof *m->lines, compare_lines);
    /* A line ends where the next one (of any file block) starts. */
    for (size_t i = 0; i + 1 < m->line_count; i++)
        if (m->lines[i + 1].rva < m->lines[i].end)
            m->lines[i].end = m->lines[i + 1].rva;
}

const pdb_line *pdb_line_at(const pdb_module *m, uint32_t rva)
{
    size_t lo = 0, hi = m->line_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->lines[mid].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || rva >= m->lines[lo - 1].end)
        return NULL;
    return &m->lines[lo - 1];
}

/* File checksum entry at file_id: 0 offstFileName (into /names),
 * 4 cbChecksum u8, 5 ChecksumKind u8, checksum bytes. */
const char *pdb_line_file(dt_pdb *pdb, const pdb_module *m, uint32_t file_id)
{
    const uint8_t *entry;
    if (!m->checksums || !dt_span_at(m->checksums, m->checksums_size, file_id, 6, &entry))
        return NULL;
    return pdb_names_string(pdb, dt_le32(entry));
}
