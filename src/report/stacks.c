/* The `stacks` report: every thread's frames, and groups of identical stacks. */
#include "report/report_internal.h"

#include <inttypes.h>
#include <stdio.h>

#include "dumptriage/analysis.h"
#include "dumptriage/unwind.h"

enum { DISPLAY_SIZE = 512 };

static const char *region_type_name(uint32_t type)
{
    switch (type) {
    case 0x20000: return "private";
    case 0x40000: return "mapped";
    case 0x1000000: return "image";
    default: return "unknown";
    }
}

static void json_region(dt_json *j, const dt_frame *f)
{
    dt_json_key(j, "region");
    if (!f->has_region) {
        dt_json_null(j);
        return;
    }
    dt_json_object_begin(j);
    dt_json_kv_string(j, "type", region_type_name(f->region_type));
    dt_json_kv_hex(j, "protect", f->region_protect);
    dt_json_kv_bool(j, "likely_jit", f->likely_jit);
    dt_json_object_end(j);
}

static void json_frame(dt_json *j, const dt_frame *f, size_t index)
{
    char display[DISPLAY_SIZE];
    dt_frame_display(f, display, sizeof display);
    dt_json_object_begin(j);
    dt_json_kv_uint(j, "index", index);
    dt_json_kv_hex(j, "address", f->ip);
    dt_json_kv_hex(j, "sp", f->sp);
    dt_json_kv_string(j, "module", f->module ? f->module->name : NULL);
    dt_json_key(j, "module_offset");
    f->module ? dt_json_hex(j, f->ip - f->module->base) : dt_json_null(j);
    dt_json_kv_string(j, "function", f->function);
    dt_json_key(j, "function_offset");
    f->function ? dt_json_hex(j, f->function_offset) : dt_json_null(j);
    dt_json_kv_string(j, "file", f->file);
    dt_json_key(j, "line");
    f->line ? dt_json_uint(j, f->line) : dt_json_null(j);
    dt_json_key(j, "inlined");
    dt_json_array_begin(j);
    for (size_t i = 0; i < f->inline_count; i++) {
        dt_json_object_begin(j);
        dt_json_kv_string(j, "function", f->inlines[i].function);
        dt_json_kv_string(j, "file", f->inlines[i].file);
        dt_json_key(j, "line");
        f->inlines[i].line ? dt_json_uint(j, f->inlines[i].line) : dt_json_null(j);
        dt_json_object_end(j);
    }
    dt_json_array_end(j);
    dt_json_kv_string(j, "trust", dt_frame_trust_name(f->trust));
    dt_json_kv_string(j, "display", display);
    dt_json_kv_bool(j, "on_stack", f->on_stack);
    json_region(j, f);
    dt_json_object_end(j);
}

/* The analysis facts of `thread_id`, or NULL. */
static const dt_thread_facts *facts_of(const dt_analysis *analysis, uint32_t thread_id)
{
    size_t n = 0;
    const dt_thread_facts *facts = analysis ? dt_analysis_threads(analysis, &n) : NULL;
    for (size_t i = 0; i < n; i++)
        if (facts[i].thread_id == thread_id)
            return &facts[i];
    return NULL;
}

static void json_thread_state(dt_json *j, const dt_thread_facts *facts)
{
    dt_json_kv_string(j, "state", dt_thread_state_name(facts->state));
    dt_json_kv_string(j, "wait", dt_wait_kind_name(facts->wait));
}

static void json_thread(dt_json *j, const dt_thread_stack *s, const dt_analysis *analysis)
{
    const dt_thread *t = s->thread;
    dt_json_object_begin(j);
    dt_json_kv_uint(j, "id", t->id);
    dt_json_kv_string(j, "name", t->name);
    dt_json_kv_hex(j, "stack_start", t->stack_start);
    dt_json_kv_uint(j, "stack_size", t->stack_size);
    dt_json_report_registers(j, &t->context, t->has_context);
    dt_json_kv_bool(j, "from_exception", s->from_exception);
    dt_json_kv_bool(j, "wow64", s->wow64);
    const dt_thread_facts *facts = facts_of(analysis, t->id);
    if (facts)
        json_thread_state(j, facts);
    dt_json_key(j, "frames");
    dt_json_array_begin(j);
    for (size_t i = 0; i < s->frame_count; i++)
        json_frame(j, &s->frames[i], i);
    dt_json_array_end(j);
    dt_json_kv_string(j, "end_reason", s->end_reason);
    dt_json_object_end(j);
}

void dt_json_report_threads(dt_json *j, const dt_stacks *stacks, const dt_analysis *analysis)
{
    size_t n;
    const dt_thread_stack *threads = dt_stacks_threads(stacks, &n);
    dt_json_key(j, "threads");
    dt_json_array_begin(j);
    for (size_t i = 0; i < n; i++)
        json_thread(j, &threads[i], analysis);
    dt_json_array_end(j);
}

void dt_json_report_stack_groups(dt_json *j, const dt_stacks *stacks)
{
    size_t n, thread_count;
    const dt_stack_group *groups = dt_stacks_groups(stacks, &n);
    const dt_thread_stack *threads = dt_stacks_threads(stacks, &thread_count);
    char display[DISPLAY_SIZE];
    dt_json_key(j, "stack_groups");
    dt_json_array_begin(j);
    for (size_t g = 0; g < n; g++) {
        const dt_thread_stack *first = &threads[groups[g].threads[0]];
        dt_json_object_begin(j);
        dt_json_kv_uint(j, "count", groups[g].thread_count);
        dt_json_key(j, "thread_ids");
        dt_json_array_begin(j);
        for (size_t i = 0; i < groups[g].thread_count; i++)
            dt_json_uint(j, threads[groups[g].threads[i]].thread->id);
        dt_json_array_end(j);
        dt_json_key(j, "frames");
        dt_json_array_begin(j);
        for (size_t i = 0; i < first->frame_count; i++) {
            dt_frame_display(&first->frames[i], display, sizeof display);
            dt_json_string(j, display);
        }
        dt_json_array_end(j);
        dt_json_object_end(j);
    }
    dt_json_array_end(j);
}

void dt_json_report_all_diagnostics(dt_json *j, const dt_dump *dump, const dt_stacks *stacks,
                                    dt_image_set *images, dt_symbolizer *symbols)
{
    size_t n;
    const dt_diagnostic *diags;
    dt_json_key(j, "diagnostics");
    dt_json_array_begin(j);
    diags = dt_dump_diagnostics(dump, &n);
    dt_json_diagnostic_items(j, diags, n);
    if (images) {
        diags = dt_image_set_diagnostics(images, &n);
        dt_json_diagnostic_items(j, diags, n);
    }
    if (symbols) {
        diags = dt_symbolizer_diagnostics(symbols, &n);
        dt_json_diagnostic_items(j, diags, n);
    }
    diags = dt_stacks_diagnostics(stacks, &n);
    dt_json_diagnostic_items(j, diags, n);
    dt_json_array_end(j);
}

static void json_stacks(dt_json *j, const dt_dump *dump, const dt_stacks *stacks,
                        dt_image_set *images, dt_symbolizer *symbols)
{
    dt_json_report_begin(j, dump, "stacks");
    dt_json_report_system(j, dump);
    dt_json_report_process(j, dump);
    dt_json_report_exception(j, dump);
    dt_json_report_modules(j, dump, symbols);
    dt_json_report_threads(j, stacks, NULL);
    dt_json_report_stack_groups(j, stacks);
    dt_json_report_all_diagnostics(j, dump, stacks, images, symbols);
    dt_json_object_end(j);
}

/* ---- Text ------------------------------------------------------------------ */

static void text_source(dt_strbuf *out, const char *file, uint32_t line)
{
    if (file)
        dt_strbuf_printf(out, "  [%s:%u]", file, line);
}

static void text_frames(dt_strbuf *out, const dt_thread_stack *s)
{
    char display[DISPLAY_SIZE];
    for (size_t i = 0; i < s->frame_count; i++) {
        const dt_frame *f = &s->frames[i];
        for (size_t k = 0; k < f->inline_count; k++) {
            dt_strbuf_printf(out, "  %-55s  (inline) %s", "", f->inlines[k].function);
            text_source(out, f->inlines[k].file, f->inlines[k].line);
            dt_strbuf_puts(out, "\n");
        }
        dt_frame_display(f, display, sizeof display);
        dt_strbuf_printf(out, "  %02zu  0x%016" PRIx64 "  0x%016" PRIx64 "  %-13s  %s", i, f->ip,
                         f->sp, dt_frame_trust_name(f->trust), display);
        text_source(out, f->file, f->line);
        if (f->likely_jit)
            dt_strbuf_puts(out, "  (private executable memory: likely JIT code)");
        if (f->on_stack)
            dt_strbuf_puts(out, "  (on the thread's stack)");
        dt_strbuf_puts(out, "\n");
    }
    if (s->end_reason)
        dt_strbuf_printf(out, "      (walk ended: %s)\n", s->end_reason);
}

static void text_thread_ids(dt_strbuf *out, const dt_thread_stack *threads,
                            const dt_stack_group *g)
{
    for (size_t i = 0; i < g->thread_count; i++)
        dt_strbuf_printf(out, "%s%u", i ? ", " : "", threads[g->threads[i]].thread->id);
}

void dt_text_stack_groups(dt_strbuf *out, const dt_stacks *stacks)
{
    size_t n, count;
    const dt_stack_group *groups = dt_stacks_groups(stacks, &n);
    const dt_thread_stack *threads = dt_stacks_threads(stacks, &count);
    dt_strbuf_printf(out, "\nStacks: %zu threads, %zu distinct stacks\n", count, n);
    for (size_t g = 0; g < n; g++) {
        dt_strbuf_printf(out, "\n%zu thread%s: ", groups[g].thread_count,
                         groups[g].thread_count == 1 ? "" : "s");
        text_thread_ids(out, threads, &groups[g]);
        dt_strbuf_puts(out, "\n");
        text_frames(out, &threads[groups[g].threads[0]]);
    }
}

static void text_threads(dt_strbuf *out, const dt_stacks *stacks)
{
    size_t n;
    const dt_thread_stack *threads = dt_stacks_threads(stacks, &n);
    dt_strbuf_printf(out, "\nStacks: %zu threads\n", n);
    for (size_t i = 0; i < n; i++) {
        const dt_thread *t = threads[i].thread;
        dt_strbuf_printf(out, "\nThread %u%s%s%s%s%s\n", t->id, t->name ? " \"" : "",
                         t->name ? t->name : "", t->name ? "\"" : "",
                         threads[i].from_exception ? " (exception context)" : "",
                         threads[i].wow64 ? " (WOW64: 32-bit stack)" : "");
        text_frames(out, &threads[i]);
    }
}

void dt_text_all_diagnostics(dt_strbuf *out, const dt_dump *dump, const dt_stacks *stacks,
                             dt_image_set *images, dt_symbolizer *symbols)
{
    size_t a, b = 0, c = 0, d;
    const dt_diagnostic *dump_diags = dt_dump_diagnostics(dump, &a);
    const dt_diagnostic *image_diags = images ? dt_image_set_diagnostics(images, &b) : NULL;
    const dt_diagnostic *symbol_diags = symbols ? dt_symbolizer_diagnostics(symbols, &c) : NULL;
    const dt_diagnostic *walk_diags = dt_stacks_diagnostics(stacks, &d);
    dt_strbuf_printf(out, "\nDiagnostics (%zu):\n", a + b + c + d);
    dt_text_diagnostic_items(out, dump_diags, a);
    dt_text_diagnostic_items(out, image_diags, b);
    dt_text_diagnostic_items(out, symbol_diags, c);
    dt_text_diagnostic_items(out, walk_diags, d);
}

char *dt_report_stacks(const dt_dump *dump, const dt_stacks *stacks, dt_image_set *images,
                       dt_symbolizer *symbols, dt_format format, bool group)
{
    dt_strbuf out = {0};
    if (format != DT_FORMAT_TEXT) {
        dt_json j;
        dt_json_init_for(&j, &out, format);
        json_stacks(&j, dump, stacks, images, symbols);
    } else {
        dt_strbuf_printf(&out, "%s\n", dt_dump_path(dump));
        dt_text_summary(&out, dump);
        group ? dt_text_stack_groups(&out, stacks) : text_threads(&out, stacks);
        dt_text_all_diagnostics(&out, dump, stacks, images, symbols);
    }
    return dt_strbuf_take(&out);
}
