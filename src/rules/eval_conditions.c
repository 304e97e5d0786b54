/* Evaluating applies_to and the match conditions, with trace steps. */
#include "rules/eval.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { TRACE_THREADS_SHOWN = 5, TRACE_FRAMES_SHOWN = 12 };

/* ---- Trace ----------------------------------------------------------------- */

size_t eval_trace_begin(eval_ctx *ctx, size_t depth, const char *what, rule_pos pos)
{
    trace_log *t = ctx->trace;
    if (!t)
        return (size_t)-1;
    if (t->count == t->capacity) {
        size_t next = t->capacity ? t->capacity * 2 : 32;
        dt_trace_step *grown = realloc(t->steps, next * sizeof *grown);
        if (!grown) {
            ctx->failed = true;
            return (size_t)-1;
        }
        t->steps = grown;
        t->capacity = next;
    }
    t->steps[t->count] = (dt_trace_step){depth, what, pos.line, pos.column, false, ""};
    return t->count++;
}

void eval_trace_end(eval_ctx *ctx, size_t step, bool held, dt_strbuf *detail)
{
    if (step == (size_t)-1)
        return;
    dt_trace_step *s = &ctx->trace->steps[step];
    s->held = held;
    if (detail && detail->length && !detail->failed)
        s->detail = dt_arena_strndup(ctx->arena, detail->data, detail->length);
    if (detail && detail->failed)
        ctx->failed = true;
}

static dt_strbuf *detail_buffer(eval_ctx *ctx, dt_strbuf *buffer)
{
    return ctx->trace ? buffer : NULL;
}

/* ---- applies_to ------------------------------------------------------------ */

static bool any_glob(const glob_list *list, const char *text)
{
    if (list->count == 0)
        return true;
    for (size_t i = 0; text && i < list->count; i++)
        if (text_glob_matches(list->globs[i], text))
            return true;
    return false;
}

bool eval_applies(eval_ctx *ctx)
{
    const rule *r = ctx->rule;
    const dt_rule_input *in = ctx->input->in;
    bool process = any_glob(&r->processes, in->process_name);
    bool os = any_glob(&r->oses, in->os_name);
    bool cpu = r->cpu_mask == 0 || (r->cpu_mask & (1u << in->cpu));
    bool held = process && os && cpu;
    size_t step = eval_trace_begin(ctx, 0, "applies_to", r->pos);
    dt_strbuf detail = {0};
    if (step != (size_t)-1)
        dt_strbuf_printf(&detail, "process %s: %s; os %s: %s; cpu %s: %s",
                         in->process_name ? in->process_name : "unknown", process ? "yes" : "no",
                         in->os_name ? in->os_name : "unknown", os ? "yes" : "no",
                         dt_cpu_name(in->cpu), cpu ? "yes" : "no");
    eval_trace_end(ctx, step, held, &detail);
    dt_strbuf_free(&detail);
    return held;
}

/* ---- stack ------------------------------------------------------------------- */

typedef struct stack_tally {
    size_t considered;
    size_t skipped_state;
    size_t matched;
    stack_match closest;     /* the best miss */
    size_t closest_stack;
    bool has_closest;
} stack_tally;

static bool state_allows(const stack_cond *cond, const dt_thread_facts *facts)
{
    if (!facts)
        return !cond->has_state;
    return (cond->state_mask & (1u << facts->state)) != 0;
}

static void record_match(eval_ctx *ctx, const stack_cond *cond, const dt_thread_stack *stack,
                         const stack_match *m)
{
    size_t *indices = dt_arena_array(ctx->arena, m->frame_count, sizeof *indices);
    const char **frames = dt_arena_array(ctx->arena, m->frame_count, sizeof *frames);
    const char *label = dt_arena_strndup(ctx->arena, cond->label, strlen(cond->label));
    if (!indices || !frames || !label) {
        ctx->failed = true;
        return;
    }
    for (size_t i = 0; i < m->frame_count; i++) {
        indices[i] = m->frames[i];
        frames[i] = eval_frame_display(ctx->arena, &stack->frames[m->frames[i]]);
    }
    dt_finding_thread evidence = {stack_thread_id(stack), label, m->frame_count, indices,
                                  frames};
    eval_add_evidence(ctx, &evidence);
}

static void try_thread(eval_ctx *ctx, const stack_cond *cond, size_t index, stack_tally *tally)
{
    const dt_thread_stack *stack = &ctx->input->in->threads[index];
    if (!state_allows(cond, eval_thread_facts(ctx->input, index))) {
        tally->skipped_state++;
        return;
    }
    tally->considered++;
    stack_match m;
    stack_match_thread(cond, stack, &m);
    if (m.matched) {
        tally->matched++;
        record_match(ctx, cond, stack, &m);
    } else if (!tally->has_closest || m.matched_items > tally->closest.matched_items) {
        tally->closest = m;
        tally->closest_stack = index;
        tally->has_closest = true;
    }
}

static void try_variable_threads(eval_ctx *ctx, const stack_cond *cond, stack_tally *tally)
{
    const analyzer_def *a = ctx->rule->analyzer;
    rule_value value;
    if (!a->get(ctx->input, ctx->instance, (size_t)cond->variable, ctx->arena, &value))
        return;
    const uint32_t *ids = value.type == VT_THREADS ? value.ids : NULL;
    size_t count = value.type == VT_THREADS ? value.id_count : 1;
    for (size_t i = 0; i < count; i++) {
        size_t index;
        uint32_t id = ids ? ids[i] : (uint32_t)value.number;
        if (eval_thread_index(ctx->input, id, &index))
            try_thread(ctx, cond, index, tally);
    }
}

static void try_candidates(eval_ctx *ctx, const stack_cond *cond, stack_tally *tally)
{
    const dt_rule_input *in = ctx->input->in;
    if (cond->source == THREADS_VARIABLE) {
        try_variable_threads(ctx, cond, tally);
    } else if (cond->source == THREADS_EXCEPTION) {
        const dt_thread_stack *stack = eval_exception_stack(ctx->input);
        if (stack)
            try_thread(ctx, cond, (size_t)(stack - in->threads), tally);
    } else {
        for (size_t i = 0; i < in->thread_count; i++)
            try_thread(ctx, cond, i, tally);
    }
}

static uint64_t rounded_percent(size_t part, size_t whole)
{
    return whole ? ((uint64_t)part * 100 + whole / 2) / whole : 0;
}

static void bind_label(eval_ctx *ctx, const stack_cond *cond, eval_mark mark, size_t matched)
{
    const dt_finding_thread *first = &ctx->state.evidence[mark.evidence];
    uint32_t *ids = dt_arena_array(ctx->arena, matched, sizeof *ids);
    if (!ids) {
        ctx->failed = true;
        return;
    }
    for (size_t i = 0; i < matched; i++)
        ids[i] = ctx->state.evidence[mark.evidence + i].thread_id;
    rule_value list = {.type = VT_THREADS, .ids = ids, .id_count = matched};
    const char *l = dt_arena_strndup(ctx->arena, cond->label, strlen(cond->label));
    eval_bind_value(ctx, l, &list);
    eval_bind(ctx, dt_arena_printf(ctx->arena, "%s.count", l),
              dt_arena_printf(ctx->arena, "%zu", matched));
    eval_bind(ctx, dt_arena_printf(ctx->arena, "%s.percent", l),
              dt_arena_printf(ctx->arena, "%" PRIu64,
                              rounded_percent(matched, ctx->input->in->thread_count)));
    eval_bind(ctx, dt_arena_printf(ctx->arena, "%s.first", l),
              dt_arena_printf(ctx->arena, "%" PRIu32, first->thread_id));
    eval_bind(ctx, dt_arena_printf(ctx->arena, "%s.frame", l), first->frames[0]);
    size_t stack_index;
    if (eval_thread_index(ctx->input, first->thread_id, &stack_index)) {
        const dt_frame *frame = &ctx->input->in->threads[stack_index].frames[first->frame_indices[0]];
        if (frame->module)
            eval_bind(ctx, dt_arena_printf(ctx->arena, "%s.module", l), frame->module->name);
    }
}

static void describe_item(dt_strbuf *out, const frame_item *item)
{
    for (size_t i = 0; i < item->alt_count; i++)
        dt_strbuf_printf(out, "%s%s", i ? " | " : "", item->alts[i]);
}

static void describe_matches(eval_ctx *ctx, eval_mark mark, dt_strbuf *out)
{
    size_t shown = 0;
    for (size_t i = mark.evidence; i < ctx->state.evidence_count; i++) {
        const dt_finding_thread *e = &ctx->state.evidence[i];
        if (shown++ == TRACE_THREADS_SHOWN) {
            dt_strbuf_printf(out, "\n... and %zu more threads", ctx->state.evidence_count - i);
            break;
        }
        dt_strbuf_printf(out, "\nthread %" PRIu32 ":", e->thread_id);
        for (size_t f = 0; f < e->frame_count && f < TRACE_FRAMES_SHOWN; f++)
            dt_strbuf_printf(out, " #%zu %s", e->frame_indices[f], e->frames[f]);
    }
}

static void describe_miss(eval_ctx *ctx, const stack_cond *cond, const stack_tally *t,
                          dt_strbuf *out)
{
    if (!t->has_closest)
        return;
    const dt_thread_stack *stack = &ctx->input->in->threads[t->closest_stack];
    size_t patterns = 0;
    for (size_t i = 0; i < cond->item_count; i++)
        patterns += !cond->items[i].gap;
    dt_strbuf_printf(out, "\nclosest: thread %" PRIu32 " matched %zu of %zu patterns",
                     stack_thread_id(stack), t->closest.matched_items, patterns);
    if (t->closest.failed_item >= cond->item_count)
        return;
    dt_strbuf_puts(out, "; '");
    describe_item(out, &cond->items[t->closest.failed_item]);
    if (t->closest.failed_frame < stack->frame_count) {
        char *frame = eval_frame_display(ctx->arena, &stack->frames[t->closest.failed_frame]);
        dt_strbuf_printf(out, "' did not match frame #%zu %s", t->closest.failed_frame,
                         frame ? frame : "?");
    } else {
        dt_strbuf_puts(out, "' found no frame (the stack ended)");
    }
}

static void describe_stack(eval_ctx *ctx, const stack_cond *cond, const stack_tally *t,
                           eval_mark mark, dt_strbuf *out)
{
    dt_strbuf_printf(out, "%zu of %zu threads matched (need %" PRIu64, t->matched,
                     ctx->input->in->thread_count, cond->min_threads);
    if (cond->min_percent)
        dt_strbuf_printf(out, " and %" PRIu64 "%%", cond->min_percent);
    dt_strbuf_printf(out, "); %zu considered", t->considered);
    if (t->skipped_state)
        dt_strbuf_printf(out, ", %zu left out by thread state", t->skipped_state);
    describe_matches(ctx, mark, out);
    if (t->matched == 0)
        describe_miss(ctx, cond, t, out);
}

static bool eval_stack(eval_ctx *ctx, const stack_cond *cond, dt_strbuf *detail)
{
    eval_mark mark = eval_mark_now(ctx);
    stack_tally tally = {0};
    try_candidates(ctx, cond, &tally);
    size_t total = ctx->input->in->thread_count;
    bool held = tally.matched >= cond->min_threads &&
                (uint64_t)tally.matched * 100 >= cond->min_percent * (uint64_t)total;
    if (detail)
        describe_stack(ctx, cond, &tally, mark, detail);
    if (held && !ctx->failed)
        bind_label(ctx, cond, mark, tally.matched);
    return held;
}

/* ---- exception ------------------------------------------------------------- */

static bool code_listed(const exception_cond *c, uint32_t code)
{
    for (size_t i = 0; i < c->code_count; i++)
        if (c->codes[i] == code)
            return true;
    return c->code_count == 0;
}

static bool access_listed(const exception_cond *c, const dt_exception *e)
{
    if (c->access_count == 0)
        return true;
    if (e->parameter_count < 1 || (e->code != 0xC0000005u && e->code != 0xC0000006u))
        return false;
    for (size_t i = 0; i < c->access_count; i++)
        if (c->access[i] == e->parameters[0])
            return true;
    return false;
}

static bool parameters_hold(const exception_cond *c, const dt_exception *e)
{
    if (c->has_target) {
        rule_value target = {.type = VT_ADDRESS, .number = e->parameters[1]};
        if (e->parameter_count < 2 || !comparison_holds(&c->target, &target))
            return false;
    }
    for (size_t i = 0; i < c->param_count; i++) {
        const param_test *t = &c->params[i];
        rule_value value = {.type = VT_INT, .number = e->parameters[t->index]};
        if (t->index >= e->parameter_count || !comparison_holds(&t->compare, &value))
            return false;
    }
    return true;
}

static void exception_evidence(eval_ctx *ctx)
{
    const dt_thread_stack *stack = eval_exception_stack(ctx->input);
    dt_finding_thread evidence = {ctx->input->in->exception->thread_id, "exception", 0, NULL,
                                  NULL};
    if (stack && stack->frame_count) {
        size_t *index = dt_arena_alloc(ctx->arena, sizeof *index);
        const char **frame = dt_arena_alloc(ctx->arena, sizeof *frame);
        if (!index || !frame) {
            ctx->failed = true;
            return;
        }
        *frame = eval_frame_display(ctx->arena, &stack->frames[0]);
        evidence = (dt_finding_thread){stack_thread_id(stack), "exception", 1, index, frame};
    }
    eval_add_evidence(ctx, &evidence);
}

static bool eval_exception(eval_ctx *ctx, const exception_cond *c, dt_strbuf *detail)
{
    const dt_exception *e = ctx->input->in->exception;
    if (!e) {
        if (detail)
            dt_strbuf_puts(detail, "the dump has no exception");
        return false;
    }
    bool code = code_listed(c, e->code), access = access_listed(c, e);
    bool params = parameters_hold(c, e);
    if (detail) {
        const char *name = dt_exception_code_name(e->code);
        dt_strbuf_printf(detail, "code 0x%08" PRIx32 " (%s) on thread %" PRIu32 ": code %s",
                         e->code, name ? name : "unknown", e->thread_id, code ? "yes" : "no");
        dt_strbuf_printf(detail, ", access %s, parameters %s", access ? "yes" : "no",
                         params ? "yes" : "no");
    }
    bool held = code && access && params;
    if (held)
        exception_evidence(ctx);
    return held;
}

/* ---- fact ------------------------------------------------------------------ */

static bool fact_value(eval_ctx *ctx, const fact_cond *c, rule_value *out)
{
    if (c->fact)
        return (!c->fact->needs_analysis || ctx->input->in->process) &&
               c->fact->get(ctx->input, out);
    return ctx->rule->analyzer->get(ctx->input, ctx->instance, (size_t)c->variable, ctx->arena,
                                    out);
}

static bool eval_fact(eval_ctx *ctx, const fact_cond *c, dt_strbuf *detail)
{
    rule_value value;
    bool known = fact_value(ctx, c, &value);
    bool held = known && comparison_holds(&c->compare, &value);
    if (detail) {
        const char *shown = known ? value_render(ctx->arena, &value) : NULL;
        dt_strbuf_printf(detail, "%s = %s", c->name,
                         known ? (shown ? shown : "?")
                               : (ctx->input->in->process ? "unknown" : "unknown (no analysis)"));
    }
    return held;
}

/* ---- all, any, not ---------------------------------------------------------- */

/* Without a trace, all/any stop at the first deciding child; with one,
 * every child is evaluated (and shown) but the result is the same, and
 * children of a decided `any` leave no bindings. */
static bool eval_children(eval_ctx *ctx, const condition *cond, size_t depth)
{
    bool any = cond->kind == COND_ANY, result = !any;
    for (size_t i = 0; i < cond->child_count; i++) {
        if ((any && result) || (!any && !result)) {
            if (!ctx->trace)
                break;
            eval_mark mark = eval_mark_now(ctx);
            eval_condition(ctx, &cond->children[i], depth + 1);
            eval_rollback(ctx, mark);
            continue;
        }
        bool child = eval_condition(ctx, &cond->children[i], depth + 1);
        result = any ? child : child && result;
    }
    return result;
}

static const char *condition_title(eval_ctx *ctx, const condition *cond)
{
    static const char *const names[] = {"all", "any", "not", "stack", "exception", "fact"};
    if (!ctx->trace)
        return "";
    if (cond->kind == COND_STACK)
        return dt_arena_printf(ctx->arena, "stack %s", cond->stack.label);
    if (cond->kind != COND_FACT)
        return names[cond->kind];
    const comparison *c = &cond->fact.compare;
    const char *value = c->op == OP_IN ? "[...]" : value_render(ctx->arena, &c->values[0]);
    return dt_arena_printf(ctx->arena, "fact %s %s %s", cond->fact.name, compare_op_name(c->op),
                           value ? value : "?");
}

static bool eval_kind(eval_ctx *ctx, const condition *cond, size_t depth, dt_strbuf *detail)
{
    switch (cond->kind) {
    case COND_ALL:
    case COND_ANY: return eval_children(ctx, cond, depth);
    case COND_NOT: {
        eval_mark mark = eval_mark_now(ctx);
        bool child = eval_condition(ctx, &cond->children[0], depth + 1);
        eval_rollback(ctx, mark);
        return !child;
    }
    case COND_STACK: return eval_stack(ctx, &cond->stack, detail);
    case COND_EXCEPTION: return eval_exception(ctx, &cond->exception, detail);
    default: return eval_fact(ctx, &cond->fact, detail);
    }
}

bool eval_condition(eval_ctx *ctx, const condition *cond, size_t depth)
{
    eval_mark mark = eval_mark_now(ctx);
    size_t step = eval_trace_begin(ctx, depth, condition_title(ctx, cond), cond->pos);
    dt_strbuf buffer = {0};
    bool held = eval_kind(ctx, cond, depth, detail_buffer(ctx, &buffer));
    if (!held)
        eval_rollback(ctx, mark);
    eval_trace_end(ctx, step, held, &buffer);
    dt_strbuf_free(&buffer);
    return held && !ctx->failed;
}
