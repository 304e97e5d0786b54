/* Running analyze over the inputs: rules, parallel triage, the report in
 * sorted path order, the summary and the exit code. */
#include "cli/analyze.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/color.h"
#include "cli/jobs.h"
#include "cli/output.h"

typedef struct batch {
    const analyze_job *job;
    const input_list *inputs;
    dt_triage_options options;
    dump_result *results;
} batch;

bool analyze_format(const char *value, dt_batch_format *out)
{
    if (!value) {
        *out = DT_BATCH_TEXT;
        return true;
    }
    if (dt_batch_format_parse(value, out))
        return true;
    fprintf(stderr, "dumptriage: unknown format '%s' (expected text, json, ndjson, junit, sarif "
                    "or html)\n", value);
    return false;
}

static char *finding_rule_ids(const dt_triage *t)
{
    size_t n;
    const dt_finding *findings = dt_triage_findings(t, &n);
    size_t length = 1;
    for (size_t i = 0; i < n; i++)
        length += strlen(findings[i].rule_id) + 1;
    char *ids = malloc(length), *p = ids;
    for (size_t i = 0; ids && i < n; i++)
        p += sprintf(p, "%s\n", findings[i].rule_id);
    if (ids)
        *p = '\0';
    return ids;
}

/* One dump, on a worker thread. */
static void triage_one(void *ctx, size_t index)
{
    batch *b = ctx;
    const char *path = b->inputs->paths[index];
    dump_result *r = &b->results[index];
    dt_triage *t = NULL;
    dt_error err = {0};
    dt_triage_run(&t, path, &b->options, &err);
    r->entry = dt_batch_entry(b->job->format, path, t, &err, b->job->fail_on, &r->outcome);
    if (r->entry && b->job->color && b->job->format == DT_BATCH_TEXT) {
        char *colored = color_text_report(r->entry);
        free(r->entry);
        r->entry = colored;
    }
    if (t) {
        r->rules_found = finding_rule_ids(t);
        r->bucket = strdup(dt_triage_bucket_signature(t));
    }
    else if (b->job->format != DT_BATCH_JSON && b->job->format != DT_BATCH_NDJSON)
        fprintf(stderr, "dumptriage: %s\n", err.message);
    dt_triage_free(t);
}

static void add_totals(const dump_result *results, size_t n, dt_batch_totals *t)
{
    memset(t, 0, sizeof *t);
    t->dumps = n;
    for (size_t i = 0; i < n; i++) {
        t->failed += results[i].outcome.failed;
        t->failing += results[i].outcome.fails;
        for (int s = 0; s < 3; s++)
            t->findings[s] += results[i].outcome.findings[s];
    }
}

/* The header, the entries in input order and the footer, into `out`. */
static bool write_report(FILE *out, const batch *b, const dt_batch_totals *totals,
                         const dt_rule_set *rules)
{
    const analyze_job *job = b->job;
    char *header = dt_batch_header(job->format, totals, rules, job->as_list);
    char *footer = dt_batch_footer(job->format, totals, job->as_list);
    const char *separator = dt_batch_separator(job->format, job->as_list);
    bool ok = header && footer && fputs(header, out) >= 0;
    bool first = true;
    for (size_t i = 0; ok && i < b->inputs->count; i++) {
        const char *entry = b->results[i].entry;
        if (!entry) {
            ok = false;
            break;
        }
        if (!*entry)
            continue;
        ok = (first || fputs(separator, out) >= 0) && fputs(entry, out) >= 0;
        first = false;
    }
    ok = ok && fputs(footer, out) >= 0;
    free(header);
    free(footer);
    return ok;
}

static int exit_code(const dump_result *results, size_t n)
{
    bool failed = false, failing = false;
    for (size_t i = 0; i < n; i++) {
        failed |= results[i].outcome.failed;
        failing |= results[i].outcome.fails;
    }
    return failed ? EXIT_INPUT : failing ? EXIT_FINDINGS : EXIT_OK;
}

int analyze_inputs(const analyze_job *job, const input_list *inputs, const dt_rule_set *rules)
{
    batch b = {job, inputs, {job->image_paths, job->image_path_count, job->symbol_paths,
                             job->symbol_path_count, job->offline, job->max_frames, rules,
                             (uint32_t)job->time_budget_ms, job->wow64_native},
               calloc(inputs->count ? inputs->count : 1, sizeof(dump_result))};
    int code = EXIT_INPUT;
    if (b.results) {
        run_jobs(inputs->count, job->jobs, triage_one, &b, job->progress);
        dt_batch_totals totals;
        add_totals(b.results, inputs->count, &totals);
        dt_batch_row *rows = calloc(inputs->count ? inputs->count : 1, sizeof *rows);
        for (size_t i = 0; rows && i < inputs->count; i++)
            rows[i] = (dt_batch_row){inputs->paths[i], &b.results[i].outcome};
        totals.rows = rows;
        output_file out;
        if (output_open(&out, job->output)) {
            bool ok = write_report(out.stream, &b, &totals, rules);
            code = output_close(&out, ok) ? exit_code(b.results, inputs->count) : EXIT_INPUT;
        }
        free(rows);
        if (job->summary)
            print_summary(job->output || job->format == DT_BATCH_TEXT ? stdout : stderr, inputs,
                          b.results);
        for (size_t i = 0; i < inputs->count; i++) {
            free(b.results[i].entry);
            free(b.results[i].rules_found);
            free(b.results[i].bucket);
        }
        free(b.results);
    }
    return code;
}
