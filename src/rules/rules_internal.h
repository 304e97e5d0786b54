/*
 * The rule engine's internal model: a parsed rule is a tree of conditions
 * (all/any/not over stack, exception and fact tests), text templates, and
 * optionally a named analyzer whose instances the rule is evaluated against.
 */
#ifndef DT_RULES_INTERNAL_H
#define DT_RULES_INTERNAL_H

#include "dumptriage/rules.h"
#include "base/arena.h"

typedef struct rule_pos {
    uint32_t line;           /* 1-based */
    uint32_t column;
} rule_pos;

/* ---- Typed values ------------------------------------------------------ */

typedef enum value_type {
    VT_INT = 0,
    VT_BYTES,                /* literals take KiB/MiB/GiB/TiB suffixes */
    VT_DURATION,             /* seconds; literals take s/m/h/d suffixes */
    VT_PERCENT,              /* 0..100 */
    VT_BOOL,
    VT_STRING,
    VT_ADDRESS,
    VT_THREAD,               /* one thread id */
    VT_THREADS               /* a list of thread ids: not comparable */
} value_type;

typedef struct rule_value {
    value_type type;
    uint64_t number;         /* every numeric type, a thread id, bool as 0/1 */
    const char *text;        /* VT_STRING */
    size_t id_count;         /* VT_THREADS */
    const uint32_t *ids;
} rule_value;

typedef enum compare_op { OP_EQ = 0, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_MATCHES } compare_op;

typedef struct comparison {
    compare_op op;
    size_t value_count;      /* 1, or the items of an `in` list */
    rule_value *values;
} comparison;

const char *compare_op_name(compare_op op);
bool comparison_holds(const comparison *c, const rule_value *actual);
/* Renders a value for templates and traces ("72", "0x7ffe1000", "1.5 GiB"). */
char *value_render(dt_arena *arena, const rule_value *value);

/* Case-insensitive glob with '*' and '?' (process names, OS names, strings). */
bool text_glob_matches(const char *pattern, const char *text);

/* ---- Facts and analyzers ------------------------------------------------ */

typedef struct var_def {
    const char *name;
    value_type type;
} var_def;

typedef struct eval_input eval_input;

/* A process-level fact. `get` returns false when the fact is unknown. */
typedef struct fact_def {
    var_def var;
    bool needs_analysis;
    bool (*get)(const eval_input *in, rule_value *out);
} fact_def;

const fact_def *fact_find(const char *name);
const fact_def *fact_defs(size_t *count);

/* An analyzer: code that turns facts into instances (a lock, a cycle, a
 * thread) with variables. */
typedef struct analyzer_def {
    const char *name;
    size_t var_count;
    const var_def *vars;
    size_t (*count)(const eval_input *in);
    /* Variable `var` of instance `index`; false when unknown. */
    bool (*get)(const eval_input *in, size_t index, size_t var, dt_arena *arena,
                rule_value *out);
    /* Lock indices (into input->locks) the instance is about. */
    size_t (*locks)(const eval_input *in, size_t index, size_t *out, size_t max);
} analyzer_def;

const analyzer_def *analyzer_find(const char *name);
const analyzer_def *analyzer_defs(size_t *count);
/* Index of variable `name` in the analyzer, or -1. */
int analyzer_var_index(const analyzer_def *analyzer, const char *name);

/* ---- Conditions ------------------------------------------------------- */

typedef enum cond_kind { COND_ALL = 0, COND_ANY, COND_NOT, COND_STACK, COND_EXCEPTION, COND_FACT } cond_kind;

typedef struct frame_item {
    bool gap;                /* "..." */
    size_t alt_count;
    const char **alts;       /* module!function globs */
} frame_item;

typedef enum thread_source { THREADS_ALL = 0, THREADS_EXCEPTION, THREADS_VARIABLE } thread_source;

enum { STATE_RUNNING = 1u << DT_STATE_RUNNING, STATE_WAITING = 1u << DT_STATE_WAITING,
       STATE_IDLE = 1u << DT_STATE_IDLE };

typedef struct stack_cond {
    const char *label;       /* "threads" unless given */
    size_t item_count;
    frame_item *items;
    bool anchored;
    bool skip_waits;
    uint64_t min_threads;    /* >= 1 */
    uint64_t min_percent;    /* 0..100 of all threads */
    bool has_state;          /* an explicit state filter (unknown states fail) */
    unsigned state_mask;     /* default: running and waiting, never idle */
    thread_source source;
    int variable;            /* THREADS_VARIABLE: analyzer variable index */
} stack_cond;

typedef struct param_test {
    uint32_t index;
    comparison compare;
} param_test;

typedef struct exception_cond {
    size_t code_count;       /* 0: any code */
    uint32_t *codes;
    size_t access_count;     /* access violations: 0 read, 1 write, 8 execute */
    uint64_t *access;
    bool has_target;         /* parameter 1 of an access violation */
    comparison target;
    size_t param_count;
    param_test *params;
} exception_cond;

typedef struct fact_cond {
    const char *name;
    const fact_def *fact;    /* NULL: the analyzer variable `variable` */
    int variable;
    comparison compare;
} fact_cond;

typedef struct condition {
    cond_kind kind;
    rule_pos pos;
    size_t child_count;      /* all, any: >= 1; not: 1 */
    struct condition *children;
    stack_cond stack;
    exception_cond exception;
    fact_cond fact;
} condition;

/* ---- Rules -------------------------------------------------------------- */

typedef struct glob_list {
    size_t count;
    const char **globs;
} glob_list;

typedef struct rule {
    const char *id;
    const char *title;
    dt_severity severity;
    const char *file;
    rule_pos pos;
    glob_list processes;
    glob_list oses;
    unsigned cpu_mask;       /* 1 << dt_cpu; 0 = any */
    const analyzer_def *analyzer;
    condition match;
    size_t summary_count;
    const char **summaries;  /* the first whose placeholders are all bound */
    const char *explanation;
    const char *advice;
    size_t reference_count;
    const char **references;
    const char *source;
} rule;

/* Parses one rule file into `arena`. Errors go through `report`; returns
 * DT_OK, DT_ERR_FORMAT, DT_ERR_LIMIT or DT_ERR_NOMEM. */
typedef struct rule_errors {
    void *context;
    void (*report)(void *context, const char *file, rule_pos pos, const char *message);
} rule_errors;

typedef struct parsed_rules {
    size_t count;
    rule *rules;
} parsed_rules;

/* The rule at `index` of a set, or NULL. */
const rule *rule_set_rule(const dt_rule_set *set, size_t index);

dt_status rules_parse(dt_arena *arena, const char *file, const char *text, size_t size,
                      const rule_errors *errors, parsed_rules *out);
/* Compiles the rules of `text` from its YAML tree `root`, parsed beforehand
 * (the built-in rules are parsed at build time). */
struct ynode;
dt_status rules_parse_tree(dt_arena *arena, const char *file, const char *text, size_t size,
                           const struct ynode *root, const rule_errors *errors,
                           parsed_rules *out);

/* Templates: "{name}" placeholders, "{{" and "}}" for literal braces.
 * Placeholders are validated at parse time and rendered at evaluation. */
typedef bool (*template_name_check)(void *context, const char *name, size_t length);
/* Calls `check` on each placeholder; returns the offset of a malformed brace
 * or of a placeholder `check` refused, or (size_t)-1 when all is well. */
size_t template_scan(const char *text, template_name_check check, void *context);
/* The value of a placeholder, or NULL when unbound. */
typedef const char *(*template_lookup)(void *context, const char *name, size_t length);
/* Renders `text`; unbound placeholders become "?" and clear *all_bound.
 * NULL when out of memory. */
char *template_render(dt_arena *arena, const char *text, template_lookup lookup,
                      void *context, bool *all_bound);
/* Placeholders every rule may use: process facts, exception variables, and
 * the fields of a stack label ("{waiters.count}"). */
bool template_builtin_name(const char *name, size_t length);
bool template_label_field(const char *field, size_t length);

/* ---- Evaluation ---------------------------------------------------------- */

typedef struct thread_key {
    uint32_t id;
    size_t index;            /* into the input's stacks */
} thread_key;

struct eval_input {
    const dt_rule_input *in;
    const dt_thread_facts **facts_by_stack; /* per stack index, NULL when unknown */
    thread_key *by_thread_id;               /* sorted by id, then index */
};

uint32_t stack_thread_id(const dt_thread_stack *stack);

/* Builds the lookup tables in `arena`; false when out of memory. */
bool eval_input_init(eval_input *out, const dt_rule_input *in, dt_arena *arena);

const dt_thread_facts *eval_thread_facts(const eval_input *in, size_t stack_index);
/* Stack index of thread `id`, or false. */
bool eval_thread_index(const eval_input *in, uint32_t id, size_t *index);

/* The frames a stack pattern matched in one thread, or the closest miss. */
typedef struct stack_match {
    bool matched;
    size_t matched_items;    /* non-gap items matched (best attempt on a miss) */
    size_t frame_count;
    size_t frames[DT_RULES_MAX_PATTERNS]; /* frame index per non-gap item */
    size_t failed_item;      /* on a miss: the item that found no frame */
    size_t failed_frame;     /* and where it was tried */
} stack_match;

void stack_match_thread(const stack_cond *cond, const dt_thread_stack *thread,
                        stack_match *out);

#endif
