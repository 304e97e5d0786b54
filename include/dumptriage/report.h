/*
 * dumptriage: reports. Every command fills a subset of one report object,
 * described by docs/report.schema.json (schema_version below). Text output
 * is for people: summary first, then details.
 */
#ifndef DUMPTRIAGE_REPORT_H
#define DUMPTRIAGE_REPORT_H

#include "dumptriage/dump.h"
#include "dumptriage/triage.h"
#include "dumptriage/unwind.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DT_REPORT_SCHEMA_VERSION "1.0"

/* Per-dump formats. NDJSON is the JSON report on a single line. */
typedef enum dt_format { DT_FORMAT_TEXT = 0, DT_FORMAT_JSON = 1, DT_FORMAT_NDJSON = 2 } dt_format;

/* The `info` report of an open dump: a NUL-terminated string the caller
 * frees with free(), or NULL when out of memory. */
char *dt_report_info(const dt_dump *dump, dt_format format);

/* The `stacks` report: the walked stacks of every thread, grouped (text)
 * unless `group` is false; JSON always carries threads[] and stack_groups[].
 * `images` and `symbols` (either may be NULL) add their diagnostics, and
 * `symbols` the modules' symbol sources. Caller frees. */
char *dt_report_stacks(const dt_dump *dump, const dt_stacks *stacks, dt_image_set *images,
                       dt_symbolizer *symbols, dt_format format, bool group);

/* The `analyze` report of a triaged dump: verdict, bucket, findings, locks,
 * stacks with thread states, and the dump's facts. Caller frees. */
char *dt_report_analyze(const dt_triage *triage, dt_format format);

/* The report of an input that could not be analyzed: `file`, `error`
 * {stage, message, offset}. Caller frees; NULL when out of memory. */
char *dt_report_error(const char *file, const char *stage, const dt_error *error,
                      dt_format format);

#ifdef __cplusplus
}
#endif

#endif
