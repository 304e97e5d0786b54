/*
 * Internal interfaces of the analysis layer (include/dumptriage/analysis.h).
 *
 * dt_analyze_process runs these steps in order, each in its own file:
 *   thread_wait.c      per-thread state, wait kind and waited object;
 *   recursion.c        the longest repeating frame cycle per thread;
 *   critical_section.c RTL_CRITICAL_SECTION recovery from dump memory;
 *   locks.c            critical-section, mutant and CLR-monitor locks;
 *   deadlock.c         the wait-for graph and its cycles;
 *   process_facts.c    process, handle, CPU and memory figures.
 */
#ifndef DT_ANALYSIS_INTERNAL_H
#define DT_ANALYSIS_INTERNAL_H

#include "dumptriage/analysis.h"
#include "base/arena.h"
#include "base/diag.h"

/* Most threads the wait-for graph and the lock tables consider. */
enum { AN_MAX_THREADS = 65536 };

/* A thread's wait on a lock: thread facts index -> lock index. */
typedef struct an_wait_edge {
    size_t thread;
    size_t lock;
} an_wait_edge;

/* Per-thread working data that is not part of the public facts. */
typedef struct an_thread_work {
    const dt_thread_stack *stack;
    size_t syscall_frame;      /* index of the Nt/Zw frame; frame_count when none */
    size_t lock_api_frame;     /* outermost critical-section API frame; frame_count when none */
    bool clr_monitor_waiter;   /* in clr!AwareLock::Enter and friends */
    bool critical_section_found; /* its RTL_CRITICAL_SECTION validated */
    size_t wait_handle_count;  /* handles recovered for a multiple-object wait */
    uint64_t wait_handles[4];
} an_thread_work;

/* A thread id and its thread facts index, sorted by id for lookups. */
typedef struct an_thread_id {
    uint32_t id;
    size_t index;
} an_thread_id;

struct dt_analysis {
    dt_arena arena;
    dt_diag_list diagnostics;
    const dt_dump *dump;
    dt_process_facts process;
    size_t thread_count;
    dt_thread_facts *threads;
    an_thread_work *work;
    an_thread_id *ids_sorted;
    size_t lock_count;
    size_t lock_capacity;
    dt_lock *locks;
    size_t edge_count;
    size_t edge_capacity;
    an_wait_edge *edges;
    size_t deadlock_count;
    dt_deadlock *deadlocks;
};

/* Analyzes `count` walked, symbolized thread stacks (the stacks need not come
 * from dt_walk_threads: tests build them). Same contract as
 * dt_analyze_process. */
dt_status an_analyze_stacks(dt_analysis **out, const dt_dump *dump,
                            const dt_thread_stack *stacks, size_t count);

/* ---- frame names (frame_match.c) ---------------------------------------- */

/* True when the frame's function, or one of its inlined functions, matches
 * one of `patterns` (NULL-terminated), with dt_frame_name_matches rules. */
bool an_frame_matches_any(const dt_frame *frame, const char *const *patterns);
/* True when the frame's module is one of the operating system's user-mode
 * libraries (ntdll, kernel32/kernelbase, user32, win32u, ole32/combase). */
bool an_frame_in_system_module(const dt_frame *frame);
/* True when the frame's module is a CLR (clr, coreclr, mscorwks, mscorsvr). */
bool an_module_is_clr(const char *module_name);
/* True when `name` starts with "Nt" or "Zw" and an upper-case letter. */
bool an_is_syscall_name(const char *name);

/* ---- steps ------------------------------------------------------------- */

void an_classify_thread(dt_analysis *a, size_t index);
void an_find_recursion(dt_thread_facts *facts, const dt_thread_stack *stack);
/* Thread facts index of a thread id, or SIZE_MAX. */
size_t an_thread_index(const dt_analysis *a, uint32_t thread_id);

/* A decoded RTL_CRITICAL_SECTION. */
typedef struct an_critical_section {
    uint64_t address;
    int32_t lock_count;
    int32_t recursion_count;
    uint32_t owner_thread_id;  /* OwningThread; 0 when free */
} an_critical_section;

/* Finds the critical section a waiting thread waits on, from its registers
 * and the stack of its wait frames. False when none validates. */
bool an_find_critical_section(const dt_analysis *a, size_t index, an_critical_section *out);
/* Waiters a LockCount value announces: the old encoding (-1 free, n >= 0:
 * owned with n further enters) or the Vista+ one (bit 0 clear: locked;
 * waiters = (-1 - LockCount) >> 2). */
size_t an_lock_count_waiters(int32_t lock_count, int32_t recursion_count);

dt_status an_build_locks(dt_analysis *a);
dt_status an_find_deadlocks(dt_analysis *a);
void an_process_facts(dt_analysis *a);

#endif
