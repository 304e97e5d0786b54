/* dt_analyze_process: runs the analysis steps and owns their results. */
#include "analysis/analysis_internal.h"

#include <stdlib.h>

const char *dt_thread_state_name(dt_thread_state state)
{
    switch (state) {
    case DT_STATE_WAITING: return "waiting";
    case DT_STATE_IDLE: return "idle";
    default: return "running";
    }
}

const char *dt_wait_kind_name(dt_wait_kind kind)
{
    static const char *const names[] = {
        "none", "single_object", "multiple_objects", "critical_section", "srw_lock",
        "condition_variable", "address", "delay", "io_completion", "alpc", "worker_factory",
        "file_io", "other_syscall"};
    return (size_t)kind < sizeof names / sizeof names[0] ? names[kind] : "none";
}

const char *dt_lock_kind_name(dt_lock_kind kind)
{
    switch (kind) {
    case DT_LOCK_MUTANT: return "mutant";
    case DT_LOCK_CLR_MONITOR: return "clr_monitor";
    default: return "critical_section";
    }
}

static int compare_thread_id(const void *a, const void *b)
{
    const an_thread_id *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

size_t an_thread_index(const dt_analysis *a, uint32_t thread_id)
{
    size_t low = 0, high = a->thread_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (a->ids_sorted[mid].id < thread_id)
            low = mid + 1;
        else
            high = mid;
    }
    return low < a->thread_count && a->ids_sorted[low].id == thread_id ? a->ids_sorted[low].index
                                                                        : SIZE_MAX;
}

static bool allocate_threads(dt_analysis *a, const dt_thread_stack *stacks, size_t count)
{
    a->thread_count = count;
    a->threads = dt_arena_array(&a->arena, count + 1, sizeof *a->threads);
    a->ids_sorted = dt_arena_array(&a->arena, count + 1, sizeof *a->ids_sorted);
    a->work = calloc(count + 1, sizeof *a->work);
    if (!a->threads || !a->ids_sorted || !a->work)
        return false;
    for (size_t i = 0; i < count; i++) {
        uint32_t id = stacks[i].thread ? stacks[i].thread->id : 0;
        a->threads[i].thread_id = id;
        a->threads[i].stack_index = i;
        a->ids_sorted[i] = (an_thread_id){id, i};
        a->work[i].stack = &stacks[i];
    }
    qsort(a->ids_sorted, count, sizeof *a->ids_sorted, compare_thread_id);
    return true;
}

/* Says what the dump did not allow: critical-section waiters whose section
 * was not found, a CLR monitor without owner, threads past the graph's cap. */
static void note_limits(dt_analysis *a)
{
    size_t unresolved = 0;
    for (size_t i = 0; i < a->thread_count; i++)
        unresolved += a->threads[i].wait == DT_WAIT_CRITICAL_SECTION &&
                      !a->work[i].critical_section_found;
    if (unresolved > 0)
        dt_diag_add(&a->diagnostics, &a->arena, DT_DIAG_INFO, "critical sections", -1,
                    "%zu critical-section waiter(s): no RTL_CRITICAL_SECTION validated in dump "
                    "memory (%s dump), so their locks and owners are unknown",
                    unresolved, dt_dump_kind_name(dt_dump_kind_get(a->dump)));
    for (size_t i = 0; i < a->lock_count; i++)
        if (a->locks[i].kind == DT_LOCK_CLR_MONITOR)
            dt_diag_add(&a->diagnostics, &a->arena, DT_DIAG_INFO, "CLR monitors", -1,
                        "%zu thread(s) wait to enter a CLR monitor; its AwareLock and owner are "
                        "not recovered from native frames", a->locks[i].waiter_count);
    if (a->thread_count > AN_MAX_THREADS)
        dt_diag_add(&a->diagnostics, &a->arena, DT_DIAG_WARNING, "wait-for graph", -1,
                    "%zu threads: only the first %d are searched for deadlocks",
                    a->thread_count, AN_MAX_THREADS);
    dt_diag_finish(&a->diagnostics, &a->arena);
}

static dt_status run_steps(dt_analysis *a)
{
    for (size_t i = 0; i < a->thread_count; i++) {
        an_classify_thread(a, i);
        an_find_recursion(&a->threads[i], a->work[i].stack);
    }
    an_process_facts(a);
    dt_status status = an_build_locks(a);
    if (status == DT_OK)
        status = an_find_deadlocks(a);
    if (status == DT_OK)
        note_limits(a);
    return status;
}

dt_status an_analyze_stacks(dt_analysis **out, const dt_dump *dump,
                            const dt_thread_stack *stacks, size_t count)
{
    if (!out)
        return DT_ERR_ARGUMENT;
    *out = NULL;
    if (!dump || (!stacks && count > 0))
        return DT_ERR_ARGUMENT;
    dt_analysis *a = calloc(1, sizeof *a);
    if (!a)
        return DT_ERR_NOMEM;
    a->dump = dump;
    dt_status status = allocate_threads(a, stacks, count) ? run_steps(a) : DT_ERR_NOMEM;
    free(a->work); /* it points into the stacks, which may go first */
    a->work = NULL;
    if (status != DT_OK) {
        dt_analysis_free(a);
        return status;
    }
    *out = a;
    return DT_OK;
}

dt_status dt_analyze_process(dt_analysis **out, const dt_dump *dump, const dt_stacks *stacks)
{
    if (!out)
        return DT_ERR_ARGUMENT;
    *out = NULL;
    if (!stacks)
        return DT_ERR_ARGUMENT;
    size_t count = 0;
    const dt_thread_stack *threads = dt_stacks_threads(stacks, &count);
    return an_analyze_stacks(out, dump, threads, count);
}

void dt_analysis_free(dt_analysis *analysis)
{
    if (!analysis)
        return;
    dt_diag_list_free(&analysis->diagnostics);
    dt_arena_release(&analysis->arena);
    free(analysis);
}

const dt_process_facts *dt_analysis_process(const dt_analysis *analysis)
{
    return analysis ? &analysis->process : NULL;
}

const dt_thread_facts *dt_analysis_threads(const dt_analysis *analysis, size_t *count)
{
    *count = analysis ? analysis->thread_count : 0;
    return analysis ? analysis->threads : NULL;
}

const dt_lock *dt_analysis_locks(const dt_analysis *analysis, size_t *count)
{
    *count = analysis ? analysis->lock_count : 0;
    return analysis ? analysis->locks : NULL;
}

const dt_deadlock *dt_analysis_deadlocks(const dt_analysis *analysis, size_t *count)
{
    *count = analysis ? analysis->deadlock_count : 0;
    return analysis ? analysis->deadlocks : NULL;
}

const dt_diagnostic *dt_analysis_diagnostics(const dt_analysis *analysis, size_t *count)
{
    *count = analysis ? analysis->diagnostics.count : 0;
    return analysis ? analysis->diagnostics.items : NULL;
}
