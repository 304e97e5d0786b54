/* Evaluating a rule set: findings, their order, and the explain trace. */
#include "rules/eval.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_INSTANCES = 100000, MAX_FINDING_LOCKS = 64 };

typedef struct finding_entry {
    dt_finding finding;
    size_t sequence;
} finding_entry;

struct dt_findings {
    dt_arena arena;
    finding_entry *entries;
    size_t count;
    size_t capacity;
    dt_finding *sorted;
};

struct dt_rule_trace {
    trace_log log;
    dt_findings *findings;
};

/* ---- Building a finding ------------------------------------------------------ */

static int compare_ids(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void add_variable_threads(eval_ctx *ctx, uint32_t *ids, size_t *count, size_t max)
{
    const analyzer_def *a = ctx->rule->analyzer;
    for (size_t v = 0; a && v < a->var_count; v++) {
        rule_value value;
        if (!a->get(ctx->input, ctx->instance, v, ctx->arena, &value))
            continue;
        if (value.type == VT_THREAD && *count < max)
            ids[(*count)++] = (uint32_t)value.number;
        for (size_t i = 0; value.type == VT_THREADS && i < value.id_count && *count < max; i++)
            ids[(*count)++] = value.ids[i];
    }
}

static size_t unique_ids(uint32_t *ids, size_t count)
{
    qsort(ids, count, sizeof *ids, compare_ids);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++)
        if (unique == 0 || ids[unique - 1] != ids[i])
            ids[unique++] = ids[i];
    return unique;
}

/* Threads of the evidence and of the instance's thread variables. */
static void finding_threads(eval_ctx *ctx, dt_finding *f)
{
    size_t max = ctx->state.evidence_count + ctx->input->in->thread_count + 1;
    uint32_t *ids = dt_arena_array(ctx->arena, max, sizeof *ids);
    if (!ids) {
        ctx->failed = true;
        return;
    }
    size_t count = 0;
    for (size_t i = 0; i < ctx->state.evidence_count; i++)
        ids[count++] = ctx->state.evidence[i].thread_id;
    add_variable_threads(ctx, ids, &count, max);
    f->thread_ids = ids;
    f->thread_id_count = unique_ids(ids, count);
}

static void finding_locks(eval_ctx *ctx, dt_finding *f)
{
    const analyzer_def *a = ctx->rule->analyzer;
    size_t indices[MAX_FINDING_LOCKS];
    size_t count = a && a->locks ? a->locks(ctx->input, ctx->instance, indices,
                                            MAX_FINDING_LOCKS) : 0;
    dt_finding_lock *locks = dt_arena_array(ctx->arena, count, sizeof *locks);
    if (!locks) {
        ctx->failed = count > 0;
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const dt_lock *l = &ctx->input->in->locks[indices[i]];
        locks[i] = (dt_finding_lock){l->kind, l->address, l->has_owner, l->owner_thread_id,
                                     l->owner_alive, l->waiter_count};
    }
    f->locks = locks;
    f->lock_count = count;
}

static int compare_variables(const void *a, const void *b)
{
    const dt_finding_variable *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* Every bound variable, sorted by name; the first binding of a name wins. */
static void finding_variables(eval_ctx *ctx, dt_finding *f)
{
    size_t n = ctx->state.binding_count;
    dt_finding_variable *vars = dt_arena_array(ctx->arena, n, sizeof *vars);
    if (!vars) {
        ctx->failed = n > 0;
        return;
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const binding *b = &ctx->state.bindings[i];
        if (eval_lookup(ctx, b->name, strlen(b->name)) == b->value)
            vars[count++] = (dt_finding_variable){b->name, b->value};
    }
    qsort(vars, count, sizeof *vars, compare_variables);
    f->variables = vars;
    f->variable_count = count;
}

static const char *finding_summary(eval_ctx *ctx)
{
    const char *text = NULL;
    for (size_t i = 0; i < ctx->rule->summary_count; i++) {
        bool all_bound;
        text = template_render(ctx->arena, ctx->rule->summaries[i], eval_lookup, ctx,
                               &all_bound);
        if (!text || all_bound)
            break;
    }
    if (!text)
        ctx->failed = true;
    return text;
}

/* A copy in the findings' arena, so findings outlive their rule set. */
static const char *copy(eval_ctx *ctx, const char *text)
{
    if (!text)
        return NULL;
    const char *copied = dt_arena_strndup(ctx->arena, text, strlen(text));
    ctx->failed |= copied == NULL;
    return copied;
}

static void copy_rule_text(eval_ctx *ctx, dt_finding *f)
{
    const rule *r = ctx->rule;
    *f = (dt_finding){.rule_id = copy(ctx, r->id), .title = copy(ctx, r->title),
                      .severity = r->severity, .explanation = copy(ctx, r->explanation),
                      .advice = copy(ctx, r->advice), .reference_count = r->reference_count};
    const char **references = dt_arena_array(ctx->arena, r->reference_count, sizeof *references);
    for (size_t i = 0; references && i < r->reference_count; i++)
        references[i] = copy(ctx, r->references[i]);
    ctx->failed |= references == NULL;
    f->references = references;
}

static void build_finding(eval_ctx *ctx, dt_finding *f)
{
    copy_rule_text(ctx, f);
    f->summary = finding_summary(ctx);
    finding_threads(ctx, f);
    finding_locks(ctx, f);
    finding_variables(ctx, f);
    f->evidence_count = ctx->state.evidence_count;
    f->evidence = dt_arena_array(ctx->arena, f->evidence_count, sizeof *f->evidence);
    if (!f->evidence)
        ctx->failed = true;
    else if (f->evidence_count)
        memcpy((void *)f->evidence, ctx->state.evidence,
               f->evidence_count * sizeof *f->evidence);
}

/* ---- Evaluating rules --------------------------------------------------------- */

static bool add_finding(dt_findings *findings, eval_ctx *ctx)
{
    if (findings->count == findings->capacity) {
        size_t next = findings->capacity ? findings->capacity * 2 : 16;
        finding_entry *grown = realloc(findings->entries, next * sizeof *grown);
        if (!grown)
            return false;
        findings->entries = grown;
        findings->capacity = next;
    }
    finding_entry *e = &findings->entries[findings->count];
    build_finding(ctx, &e->finding);
    e->sequence = findings->count++;
    return !ctx->failed;
}

/* One evaluation of the rule: one instance, or the whole dump. */
static bool evaluate_once(eval_ctx *ctx, dt_findings *findings, size_t depth)
{
    ctx->state.binding_count = 0;
    ctx->state.evidence_count = 0;
    eval_bind_instance(ctx);
    eval_bind_globals(ctx);
    bool held = eval_condition(ctx, &ctx->rule->match, depth);
    if (ctx->failed)
        return false;
    return !held || add_finding(findings, ctx);
}

static const char *instance_title(eval_ctx *ctx, size_t count)
{
    return ctx->trace ? dt_arena_printf(ctx->arena, "analyzer %s, instance %zu of %zu",
                                        ctx->rule->analyzer->name, ctx->instance + 1, count)
                      : "";
}

static void trace_no_instances(eval_ctx *ctx)
{
    if (!ctx->trace)
        return;
    size_t step = eval_trace_begin(
        ctx, 0, dt_arena_printf(ctx->arena, "analyzer %s", ctx->rule->analyzer->name),
        ctx->rule->pos);
    dt_strbuf detail = {0};
    dt_strbuf_puts(&detail, ctx->input->in->process ? "no instances"
                                                    : "no instances (no analysis facts)");
    eval_trace_end(ctx, step, false, &detail);
    dt_strbuf_free(&detail);
}

static bool evaluate_instances(eval_ctx *ctx, dt_findings *findings)
{
    size_t count = ctx->input->in->process ? ctx->rule->analyzer->count(ctx->input) : 0;
    if (count > MAX_INSTANCES)
        count = MAX_INSTANCES;
    if (count == 0)
        trace_no_instances(ctx);
    for (size_t i = 0; i < count; i++) {
        ctx->instance = i;
        size_t step = eval_trace_begin(ctx, 0, instance_title(ctx, count), ctx->rule->pos);
        size_t before = findings->count;
        if (!evaluate_once(ctx, findings, 1))
            return false;
        eval_trace_end(ctx, step, findings->count > before, NULL);
    }
    return true;
}

static bool evaluate_rule(eval_ctx *ctx, dt_findings *findings)
{
    if (!eval_applies(ctx))
        return !ctx->failed;
    if (ctx->rule->analyzer)
        return evaluate_instances(ctx, findings);
    ctx->instance = 0;
    return evaluate_once(ctx, findings, 1);
}

static int compare_findings(const void *a, const void *b)
{
    const finding_entry *x = a, *y = b;
    if (x->finding.severity != y->finding.severity)
        return x->finding.severity > y->finding.severity ? -1 : 1;
    int order = strcmp(x->finding.rule_id, y->finding.rule_id);
    if (order)
        return order;
    return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

static dt_status sort_findings(dt_findings *findings)
{
    if (findings->count > 1)
        qsort(findings->entries, findings->count, sizeof *findings->entries, compare_findings);
    findings->sorted = dt_arena_array(&findings->arena, findings->count, sizeof(dt_finding));
    if (!findings->sorted)
        return DT_ERR_NOMEM;
    for (size_t i = 0; i < findings->count; i++)
        findings->sorted[i] = findings->entries[i].finding;
    return DT_OK;
}

/* Evaluates rules [first, last) into *out; `trace` may be NULL. */
static dt_status evaluate_range(dt_findings **out, const dt_rule_set *set, size_t first,
                                size_t last, const dt_rule_input *input, trace_log *trace)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return DT_ERR_NOMEM;
    dt_findings *findings = *out;
    eval_input prepared;
    eval_ctx ctx = {.input = &prepared, .arena = &findings->arena, .trace = trace};
    bool ok = eval_input_init(&prepared, input, &findings->arena) && eval_globals_init(&ctx);
    for (size_t i = first; ok && i < last; i++) {
        ctx.rule = rule_set_rule(set, i);
        ok = evaluate_rule(&ctx, findings);
    }
    eval_state_free(&ctx.state);
    free(ctx.globals);
    dt_status status = ok ? sort_findings(findings) : DT_ERR_NOMEM;
    if (status != DT_OK) {
        dt_findings_free(findings);
        *out = NULL;
    }
    return status;
}

dt_status dt_rules_evaluate_input(dt_findings **out, const dt_rule_set *set,
                                  const dt_rule_input *input)
{
    return evaluate_range(out, set, 0, dt_rule_set_count(set), input, NULL);
}

dt_status dt_rules_evaluate(dt_findings **out, const dt_rule_set *set, const dt_dump *dump,
                            const dt_stacks *stacks, const dt_analysis *analysis)
{
    dt_rule_input input;
    dt_rule_input_from(&input, dump, stacks, analysis);
    return dt_rules_evaluate_input(out, set, &input);
}

const dt_finding *dt_findings_list(const dt_findings *findings, size_t *count)
{
    *count = findings->count;
    return findings->sorted;
}

void dt_findings_free(dt_findings *findings)
{
    if (!findings)
        return;
    dt_arena_release(&findings->arena);
    free(findings->entries);
    free(findings);
}

/* ---- Explain ----------------------------------------------------------------- */

dt_status dt_rules_explain(dt_rule_trace **out, const dt_rule_set *set, size_t index,
                           const dt_rule_input *input)
{
    *out = NULL;
    if (index >= dt_rule_set_count(set))
        return DT_ERR_ARGUMENT;
    dt_rule_trace *trace = calloc(1, sizeof *trace);
    if (!trace)
        return DT_ERR_NOMEM;
    dt_status status = evaluate_range(&trace->findings, set, index, index + 1, input,
                                      &trace->log);
    if (status != DT_OK) {
        dt_rule_trace_free(trace);
        return status;
    }
    *out = trace;
    return DT_OK;
}

const dt_trace_step *dt_rule_trace_steps(const dt_rule_trace *trace, size_t *count)
{
    *count = trace->log.count;
    return trace->log.steps;
}

const dt_finding *dt_rule_trace_findings(const dt_rule_trace *trace, size_t *count)
{
    return dt_findings_list(trace->findings, count);
}

void dt_rule_trace_free(dt_rule_trace *trace)
{
    if (!trace)
        return;
    dt_findings_free(trace->findings);
    free(trace->log.steps);
    free(trace);
}
