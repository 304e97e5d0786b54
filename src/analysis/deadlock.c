/*
 * Deadlocks: cycles in the wait-for graph. A node is a thread (at most
 * AN_MAX_THREADS); an edge goes from a waiter to the owner of the lock it
 * waits on. Tarjan's strongly connected components (iterative, O(V + E))
 * find every set of threads that wait on each other; one cycle is reported
 * per component of two or more threads, found by following edges inside the
 * component from its first thread until a thread repeats.
 */
#include "analysis/analysis_internal.h"

#include <stdlib.h>

/* The graph in compressed rows: thread v's edges are first[v]..first[v+1]. */
typedef struct wait_graph {
    size_t node_count;
    size_t *first;
    size_t *target;          /* the owner's thread index */
    size_t *via;             /* the lock's index */
} wait_graph;

typedef struct tarjan_state {
    size_t *order;           /* discovery index, SIZE_MAX before the visit */
    size_t *low;
    size_t *component;       /* SIZE_MAX while on the stack or unvisited */
    size_t *stack;
    size_t stack_size;
    size_t *call_node;
    size_t *call_edge;
    size_t next_order;
    size_t component_count;
} tarjan_state;

static size_t edge_owner(const dt_analysis *a, const an_wait_edge *edge, size_t nodes)
{
    const dt_lock *lock = &a->locks[edge->lock];
    if (edge->thread >= nodes || !lock->has_owner)
        return SIZE_MAX;
    size_t owner = an_thread_index(a, lock->owner_thread_id);
    return owner < nodes && owner != edge->thread ? owner : SIZE_MAX;
}

static bool build_graph(const dt_analysis *a, wait_graph *g)
{
    size_t n = g->node_count;
    g->first = calloc(n + 1, sizeof *g->first);
    g->target = calloc(a->edge_count + 1, sizeof *g->target);
    g->via = calloc(a->edge_count + 1, sizeof *g->via);
    if (!g->first || !g->target || !g->via)
        return false;
    for (size_t i = 0; i < a->edge_count; i++)
        if (edge_owner(a, &a->edges[i], n) != SIZE_MAX)
            g->first[a->edges[i].thread + 1]++;
    for (size_t v = 0; v < n; v++)
        g->first[v + 1] += g->first[v];
    size_t *fill = calloc(n + 1, sizeof *fill);
    if (!fill)
        return false;
    for (size_t i = 0; i < a->edge_count; i++) {
        size_t owner = edge_owner(a, &a->edges[i], n);
        if (owner == SIZE_MAX)
            continue;
        size_t v = a->edges[i].thread, slot = g->first[v] + fill[v]++;
        g->target[slot] = owner;
        g->via[slot] = a->edges[i].lock;
    }
    free(fill);
    return true;
}

static void free_graph(wait_graph *g)
{
    free(g->first);
    free(g->target);
    free(g->via);
}

static void visit(tarjan_state *t, size_t v, size_t *call_size, const wait_graph *g)
{
    t->order[v] = t->low[v] = t->next_order++;
    t->stack[t->stack_size++] = v;
    t->call_node[*call_size] = v;
    t->call_edge[(*call_size)++] = g->first[v];
}

static void close_component(tarjan_state *t, size_t v)
{
    size_t w;
    do {
        w = t->stack[--t->stack_size];
        t->component[w] = t->component_count;
    } while (w != v);
    t->component_count++;
}

static void strong_components(tarjan_state *t, const wait_graph *g, size_t root)
{
    size_t call_size = 0;
    visit(t, root, &call_size, g);
    while (call_size > 0) {
        size_t v = t->call_node[call_size - 1];
        size_t e = t->call_edge[call_size - 1];
        if (e < g->first[v + 1]) {
            t->call_edge[call_size - 1]++;
            size_t w = g->target[e];
            if (t->order[w] == SIZE_MAX)
                visit(t, w, &call_size, g);
            else if (t->component[w] == SIZE_MAX && t->order[w] < t->low[v])
                t->low[v] = t->order[w];
            continue;
        }
        if (t->low[v] == t->order[v])
            close_component(t, v);
        if (--call_size > 0) {
            size_t u = t->call_node[call_size - 1];
            if (t->low[v] < t->low[u])
                t->low[u] = t->low[v];
        }
    }
}

static bool alloc_tarjan(tarjan_state *t, size_t n)
{
    size_t **arrays[] = {&t->order, &t->low, &t->component, &t->stack, &t->call_node,
                         &t->call_edge};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        *arrays[i] = malloc((n + 1) * sizeof(size_t));
        if (!*arrays[i])
            return false;
    }
    for (size_t v = 0; v < n; v++)
        t->order[v] = t->component[v] = SIZE_MAX;
    return true;
}

static void free_tarjan(tarjan_state *t)
{
    free(t->order);
    free(t->low);
    free(t->component);
    free(t->stack);
    free(t->call_node);
    free(t->call_edge);
}

/* Follows edges inside component `c` from `start` until a thread repeats
 * and records that cycle. `position` is all SIZE_MAX on entry and exit;
 * `path`/`locks` hold at least the component's size + 1 entries. */
static dt_status record_cycle(dt_analysis *a, const wait_graph *g, const tarjan_state *t,
                              size_t start, size_t *position, size_t *path, size_t *locks)
{
    size_t c = t->component[start], length = 0, v = start;
    while (position[v] == SIZE_MAX) {
        size_t e = g->first[v];
        while (e + 1 < g->first[v + 1] && t->component[g->target[e]] != c)
            e++;
        position[v] = length;
        path[length] = v;
        locks[length++] = g->via[e];
        v = g->target[e];
    }
    size_t begin = position[v], count = length - begin;
    for (size_t i = 0; i < length; i++)
        position[path[i]] = SIZE_MAX;
    uint32_t *ids = dt_arena_array(&a->arena, count, sizeof *ids);
    size_t *lock_indices = dt_arena_array(&a->arena, count, sizeof *lock_indices);
    if (!ids || !lock_indices)
        return DT_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        ids[i] = a->threads[path[begin + i]].thread_id;
        lock_indices[i] = locks[begin + i];
    }
    a->deadlocks[a->deadlock_count++] = (dt_deadlock){count, ids, lock_indices};
    return DT_OK;
}

static dt_status record_cycles(dt_analysis *a, const wait_graph *g, const tarjan_state *t)
{
    size_t n = g->node_count;
    size_t *size = calloc(t->component_count + 1, sizeof *size);
    size_t *position = malloc((n + 1) * sizeof *position);
    size_t *path = malloc((n + 1) * sizeof *path);
    size_t *locks = malloc((n + 1) * sizeof *locks);
    a->deadlocks = dt_arena_array(&a->arena, n / 2 + 1, sizeof *a->deadlocks);
    dt_status status = size && position && path && locks && a->deadlocks ? DT_OK : DT_ERR_NOMEM;
    for (size_t v = 0; v < n && status == DT_OK; v++) {
        position[v] = SIZE_MAX;
        size[t->component[v]]++;
    }
    for (size_t v = 0; v < n && status == DT_OK; v++) {
        size_t c = t->component[v];
        if (size[c] < 2)
            continue;
        size[c] = 0; /* one cycle per component */
        status = record_cycle(a, g, t, v, position, path, locks);
    }
    free(size);
    free(position);
    free(path);
    free(locks);
    return status;
}

dt_status an_find_deadlocks(dt_analysis *a)
{
    size_t n = a->thread_count < AN_MAX_THREADS ? a->thread_count : AN_MAX_THREADS;
    wait_graph g = {n, NULL, NULL, NULL};
    tarjan_state t = {0};
    dt_status status = DT_ERR_NOMEM;
    if (build_graph(a, &g) && alloc_tarjan(&t, n)) {
        for (size_t v = 0; v < n; v++)
            if (t.order[v] == SIZE_MAX)
                strong_components(&t, &g, v);
        status = record_cycles(a, &g, &t);
    }
    free_tarjan(&t);
    free_graph(&g);
    return status;
}
