/*
 * WOW64 detection and the 32-bit context of a WOW64 thread (FORMATS.md
 * section 3; LLVM MinidumpParser GetThreadContextWow64 reads the same
 * place): TEB64 + 0x1480 is TlsSlots[64]; slot 1 (WOW64_TLS_CPURESERVED)
 * points to WOW64_CPURESERVED {u16 Flags, u16 Machine}, followed at +4 by
 * the WOW64_CONTEXT, which has the x86 CONTEXT layout (0x2CC bytes).
 */
#include "unwind/wow64.h"

#include <strings.h>

#include "base/cursor.h"
#include "dumptriage/image.h"

enum {
    TEB64_TLS_SLOTS = 0x1480,
    WOW64_TLS_CPURESERVED = 1,
    CPURESERVED_MACHINE = 2,
    CPURESERVED_CONTEXT = 4,
    TEB32_FROM_TEB64 = 0x2000,
    NT_TIB32_STACK_BASE = 4,
    NT_TIB32_STACK_LIMIT = 8,
    X86_CONTEXT_REGISTERS_END = 0xCC /* through SegSs at 0xC8 */
};

static bool has_wow64_module(const dt_dump *dump)
{
    size_t n;
    const dt_module *modules = dt_dump_modules(dump, &n);
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(modules[i].name, "wow64.dll") == 0 ||
            strcasecmp(modules[i].name, "wow64cpu.dll") == 0)
            return true;
    return false;
}

static bool main_module_is_32_bit(const dt_dump *dump, dt_image_set *images)
{
    size_t n;
    const dt_module *modules = dt_dump_modules(dump, &n);
    if (n == 0)
        return false;
    const dt_image *image = images ? dt_image_set_get(images, &modules[0]) : NULL;
    if (image)
        return dt_image_headers_get(image)->machine == DT_IMAGE_MACHINE_I386;
    return modules[0].base + modules[0].size <= 0x100000000ull;
}

bool dt_wow64_process(const dt_dump *dump, dt_image_set *images)
{
    const dt_system_info *system = dt_dump_system_info(dump);
    return system && system->cpu == DT_CPU_AMD64 && has_wow64_module(dump) &&
           main_module_is_32_bit(dump, images);
}

/* WOW64_CONTEXT (x86 CONTEXT): Edi 0x9C, Esi 0xA0, Ebx 0xA4, Edx 0xA8,
 * Ecx 0xAC, Eax 0xB0, Ebp 0xB4, Eip 0xB8, SegCs 0xBC, EFlags 0xC0, Esp 0xC4,
 * SegSs 0xC8. */
static void decode_registers(const uint8_t *p, dt_context *out)
{
    static const struct { int reg; uint8_t offset; } fields[] = {
        {DT_X86_EDI, 0x9C}, {DT_X86_ESI, 0xA0}, {DT_X86_EBX, 0xA4}, {DT_X86_EDX, 0xA8},
        {DT_X86_ECX, 0xAC}, {DT_X86_EAX, 0xB0}, {DT_X86_EBP, 0xB4}, {DT_X86_EIP, 0xB8},
        {DT_X86_CS, 0xBC}, {DT_X86_EFLAGS, 0xC0}, {DT_X86_ESP, 0xC4}, {DT_X86_SS, 0xC8}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        out->regs[fields[i].reg] = dt_le32(p + fields[i].offset);
        out->valid |= (uint64_t)1 << fields[i].reg;
    }
}

bool dt_wow64_context(const dt_dump *dump, const dt_thread *thread, dt_context *out)
{
    uint64_t area;
    uint8_t machine[2], context[X86_CONTEXT_REGISTERS_END];
    uint64_t slot = thread->teb + TEB64_TLS_SLOTS + 8 * WOW64_TLS_CPURESERVED;
    if (!dt_dump_read_u64(dump, slot, &area) || area == 0 || area > UINT64_MAX - 0x1000 ||
        dt_dump_read(dump, area + CPURESERVED_MACHINE, machine, 2) != 2 ||
        dt_le16(machine) != DT_IMAGE_MACHINE_I386 ||
        dt_dump_read(dump, area + CPURESERVED_CONTEXT, context, sizeof context) != sizeof context)
        return false;
    *out = (dt_context){.cpu = DT_CPU_X86, .size = 0x2CC, .flags = dt_le32(context)};
    decode_registers(context, out);
    return true;
}

bool dt_wow64_stack_bounds(const dt_dump *dump, const dt_thread *thread, uint64_t *low,
                           uint64_t *high)
{
    uint32_t base, limit;
    uint64_t tib = thread->teb + TEB32_FROM_TEB64;
    if (!dt_dump_read_u32(dump, tib + NT_TIB32_STACK_BASE, &base) ||
        !dt_dump_read_u32(dump, tib + NT_TIB32_STACK_LIMIT, &limit) || limit >= base)
        return false;
    *low = limit;
    *high = base;
    return true;
}
