/*
 * x64 virtual unwinding from UNWIND_INFO.
 *
 * UNWIND_INFO: byte 0 Version (bits 0-2) and Flags (bits 3-7: 1 EHANDLER,
 * 2 UHANDLER, 4 CHAININFO); byte 1 SizeOfProlog; byte 2 CountOfCodes (slots);
 * byte 3 FrameRegister (low 4 bits) and FrameOffset (high 4 bits, x16);
 * UNWIND_CODE slots from byte 4. A chained parent RUNTIME_FUNCTION follows the
 * codes, padded to an even slot count.
 * UNWIND_CODE: byte 0 CodeOffset (the prolog offset just past the
 * instruction), byte 1 UnwindOp (low 4 bits) and OpInfo (high 4 bits).
 */
#include "unwind/x64_unwind.h"

#include <string.h>

#include "base/cursor.h"

enum {
    UWOP_PUSH_NONVOL = 0, UWOP_ALLOC_LARGE = 1, UWOP_ALLOC_SMALL = 2, UWOP_SET_FPREG = 3,
    UWOP_SAVE_NONVOL = 4, UWOP_SAVE_NONVOL_FAR = 5, UWOP_EPILOG = 6, UWOP_SPARE = 7,
    UWOP_SAVE_XMM128 = 8, UWOP_SAVE_XMM128_FAR = 9, UWOP_PUSH_MACHFRAME = 10
};
enum { UNW_FLAG_CHAININFO = 4, MAX_CHAIN_DEPTH = 32, UNWIND_INFO_HEADER = 4,
       MAX_CODE_SLOTS = 255, EPILOG_BYTES = 32, MAX_EPILOG_POPS = 16, REG_RSP = 4 };

/* A decoded UNWIND_INFO with its code slots. */
typedef struct unwind_info {
    uint8_t version;
    uint8_t flags;
    uint8_t prolog_size;
    uint8_t code_count;
    uint8_t frame_register;
    uint32_t frame_offset;   /* bytes: FrameOffset x 16 */
    uint8_t codes[2 * MAX_CODE_SLOTS];
    dt_runtime_function parent; /* valid with UNW_FLAG_CHAININFO */
} unwind_info;

typedef struct unwind_state {
    const x64_unwind_source *source;
    const dt_dump *dump;
    x64_regs regs;
    bool machine_frame;
    const char *failure;
} unwind_state;

static bool read_info(const x64_unwind_source *source, uint32_t rva, unwind_info *info)
{
    uint8_t header[UNWIND_INFO_HEADER];
    if (source->read(source->ctx, rva, header, sizeof header) != sizeof header)
        return false;
    info->version = header[0] & 7;
    info->flags = header[0] >> 3;
    info->prolog_size = header[1];
    info->code_count = header[2];
    info->frame_register = header[3] & 0xF;
    info->frame_offset = (uint32_t)(header[3] >> 4) * 16;
    if (info->version != 1 && info->version != 2)
        return false; /* version 3 (APX) and garbage are refused */
    size_t code_bytes = 2u * info->code_count;
    if (source->read(source->ctx, rva + UNWIND_INFO_HEADER, info->codes, code_bytes) != code_bytes)
        return false;
    if (info->flags & UNW_FLAG_CHAININFO) {
        uint8_t parent[12];
        uint32_t at = rva + UNWIND_INFO_HEADER + 2u * ((info->code_count + 1u) & ~1u);
        if (source->read(source->ctx, at, parent, sizeof parent) != sizeof parent)
            return false;
        info->parent.begin = dt_le32(parent);
        info->parent.end = dt_le32(parent + 4);
        info->parent.unwind_data = dt_le32(parent + 8);
    }
    return true;
}

static uint8_t code_op(const unwind_info *info, unsigned i) { return info->codes[2 * i + 1] & 0xF; }
static uint8_t code_info(const unwind_info *info, unsigned i) { return info->codes[2 * i + 1] >> 4; }
static uint8_t code_offset(const unwind_info *info, unsigned i) { return info->codes[2 * i]; }

static uint32_t slot_u16(const unwind_info *info, unsigned i)
{
    return dt_le16(&info->codes[2 * i]);
}

/* Slots an operation takes, or 0 when the operation is invalid. */
static unsigned op_slots(const unwind_info *info, unsigned i)
{
    switch (code_op(info, i)) {
    case UWOP_PUSH_NONVOL: case UWOP_ALLOC_SMALL: case UWOP_SET_FPREG:
    case UWOP_PUSH_MACHFRAME:
        return 1;
    case UWOP_ALLOC_LARGE: return code_info(info, i) == 0 ? 2 : 3;
    case UWOP_SAVE_NONVOL: case UWOP_SAVE_XMM128: return 2;
    case UWOP_SAVE_NONVOL_FAR: case UWOP_SAVE_XMM128_FAR: return 3;
    /* Version 2: EPILOG (1 slot) and SPARE (2). Version 1 used 6 and 7 for
     * the retired SAVE_XMM and SAVE_XMM_FAR (2 and 3 slots). */
    case UWOP_EPILOG: return info->version == 2 ? 1 : 2;
    case UWOP_SPARE: return info->version == 2 ? 2 : 3;
    default: return 0;
    }
}

static bool read_stack(unwind_state *s, uint64_t address, uint64_t *value)
{
    if (dt_dump_read_u64(s->dump, address, value))
        return true;
    s->failure = "saved register lies in memory absent from the dump";
    return false;
}

static bool pop(unwind_state *s, unsigned reg)
{
    uint64_t value;
    if (!read_stack(s, s->regs.gpr[REG_RSP], &value))
        return false;
    s->regs.gpr[reg] = value;
    s->regs.gpr[REG_RSP] += 8;
    return true;
}

/* UWOP_PUSH_MACHFRAME: RIP at [RSP + 8*info], RSP at [RSP + 24 + 8*info]. */
static bool restore_machine_frame(unwind_state *s, unsigned error_code)
{
    uint64_t frame = s->regs.gpr[REG_RSP] + 8u * error_code, rip, rsp;
    if (!read_stack(s, frame, &rip) || !read_stack(s, frame + 24, &rsp))
        return false;
    s->regs.rip = rip;
    s->regs.gpr[REG_RSP] = rsp;
    s->machine_frame = true;
    return true;
}

/* Applies one unwind operation; `frame_base` is the establisher frame. */
static bool apply_op(unwind_state *s, const unwind_info *info, unsigned i, uint64_t frame_base)
{
    unsigned reg = code_info(info, i);
    uint64_t value;
    switch (code_op(info, i)) {
    case UWOP_PUSH_NONVOL:
        return pop(s, reg);
    case UWOP_ALLOC_LARGE:
        s->regs.gpr[REG_RSP] += reg == 0 ? 8u * slot_u16(info, i + 1)
                                         : slot_u16(info, i + 1) | slot_u16(info, i + 2) << 16;
        return true;
    case UWOP_ALLOC_SMALL:
        s->regs.gpr[REG_RSP] += 8u * reg + 8;
        return true;
    case UWOP_SET_FPREG:
        s->regs.gpr[REG_RSP] = s->regs.gpr[info->frame_register] - info->frame_offset;
        return true;
    case UWOP_SAVE_NONVOL:
        if (!read_stack(s, frame_base + 8u * slot_u16(info, i + 1), &value))
            return false;
        s->regs.gpr[reg] = value;
        return true;
    case UWOP_SAVE_NONVOL_FAR:
        if (!read_stack(s, frame_base + (slot_u16(info, i + 1) | slot_u16(info, i + 2) << 16),
                        &value))
            return false;
        s->regs.gpr[reg] = value;
        return true;
    case UWOP_PUSH_MACHFRAME:
        return restore_machine_frame(s, reg);
    default:
        return true; /* XMM saves, epilog descriptions: no integer state */
    }
}

/* Applies the codes whose prolog instruction has executed: all of them when
 * `prolog_offset` is past the prolog (chained parents pass UINT32_MAX). */
static bool apply_codes(unwind_state *s, const unwind_info *info, uint32_t prolog_offset,
                        uint64_t frame_base)
{
    for (unsigned i = 0; i < info->code_count;) {
        unsigned slots = op_slots(info, i);
        if (slots == 0 || i + slots > info->code_count) {
            s->failure = "invalid unwind code";
            return false;
        }
        bool executed = prolog_offset >= info->prolog_size || prolog_offset >= code_offset(info, i);
        if (executed && code_op(info, i) != UWOP_EPILOG && !apply_op(s, info, i, frame_base))
            return false;
        if (s->machine_frame)
            return true; /* the machine frame restores RIP and RSP itself */
        i += slots;
    }
    return true;
}

/* Whether the prolog's SET_FPREG has executed at `prolog_offset`. */
static bool frame_register_set(const unwind_info *info, uint32_t prolog_offset)
{
    if (prolog_offset >= info->prolog_size || (info->flags & UNW_FLAG_CHAININFO))
        return true;
    for (unsigned i = 0; i < info->code_count;) {
        unsigned slots = op_slots(info, i);
        if (slots == 0)
            return false;
        if (code_op(info, i) == UWOP_SET_FPREG)
            return prolog_offset >= code_offset(info, i);
        i += slots;
    }
    return false;
}

/* The establisher frame: RSP after the fixed allocation, or the frame
 * register minus FrameOffset once SET_FPREG has executed. */
static uint64_t establisher_frame(const unwind_state *s, const unwind_info *info,
                                  uint32_t prolog_offset)
{
    if (info->frame_register != 0 && frame_register_set(info, prolog_offset))
        return s->regs.gpr[info->frame_register] - info->frame_offset;
    return s->regs.gpr[REG_RSP];
}

/* ---- Epilogs ------------------------------------------------------------ */

typedef struct epilog {
    bool add_rsp;
    uint32_t add;             /* add rsp, imm */
    bool lea_rsp;
    int32_t lea_displacement; /* lea rsp, [frame_register + disp] */
    unsigned pop_count;
    uint8_t pops[MAX_EPILOG_POPS];
} epilog;

/* Decodes an optional stack deallocation at c[*pos]. */
static void decode_deallocation(const uint8_t *c, size_t n, size_t *pos, uint8_t frame_register,
                                epilog *e)
{
    if (n >= 4 && c[0] == 0x48 && c[1] == 0x83 && c[2] == 0xC4) {
        e->add_rsp = true, e->add = (uint32_t)(int32_t)(int8_t)c[3], *pos = 4;
    } else if (n >= 7 && c[0] == 0x48 && c[1] == 0x81 && c[2] == 0xC4) {
        e->add_rsp = true, e->add = dt_le32(c + 3), *pos = 7;
    } else if (n >= 4 && (c[0] & 0xFE) == 0x48 && c[1] == 0x8D && frame_register != 0) {
        /* lea rsp, [r + disp]: ModRM reg = 4 (RSP), rm (+REX.B) = frame register */
        unsigned mod = c[2] >> 6, reg = (c[2] >> 3) & 7, rm = (c[2] & 7) | (c[0] & 1) << 3;
        if (reg != REG_RSP || rm != frame_register || (mod != 1 && mod != 2))
            return;
        if (mod == 1) {
            e->lea_rsp = true, e->lea_displacement = (int8_t)c[3], *pos = 4;
        } else if (n >= 7) {
            e->lea_rsp = true, e->lea_displacement = (int32_t)dt_le32(c + 3), *pos = 7;
        }
    }
}

/* Whether c[pos..] ends an epilog: ret, ret imm16, rep ret, or a jump out of
 * the function [begin, end) (a tail call). */
static bool epilog_terminator(const uint8_t *c, size_t n, size_t pos, uint32_t rva,
                              const dt_runtime_function *f)
{
    if (pos >= n)
        return false;
    uint8_t op = c[pos];
    if (op == 0xC3 || (op == 0xC2 && pos + 3 <= n) || (op == 0xF3 && pos + 1 < n && c[pos + 1] == 0xC3))
        return true;
    if (op == 0xE9 && pos + 5 <= n) {
        uint32_t target = rva + (uint32_t)pos + 5 + dt_le32(c + pos + 1);
        return target < f->begin || target >= f->end;
    }
    if (op == 0xEB && pos + 2 <= n) {
        uint32_t target = rva + (uint32_t)pos + 2 + (uint32_t)(int32_t)(int8_t)c[pos + 1];
        return target < f->begin || target >= f->end;
    }
    if (op == 0xFF && pos + 2 <= n && c[pos + 1] == 0x25)
        return true; /* jmp [rip + disp32] */
    return op == 0x48 && pos + 3 <= n && c[pos + 1] == 0xFF && (c[pos + 2] & 0x38) == 0x20;
}

/* Decodes the instructions at the exact RIP; true when they form the rest
 * of an epilog (version 1 detection, used whenever code bytes exist). */
static bool decode_epilog(const uint8_t *c, size_t n, uint32_t rva, const dt_runtime_function *f,
                          uint8_t frame_register, epilog *e)
{
    size_t pos = 0;
    memset(e, 0, sizeof *e);
    decode_deallocation(c, n, &pos, frame_register, e);
    while (e->pop_count < MAX_EPILOG_POPS && pos < n) {
        if (c[pos] >= 0x58 && c[pos] <= 0x5F) {
            e->pops[e->pop_count++] = c[pos] - 0x58;
            pos += 1;
        } else if (pos + 1 < n && c[pos] == 0x41 && c[pos + 1] >= 0x58 && c[pos + 1] <= 0x5F) {
            e->pops[e->pop_count++] = 8 + c[pos + 1] - 0x58;
            pos += 2;
        } else {
            break;
        }
    }
    return epilog_terminator(c, n, pos, rva, f);
}

/* RET: the return address at [RSP] becomes RIP. */
static bool pop_return_address(unwind_state *s)
{
    uint64_t rip;
    if (!read_stack(s, s->regs.gpr[REG_RSP], &rip))
        return false;
    s->regs.rip = rip;
    s->regs.gpr[REG_RSP] += 8;
    return true;
}

static bool run_epilog(unwind_state *s, const epilog *e, uint8_t frame_register)
{
    if (e->add_rsp)
        s->regs.gpr[REG_RSP] += e->add;
    if (e->lea_rsp)
        s->regs.gpr[REG_RSP] = s->regs.gpr[frame_register] + (uint64_t)(int64_t)e->lea_displacement;
    for (unsigned i = 0; i < e->pop_count; i++)
        if (!pop(s, e->pops[i]))
            return false;
    return pop_return_address(s);
}

/* Version 2 epilog codes: codes[0] is UWOP_EPILOG with CodeOffset = epilog
 * size and OpInfo bit 0 = an epilog ends exactly at EndAddress; further
 * UWOP_EPILOG codes give offsets from EndAddress (CodeOffset | OpInfo << 8,
 * 0 = padding). Returns the epilog size when `rva` lies in one, else 0, and
 * the bytes of it left from `rva` in *remaining. */
static uint32_t v2_epilog_at(const unwind_info *info, const dt_runtime_function *f, uint32_t rva,
                             uint32_t *remaining)
{
    if (info->version != 2 || info->code_count == 0 || code_op(info, 0) != UWOP_EPILOG)
        return 0;
    uint32_t size = code_offset(info, 0);
    for (unsigned i = 0; i < info->code_count && code_op(info, i) == UWOP_EPILOG; i++) {
        uint32_t from_end = i == 0 ? ((code_info(info, 0) & 1) ? size : 0)
                                   : code_offset(info, i) | (uint32_t)code_info(info, i) << 8;
        if (from_end == 0 || from_end > f->end - f->begin)
            continue;
        uint32_t start = f->end - from_end;
        if (rva >= start && rva < start + size) {
            *remaining = start + size - rva;
            return size;
        }
    }
    return 0;
}

/* In a version 2 epilog without code bytes: the tail is the pops of the
 * PUSH_NONVOL codes (1 byte each, 2 for R8-R15) and a 1-byte ret. Before the
 * tail the deallocation has not run, so the frame unwinds as the body does. */
static bool v2_epilog_tail(const unwind_info *info, uint32_t remaining, epilog *e)
{
    memset(e, 0, sizeof *e);
    uint8_t regs[MAX_EPILOG_POPS];
    unsigned count = 0;
    uint32_t tail = 1;
    for (unsigned i = 0; i < info->code_count && count < MAX_EPILOG_POPS;) {
        unsigned slots = op_slots(info, i);
        if (slots == 0)
            return false;
        if (code_op(info, i) == UWOP_PUSH_NONVOL) {
            regs[count++] = code_info(info, i);
            tail += code_info(info, i) >= 8 ? 2 : 1;
        }
        i += slots;
    }
    if (remaining > tail)
        return false;
    uint32_t skip = tail - remaining; /* bytes of pops already executed */
    for (unsigned i = 0; i < count; i++) {
        uint32_t width = regs[i] >= 8 ? 2 : 1;
        if (skip >= width)
            skip -= width;
        else
            e->pops[e->pop_count++] = regs[i];
    }
    return true;
}

/* Unwinds through an epilog when the exact RIP is in one. */
static bool try_epilog(unwind_state *s, const unwind_info *info, const dt_runtime_function *f,
                       uint32_t rva, bool *handled)
{
    uint8_t code[EPILOG_BYTES];
    epilog e;
    size_t n = dt_dump_read(s->dump, s->regs.rip, code, sizeof code);
    if (n == 0)
        n = s->source->read(s->source->ctx, rva, code, sizeof code);
    uint32_t remaining;
    if (n > 0)
        *handled = decode_epilog(code, n, rva, f, info->frame_register, &e);
    else
        *handled = v2_epilog_at(info, f, rva, &remaining) && v2_epilog_tail(info, remaining, &e);
    return !*handled || run_epilog(s, &e, info->frame_register);
}

/* ---- One frame -------------------------------------------------------- */

static x64_unwind_result fail(x64_unwind_status status, const char *detail)
{
    x64_unwind_result r = {status, false, false, detail};
    return r;
}

/* Follows UNW_FLAG_CHAININFO parents, applying all of their codes. */
static bool apply_chain(unwind_state *s, const unwind_info *first, uint64_t frame_base)
{
    unwind_info info = *first;
    for (int depth = 0; (info.flags & UNW_FLAG_CHAININFO) && !s->machine_frame; depth++) {
        if (depth == MAX_CHAIN_DEPTH) {
            s->failure = "chained unwind info deeper than 32";
            return false;
        }
        uint32_t parent_data = info.parent.unwind_data & ~DT_RUNTIME_FUNCTION_INDIRECT;
        if (!read_info(s->source, parent_data, &info)) {
            s->failure = "chained unwind info is unreadable";
            return false;
        }
        if (!apply_codes(s, &info, UINT32_MAX, frame_base))
            return false;
    }
    return true;
}

static bool return_to_caller(unwind_state *s)
{
    return s->machine_frame || pop_return_address(s);
}

x64_unwind_result dt_x64_unwind_frame(const x64_unwind_source *source, const dt_dump *dump,
                                      x64_regs *regs, bool exact)
{
    uint64_t lookup = exact ? regs->rip : regs->rip - 1;
    if (lookup < source->base || lookup - source->base > UINT32_MAX)
        return fail(X64_NO_FUNCTION, "address outside the module");
    uint32_t rva = (uint32_t)(regs->rip - source->base);
    dt_runtime_function entry, primary;
    if (source->find(source->ctx, (uint32_t)(lookup - source->base), &entry, &primary) != DT_OK)
        return fail(X64_NO_FUNCTION, "no RUNTIME_FUNCTION covers the address");
    unwind_info info;
    if (!read_info(source, primary.unwind_data & ~DT_RUNTIME_FUNCTION_INDIRECT, &info))
        return fail(X64_BAD_UNWIND_DATA, "UNWIND_INFO is unreadable or of an unknown version");
    unwind_state s = {source, dump, *regs, false, NULL};
    bool in_epilog = false;
    if (exact && !try_epilog(&s, &info, &entry, rva, &in_epilog))
        return fail(X64_STACK_MISSING, s.failure);
    if (!in_epilog) {
        /* The prolog offset is taken from the primary function's start, for
         * return addresses too (a call inside a prolog, such as __chkstk,
         * returns before the allocation ran); an address before the start
         * (a cold fragment) counts as past the prolog. */
        uint32_t prolog_offset = rva >= primary.begin ? rva - primary.begin : UINT32_MAX;
        uint64_t frame_base = establisher_frame(&s, &info, prolog_offset);
        if (!apply_codes(&s, &info, prolog_offset, frame_base) ||
            !apply_chain(&s, &info, frame_base) || !return_to_caller(&s))
            return fail(s.failure && strstr(s.failure, "memory") ? X64_STACK_MISSING
                                                                : X64_BAD_UNWIND_DATA,
                        s.failure);
    }
    *regs = s.regs;
    x64_unwind_result r = {X64_UNWOUND, s.machine_frame, in_epilog, NULL};
    return r;
}

/* ---- Sources ------------------------------------------------------------ */

static dt_status image_find(const void *ctx, uint32_t rva, dt_runtime_function *entry,
                            dt_runtime_function *primary)
{
    dt_function_lookup lookup;
    dt_status st = dt_image_find_runtime_function(ctx, rva, &lookup);
    if (st == DT_OK) {
        *entry = lookup.entry;
        *primary = lookup.primary;
    }
    return st;
}

static size_t image_read(const void *ctx, uint32_t rva, void *buf, size_t n)
{
    return dt_image_read(ctx, rva, buf, n);
}

x64_unwind_source dt_x64_image_source(const dt_image *image, uint64_t base)
{
    x64_unwind_source s = {base, image_find, image_read, image};
    return s;
}
