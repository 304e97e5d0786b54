/*
 * Per-thread state: the system call at the top of the stack, the wait API
 * above it, whether the thread is an idle pool, completion-port, timer or
 * CLR service thread, and the waited object when registers allow.
 *
 * Windows and Wine chains differ (fixtures/README.md): Wine's
 * WaitForSingleObject calls NtWaitForMultipleObjects, its critical sections
 * wait in NtWaitForAlertByThreadId under RtlWaitOnAddress and
 * RtlpWaitForCriticalSection, and its idle pool workers sleep in
 * RtlSleepConditionVariableCS under threadpool_worker_proc.
 */
#include "analysis/analysis_internal.h"
#include "base/cursor.h"

#include <string.h>

enum {
    TOP_FRAMES_FOR_SYSCALL = 3, /* transition stubs above the system call */
    API_FRAMES = 10,            /* system frames above the call that name the wait */
    IDLE_FRAMES = 16,           /* system and CLR frames that may reach a pool loop */
    MONITOR_FRAMES = 16,
    MAX_WAIT_HANDLES = 4
};

typedef struct syscall_entry {
    const char *name;           /* canonical Nt name; Zw matches too */
    dt_wait_kind kind;
    bool first_argument_is_object; /* a handle or an address */
} syscall_entry;

static const syscall_entry syscalls[] = {
    {"NtWaitForSingleObject", DT_WAIT_SINGLE_OBJECT, true},
    {"NtSignalAndWaitForSingleObject", DT_WAIT_SINGLE_OBJECT, false},
    {"NtWaitForMultipleObjects", DT_WAIT_MULTIPLE_OBJECTS, false},
    {"NtWaitForMultipleObjects32", DT_WAIT_MULTIPLE_OBJECTS, false},
    {"NtWaitForAlertByThreadId", DT_WAIT_ADDRESS, true},
    {"NtWaitForKeyedEvent", DT_WAIT_ADDRESS, false},
    {"NtDelayExecution", DT_WAIT_DELAY, false},
    {"NtRemoveIoCompletion", DT_WAIT_IO_COMPLETION, true},
    {"NtRemoveIoCompletionEx", DT_WAIT_IO_COMPLETION, true},
    {"NtAlpcSendWaitReceivePort", DT_WAIT_ALPC, true},
    {"NtRequestWaitReplyPort", DT_WAIT_ALPC, true},
    {"NtReplyWaitReceivePort", DT_WAIT_ALPC, true},
    {"NtReplyWaitReceivePortEx", DT_WAIT_ALPC, true},
    {"NtWaitForWorkViaWorkerFactory", DT_WAIT_WORKER_FACTORY, true},
    {"NtClose", DT_WAIT_FILE_IO, true},
    {"NtReadFile", DT_WAIT_FILE_IO, true},
    {"NtWriteFile", DT_WAIT_FILE_IO, true},
    {"NtReadFileScatter", DT_WAIT_FILE_IO, true},
    {"NtWriteFileGather", DT_WAIT_FILE_IO, true},
    {"NtQueryDirectoryFile", DT_WAIT_FILE_IO, true},
    {"NtQueryDirectoryFileEx", DT_WAIT_FILE_IO, true},
    {"NtNotifyChangeDirectoryFile", DT_WAIT_FILE_IO, true},
    {"NtDeviceIoControlFile", DT_WAIT_FILE_IO, true},
    {"NtFsControlFile", DT_WAIT_FILE_IO, true},
    {"NtFlushBuffersFile", DT_WAIT_FILE_IO, true},
    {"NtLockFile", DT_WAIT_FILE_IO, true},
    {"NtQueryInformationFile", DT_WAIT_FILE_IO, true},
    {"NtSetInformationFile", DT_WAIT_FILE_IO, true},
    {"NtQueryVolumeInformationFile", DT_WAIT_FILE_IO, true},
    {"NtCreateFile", DT_WAIT_FILE_IO, false},
    {"NtOpenFile", DT_WAIT_FILE_IO, false},
    {"NtQueryAttributesFile", DT_WAIT_FILE_IO, false},
    {"NtQueryFullAttributesFile", DT_WAIT_FILE_IO, false},
    {"NtDeleteFile", DT_WAIT_FILE_IO, false},
};

/* Frames between user code and the system call on x86 and WOW64. */
static const char *const transition_stubs[] = {
    "KiFastSystemCallRet", "KiFastSystemCall", "KiIntSystemCall", "Wow64SystemServiceCall",
    NULL};

/* Wait APIs above the system call, by what they say about the wait. Lock
 * APIs name the wait at their first (innermost) appearance; generic waits
 * by their outermost one (Wine's WaitForSingleObject runs through
 * WaitForMultipleObjectsEx). */
static const char *const critical_section_apis[] = {
    "RtlpWaitOnCriticalSection", "RtlpWaitForCriticalSection",
    "RtlpEnterCriticalSectionContended", "RtlEnterCriticalSection", NULL};
static const char *const srw_lock_apis[] = {
    "RtlAcquireSRWLockExclusive", "RtlAcquireSRWLockShared", "AcquireSRWLockExclusive",
    "AcquireSRWLockShared", NULL};
static const char *const condition_variable_apis[] = {
    "RtlSleepConditionVariableCS", "RtlSleepConditionVariableSRW", "SleepConditionVariableCS",
    "SleepConditionVariableSRW", NULL};
static const char *const single_object_apis[] = {
    "WaitForSingleObject", "WaitForSingleObjectEx", "SignalObjectAndWait", NULL};
static const char *const multiple_object_apis[] = {
    "WaitForMultipleObjects", "WaitForMultipleObjectsEx", "MsgWaitForMultipleObjects",
    "MsgWaitForMultipleObjectsEx", "CoWaitForMultipleHandles", NULL};
static const char *const address_apis[] = {"RtlWaitOnAddress", "WaitOnAddress", NULL};

/* Loops of idle service threads, reached from the wait through system and
 * CLR frames only (a pool worker running a work item has its callback's
 * frames in between). */
static const char *const idle_loops[] = {
    "ntdll!TppWorkerThread", "ntdll!TppWaiterpThread", "ntdll!TppTimerpThread",
    "ntdll!threadpool_worker_proc", "ntdll!timer_queue_thread_proc",
    "ntdll!waitqueue_thread_proc", "clr!*FinalizerThreadStart", "clr!FinalizerThread::*",
    "clr!*gc_thread_function", "clr!*gc_thread_stub", "clr!ThreadpoolMgr::*ThreadStart",
    NULL};

static const char *const clr_monitor_enters[] = {
    "clr!AwareLock::Enter", "clr!AwareLock::EnterEpilog*", "clr!AwareLock::Contention",
    "clr!JITutil_MonContention", "clr!JITutil_MonEnter*", "clr!JIT_MonEnter*",
    "clr!JIT_MonReliableEnter*", NULL};

static const syscall_entry *syscall_at(const dt_frame *frame)
{
    if (!an_is_syscall_name(frame->function))
        return NULL;
    for (size_t i = 0; i < sizeof syscalls / sizeof syscalls[0]; i++)
        if (dt_frame_name_matches(syscalls[i].name, frame))
            return &syscalls[i];
    return NULL;
}

/* The index of the system-call frame: the first frame under the transition
 * stubs, when it is an Nt/Zw function. frame_count when there is none. */
static size_t find_syscall_frame(const dt_thread_stack *stack)
{
    for (size_t i = 0; i < stack->frame_count && i < TOP_FRAMES_FOR_SYSCALL; i++) {
        const dt_frame *frame = &stack->frames[i];
        if (an_frame_matches_any(frame, transition_stubs))
            continue;
        return an_is_syscall_name(frame->function) ? i : stack->frame_count;
    }
    return stack->frame_count;
}

typedef struct api_scan {
    dt_wait_kind lock_kind;     /* first critical-section, SRW or condition-variable API */
    size_t lock_frame;
    dt_wait_kind generic_kind;  /* outermost single/multiple-object API */
    bool saw_address_wait;
} api_scan;

static void scan_frame_apis(const dt_frame *frame, size_t index, api_scan *scan)
{
    if (scan->lock_kind == DT_WAIT_NONE || scan->lock_kind == DT_WAIT_CRITICAL_SECTION) {
        if (an_frame_matches_any(frame, critical_section_apis)) {
            scan->lock_kind = DT_WAIT_CRITICAL_SECTION;
            scan->lock_frame = index;   /* the outermost of the run */
            return;
        }
    }
    if (scan->lock_kind != DT_WAIT_NONE)
        return;
    if (an_frame_matches_any(frame, srw_lock_apis))
        scan->lock_kind = DT_WAIT_SRW_LOCK;
    else if (an_frame_matches_any(frame, condition_variable_apis))
        scan->lock_kind = DT_WAIT_CONDITION_VARIABLE;
    else if (an_frame_matches_any(frame, single_object_apis))
        scan->generic_kind = DT_WAIT_SINGLE_OBJECT;
    else if (an_frame_matches_any(frame, multiple_object_apis))
        scan->generic_kind = DT_WAIT_MULTIPLE_OBJECTS;
    else if (an_frame_matches_any(frame, address_apis))
        scan->saw_address_wait = true;
}

/* Refines a generic wait from the system-library frames above it. */
static dt_wait_kind refine_wait(const dt_thread_stack *stack, size_t syscall_frame,
                                dt_wait_kind kind, size_t *lock_frame)
{
    api_scan scan = {DT_WAIT_NONE, stack->frame_count, DT_WAIT_NONE, false};
    for (size_t i = syscall_frame + 1; i < stack->frame_count && i <= syscall_frame + API_FRAMES;
         i++) {
        if (!an_frame_in_system_module(&stack->frames[i]))
            break;
        scan_frame_apis(&stack->frames[i], i, &scan);
    }
    *lock_frame = scan.lock_frame;
    if (scan.lock_kind != DT_WAIT_NONE)
        return scan.lock_kind;
    if (scan.generic_kind != DT_WAIT_NONE)
        return scan.generic_kind;
    return scan.saw_address_wait ? DT_WAIT_ADDRESS : kind;
}

static bool is_generic_wait(dt_wait_kind kind)
{
    return kind == DT_WAIT_SINGLE_OBJECT || kind == DT_WAIT_MULTIPLE_OBJECTS ||
           kind == DT_WAIT_ADDRESS || kind == DT_WAIT_OTHER_SYSCALL;
}

static bool reaches_idle_loop(const dt_thread_stack *stack, size_t syscall_frame)
{
    for (size_t i = syscall_frame; i < stack->frame_count && i < syscall_frame + IDLE_FRAMES;
         i++) {
        const dt_frame *frame = &stack->frames[i];
        bool clr = frame->module && an_module_is_clr(frame->module->name);
        if (!clr && !an_frame_in_system_module(frame))
            return false;
        if (an_frame_matches_any(frame, idle_loops))
            return true;
    }
    return false;
}

static bool in_clr_monitor_enter(const dt_thread_stack *stack)
{
    for (size_t i = 0; i < stack->frame_count && i < MONITOR_FRAMES; i++)
        if (an_frame_matches_any(&stack->frames[i], clr_monitor_enters))
            return true;
    return false;
}

/* x64 system calls take their first argument in R10 (the stub copies RCX
 * there; the SYSCALL instruction overwrites RCX with the return address), so
 * R10 of a thread stopped at the syscall in frame 0 is that argument. */
static bool syscall_register(const dt_thread_stack *stack, size_t syscall_frame, int reg,
                             uint64_t *value)
{
    const dt_thread *thread = stack->thread;
    if (syscall_frame != 0 || !thread || !thread->has_context ||
        thread->context.cpu != DT_CPU_AMD64 || !(thread->context.valid & (1ull << reg)))
        return false;
    *value = thread->context.regs[reg];
    return *value != 0;
}

/* NtWaitForMultipleObjects(Count, Handles, WaitType, Alertable, Timeout):
 * Count in R10, the HANDLE array at RDX (8-byte handles on x64). */
static void read_wait_handles(const dt_analysis *a, an_thread_work *work)
{
    uint64_t count = 0, array = 0;
    if (!syscall_register(work->stack, work->syscall_frame, DT_AMD64_R10, &count) ||
        !syscall_register(work->stack, work->syscall_frame, DT_AMD64_RDX, &array) ||
        count > MAX_WAIT_HANDLES)
        return;
    uint8_t bytes[MAX_WAIT_HANDLES * 8];
    if (dt_dump_read(a->dump, array, bytes, (size_t)count * 8) != (size_t)count * 8)
        return;
    for (size_t i = 0; i < count; i++)
        work->wait_handles[i] = dt_le64(bytes + i * 8);
    work->wait_handle_count = (size_t)count;
}

static void record_wait_object(dt_analysis *a, dt_thread_facts *facts, an_thread_work *work,
                               const syscall_entry *entry)
{
    uint64_t value = 0;
    if (entry && entry->first_argument_is_object &&
        syscall_register(work->stack, work->syscall_frame, DT_AMD64_R10, &value)) {
        facts->has_wait_object = true;
        facts->wait_object = value;
        work->wait_handles[0] = value;
        work->wait_handle_count = 1;
    } else if (entry && entry->kind == DT_WAIT_MULTIPLE_OBJECTS) {
        read_wait_handles(a, work);
        if (work->wait_handle_count == 1) {
            facts->has_wait_object = true;
            facts->wait_object = work->wait_handles[0];
        }
    }
}

static const char *wait_function_name(dt_analysis *a, const dt_frame *frame,
                                      const syscall_entry *entry)
{
    if (entry)
        return entry->name;
    const char *copy = dt_arena_strndup(&a->arena, frame->function, strlen(frame->function));
    return copy ? copy : "";
}

void an_classify_thread(dt_analysis *a, size_t index)
{
    dt_thread_facts *facts = &a->threads[index];
    an_thread_work *work = &a->work[index];
    const dt_thread_stack *stack = work->stack;
    work->syscall_frame = find_syscall_frame(stack);
    work->lock_api_frame = stack->frame_count;
    work->clr_monitor_waiter = in_clr_monitor_enter(stack);
    if (work->syscall_frame == stack->frame_count) {
        facts->state = DT_STATE_RUNNING;
        return;
    }
    const dt_frame *frame = &stack->frames[work->syscall_frame];
    const syscall_entry *entry = syscall_at(frame);
    dt_wait_kind kind = entry ? entry->kind : DT_WAIT_OTHER_SYSCALL;
    if (is_generic_wait(kind))
        kind = refine_wait(stack, work->syscall_frame, kind, &work->lock_api_frame);
    facts->wait = kind;
    facts->wait_function = wait_function_name(a, frame, entry);
    bool idle = kind == DT_WAIT_WORKER_FACTORY || kind == DT_WAIT_IO_COMPLETION ||
                reaches_idle_loop(stack, work->syscall_frame);
    facts->state = idle ? DT_STATE_IDLE : DT_STATE_WAITING;
    record_wait_object(a, facts, work, entry);
}
