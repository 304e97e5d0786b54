/* Read-only accessors of a decoded dump. */
#include "dump/dump_internal.h"

#define LIST_ACCESSOR(fn, type, field, count_field)                 \
    const type *fn(const dt_dump *dump, size_t *count)               \
    {                                                                \
        *count = dump->count_field;                                  \
        return dump->field;                                          \
    }

LIST_ACCESSOR(dt_dump_streams, dt_stream, streams, stream_count)
LIST_ACCESSOR(dt_dump_threads, dt_thread, threads, thread_count)
LIST_ACCESSOR(dt_dump_modules, dt_module, modules, module_count)
LIST_ACCESSOR(dt_dump_unloaded_modules, dt_unloaded_module, unloaded, unloaded_count)
LIST_ACCESSOR(dt_dump_handles, dt_handle, handles, handle_count)
LIST_ACCESSOR(dt_dump_memory_infos, dt_memory_info, memory_infos, memory_info_count)
LIST_ACCESSOR(dt_dump_function_tables, dt_function_table, function_tables,
              function_table_count)
LIST_ACCESSOR(dt_dump_memory_ranges, dt_memory_range, ranges, range_count)

const dt_diagnostic *dt_dump_diagnostics(const dt_dump *dump, size_t *count)
{
    *count = dump->diags.count;
    return dump->diags.items;
}

const char *dt_dump_path(const dt_dump *dump) { return dump->path; }
uint64_t dt_dump_file_size(const dt_dump *dump) { return dump->file.size; }
bool dt_dump_was_compressed(const dt_dump *dump) { return dump->file.inflated; }
const dt_dump_header *dt_dump_header_get(const dt_dump *dump) { return &dump->header; }
const dt_exception *dt_dump_exception(const dt_dump *dump) { return dump->exception; }
const dt_system_info *dt_dump_system_info(const dt_dump *dump) { return dump->system_info; }
const dt_misc_info *dt_dump_misc_info(const dt_dump *dump) { return dump->misc_info; }
const dt_vm_counters *dt_dump_vm_counters(const dt_dump *dump) { return dump->vm_counters; }
const dt_assertion *dt_dump_assertion(const dt_dump *dump) { return dump->assertion; }
const char *dt_dump_comment(const dt_dump *dump) { return dump->comment; }
size_t dt_dump_token_count(const dt_dump *dump) { return dump->token_count; }

const dt_system_memory_info *dt_dump_system_memory_info(const dt_dump *dump)
{
    return dump->system_memory_info;
}

const dt_breakpad_info *dt_dump_breakpad_info(const dt_dump *dump)
{
    return dump->breakpad_info;
}

const dt_crashpad_info *dt_dump_crashpad_info(const dt_dump *dump)
{
    return dump->crashpad_info;
}

const uint8_t *dt_dump_file_bytes(const dt_dump *dump, uint64_t *size)
{
    *size = dump->file.size;
    return dump->file.data;
}

dt_dump_kind dt_dump_kind_get(const dt_dump *dump)
{
    if (dump->header.flags & DT_MINIDUMP_WITH_FULL_MEMORY)
        return DT_DUMP_FULL;
    return dump->has_memory64 ? DT_DUMP_MEMORY : DT_DUMP_MINI;
}

const char *dt_dump_kind_name(dt_dump_kind kind)
{
    switch (kind) {
    case DT_DUMP_FULL: return "full";
    case DT_DUMP_MEMORY: return "memory";
    default: return "mini";
    }
}

const dt_thread *dt_dump_thread_by_id(const dt_dump *dump, uint32_t thread_id)
{
    long i = dt_find_slot(dump->threads_by_id, dump->thread_count, thread_id);
    return i >= 0 ? &dump->threads[i] : NULL;
}
