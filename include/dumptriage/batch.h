/*
 * dumptriage: batch reports. A batch report is a header, one entry per dump
 * in sorted path order, separators and a footer. Entries are made on worker
 * threads (one per dump, independently); the framing needs only totals, so
 * output never depends on timing.
 *
 * Formats: text; json (one report object, or an array of them for a list);
 * ndjson (one report object per line); junit (one testsuite, one testcase
 * per dump: a finding at or above the fail-on level is a <failure>, an
 * unreadable dump an <error>); sarif (2.1.0: a result per finding, the dump
 * file as its location, rule metadata from the rule files); html (one
 * self-contained page).
 */
#ifndef DUMPTRIAGE_BATCH_H
#define DUMPTRIAGE_BATCH_H

#include "dumptriage/rules.h"
#include "dumptriage/triage.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dt_batch_format {
    DT_BATCH_TEXT = 0, DT_BATCH_JSON, DT_BATCH_NDJSON, DT_BATCH_JUNIT, DT_BATCH_SARIF,
    DT_BATCH_HTML
} dt_batch_format;

/* "text", "json", ... to a format; false when unknown. */
bool dt_batch_format_parse(const char *name, dt_batch_format *out);

enum { DT_BATCH_VERDICT_SIZE = 528 }; /* a verdict (512) or "UNREADABLE: " and an error message (512) */

/* What the framing needs to know about one dump (made with its entry). */
typedef struct dt_batch_outcome {
    bool failed;             /* the dump could not be analyzed */
    size_t findings[3];      /* by severity: info, warning, error */
    int max_severity;        /* -1 when there is no finding */
    bool fails;              /* a finding at or above the fail-on level */
    char bucket_hash[17];
    char verdict[DT_BATCH_VERDICT_SIZE]; /* the verdict, or why the dump is unreadable */
} dt_batch_outcome;

/* One dump of the report, in report order (for overview tables). */
typedef struct dt_batch_row {
    const char *path;
    const dt_batch_outcome *outcome;
} dt_batch_row;

/* One dump's entry in `format`. `triage` is NULL when the dump could not be
 * read; then `error` says why. `fail_on` is -1 (none) or a dt_severity.
 * Fills `outcome`; returns a string the caller frees, NULL on out of memory. */
char *dt_batch_entry(dt_batch_format format, const char *path, const dt_triage *triage,
                     const dt_error *error, int fail_on, dt_batch_outcome *outcome);

typedef struct dt_batch_totals {
    size_t dumps;
    size_t failed;           /* unreadable dumps */
    size_t failing;          /* dumps with a finding at or above fail-on */
    size_t findings[3];
    const dt_batch_row *rows; /* `dumps` rows, or NULL: no overview */
} dt_batch_totals;

/* Framing around the entries; `as_list` is false when one file was given
 * (JSON then writes a single object). Each returns a string to free. */
char *dt_batch_header(dt_batch_format format, const dt_batch_totals *totals,
                      const dt_rule_set *rules, bool as_list);
const char *dt_batch_separator(dt_batch_format format, bool as_list);
/* True when the header sums up the whole batch (JUnit's counts, the HTML
 * overview), so it can be written only after the last entry is made; the
 * other formats can stream each entry as soon as those before it are out. */
bool dt_batch_header_needs_totals(dt_batch_format format);
char *dt_batch_footer(dt_batch_format format, const dt_batch_totals *totals, bool as_list);

#ifdef __cplusplus
}
#endif

#endif
