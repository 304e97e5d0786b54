/*
 * Process-level facts a `fact:` condition can test. Those marked
 * needs_analysis come from analysis.h and are unknown without it.
 */
#include "rules/rules_internal.h"

#include <string.h>

static const dt_process_facts *process_of(const eval_input *e)
{
    return e->in->process;
}

static bool set_number(rule_value *out, value_type type, uint64_t number)
{
    *out = (rule_value){.type = type, .number = number};
    return true;
}

static bool set_text(rule_value *out, const char *text)
{
    *out = (rule_value){.type = VT_STRING, .text = text};
    return text != NULL;
}

static bool get_process(const eval_input *e, rule_value *out)
{
    return set_text(out, e->in->process_name);
}

static bool get_os(const eval_input *e, rule_value *out)
{
    return set_text(out, e->in->os_name);
}

static bool get_cpu(const eval_input *e, rule_value *out)
{
    return set_text(out, dt_cpu_name(e->in->cpu));
}

static bool get_thread_count(const eval_input *e, rule_value *out)
{
    return set_number(out, VT_INT, e->in->thread_count);
}

static bool get_has_exception(const eval_input *e, rule_value *out)
{
    return set_number(out, VT_BOOL, e->in->exception != NULL);
}

static bool get_uptime(const eval_input *e, rule_value *out)
{
    const dt_process_facts *p = process_of(e);
    return p && p->has_uptime && set_number(out, VT_DURATION, p->uptime_seconds);
}

static bool get_clr_loaded(const eval_input *e, rule_value *out)
{
    const dt_process_facts *p = process_of(e);
    return p && set_number(out, VT_BOOL, p->clr_loaded);
}

static bool get_clr_module(const eval_input *e, rule_value *out)
{
    const dt_process_facts *p = process_of(e);
    return p && p->clr_loaded && set_text(out, p->clr_module);
}

static bool get_deadlocks(const eval_input *e, rule_value *out)
{
    return process_of(e) && set_number(out, VT_INT, e->in->deadlock_count);
}

static bool get_max_lock_waiters(const eval_input *e, rule_value *out)
{
    if (!process_of(e))
        return false;
    size_t most = 0;
    for (size_t i = 0; i < e->in->lock_count; i++)
        if (e->in->locks[i].waiter_count > most)
            most = e->in->locks[i].waiter_count;
    return set_number(out, VT_INT, most);
}

static bool get_exited_thread_handles(const eval_input *e, rule_value *out)
{
    const dt_process_facts *p = process_of(e);
    return p && set_number(out, VT_INT, p->thread_handles_exited);
}

static bool get_exited_process_handles(const eval_input *e, rule_value *out)
{
    const dt_process_facts *p = process_of(e);
    return p && set_number(out, VT_INT, p->process_handles_exited);
}

static bool get_handle_count(const eval_input *e, rule_value *out)
{
    const dt_process_facts *p = process_of(e);
    return p && set_number(out, VT_INT, p->handle_count);
}

static bool get_max_recursion_depth(const eval_input *e, rule_value *out)
{
    if (!process_of(e))
        return false;
    size_t most = 0;
    for (size_t i = 0; i < e->in->thread_facts_count; i++)
        if (e->in->thread_facts[i].recursion_depth > most)
            most = e->in->thread_facts[i].recursion_depth;
    return set_number(out, VT_INT, most);
}

static bool get_max_cpu_share(const eval_input *e, rule_value *out)
{
    if (!process_of(e))
        return false;
    double most = 0;
    for (size_t i = 0; i < e->in->thread_facts_count; i++)
        if (e->in->thread_facts[i].cpu_share > most)
            most = e->in->thread_facts[i].cpu_share;
    return set_number(out, VT_PERCENT, (uint64_t)(most * 100.0 + 0.5));
}

static bool count_state(const eval_input *e, dt_thread_state state, rule_value *out)
{
    if (!process_of(e))
        return false;
    size_t count = 0;
    for (size_t i = 0; i < e->in->thread_facts_count; i++)
        count += e->in->thread_facts[i].state == state;
    return set_number(out, VT_INT, count);
}

static bool get_running_threads(const eval_input *e, rule_value *out)
{
    return count_state(e, DT_STATE_RUNNING, out);
}

static bool get_waiting_threads(const eval_input *e, rule_value *out)
{
    return count_state(e, DT_STATE_WAITING, out);
}

static bool get_idle_threads(const eval_input *e, rule_value *out)
{
    return count_state(e, DT_STATE_IDLE, out);
}

static bool get_private_committed(const eval_input *e, rule_value *out)
{
    const dt_process_facts *p = process_of(e);
    return p && set_number(out, VT_BYTES, p->private_committed);
}

static bool get_committed(const eval_input *e, rule_value *out)
{
    const dt_process_facts *p = process_of(e);
    return p && set_number(out, VT_BYTES,
                           p->private_committed + p->image_committed + p->mapped_committed);
}

static bool get_private_usage(const eval_input *e, rule_value *out)
{
    const dt_process_facts *p = process_of(e);
    return p && p->private_usage && set_number(out, VT_BYTES, p->private_usage);
}

static bool get_cpu_time(const eval_input *e, rule_value *out)
{
    const dt_process_facts *p = process_of(e);
    return p && set_number(out, VT_DURATION, p->total_user_time / 10000000u);
}

static const fact_def facts[] = {
    {{"process", VT_STRING}, false, get_process},
    {{"os", VT_STRING}, false, get_os},
    {{"cpu", VT_STRING}, false, get_cpu},
    {{"thread_count", VT_INT}, false, get_thread_count},
    {{"has_exception", VT_BOOL}, false, get_has_exception},
    {{"uptime", VT_DURATION}, true, get_uptime},
    {{"clr_loaded", VT_BOOL}, true, get_clr_loaded},
    {{"clr_module", VT_STRING}, true, get_clr_module},
    {{"deadlocks", VT_INT}, true, get_deadlocks},
    {{"max_lock_waiters", VT_INT}, true, get_max_lock_waiters},
    {{"exited_thread_handles", VT_INT}, true, get_exited_thread_handles},
    {{"exited_process_handles", VT_INT}, true, get_exited_process_handles},
    {{"handle_count", VT_INT}, true, get_handle_count},
    {{"max_recursion_depth", VT_INT}, true, get_max_recursion_depth},
    {{"max_cpu_share", VT_PERCENT}, true, get_max_cpu_share},
    {{"running_threads", VT_INT}, true, get_running_threads},
    {{"waiting_threads", VT_INT}, true, get_waiting_threads},
    {{"idle_threads", VT_INT}, true, get_idle_threads},
    {{"private_committed", VT_BYTES}, true, get_private_committed},
    {{"committed", VT_BYTES}, true, get_committed},
    {{"private_usage", VT_BYTES}, true, get_private_usage},
    {{"cpu_time", VT_DURATION}, true, get_cpu_time},
};

const fact_def *fact_defs(size_t *count)
{
    *count = sizeof facts / sizeof facts[0];
    return facts;
}

const fact_def *fact_find(const char *name)
{
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++)
        if (strcmp(facts[i].var.name, name) == 0)
            return &facts[i];
    return NULL;
}
