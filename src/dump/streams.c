/* Stream registry and the list layouts shared by several stream types. */
#include "dump/dump_internal.h"

#include "base/checked.h"

void dt_decode_thread_list(dt_stream_reader *r);
void dt_decode_thread_ex_list(dt_stream_reader *r);
void dt_decode_thread_info_list(dt_stream_reader *r);
void dt_decode_thread_names(dt_stream_reader *r);
void dt_decode_module_list(dt_stream_reader *r);
void dt_decode_unloaded_module_list(dt_stream_reader *r);
void dt_decode_memory_list(dt_stream_reader *r);
void dt_decode_memory64_list(dt_stream_reader *r);
void dt_decode_memory_info_list(dt_stream_reader *r);
void dt_decode_function_table(dt_stream_reader *r);
void dt_decode_exception(dt_stream_reader *r);
void dt_decode_system_info(dt_stream_reader *r);
void dt_decode_misc_info(dt_stream_reader *r);
void dt_decode_handle_data(dt_stream_reader *r);
void dt_decode_comment_a(dt_stream_reader *r);
void dt_decode_comment_w(dt_stream_reader *r);
void dt_decode_token(dt_stream_reader *r);
void dt_decode_system_memory_info(dt_stream_reader *r);
void dt_decode_vm_counters(dt_stream_reader *r);
void dt_decode_breakpad_info(dt_stream_reader *r);
void dt_decode_assertion(dt_stream_reader *r);
void dt_decode_crashpad_info(dt_stream_reader *r);
void dt_decode_stability_report(dt_stream_reader *r);

static const struct {
    uint32_t type;
    const char *name;
    dt_stream_decoder decoder;
} stream_types[] = {
    {MD_THREAD_LIST, "ThreadList", dt_decode_thread_list},
    {MD_MODULE_LIST, "ModuleList", dt_decode_module_list},
    {MD_MEMORY_LIST, "MemoryList", dt_decode_memory_list},
    {MD_EXCEPTION, "Exception", dt_decode_exception},
    {MD_SYSTEM_INFO, "SystemInfo", dt_decode_system_info},
    {MD_THREAD_EX_LIST, "ThreadExList", dt_decode_thread_ex_list},
    {MD_MEMORY64_LIST, "Memory64List", dt_decode_memory64_list},
    {MD_COMMENT_A, "CommentA", dt_decode_comment_a},
    {MD_COMMENT_W, "CommentW", dt_decode_comment_w},
    {MD_HANDLE_DATA, "HandleData", dt_decode_handle_data},
    {MD_FUNCTION_TABLE, "FunctionTable", dt_decode_function_table},
    {MD_UNLOADED_MODULE_LIST, "UnloadedModuleList", dt_decode_unloaded_module_list},
    {MD_MISC_INFO, "MiscInfo", dt_decode_misc_info},
    {MD_MEMORY_INFO_LIST, "MemoryInfoList", dt_decode_memory_info_list},
    {MD_THREAD_INFO_LIST, "ThreadInfoList", dt_decode_thread_info_list},
    {MD_HANDLE_OPERATION_LIST, "HandleOperationList", NULL},
    {MD_TOKEN, "Token", dt_decode_token},
    {MD_JAVASCRIPT_DATA, "JavaScriptData", NULL},
    {MD_SYSTEM_MEMORY_INFO, "SystemMemoryInfo", dt_decode_system_memory_info},
    {MD_PROCESS_VM_COUNTERS, "ProcessVmCounters", dt_decode_vm_counters},
    {MD_IPT_TRACE, "IptTrace", NULL},
    {MD_THREAD_NAMES, "ThreadNames", dt_decode_thread_names},
    {MD_BREAKPAD_INFO, "BreakpadInfo", dt_decode_breakpad_info},
    {MD_BREAKPAD_ASSERTION, "BreakpadAssertion", dt_decode_assertion},
    {0x47670003, "BreakpadLinuxCpuInfo", NULL},
    {0x47670004, "BreakpadLinuxProcStatus", NULL},
    {0x47670005, "BreakpadLinuxLsbRelease", NULL},
    {0x47670006, "BreakpadLinuxCmdLine", NULL},
    {0x47670007, "BreakpadLinuxEnviron", NULL},
    {0x47670008, "BreakpadLinuxAuxv", NULL},
    {0x47670009, "BreakpadLinuxMaps", NULL},
    {0x4767000A, "BreakpadLinuxDsoDebug", NULL},
    {MD_CRASHPAD_INFO, "CrashpadInfo", dt_decode_crashpad_info},
    {MD_STABILITY_REPORT, "StabilityReport", dt_decode_stability_report},
};

dt_stream_decoder dt_stream_decoder_for(uint32_t type)
{
    for (size_t i = 0; i < sizeof stream_types / sizeof stream_types[0]; i++)
        if (stream_types[i].type == type)
            return stream_types[i].decoder;
    return NULL;
}

const char *dt_stream_type_name(uint32_t type)
{
    for (size_t i = 0; i < sizeof stream_types / sizeof stream_types[0]; i++)
        if (stream_types[i].type == type)
            return stream_types[i].name;
    /* Numbers this high are private to a writer (Wine uses 0xfff0). */
    return type >= 0x8000 ? "vendor" : "stream";
}

int64_t dt_stream_offset(const dt_stream_reader *r, size_t pos)
{
    return (int64_t)r->stream->rva + (int64_t)pos;
}

static size_t clamp_count(dt_stream_reader *r, uint64_t count, uint64_t fit, size_t cap,
                          size_t header)
{
    if (count > cap) {
        dt_dump_diag(r->dump, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0),
                     "count %llu exceeds the cap of %zu", (unsigned long long)count, cap);
        count = cap;
    }
    if (count > fit) {
        dt_dump_diag(r->dump, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, header),
                     "stream holds %llu of %llu entries; the rest are missing",
                     (unsigned long long)fit, (unsigned long long)count);
        count = fit;
    }
    return (size_t)count;
}

size_t dt_list_entries(dt_stream_reader *r, size_t entry_size, size_t cap, size_t *first)
{
    if (r->size < 4) {
        dt_dump_diag(r->dump, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0),
                     "stream of %zu bytes is too small for its count", r->size);
        return 0;
    }
    uint32_t count = dt_le32(r->bytes);
    uint64_t body;
    /* Some writers pad the count to 8 bytes: the stream is then exactly
     * 8 + count * entry_size long. */
    *first = 4;
    if (dt_mul_u64(count, entry_size, &body) && body + 8 == r->size)
        *first = 8;
    uint64_t fit = (r->size - *first) / entry_size;
    return clamp_count(r, count, fit, cap, *first);
}

size_t dt_sized_entries(dt_stream_reader *r, bool count_is_u64, size_t min_entry, size_t cap,
                        size_t *first, size_t *entry_size)
{
    size_t header_min = count_is_u64 ? 16 : 12;
    if (r->size < header_min) {
        dt_dump_diag(r->dump, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0),
                     "stream of %zu bytes is too small for its header", r->size);
        return 0;
    }
    uint32_t header = dt_le32(r->bytes);
    uint32_t entry = dt_le32(r->bytes + 4);
    uint64_t count = count_is_u64 ? dt_le64(r->bytes + 8) : dt_le32(r->bytes + 8);
    if (header < header_min || header > r->size || entry < min_entry) {
        dt_dump_diag(r->dump, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0),
                     "bad header: SizeOfHeader %u, SizeOfEntry %u (need >= %zu)", header, entry,
                     min_entry);
        return 0;
    }
    *first = header;
    *entry_size = entry;
    return clamp_count(r, count, (r->size - header) / entry, cap, header);
}
