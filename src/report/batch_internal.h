/* Per-format parts of batch reports (batch.c dispatches to them). */
#ifndef DT_REPORT_BATCH_INTERNAL_H
#define DT_REPORT_BATCH_INTERNAL_H

#include "dumptriage/batch.h"
#include "report/report_internal.h"

/* Appends `s` with XML/HTML special characters escaped; invalid UTF-8 and
 * control characters are replaced so the document stays well-formed. */
void dt_xml_escape(dt_strbuf *out, const char *s);

char *dt_junit_header(const dt_batch_totals *totals);
char *dt_junit_entry(const char *path, const dt_triage *t, const dt_error *err, int fail_on);

char *dt_sarif_header(const dt_rule_set *rules);
char *dt_sarif_entry(const char *path, const dt_triage *t, const dt_error *err);
char *dt_sarif_footer(void);

char *dt_html_header(const dt_batch_totals *totals);
char *dt_html_entry(const char *path, const dt_triage *t, const dt_error *err);

#endif
