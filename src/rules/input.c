/* What rules are evaluated against: the input and its lookup tables. */
#include "rules/rules_internal.h"

#include <stdlib.h>

void dt_rule_input_from(dt_rule_input *out, const dt_dump *dump, const dt_stacks *stacks,
                        const dt_analysis *analysis)
{
    *out = (dt_rule_input){0};
    const dt_system_info *system = dt_dump_system_info(dump);
    out->process_name = dt_dump_process_name(dump);
    out->os_name = system ? dt_os_name(system) : NULL;
    out->cpu = system ? system->cpu : DT_CPU_UNKNOWN;
    out->exception = dt_dump_exception(dump);
    out->threads = stacks ? dt_stacks_threads(stacks, &out->thread_count) : NULL;
    if (!analysis)
        return;
    out->process = dt_analysis_process(analysis);
    out->thread_facts = dt_analysis_threads(analysis, &out->thread_facts_count);
    out->locks = dt_analysis_locks(analysis, &out->lock_count);
    out->deadlocks = dt_analysis_deadlocks(analysis, &out->deadlock_count);
}

static int by_id(const void *a, const void *b)
{
    const thread_key *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

uint32_t stack_thread_id(const dt_thread_stack *stack)
{
    return stack->thread ? stack->thread->id : 0;
}

bool eval_input_init(eval_input *out, const dt_rule_input *in, dt_arena *arena)
{
    size_t n = in->thread_count;
    out->in = in;
    out->facts_by_stack = dt_arena_array(arena, n ? n : 1, sizeof *out->facts_by_stack);
    out->by_thread_id = dt_arena_array(arena, n ? n : 1, sizeof *out->by_thread_id);
    if (!out->facts_by_stack || !out->by_thread_id)
        return false;
    for (size_t i = 0; i < in->thread_facts_count; i++) {
        size_t index = in->thread_facts[i].stack_index;
        if (index < n && !out->facts_by_stack[index])
            out->facts_by_stack[index] = &in->thread_facts[i];
    }
    for (size_t i = 0; i < n; i++)
        out->by_thread_id[i] = (thread_key){stack_thread_id(&in->threads[i]), i};
    qsort(out->by_thread_id, n, sizeof *out->by_thread_id, by_id);
    return true;
}

const dt_thread_facts *eval_thread_facts(const eval_input *in, size_t stack_index)
{
    return stack_index < in->in->thread_count ? in->facts_by_stack[stack_index] : NULL;
}

bool eval_thread_index(const eval_input *in, uint32_t id, size_t *index)
{
    size_t low = 0, high = in->in->thread_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        const thread_key *key = &in->by_thread_id[mid];
        if (key->id == id) {
            *index = key->index;
            return true;
        }
        if (key->id < id)
            low = mid + 1;
        else
            high = mid;
    }
    return false;
}
