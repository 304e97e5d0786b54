/* synth_code: x64 instructions and UNWIND_INFO for one synthetic function. */
#include "synth_code.h"

#include <stdlib.h>
#include <string.h>

enum {
    REG_RSP = 4, REG_R12 = 12,
    CALL_SIZE = 5,
    MAX_FRAME_OFFSET = 240,
    ALLOC_SMALL_MAX = 128,
    ALLOC_LARGE16_MAX = 512 * 1024 - 8,
    /* UNWIND_CODE operations (UnwindOp, low 4 bits of byte 1). */
    UWOP_PUSH_NONVOL = 0, UWOP_ALLOC_LARGE = 1, UWOP_ALLOC_SMALL = 2, UWOP_SET_FPREG = 3,
    UWOP_SAVE_NONVOL = 4, UWOP_SAVE_NONVOL_FAR = 5, UWOP_EPILOG = 6, UWOP_SAVE_XMM128 = 8,
    UWOP_SAVE_XMM128_FAR = 9, UWOP_PUSH_MACHFRAME = 10,
    UNW_FLAG_CHAININFO = 4
};

/* ---- Instruction emitter ---------------------------------------------- */

typedef struct emitter {
    synth_buf bytes;
    synth_insn *insns;
    size_t insn_count;
    bool x86;            /* 32-bit code: filler without REX prefixes */
} emitter;

static uint32_t here(const emitter *e)
{
    return (uint32_t)e->bytes.size;
}

static void emit(emitter *e, const uint8_t *bytes, size_t n, synth_effect effect, uint8_t reg,
                 int32_t value)
{
    synth_insn insn = {here(e), (uint8_t)n, effect, reg, value};
    synth_buf_bytes(&e->bytes, bytes, n);
    e->insns = synth_grow(e->insns, e->insn_count + 1, sizeof *e->insns);
    e->insns[e->insn_count++] = insn;
}

static uint8_t rex_w(uint8_t reg_field, uint8_t rm_field)
{
    return (uint8_t)(0x48 | (reg_field >= 8 ? 4 : 0) | (rm_field >= 8 ? 1 : 0));
}

/* ModRM + SIB + displacement for [rsp + disp]: rm = 100 needs SIB 0x24. */
static size_t rsp_operand(uint8_t *p, uint8_t reg_field, uint32_t disp)
{
    uint8_t mod = disp == 0 ? 0 : disp <= 0x7F ? 1 : 2;
    p[0] = (uint8_t)(mod << 6 | (reg_field & 7) << 3 | 4);
    p[1] = 0x24;
    if (mod == 1) {
        p[2] = (uint8_t)disp;
        return 3;
    }
    if (mod == 2) {
        synth_put_u32(p + 2, disp);
        return 6;
    }
    return 2;
}

static void emit_push(emitter *e, uint8_t reg)
{
    uint8_t b[2] = {0x41, (uint8_t)(0x50 | (reg & 7))}; /* push r64: [REX.B] 50+r */
    emit(e, reg >= 8 ? b : b + 1, reg >= 8 ? 2 : 1, SYNTH_FX_PUSH, reg, 0);
}

static void emit_pop(emitter *e, uint8_t reg)
{
    uint8_t b[2] = {0x41, (uint8_t)(0x58 | (reg & 7))}; /* pop r64: [REX.B] 58+r */
    emit(e, reg >= 8 ? b : b + 1, reg >= 8 ? 2 : 1, SYNTH_FX_POP, reg, 0);
}

/* sub rsp, imm (48 83 EC ib / 48 81 EC id) or add rsp, imm (/0: C4). */
static void emit_rsp_arith(emitter *e, bool add, uint32_t value)
{
    uint8_t b[7] = {0x48, value <= 0x7F ? 0x83 : 0x81, add ? 0xC4 : 0xEC};
    size_t n = 4;
    if (value <= 0x7F) {
        b[3] = (uint8_t)value;
    } else {
        synth_put_u32(b + 3, value);
        n = 7;
    }
    emit(e, b, n, add ? SYNTH_FX_FREE : SYNTH_FX_ALLOC, REG_RSP, (int32_t)value);
}

/* lea reg, [rsp + value] (REX.W 8D /r) or mov reg, rsp (REX.W 8B /r) when 0. */
static void emit_set_fp(emitter *e, uint8_t reg, uint32_t value)
{
    uint8_t b[8] = {rex_w(reg, 0)};
    size_t n;
    if (value == 0) {
        b[1] = 0x8B;
        b[2] = (uint8_t)(0xC0 | (reg & 7) << 3 | REG_RSP);
        n = 3;
    } else {
        b[1] = 0x8D;
        n = 2 + rsp_operand(b + 2, reg, value);
    }
    emit(e, b, n, SYNTH_FX_SET_FP, reg, (int32_t)value);
}

/* lea rsp, [fp + disp8/disp32] (REX.W+B 8D /4): the v1 epilog form. */
static void emit_sp_from_fp(emitter *e, uint8_t fp, int32_t disp)
{
    uint8_t b[7] = {rex_w(REG_RSP, fp), 0x8D};
    bool small = disp >= -128 && disp <= 127;
    b[2] = (uint8_t)((small ? 0x40 : 0x80) | REG_RSP << 3 | (fp & 7));
    size_t n = 4;
    if (small)
        b[3] = (uint8_t)(int8_t)disp;
    else {
        synth_put_u32(b + 3, (uint32_t)disp);
        n = 7;
    }
    emit(e, b, n, SYNTH_FX_SP_FROM_FP, fp, disp);
}

/* mov [rsp + disp], reg (REX.W 89 /r) or mov reg, [rsp + disp] (8B /r). */
static void emit_gpr_slot(emitter *e, bool store, uint8_t reg, uint32_t disp)
{
    uint8_t b[9] = {rex_w(reg, 0), store ? 0x89 : 0x8B};
    size_t n = 2 + rsp_operand(b + 2, reg, disp);
    emit(e, b, n, store ? SYNTH_FX_SAVE : SYNTH_FX_RESTORE, reg, (int32_t)disp);
}

/* movaps [rsp + disp], xmm (0F 29 /r) or movaps xmm, [rsp + disp] (0F 28). */
static void emit_xmm_slot(emitter *e, bool store, uint8_t reg, uint32_t disp)
{
    uint8_t b[10];
    size_t n = 0;
    if (reg >= 8)
        b[n++] = 0x44; /* REX.R */
    b[n++] = 0x0F;
    b[n++] = store ? 0x29 : 0x28;
    n += rsp_operand(b + n, reg, disp);
    emit(e, b, n, store ? SYNTH_FX_SAVE_XMM : SYNTH_FX_RESTORE_XMM, reg, (int32_t)disp);
}

static void emit_call(emitter *e, bool indirect)
{
    static const uint8_t direct[5] = {0xE8, 0, 0, 0, 0}; /* call rel32, linked later */
    static const uint8_t via_rax[2] = {0xFF, 0xD0};       /* call rax (FF /2) */
    if (indirect)
        emit(e, via_rax, sizeof via_rax, SYNTH_FX_CALL, 0, 0);
    else
        emit(e, direct, sizeof direct, SYNTH_FX_CALL, 0, 0);
}

static void emit_ret(emitter *e, bool machine_frame)
{
    static const uint8_t ret[1] = {0xC3}, iretq[2] = {0x48, 0xCF};
    emit(e, machine_frame ? iretq : ret, machine_frame ? 2 : 1, SYNTH_FX_RET, 0, 0);
}

/* Harmless filler: mov rcx,rbx / mov rdx,rdi / mov r8,rsi / test rax,rax,
 * then xor eax,eax and nop for the remainder. None of these starts a v1
 * epilog (add rsp / lea rsp / pop / ret), so a return address followed by
 * filler is never mistaken for one. */
static size_t filler_step(uint8_t *out, size_t count, size_t index)
{
    static const uint8_t three[4][3] = {
        {0x48, 0x8B, 0xCB}, {0x48, 0x8B, 0xD7}, {0x4C, 0x8B, 0xC6}, {0x48, 0x85, 0xC0}};
    if (count >= 3) {
        memcpy(out, three[index % 4], 3);
        return 3;
    }
    if (count == 2) {
        out[0] = 0x33;
        out[1] = 0xC0;
        return 2;
    }
    out[0] = 0x90;
    return 1;
}

/* x86 filler: mov ecx,ebx / test eax,eax / mov edx,edi, then nop. */
static size_t filler_step_x86(uint8_t *out, size_t count, size_t index)
{
    static const uint8_t two[3][2] = {{0x8B, 0xCB}, {0x85, 0xC0}, {0x8B, 0xD7}};
    if (count >= 2) {
        memcpy(out, two[index % 3], 2);
        return 2;
    }
    out[0] = 0x90;
    return 1;
}

static void emit_filler(emitter *e, uint32_t count)
{
    for (size_t done = 0, i = 0; done < count; i++) {
        uint8_t b[3];
        size_t n = e->x86 ? filler_step_x86(b, count - done, i) : filler_step(b, count - done, i);
        emit(e, b, n, SYNTH_FX_NONE, 0, 0);
        done += n;
    }
}

static void emit_filler_to(emitter *e, uint32_t offset, const char *what)
{
    if (offset < here(e))
        synth_fail("%s at offset 0x%x overlaps code ending at 0x%x", what, offset, here(e));
    emit_filler(e, offset - here(e));
}

/* ---- Frame description ------------------------------------------------- */

/* The frame a prolog builds, in bytes below the entry stack pointer. */
typedef struct frame_plan {
    uint32_t push_depth;   /* bytes pushed */
    uint32_t final_depth;  /* after every push and allocation */
    uint32_t est_depth;    /* depth of the establisher frame */
    bool has_fp;
    uint8_t fp_reg;
    uint32_t fp_offset;    /* frame register = rsp at SET_FPREG + fp_offset */
    uint32_t fp_depth;     /* entry - frame register */
    bool machine_frame;
} frame_plan;

/* Ordering rules: pushes before allocations (so one add rsp / lea rsp and
 * the pops undo them), saves after allocations (slots are addressed from
 * the final stack pointer), a machine frame first. */
static void check_op(const synth_op *op, size_t index, bool seen_alloc, bool seen_save)
{
    switch (op->kind) {
    case SYNTH_OP_PUSH:
        if (seen_alloc)
            synth_fail("op %zu: PUSH after ALLOC cannot be undone by a v1 epilog", index);
        break;
    case SYNTH_OP_ALLOC:
        if (seen_save)
            synth_fail("op %zu: ALLOC after a SAVE is not supported", index);
        if (op->value == 0 || op->value % 8)
            synth_fail("op %zu: allocation of %u is not a positive multiple of 8", index,
                       op->value);
        break;
    case SYNTH_OP_SET_FPREG:
        if (op->reg == REG_RSP || op->reg == REG_R12 || op->reg > 15)
            synth_fail("op %zu: register %u cannot be the frame register", index, op->reg);
        if (op->value % 16 || op->value > MAX_FRAME_OFFSET)
            synth_fail("op %zu: frame offset %u is not a multiple of 16 up to 240", index,
                       op->value);
        break;
    case SYNTH_OP_SAVE:
    case SYNTH_OP_SAVE_XMM:
        if (op->value % (op->kind == SYNTH_OP_SAVE ? 8 : 16))
            synth_fail("op %zu: save offset %u is misaligned", index, op->value);
        break;
    case SYNTH_OP_MACHFRAME:
        if (index != 0)
            synth_fail("op %zu: PUSH_MACHFRAME must be the first operation", index);
        break;
    }
    if (op->reg > 15)
        synth_fail("op %zu: register %u out of range", index, op->reg);
}

/* Validates the ops and computes the frame they build. */
static frame_plan plan_frame(const synth_function *f)
{
    frame_plan p = {0};
    bool seen_alloc = false, seen_fp = false, seen_save = false;
    for (size_t i = 0; i < f->op_count; i++) {
        const synth_op *op = &f->ops[i];
        check_op(op, i, seen_alloc, seen_save);
        switch (op->kind) {
        case SYNTH_OP_PUSH:
            p.push_depth += 8;
            p.final_depth += 8;
            break;
        case SYNTH_OP_ALLOC:
            seen_alloc = true;
            p.final_depth += op->value;
            break;
        case SYNTH_OP_SET_FPREG:
            if (seen_fp)
                synth_fail("function %s sets the frame register twice", f->name);
            seen_fp = p.has_fp = true;
            p.fp_reg = op->reg;
            p.fp_offset = op->value;
            p.est_depth = p.final_depth;
            p.fp_depth = p.final_depth - op->value;
            break;
        case SYNTH_OP_SAVE:
        case SYNTH_OP_SAVE_XMM:
            seen_save = true;
            break;
        case SYNTH_OP_MACHFRAME:
            p.machine_frame = true;
            break;
        }
    }
    if (!p.has_fp)
        p.est_depth = p.final_depth;
    for (size_t i = 0; p.has_fp && i < f->op_count; i++)
        if (f->ops[i].kind == SYNTH_OP_SAVE && f->ops[i].reg == p.fp_reg)
            synth_fail("function %s: the frame register must be pushed, not saved", f->name);
    return p;
}

/* Displacement from the current rsp of a slot `value` bytes above the
 * establisher frame, when `depth` bytes are allocated below the entry. */
static uint32_t slot_disp(const frame_plan *p, uint32_t depth, uint32_t value)
{
    return value + (depth - p->est_depth);
}

/* ---- Prolog, body, epilog ---------------------------------------------- */

/* Emits the prolog instructions; records each op's end offset. */
static void emit_prolog(emitter *e, const synth_function *f, const frame_plan *p,
                        uint32_t start_depth, uint32_t *code_offsets)
{
    uint32_t depth = start_depth;
    for (size_t i = 0; i < f->op_count; i++) {
        const synth_op *op = &f->ops[i];
        switch (op->kind) {
        case SYNTH_OP_PUSH:
            emit_push(e, op->reg);
            depth += 8;
            break;
        case SYNTH_OP_ALLOC:
            emit_rsp_arith(e, false, op->value);
            depth += op->value;
            break;
        case SYNTH_OP_SET_FPREG:
            emit_set_fp(e, op->reg, op->value);
            break;
        case SYNTH_OP_SAVE:
            emit_gpr_slot(e, true, op->reg, slot_disp(p, depth, op->value));
            break;
        case SYNTH_OP_SAVE_XMM:
            emit_xmm_slot(e, true, op->reg, slot_disp(p, depth, op->value));
            break;
        case SYNTH_OP_MACHFRAME:
            break; /* pushed by the processor before the first instruction */
        }
        code_offsets[i] = here(e);
    }
}

/* Restores of SAVE / SAVE_XMM slots, last saved first. */
static void emit_restores(emitter *e, const synth_function *f, const frame_plan *p)
{
    for (size_t i = f->op_count; i-- > 0;) {
        const synth_op *op = &f->ops[i];
        uint32_t disp = slot_disp(p, p->final_depth, op->value);
        if (op->kind == SYNTH_OP_SAVE)
            emit_gpr_slot(e, false, op->reg, disp);
        else if (op->kind == SYNTH_OP_SAVE_XMM)
            emit_xmm_slot(e, false, op->reg, disp);
    }
}

static void emit_pops(emitter *e, const synth_function *f)
{
    for (size_t i = f->op_count; i-- > 0;)
        if (f->ops[i].kind == SYNTH_OP_PUSH)
            emit_pop(e, f->ops[i].reg);
}

/* An epilog: restores (fragment's own first), the stack adjustment, pops
 * and ret. Returns the offset of its first pop (or of the ret). */
static uint32_t emit_epilog(emitter *e, const synth_function *f, const synth_function *primary,
                            const frame_plan *p, synth_code *code)
{
    synth_range range = {here(e), 0};
    if (f != primary)
        emit_restores(e, f, p);
    emit_restores(e, primary, p);
    if (p->final_depth > p->push_depth) {
        if (p->has_fp)
            emit_sp_from_fp(e, p->fp_reg, (int32_t)p->fp_depth - (int32_t)p->push_depth);
        else
            emit_rsp_arith(e, true, p->final_depth - p->push_depth);
    }
    uint32_t first_pop = here(e);
    emit_pops(e, primary);
    emit_ret(e, p->machine_frame);
    range.end = here(e);
    code->epilogs = synth_grow(code->epilogs, code->epilog_count + 1, sizeof *code->epilogs);
    code->epilogs[code->epilog_count++] = range;
    return first_pop;
}

static int compare_calls(const void *a, const void *b)
{
    uint32_t x = ((const synth_call *)a)->return_offset, y = ((const synth_call *)b)->return_offset;
    return x < y ? -1 : x > y;
}

/* Call sites ending at each return offset, in ascending order. */
static void emit_calls(emitter *e, synth_code *code, const synth_call *calls, size_t count)
{
    code->calls = synth_alloc((count ? count : 1) * sizeof *code->calls);
    memcpy(code->calls, calls, count * sizeof *calls);
    qsort(code->calls, count, sizeof *code->calls, compare_calls);
    code->call_count = count;
    for (size_t i = 0; i < count; i++) {
        uint32_t r = code->calls[i].return_offset;
        uint32_t size = code->calls[i].indirect ? 2 : CALL_SIZE;
        if (r < size || (i > 0 && r == code->calls[i - 1].return_offset))
            synth_fail("call site returning at 0x%x is invalid or repeated", r);
        emit_filler_to(e, r - size, "call site");
        emit_call(e, code->calls[i].indirect);
    }
}

/* Body and epilogs of a frame function (primary or fragment). */
static void emit_body_and_epilogs(emitter *e, const synth_function *f,
                                  const synth_function *primary, const frame_plan *p,
                                  const synth_call *calls, size_t count, synth_code *code)
{
    emit_calls(e, code, calls, count);
    emit_filler(e, 2); /* a call is never directly followed by an epilog */
    for (uint8_t i = 0; i < f->extra_epilogs; i++) {
        emit_epilog(e, f, primary, p, code);
        emit_filler(e, 3);
    }
    /* Size the final epilog by emitting it into a scratch emitter first. */
    emitter probe = {0};
    synth_code scratch = {0};
    emit_epilog(&probe, f, primary, p, &scratch);
    uint32_t epilog_size = here(&probe);
    synth_buf_free(&probe.bytes);
    free(probe.insns);
    free(scratch.epilogs);
    if (f->min_size > here(e) + epilog_size)
        emit_filler(e, f->min_size - here(e) - epilog_size);
    uint32_t first_pop = emit_epilog(e, f, primary, p, code);
    code->epilog_v2_start = first_pop - code->epilogs[code->epilog_count - 1].start;
}

static void emit_syscall_stub(emitter *e, uint32_t number)
{
    static const uint8_t mov_r10_rcx[3] = {0x4C, 0x8B, 0xD1}; /* mov r10, rcx */
    static const uint8_t syscall_op[2] = {0x0F, 0x05};        /* syscall */
    uint8_t mov_eax[5] = {0xB8};                               /* mov eax, imm32 */
    synth_put_u32(mov_eax + 1, number);
    emit(e, mov_r10_rcx, 3, SYNTH_FX_NONE, 0, 0);
    emit(e, mov_eax, 5, SYNTH_FX_NONE, 0, 0);
    emit(e, syscall_op, 2, SYNTH_FX_NONE, 0, 0);
    emit_ret(e, false);
}

static void generate_leaf(emitter *e, const synth_function *f, size_t return_count)
{
    if (return_count)
        synth_fail("leaf function %s cannot contain call sites", f->name);
    if (f->kind == SYNTH_FUNC_SYSCALL) {
        emit_syscall_stub(e, f->syscall_number);
        return;
    }
    emit_filler(e, f->min_size > 1 ? f->min_size - 1 : 0);
    emit_ret(e, false);
}

static void check_fragment(const synth_function *f, const synth_function *parent)
{
    if (!parent || parent->fragment != SYNTH_PRIMARY || parent->kind != SYNTH_FUNC_FRAME)
        synth_fail("fragment %s needs a primary frame function as parent", f->name);
    for (size_t i = 0; i < f->op_count; i++)
        if (f->fragment == SYNTH_INDIRECT ||
            (f->ops[i].kind != SYNTH_OP_SAVE && f->ops[i].kind != SYNTH_OP_SAVE_XMM))
            synth_fail("fragment %s: only a chained fragment may have ops, and only saves",
                       f->name);
}

void synth_code_generate(const synth_function *f, const synth_function *parent,
                         const synth_call *calls, size_t call_count, synth_code *out)
{
    memset(out, 0, sizeof *out);
    emitter e = {0};
    if (f->kind != SYNTH_FUNC_FRAME) {
        generate_leaf(&e, f, call_count);
    } else {
        const synth_function *primary = f->fragment == SYNTH_PRIMARY ? f : parent;
        if (f->fragment != SYNTH_PRIMARY)
            check_fragment(f, parent);
        frame_plan p = plan_frame(primary);
        uint32_t *offsets = synth_alloc((f->op_count + 1) * sizeof *offsets);
        emit_prolog(&e, f, &p, f == primary ? 0 : p.final_depth, offsets);
        free(offsets);
        out->prolog_size = here(&e);
        emit_body_and_epilogs(&e, f, primary, &p, calls, call_count, out);
    }
    out->size = (uint32_t)e.bytes.size;
    out->bytes = synth_buf_take(&e.bytes, &(size_t){0});
    out->insns = e.insns;
    out->insn_count = e.insn_count;
}

/* ---- x86 (PE32) ------------------------------------------------------------ */

/* sub esp, imm (83 EC ib / 81 EC id) or add esp, imm (83 C4 / 81 C4). */
static void emit_esp_arith_x86(emitter *e, bool add, uint32_t value)
{
    uint8_t b[6] = {value <= 0x7F ? 0x83 : 0x81, add ? 0xC4 : 0xEC};
    size_t n = 3;
    if (value <= 0x7F) {
        b[2] = (uint8_t)value;
    } else {
        synth_put_u32(b + 2, value);
        n = 6;
    }
    emit(e, b, n, add ? SYNTH_FX_FREE : SYNTH_FX_ALLOC, REG_RSP, (int32_t)value);
}

static void emit_prolog_x86(emitter *e, const synth_function *f)
{
    static const uint8_t mov_ebp_esp[2] = {0x8B, 0xEC};
    for (size_t i = 0; i < f->op_count; i++) {
        const synth_op *op = &f->ops[i];
        uint8_t push = (uint8_t)(0x50 | (op->reg & 7)); /* push r32: 50+r */
        if (op->kind == SYNTH_OP_PUSH && op->reg < 8)
            emit(e, &push, 1, SYNTH_FX_PUSH, op->reg, 0);
        else if (op->kind == SYNTH_OP_ALLOC)
            emit_esp_arith_x86(e, false, op->value);
        else if (op->kind == SYNTH_OP_SET_FPREG && op->reg == 5 && op->value == 0)
            emit(e, mov_ebp_esp, 2, SYNTH_FX_SET_FP, 5, 0);
        else
            synth_fail("x86 function %s: op %zu cannot be encoded", f->name, i);
    }
}

/* Undoes the prolog in reverse; an allocation made after ebp was set is
 * undone by mov esp, ebp. */
static void emit_epilog_x86(emitter *e, const synth_function *f, synth_code *code)
{
    static const uint8_t mov_esp_ebp[2] = {0x8B, 0xE5}, ret[1] = {0xC3};
    synth_range range = {here(e), 0};
    bool fp_before = false;
    for (size_t i = f->op_count; i-- > 0;) {
        const synth_op *op = &f->ops[i];
        uint8_t pop = (uint8_t)(0x58 | (op->reg & 7)); /* pop r32: 58+r */
        fp_before = false;
        for (size_t k = 0; k < i; k++)
            fp_before |= f->ops[k].kind == SYNTH_OP_SET_FPREG;
        if (op->kind == SYNTH_OP_PUSH)
            emit(e, &pop, 1, SYNTH_FX_POP, op->reg, 0);
        else if (op->kind == SYNTH_OP_ALLOC && !fp_before)
            emit_esp_arith_x86(e, true, op->value);
        else if (op->kind == SYNTH_OP_SET_FPREG)
            emit(e, mov_esp_ebp, 2, SYNTH_FX_SP_FROM_FP, 5, 0);
    }
    emit(e, ret, 1, SYNTH_FX_RET, 0, 0);
    range.end = here(e);
    code->epilogs = synth_grow(code->epilogs, code->epilog_count + 1, sizeof *code->epilogs);
    code->epilogs[code->epilog_count++] = range;
}

/* mov eax, n; mov edx, 7FFE0300h (SharedUserData!SystemCallStub);
 * call dword ptr [edx]; ret imm16 (or ret). */
static void emit_syscall_stub_x86(emitter *e, uint32_t number, uint32_t param_size)
{
    uint8_t mov_eax[5] = {0xB8}, mov_edx[5] = {0xBA}, ret[3] = {0xC2};
    static const uint8_t call_edx[2] = {0xFF, 0x12}, plain_ret[1] = {0xC3};
    synth_put_u32(mov_eax + 1, number);
    synth_put_u32(mov_edx + 1, 0x7FFE0300);
    synth_put_u16(ret + 1, (uint16_t)param_size);
    emit(e, mov_eax, 5, SYNTH_FX_NONE, 0, 0);
    emit(e, mov_edx, 5, SYNTH_FX_NONE, 0, 0);
    emit(e, call_edx, 2, SYNTH_FX_NONE, 0, 0);
    if (param_size)
        emit(e, ret, 3, SYNTH_FX_RET, 0, 0);
    else
        emit(e, plain_ret, 1, SYNTH_FX_RET, 0, 0);
}

void synth_code_generate_x86(const synth_function *f, const synth_call *calls, size_t call_count,
                             synth_code *out)
{
    memset(out, 0, sizeof *out);
    if (f->fragment != SYNTH_PRIMARY)
        synth_fail("x86 function %s: fragments need x64 unwind data", f->name);
    emitter e = {.x86 = true};
    if (f->kind == SYNTH_FUNC_SYSCALL) {
        if (call_count)
            synth_fail("syscall stub %s cannot contain call sites", f->name);
        emit_syscall_stub_x86(&e, f->syscall_number, f->param_size);
    } else if (f->kind == SYNTH_FUNC_LEAF) {
        generate_leaf(&e, f, call_count);
    } else {
        emit_prolog_x86(&e, f);
        out->prolog_size = here(&e);
        emit_calls(&e, out, calls, call_count);
        emit_filler(&e, 2);
        for (uint8_t i = 0; i < f->extra_epilogs; i++) {
            emit_epilog_x86(&e, f, out);
            emit_filler(&e, 3);
        }
        emitter probe = {.x86 = true};
        synth_code scratch = {0};
        emit_epilog_x86(&probe, f, &scratch);
        if (f->min_size > here(&e) + here(&probe))
            emit_filler(&e, f->min_size - here(&e) - here(&probe));
        synth_buf_free(&probe.bytes);
        free(probe.insns);
        free(scratch.epilogs);
        emit_epilog_x86(&e, f, out);
    }
    out->size = here(&e);
    out->bytes = synth_buf_take(&e.bytes, &(size_t){0});
    out->insns = e.insns;
    out->insn_count = e.insn_count;
}

void synth_code_free(synth_code *code)
{
    free(code->bytes);
    free(code->insns);
    free(code->epilogs);
    free(code->calls);
    memset(code, 0, sizeof *code);
}

long synth_code_call_at(const synth_code *code, uint32_t return_offset)
{
    for (size_t i = 0; i < code->call_count; i++)
        if (code->calls[i].return_offset == return_offset && !code->calls[i].indirect)
            return (long)return_offset - CALL_SIZE;
    return -1;
}

bool synth_function_has_unwind(const synth_function *f)
{
    return f->kind == SYNTH_FUNC_FRAME;
}

/* ---- UNWIND_INFO --------------------------------------------------------- */

/* UNWIND_CODE slots, kept per op so they can be reversed op by op. */
typedef struct code_group {
    uint16_t slots[3];
    uint8_t count;
} code_group;

/* UNWIND_CODE: byte 0 CodeOffset, byte 1 UnwindOp (low 4 bits) and OpInfo
 * (high 4 bits); operand slots follow as little-endian u16. */
static uint16_t unwind_code(uint32_t code_offset, unsigned op, unsigned info)
{
    if (code_offset > 0xFF)
        synth_fail("prolog offset 0x%x does not fit UNWIND_CODE.CodeOffset", code_offset);
    return (uint16_t)(code_offset | (op | info << 4) << 8);
}

static code_group wide_value_group(uint16_t first, uint32_t value)
{
    return (code_group){{first, (uint16_t)value, (uint16_t)(value >> 16)}, 3};
}

/* ALLOC_SMALL: info = size / 8 - 1. ALLOC_LARGE info 0: next slot = size / 8;
 * info 1: next two slots = 32-bit unscaled size. */
static code_group alloc_group(const synth_op *op, uint32_t at)
{
    bool far = op->encoding == SYNTH_ENC_FAR || op->value > ALLOC_LARGE16_MAX;
    if (op->encoding == SYNTH_ENC_AUTO && op->value <= ALLOC_SMALL_MAX)
        return (code_group){{unwind_code(at, UWOP_ALLOC_SMALL, op->value / 8 - 1)}, 1};
    if (far)
        return wide_value_group(unwind_code(at, UWOP_ALLOC_LARGE, 1), op->value);
    return (code_group){{unwind_code(at, UWOP_ALLOC_LARGE, 0), (uint16_t)(op->value / 8)}, 2};
}

/* SAVE_NONVOL: next slot = offset / 8; SAVE_XMM128: offset / 16; the _FAR
 * forms: next two slots = 32-bit unscaled offset. */
static code_group save_group(const synth_op *op, uint32_t at)
{
    bool xmm = op->kind == SYNTH_OP_SAVE_XMM;
    uint32_t scale = xmm ? 16 : 8;
    bool far = op->encoding == SYNTH_ENC_FAR || op->value / scale > 0xFFFF;
    if (far)
        return wide_value_group(
            unwind_code(at, xmm ? UWOP_SAVE_XMM128_FAR : UWOP_SAVE_NONVOL_FAR, op->reg), op->value);
    return (code_group){{unwind_code(at, xmm ? UWOP_SAVE_XMM128 : UWOP_SAVE_NONVOL, op->reg),
                         (uint16_t)(op->value / scale)}, 2};
}

static code_group op_group(const synth_op *op, uint32_t at)
{
    switch (op->kind) {
    case SYNTH_OP_PUSH:
        return (code_group){{unwind_code(at, UWOP_PUSH_NONVOL, op->reg)}, 1};
    case SYNTH_OP_ALLOC:
        return alloc_group(op, at);
    case SYNTH_OP_SET_FPREG:
        return (code_group){{unwind_code(at, UWOP_SET_FPREG, 0)}, 1};
    case SYNTH_OP_SAVE:
    case SYNTH_OP_SAVE_XMM:
        return save_group(op, at);
    case SYNTH_OP_MACHFRAME:
        return (code_group){{unwind_code(0, UWOP_PUSH_MACHFRAME, op->reg ? 1 : 0)}, 1};
    }
    synth_fail("unknown op kind %d", (int)op->kind);
}

/* Version 2 epilog codes: the first gives the common epilog size (from the
 * first pop through the ret) and, in OpInfo bit 0, that one epilog ends the
 * function; each further code gives another epilog's distance from the
 * function end (CodeOffset = low 8 bits, OpInfo = high 4 bits). They come in
 * pairs (a zero code pads), as the unwinder skips them two slots at a time. */
static size_t epilog_codes(const synth_code *code, uint16_t *out)
{
    size_t n = 0;
    const synth_range *last = &code->epilogs[code->epilog_count - 1];
    uint32_t size = code->size - (last->start + code->epilog_v2_start);
    out[n++] = unwind_code(size, UWOP_EPILOG, 1);
    for (size_t i = 0; i + 1 < code->epilog_count; i++) {
        uint32_t distance = code->size - (code->epilogs[i].start + code->epilog_v2_start);
        if (distance > 0xFFF)
            synth_fail("epilog 0x%x bytes before the end is too far for a v2 code", distance);
        out[n++] = (uint16_t)((distance & 0xFF) | (UWOP_EPILOG | (distance >> 8) << 4) << 8);
    }
    if (n % 2)
        out[n++] = (uint16_t)(UWOP_EPILOG << 8);
    return n;
}

void synth_code_op_offsets(const synth_function *f, const synth_code *code, uint32_t *offsets)
{
    size_t insn = 0;
    for (size_t i = 0; i < f->op_count; i++) {
        if (f->ops[i].kind != SYNTH_OP_MACHFRAME)
            insn++;
        offsets[i] = insn ? code->insns[insn - 1].offset + code->insns[insn - 1].size : 0;
    }
}

/* UNWIND_INFO: byte 0 Version (bits 0-2) and Flags (bits 3-7), byte 1
 * SizeOfProlog, byte 2 CountOfCodes, byte 3 FrameRegister (low 4 bits) and
 * FrameOffset (high 4 bits, scaled by 16); UNWIND_CODE[CountOfCodes] padded
 * to an even count; then, with UNW_FLAG_CHAININFO, the parent's
 * RUNTIME_FUNCTION {BeginAddress, EndAddress, UnwindData}. */
void synth_code_unwind_info(const synth_function *f, const synth_function *parent,
                            const synth_code *code, synth_buf *out, size_t *chain_at)
{
    if (!synth_function_has_unwind(f) || f->fragment == SYNTH_INDIRECT)
        synth_fail("function %s has no UNWIND_INFO of its own", f->name);
    const synth_function *primary = f->fragment == SYNTH_PRIMARY ? f : parent;
    frame_plan p = plan_frame(primary);
    uint8_t version = f->unwind_version ? f->unwind_version : 1;
    uint16_t slots[256 + 32];
    size_t n = version >= 2 ? epilog_codes(code, slots) : 0;
    uint32_t *offsets = synth_alloc((f->op_count + 1) * sizeof *offsets);
    synth_code_op_offsets(f, code, offsets);
    for (size_t i = f->op_count; i-- > 0;) {
        code_group g = op_group(&f->ops[i], offsets[i]);
        for (uint8_t k = 0; k < g.count; k++)
            slots[n++] = g.slots[k];
    }
    free(offsets);
    if (n > 255 || code->prolog_size > 255)
        synth_fail("function %s: %zu unwind codes / prolog of %u bytes do not fit", f->name, n,
                   code->prolog_size);
    uint8_t flags = f->fragment == SYNTH_CHAINED ? UNW_FLAG_CHAININFO : 0;
    synth_buf_align(out, 4, 0);
    size_t start = synth_buf_u8(out, (uint8_t)(version | flags << 3));
    synth_buf_u8(out, (uint8_t)code->prolog_size);
    synth_buf_u8(out, (uint8_t)n);
    synth_buf_u8(out, p.has_fp ? (uint8_t)(p.fp_reg | (p.fp_offset / 16) << 4) : 0);
    for (size_t i = 0; i < n; i++)
        synth_buf_u16(out, slots[i]);
    if (n % 2)
        synth_buf_u16(out, 0);
    *chain_at = f->fragment == SYNTH_CHAINED ? synth_buf_reserve(out, 12) : 0;
    while (out->size - start < 8)
        synth_buf_u8(out, 0); /* UNWIND_INFO is at least 8 bytes */
}
