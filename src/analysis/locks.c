/*
 * Locks and who waits on them:
 *   critical sections: the RTL_CRITICAL_SECTION each critical-section waiter
 *     waits on (critical_section.c), grouped by address;
 *   mutants: owned mutants in the handle data (MUTANT_OWNER_INFORMATION),
 *     waited on by threads whose wait handles name them;
 *   CLR monitors: threads in clr!AwareLock::Enter and friends. The AwareLock
 *     is not recovered (its address is not at a known place in the frames),
 *     so all monitor waiters form one lock with address 0 and no owner.
 * Each waiter becomes an edge of the wait-for graph (deadlock.c).
 */
#include "analysis/analysis_internal.h"

#include <stdlib.h>

typedef struct cs_wait {
    an_critical_section section;
    size_t thread;
} cs_wait;

typedef struct handle_wait {
    uint64_t handle;
    size_t thread;
} handle_wait;

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int compare_cs_wait(const void *a, const void *b)
{
    const cs_wait *x = a, *y = b;
    if (x->section.address != y->section.address)
        return x->section.address < y->section.address ? -1 : 1;
    return (x->thread > y->thread) - (x->thread < y->thread);
}

static int compare_handle_wait(const void *a, const void *b)
{
    const handle_wait *x = a, *y = b;
    if (x->handle != y->handle)
        return x->handle < y->handle ? -1 : 1;
    return (x->thread > y->thread) - (x->thread < y->thread);
}

/* Appends `lock` with the waiters given as thread facts indices (their ids
 * sorted), and one wait-for edge per waiter. */
static dt_status add_lock(dt_analysis *a, dt_lock lock, const size_t *threads, size_t count)
{
    /* The capacities hold every lock and edge of a well-formed dump; a
     * handle listed many times over could exceed them, and is then left out. */
    if (a->lock_count == a->lock_capacity || count > a->edge_capacity - a->edge_count)
        return DT_OK;
    uint32_t *ids = count ? dt_arena_array(&a->arena, count, sizeof *ids) : NULL;
    if (count && !ids)
        return DT_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        ids[i] = a->threads[threads[i]].thread_id;
        a->edges[a->edge_count++] = (an_wait_edge){threads[i], a->lock_count};
    }
    qsort(ids, count, sizeof *ids, compare_u32);
    lock.waiter_count = count;
    lock.waiter_thread_ids = ids;
    if (lock.has_owner)
        lock.owner_alive = an_thread_index(a, lock.owner_thread_id) != SIZE_MAX;
    a->locks[a->lock_count++] = lock;
    return DT_OK;
}

/* Finds each critical-section waiter's section; returns how many. */
static size_t collect_cs_waits(dt_analysis *a, cs_wait *waits)
{
    size_t count = 0;
    for (size_t i = 0; i < a->thread_count; i++) {
        if (a->threads[i].wait != DT_WAIT_CRITICAL_SECTION ||
            !an_find_critical_section(a, i, &waits[count].section))
            continue;
        a->work[i].critical_section_found = true;
        a->threads[i].has_wait_object = true;
        a->threads[i].wait_object = waits[count].section.address;
        waits[count++].thread = i;
    }
    return count;
}

static dt_status build_critical_section_locks(dt_analysis *a, size_t *scratch)
{
    cs_wait *waits = calloc(a->thread_count ? a->thread_count : 1, sizeof *waits);
    if (!waits)
        return DT_ERR_NOMEM;
    size_t count = collect_cs_waits(a, waits);
    qsort(waits, count, sizeof *waits, compare_cs_wait);
    dt_status status = DT_OK;
    for (size_t first = 0, end; first < count && status == DT_OK; first = end) {
        const an_critical_section *cs = &waits[first].section;
        for (end = first; end < count && waits[end].section.address == cs->address; end++)
            scratch[end - first] = waits[end].thread;
        dt_lock lock = {.kind = DT_LOCK_CRITICAL_SECTION, .address = cs->address,
                        .has_owner = cs->owner_thread_id != 0,
                        .owner_thread_id = cs->owner_thread_id,
                        .lock_count = cs->lock_count, .recursion_count = cs->recursion_count};
        status = add_lock(a, lock, scratch, end - first);
    }
    free(waits);
    return status;
}

static size_t collect_handle_waits(const dt_analysis *a, handle_wait *waits)
{
    size_t count = 0;
    for (size_t i = 0; i < a->thread_count; i++)
        for (size_t k = 0; k < a->work[i].wait_handle_count; k++)
            waits[count++] = (handle_wait){a->work[i].wait_handles[k], i};
    return count;
}

/* The threads waiting on `handle` (waits sorted by handle) into `scratch`. */
static size_t mutant_waiters(const handle_wait *waits, size_t count, uint64_t handle,
                             size_t *scratch)
{
    size_t low = 0, high = count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (waits[mid].handle < handle)
            low = mid + 1;
        else
            high = mid;
    }
    size_t n = 0;
    for (size_t i = low; i < count && waits[i].handle == handle; i++)
        scratch[n++] = waits[i].thread;
    return n;
}

/* MUTANT_BASIC_INFORMATION.CurrentCount: 1 free, 1 - n when owned with n
 * recursive acquisitions. */
static dt_lock mutant_lock(const dt_handle *h)
{
    return (dt_lock){.kind = DT_LOCK_MUTANT, .address = h->handle, .has_owner = true,
                     .owner_thread_id = h->owner_thread_id, .lock_count = h->mutant_count,
                     .recursion_count = h->mutant_count <= 0 ? 1 - h->mutant_count : 0};
}

static dt_status build_mutant_locks(dt_analysis *a, size_t *scratch)
{
    size_t handle_count = 0;
    const dt_handle *handles = dt_dump_handles(a->dump, &handle_count);
    handle_wait *waits = calloc(a->thread_count * 4 + 1, sizeof *waits);
    if (!waits)
        return DT_ERR_NOMEM;
    size_t count = collect_handle_waits(a, waits);
    qsort(waits, count, sizeof *waits, compare_handle_wait);
    dt_status status = DT_OK;
    for (size_t i = 0; i < handle_count && status == DT_OK; i++) {
        if (!handles[i].has_mutant || handles[i].owner_thread_id == 0)
            continue;
        size_t n = mutant_waiters(waits, count, handles[i].handle, scratch);
        status = add_lock(a, mutant_lock(&handles[i]), scratch, n);
    }
    free(waits);
    return status;
}

static dt_status build_clr_monitor_lock(dt_analysis *a, size_t *scratch)
{
    size_t n = 0;
    for (size_t i = 0; i < a->thread_count; i++)
        if (a->work[i].clr_monitor_waiter)
            scratch[n++] = i;
    if (n == 0)
        return DT_OK;
    return add_lock(a, (dt_lock){.kind = DT_LOCK_CLR_MONITOR}, scratch, n);
}

dt_status an_build_locks(dt_analysis *a)
{
    size_t handle_count = 0;
    dt_dump_handles(a->dump, &handle_count);
    a->lock_capacity = a->thread_count + handle_count + 1;
    a->edge_capacity = a->thread_count * 6 + 1;
    a->locks = dt_arena_array(&a->arena, a->lock_capacity, sizeof *a->locks);
    a->edges = dt_arena_array(&a->arena, a->edge_capacity, sizeof *a->edges);
    size_t *scratch = calloc(a->thread_count * 4 + 1, sizeof *scratch);
    if (!a->locks || !a->edges || !scratch) {
        free(scratch);
        return DT_ERR_NOMEM;
    }
    dt_status status = build_critical_section_locks(a, scratch);
    if (status == DT_OK)
        status = build_mutant_locks(a, scratch);
    if (status == DT_OK)
        status = build_clr_monitor_lock(a, scratch);
    free(scratch);
    return status;
}
