/* synth_stack: x64 stacks laid out by replaying prologs and calls. */
#include "synth_stack.h"

#include <stdlib.h>
#include <string.h>

enum {
    REG_RAX = 0, REG_RCX = 1, REG_RDX = 2, REG_RSP = 4, REG_R8 = 8, REG_R9 = 9,
    REG_R10 = 10, REG_R11 = 11,
    OUTERMOST_CFA_GAP = 0x38, /* thread start: CFA = base - 0x38 (8 mod 16) */
    STALE_AREA = 0x100,       /* bytes kept below the innermost stack pointer */
    MACHINE_FRAME_SIZE = 40,  /* RIP, CS, EFLAGS, RSP, SS */
    USER_CS = 0x33, USER_SS = 0x2B, USER_EFLAGS = 0x246
};

int synth_is_nonvolatile(unsigned reg)
{
    /* RBX, RBP, RSI, RDI, R12-R15 (RSP is tracked separately). */
    return reg == 3 || reg == 5 || reg == 6 || reg == 7 || (reg >= 12 && reg <= 15);
}

/* ---- Deterministic values ------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull; /* splitmix64 finalizer */
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t hash3(uint32_t seed, uint64_t a, uint64_t b)
{
    return mix(mix((uint64_t)seed << 32 ^ a) ^ b);
}

/* A heap-like pointer, 8-aligned, in [0x10000000, 0x20000000): outside the
 * modules, JIT regions and stacks the scenarios use. */
static uint64_t data_value(uint32_t seed, uint64_t a, uint64_t b)
{
    return 0x10000000 + (hash3(seed, a, b) % 0x10000000 & ~(uint64_t)7);
}

/* ---- Stack memory ------------------------------------------------------------ */

typedef struct stack_mem {
    uint64_t start;
    uint8_t *bytes;
    size_t size;
    uint8_t *kept;   /* per slot: written by a prolog, not to be filled */
    unsigned word;   /* slot size: 8 (x64) or 4 (x86) */
} stack_mem;

static size_t mem_index(const stack_mem *m, uint64_t address, size_t n)
{
    if (address < m->start || address - m->start > m->size || n > m->size - (address - m->start))
        synth_fail("stack access of %zu bytes at 0x%llx is outside [0x%llx, 0x%llx)", n,
                   (unsigned long long)address, (unsigned long long)m->start,
                   (unsigned long long)(m->start + m->size));
    return (size_t)(address - m->start);
}

static void mem_store(stack_mem *m, uint64_t address, uint64_t value, bool keep)
{
    size_t i = mem_index(m, address, m->word);
    if (m->word == 4)
        synth_put_u32(m->bytes + i, (uint32_t)value);
    else
        synth_put_u64(m->bytes + i, value);
    if (keep && i % m->word == 0)
        m->kept[i / m->word] = 1;
}

static uint64_t mem_load(const stack_mem *m, uint64_t address)
{
    size_t i = mem_index(m, address, m->word);
    return m->word == 4 ? synth_get_u32(m->bytes + i) : synth_get_u64(m->bytes + i);
}

/* ---- Replaying a frame ---------------------------------------------------- */

/* Register state during replay; `mem` is NULL in the layout pass. */
typedef struct sim {
    stack_mem *mem;
    uint64_t regs[16];
    uint64_t xmm[16][2];
    uint64_t rsp;
    unsigned word;   /* push and pop size */
} sim;

static void store(sim *s, uint64_t address, uint64_t value)
{
    if (s->mem)
        mem_store(s->mem, address, value, true);
}

static uint64_t load(const sim *s, uint64_t address)
{
    return s->mem ? mem_load(s->mem, address) : 0;
}

/* Applies one instruction's effect (synth_insn documents each). */
static void apply(sim *s, const synth_insn *in)
{
    uint64_t at = s->rsp + (uint64_t)(int64_t)in->value;
    switch (in->effect) {
    case SYNTH_FX_PUSH:
        s->rsp -= s->word;
        store(s, s->rsp, s->regs[in->reg]);
        break;
    case SYNTH_FX_POP:
        s->regs[in->reg] = load(s, s->rsp);
        s->rsp += s->word;
        break;
    case SYNTH_FX_ALLOC: s->rsp -= (uint32_t)in->value; break;
    case SYNTH_FX_FREE: s->rsp += (uint32_t)in->value; break;
    case SYNTH_FX_SET_FP: s->regs[in->reg] = at; break;
    case SYNTH_FX_SP_FROM_FP: s->rsp = s->regs[in->reg] + (uint64_t)(int64_t)in->value; break;
    case SYNTH_FX_SAVE: store(s, at, s->regs[in->reg]); break;
    case SYNTH_FX_RESTORE: s->regs[in->reg] = load(s, at); break;
    case SYNTH_FX_SAVE_XMM:
        store(s, at, s->xmm[in->reg][0]);
        store(s, at + 8, s->xmm[in->reg][1]);
        break;
    case SYNTH_FX_RESTORE_XMM:
        s->xmm[in->reg][0] = load(s, at);
        s->xmm[in->reg][1] = load(s, at + 8);
        break;
    default:
        break;
    }
}

/* Prolog instructions that completed before `offset`. */
static void replay_prolog(sim *s, const synth_code *code, uint32_t offset)
{
    for (size_t i = 0; i < code->insn_count; i++) {
        const synth_insn *in = &code->insns[i];
        if (in->offset < code->prolog_size && in->offset + in->size <= offset)
            apply(s, in);
    }
}

/* Epilog instructions that completed before `offset`, if it is in one. */
static void replay_epilog(sim *s, const synth_code *code, uint32_t offset)
{
    for (size_t e = 0; e < code->epilog_count; e++) {
        const synth_range *r = &code->epilogs[e];
        if (offset < r->start || offset >= r->end)
            continue;
        for (size_t i = 0; i < code->insn_count; i++) {
            const synth_insn *in = &code->insns[i];
            if (in->offset >= r->start && in->offset + in->size <= offset)
                apply(s, in);
        }
    }
}

/* After its prolog a function uses the registers it saved: they get new
 * values (the frame register already holds the frame pointer). */
static void clobber_saved(sim *s, const synth_function *f, uint32_t seed, size_t frame)
{
    for (size_t i = 0; i < f->op_count; i++) {
        const synth_op *op = &f->ops[i];
        if (op->kind == SYNTH_OP_PUSH || op->kind == SYNTH_OP_SAVE) {
            bool is_fp = false;
            for (size_t k = 0; k < f->op_count; k++)
                is_fp |= f->ops[k].kind == SYNTH_OP_SET_FPREG && f->ops[k].reg == op->reg;
            if (!is_fp)
                s->regs[op->reg] = data_value(seed, frame, op->reg);
        } else if (op->kind == SYNTH_OP_SAVE_XMM) {
            s->xmm[op->reg][0] = hash3(seed, frame, 100 + op->reg);
            s->xmm[op->reg][1] = hash3(seed, frame, 200 + op->reg);
        }
    }
}

/* Runs frame `f` from its entry (rsp = cfa) to its offset. */
static void replay_frame(sim *s, const synth_frame *f, uint64_t cfa, uint32_t seed, size_t index)
{
    int primary = synth_text_primary(f->text, f->function);
    const synth_code *code = synth_text_code(f->text, f->function);
    s->rsp = cfa;
    if (primary != f->function) {
        const synth_code *pc = synth_text_code(f->text, primary);
        replay_prolog(s, pc, pc->prolog_size);
        clobber_saved(s, synth_text_function(f->text, primary), seed, index);
    }
    replay_prolog(s, code, f->offset);
    if (f->offset >= code->prolog_size)
        clobber_saved(s, synth_text_function(f->text, f->function), seed, index);
    replay_epilog(s, code, f->offset);
}

/* ---- Layout --------------------------------------------------------------------- */

static bool has_machine_frame(const synth_frame *f)
{
    const synth_function *fn =
        synth_text_function(f->text, synth_text_primary(f->text, f->function));
    return fn->op_count > 0 && fn->ops[0].kind == SYNTH_OP_MACHFRAME;
}

static uint32_t machine_frame_size(const synth_frame *f)
{
    const synth_function *fn =
        synth_text_function(f->text, synth_text_primary(f->text, f->function));
    return MACHINE_FRAME_SIZE + (fn->ops[0].reg ? 8 : 0);
}

static uint64_t frame_pc(const synth_frame *f)
{
    return synth_text_function_address(f->text, f->function) + f->offset;
}

/* The caller at `outer` must call the callee's primary entry there. */
static void check_call(const synth_frame *outer, const synth_frame *callee)
{
    synth_target target;
    bool indirect;
    const synth_function *caller = synth_text_function(outer->text, outer->function);
    if (caller->kind == SYNTH_FUNC_SYSCALL && synth_text_slot_size(outer->text) == 4)
        return; /* x86 stub: call [edx] into SharedUserData!SystemCallStub */
    if (!synth_text_call_target(outer->text, outer->function, outer->offset, &target, &indirect))
        synth_fail("%s+0x%x is not a call site", caller->name, outer->offset);
    if (indirect)
        return;
    int primary = synth_text_primary(callee->text, callee->function);
    if (synth_target_address(target) != synth_text_function_address(callee->text, primary))
        synth_fail("%s+0x%x does not call %s", caller->name, outer->offset,
                   synth_text_function(callee->text, primary)->name);
}

static unsigned word_size(const synth_stack_spec *spec)
{
    return spec->cpu == SYNTH_CPU_X86 ? 4 : 8;
}

/* CFA (entry stack pointer) of frame k-1, from frame k's stack pointer. */
static uint64_t callee_cfa(const synth_frame *callee, uint64_t caller_rsp, unsigned word)
{
    if (has_machine_frame(callee))
        return (caller_rsp & ~(uint64_t)15) - machine_frame_size(callee);
    return caller_rsp - word;
}

/* Layout pass: each frame's CFA and stack pointer, outermost first. */
static void layout(const synth_stack_spec *spec, uint64_t *cfa, uint64_t *rsp)
{
    size_t n = spec->frame_count;
    cfa[n - 1] = spec->stack_base - OUTERMOST_CFA_GAP;
    for (size_t k = n; k-- > 0;) {
        sim s = {.word = word_size(spec)};
        replay_frame(&s, &spec->frames[k], cfa[k], spec->seed, k);
        rsp[k] = s.rsp;
        if (k == 0)
            break;
        if (!has_machine_frame(&spec->frames[k - 1]))
            check_call(&spec->frames[k], &spec->frames[k - 1]);
        cfa[k - 1] = callee_cfa(&spec->frames[k - 1], rsp[k], word_size(spec));
    }
}

/* ---- Filling ------------------------------------------------------------------------ */

static uint64_t decoy(const synth_stack_spec *spec, uint64_t a, uint64_t b)
{
    if (spec->decoy_count == 0)
        return data_value(spec->seed, a, b);
    return spec->decoys[hash3(spec->seed, a, b ^ 0xDEC0) % spec->decoy_count];
}

/* Stale contents of [lo, hi): a decoy at the lowest slot (the first thing a
 * scanner reads), then decoys, zeros and data values. Slots kept by a prolog
 * are left alone. */
static void fill(stack_mem *m, const synth_stack_spec *spec, uint64_t lo, uint64_t hi)
{
    size_t slot = 0;
    uint64_t word = m->word;
    for (uint64_t a = (lo + word - 1) & ~(word - 1); a + word <= hi; a += word, slot++) {
        if (m->kept[(a - m->start) / word])
            continue;
        uint64_t h = hash3(spec->seed, a, 0xF111);
        uint64_t v = slot == 0 || h % 3 == 0 ? decoy(spec, a, slot)
                     : h % 3 == 1         ? 0 : data_value(spec->seed, a, 1);
        mem_store(m, a, v, false);
    }
}

/* RIP, CS, EFLAGS, RSP, SS (after the error code when there is one). */
static void write_machine_frame(stack_mem *m, const synth_frame *callee, uint64_t cfa,
                                uint64_t pc, uint64_t rsp)
{
    uint64_t at = cfa + machine_frame_size(callee) - MACHINE_FRAME_SIZE;
    if (at != cfa)
        mem_store(m, cfa, 0x14, false); /* error code */
    mem_store(m, at, pc, false);
    mem_store(m, at + 8, USER_CS, false);
    mem_store(m, at + 16, USER_EFLAGS, false);
    mem_store(m, at + 24, rsp, false);
    mem_store(m, at + 32, USER_SS, false);
}

/* Initial values of the registers in the outermost frame. */
static void initial_registers(sim *s, uint32_t seed)
{
    for (unsigned r = 0; r < 16; r++) {
        s->regs[r] = r == REG_RSP ? 0 : data_value(seed, 0xFFFF, r);
        s->xmm[r][0] = hash3(seed, 0xFFFF, 100 + r);
        s->xmm[r][1] = hash3(seed, 0xFFFF, 200 + r);
    }
}

/* x86: the registers eax..edi share the x64 numbers 0-7; a syscall stub
 * at frame 0 has its number in eax and edx at the stack (sysenter). */
static void make_context_x86(const synth_stack_spec *spec, const sim *s, uint64_t rsp,
                             synth_context *ctx)
{
    const synth_frame *top = &spec->frames[0];
    const synth_function *f = synth_text_function(top->text, top->function);
    synth_context_init(ctx, SYNTH_CPU_X86);
    for (unsigned r = 0; r < 8; r++)
        ctx->regs[r] = (uint32_t)s->regs[r];
    ctx->regs[DT_X86_ESP] = rsp;
    ctx->regs[DT_X86_EIP] = frame_pc(top);
    ctx->regs[DT_X86_EDX] = rsp;
    if (f->kind == SYNTH_FUNC_SYSCALL)
        ctx->regs[DT_X86_EAX] = f->syscall_number;
}

static void make_context(const synth_stack_spec *spec, const sim *s, uint64_t rsp,
                         synth_context *ctx)
{
    if (spec->cpu == SYNTH_CPU_X86) {
        make_context_x86(spec, s, rsp, ctx);
        return;
    }
    const synth_frame *top = &spec->frames[0];
    const synth_function *f = synth_text_function(top->text, top->function);
    synth_context_init(ctx, SYNTH_CPU_AMD64);
    for (unsigned r = 0; r < 16; r++)
        ctx->regs[r] = s->regs[r];
    memcpy(ctx->xmm, s->xmm, sizeof ctx->xmm);
    ctx->regs[DT_AMD64_RSP] = rsp;
    ctx->regs[DT_AMD64_RIP] = frame_pc(top);
    ctx->regs[REG_RDX] = data_value(spec->seed, 0xC0, REG_RDX);
    ctx->regs[REG_R8] = ctx->regs[REG_R9] = 0;
    if (f->kind == SYNTH_FUNC_SYSCALL) {
        /* mov r10, rcx; mov eax, n; syscall (which leaves RFLAGS in r11). */
        ctx->regs[REG_RAX] = f->syscall_number;
        ctx->regs[REG_R10] = ctx->regs[REG_RCX];
        ctx->regs[REG_R11] = USER_EFLAGS;
    }
}

static void record_frame(synth_stack *out, size_t k, const synth_frame *f, const sim *s)
{
    synth_unwound *u = &out->frames[k];
    u->pc = frame_pc(f);
    u->sp = s->rsp;
    memcpy(u->regs, s->regs, sizeof u->regs);
    u->regs[REG_RSP] = s->rsp;
}

void synth_stack_build(const synth_stack_spec *spec, synth_stack *out)
{
    size_t n = spec->frame_count;
    if (n == 0 || spec->stack_base % 16)
        synth_fail("a stack needs frames and a 16-aligned base");
    uint64_t *cfa = synth_alloc(n * sizeof *cfa), *rsp = synth_alloc(n * sizeof *rsp);
    layout(spec, cfa, rsp);
    memset(out, 0, sizeof *out);
    out->start = (rsp[0] & ~(uint64_t)15) - STALE_AREA;
    out->size = (size_t)(spec->stack_base - out->start);
    out->bytes = synth_alloc(out->size);
    out->frames = synth_alloc(n * sizeof *out->frames);
    out->frame_count = n;
    stack_mem m = {out->start, out->bytes, out->size, synth_alloc(out->size / 4 + 1),
                   word_size(spec)};
    sim s = {.mem = &m, .word = m.word};
    initial_registers(&s, spec->seed);
    for (size_t k = n; k-- > 0;) {
        const synth_frame *f = &spec->frames[k];
        if (k == n - 1)
            mem_store(&m, cfa[k], 0, false); /* the thread start returns nowhere */
        replay_frame(&s, f, cfa[k], spec->seed, k);
        fill(&m, spec, s.rsp, cfa[k]);
        record_frame(out, k, f, &s);
        if (k == 0)
            break;
        if (has_machine_frame(&spec->frames[k - 1]))
            write_machine_frame(&m, &spec->frames[k - 1], cfa[k - 1], frame_pc(f), s.rsp);
        else
            mem_store(&m, cfa[k - 1], frame_pc(f), false);
    }
    fill(&m, spec, out->start, rsp[0]);
    make_context(spec, &s, rsp[0], &out->context);
    free(m.kept);
    free(cfa);
    free(rsp);
}

void synth_stack_free(synth_stack *stack)
{
    free(stack->bytes);
    free(stack->frames);
    memset(stack, 0, sizeof *stack);
}
