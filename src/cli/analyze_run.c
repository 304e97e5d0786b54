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
#include "cli/ordered_output.h"
#include "cli/output.h"

typedef struct batch {
    const analyze_job *job;
    const input_list *inputs;
    dt_triage_options options;
    dump_result *results;
    ordered_output entries;
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
    char *entry = dt_batch_entry(b->job->format, path, t, &err, b->job->fail_on, &r->outcome);
    if (entry && b->job->color && b->job->format == DT_BATCH_TEXT) {
        char *colored = color_text_report(entry);
        free(entry);
        entry = colored;
    }
    if (t) {
        r->rules_found = finding_rule_ids(t);
        r->bucket = strdup(dt_triage_bucket_signature(t));
    }
    else if (b->job->format != DT_BATCH_JSON && b->job->format != DT_BATCH_NDJSON)
        fprintf(stderr, "dumptriage: %s\n", err.message);
    dt_triage_free(t);
    ordered_output_put(&b->entries, index, entry);
}

static void add_totals(const batch *b, dt_batch_row *rows, dt_batch_totals *t)
{
    size_t n = b->inputs->count;
    memset(t, 0, sizeof *t);
    t->dumps = n;
    for (size_t i = 0; i < n; i++) {
        const dt_batch_outcome *outcome = &b->results[i].outcome;
        t->failed += outcome->failed;
        t->failing += outcome->fails;
        for (int s = 0; s < 3; s++)
            t->findings[s] += outcome->findings[s];
        if (rows)
            rows[i] = (dt_batch_row){b->inputs->paths[i], outcome};
    }
    t->rows = rows;
}

/* The header, which for JUnit and HTML sums up the finished batch. */
static bool write_header(FILE *out, const batch *b, const dt_rule_set *rules)
{
    size_t n = b->inputs->count;
    dt_batch_row *rows = calloc(n ? n : 1, sizeof *rows);
    dt_batch_totals totals;
    add_totals(b, rows, &totals);
    char *header = dt_batch_header(b->job->format, &totals, rules, b->job->as_list);
    bool ok = header && fputs(header, out) >= 0;
    free(header);
    free(rows);
    return ok;
}

static bool write_footer(FILE *out, const batch *b)
{
    dt_batch_totals totals;
    add_totals(b, NULL, &totals);
    char *footer = dt_batch_footer(b->job->format, &totals, b->job->as_list);
    bool ok = footer && fputs(footer, out) >= 0;
    free(footer);
    return ok;
}

/* Runs the batch into `out`: the header, the entries in input order as the
 * workers finish them, the footer. */
static bool write_report(FILE *out, batch *b, const dt_rule_set *rules)
{
    const analyze_job *job = b->job;
    bool park = dt_batch_header_needs_totals(job->format);
    if (!ordered_output_init(&b->entries, out, b->inputs->count,
                             dt_batch_separator(job->format, job->as_list), park))
        return false;
    bool ok = park || write_header(out, b, rules);
    if (ok)
        run_jobs(b->inputs->count, job->jobs, triage_one, b, job->progress);
    if (ok && park) {
        ok = write_header(out, b, rules);
        ordered_output_replay(&b->entries);
    }
    ok = ordered_output_finish(&b->entries) && ok;
    return ok && write_footer(out, b);
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
    batch b = {.job = job, .inputs = inputs,
               .options = {job->image_paths, job->image_path_count, job->symbol_paths,
                           job->symbol_path_count, job->offline, job->max_frames, rules,
                           (uint32_t)job->time_budget_ms, job->wow64_native},
               .results = calloc(inputs->count ? inputs->count : 1, sizeof(dump_result))};
    output_file out;
    if (!b.results || !output_open(&out, job->output)) {
        free(b.results);
        return EXIT_INPUT;
    }
    bool ok = write_report(out.stream, &b, rules);
    int code = output_close(&out, ok) ? exit_code(b.results, inputs->count) : EXIT_INPUT;
    if (job->summary)
        print_summary(job->output || job->format == DT_BATCH_TEXT ? stdout : stderr, inputs,
                      b.results);
    for (size_t i = 0; i < inputs->count; i++) {
        free(b.results[i].rules_found);
        free(b.results[i].bucket);
    }
    free(b.results);
    return code;
}
