/* Building blocks shared by the report writers. */
#ifndef DT_REPORT_INTERNAL_H
#define DT_REPORT_INTERNAL_H

#include "dumptriage/report.h"
#include "dumptriage/analysis.h"
#include "dumptriage/symbolizer.h"
#include "base/strbuf.h"
#include "report/json.h"

/* ISO 8601 UTC ("2019-03-01T12:34:56Z") of a time_t; "" for 0. */
void dt_format_utc(char out[32], uint64_t unix_seconds);
/* FILETIME (100 ns since 1601) to time_t; 0 when before 1970. */
uint64_t dt_filetime_to_unix(uint64_t filetime);
/* "1d 02:03:04" */
void dt_format_duration(char out[32], uint64_t seconds);
/* "a.b.c.d" of a module, or NULL when it has no version. */
const char *dt_module_version(const dt_module *m, char out[32]);
/* Symbol-store id of a PDB: GUID (%08X%04X%04X%02X...) + age (%X). */
void dt_codeview_debug_id(const dt_codeview *cv, char out[48]);

/* Memory totals: present ranges, and MemoryInfoList regions by state and type. */
enum { DT_MEM_IMAGE, DT_MEM_MAPPED, DT_MEM_PRIVATE, DT_MEM_OTHER, DT_MEM_TYPES };
typedef struct dt_memory_summary {
    size_t range_count;
    uint64_t range_bytes;
    size_t region_count;
    uint64_t committed[DT_MEM_TYPES];
    uint64_t reserved[DT_MEM_TYPES];
    uint64_t free_bytes;
} dt_memory_summary;
void dt_memory_summarize(const dt_dump *dump, dt_memory_summary *out);
extern const char *const dt_memory_type_names[DT_MEM_TYPES];

/* Handle counts by type name, sorted by name. */
typedef struct dt_handle_type_count {
    const char *type;
    size_t count;
    size_t exited;           /* thread/process objects known to have exited */
} dt_handle_type_count;
/* Fills up to `max` entries and returns how many; types past `max` are
 * counted under "(other)". */
size_t dt_handle_counts(const dt_dump *dump, dt_handle_type_count *out, size_t max);
enum { DT_MAX_HANDLE_TYPES = 128 };

/* The sections of a dump report common to every command. */
void dt_json_report_begin(dt_json *j, const dt_dump *dump, const char *command);
void dt_json_report_system(dt_json *j, const dt_dump *dump);
void dt_json_report_process(dt_json *j, const dt_dump *dump);
void dt_json_report_exception(dt_json *j, const dt_dump *dump);
/* modules[]; with a symbolizer, each module searched for symbols gets
 * `symbols` {kind, file}, others null. */
void dt_json_report_modules(dt_json *j, const dt_dump *dump, dt_symbolizer *symbolizer);
void dt_json_report_handles(dt_json *j, const dt_dump *dump);
void dt_json_report_memory(dt_json *j, const dt_dump *dump);
void dt_json_report_diagnostics(dt_json *j, const dt_dump *dump);
/* Diagnostic objects, inside an array the caller opened. */
void dt_json_diagnostic_items(dt_json *j, const dt_diagnostic *diags, size_t n);
void dt_json_report_registers(dt_json *j, const dt_context *ctx, bool has_context);

/* The text form of the info report (text_info.c). */
void dt_text_info(dt_strbuf *out, const dt_dump *dump);
/* The summary lines of every text report: dump, system, process, exception. */
void dt_text_summary(dt_strbuf *out, const dt_dump *dump);
/* Diagnostics in text, under a heading; nothing when there are none. */
void dt_text_diagnostic_items(dt_strbuf *out, const dt_diagnostic *diags, size_t n);

/* Sections shared by the stacks and analyze reports (stacks.c). With an
 * analysis, threads carry their state and wait primitive. */
void dt_json_report_threads(dt_json *j, const dt_stacks *stacks, const dt_analysis *analysis);
void dt_json_report_stack_groups(dt_json *j, const dt_stacks *stacks);
void dt_json_report_all_diagnostics(dt_json *j, const dt_dump *dump, const dt_stacks *stacks,
                                    dt_image_set *images, dt_symbolizer *symbols);
void dt_text_stack_groups(dt_strbuf *out, const dt_stacks *stacks);
void dt_text_all_diagnostics(dt_strbuf *out, const dt_dump *dump, const dt_stacks *stacks,
                             dt_image_set *images, dt_symbolizer *symbols);

/* Takes the buffer's string, or frees it and returns NULL when it failed. */
char *dt_strbuf_take(dt_strbuf *b);

#endif
