/* Evaluation state shared by eval_*.c and evaluate.c. */
#ifndef DT_RULES_EVAL_H
#define DT_RULES_EVAL_H

#include "base/strbuf.h"
#include "rules/rules_internal.h"

typedef struct binding {
    const char *name;
    const char *value;
} binding;

/* What an evaluation has bound so far; rolled back when a condition fails. */
typedef struct eval_state {
    binding *bindings;
    size_t binding_count;
    size_t binding_capacity;
    dt_finding_thread *evidence;
    size_t evidence_count;
    size_t evidence_capacity;
} eval_state;

typedef struct eval_mark {
    size_t bindings;
    size_t evidence;
} eval_mark;

/* Steps recorded for dt_rules_explain. */
typedef struct trace_log {
    dt_trace_step *steps;
    size_t count;
    size_t capacity;
} trace_log;

typedef struct eval_ctx {
    const eval_input *input;
    const rule *rule;
    size_t instance;         /* the analyzer instance under evaluation */
    dt_arena *arena;         /* strings of findings and traces */
    eval_state state;
    binding *globals;        /* process and exception variables, rendered once per dump */
    size_t global_count;
    trace_log *trace;        /* NULL unless explaining */
    bool failed;             /* out of memory */
} eval_ctx;

/* ---- eval_bindings.c ---- */
void eval_bind(eval_ctx *ctx, const char *name, const char *value);
void eval_bind_value(eval_ctx *ctx, const char *name, const rule_value *value);
bool eval_globals_init(eval_ctx *ctx);
void eval_bind_globals(eval_ctx *ctx);
void eval_bind_instance(eval_ctx *ctx);
void eval_add_evidence(eval_ctx *ctx, const dt_finding_thread *evidence);
eval_mark eval_mark_now(const eval_ctx *ctx);
void eval_rollback(eval_ctx *ctx, eval_mark mark);
const char *eval_lookup(void *ctx, const char *name, size_t length);
const dt_thread_stack *eval_exception_stack(const eval_input *input);
char *eval_frame_display(dt_arena *arena, const dt_frame *frame);
void eval_state_free(eval_state *state);

/* ---- eval_conditions.c ---- */
bool eval_condition(eval_ctx *ctx, const condition *cond, size_t depth);
bool eval_applies(eval_ctx *ctx);
/* Records a trace step; returns its index (or (size_t)-1 without a trace). */
size_t eval_trace_begin(eval_ctx *ctx, size_t depth, const char *what, rule_pos pos);
void eval_trace_end(eval_ctx *ctx, size_t step, bool held, dt_strbuf *detail);

#endif
