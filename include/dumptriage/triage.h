/*
 * dumptriage: the whole triage of one dump. dt_triage_run reads the dump,
 * finds module images and symbols, walks and names every thread's stack,
 * computes the analysis facts, evaluates the rules and derives a bucket:
 * everything `dumptriage analyze` reports.
 */
#ifndef DUMPTRIAGE_TRIAGE_H
#define DUMPTRIAGE_TRIAGE_H

#include "dumptriage/analysis.h"
#include "dumptriage/dump.h"
#include "dumptriage/rules.h"
#include "dumptriage/symbolizer.h"
#include "dumptriage/unwind.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dt_triage_options {
    const char *const *image_paths;   /* --images entries */
    size_t image_path_count;
    const char *const *symbol_paths;  /* --symbols entries */
    size_t symbol_path_count;
    bool offline;                     /* no symbol-server downloads */
    size_t max_frames;                /* 0: the walker's default */
    const dt_rule_set *rules;         /* NULL: no analysis facts and no findings */
    uint32_t time_budget_ms;          /* 0: none; else threads not walked or named
                                         within it are reported as cut short */
    bool wow64_native;                /* WOW64: the 64-bit side, not the 32-bit stacks */
} dt_triage_options;

typedef struct dt_triage dt_triage;

/* Triages the dump at `path` ("-" for standard input). Fails only when the
 * dump cannot be read at all (`err` names the file, structure and offset);
 * a later stage that fails leaves its part empty with a diagnostic. */
dt_status dt_triage_run(dt_triage **out, const char *path, const dt_triage_options *options,
                        dt_error *err);
void dt_triage_free(dt_triage *triage);

const dt_dump *dt_triage_dump(const dt_triage *triage);
const dt_stacks *dt_triage_stacks(const dt_triage *triage);
const dt_analysis *dt_triage_analysis(const dt_triage *triage);
const dt_finding *dt_triage_findings(const dt_triage *triage, size_t *count);
dt_image_set *dt_triage_images(const dt_triage *triage);
dt_symbolizer *dt_triage_symbolizer(const dt_triage *triage);

/* The thread stack of `thread_id`, or NULL. */
const dt_thread_stack *dt_triage_thread_stack(const dt_triage *triage, uint32_t thread_id);
/* The analysis facts of `thread_id`, or NULL. */
const dt_thread_facts *dt_triage_thread_facts(const dt_triage *triage, uint32_t thread_id);

/* A one-line verdict for people: "CRASH: access violation reading 0x10 in
 * app!Widget::Render", "HANG: <the top finding's summary>", or "OK: ...". */
const char *dt_triage_verdict(const dt_triage *triage);

/* A stable grouping key (docs/batch.md, Buckets): the top finding's rule id (or
 * the exception code) and the first meaningful frames of the thread that
 * matters, with wait primitives and runtime frames skipped; and a 16-digit
 * hex FNV-1a hash of it. Identical input gives identical buckets. */
const char *dt_triage_bucket_signature(const dt_triage *triage);
const char *dt_triage_bucket_hash(const dt_triage *triage);

#ifdef __cplusplus
}
#endif

#endif
