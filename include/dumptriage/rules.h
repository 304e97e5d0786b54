/*
 * dumptriage: the rule engine.
 *
 * Rules are YAML files (docs/rules.md): what a hang or crash looks like in
 * terms of stacks, the exception and analysis facts, and what to tell the
 * user. A rule set holds the built-in rules (the rules/ folder, compiled into the
 * library) and any rule files given by the user. Evaluating a set against a
 * dump gives findings: one per matching rule, or one per analyzer instance
 * (a lock, a deadlock cycle, a thread) that matches.
 *
 * Rule files are untrusted input: every error names the file, the line and
 * the column, and caps bound what a file can make the engine do.
 */
#ifndef DUMPTRIAGE_RULES_H
#define DUMPTRIAGE_RULES_H

#include "dumptriage/analysis.h"
#include "dumptriage/dump.h"
#include "dumptriage/unwind.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caps on what rule files may hold. */
enum {
    DT_RULES_MAX_RULES = 10000,       /* per rule set */
    DT_RULES_MAX_PATTERNS = 64,       /* frame patterns per stack condition */
    DT_RULES_MAX_NESTING = 8,         /* all/any/not levels in a match */
    DT_RULES_MAX_STRING = 4096,       /* bytes in any string */
    DT_RULES_MAX_FILE = 16 << 20,     /* bytes per rule file */
    DT_RULES_MAX_ERRORS = 100         /* errors kept per rule set */
};

typedef enum dt_severity {
    DT_SEVERITY_INFO = 0,
    DT_SEVERITY_WARNING = 1,
    DT_SEVERITY_ERROR = 2
} dt_severity;

const char *dt_severity_name(dt_severity severity); /* "info", "warning", "error" */

/* ---- Rule sets --------------------------------------------------------- */

typedef struct dt_rule_set dt_rule_set;

/* A problem in a rule file: "FILE:LINE:COLUMN: message". Line and column
 * are 1-based; 0 when the problem has no position (an unreadable file). */
typedef struct dt_rule_error {
    const char *file;
    uint32_t line;
    uint32_t column;
    const char *message;
} dt_rule_error;

dt_status dt_rule_set_new(dt_rule_set **out);
void dt_rule_set_free(dt_rule_set *set);

/* Each add function parses rules into the set. A file with errors adds none
 * of its rules; its errors (and duplicate ids across files, naming both
 * places) are listed by dt_rule_set_errors. Returns DT_OK, DT_ERR_FORMAT
 * (errors were recorded), DT_ERR_IO (unreadable path, also recorded),
 * DT_ERR_LIMIT (a cap, recorded) or DT_ERR_NOMEM. */
dt_status dt_rule_set_add_builtin(dt_rule_set *set);
/* A .yaml/.yml file, or a directory whose *.yaml and *.yml files are read in
 * name order (not recursively). */
dt_status dt_rule_set_add_path(dt_rule_set *set, const char *path);
/* Rule text in memory; `label` names it in errors. */
dt_status dt_rule_set_add_text(dt_rule_set *set, const char *label, const char *text,
                               size_t size);
const dt_rule_error *dt_rule_set_errors(const dt_rule_set *set, size_t *count);

/* The built-in rule files, for listing and checking. */
typedef struct dt_builtin_rule_file {
    const char *name;        /* "locks.yaml" */
    const char *text;
    size_t size;
} dt_builtin_rule_file;
const dt_builtin_rule_file *dt_builtin_rule_files(size_t *count);

typedef struct dt_rule_info {
    const char *id;
    const char *title;
    dt_severity severity;
    const char *file;        /* "builtin:locks.yaml" for built-in rules */
    uint32_t line;
    const char *analyzer;    /* NULL when the rule has none */
    const char *summary;     /* the first summary template */
    const char *explanation;
    const char *advice;
    size_t reference_count;
    const char *const *references;
    const char *source;      /* the rule's YAML text as written */
} dt_rule_info;

/* Rules in the order they were added. */
size_t dt_rule_set_count(const dt_rule_set *set);
bool dt_rule_set_info(const dt_rule_set *set, size_t index, dt_rule_info *out);
/* Index of the rule with `id`, or false. */
bool dt_rule_set_find(const dt_rule_set *set, const char *id, size_t *index);

/* ---- What rules are evaluated against --------------------------------- */

/* Everything a rule can test. dt_rule_input_from fills it from a dump, its
 * symbolized stacks and the analysis; tests and tools may also build one by
 * hand. Pointers are borrowed and must outlive the evaluation. NULL facts
 * (no analysis) make every fact and analyzer condition false and leave
 * thread states unknown. */
typedef struct dt_rule_input {
    const char *process_name;        /* "w3wp.exe"; NULL when unknown */
    const char *os_name;             /* dt_os_name(); NULL when unknown */
    dt_cpu cpu;
    const dt_exception *exception;   /* NULL when the dump has none */
    size_t thread_count;             /* stacks, one per thread */
    const dt_thread_stack *threads;
    const dt_process_facts *process; /* NULL: no analysis facts */
    size_t thread_facts_count;       /* matched to stacks by stack_index */
    const dt_thread_facts *thread_facts;
    size_t lock_count;
    const dt_lock *locks;
    size_t deadlock_count;
    const dt_deadlock *deadlocks;
} dt_rule_input;

/* `analysis` may be NULL. Never fails. */
void dt_rule_input_from(dt_rule_input *out, const dt_dump *dump, const dt_stacks *stacks,
                        const dt_analysis *analysis);

/* ---- Findings ---------------------------------------------------------- */

/* Frames of one thread that a stack condition's patterns matched. */
typedef struct dt_finding_thread {
    uint32_t thread_id;
    const char *label;       /* the stack condition's label, e.g. "waiters" */
    size_t frame_count;
    const size_t *frame_indices;     /* into the thread's stack, ascending */
    const char *const *frames;       /* display form, "ntdll!ZwClose+0xa" */
} dt_finding_thread;

typedef struct dt_finding_lock {
    dt_lock_kind kind;
    uint64_t address;
    bool has_owner;
    uint32_t owner_thread_id;
    bool owner_alive;
    size_t waiter_count;
} dt_finding_lock;

/* A template variable as the summary used it, for reports. */
typedef struct dt_finding_variable {
    const char *name;        /* "waiters.count", "owner", "code" */
    const char *value;       /* rendered: "72", "39", "0xc0000005" */
} dt_finding_variable;

typedef struct dt_finding {
    const char *rule_id;
    const char *title;
    dt_severity severity;
    const char *summary;     /* one sentence with the numbers filled in */
    const char *explanation;
    const char *advice;
    size_t reference_count;
    const char *const *references;
    size_t thread_id_count;  /* every thread the finding is about, ascending */
    const uint32_t *thread_ids;
    size_t evidence_count;   /* per thread and stack condition, in match order */
    const dt_finding_thread *evidence;
    size_t lock_count;
    const dt_finding_lock *locks;
    size_t variable_count;   /* every variable bound, sorted by name */
    const dt_finding_variable *variables;
} dt_finding;

typedef struct dt_findings dt_findings;

/* Evaluates every rule. Findings are sorted by severity (error first), then
 * rule id, then the order of the analyzer instances. Returns DT_ERR_NOMEM
 * only when out of memory. */
dt_status dt_rules_evaluate(dt_findings **out, const dt_rule_set *set, const dt_dump *dump,
                            const dt_stacks *stacks, const dt_analysis *analysis);
dt_status dt_rules_evaluate_input(dt_findings **out, const dt_rule_set *set,
                                  const dt_rule_input *input);
const dt_finding *dt_findings_list(const dt_findings *findings, size_t *count);
void dt_findings_free(dt_findings *findings);

/* ---- Explaining one rule ------------------------------------------------ */

/* One step of a rule's evaluation: a condition (or the applies_to check, or
 * an analyzer instance) with its position in the rule file, whether it held
 * and what the engine saw: the frames that matched, the closest miss, the
 * fact's value. Depth is the nesting level, for indentation. */
typedef struct dt_trace_step {
    size_t depth;
    const char *what;        /* "stack", "fact thread_count le 2", "all", ... */
    uint32_t line;
    uint32_t column;
    bool held;
    const char *detail;      /* several lines separated by '\n'; may be "" */
} dt_trace_step;

typedef struct dt_rule_trace dt_rule_trace;

/* Evaluates rule `index` and records every step. */
dt_status dt_rules_explain(dt_rule_trace **out, const dt_rule_set *set, size_t index,
                           const dt_rule_input *input);
const dt_trace_step *dt_rule_trace_steps(const dt_rule_trace *trace, size_t *count);
/* The findings the rule produced (none when it did not match). */
const dt_finding *dt_rule_trace_findings(const dt_rule_trace *trace, size_t *count);
void dt_rule_trace_free(dt_rule_trace *trace);

#ifdef __cplusplus
}
#endif

#endif
