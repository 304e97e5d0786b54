/*
 * dumptriage: analysis facts.
 *
 * dt_analyze_process turns a dump and its symbolized stacks into facts that
 * rules test: each thread's state and the wait primitive at the top of its
 * stack, critical sections with their owners and waiters, a wait-for graph
 * with its cycles, recursion, handles to exited threads, CPU and memory
 * figures, the CLR, and a stable bucket for the dump. Facts are computed by
 * code; judgements (severity, text) live in rule files.
 *
 * Frame names are compared the way SIGNATURES.md asks: case-insensitively,
 * with kernel32 = kernelbase, ole32 = combase, Nt = Zw, and the CLR under
 * clr, coreclr, mscorwks and mscorsvr.
 */
#ifndef DUMPTRIAGE_ANALYSIS_H
#define DUMPTRIAGE_ANALYSIS_H

#include "dumptriage/dump.h"
#include "dumptriage/unwind.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dt_thread_state {
    DT_STATE_RUNNING = 0,    /* not in a wait: computing, spinning, or unknown */
    DT_STATE_WAITING,        /* blocked in a wait primitive */
    DT_STATE_IDLE            /* an idle pool, completion-port, timer, finalizer or GC thread */
} dt_thread_state;

typedef enum dt_wait_kind {
    DT_WAIT_NONE = 0,
    DT_WAIT_SINGLE_OBJECT,   /* NtWaitForSingleObject */
    DT_WAIT_MULTIPLE_OBJECTS,/* NtWaitForMultipleObjects */
    DT_WAIT_CRITICAL_SECTION,/* RtlEnterCriticalSection / RtlpWaitOnCriticalSection */
    DT_WAIT_SRW_LOCK,        /* RtlAcquireSRWLock* */
    DT_WAIT_CONDITION_VARIABLE,
    DT_WAIT_ADDRESS,         /* RtlWaitOnAddress / NtWaitForAlertByThreadId (other) */
    DT_WAIT_DELAY,           /* NtDelayExecution: Sleep/SleepEx */
    DT_WAIT_IO_COMPLETION,   /* NtRemoveIoCompletion(Ex): GetQueuedCompletionStatus */
    DT_WAIT_ALPC,            /* NtAlpcSendWaitReceivePort */
    DT_WAIT_WORKER_FACTORY,  /* NtWaitForWorkViaWorkerFactory: idle pool worker */
    DT_WAIT_FILE_IO,         /* NtReadFile, NtQueryDirectoryFile, NtClose... in I/O */
    DT_WAIT_OTHER_SYSCALL    /* another Nt/Zw call at the top */
} dt_wait_kind;

const char *dt_thread_state_name(dt_thread_state state);  /* "running", "waiting", "idle" */
const char *dt_wait_kind_name(dt_wait_kind kind);         /* "critical_section", ... */

typedef struct dt_thread_facts {
    uint32_t thread_id;
    size_t stack_index;      /* into dt_stacks_threads */
    dt_thread_state state;
    dt_wait_kind wait;
    const char *wait_function; /* the syscall or API frame recognized, e.g. "NtWaitForAlertByThreadId" */
    bool has_wait_object;    /* the handle or address waited on, when recoverable */
    uint64_t wait_object;
    uint64_t user_time;      /* 100 ns, from ThreadInfoList; 0 when unknown */
    uint64_t kernel_time;
    double cpu_share;        /* of the process's thread CPU time, 0..1 */
    size_t recursion_depth;  /* repetitions of the longest repeating frame cycle */
    size_t recursion_cycle;  /* frames in that cycle */
    size_t recursion_start;  /* index of the cycle's first frame */
} dt_thread_facts;

typedef enum dt_lock_kind {
    DT_LOCK_CRITICAL_SECTION = 0,
    DT_LOCK_MUTANT,
    DT_LOCK_CLR_MONITOR
} dt_lock_kind;

typedef struct dt_lock {
    dt_lock_kind kind;
    uint64_t address;        /* RTL_CRITICAL_SECTION or object address; 0 when unknown */
    bool has_owner;
    uint32_t owner_thread_id;
    bool owner_alive;        /* the owner is among the dump's threads */
    int32_t lock_count;      /* RTL_CRITICAL_SECTION.LockCount as read */
    int32_t recursion_count;
    size_t waiter_count;
    const uint32_t *waiter_thread_ids;
} dt_lock;

const char *dt_lock_kind_name(dt_lock_kind kind); /* "critical_section", "mutant", "clr_monitor" */

/* A cycle in the wait-for graph: each thread waits for a lock owned by the next. */
typedef struct dt_deadlock {
    size_t thread_count;
    const uint32_t *thread_ids;
    const size_t *lock_indices; /* lock i is waited on by thread i, owned by thread i+1 */
} dt_deadlock;

typedef struct dt_process_facts {
    const char *name;            /* main module file name */
    size_t thread_count;
    bool has_uptime;
    uint64_t uptime_seconds;
    bool clr_loaded;
    const char *clr_module;      /* "clr.dll", "coreclr.dll", "mscorwks.dll", "mscorsvr.dll" */
    char clr_version[32];        /* file version of the CLR module, "" when unknown */
    size_t handle_count;
    size_t thread_handles;
    size_t thread_handles_exited;  /* object info shows exit, or the id is no live thread */
    size_t process_handles;
    size_t process_handles_exited;
    uint64_t private_committed;  /* bytes, MemoryInfoList MEM_PRIVATE + MEM_COMMIT */
    uint64_t image_committed;
    uint64_t mapped_committed;
    uint64_t private_usage;      /* ProcessVmCounters, 0 when unknown */
    uint64_t total_user_time;    /* 100 ns over all threads (ThreadInfoList) */
} dt_process_facts;

typedef struct dt_analysis dt_analysis;

/* Computes the facts. `stacks` must be symbolized. Never fails on bad data;
 * DT_ERR_NOMEM only when out of memory. */
dt_status dt_analyze_process(dt_analysis **out, const dt_dump *dump, const dt_stacks *stacks);
void dt_analysis_free(dt_analysis *analysis);

const dt_process_facts *dt_analysis_process(const dt_analysis *analysis);
const dt_thread_facts *dt_analysis_threads(const dt_analysis *analysis, size_t *count);
const dt_lock *dt_analysis_locks(const dt_analysis *analysis, size_t *count);
const dt_deadlock *dt_analysis_deadlocks(const dt_analysis *analysis, size_t *count);
const dt_diagnostic *dt_analysis_diagnostics(const dt_analysis *analysis, size_t *count);

/* Frame name comparison with the equivalences above; `pattern` is a glob
 * ("kernel32!WaitFor*", "*!RtlEnterCriticalSection") without the "Nt"/"Zw"
 * or module alias distinctions. */
bool dt_frame_name_matches(const char *pattern, const dt_frame *frame);

#ifdef __cplusplus
}
#endif

#endif
