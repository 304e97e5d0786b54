/*
 * Analyzers: code that turns analysis facts into instances a rule is
 * evaluated against, each with variables the rule's conditions and
 * templates use. An analyzer never produces a finding by itself.
 */
#include "rules/rules_internal.h"

#include <string.h>

static bool number(rule_value *out, value_type type, uint64_t value)
{
    *out = (rule_value){.type = type, .number = value};
    return true;
}

static bool text(rule_value *out, const char *value)
{
    *out = (rule_value){.type = VT_STRING, .text = value};
    return value != NULL;
}

static bool threads(rule_value *out, const uint32_t *ids, size_t count)
{
    *out = (rule_value){.type = VT_THREADS, .ids = ids, .id_count = count};
    return true;
}

static uint64_t percent_of(size_t part, size_t whole)
{
    return whole ? ((uint64_t)part * 100 + whole / 2) / whole : 0;
}

static const char *frame_text(dt_arena *arena, const dt_frame *frame)
{
    char display[512];
    dt_frame_display(frame, display, sizeof display);
    return dt_arena_strndup(arena, display, strlen(display));
}

/* "running", "waiting", "idle", "exited" (not among the threads) or "unknown". */
static const char *thread_state_of(const eval_input *e, uint32_t id)
{
    size_t index;
    if (!eval_thread_index(e, id, &index))
        return "exited";
    const dt_thread_facts *facts = eval_thread_facts(e, index);
    return facts ? dt_thread_state_name(facts->state) : "unknown";
}

/* ---- critical_section_deadlock ------------------------------------------ */

static bool is_critical_section_cycle(const eval_input *e, const dt_deadlock *d)
{
    for (size_t i = 0; i < d->thread_count; i++)
        if (d->lock_indices[i] >= e->in->lock_count ||
            e->in->locks[d->lock_indices[i]].kind != DT_LOCK_CRITICAL_SECTION)
            return false;
    return d->thread_count > 0;
}

static const dt_deadlock *nth_cycle(const eval_input *e, size_t index)
{
    for (size_t i = 0; i < e->in->deadlock_count; i++)
        if (is_critical_section_cycle(e, &e->in->deadlocks[i]) && index-- == 0)
            return &e->in->deadlocks[i];
    return NULL;
}

static size_t count_cycles(const eval_input *e)
{
    size_t count = 0;
    for (size_t i = 0; i < e->in->deadlock_count; i++)
        count += is_critical_section_cycle(e, &e->in->deadlocks[i]);
    return count;
}

/* "thread 716 waits for 0x7ffe1000 held by 720, which waits for 0x7ffe2000
 * held by 716" */
static const char *describe_cycle(const eval_input *e, const dt_deadlock *d, dt_arena *arena)
{
    const char *out = dt_arena_printf(arena, "thread %u", d->thread_ids[0]);
    for (size_t i = 0; i < d->thread_count && out; i++) {
        const dt_lock *lock = &e->in->locks[d->lock_indices[i]];
        uint32_t next = d->thread_ids[(i + 1) % d->thread_count];
        out = dt_arena_printf(arena, "%s%s waits for 0x%llx held by %u", out,
                              i ? ", which" : "", (unsigned long long)lock->address, next);
    }
    return out;
}

static const var_def cycle_vars[] = {
    {"cycle_threads", VT_THREADS}, {"length", VT_INT}, {"cycle", VT_STRING}};

static bool cycle_get(const eval_input *e, size_t index, size_t var, dt_arena *arena,
                      rule_value *out)
{
    const dt_deadlock *d = nth_cycle(e, index);
    if (!d)
        return false;
    switch (var) {
    case 0: return threads(out, d->thread_ids, d->thread_count);
    case 1: return number(out, VT_INT, d->thread_count);
    default: return text(out, describe_cycle(e, d, arena));
    }
}

static size_t cycle_locks(const eval_input *e, size_t index, size_t *out, size_t max)
{
    const dt_deadlock *d = nth_cycle(e, index);
    size_t n = 0;
    for (size_t i = 0; d && i < d->thread_count && n < max; i++)
        out[n++] = d->lock_indices[i];
    return n;
}

/* ---- lock_contention ------------------------------------------------------ */

static const dt_lock *nth_contended(const eval_input *e, size_t index, size_t *lock_index)
{
    for (size_t i = 0; i < e->in->lock_count; i++)
        if (e->in->locks[i].waiter_count > 0 && index-- == 0) {
            *lock_index = i;
            return &e->in->locks[i];
        }
    return NULL;
}

static size_t count_contended(const eval_input *e)
{
    size_t count = 0;
    for (size_t i = 0; i < e->in->lock_count; i++)
        count += e->in->locks[i].waiter_count > 0;
    return count;
}

static const var_def lock_vars[] = {
    {"lock", VT_ADDRESS},        {"kind", VT_STRING},         {"owner", VT_THREAD},
    {"owner_alive", VT_BOOL},    {"owner_state", VT_STRING},  {"owner_wait", VT_STRING},
    {"waiters", VT_THREADS},     {"waiter_count", VT_INT},    {"percent", VT_PERCENT}};

static bool owner_wait(const eval_input *e, const dt_lock *lock, rule_value *out)
{
    size_t index;
    if (!lock->has_owner || !eval_thread_index(e, lock->owner_thread_id, &index))
        return false;
    const dt_thread_facts *facts = eval_thread_facts(e, index);
    return facts && text(out, dt_wait_kind_name(facts->wait));
}

static bool lock_get(const eval_input *e, size_t index, size_t var, dt_arena *arena,
                     rule_value *out)
{
    (void)arena;
    size_t lock_index;
    const dt_lock *lock = nth_contended(e, index, &lock_index);
    if (!lock)
        return false;
    switch (var) {
    case 0: return lock->address && number(out, VT_ADDRESS, lock->address);
    case 1: return text(out, dt_lock_kind_name(lock->kind));
    case 2: return lock->has_owner && number(out, VT_THREAD, lock->owner_thread_id);
    case 3: return lock->has_owner && number(out, VT_BOOL, lock->owner_alive);
    case 4: return lock->has_owner && text(out, thread_state_of(e, lock->owner_thread_id));
    case 5: return owner_wait(e, lock, out);
    case 6: return threads(out, lock->waiter_thread_ids, lock->waiter_count);
    case 7: return number(out, VT_INT, lock->waiter_count);
    default: return number(out, VT_PERCENT, percent_of(lock->waiter_count,
                                                       e->in->thread_count));
    }
}

static size_t lock_locks(const eval_input *e, size_t index, size_t *out, size_t max)
{
    size_t lock_index;
    if (max == 0 || !nth_contended(e, index, &lock_index))
        return 0;
    out[0] = lock_index;
    return 1;
}

/* ---- exited_thread_handles ---------------------------------------------- */

static size_t count_exited_handles(const eval_input *e)
{
    const dt_process_facts *p = e->in->process;
    return p && p->thread_handles_exited + p->process_handles_exited > 0;
}

static const var_def handle_vars[] = {
    {"exited_threads", VT_INT}, {"exited_processes", VT_INT}, {"exited", VT_INT},
    {"thread_handles", VT_INT}, {"process_handles", VT_INT}};

static bool handles_get(const eval_input *e, size_t index, size_t var, dt_arena *arena,
                        rule_value *out)
{
    (void)arena;
    const dt_process_facts *p = e->in->process;
    if (!p || index > 0)
        return false;
    size_t values[] = {p->thread_handles_exited, p->process_handles_exited,
                       p->thread_handles_exited + p->process_handles_exited,
                       p->thread_handles, p->process_handles};
    return number(out, VT_INT, values[var]);
}

/* ---- recursion, runaway_thread: per-thread instances -------------------- */

static const dt_thread_facts *nth_thread(const eval_input *e, size_t index,
                                         bool (*wanted)(const dt_thread_facts *))
{
    for (size_t i = 0; i < e->in->thread_facts_count; i++)
        if (wanted(&e->in->thread_facts[i]) && index-- == 0)
            return &e->in->thread_facts[i];
    return NULL;
}

static size_t count_threads(const eval_input *e, bool (*wanted)(const dt_thread_facts *))
{
    size_t count = 0;
    for (size_t i = 0; i < e->in->thread_facts_count; i++)
        count += wanted(&e->in->thread_facts[i]);
    return count;
}

static const dt_frame *frame_of(const eval_input *e, const dt_thread_facts *t, size_t frame)
{
    if (t->stack_index >= e->in->thread_count)
        return NULL;
    const dt_thread_stack *stack = &e->in->threads[t->stack_index];
    return frame < stack->frame_count ? &stack->frames[frame] : NULL;
}

static bool frame_value(const eval_input *e, const dt_thread_facts *t, size_t frame,
                        bool module, dt_arena *arena, rule_value *out)
{
    const dt_frame *f = frame_of(e, t, frame);
    if (!f || (module && !f->module))
        return false;
    return text(out, module ? f->module->name : frame_text(arena, f));
}

static bool recursing(const dt_thread_facts *t)
{
    return t->recursion_depth >= 2;
}

static size_t count_recursing(const eval_input *e)
{
    return count_threads(e, recursing);
}

static const var_def recursion_vars[] = {
    {"thread", VT_THREAD}, {"depth", VT_INT}, {"cycle", VT_INT}, {"frame", VT_STRING},
    {"module", VT_STRING}};

static bool recursion_get(const eval_input *e, size_t index, size_t var, dt_arena *arena,
                          rule_value *out)
{
    const dt_thread_facts *t = nth_thread(e, index, recursing);
    if (!t)
        return false;
    switch (var) {
    case 0: return number(out, VT_THREAD, t->thread_id);
    case 1: return number(out, VT_INT, t->recursion_depth);
    case 2: return number(out, VT_INT, t->recursion_cycle);
    case 3: return frame_value(e, t, t->recursion_start, false, arena, out);
    default: return frame_value(e, t, t->recursion_start, true, arena, out);
    }
}

static bool used_cpu(const dt_thread_facts *t)
{
    return t->user_time + t->kernel_time > 0;
}

static size_t count_cpu_users(const eval_input *e)
{
    return count_threads(e, used_cpu);
}

static const var_def runaway_vars[] = {
    {"thread", VT_THREAD}, {"cpu_share", VT_PERCENT}, {"cpu_time", VT_DURATION},
    {"state", VT_STRING}, {"frame", VT_STRING}};

static bool runaway_get(const eval_input *e, size_t index, size_t var, dt_arena *arena,
                        rule_value *out)
{
    const dt_thread_facts *t = nth_thread(e, index, used_cpu);
    if (!t)
        return false;
    switch (var) {
    case 0: return number(out, VT_THREAD, t->thread_id);
    case 1: return number(out, VT_PERCENT, (uint64_t)(t->cpu_share * 100.0 + 0.5));
    case 2: return number(out, VT_DURATION, (t->user_time + t->kernel_time) / 10000000u);
    case 3: return text(out, dt_thread_state_name(t->state));
    default: return frame_value(e, t, 0, false, arena, out);
    }
}

/* ---- memory_growth -------------------------------------------------------- */

static size_t count_memory(const eval_input *e)
{
    return e->in->process != NULL;
}

static const var_def memory_vars[] = {
    {"private_committed", VT_BYTES}, {"image_committed", VT_BYTES},
    {"mapped_committed", VT_BYTES},  {"committed", VT_BYTES},
    {"private_percent", VT_PERCENT}, {"private_usage", VT_BYTES}};

static bool memory_get(const eval_input *e, size_t index, size_t var, dt_arena *arena,
                       rule_value *out)
{
    (void)arena;
    const dt_process_facts *p = e->in->process;
    if (!p || index > 0)
        return false;
    uint64_t committed = p->private_committed + p->image_committed + p->mapped_committed;
    switch (var) {
    case 0: return number(out, VT_BYTES, p->private_committed);
    case 1: return number(out, VT_BYTES, p->image_committed);
    case 2: return number(out, VT_BYTES, p->mapped_committed);
    case 3: return number(out, VT_BYTES, committed);
    case 4: return committed && number(out, VT_PERCENT,
                                       (p->private_committed * 100 + committed / 2) / committed);
    default: return p->private_usage && number(out, VT_BYTES, p->private_usage);
    }
}

/* ---- Registry ------------------------------------------------------------- */

#define VARS(list) sizeof(list) / sizeof((list)[0]), (list)

static const analyzer_def analyzers[] = {
    {"critical_section_deadlock", VARS(cycle_vars), count_cycles, cycle_get, cycle_locks},
    {"lock_contention", VARS(lock_vars), count_contended, lock_get, lock_locks},
    {"exited_thread_handles", VARS(handle_vars), count_exited_handles, handles_get, NULL},
    {"recursion", VARS(recursion_vars), count_recursing, recursion_get, NULL},
    {"runaway_thread", VARS(runaway_vars), count_cpu_users, runaway_get, NULL},
    {"memory_growth", VARS(memory_vars), count_memory, memory_get, NULL},
};

const analyzer_def *analyzer_defs(size_t *count)
{
    *count = sizeof analyzers / sizeof analyzers[0];
    return analyzers;
}

const analyzer_def *analyzer_find(const char *name)
{
    for (size_t i = 0; i < sizeof analyzers / sizeof analyzers[0]; i++)
        if (strcmp(analyzers[i].name, name) == 0)
            return &analyzers[i];
    return NULL;
}

int analyzer_var_index(const analyzer_def *analyzer, const char *name)
{
    for (size_t i = 0; i < analyzer->var_count; i++)
        if (strcmp(analyzer->vars[i].name, name) == 0)
            return (int)i;
    return -1;
}
