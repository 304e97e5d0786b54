/* The `analyze` report: verdict, findings, locks, stacks and facts. */
#include "report/report_internal.h"

#include <inttypes.h>
#include <stdio.h>

#include "dumptriage/triage.h"

/* ---- JSON ------------------------------------------------------------------ */

static void json_uint_array(dt_json *j, const char *key, const uint32_t *values, size_t n)
{
    dt_json_key(j, key);
    dt_json_array_begin(j);
    for (size_t i = 0; i < n; i++)
        dt_json_uint(j, values[i]);
    dt_json_array_end(j);
}

static void json_string_array(dt_json *j, const char *key, const char *const *values, size_t n)
{
    dt_json_key(j, key);
    dt_json_array_begin(j);
    for (size_t i = 0; i < n; i++)
        dt_json_string(j, values[i]);
    dt_json_array_end(j);
}

static void json_evidence(dt_json *j, const dt_finding *f)
{
    dt_json_key(j, "evidence");
    dt_json_object_begin(j);
    dt_json_key(j, "threads");
    dt_json_array_begin(j);
    for (size_t i = 0; i < f->evidence_count; i++) {
        const dt_finding_thread *e = &f->evidence[i];
        dt_json_object_begin(j);
        dt_json_kv_uint(j, "thread_id", e->thread_id);
        dt_json_kv_string(j, "label", e->label);
        json_string_array(j, "frames", e->frames, e->frame_count);
        dt_json_object_end(j);
    }
    dt_json_array_end(j);
    dt_json_key(j, "locks");
    dt_json_array_begin(j);
    for (size_t i = 0; i < f->lock_count; i++) {
        const dt_finding_lock *l = &f->locks[i];
        dt_json_object_begin(j);
        dt_json_kv_string(j, "kind", dt_lock_kind_name(l->kind));
        dt_json_key(j, "address");
        l->address ? dt_json_hex(j, l->address) : dt_json_null(j);
        dt_json_key(j, "owner_thread_id");
        l->has_owner ? dt_json_uint(j, l->owner_thread_id) : dt_json_null(j);
        dt_json_kv_bool(j, "owner_alive", l->owner_alive);
        dt_json_kv_uint(j, "waiter_count", l->waiter_count);
        dt_json_object_end(j);
    }
    dt_json_array_end(j);
    dt_json_key(j, "variables");
    dt_json_object_begin(j);
    for (size_t i = 0; i < f->variable_count; i++)
        dt_json_kv_string(j, f->variables[i].name, f->variables[i].value);
    dt_json_object_end(j);
    dt_json_object_end(j);
}

static void json_finding(dt_json *j, const dt_finding *f)
{
    dt_json_object_begin(j);
    dt_json_kv_string(j, "rule_id", f->rule_id);
    dt_json_kv_string(j, "severity", dt_severity_name(f->severity));
    dt_json_kv_string(j, "title", f->title);
    dt_json_kv_string(j, "summary", f->summary);
    json_uint_array(j, "thread_ids", f->thread_ids, f->thread_id_count);
    json_evidence(j, f);
    dt_json_kv_string(j, "explanation", f->explanation);
    dt_json_kv_string(j, "advice", f->advice);
    json_string_array(j, "references", f->references, f->reference_count);
    dt_json_object_end(j);
}

static void json_locks(dt_json *j, const dt_analysis *analysis)
{
    size_t n = 0;
    const dt_lock *locks = analysis ? dt_analysis_locks(analysis, &n) : NULL;
    dt_json_key(j, "locks");
    dt_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        dt_json_object_begin(j);
        dt_json_key(j, "address");
        locks[i].address ? dt_json_hex(j, locks[i].address) : dt_json_null(j);
        dt_json_kv_string(j, "kind", dt_lock_kind_name(locks[i].kind));
        dt_json_key(j, "owner_thread_id");
        locks[i].has_owner ? dt_json_uint(j, locks[i].owner_thread_id) : dt_json_null(j);
        json_uint_array(j, "waiter_thread_ids", locks[i].waiter_thread_ids, locks[i].waiter_count);
        dt_json_object_end(j);
    }
    dt_json_array_end(j);
}

static void json_analyze(dt_json *j, const dt_triage *t)
{
    const dt_dump *dump = dt_triage_dump(t);
    size_t n;
    const dt_finding *findings = dt_triage_findings(t, &n);
    dt_json_report_begin(j, dump, "analyze");
    dt_json_kv_string(j, "verdict", dt_triage_verdict(t));
    dt_json_key(j, "bucket");
    dt_json_object_begin(j);
    dt_json_kv_string(j, "signature", dt_triage_bucket_signature(t));
    dt_json_kv_string(j, "hash", dt_triage_bucket_hash(t));
    dt_json_object_end(j);
    dt_json_key(j, "findings");
    dt_json_array_begin(j);
    for (size_t i = 0; i < n; i++)
        json_finding(j, &findings[i]);
    dt_json_array_end(j);
    json_locks(j, dt_triage_analysis(t));
    dt_json_report_system(j, dump);
    dt_json_report_process(j, dump);
    dt_json_report_exception(j, dump);
    dt_json_report_modules(j, dump, dt_triage_symbolizer(t));
    if (dt_triage_stacks(t)) {
        dt_json_report_threads(j, dt_triage_stacks(t), dt_triage_analysis(t));
        dt_json_report_stack_groups(j, dt_triage_stacks(t));
        dt_json_report_all_diagnostics(j, dump, dt_triage_stacks(t), dt_triage_images(t),
                                       dt_triage_symbolizer(t));
    } else {
        dt_json_report_diagnostics(j, dump);
    }
    dt_json_object_end(j);
}

/* ---- Text ------------------------------------------------------------------ */

static void text_thread_list(dt_strbuf *out, const uint32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dt_strbuf_printf(out, "%s%u", i ? ", " : "", ids[i]);
}

static void text_evidence(dt_strbuf *out, const dt_finding *f)
{
    enum { SHOWN = 3 }; /* threads shown per finding; the rest are counted */
    for (size_t i = 0; i < f->evidence_count && i < SHOWN; i++) {
        const dt_finding_thread *e = &f->evidence[i];
        dt_strbuf_printf(out, "    thread %u%s%s%s:", e->thread_id, e->label ? " (" : "",
                         e->label ? e->label : "", e->label ? ")" : "");
        for (size_t k = 0; k < e->frame_count; k++)
            dt_strbuf_printf(out, "%s%s", k ? " <- " : " ", e->frames[k]);
        dt_strbuf_puts(out, "\n");
    }
    if (f->evidence_count > SHOWN)
        dt_strbuf_printf(out, "    ... and %zu more threads\n", f->evidence_count - SHOWN);
    for (size_t i = 0; i < f->lock_count; i++) {
        const dt_finding_lock *l = &f->locks[i];
        dt_strbuf_printf(out, "    %s 0x%" PRIx64, dt_lock_kind_name(l->kind), l->address);
        if (l->has_owner)
            dt_strbuf_printf(out, " owned by thread %u (%s)", l->owner_thread_id,
                             l->owner_alive ? "alive" : "gone");
        dt_strbuf_printf(out, ", %zu waiter%s\n", l->waiter_count, l->waiter_count == 1 ? "" : "s");
    }
}

static void text_finding(dt_strbuf *out, const dt_finding *f)
{
    dt_strbuf_printf(out, "\n[%s] %s: %s\n  %s\n", dt_severity_name(f->severity), f->rule_id,
                     f->title, f->summary);
    if (f->thread_id_count) {
        dt_strbuf_puts(out, "  Threads: ");
        text_thread_list(out, f->thread_ids, f->thread_id_count);
        dt_strbuf_puts(out, "\n");
    }
    if (f->evidence_count || f->lock_count) {
        dt_strbuf_puts(out, "  Evidence:\n");
        text_evidence(out, f);
    }
    if (f->explanation && *f->explanation)
        dt_strbuf_printf(out, "  Why: %s\n", f->explanation);
    if (f->advice && *f->advice)
        dt_strbuf_printf(out, "  What to do: %s\n", f->advice);
    for (size_t i = 0; i < f->reference_count; i++)
        dt_strbuf_printf(out, "  See: %s\n", f->references[i]);
}

static void text_analyze(dt_strbuf *out, const dt_triage *t)
{
    const dt_dump *dump = dt_triage_dump(t);
    size_t n;
    const dt_finding *findings = dt_triage_findings(t, &n);
    dt_strbuf_printf(out, "%s\n%s\n", dt_dump_path(dump), dt_triage_verdict(t));
    dt_strbuf_printf(out, "\nFindings (%zu):%s\n", n, n ? "" : " none");
    for (size_t i = 0; i < n; i++)
        text_finding(out, &findings[i]);
    if (dt_triage_stacks(t))
        dt_text_stack_groups(out, dt_triage_stacks(t));
    dt_strbuf_puts(out, "\n");
    dt_text_summary(out, dump);
    dt_strbuf_printf(out, "Bucket:    %s [%s]\n", dt_triage_bucket_signature(t),
                     dt_triage_bucket_hash(t));
    if (dt_triage_stacks(t))
        dt_text_all_diagnostics(out, dump, dt_triage_stacks(t), dt_triage_images(t),
                                dt_triage_symbolizer(t));
}

char *dt_report_analyze(const dt_triage *triage, dt_format format)
{
    dt_strbuf out = {0};
    if (format != DT_FORMAT_TEXT) {
        dt_json j;
        dt_json_init_for(&j, &out, format);
        json_analyze(&j, triage);
    } else {
        text_analyze(&out, triage);
    }
    return dt_strbuf_take(&out);
}
