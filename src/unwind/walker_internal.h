/* Private state of walked stacks, shared by the walker and the grouping. */
#ifndef DT_UNWIND_WALKER_INTERNAL_H
#define DT_UNWIND_WALKER_INTERNAL_H

#include "dumptriage/unwind.h"
#include "base/arena.h"
#include "base/diag.h"

struct dt_stacks {
    /* What the walk was given, for a second x86 walk with symbols. */
    const dt_dump *dump;
    dt_walk_options options;
    dt_walk_x86_options x86;
    dt_arena arena;
    dt_diag_list diags;
    dt_thread_stack *threads;
    size_t thread_count;
    dt_stack_group *groups;
    size_t group_count;
    bool cut_short;          /* the deadline left a thread unwalked or unnamed */
};

/* Notes, once, that the deadline left `left` of the threads without a walk
 * or names (`what`: "walked" or "named"). */
void dt_stacks_note_deadline(dt_stacks *stacks, size_t left, const char *what);

/* Fills the groups of identical stacks; false when out of memory. */
bool dt_group_stacks(dt_stacks *stacks);

/* Walks the x86 and WOW64 threads again with `symbolizer`'s STACK WIN / FPO
 * records when the walk had no symbolizer, and regroups (walker.c). */
dt_status dt_stacks_rewalk_x86(dt_stacks *stacks, dt_symbolizer *symbolizer);

#endif
