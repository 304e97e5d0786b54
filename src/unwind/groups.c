/* Grouping of threads whose stacks are identical. */
#include "unwind/walker_internal.h"

#include <stdlib.h>

typedef struct keyed_thread {
    uint64_t hash;
    size_t index;
} keyed_thread;

/* FNV-1a over the frames' instruction addresses. */
static uint64_t stack_hash(const dt_thread_stack *t)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < t->frame_count; i++)
        for (int b = 0; b < 64; b += 8) {
            h ^= (t->frames[i].ip >> b) & 0xFF;
            h *= 0x100000001b3ull;
        }
    return h ^ t->frame_count;
}

static bool same_frames(const dt_thread_stack *a, const dt_thread_stack *b)
{
    if (a->frame_count != b->frame_count)
        return false;
    for (size_t i = 0; i < a->frame_count; i++)
        if (a->frames[i].ip != b->frames[i].ip)
            return false;
    return true;
}

static int compare_keys(const void *x, const void *y)
{
    const keyed_thread *a = x, *b = y;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int compare_groups(const void *x, const void *y)
{
    const dt_stack_group *a = x, *b = y;
    if (a->thread_count != b->thread_count)
        return a->thread_count > b->thread_count ? -1 : 1;
    return a->threads[0] < b->threads[0] ? -1 : a->threads[0] > b->threads[0];
}

/* Within one hash run, threads are split by exact frame equality. */
static void split_run(dt_stacks *s, keyed_thread *run, size_t n, size_t *members)
{
    size_t remaining = n;
    while (remaining > 0) {
        const dt_thread_stack *leader = &s->threads[run[0].index];
        dt_stack_group *g = &s->groups[s->group_count++];
        g->threads = members;
        size_t kept = 0, count = 0;
        for (size_t i = 0; i < remaining; i++) {
            if (same_frames(leader, &s->threads[run[i].index]))
                members[count++] = run[i].index;
            else
                run[kept++] = run[i];
        }
        g->thread_count = count;
        members += count;
        remaining = kept;
    }
}

bool dt_group_stacks(dt_stacks *s)
{
    size_t n = s->thread_count;
    keyed_thread *keys = malloc((n ? n : 1) * sizeof *keys);
    size_t *members = dt_arena_array(&s->arena, n ? n : 1, sizeof(size_t));
    s->groups = dt_arena_array(&s->arena, n ? n : 1, sizeof *s->groups);
    if (!keys || !members || !s->groups) {
        free(keys);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (keyed_thread){stack_hash(&s->threads[i]), i};
    qsort(keys, n, sizeof *keys, compare_keys);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && keys[j].hash == keys[i].hash)
            j++;
        split_run(s, keys + i, j - i, members + i); /* runs fill members in order */
        i = j;
    }
    free(keys);
    qsort(s->groups, s->group_count, sizeof *s->groups, compare_groups);
    return true;
}

const dt_stack_group *dt_stacks_groups(const dt_stacks *stacks, size_t *count)
{
    *count = stacks->group_count;
    return stacks->groups;
}
