/* The analyze command's job description and driver. */
#ifndef DT_CLI_ANALYZE_H
#define DT_CLI_ANALYZE_H

#include "cli/cli.h"
#include "cli/inputs.h"
#include "dumptriage/batch.h"

enum { ANALYZE_MAX_PATHS = 32 };

typedef struct analyze_job {
    dt_batch_format format;
    const char *output;      /* NULL: stdout */
    int fail_on;             /* -1 none, else a dt_severity */
    unsigned jobs;
    size_t max_frames;
    size_t time_budget_ms;   /* 0: none */
    bool summary, offline, builtin_rules, progress, color, as_list, wow64_native;
    const char *image_paths[ANALYZE_MAX_PATHS];
    size_t image_path_count;
    const char *symbol_paths[ANALYZE_MAX_PATHS];
    size_t symbol_path_count;
    const char *rule_paths[ANALYZE_MAX_PATHS];
    size_t rule_path_count;
} analyze_job;

/* What one dump left behind for the report, the summary and the exit code. */
typedef struct dump_result {
    dt_batch_outcome outcome;
    char *rules_found;       /* rule ids of its findings, each followed by '\n' */
    char *bucket;            /* bucket signature; NULL when unreadable */
} dump_result;

/* The --summary tables: per folder (dumps, errors, findings by severity,
 * top rules) and per bucket. */
void print_summary(FILE *to, const input_list *inputs, const dump_result *results);

/* Parses --format; prints an error and returns false when unknown. */
bool analyze_format(const char *value, dt_batch_format *out);
/* Analyzes every input and writes the report; returns the exit code. */
int analyze_inputs(const analyze_job *job, const input_list *inputs, const dt_rule_set *rules);

#endif
