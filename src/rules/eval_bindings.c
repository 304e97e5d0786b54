/* Template variables and evidence bound during an evaluation. */
#include "rules/eval.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static bool grow(void **items, size_t *capacity, size_t count, size_t size)
{
    if (count < *capacity)
        return true;
    size_t next = *capacity ? *capacity * 2 : 16;
    void *grown = realloc(*items, next * size);
    if (!grown)
        return false;
    *items = grown;
    *capacity = next;
    return true;
}

void eval_bind(eval_ctx *ctx, const char *name, const char *value)
{
    eval_state *s = &ctx->state;
    if (!name || !value ||
        !grow((void **)&s->bindings, &s->binding_capacity, s->binding_count, sizeof(binding))) {
        ctx->failed = true;
        return;
    }
    s->bindings[s->binding_count++] = (binding){name, value};
}

void eval_bind_value(eval_ctx *ctx, const char *name, const rule_value *value)
{
    eval_bind(ctx, name, value_render(ctx->arena, value));
}

void eval_add_evidence(eval_ctx *ctx, const dt_finding_thread *evidence)
{
    eval_state *s = &ctx->state;
    if (!grow((void **)&s->evidence, &s->evidence_capacity, s->evidence_count,
              sizeof *s->evidence)) {
        ctx->failed = true;
        return;
    }
    s->evidence[s->evidence_count++] = *evidence;
}

eval_mark eval_mark_now(const eval_ctx *ctx)
{
    return (eval_mark){ctx->state.binding_count, ctx->state.evidence_count};
}

void eval_rollback(eval_ctx *ctx, eval_mark mark)
{
    ctx->state.binding_count = mark.bindings;
    ctx->state.evidence_count = mark.evidence;
}

void eval_state_free(eval_state *state)
{
    free(state->bindings);
    free(state->evidence);
    *state = (eval_state){0};
}

const char *eval_lookup(void *context, const char *name, size_t length)
{
    const eval_ctx *ctx = context;
    for (size_t i = 0; i < ctx->state.binding_count; i++) {
        const binding *b = &ctx->state.bindings[i];
        if (strlen(b->name) == length && memcmp(b->name, name, length) == 0)
            return b->value;
    }
    return NULL;
}

char *eval_frame_display(dt_arena *arena, const dt_frame *frame)
{
    char display[512];
    dt_frame_display(frame, display, sizeof display);
    return dt_arena_strndup(arena, display, strlen(display));
}

/* ---- Process and exception variables -------------------------------------- */

static void bind_number(eval_ctx *ctx, const char *name, value_type type, uint64_t number)
{
    rule_value v = {.type = type, .number = number};
    eval_bind_value(ctx, name, &v);
}

/* Every known process fact, under its own name. */
static void bind_facts(eval_ctx *ctx)
{
    size_t count;
    const fact_def *facts = fact_defs(&count);
    for (size_t i = 0; i < count; i++) {
        rule_value value;
        if ((!facts[i].needs_analysis || ctx->input->in->process) &&
            facts[i].get(ctx->input, &value))
            eval_bind_value(ctx, facts[i].var.name, &value);
    }
}

const dt_thread_stack *eval_exception_stack(const eval_input *input)
{
    const dt_rule_input *in = input->in;
    if (!in->exception)
        return NULL;
    for (size_t i = 0; i < in->thread_count; i++)
        if (in->threads[i].from_exception)
            return &in->threads[i];
    size_t index;
    return eval_thread_index(input, in->exception->thread_id, &index) ? &in->threads[index]
                                                                      : NULL;
}

static const char *fast_fail_name(uint64_t code)
{
    static const char *const names[] = {
        "LEGACY_GS_VIOLATION", "VTGUARD_CHECK_FAILURE", "STACK_COOKIE_CHECK_FAILURE",
        "CORRUPT_LIST_ENTRY", "INCORRECT_STACK", "INVALID_ARG", "GS_COOKIE_INIT",
        "FATAL_APP_EXIT", "RANGE_CHECK_FAILURE", "UNSAFE_REGISTRY_ACCESS",
        "GUARD_ICALL_CHECK_FAILURE", "GUARD_WRITE_CHECK_FAILURE", "INVALID_FIBER_SWITCH",
        "INVALID_SET_OF_CONTEXT", "INVALID_REFERENCE_COUNT", NULL, NULL, NULL,
        "INVALID_JUMP_BUFFER", "MRDATA_MODIFIED", "CERTIFICATION_FAILURE",
        "INVALID_EXCEPTION_CHAIN", "CRYPTO_LIBRARY", "INVALID_CALL_IN_DLL_CALLOUT",
        "INVALID_IMAGE_BASE", "DLOAD_PROTECTION_FAILURE", "UNSAFE_EXTENSION_CALL",
        "DEPRECATED_SERVICE_INVOKED", "INVALID_BUFFER_ACCESS", "INVALID_BALANCED_TREE",
        "INVALID_NEXT_THREAD", "GUARD_ICALL_CHECK_SUPPRESSED", "APCS_DISABLED",
        "INVALID_IDLE_STATE", "MRDATA_PROTECTION_FAILURE", "UNEXPECTED_HEAP_EXCEPTION",
        "INVALID_LOCK_STATE", "GUARD_JUMPTABLE", "INVALID_LONGJUMP_TARGET",
        "INVALID_DISPATCH_CONTEXT", "INVALID_THREAD"};
    return code < sizeof names / sizeof names[0] ? names[code] : NULL;
}

static bool is_access_violation(uint32_t code)
{
    return code == 0xC0000005u || code == 0xC0000006u;
}

static void bind_exception_parameters(eval_ctx *ctx, const dt_exception *e)
{
    if (is_access_violation(e->code) && e->parameter_count >= 2) {
        uint64_t access = e->parameters[0];
        eval_bind(ctx, "access", access == 0 ? "read" : access == 1 ? "write"
                                 : access == 8 ? "execute" : "unknown");
        bind_number(ctx, "target", VT_ADDRESS, e->parameters[1]);
    }
    if (e->code == 0xC0000409u && e->parameter_count >= 1) {
        bind_number(ctx, "subcode", VT_INT, e->parameters[0]);
        const char *name = fast_fail_name(e->parameters[0]);
        if (name)
            eval_bind(ctx, "subcode_name", dt_arena_printf(ctx->arena, "FAST_FAIL_%s", name));
    }
}

static void bind_exception_thread(eval_ctx *ctx)
{
    const dt_thread_stack *stack = eval_exception_stack(ctx->input);
    if (!stack || stack->frame_count == 0)
        return;
    const dt_frame *top = &stack->frames[0];
    eval_bind(ctx, "frame", eval_frame_display(ctx->arena, top));
    if (top->module)
        eval_bind(ctx, "module", top->module->name);
    const dt_thread_facts *facts =
        eval_thread_facts(ctx->input, (size_t)(stack - ctx->input->in->threads));
    if (facts && facts->recursion_depth >= 2) {
        bind_number(ctx, "depth", VT_INT, facts->recursion_depth);
        bind_number(ctx, "cycle", VT_INT, facts->recursion_cycle);
    }
}

static void bind_exception(eval_ctx *ctx)
{
    const dt_exception *e = ctx->input->in->exception;
    if (!e)
        return;
    eval_bind(ctx, "code", dt_arena_printf(ctx->arena, "0x%08" PRIx32, e->code));
    const char *name = dt_exception_code_name(e->code);
    if (name)
        eval_bind(ctx, "code_name", name);
    bind_number(ctx, "address", VT_ADDRESS, e->address);
    bind_number(ctx, "thread", VT_THREAD, e->thread_id);
    bind_exception_parameters(ctx, e);
    bind_exception_thread(ctx);
}

/* Renders the process and exception variables once, for every evaluation of the dump. */
bool eval_globals_init(eval_ctx *ctx)
{
    ctx->state.binding_count = 0;
    bind_facts(ctx);
    bind_exception(ctx);
    size_t count = ctx->state.binding_count;
    ctx->state.binding_count = 0;
    if (ctx->failed)
        return false;
    if (count == 0)
        return true;
    ctx->globals = malloc(count * sizeof *ctx->globals);
    if (!ctx->globals)
        return false;
    memcpy(ctx->globals, ctx->state.bindings, count * sizeof *ctx->globals);
    ctx->global_count = count;
    return true;
}

void eval_bind_globals(eval_ctx *ctx)
{
    for (size_t i = 0; i < ctx->global_count; i++)
        eval_bind(ctx, ctx->globals[i].name, ctx->globals[i].value);
}

/* Instance variables come first, so they shadow process and exception
 * variables of the same name. */
void eval_bind_instance(eval_ctx *ctx)
{
    const analyzer_def *a = ctx->rule->analyzer;
    for (size_t v = 0; a && v < a->var_count; v++) {
        rule_value value;
        if (a->get(ctx->input, ctx->instance, v, ctx->arena, &value))
            eval_bind_value(ctx, a->vars[v].name, &value);
    }
}
