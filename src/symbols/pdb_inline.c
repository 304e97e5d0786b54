/*
 * Functions inlined into a procedure: the S_INLINESITE and S_INLINESITE2
 * records between the procedure's record and its S_END, each holding a
 * line program (binary annotations) whose code offsets count from the
 * procedure's start, and the module's DEBUG_S_INLINEELINES subsection,
 * which gives each inlined function's first line and file (microsoft-pdb
 * include/cvinfo.h: INLINESITESYM, INLINESITESYM2, BinaryAnnotationOpcode,
 * CodeViewInfo::InlineeSourceLine; llvm.org/docs/PDB/CodeViewSymbols.md).
 */
#include "symbols/pdb_internal.h"

#include <string.h>

#include "base/cursor.h"

enum {
    S_INLINESITE = 0x114D,
    S_INLINESITE2 = 0x115D,
    /* After u16 RecordLength and u16 RecordKind: 0 pParent, 4 pEnd,
     * 8 inlinee (an IPI item), then the annotations (INLINESITESYM2 has
     * u32 invocations before them). */
    INLINESITE_INLINEE = 4 + 8,
    INLINESITE_ANNOTATIONS = 4 + 12,
    INLINESITE2_ANNOTATIONS = 4 + 16,
    INLINEE_LINES_EXTENDED = 1, /* CV_INLINEE_SOURCE_LINE_SIGNATURE_EX */
    MAX_INLINE_DEPTH = 64,
};

/* BinaryAnnotationOpcode */
enum {
    BA_END = 0,
    BA_CODE_OFFSET = 1,
    BA_CHANGE_CODE_OFFSET = 3,
    BA_CHANGE_CODE_LENGTH = 4,
    BA_CHANGE_FILE = 5,
    BA_CHANGE_LINE_OFFSET = 6,
    BA_CHANGE_CODE_OFFSET_AND_LINE_OFFSET = 11,
    BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET = 12,
    BA_LAST_OPCODE = 13,
};

/* A position of an inline site's line program: code from `start`, for
 * `length` bytes once known, is at `line` of `file`. */
typedef struct program_entry {
    uint64_t start;
    uint64_t length;
    bool has_length;
    int64_t line;
    uint32_t file;
} program_entry;

typedef struct line_program {
    const uint8_t *ops;
    size_t size, pos;
    uint64_t offset;         /* code offset from the procedure's start */
    int64_t line;
    uint32_t file;
    program_entry last;      /* the latest entry made */
    bool have_last;
    uint32_t target;         /* the code offset looked up */
    bool found;
    program_entry hit;
} line_program;

/* CVUncompressData: 0xxxxxxx is 7 bits; 10xxxxxx plus one byte is 14
 * bits; 110xxxxx plus three bytes is 29 bits, most significant first. */
static bool next_operand(line_program *p, uint32_t *out)
{
    if (p->pos >= p->size)
        return false;
    uint8_t first = p->ops[p->pos];
    size_t extra = (first & 0x80) == 0 ? 0 : (first & 0xC0) == 0x80 ? 1
                                           : (first & 0xE0) == 0xC0 ? 3 : 4;
    if (extra == 4 || p->size - p->pos < 1 + extra)
        return false;
    uint32_t value = first & (extra == 0 ? 0x7F : extra == 1 ? 0x3F : 0x1F);
    for (size_t i = 1; i <= extra; i++)
        value = value << 8 | p->ops[p->pos + i];
    p->pos += 1 + extra;
    *out = value;
    return true;
}

/* DecodeSignedInt32: the low bit is the sign. */
static int64_t signed_operand(uint32_t value)
{
    return value & 1 ? -(int64_t)(value >> 1) : (int64_t)(value >> 1);
}

static void check_entry(line_program *p, const program_entry *e)
{
    if (!p->found && e->has_length && p->target >= e->start && p->target - e->start < e->length) {
        p->found = true;
        p->hit = *e;
    }
}

/* A new entry at the current offset. The one before it ends here unless a
 * code length already ended it. */
static void make_entry(line_program *p, bool has_length, uint32_t length)
{
    if (p->have_last) {
        if (!p->last.has_length) {
            p->last.has_length = true;
            p->last.length = p->offset > p->last.start ? p->offset - p->last.start : 0;
        }
        check_entry(p, &p->last);
    }
    p->last = (program_entry){p->offset, length, has_length, p->line, p->file};
    p->have_last = true;
}

/* ChangeCodeLength gives the latest entry its length and moves past it. */
static void change_code_length(line_program *p, uint32_t length)
{
    if (p->have_last && !p->last.has_length) {
        p->last.has_length = true;
        p->last.length = length;
    }
    p->offset += length;
}

/* One opcode and its operands; false at the end or on a bad annotation. */
static bool run_opcode(line_program *p)
{
    uint32_t op, a, b;
    if (!next_operand(p, &op) || op == BA_END || op > BA_LAST_OPCODE || !next_operand(p, &a))
        return false;
    switch (op) {
    case BA_CODE_OFFSET: p->offset = a; break;
    case BA_CHANGE_CODE_OFFSET: p->offset += a; make_entry(p, false, 0); break;
    case BA_CHANGE_CODE_LENGTH: change_code_length(p, a); break;
    case BA_CHANGE_FILE: p->file = a; break;
    case BA_CHANGE_LINE_OFFSET: p->line += signed_operand(a); break;
    case BA_CHANGE_CODE_OFFSET_AND_LINE_OFFSET: /* code delta in the low 4 bits */
        p->offset += a & 0xF;
        p->line += signed_operand(a >> 4);
        make_entry(p, false, 0);
        break;
    case BA_CHANGE_CODE_LENGTH_AND_CODE_OFFSET: /* code length, then code delta */
        if (!next_operand(p, &b))
            return false;
        p->offset += b;
        make_entry(p, true, a);
        break;
    default: break; /* offset base, line end, range kind, columns: not needed */
    }
    return true;
}

/* The line and file of code offset `target` in an inline site's program,
 * starting from the inlinee's first line and file. */
static bool program_position(const uint8_t *ops, size_t size, uint32_t target,
                             uint32_t first_line, uint32_t first_file, int64_t *line,
                             uint32_t *file)
{
    line_program p = {.ops = ops, .size = size, .line = first_line, .file = first_file,
                      .target = target};
    while (!p.found && run_opcode(&p))
        ;
    if (p.have_last)
        check_entry(&p, &p.last);
    *line = p.hit.line;
    *file = p.hit.file;
    return p.found;
}

/* DEBUG_S_INLINEELINES: u32 signature, then entries {u32 inlinee, u32
 * fileId, u32 sourceLineNum}, in the extended form followed by u32
 * extraFileCount and that many u32 file ids. */
static bool inlinee_start(const pdb_module *m, uint32_t item, uint32_t *line, uint32_t *file)
{
    if (!m->inlinee_lines || m->inlinee_lines_size < 4)
        return false;
    bool extended = dt_le32(m->inlinee_lines) == INLINEE_LINES_EXTENDED;
    uint64_t pos = 4;
    while (m->inlinee_lines_size - pos >= 12) {
        const uint8_t *e = m->inlinee_lines + pos;
        if (dt_le32(e) == item) {
            *file = dt_le32(e + 4);
            *line = dt_le32(e + 8);
            return true;
        }
        pos += 12;
        if (extended) {
            if (m->inlinee_lines_size - pos < 4)
                return false;
            pos += 4 + 4ull * dt_le32(m->inlinee_lines + pos);
            if (pos > m->inlinee_lines_size)
                return false;
        }
    }
    return false;
}

typedef struct inline_hit {
    uint32_t inlinee;
    int64_t line;
    uint32_t file;
} inline_hit;

/* The site record at `record` (`length` bytes) when it covers `offset`. */
static bool site_covers(const pdb_module *m, const uint8_t *record, uint32_t length,
                        uint32_t offset, inline_hit *hit)
{
    uint16_t kind = dt_le16(record + 2);
    uint32_t annotations = kind == S_INLINESITE2 ? INLINESITE2_ANNOTATIONS : INLINESITE_ANNOTATIONS;
    if ((kind != S_INLINESITE && kind != S_INLINESITE2) || length < annotations)
        return false;
    hit->inlinee = dt_le32(record + INLINESITE_INLINEE);
    uint32_t first_line = 0, first_file = UINT32_MAX; /* no file until one is named */
    bool known_start = inlinee_start(m, hit->inlinee, &first_line, &first_file);
    bool covers = program_position(record + annotations, length - annotations, offset,
                                   first_line, first_file, &hit->line, &hit->file);
    if (!known_start) /* the program's lines are relative to the unknown first line */
        hit->line = 0;
    return covers;
}

/* The sites covering `offset` among the procedure's records, outermost
 * first (a nested site's record follows its parent's). */
static size_t covering_sites(dt_pdb *pdb, const pdb_module *m, const pdb_proc *proc,
                             uint32_t offset, inline_hit hits[MAX_INLINE_DEPTH])
{
    uint32_t size;
    const uint8_t *data = pdb_stream_data(pdb, m->stream, &size);
    uint32_t end = proc->record_end < m->symbols_size ? proc->record_end : m->symbols_size;
    size_t count = 0;
    for (uint32_t pos = proc->record_at; data && pos < end && end - pos >= 4;) {
        uint32_t length = (uint32_t)dt_le16(data + pos) + 2;
        if (length < 4 || length > end - pos)
            break;
        if (count < MAX_INLINE_DEPTH && site_covers(m, data + pos, length, offset, &hits[count]))
            count++;
        pos += length;
    }
    return count;
}

void pdb_inline_frames(dt_pdb *pdb, pdb_module *m, const pdb_proc *proc, uint32_t rva,
                       dt_symbol *out)
{
    inline_hit hits[MAX_INLINE_DEPTH];
    size_t count = covering_sites(pdb, m, proc, rva - proc->rva, hits);
    dt_inline_frame *frames = count ? dt_arena_array(&pdb->arena, count, sizeof *frames) : NULL;
    if (!frames)
        return;
    for (size_t i = 0; i < count; i++) {
        const inline_hit *h = &hits[count - 1 - i];
        const char *name = pdb_inlinee_name(pdb, h->inlinee);
        frames[i] = (dt_inline_frame){
            .function = name ? name : "(inlined function)",
            .file = pdb_line_file(pdb, m, h->file),
            .line = h->line > 0 && h->line <= UINT32_MAX ? (uint32_t)h->line : 0};
    }
    out->inlines = frames;
    out->inline_count = count;
}
