/* JSON sections shared by every command's report. */
#include "report/report_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdio.h>

#include "base/text.h"

enum { STATUS_PENDING = 0x103, MEM_COMMIT = 0x1000, MEM_RESERVE = 0x2000, MEM_FREE = 0x10000,
       MEM_IMAGE = 0x1000000, MEM_MAPPED = 0x40000, MEM_PRIVATE = 0x20000 };

const char *const dt_memory_type_names[DT_MEM_TYPES] = {"image", "mapped", "private", "other"};

char *dt_strbuf_take(dt_strbuf *b)
{
    if (b->failed || !b->data) {
        dt_strbuf_free(b);
        return NULL;
    }
    return b->data;
}

void dt_format_utc(char out[32], uint64_t unix_seconds)
{
    out[0] = '\0';
    if (unix_seconds == 0)
        return;
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

uint64_t dt_filetime_to_unix(uint64_t filetime)
{
    const uint64_t epoch_delta = 116444736000000000ull; /* 1601 -> 1970 in 100 ns */
    return filetime > epoch_delta ? (filetime - epoch_delta) / 10000000ull : 0;
}

void dt_format_duration(char out[32], uint64_t seconds)
{
    uint64_t days = seconds / 86400;
    unsigned h = (unsigned)(seconds / 3600 % 24), m = (unsigned)(seconds / 60 % 60),
             s = (unsigned)(seconds % 60);
    if (days)
        snprintf(out, 32, "%llud %02u:%02u:%02u", (unsigned long long)days, h, m, s);
    else
        snprintf(out, 32, "%02u:%02u:%02u", h, m, s);
}

const char *dt_module_version(const dt_module *m, char out[32])
{
    if (!m->has_version)
        return NULL;
    snprintf(out, 32, "%u.%u.%u.%u", m->version[0], m->version[1], m->version[2], m->version[3]);
    return out;
}

/* GUID fields as stored: Data1 u32, Data2 u16, Data3 u16 little-endian, Data4[8]. */
static void format_guid(const uint8_t g[16], char out[40], bool dashes)
{
    snprintf(out, 40, dashes ? "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X"
                             : "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X",
             (unsigned)(g[0] | g[1] << 8 | g[2] << 16 | (unsigned)g[3] << 24),
             (unsigned)(g[4] | g[5] << 8), (unsigned)(g[6] | g[7] << 8), g[8], g[9], g[10],
             g[11], g[12], g[13], g[14], g[15]);
}

void dt_codeview_debug_id(const dt_codeview *cv, char out[48])
{
    char guid[40];
    if (cv->kind == DT_CV_RSDS) {
        format_guid(cv->guid, guid, false);
        snprintf(out, 48, "%s%X", guid, cv->age);
    } else if (cv->kind == DT_CV_NB10) {
        snprintf(out, 48, "%08X%X", cv->signature, cv->age);
    } else {
        out[0] = '\0';
    }
}

void dt_json_report_begin(dt_json *j, const dt_dump *dump, const char *command)
{
    const dt_dump_header *h = dt_dump_header_get(dump);
    char when[32];
    dt_json_object_begin(j);
    dt_json_kv_string(j, "schema_version", DT_REPORT_SCHEMA_VERSION);
    dt_json_kv_string(j, "command", command);
    dt_json_kv_string(j, "file", dt_dump_path(dump));
    dt_json_key(j, "error");
    dt_json_null(j);
    dt_json_key(j, "dump");
    dt_json_object_begin(j);
    dt_json_kv_string(j, "kind", dt_dump_kind_name(dt_dump_kind_get(dump)));
    dt_json_kv_hex(j, "flags", h->flags);
    dt_json_key(j, "flag_names");
    dt_json_array_begin(j);
    for (unsigned bit = 0; bit < 64; bit++)
        if ((h->flags >> bit) & 1)
            dt_json_string(j, dt_minidump_flag_name(bit) ? dt_minidump_flag_name(bit) : "unknown");
    dt_json_array_end(j);
    dt_format_utc(when, h->timestamp);
    dt_json_kv_string(j, "timestamp", when[0] ? when : NULL);
    dt_json_kv_hex(j, "version", h->version);
    dt_json_kv_uint(j, "size", dt_dump_file_size(dump));
    dt_json_kv_bool(j, "compressed", dt_dump_was_compressed(dump));
    size_t n;
    const dt_stream *streams = dt_dump_streams(dump, &n);
    static const char *const states[] = {"decoded", "unknown", "damaged", "duplicate", "empty"};
    dt_json_key(j, "streams");
    dt_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        dt_json_object_begin(j);
        dt_json_kv_hex(j, "type", streams[i].type);
        dt_json_kv_string(j, "name", streams[i].name);
        dt_json_kv_uint(j, "size", streams[i].size);
        dt_json_kv_hex(j, "rva", streams[i].rva);
        dt_json_kv_string(j, "state", states[streams[i].state]);
        dt_json_object_end(j);
    }
    dt_json_array_end(j);
    dt_json_object_end(j);
}

void dt_json_report_system(dt_json *j, const dt_dump *dump)
{
    const dt_system_info *s = dt_dump_system_info(dump);
    dt_json_key(j, "system");
    if (!s) {
        dt_json_null(j);
        return;
    }
    char version[48];
    snprintf(version, sizeof version, "%u.%u.%u", s->major, s->minor, s->build);
    dt_json_object_begin(j);
    dt_json_kv_string(j, "os", dt_os_name(s));
    dt_json_kv_string(j, "os_version", version);
    dt_json_kv_string(j, "csd", s->csd);
    dt_json_kv_hex(j, "platform_id", s->platform_id);
    dt_json_kv_uint(j, "product_type", s->product_type);
    dt_json_kv_string(j, "cpu", dt_cpu_name(s->cpu));
    dt_json_kv_uint(j, "cpu_count", s->processor_count);
    dt_json_kv_string(j, "cpu_vendor", s->vendor[0] ? s->vendor : NULL);
    dt_json_kv_uint(j, "cpu_family", s->cpu_family);
    dt_json_kv_uint(j, "cpu_model", s->cpu_model);
    dt_json_kv_uint(j, "cpu_stepping", s->cpu_stepping);
    dt_json_object_end(j);
}

static void json_vm_counters(dt_json *j, const dt_vm_counters *v)
{
    dt_json_key(j, "vm_counters");
    if (!v) {
        dt_json_null(j);
        return;
    }
    dt_json_object_begin(j);
    dt_json_kv_uint(j, "page_fault_count", v->page_fault_count);
    dt_json_kv_uint(j, "peak_working_set", v->peak_working_set);
    dt_json_kv_uint(j, "working_set", v->working_set);
    dt_json_kv_uint(j, "pagefile_usage", v->pagefile_usage);
    dt_json_kv_uint(j, "peak_pagefile_usage", v->peak_pagefile_usage);
    dt_json_kv_uint(j, "private_usage", v->private_usage);
    dt_json_object_end(j);
}

void dt_json_report_process(dt_json *j, const dt_dump *dump)
{
    const dt_misc_info *m = dt_dump_misc_info(dump);
    uint64_t uptime;
    char when[32];
    dt_json_key(j, "process");
    dt_json_object_begin(j);
    dt_json_key(j, "pid");
    if (m && (m->flags1 & DT_MISC1_PROCESS_ID))
        dt_json_uint(j, m->process_id);
    else
        dt_json_null(j);
    dt_json_kv_string(j, "name", dt_dump_process_name(dump));
    size_t n;
    const dt_module *modules = dt_dump_modules(dump, &n);
    dt_json_kv_string(j, "main_module", n ? modules[0].path : NULL);
    dt_json_kv_string(j, "command_line", dt_dump_command_line(dump));
    bool times = m && (m->flags1 & DT_MISC1_PROCESS_TIMES);
    dt_format_utc(when, times ? m->process_create_time : 0);
    dt_json_kv_string(j, "create_time", when[0] ? when : NULL);
    dt_json_key(j, "uptime_seconds");
    if (dt_dump_process_uptime(dump, &uptime))
        dt_json_uint(j, uptime);
    else
        dt_json_null(j);
    dt_json_key(j, "user_time_seconds");
    times ? dt_json_uint(j, m->process_user_time) : dt_json_null(j);
    dt_json_key(j, "kernel_time_seconds");
    times ? dt_json_uint(j, m->process_kernel_time) : dt_json_null(j);
    json_vm_counters(j, dt_dump_vm_counters(dump));
    dt_json_object_end(j);
}

void dt_json_report_registers(dt_json *j, const dt_context *ctx, bool has_context)
{
    dt_json_key(j, "registers");
    dt_json_object_begin(j);
    for (size_t r = 0; has_context && r < dt_context_reg_count(ctx->cpu); r++)
        if ((ctx->valid >> r) & 1)
            dt_json_kv_hex(j, dt_context_reg_name(ctx->cpu, r), ctx->regs[r]);
    dt_json_object_end(j);
}

void dt_json_report_exception(dt_json *j, const dt_dump *dump)
{
    const dt_exception *e = dt_dump_exception(dump);
    dt_json_key(j, "exception");
    if (!e) {
        dt_json_null(j);
        return;
    }
    dt_json_object_begin(j);
    dt_json_key(j, "code");
    char code[16];
    snprintf(code, sizeof code, "\"0x%08x\"", e->code);
    dt_json_raw(j, code);
    dt_json_kv_string(j, "name", dt_exception_code_name(e->code));
    dt_json_kv_hex(j, "flags", e->flags);
    dt_json_kv_hex(j, "address", e->address);
    dt_json_kv_uint(j, "thread_id", e->thread_id);
    dt_json_key(j, "parameters");
    dt_json_array_begin(j);
    for (uint32_t i = 0; i < e->parameter_count; i++)
        dt_json_hex(j, e->parameters[i]);
    dt_json_array_end(j);
    dt_json_report_registers(j, &e->context, e->has_context);
    dt_json_object_end(j);
}

static void json_pdb(dt_json *j, const dt_codeview *cv)
{
    dt_json_key(j, "pdb");
    if (cv->kind == DT_CV_NONE) {
        dt_json_null(j);
        return;
    }
    char guid[40], id[48];
    dt_json_object_begin(j);
    dt_json_kv_string(j, "file", dt_path_basename(cv->pdb_path));
    dt_json_kv_string(j, "path", cv->pdb_path);
    if (cv->kind == DT_CV_RSDS) {
        format_guid(cv->guid, guid, true);
        dt_json_kv_string(j, "guid", guid);
    } else {
        snprintf(guid, sizeof guid, "%08X", cv->signature);
        dt_json_kv_string(j, "guid", guid);
    }
    dt_json_kv_uint(j, "age", cv->age);
    dt_codeview_debug_id(cv, id);
    dt_json_kv_string(j, "debug_id", id);
    dt_json_object_end(j);
}

static void json_module_symbols(dt_json *j, const dt_module *m, dt_symbolizer *symbolizer)
{
    dt_json_key(j, "symbols");
    if (!symbolizer || !dt_symbolizer_module_resolved(symbolizer, m)) {
        dt_json_null(j);
        return;
    }
    const char *file;
    dt_symbol_kind kind = dt_symbolizer_module_kind(symbolizer, m, &file);
    dt_json_object_begin(j);
    dt_json_kv_string(j, "kind", dt_symbol_kind_name(kind));
    dt_json_kv_string(j, "file", file);
    dt_json_object_end(j);
}

void dt_json_report_modules(dt_json *j, const dt_dump *dump, dt_symbolizer *symbolizer)
{
    size_t n;
    const dt_module *modules = dt_dump_modules(dump, &n);
    char text[32];
    dt_json_key(j, "modules");
    dt_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        const dt_module *m = &modules[i];
        dt_json_object_begin(j);
        dt_json_kv_string(j, "name", m->name);
        dt_json_kv_string(j, "path", m->path);
        dt_json_kv_hex(j, "base", m->base);
        dt_json_kv_uint(j, "size", m->size);
        snprintf(text, sizeof text, "\"0x%08x\"", m->timestamp);
        dt_json_key(j, "timestamp");
        dt_json_raw(j, text);
        dt_json_kv_hex(j, "checksum", m->checksum);
        snprintf(text, sizeof text, "%08X%x", m->timestamp, m->size);
        dt_json_kv_string(j, "code_id", text);
        dt_json_kv_string(j, "version", dt_module_version(m, text));
        json_pdb(j, &m->codeview);
        json_module_symbols(j, m, symbolizer);
        dt_json_object_end(j);
    }
    dt_json_array_end(j);
}

static int compare_type_counts(const void *a, const void *b)
{
    return strcmp(((const dt_handle_type_count *)a)->type,
                  ((const dt_handle_type_count *)b)->type);
}

static bool handle_exited(const dt_handle *h)
{
    return h->has_exit_status && h->exit_status != STATUS_PENDING;
}

static size_t find_type(const dt_handle_type_count *counts, size_t used, const char *type)
{
    size_t k = 0;
    while (k < used && strcmp(counts[k].type, type) != 0)
        k++;
    return k;
}

size_t dt_handle_counts(const dt_dump *dump, dt_handle_type_count *out, size_t max)
{
    size_t n, used = 0;
    const dt_handle *handles = dt_dump_handles(dump, &n);
    for (size_t i = 0; i < n && max >= 2; i++) {
        const char *type = handles[i].type_name[0] ? handles[i].type_name : "(unnamed)";
        size_t k = find_type(out, used, type);
        if (k == used && used + 1 >= max) {
            type = "(other)"; /* the last slot collects the types past the cap */
            k = find_type(out, used, type);
        }
        if (k == used)
            out[used++] = (dt_handle_type_count){type, 0, 0};
        out[k].count++;
        out[k].exited += handle_exited(&handles[i]);
    }
    qsort(out, used, sizeof *out, compare_type_counts);
    return used;
}

void dt_json_report_handles(dt_json *j, const dt_dump *dump)
{
    size_t n;
    dt_dump_handles(dump, &n);
    dt_handle_type_count counts[DT_MAX_HANDLE_TYPES];
    size_t types = dt_handle_counts(dump, counts, DT_MAX_HANDLE_TYPES);
    dt_json_key(j, "handles");
    dt_json_object_begin(j);
    dt_json_kv_uint(j, "count", n);
    dt_json_key(j, "by_type");
    dt_json_array_begin(j);
    for (size_t i = 0; i < types; i++) {
        dt_json_object_begin(j);
        dt_json_kv_string(j, "type", counts[i].type);
        dt_json_kv_uint(j, "count", counts[i].count);
        dt_json_kv_uint(j, "exited", counts[i].exited);
        dt_json_object_end(j);
    }
    dt_json_array_end(j);
    dt_json_object_end(j);
}

static size_t memory_type_index(uint32_t type)
{
    switch (type) {
    case MEM_IMAGE: return DT_MEM_IMAGE;
    case MEM_MAPPED: return DT_MEM_MAPPED;
    case MEM_PRIVATE: return DT_MEM_PRIVATE;
    default: return DT_MEM_OTHER;
    }
}

void dt_memory_summarize(const dt_dump *dump, dt_memory_summary *out)
{
    memset(out, 0, sizeof *out);
    const dt_memory_range *ranges = dt_dump_memory_ranges(dump, &out->range_count);
    for (size_t i = 0; i < out->range_count; i++)
        out->range_bytes += ranges[i].size;
    const dt_memory_info *infos = dt_dump_memory_infos(dump, &out->region_count);
    for (size_t i = 0; i < out->region_count; i++) {
        const dt_memory_info *m = &infos[i];
        if (m->state == MEM_COMMIT)
            out->committed[memory_type_index(m->type)] += m->region_size;
        else if (m->state == MEM_RESERVE)
            out->reserved[memory_type_index(m->type)] += m->region_size;
        else if (m->state == MEM_FREE)
            out->free_bytes += m->region_size;
    }
}

static void json_memory_by_type(dt_json *j, const char *key, const uint64_t *bytes)
{
    dt_json_key(j, key);
    dt_json_object_begin(j);
    for (size_t t = 0; t < DT_MEM_TYPES; t++)
        dt_json_kv_uint(j, dt_memory_type_names[t], bytes[t]);
    dt_json_object_end(j);
}

void dt_json_report_memory(dt_json *j, const dt_dump *dump)
{
    dt_memory_summary s;
    dt_memory_summarize(dump, &s);
    dt_json_key(j, "memory");
    dt_json_object_begin(j);
    dt_json_kv_uint(j, "ranges", s.range_count);
    dt_json_kv_uint(j, "bytes", s.range_bytes);
    dt_json_kv_uint(j, "regions", s.region_count);
    json_memory_by_type(j, "committed", s.committed);
    json_memory_by_type(j, "reserved", s.reserved);
    dt_json_object_end(j);
}

void dt_json_diagnostic_items(dt_json *j, const dt_diagnostic *diags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dt_json_object_begin(j);
        dt_json_kv_string(j, "level", dt_diag_level_name(diags[i].level));
        dt_json_kv_string(j, "structure", diags[i].structure);
        dt_json_key(j, "offset");
        diags[i].has_offset ? dt_json_hex(j, diags[i].offset) : dt_json_null(j);
        dt_json_kv_string(j, "message", diags[i].message);
        dt_json_object_end(j);
    }
}

void dt_json_report_diagnostics(dt_json *j, const dt_dump *dump)
{
    size_t n;
    const dt_diagnostic *diags = dt_dump_diagnostics(dump, &n);
    dt_json_key(j, "diagnostics");
    dt_json_array_begin(j);
    dt_json_diagnostic_items(j, diags, n);
    dt_json_array_end(j);
}
