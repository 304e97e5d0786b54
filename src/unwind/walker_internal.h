/* Private state of walked stacks, shared by the walker and the grouping. */
#ifndef DT_UNWIND_WALKER_INTERNAL_H
#define DT_UNWIND_WALKER_INTERNAL_H

#include "dumptriage/unwind.h"
#include "base/arena.h"
#include "base/diag.h"

struct dt_stacks {
    dt_arena arena;
    dt_diag_list diags;
    dt_thread_stack *threads;
    size_t thread_count;
    dt_stack_group *groups;
    size_t group_count;
};

/* Fills the groups of identical stacks; false when out of memory. */
bool dt_group_stacks(dt_stacks *stacks);

#endif
