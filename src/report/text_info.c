/* The text form of the `info` report: a summary first, then the tables. */
#include "report/report_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/text.h"

static void text_dump_line(dt_strbuf *out, const dt_dump *dump)
{
    const dt_dump_header *h = dt_dump_header_get(dump);
    char when[32];
    dt_format_utc(when, h->timestamp);
    dt_strbuf_printf(out, "Dump:      %s dump, %" PRIu64 " bytes%s, written %s, flags 0x%" PRIx64,
                     dt_dump_kind_name(dt_dump_kind_get(dump)), dt_dump_file_size(dump),
                     dt_dump_was_compressed(dump) ? " (inflated from gzip)" : "",
                     when[0] ? when : "(no timestamp)", h->flags);
    const char *sep = " (";
    for (unsigned bit = 0; bit < 64; bit++)
        if ((h->flags >> bit) & 1) {
            const char *name = dt_minidump_flag_name(bit);
            dt_strbuf_printf(out, "%s%s", sep, name ? name : "unknown");
            sep = ", ";
        }
    dt_strbuf_puts(out, h->flags ? ")\n" : "\n");
}

static void text_system_line(dt_strbuf *out, const dt_dump *dump)
{
    const dt_system_info *s = dt_dump_system_info(dump);
    if (!s) {
        dt_strbuf_puts(out, "System:    (no SystemInfo stream)\n");
        return;
    }
    dt_strbuf_printf(out, "System:    %s %u.%u.%u%s%s, %s, %u CPU%s", dt_os_name(s), s->major,
                     s->minor, s->build, s->csd[0] ? " " : "", s->csd, dt_cpu_name(s->cpu),
                     s->processor_count, s->processor_count == 1 ? "" : "s");
    dt_strbuf_printf(out, ", %s%sfamily %u model %u stepping %u\n", s->vendor,
                     s->vendor[0] ? " " : "", s->cpu_family, s->cpu_model, s->cpu_stepping);
}

static void text_process_line(dt_strbuf *out, const dt_dump *dump)
{
    const dt_misc_info *m = dt_dump_misc_info(dump);
    const char *name = dt_dump_process_name(dump);
    uint64_t uptime;
    char duration[32];
    dt_strbuf_printf(out, "Process:   %s", name ? name : "(unknown)");
    if (m && (m->flags1 & DT_MISC1_PROCESS_ID))
        dt_strbuf_printf(out, ", pid %u", m->process_id);
    if (dt_dump_process_uptime(dump, &uptime)) {
        dt_format_duration(duration, uptime);
        dt_strbuf_printf(out, ", up %s", duration);
    }
    if (m && (m->flags1 & DT_MISC1_PROCESS_TIMES))
        dt_strbuf_printf(out, ", cpu user %us kernel %us", m->process_user_time,
                         m->process_kernel_time);
    dt_strbuf_puts(out, "\n");
    if (dt_dump_command_line(dump))
        dt_strbuf_printf(out, "Command:   %s\n", dt_dump_command_line(dump));
}

static void text_exception_line(dt_strbuf *out, const dt_dump *dump)
{
    const dt_exception *e = dt_dump_exception(dump);
    if (!e) {
        dt_strbuf_puts(out, "Exception: none\n");
        return;
    }
    const char *name = dt_exception_code_name(e->code);
    dt_strbuf_printf(out, "Exception: 0x%08x %s at 0x%" PRIx64 " on thread %u", e->code,
                     name ? name : "(unknown code)", e->address, e->thread_id);
    const dt_module *m = dt_dump_module_at(dump, e->address);
    if (m)
        dt_strbuf_printf(out, " (%s+0x%" PRIx64 ")", m->name, e->address - m->base);
    if (e->code == 0xC0000005 && e->parameter_count >= 2) {
        uint64_t kind = e->parameters[0];
        const char *access = kind == 0 ? "read" : kind == 1 ? "write" : kind == 8 ? "execute"
                                                                                  : "access";
        dt_strbuf_printf(out, ": %s of 0x%" PRIx64, access, e->parameters[1]);
    }
    dt_strbuf_puts(out, "\n");
    const dt_assertion *a = dt_dump_assertion(dump);
    if (a)
        dt_strbuf_printf(out, "Assertion: %s in %s (%s:%u)\n", a->expression, a->function,
                         a->file, a->line);
}

static void text_modules(dt_strbuf *out, const dt_dump *dump)
{
    size_t n;
    const dt_module *modules = dt_dump_modules(dump, &n);
    char version[32];
    dt_strbuf_printf(out, "\nModules (%zu):\n", n);
    if (n)
        dt_strbuf_puts(out, "  BASE                END                 TIMESTAMP  VERSION          "
                            "NAME  [PDB]\n");
    for (size_t i = 0; i < n; i++) {
        const dt_module *m = &modules[i];
        const char *v = dt_module_version(m, version);
        dt_strbuf_printf(out, "  0x%016" PRIx64 "  0x%016" PRIx64 "  %08x   %-15s  %s", m->base,
                         m->base + m->size, m->timestamp, v ? v : "-", m->name);
        if (m->codeview.kind != DT_CV_NONE) {
            char id[48];
            dt_codeview_debug_id(&m->codeview, id);
            dt_strbuf_printf(out, "  [%s %s]", dt_path_basename(m->codeview.pdb_path), id);
        }
        dt_strbuf_puts(out, "\n");
    }
}

static void text_thread_row(dt_strbuf *out, const dt_thread *t)
{
    dt_strbuf_printf(out, "  %-6u %-16.16s %3u %5d  0x%012" PRIx64 "  0x%012" PRIx64 "+%-7x",
                     t->id, t->name ? t->name : "-", t->suspend_count, (int32_t)t->priority,
                     t->teb, t->stack_start, t->stack_size);
    if (t->has_context)
        dt_strbuf_printf(out, "  0x%012" PRIx64 "  0x%012" PRIx64, dt_context_ip(&t->context),
                         dt_context_sp(&t->context));
    else
        dt_strbuf_printf(out, "  %-14s  %-14s", "-", "-");
    if (t->has_times)
        dt_strbuf_printf(out, "  %8" PRIu64 "ms %8" PRIu64 "ms", t->times.user_time / 10000,
                         t->times.kernel_time / 10000);
    dt_strbuf_puts(out, "\n");
}

static void text_threads(dt_strbuf *out, const dt_dump *dump)
{
    size_t n;
    const dt_thread *threads = dt_dump_threads(dump, &n);
    dt_strbuf_printf(out, "\nThreads (%zu):\n", n);
    if (n)
        dt_strbuf_puts(out, "  ID     NAME             SUS  PRIO  TEB             STACK       "
                            "              IP              SP              USER      KERNEL\n");
    for (size_t i = 0; i < n; i++)
        text_thread_row(out, &threads[i]);
}

static void text_handles(dt_strbuf *out, const dt_dump *dump)
{
    size_t n;
    dt_dump_handles(dump, &n);
    if (n == 0)
        return;
    dt_handle_type_count counts[DT_MAX_HANDLE_TYPES];
    size_t types = dt_handle_counts(dump, counts, DT_MAX_HANDLE_TYPES);
    dt_strbuf_printf(out, "\nHandles (%zu):", n);
    for (size_t i = 0; i < types; i++) {
        dt_strbuf_printf(out, "%s %s %zu", i ? "," : "", counts[i].type, counts[i].count);
        if (counts[i].exited)
            dt_strbuf_printf(out, " (%zu exited)", counts[i].exited);
    }
    dt_strbuf_puts(out, "\n");
}

static void text_memory(dt_strbuf *out, const dt_dump *dump)
{
    dt_memory_summary s;
    dt_memory_summarize(dump, &s);
    dt_strbuf_printf(out, "\nMemory:    %zu ranges, %" PRIu64 " bytes present\n", s.range_count,
                     s.range_bytes);
    if (s.region_count == 0)
        return;
    dt_strbuf_printf(out, "Regions:   %zu;", s.region_count);
    for (size_t t = 0; t < DT_MEM_TYPES; t++)
        dt_strbuf_printf(out, " committed %s %" PRIu64 " KiB;", dt_memory_type_names[t],
                         s.committed[t] / 1024);
    for (size_t t = 0; t < DT_MEM_TYPES; t++)
        dt_strbuf_printf(out, " reserved %s %" PRIu64 " KiB%s", dt_memory_type_names[t],
                         s.reserved[t] / 1024, t + 1 < DT_MEM_TYPES ? ";" : "\n");
}

void dt_text_diagnostic_items(dt_strbuf *out, const dt_diagnostic *diags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dt_strbuf_printf(out, "  %-7s %s", dt_diag_level_name(diags[i].level), diags[i].structure);
        if (diags[i].has_offset)
            dt_strbuf_printf(out, " at offset 0x%" PRIx64, diags[i].offset);
        dt_strbuf_printf(out, ": %s\n", diags[i].message);
    }
}

static void text_diagnostics(dt_strbuf *out, const dt_dump *dump)
{
    size_t n;
    const dt_diagnostic *diags = dt_dump_diagnostics(dump, &n);
    dt_strbuf_printf(out, "\nDiagnostics (%zu):\n", n);
    dt_text_diagnostic_items(out, diags, n);
}

void dt_text_summary(dt_strbuf *out, const dt_dump *dump)
{
    text_dump_line(out, dump);
    text_system_line(out, dump);
    text_process_line(out, dump);
    text_exception_line(out, dump);
}

void dt_text_info(dt_strbuf *out, const dt_dump *dump)
{
    dt_strbuf_printf(out, "%s\n", dt_dump_path(dump));
    dt_text_summary(out, dump);
    text_modules(out, dump);
    text_threads(out, dump);
    text_handles(out, dump);
    text_memory(out, dump);
    text_diagnostics(out, dump);
}
