/* Process facts derived from several streams and from dump memory. */
#include "dump/dump_internal.h"

#include "base/text.h"

enum { MAX_COMMAND_LINE_BYTES = 32 * 1024 };

const char *dt_dump_process_name(const dt_dump *dump)
{
    return dump->module_count ? dump->modules[0].name : NULL;
}

bool dt_dump_process_uptime(const dt_dump *dump, uint64_t *seconds)
{
    const dt_misc_info *m = dump->misc_info;
    if (!m || !(m->flags1 & DT_MISC1_PROCESS_TIMES) || m->process_create_time == 0 ||
        m->process_create_time > dump->header.timestamp)
        return false;
    *seconds = dump->header.timestamp - m->process_create_time;
    return true;
}

/* Reads a pointer-sized value of the dump's CPU. */
static bool read_pointer(const dt_dump *d, uint64_t address, bool wide, uint64_t *value)
{
    if (wide)
        return dt_dump_read_u64(d, address, value);
    uint32_t v;
    if (!dt_dump_read_u32(d, address, &v))
        return false;
    *value = v;
    return true;
}

/* TEB.ProcessEnvironmentBlock (x64 +0x60, x86 +0x30) -> PEB.ProcessParameters
 * (+0x20, +0x10) -> RTL_USER_PROCESS_PARAMETERS.CommandLine (+0x70, +0x40),
 * a UNICODE_STRING {Length u16, MaximumLength u16, Buffer (x64 at +8, x86 +4)}. */
void dt_dump_read_command_line(dt_dump *d)
{
    if (d->thread_count == 0 || (d->cpu != DT_CPU_AMD64 && d->cpu != DT_CPU_X86))
        return;
    bool wide = d->cpu == DT_CPU_AMD64;
    uint64_t peb, params, buffer;
    uint8_t length_bytes[2];
    uint64_t string_at;
    if (!read_pointer(d, d->threads[0].teb + (wide ? 0x60 : 0x30), wide, &peb) ||
        !read_pointer(d, peb + (wide ? 0x20 : 0x10), wide, &params))
        return;
    string_at = params + (wide ? 0x70 : 0x40);
    if (dt_dump_read(d, string_at, length_bytes, 2) != 2 ||
        !read_pointer(d, string_at + (wide ? 8 : 4), wide, &buffer))
        return;
    size_t length = dt_le16(length_bytes);
    if (length == 0 || length > MAX_COMMAND_LINE_BYTES)
        return;
    uint8_t text[MAX_COMMAND_LINE_BYTES];
    if (dt_dump_read(d, buffer, text, length) != length)
        return;
    d->command_line = dt_utf16le_to_utf8(&d->arena, text, length / 2);
}

const char *dt_dump_command_line(const dt_dump *dump)
{
    return dump->command_line;
}
