/* JUnit XML: one testsuite, one testcase per dump. A finding at or above
 * the fail-on level is a <failure>; an unreadable dump is an <error>. The
 * element and attribute names are those Jenkins and GitLab read. */
#include "report/batch_internal.h"

#include <string.h>

void dt_xml_escape(dt_strbuf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = dt_utf8_sequence(p);
        switch (*p) {
        case '&': dt_strbuf_puts(out, "&amp;"); break;
        case '<': dt_strbuf_puts(out, "&lt;"); break;
        case '>': dt_strbuf_puts(out, "&gt;"); break;
        case '"': dt_strbuf_puts(out, "&quot;"); break;
        case '\'': dt_strbuf_puts(out, "&apos;"); break;
        default:
            /* XML 1.0 forbids other control characters; invalid UTF-8 is replaced. */
            if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7F || n == 0)
                dt_strbuf_puts(out, "\xEF\xBF\xBD");
            else
                dt_strbuf_append(out, (const char *)p, n);
        }
        p += n ? n : 1;
    }
}

char *dt_junit_header(const dt_batch_totals *t)
{
    dt_strbuf out = {0};
    dt_strbuf_printf(&out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<testsuites name=\"dumptriage\" tests=\"%zu\" failures=\"%zu\" "
                     "errors=\"%zu\">\n"
                     "  <testsuite name=\"dumptriage\" tests=\"%zu\" failures=\"%zu\" "
                     "errors=\"%zu\" skipped=\"0\">\n",
                     t->dumps, t->failing, t->failed, t->dumps, t->failing, t->failed);
    return dt_strbuf_take(&out);
}

static void attribute(dt_strbuf *out, const char *name, const char *value)
{
    dt_strbuf_printf(out, " %s=\"", name);
    dt_xml_escape(out, value ? value : "");
    dt_strbuf_puts(out, "\"");
}

static void failure(dt_strbuf *out, const dt_triage *t, int fail_on)
{
    size_t n;
    const dt_finding *findings = dt_triage_findings(t, &n);
    if (fail_on < 0 || n == 0 || (int)findings[0].severity < fail_on)
        return;
    dt_strbuf_puts(out, "      <failure");
    attribute(out, "message", findings[0].summary);
    attribute(out, "type", findings[0].rule_id);
    dt_strbuf_puts(out, ">");
    for (size_t i = 0; i < n; i++) {
        if ((int)findings[i].severity < fail_on)
            continue;
        dt_strbuf_printf(out, "[%s] %s: ", dt_severity_name(findings[i].severity),
                         findings[i].rule_id);
        dt_xml_escape(out, findings[i].summary);
        dt_strbuf_puts(out, "\n");
    }
    dt_strbuf_puts(out, "</failure>\n");
}

char *dt_junit_entry(const char *path, const dt_triage *t, const dt_error *err, int fail_on)
{
    dt_strbuf out = {0};
    dt_strbuf_puts(&out, "    <testcase classname=\"dumptriage\"");
    attribute(&out, "name", path);
    dt_strbuf_puts(&out, " time=\"0\">\n");
    if (!t) {
        dt_strbuf_puts(&out, "      <error");
        attribute(&out, "message", err->message);
        attribute(&out, "type", dt_status_name(err->status));
        dt_strbuf_puts(&out, "/>\n");
    } else {
        failure(&out, t, fail_on);
        dt_strbuf_puts(&out, "      <system-out>");
        dt_xml_escape(&out, dt_triage_verdict(t));
        dt_strbuf_puts(&out, "</system-out>\n");
    }
    dt_strbuf_puts(&out, "    </testcase>\n");
    return dt_strbuf_take(&out);
}
