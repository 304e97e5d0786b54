/* Exception, SystemInfo, MiscInfo, ProcessVmCounters, SystemMemoryInfo,
 * comment, Token and the Breakpad/Crashpad streams. */
#include "dump/dump_internal.h"

#include <string.h>

#include "base/text.h"

enum { EXCEPTION_STREAM_SIZE = 0xA8, SYSTEM_INFO_SIZE = 0x38, MISC_INFO_MIN = 24,
       MAX_COMMENT_BYTES = 64 * 1024 };

static void *stream_record(dt_stream_reader *r, size_t min_size, size_t record_size)
{
    if (r->size < min_size) {
        dt_dump_diag(r->dump, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0),
                     "stream of %zu bytes is shorter than its %zu-byte record", r->size, min_size);
        return NULL;
    }
    return dt_arena_alloc(&r->dump->arena, record_size);
}

/* MINIDUMP_EXCEPTION_STREAM: ThreadId 0, ExceptionRecord 8 (ExceptionCode 8,
 * ExceptionFlags 0xC, ExceptionRecord 0x10, ExceptionAddress 0x18,
 * NumberParameters 0x20, ExceptionInformation[15] 0x28), ThreadContext 0xA0. */
void dt_decode_exception(dt_stream_reader *r)
{
    dt_exception *e = stream_record(r, EXCEPTION_STREAM_SIZE, sizeof *e);
    if (!e)
        return;
    const uint8_t *p = r->bytes;
    e->thread_id = dt_le32(p);
    e->code = dt_le32(p + 8);
    e->flags = dt_le32(p + 0xC);
    e->record = dt_le64(p + 0x10);
    e->address = dt_le64(p + 0x18);
    e->parameter_count = dt_le32(p + 0x20);
    if (e->parameter_count > 15) {
        dt_dump_diag(r->dump, DT_DIAG_WARNING, "Exception", dt_stream_offset(r, 0x20),
                     "NumberParameters %u exceeds 15", e->parameter_count);
        e->parameter_count = 15;
    }
    for (uint32_t i = 0; i < e->parameter_count; i++)
        e->parameters[i] = dt_le64(p + 0x28 + 8 * i);
    e->has_context = dt_context_decode(r->dump, dt_le32(p + 0xA0), dt_le32(p + 0xA4),
                                       "Exception context", &e->context);
    r->dump->exception = e;
}

static dt_cpu cpu_from_architecture(uint16_t arch)
{
    switch (arch) {
    case 0: return DT_CPU_X86;
    case 5: return DT_CPU_ARM;
    case 9: return DT_CPU_AMD64;
    case 12: return DT_CPU_ARM64;
    default: return DT_CPU_UNKNOWN;
    }
}

/* MINIDUMP_SYSTEM_INFO: ProcessorArchitecture 0, ProcessorLevel 2,
 * ProcessorRevision 4, NumberOfProcessors 6, ProductType 7, MajorVersion 8,
 * MinorVersion 0xC, BuildNumber 0x10, PlatformId 0x14, CSDVersionRva 0x18,
 * SuiteMask 0x1C, Cpu 0x20 (x86: VendorId[3] 0x20, VersionInformation 0x2C,
 * FeatureInformation 0x30). */
void dt_decode_system_info(dt_stream_reader *r)
{
    dt_system_info *s = stream_record(r, SYSTEM_INFO_SIZE, sizeof *s);
    if (!s)
        return;
    const uint8_t *p = r->bytes;
    s->processor_architecture = dt_le16(p);
    s->cpu = cpu_from_architecture(s->processor_architecture);
    s->processor_level = dt_le16(p + 2);
    s->processor_revision = dt_le16(p + 4);
    s->processor_count = p[6];
    s->product_type = p[7];
    s->major = dt_le32(p + 8);
    s->minor = dt_le32(p + 0xC);
    s->build = dt_le32(p + 0x10);
    s->platform_id = dt_le32(p + 0x14);
    s->suite_mask = dt_le16(p + 0x1C);
    uint32_t csd_rva = dt_le32(p + 0x18);
    const char *csd = csd_rva ? dt_dump_string_at(r->dump, csd_rva, "SystemInfo CSDVersion") : NULL;
    s->csd = csd ? csd : "";
    s->cpu_family = s->processor_level;
    s->cpu_model = s->processor_revision >> 8;
    s->cpu_stepping = s->processor_revision & 0xFF;
    if (s->cpu == DT_CPU_X86) {
        memcpy(s->vendor, p + 0x20, 12);
        for (int i = 0; i < 12; i++)
            if (s->vendor[i] < 0x20 || s->vendor[i] > 0x7E)
                s->vendor[i] = '\0';
        s->cpu_version_information = dt_le32(p + 0x2C);
        s->cpu_feature_information = dt_le32(p + 0x30);
    }
    r->dump->system_info = s;
    r->dump->cpu = s->cpu;
}

static const char *fixed_utf16(dt_dump *d, const uint8_t *p, size_t units)
{
    const char *s = dt_utf16le_to_utf8(&d->arena, p, units);
    return s ? s : "";
}

/* MINIDUMP_MISC_INFO_N: SizeOfInfo 0, Flags1 4, ProcessId 8, ProcessCreateTime
 * 0xC, ProcessUserTime 0x10, ProcessKernelTime 0x14 (24 bytes); _2 adds
 * processor power 0x18-0x2B (44); _3 adds ProcessIntegrityLevel 0x2C,
 * ProcessExecuteFlags 0x30, ProtectedProcess 0x34, TimeZoneId 0x38,
 * TIME_ZONE_INFORMATION 0x3C (Bias, StandardName[32]) (232); _4 adds
 * BuildString[260] 0xE8, DbgBldStr[40] 0x2F0 (832); _5 adds
 * XSTATE_CONFIG_FEATURE_MSC_INFO 0x340 (ContextSize +4, EnabledFeatures +8)
 * and ProcessCookie 0x550 (1364). */
void dt_decode_misc_info(dt_stream_reader *r)
{
    dt_misc_info *m = stream_record(r, MISC_INFO_MIN, sizeof *m);
    if (!m)
        return;
    const uint8_t *p = r->bytes;
    size_t size = dt_le32(p);
    if (size > r->size || size < MISC_INFO_MIN)
        size = r->size;
    m->size = (uint32_t)size;
    m->flags1 = dt_le32(p + 4);
    m->process_id = dt_le32(p + 8);
    m->process_create_time = dt_le32(p + 0xC);
    m->process_user_time = dt_le32(p + 0x10);
    m->process_kernel_time = dt_le32(p + 0x14);
    if (size >= 44) {
        m->processor_max_mhz = dt_le32(p + 0x18);
        m->processor_current_mhz = dt_le32(p + 0x1C);
        m->processor_mhz_limit = dt_le32(p + 0x20);
        m->processor_max_idle_state = dt_le32(p + 0x24);
        m->processor_current_idle_state = dt_le32(p + 0x28);
    }
    if (size >= 232) {
        m->process_integrity_level = dt_le32(p + 0x2C);
        m->process_execute_flags = dt_le32(p + 0x30);
        m->protected_process = dt_le32(p + 0x34);
        m->time_zone_id = dt_le32(p + 0x38);
        m->time_zone_bias = (int32_t)dt_le32(p + 0x3C);
        m->time_zone_standard_name = fixed_utf16(r->dump, p + 0x40, 32);
    }
    if (size >= 832) {
        m->build_string = fixed_utf16(r->dump, p + 0xE8, 260);
        m->debug_build_string = fixed_utf16(r->dump, p + 0x2F0, 40);
    }
    if (size >= 1364) {
        m->xstate_size = dt_le32(p + 0x340 + 4);
        m->xstate_enabled_features = dt_le64(p + 0x340 + 8);
        m->process_cookie = dt_le32(p + 0x550);
    }
    r->dump->misc_info = m;
}

/* MINIDUMP_PROCESS_VM_COUNTERS_1/_2: Revision 0, (_2: Flags 2), PageFaultCount 4,
 * PeakWorkingSetSize 8, WorkingSetSize 0x10, QuotaPeakPagedPoolUsage 0x18,
 * QuotaPagedPoolUsage 0x20, QuotaPeakNonPagedPoolUsage 0x28,
 * QuotaNonPagedPoolUsage 0x30, PagefileUsage 0x38, PeakPagefileUsage 0x40,
 * PrivateUsage 0x48; _2: PrivateWorkingSetSize 0x50, SharedCommitUsage 0x58. */
void dt_decode_vm_counters(dt_stream_reader *r)
{
    dt_vm_counters *v = stream_record(r, 0x50, sizeof *v);
    if (!v)
        return;
    const uint8_t *p = r->bytes;
    v->size = (uint32_t)r->size;
    v->revision = dt_le16(p);
    v->page_fault_count = dt_le32(p + 4);
    v->peak_working_set = dt_le64(p + 8);
    v->working_set = dt_le64(p + 0x10);
    v->quota_peak_paged_pool = dt_le64(p + 0x18);
    v->quota_paged_pool = dt_le64(p + 0x20);
    v->quota_peak_nonpaged_pool = dt_le64(p + 0x28);
    v->quota_nonpaged_pool = dt_le64(p + 0x30);
    v->pagefile_usage = dt_le64(p + 0x38);
    v->peak_pagefile_usage = dt_le64(p + 0x40);
    v->private_usage = dt_le64(p + 0x48);
    if (r->size >= 0x60) {
        v->has_extended = true;
        v->private_working_set = dt_le64(p + 0x50);
        v->shared_commit = dt_le64(p + 0x58);
    }
    r->dump->vm_counters = v;
}

/* MINIDUMP_SYSTEM_MEMORY_INFO_1: Revision 0, Flags 2, BasicInfo 4 (PageSize
 * +4, NumberOfPhysicalPages +8), FileCacheInfo 0x38, BasicPerfInfo 0x74
 * (AvailablePages, CommittedPages, CommitLimit, PeakCommitment: u64 each). */
void dt_decode_system_memory_info(dt_stream_reader *r)
{
    dt_system_memory_info *s = stream_record(r, 0x94, sizeof *s);
    if (!s)
        return;
    const uint8_t *p = r->bytes;
    s->size = (uint32_t)r->size;
    s->revision = dt_le16(p);
    s->page_size = dt_le32(p + 8);
    s->physical_pages = dt_le32(p + 0xC);
    s->available_pages = dt_le64(p + 0x74);
    s->committed_pages = dt_le64(p + 0x7C);
    s->commit_limit = dt_le64(p + 0x84);
    s->peak_commitment = dt_le64(p + 0x8C);
    r->dump->system_memory_info = s;
}

void dt_decode_comment_a(dt_stream_reader *r)
{
    size_t n = r->size < MAX_COMMENT_BYTES ? r->size : MAX_COMMENT_BYTES;
    size_t len = 0;
    while (len < n && r->bytes[len])
        len++;
    r->dump->comment = dt_arena_strndup(&r->dump->arena, (const char *)r->bytes, len);
}

void dt_decode_comment_w(dt_stream_reader *r)
{
    size_t n = r->size < MAX_COMMENT_BYTES ? r->size : MAX_COMMENT_BYTES;
    r->dump->comment = dt_utf16le_to_utf8(&r->dump->arena, r->bytes, n / 2);
}

/* MINIDUMP_TOKEN_INFO_LIST: TokenListSize 0, TokenListEntries 4,
 * ListHeaderSize 8, ElementHeaderSize 0xC; entries follow the header, each
 * {TokenSize, TokenId, TokenHandle u64} plus TokenSize - 16 bytes. */
void dt_decode_token(dt_stream_reader *r)
{
    if (r->size < 16) {
        dt_dump_diag(r->dump, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0),
                     "stream of %zu bytes is too small for its header", r->size);
        return;
    }
    uint32_t entries = dt_le32(r->bytes + 4);
    uint64_t pos = dt_le32(r->bytes + 8);
    size_t counted = 0;
    for (uint32_t i = 0; i < entries; i++) {
        const uint8_t *p;
        if (!dt_span_at(r->bytes, r->size, pos, 16, &p) || dt_le32(p) < 16) {
            dt_dump_diag(r->dump, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, (size_t)pos),
                         "token entry %u of %u is damaged", i, entries);
            break;
        }
        pos += dt_le32(p);
        counted++;
    }
    r->dump->token_count = counted;
}

/* MDRawBreakpadInfo: validity 0, dump_thread_id 4, requesting_thread_id 8. */
void dt_decode_breakpad_info(dt_stream_reader *r)
{
    dt_breakpad_info *b = stream_record(r, 12, sizeof *b);
    if (!b)
        return;
    b->validity = dt_le32(r->bytes);
    b->dump_thread_id = dt_le32(r->bytes + 4);
    b->requesting_thread_id = dt_le32(r->bytes + 8);
    r->dump->breakpad_info = b;
}

/* MDRawAssertionInfo: expression u16[128] 0, function u16[128] 0x100,
 * file u16[128] 0x200, line 0x300, type 0x304. */
void dt_decode_assertion(dt_stream_reader *r)
{
    dt_assertion *a = stream_record(r, 0x308, sizeof *a);
    if (!a)
        return;
    a->expression = fixed_utf16(r->dump, r->bytes, 128);
    a->function = fixed_utf16(r->dump, r->bytes + 0x100, 128);
    a->file = fixed_utf16(r->dump, r->bytes + 0x200, 128);
    a->line = dt_le32(r->bytes + 0x300);
    a->type = dt_le32(r->bytes + 0x304);
    r->dump->assertion = a;
}

/* MinidumpCrashpadInfo: version 0, report_id 4, client_id 0x14,
 * simple_annotations LOCATION 0x24 (-> u32 count of string pairs),
 * module_list LOCATION 0x2C. */
void dt_decode_crashpad_info(dt_stream_reader *r)
{
    dt_crashpad_info *c = stream_record(r, 0x2C, sizeof *c);
    if (!c)
        return;
    c->version = dt_le32(r->bytes);
    memcpy(c->report_id, r->bytes + 4, 16);
    memcpy(c->client_id, r->bytes + 0x14, 16);
    const uint8_t *p;
    uint32_t size = dt_le32(r->bytes + 0x24), rva = dt_le32(r->bytes + 0x28);
    if (size >= 4 && dt_dump_file_span(r->dump, rva, 4, &p))
        c->annotation_count = dt_le32(p);
    r->dump->crashpad_info = c;
}
