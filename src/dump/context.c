/*
 * CPU context records (winnt.h CONTEXT for AMD64, x86 and ARM64), decoded by
 * field offset. The AMD64 record may be longer than 0x4D0 when it carries
 * XSTATE (CONTEXT_EX follows at 0x4D0); only the fixed part is read here.
 */
#include "dump/dump_internal.h"

enum {
    AMD64_CONTEXT_FLAG = 0x100000, X86_CONTEXT_FLAG = 0x10000, ARM64_CONTEXT_FLAG = 0x400000,
    CTX_CONTROL = 1, CTX_INTEGER = 2, CTX_SEGMENTS = 4, CTX_FLOATING = 8,
    AMD64_MIN_DECODE = 0x100, AMD64_FULL_SIZE = 0x4D0,
    X86_MIN_DECODE = 0xCC, X86_FULL_SIZE = 0x2CC,
    ARM64_MIN_DECODE = 0x110, ARM64_FULL_SIZE = 0x390
};

static const char *const amd64_names[DT_AMD64_REG_COUNT] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11",
    "r12", "r13", "r14", "r15", "rip", "eflags", "cs", "ds", "es", "fs", "gs", "ss", "mxcsr"};
static const char *const x86_names[DT_X86_REG_COUNT] = {
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
    "eip", "eflags", "cs", "ds", "es", "fs", "gs", "ss"};
static const char *const arm64_names[DT_ARM64_REG_COUNT] = {
    "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
    "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23",
    "x24", "x25", "x26", "x27", "x28", "fp", "lr", "sp", "pc", "cpsr"};

size_t dt_context_reg_count(dt_cpu cpu)
{
    switch (cpu) {
    case DT_CPU_AMD64: return DT_AMD64_REG_COUNT;
    case DT_CPU_X86: return DT_X86_REG_COUNT;
    case DT_CPU_ARM64: return DT_ARM64_REG_COUNT;
    default: return 0;
    }
}

const char *dt_context_reg_name(dt_cpu cpu, size_t reg)
{
    if (reg >= dt_context_reg_count(cpu))
        return NULL;
    switch (cpu) {
    case DT_CPU_AMD64: return amd64_names[reg];
    case DT_CPU_X86: return x86_names[reg];
    case DT_CPU_ARM64: return arm64_names[reg];
    default: return NULL;
    }
}

static uint64_t reg_if_valid(const dt_context *ctx, int reg)
{
    return (ctx->valid >> reg) & 1 ? ctx->regs[reg] : 0;
}

uint64_t dt_context_ip(const dt_context *ctx)
{
    switch (ctx->cpu) {
    case DT_CPU_AMD64: return reg_if_valid(ctx, DT_AMD64_RIP);
    case DT_CPU_X86: return reg_if_valid(ctx, DT_X86_EIP);
    case DT_CPU_ARM64: return reg_if_valid(ctx, DT_ARM64_PC);
    default: return 0;
    }
}

uint64_t dt_context_sp(const dt_context *ctx)
{
    switch (ctx->cpu) {
    case DT_CPU_AMD64: return reg_if_valid(ctx, DT_AMD64_RSP);
    case DT_CPU_X86: return reg_if_valid(ctx, DT_X86_ESP);
    case DT_CPU_ARM64: return reg_if_valid(ctx, DT_ARM64_SP);
    default: return 0;
    }
}

const char *dt_cpu_name(dt_cpu cpu)
{
    switch (cpu) {
    case DT_CPU_X86: return "x86";
    case DT_CPU_AMD64: return "amd64";
    case DT_CPU_ARM64: return "arm64";
    case DT_CPU_ARM: return "arm";
    default: return "unknown";
    }
}

static void set_reg(dt_context *ctx, int reg, uint64_t value)
{
    ctx->regs[reg] = value;
    ctx->valid |= (uint64_t)1 << reg;
}

/* CONTEXT (AMD64): ContextFlags 0x30, MxCsr 0x34, SegCs..SegSs 0x38-0x42,
 * EFlags 0x44, Rax..R15 0x78-0xF0 in unwind register order, Rip 0xF8. */
static void decode_amd64(const uint8_t *p, uint32_t flags, dt_context *ctx)
{
    bool all = (flags & (CTX_CONTROL | CTX_INTEGER)) == 0;
    for (int reg = DT_AMD64_RAX; reg <= DT_AMD64_R15; reg++) {
        bool control = reg == DT_AMD64_RSP;
        if (all || (flags & (control ? CTX_CONTROL : CTX_INTEGER)))
            set_reg(ctx, reg, dt_le64(p + 0x78 + 8 * reg));
    }
    if (all || (flags & CTX_CONTROL)) {
        set_reg(ctx, DT_AMD64_RIP, dt_le64(p + 0xF8));
        set_reg(ctx, DT_AMD64_EFLAGS, dt_le32(p + 0x44));
        set_reg(ctx, DT_AMD64_CS, dt_le16(p + 0x38));
        set_reg(ctx, DT_AMD64_SS, dt_le16(p + 0x42));
    }
    if (all || (flags & CTX_SEGMENTS)) {
        set_reg(ctx, DT_AMD64_DS, dt_le16(p + 0x3A));
        set_reg(ctx, DT_AMD64_ES, dt_le16(p + 0x3C));
        set_reg(ctx, DT_AMD64_FS, dt_le16(p + 0x3E));
        set_reg(ctx, DT_AMD64_GS, dt_le16(p + 0x40));
    }
    if (all || (flags & CTX_FLOATING))
        set_reg(ctx, DT_AMD64_MXCSR, dt_le32(p + 0x34));
}

/* CONTEXT (x86): ContextFlags 0, Gs 0x8C, Fs 0x90, Es 0x94, Ds 0x98, Edi 0x9C,
 * Esi 0xA0, Ebx 0xA4, Edx 0xA8, Ecx 0xAC, Eax 0xB0, Ebp 0xB4, Eip 0xB8,
 * SegCs 0xBC, EFlags 0xC0, Esp 0xC4, SegSs 0xC8. */
static void decode_x86(const uint8_t *p, uint32_t flags, dt_context *ctx)
{
    static const struct { int reg; uint8_t offset; bool control; } fields[] = {
        {DT_X86_EDI, 0x9C, false}, {DT_X86_ESI, 0xA0, false}, {DT_X86_EBX, 0xA4, false},
        {DT_X86_EDX, 0xA8, false}, {DT_X86_ECX, 0xAC, false}, {DT_X86_EAX, 0xB0, false},
        {DT_X86_EBP, 0xB4, true}, {DT_X86_EIP, 0xB8, true}, {DT_X86_CS, 0xBC, true},
        {DT_X86_EFLAGS, 0xC0, true}, {DT_X86_ESP, 0xC4, true}, {DT_X86_SS, 0xC8, true}};
    bool all = (flags & (CTX_CONTROL | CTX_INTEGER)) == 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (all || (flags & (fields[i].control ? CTX_CONTROL : CTX_INTEGER)))
            set_reg(ctx, fields[i].reg, dt_le32(p + fields[i].offset));
    if (all || (flags & CTX_SEGMENTS)) {
        set_reg(ctx, DT_X86_GS, dt_le32(p + 0x8C));
        set_reg(ctx, DT_X86_FS, dt_le32(p + 0x90));
        set_reg(ctx, DT_X86_ES, dt_le32(p + 0x94));
        set_reg(ctx, DT_X86_DS, dt_le32(p + 0x98));
    }
}

/* CONTEXT (ARM64): ContextFlags 0, Cpsr 4, X0..X28 8.., Fp 0xF0, Lr 0xF8,
 * Sp 0x100, Pc 0x108. */
static void decode_arm64(const uint8_t *p, dt_context *ctx)
{
    for (int reg = 0; reg <= DT_ARM64_LR; reg++)
        set_reg(ctx, reg, dt_le64(p + 8 + 8 * reg));
    set_reg(ctx, DT_ARM64_SP, dt_le64(p + 0x100));
    set_reg(ctx, DT_ARM64_PC, dt_le64(p + 0x108));
    set_reg(ctx, DT_ARM64_CPSR, dt_le32(p + 4));
}

/* The CPU a context belongs to: its flags say so, else the system info. */
static dt_cpu context_cpu(const dt_dump *d, const uint8_t *p, uint32_t size)
{
    if (size >= AMD64_MIN_DECODE && (dt_le32(p + 0x30) & AMD64_CONTEXT_FLAG) &&
        d->cpu != DT_CPU_X86)
        return DT_CPU_AMD64;
    if (size >= 4 && (dt_le32(p) & ARM64_CONTEXT_FLAG) && d->cpu != DT_CPU_X86)
        return DT_CPU_ARM64;
    if (size >= 4 && (dt_le32(p) & X86_CONTEXT_FLAG) && d->cpu != DT_CPU_AMD64)
        return DT_CPU_X86;
    return d->cpu;
}

static uint32_t min_size(dt_cpu cpu)
{
    switch (cpu) {
    case DT_CPU_AMD64: return AMD64_MIN_DECODE;
    case DT_CPU_X86: return X86_MIN_DECODE;
    case DT_CPU_ARM64: return ARM64_MIN_DECODE;
    default: return 0;
    }
}

static uint32_t full_size(dt_cpu cpu)
{
    switch (cpu) {
    case DT_CPU_AMD64: return AMD64_FULL_SIZE;
    case DT_CPU_X86: return X86_FULL_SIZE;
    default: return ARM64_FULL_SIZE;
    }
}

bool dt_context_decode(dt_dump *d, uint32_t size, uint32_t rva, const char *structure,
                       dt_context *out)
{
    const uint8_t *p;
    if (size == 0) {
        dt_dump_diag(d, DT_DIAG_INFO, structure, rva, "no CPU context recorded");
        return false;
    }
    if (!dt_dump_file_span(d, rva, size, &p)) {
        dt_dump_diag(d, DT_DIAG_ERROR, structure, rva,
                     "context of %u bytes lies past the end of the file", size);
        return false;
    }
    dt_cpu cpu = context_cpu(d, p, size);
    if (cpu == DT_CPU_UNKNOWN || cpu == DT_CPU_ARM || size < min_size(cpu)) {
        dt_dump_diag(d, DT_DIAG_WARNING, structure, rva,
                     "context of %u bytes for CPU %s cannot be decoded", size, dt_cpu_name(cpu));
        return false;
    }
    if (size < full_size(cpu) && !(cpu == DT_CPU_X86 && size >= X86_MIN_DECODE))
        dt_dump_diag(d, DT_DIAG_INFO, structure, rva,
                     "short %s context of %u bytes: only the integer registers are decoded",
                     dt_cpu_name(cpu), size);
    *out = (dt_context){0};
    out->cpu = cpu;
    out->size = size;
    out->file_offset = rva;
    out->flags = dt_le32(p + (cpu == DT_CPU_AMD64 ? 0x30 : 0));
    if (cpu == DT_CPU_AMD64)
        decode_amd64(p, out->flags, out);
    else if (cpu == DT_CPU_X86)
        decode_x86(p, out->flags, out);
    else
        decode_arm64(p, out);
    if (d->cpu == DT_CPU_UNKNOWN)
        d->cpu = cpu;
    return true;
}
