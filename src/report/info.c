/* The `info` report: everything the reader decoded, as JSON or text. */
#include "report/report_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/text.h"

static void json_threads(dt_json *j, const dt_dump *dump)
{
    size_t n;
    const dt_thread *threads = dt_dump_threads(dump, &n);
    char when[32];
    dt_json_key(j, "threads");
    dt_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        const dt_thread *t = &threads[i];
        dt_json_object_begin(j);
        dt_json_kv_uint(j, "id", t->id);
        dt_json_kv_string(j, "name", t->name);
        dt_json_kv_uint(j, "suspend_count", t->suspend_count);
        dt_json_kv_hex(j, "priority_class", t->priority_class);
        dt_json_kv_int(j, "priority", (int32_t)t->priority);
        dt_json_kv_hex(j, "teb", t->teb);
        dt_json_kv_hex(j, "stack_start", t->stack_start);
        dt_json_kv_uint(j, "stack_size", t->stack_size);
        dt_json_report_registers(j, &t->context, t->has_context);
        dt_json_key(j, "times");
        if (t->has_times) {
            dt_json_object_begin(j);
            dt_format_utc(when, dt_filetime_to_unix(t->times.create_time));
            dt_json_kv_string(j, "create_time", when[0] ? when : NULL);
            dt_json_kv_uint(j, "user_ms", t->times.user_time / 10000);
            dt_json_kv_uint(j, "kernel_ms", t->times.kernel_time / 10000);
            dt_json_kv_hex(j, "start_address", t->times.start_address);
            dt_json_kv_hex(j, "exit_status", t->times.exit_status);
            dt_json_object_end(j);
        } else {
            dt_json_null(j);
        }
        dt_json_object_end(j);
    }
    dt_json_array_end(j);
}

static void json_unloaded(dt_json *j, const dt_dump *dump)
{
    size_t n;
    const dt_unloaded_module *mods = dt_dump_unloaded_modules(dump, &n);
    dt_json_key(j, "unloaded_modules");
    dt_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        dt_json_object_begin(j);
        dt_json_kv_string(j, "name", dt_path_basename(mods[i].name));
        dt_json_kv_hex(j, "base", mods[i].base);
        dt_json_kv_uint(j, "size", mods[i].size);
        dt_json_kv_hex(j, "timestamp", mods[i].timestamp);
        dt_json_object_end(j);
    }
    dt_json_array_end(j);
}

static void json_assertion(dt_json *j, const dt_dump *dump)
{
    const dt_assertion *a = dt_dump_assertion(dump);
    dt_json_key(j, "assertion");
    if (!a) {
        dt_json_null(j);
        return;
    }
    dt_json_object_begin(j);
    dt_json_kv_string(j, "expression", a->expression);
    dt_json_kv_string(j, "function", a->function);
    dt_json_kv_string(j, "file", a->file);
    dt_json_kv_uint(j, "line", a->line);
    dt_json_kv_string(j, "type", a->type == 1 ? "InvalidParameter"
                                 : a->type == 2 ? "PureVirtualCall" : "Unknown");
    dt_json_object_end(j);
}

static void json_stability(dt_json *j, const dt_dump *dump)
{
    const dt_stability_report *s = dt_dump_stability_report(dump);
    dt_json_key(j, "stability_report");
    if (!s) {
        dt_json_null(j);
        return;
    }
    dt_json_object_begin(j);
    dt_json_kv_uint(j, "process_id", s->process_id);
    dt_json_kv_uint(j, "process_private_usage", s->process_private_usage);
    dt_json_kv_uint(j, "process_peak_working_set", s->process_peak_working_set);
    dt_json_kv_uint(j, "process_peak_pagefile_usage", s->process_peak_pagefile_usage);
    dt_json_kv_uint(j, "process_handle_count", s->process_handle_count);
    dt_json_kv_uint(j, "system_commit_limit", s->system_commit_limit);
    dt_json_kv_uint(j, "system_commit_remaining", s->system_commit_remaining);
    dt_json_kv_uint(j, "system_handle_count", s->system_handle_count);
    dt_json_object_end(j);
}

static void json_info(dt_json *j, const dt_dump *dump)
{
    dt_json_report_begin(j, dump, "info");
    dt_json_report_system(j, dump);
    dt_json_report_process(j, dump);
    dt_json_report_exception(j, dump);
    json_assertion(j, dump);
    dt_json_kv_string(j, "comment", dt_dump_comment(dump));
    json_stability(j, dump);
    dt_json_report_modules(j, dump, NULL);
    json_unloaded(j, dump);
    json_threads(j, dump);
    dt_json_report_handles(j, dump);
    dt_json_report_memory(j, dump);
    dt_json_report_diagnostics(j, dump);
    dt_json_object_end(j);
}

char *dt_report_info(const dt_dump *dump, dt_format format)
{
    dt_strbuf out = {0};
    if (format != DT_FORMAT_TEXT) {
        dt_json j;
        dt_json_init_for(&j, &out, format);
        json_info(&j, dump);
    } else {
        dt_text_info(&out, dump);
    }
    return dt_strbuf_take(&out);
}

char *dt_report_error(const char *file, const char *stage, const dt_error *error,
                      dt_format format)
{
    dt_strbuf out = {0};
    if (format == DT_FORMAT_TEXT) {
        dt_strbuf_printf(&out, "error: %s\n", error->message);
        return dt_strbuf_take(&out);
    }
    dt_json j;
    dt_json_init_for(&j, &out, format);
    dt_json_object_begin(&j);
    dt_json_kv_string(&j, "schema_version", DT_REPORT_SCHEMA_VERSION);
    dt_json_kv_string(&j, "file", file);
    dt_json_key(&j, "error");
    dt_json_object_begin(&j);
    dt_json_kv_string(&j, "stage", stage);
    dt_json_kv_string(&j, "status", dt_status_name(error->status));
    dt_json_kv_string(&j, "message", error->message);
    dt_json_key(&j, "offset");
    error->has_offset ? dt_json_hex(&j, error->offset) : dt_json_null(&j);
    dt_json_object_end(&j);
    dt_json_object_end(&j);
    return dt_strbuf_take(&out);
}
