/* Batch reports: dispatch by format, and the text, JSON and NDJSON forms. */
#include "report/batch_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool dt_batch_format_parse(const char *name, dt_batch_format *out)
{
    static const char *const names[] = {"text", "json", "ndjson", "junit", "sarif", "html"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (dt_batch_format)i;
            return true;
        }
    return false;
}

static void fill_outcome(const dt_triage *t, const dt_error *err, int fail_on,
                         dt_batch_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->max_severity = -1;
    if (!t) {
        o->failed = true;
        snprintf(o->verdict, sizeof o->verdict, "UNREADABLE: %s", err ? err->message : "");
        return;
    }
    snprintf(o->verdict, sizeof o->verdict, "%s", dt_triage_verdict(t));
    size_t n;
    const dt_finding *findings = dt_triage_findings(t, &n);
    for (size_t i = 0; i < n; i++) {
        int severity = (int)findings[i].severity;
        o->findings[severity]++;
        if (severity > o->max_severity)
            o->max_severity = severity;
    }
    o->fails = fail_on >= 0 && o->max_severity >= fail_on;
    snprintf(o->bucket_hash, sizeof o->bucket_hash, "%s", dt_triage_bucket_hash(t));
}

static char *json_entry(dt_batch_format format, const char *path, const dt_triage *t,
                        const dt_error *err)
{
    dt_format f = format == DT_BATCH_NDJSON ? DT_FORMAT_NDJSON : DT_FORMAT_JSON;
    return t ? dt_report_analyze(t, f) : dt_report_error(path, "read", err, f);
}

static char *text_entry(const char *path, const dt_triage *t, const dt_error *err)
{
    if (t)
        return dt_report_analyze(t, DT_FORMAT_TEXT);
    dt_strbuf out = {0};
    dt_strbuf_printf(&out, "%s\nERROR: %s\n", path, err->message);
    return dt_strbuf_take(&out);
}

char *dt_batch_entry(dt_batch_format format, const char *path, const dt_triage *triage,
                     const dt_error *error, int fail_on, dt_batch_outcome *outcome)
{
    fill_outcome(triage, error, fail_on, outcome);
    switch (format) {
    case DT_BATCH_JSON:
    case DT_BATCH_NDJSON: return json_entry(format, path, triage, error);
    case DT_BATCH_JUNIT: return dt_junit_entry(path, triage, error, fail_on);
    case DT_BATCH_SARIF: return dt_sarif_entry(path, triage, error);
    case DT_BATCH_HTML: return dt_html_entry(path, triage, error);
    default: return text_entry(path, triage, error);
    }
}

static char *text_footer(const dt_batch_totals *t)
{
    dt_strbuf out = {0};
    dt_strbuf_printf(&out, "\n%zu dump%s: %zu unreadable; findings: %zu error, %zu warning, "
                     "%zu info\n", t->dumps, t->dumps == 1 ? "" : "s", t->failed,
                     t->findings[DT_SEVERITY_ERROR], t->findings[DT_SEVERITY_WARNING],
                     t->findings[DT_SEVERITY_INFO]);
    return dt_strbuf_take(&out);
}

static char *copy_text(const char *text)
{
    return strdup(text);
}

char *dt_batch_header(dt_batch_format format, const dt_batch_totals *totals,
                      const dt_rule_set *rules, bool as_list)
{
    switch (format) {
    case DT_BATCH_JSON: return copy_text(as_list ? "[\n" : "");
    case DT_BATCH_JUNIT: return dt_junit_header(totals);
    case DT_BATCH_SARIF: return dt_sarif_header(rules);
    case DT_BATCH_HTML: return dt_html_header(totals);
    default: return copy_text("");
    }
}

bool dt_batch_header_needs_totals(dt_batch_format format)
{
    return format == DT_BATCH_JUNIT || format == DT_BATCH_HTML;
}

const char *dt_batch_separator(dt_batch_format format, bool as_list)
{
    switch (format) {
    case DT_BATCH_JSON: return as_list ? ",\n" : "";
    case DT_BATCH_SARIF: return ",\n";
    case DT_BATCH_TEXT: return "\n================================================================"
                               "================\n\n";
    default: return "";
    }
}

char *dt_batch_footer(dt_batch_format format, const dt_batch_totals *totals, bool as_list)
{
    switch (format) {
    case DT_BATCH_JSON: return copy_text(as_list ? "]\n" : "");
    case DT_BATCH_TEXT: return as_list ? text_footer(totals) : copy_text("");
    case DT_BATCH_JUNIT: return copy_text("  </testsuite>\n</testsuites>\n");
    case DT_BATCH_SARIF: return dt_sarif_footer();
    case DT_BATCH_HTML: return copy_text("</main>\n</body>\n</html>\n");
    default: return copy_text("");
    }
}
