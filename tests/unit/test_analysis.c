/*
 * Unit tests of the analysis layer on synthetic dumps (tests/synth) whose
 * threads are given as named frames: wait kinds and thread states, critical
 * sections in both LockCount encodings, owners dead and alive, deadlock
 * cycles from critical sections and mutants, CLR monitors, recursion,
 * handles, CPU shares, committed memory and frame-name matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/analysis_internal.h"
#include "synth_dump.h"

enum { MAX_THREADS = 32, MAX_FRAMES = 256, STACK_BASE = 0x100000, STACK_SIZE = 0x1000,
       STACK_STRIDE = 0x10000, PROCESS_ID = 0x40 };

static const dt_module ntdll = {.base = 0x77000000, .name = "ntdll.dll"};
static const dt_module kernelbase = {.base = 0x7FE00000, .name = "KERNELBASE.dll"};
static const dt_module kernel32 = {.base = 0x76000000, .name = "kernel32.dll"};
static const dt_module combase = {.base = 0x7FD00000, .name = "combase.dll"};
static const dt_module app = {.base = 0x140000000, .name = "app.exe"};
static const dt_module clr = {.base = 0x7FC00000, .name = "clr.dll"};
static const dt_module coreclr = {.base = 0x7FB00000, .name = "coreclr.dll"};
static const dt_module mscorsvr = {.base = 0x79000000, .name = "mscorsvr.dll"};

typedef struct frame_spec {
    const dt_module *module;
    const char *function;
} frame_spec;

/* A thread of a test process: id, frames (innermost first), stack words. */
typedef struct thread_spec {
    uint32_t id;
    const frame_spec *frames;
    size_t frame_count;
    uint64_t r10;            /* the first system-call argument, 0 for none */
    uint64_t stack_word;     /* a pointer stored in the critical-section frame, or 0 */
    uint64_t user_time, kernel_time;
} thread_spec;

#define FRAMES(...) (const frame_spec[]){__VA_ARGS__}, \
    sizeof((const frame_spec[]){__VA_ARGS__}) / sizeof(frame_spec)

typedef struct test_process {
    synth_dump *synth;
    synth_buf bytes;
    dt_dump *dump;
    size_t thread_count;
    dt_thread_stack stacks[MAX_THREADS];
    dt_frame frames[MAX_THREADS][MAX_FRAMES];
    dt_analysis *analysis;
} test_process;

static uint64_t stack_low(size_t index)
{
    return STACK_BASE + index * STACK_STRIDE;
}

/* Frame k sits 0x40 bytes above frame k-1; the critical-section search
 * range covers frames 0..5 for the stacks below. */
static void add_thread(test_process *p, const thread_spec *t)
{
    size_t index = p->thread_count++;
    static uint8_t stack[STACK_SIZE];
    memset(stack, 0, sizeof stack);
    if (t->stack_word)
        memcpy(stack + 0xD0, &t->stack_word, 8); /* inside RtlEnterCriticalSection's frame */
    synth_thread thread = {.id = t->id, .stack_start = stack_low(index), .stack = stack,
                           .stack_size = STACK_SIZE, .has_context = true};
    synth_context_init(&thread.context, SYNTH_CPU_AMD64);
    thread.context.regs[DT_AMD64_RSP] = stack_low(index);
    thread.context.regs[DT_AMD64_R10] = t->r10;
    synth_dump_add_thread(p->synth, &thread);
    synth_dump_add_thread_info(p->synth, &(synth_thread_info){
        .thread_id = t->id, .exit_status = SYNTH_STATUS_PENDING, .user_time = t->user_time,
        .kernel_time = t->kernel_time});
    for (size_t k = 0; k < t->frame_count; k++)
        p->frames[index][k] = (dt_frame){
            .ip = t->frames[k].module->base + 0x1000 + k * 0x10,
            .sp = stack_low(index) + k * 0x40, .exact = k == 0,
            .trust = k == 0 ? DT_TRUST_CONTEXT : DT_TRUST_CFI, .module = t->frames[k].module,
            .function = t->frames[k].function};
    p->stacks[index].frame_count = t->frame_count;
    p->stacks[index].frames = p->frames[index];
}

static test_process *new_process(void)
{
    test_process *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->synth = synth_dump_new();
    synth_dump_set_system_info(p->synth, &(synth_system_info){
        .cpu = SYNTH_CPU_AMD64, .processor_count = 4, .major = 10, .build = 19041});
    synth_dump_set_misc_info(p->synth, &(synth_misc_info){.size = 24,
                                                           .process_id = PROCESS_ID});
    synth_buf_init(&p->bytes);
    return p;
}

/* Writes and reopens the dump, links the stacks to its threads, analyzes. */
static void analyze(test_process *p)
{
    dt_error err;
    synth_dump_write(p->synth, &p->bytes);
    assert_int_equal(dt_dump_open_memory(&p->dump, p->bytes.data, p->bytes.size, "t.dmp", &err),
                     DT_OK);
    size_t count = 0;
    const dt_thread *threads = dt_dump_threads(p->dump, &count);
    assert_int_equal(count, p->thread_count);
    for (size_t i = 0; i < count; i++)
        p->stacks[i].thread = &threads[i];
    assert_int_equal(an_analyze_stacks(&p->analysis, p->dump, p->stacks, count), DT_OK);
}

static void free_process(test_process *p)
{
    dt_analysis_free(p->analysis);
    dt_dump_free(p->dump);
    synth_buf_free(&p->bytes);
    synth_dump_free(p->synth);
    free(p);
}

static const dt_thread_facts *facts_of(const test_process *p, uint32_t id)
{
    size_t count = 0;
    const dt_thread_facts *threads = dt_analysis_threads(p->analysis, &count);
    for (size_t i = 0; i < count; i++)
        if (threads[i].thread_id == id)
            return &threads[i];
    fail_msg("thread %u not analyzed", id);
    return NULL;
}

/* ---- wait kinds and states ----------------------------------------------- */

typedef struct wait_case {
    thread_spec thread;
    dt_thread_state state;
    dt_wait_kind wait;
    const char *wait_function;
} wait_case;

static const wait_case wait_cases[] = {
    {{1, FRAMES({&ntdll, "NtWaitForSingleObject"}, {&kernelbase, "WaitForSingleObjectEx"},
                {&app, "main"}), 0x1C4, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_SINGLE_OBJECT, "NtWaitForSingleObject"},
    {{2, FRAMES({&ntdll, "NtWaitForMultipleObjects"}, {&kernelbase, "WaitForMultipleObjectsEx"},
                {&kernelbase, "WaitForSingleObject"}, {&app, "main"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_SINGLE_OBJECT, "NtWaitForMultipleObjects"},
    {{3, FRAMES({&ntdll, "NtWaitForMultipleObjects"}, {&kernelbase, "WaitForMultipleObjectsEx"},
                {&app, "main"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_MULTIPLE_OBJECTS, "NtWaitForMultipleObjects"},
    {{4, FRAMES({&ntdll, "NtWaitForAlertByThreadId"}, {&ntdll, "RtlWaitOnAddress"},
                {&ntdll, "RtlpWaitForCriticalSection"}, {&ntdll, "RtlEnterCriticalSection"},
                {&app, "work"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_CRITICAL_SECTION, "NtWaitForAlertByThreadId"},
    {{5, FRAMES({&ntdll, "ZwWaitForSingleObject"}, {&ntdll, "RtlpWaitOnCriticalSection"},
                {&ntdll, "RtlEnterCriticalSection"}, {&app, "work"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_CRITICAL_SECTION, "NtWaitForSingleObject"},
    {{6, FRAMES({&ntdll, "NtWaitForAlertByThreadId"}, {&ntdll, "RtlAcquireSRWLockExclusive"},
                {&app, "work"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_SRW_LOCK, "NtWaitForAlertByThreadId"},
    {{7, FRAMES({&ntdll, "NtWaitForAlertByThreadId"}, {&ntdll, "RtlSleepConditionVariableSRW"},
                {&kernelbase, "SleepConditionVariableSRW"}, {&app, "work"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_CONDITION_VARIABLE, "NtWaitForAlertByThreadId"},
    {{8, FRAMES({&ntdll, "NtWaitForAlertByThreadId"}, {&ntdll, "RtlWaitOnAddress"},
                {&kernelbase, "WaitOnAddress"}, {&app, "work"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_ADDRESS, "NtWaitForAlertByThreadId"},
    {{9, FRAMES({&ntdll, "NtDelayExecution"}, {&kernelbase, "SleepEx"}, {&app, "poll"}), 0, 0,
      0, 0},
     DT_STATE_WAITING, DT_WAIT_DELAY, "NtDelayExecution"},
    {{10, FRAMES({&ntdll, "NtRemoveIoCompletion"}, {&kernelbase, "GetQueuedCompletionStatus"},
                 {&app, "io_thread"}), 0x88, 0, 0, 0},
     DT_STATE_IDLE, DT_WAIT_IO_COMPLETION, "NtRemoveIoCompletion"},
    {{11, FRAMES({&ntdll, "NtAlpcSendWaitReceivePort"}, {&app, "call_server"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_ALPC, "NtAlpcSendWaitReceivePort"},
    {{12, FRAMES({&ntdll, "NtWaitForWorkViaWorkerFactory"}, {&ntdll, "TppWorkerThread"},
                 {&kernel32, "BaseThreadInitThunk"}), 0, 0, 0, 0},
     DT_STATE_IDLE, DT_WAIT_WORKER_FACTORY, "NtWaitForWorkViaWorkerFactory"},
    {{13, FRAMES({&ntdll, "NtWaitForAlertByThreadId"}, {&ntdll, "RtlWaitOnAddress"},
                 {&ntdll, "RtlSleepConditionVariableCS"}, {&ntdll, "threadpool_worker_proc"},
                 {&kernel32, "BaseThreadInitThunk"}), 0, 0, 0, 0},
     DT_STATE_IDLE, DT_WAIT_CONDITION_VARIABLE, "NtWaitForAlertByThreadId"},
    {{14, FRAMES({&ntdll, "ZwQueryDirectoryFile"}, {&kernelbase, "FindNextFileW"},
                 {&app, "scan"}), 0x2A0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_FILE_IO, "NtQueryDirectoryFile"},
    {{15, FRAMES({&ntdll, "NtGetContextThread"}, {&app, "sample"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_OTHER_SYSCALL, "NtGetContextThread"},
    {{16, FRAMES({&app, "compute"}, {&app, "main"}), 0, 0, 0, 0},
     DT_STATE_RUNNING, DT_WAIT_NONE, NULL},
    {{17, FRAMES({&ntdll, "KiFastSystemCallRet"}, {&ntdll, "NtWaitForSingleObject"},
                 {&kernel32, "WaitForSingleObjectEx"}, {&app, "main"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_SINGLE_OBJECT, "NtWaitForSingleObject"},
    {{18, FRAMES({&ntdll, "NtWaitForMultipleObjects"}, {&kernelbase, "WaitForMultipleObjectsEx"},
                 {&clr, "WKS::GCHeap::FinalizerThreadStart"}, {&clr, "Thread::intermediateThreadProc"}),
      0, 0, 0, 0},
     DT_STATE_IDLE, DT_WAIT_MULTIPLE_OBJECTS, "NtWaitForMultipleObjects"},
    {{19, FRAMES({&ntdll, "NtWaitForSingleObject"}, {&kernelbase, "WaitForSingleObjectEx"},
                 {&app, "work_callback"}, {&ntdll, "TppWorkerThread"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_SINGLE_OBJECT, "NtWaitForSingleObject"},
    {{20, FRAMES({&ntdll, "NtWaitForAlertByThreadId"}, {&ntdll, "RtlEnterCriticalSection"},
                 {&ntdll, "RtlSleepConditionVariableCS"}, {&app, "consumer"}), 0, 0, 0, 0},
     DT_STATE_WAITING, DT_WAIT_CRITICAL_SECTION, "NtWaitForAlertByThreadId"},
};

static void test_wait_kinds(void **state)
{
    (void)state;
    test_process *p = new_process();
    size_t n = sizeof wait_cases / sizeof wait_cases[0];
    for (size_t i = 0; i < n; i++)
        add_thread(p, &wait_cases[i].thread);
    analyze(p);
    for (size_t i = 0; i < n; i++) {
        const dt_thread_facts *t = facts_of(p, wait_cases[i].thread.id);
        print_message("thread %u: %s %s\n", t->thread_id, dt_thread_state_name(t->state),
                      dt_wait_kind_name(t->wait));
        assert_int_equal(t->state, wait_cases[i].state);
        assert_int_equal(t->wait, wait_cases[i].wait);
        if (wait_cases[i].wait_function)
            assert_string_equal(t->wait_function, wait_cases[i].wait_function);
        else
            assert_null(t->wait_function);
    }
    free_process(p);
}

static void test_wait_objects_from_r10(void **state)
{
    (void)state;
    test_process *p = new_process();
    for (size_t i = 0; i < sizeof wait_cases / sizeof wait_cases[0]; i++)
        add_thread(p, &wait_cases[i].thread);
    analyze(p);
    assert_true(facts_of(p, 1)->has_wait_object);
    assert_int_equal(facts_of(p, 1)->wait_object, 0x1C4);
    assert_int_equal(facts_of(p, 10)->wait_object, 0x88);
    assert_int_equal(facts_of(p, 14)->wait_object, 0x2A0);
    assert_false(facts_of(p, 2)->has_wait_object);  /* R10 zero: unknown */
    assert_false(facts_of(p, 9)->has_wait_object);  /* NtDelayExecution: no object */
    assert_false(facts_of(p, 17)->has_wait_object); /* syscall not in frame 0 */
    assert_string_equal(dt_wait_kind_name(DT_WAIT_FILE_IO), "file_io");
    assert_string_equal(dt_thread_state_name(DT_STATE_IDLE), "idle");
    free_process(p);
}

/* ---- critical sections ---------------------------------------------------- */

enum { CS_A = 0x500000, CS_B = 0x500040, CS_C = 0x500080, DEBUG_AREA = 0x600000 };

#define CS_WAITER_FRAMES \
    FRAMES({&ntdll, "NtWaitForAlertByThreadId"}, {&ntdll, "RtlWaitOnAddress"}, \
           {&ntdll, "RtlpWaitForCriticalSection"}, {&ntdll, "RtlEnterCriticalSection"}, \
           {&app, "update"}, {&app, "worker"})

static const frame_spec running_frames[] = {{&app, "compute"}, {&app, "main"}};

/* Writes an x64 RTL_CRITICAL_SECTION at `address` (and, when `debug` is not
 * 0 or -1, an RTL_CRITICAL_SECTION_DEBUG pointing back at it). */
static void add_critical_section(test_process *p, uint64_t address, uint64_t debug,
                                 int32_t lock_count, int32_t recursion, uint64_t owner)
{
    uint8_t cs[0x28] = {0};
    memcpy(cs + 0x00, &debug, 8);
    memcpy(cs + 0x08, &lock_count, 4);
    memcpy(cs + 0x0C, &recursion, 4);
    memcpy(cs + 0x10, &owner, 8);
    synth_dump_add_memory(p->synth, address, cs, sizeof cs);
    if (debug != 0 && debug != UINT64_MAX) {
        uint8_t record[0x30] = {0};
        memcpy(record + 0x08, &address, 8);
        synth_dump_add_memory(p->synth, debug, record, sizeof record);
    }
}

static void add_cs_waiter(test_process *p, uint32_t id, uint64_t section)
{
    add_thread(p, &(thread_spec){id, CS_WAITER_FRAMES, 0, section, 0, 0});
}

static void add_running(test_process *p, uint32_t id)
{
    add_thread(p, &(thread_spec){id, running_frames, 2, 0, 0, 0, 0});
}

static const dt_lock *lock_at(const test_process *p, uint64_t address)
{
    size_t count = 0;
    const dt_lock *locks = dt_analysis_locks(p->analysis, &count);
    for (size_t i = 0; i < count; i++)
        if (locks[i].address == address)
            return &locks[i];
    fail_msg("no lock at 0x%llx", (unsigned long long)address);
    return NULL;
}

static void test_critical_section_old_encoding(void **state)
{
    (void)state;
    test_process *p = new_process();
    add_running(p, 0x100);
    /* R10 points at a decoy: readable, but OwningThread is the waiter itself. */
    add_thread(p, &(thread_spec){0x104, CS_WAITER_FRAMES, CS_B, CS_A, 0, 0});
    add_cs_waiter(p, 0x108, CS_A);
    add_critical_section(p, CS_B, 0, 0, 1, 0x104);
    add_critical_section(p, CS_A, DEBUG_AREA, 2, 1, 0x100); /* owned, two waiters */
    analyze(p);
    const dt_lock *lock = lock_at(p, CS_A);
    assert_int_equal(lock->kind, DT_LOCK_CRITICAL_SECTION);
    assert_true(lock->has_owner);
    assert_int_equal(lock->owner_thread_id, 0x100);
    assert_true(lock->owner_alive);
    assert_int_equal(lock->lock_count, 2);
    assert_int_equal(lock->recursion_count, 1);
    assert_int_equal(lock->waiter_count, 2);
    assert_int_equal(lock->waiter_thread_ids[0], 0x104);
    assert_int_equal(lock->waiter_thread_ids[1], 0x108);
    assert_int_equal(facts_of(p, 0x104)->wait_object, CS_A);
    size_t deadlocks = 0;
    dt_analysis_deadlocks(p->analysis, &deadlocks);
    assert_int_equal(deadlocks, 0);
    free_process(p);
}

static void test_critical_section_new_encoding(void **state)
{
    (void)state;
    test_process *p = new_process();
    add_running(p, 0x200);
    add_cs_waiter(p, 0x204, CS_A);
    add_cs_waiter(p, 0x208, CS_A);
    /* Vista+: -1, lock bit cleared (-2), two waiters (-4 each): -10. */
    add_critical_section(p, CS_A, UINT64_MAX, -10, 1, 0x200);
    analyze(p);
    const dt_lock *lock = lock_at(p, CS_A);
    assert_int_equal(lock->lock_count, -10);
    assert_int_equal(lock->owner_thread_id, 0x200);
    assert_int_equal(lock->waiter_count, 2);
    free_process(p);
}

static void test_lock_count_encodings(void **state)
{
    (void)state;
    assert_int_equal(an_lock_count_waiters(-1, 0), 0);  /* free, both encodings */
    assert_int_equal(an_lock_count_waiters(0, 1), 0);   /* old: owned */
    assert_int_equal(an_lock_count_waiters(3, 1), 3);   /* old: three waiters */
    assert_int_equal(an_lock_count_waiters(4, 2), 3);   /* old: one recursive enter */
    assert_int_equal(an_lock_count_waiters(-2, 1), 0);  /* new: owned */
    assert_int_equal(an_lock_count_waiters(-6, 1), 1);  /* new: one waiter */
    assert_int_equal(an_lock_count_waiters(-8, 1), 1);  /* new: one waiter, woken bit */
    assert_int_equal(an_lock_count_waiters(-10, 1), 2);
}

static void test_critical_section_owner_dead(void **state)
{
    (void)state;
    test_process *p = new_process();
    add_cs_waiter(p, 0x304, CS_A);
    add_critical_section(p, CS_A, DEBUG_AREA, 1, 1, 0x3F0); /* 0x3F0 is not in the dump */
    analyze(p);
    const dt_lock *lock = lock_at(p, CS_A);
    assert_true(lock->has_owner);
    assert_int_equal(lock->owner_thread_id, 0x3F0);
    assert_false(lock->owner_alive);
    free_process(p);
}

static void test_critical_section_not_in_memory(void **state)
{
    (void)state;
    test_process *p = new_process();
    add_running(p, 0x100);
    add_cs_waiter(p, 0x104, CS_A); /* the section itself is not in the dump */
    analyze(p);
    size_t locks = 0, diagnostics = 0;
    dt_analysis_locks(p->analysis, &locks);
    const dt_diagnostic *d = dt_analysis_diagnostics(p->analysis, &diagnostics);
    assert_int_equal(locks, 0);
    assert_int_equal(diagnostics, 1);
    assert_non_null(strstr(d[0].message, "no RTL_CRITICAL_SECTION"));
    assert_int_equal(facts_of(p, 0x104)->wait, DT_WAIT_CRITICAL_SECTION);
    free_process(p);
}

/* Each cycle entry k: thread k waits on lock k, owned by thread k+1. */
static void assert_cycle(const test_process *p, const dt_deadlock *d, size_t length)
{
    size_t count = 0;
    const dt_lock *locks = dt_analysis_locks(p->analysis, &count);
    assert_int_equal(d->thread_count, length);
    for (size_t k = 0; k < length; k++) {
        const dt_lock *lock = &locks[d->lock_indices[k]];
        assert_int_equal(lock->owner_thread_id, d->thread_ids[(k + 1) % length]);
        bool waits = false;
        for (size_t w = 0; w < lock->waiter_count; w++)
            waits |= lock->waiter_thread_ids[w] == d->thread_ids[k];
        assert_true(waits);
    }
}

static void test_deadlock_two_threads(void **state)
{
    (void)state;
    test_process *p = new_process();
    add_cs_waiter(p, 0x400, CS_B);
    add_cs_waiter(p, 0x404, CS_A);
    add_running(p, 0x408);
    add_critical_section(p, CS_A, DEBUG_AREA, 1, 1, 0x400);
    add_critical_section(p, CS_B, DEBUG_AREA + 0x40, 1, 1, 0x404);
    analyze(p);
    size_t count = 0;
    const dt_deadlock *d = dt_analysis_deadlocks(p->analysis, &count);
    assert_int_equal(count, 1);
    assert_cycle(p, d, 2);
    free_process(p);
}

static void test_deadlock_three_threads(void **state)
{
    (void)state;
    test_process *p = new_process();
    add_cs_waiter(p, 0x500, CS_B);  /* owns A */
    add_cs_waiter(p, 0x504, CS_C);  /* owns B */
    add_cs_waiter(p, 0x508, CS_A);  /* owns C */
    add_cs_waiter(p, 0x50C, CS_A);  /* waits on the cycle, not in it */
    add_critical_section(p, CS_A, DEBUG_AREA, 2, 1, 0x500);
    add_critical_section(p, CS_B, DEBUG_AREA + 0x40, 1, 1, 0x504);
    add_critical_section(p, CS_C, DEBUG_AREA + 0x80, 1, 1, 0x508);
    analyze(p);
    size_t count = 0;
    const dt_deadlock *d = dt_analysis_deadlocks(p->analysis, &count);
    assert_int_equal(count, 1);
    assert_cycle(p, d, 3);
    for (size_t k = 0; k < 3; k++)
        assert_int_not_equal(d->thread_ids[k], 0x50C);
    free_process(p);
}

/* ---- mutants ---------------------------------------------------------------- */

/* A Mutant handle with MUTANT_BASIC_INFORMATION {CurrentCount 0 (owned),
 * OwnedByCaller, AbandonedState} and MUTANT_OWNER_INFORMATION {ClientId}. */
static void add_owned_mutant(test_process *p, uint64_t handle, uint64_t owner)
{
    uint8_t basic[8] = {0};
    uint8_t owner_info[16] = {0};
    uint64_t pid = PROCESS_ID;
    memcpy(owner_info, &pid, 8);
    memcpy(owner_info + 8, &owner, 8);
    synth_handle_info infos[] = {{SYNTH_HANDLE_INFO_MUTANT1, basic, sizeof basic},
                                 {SYNTH_HANDLE_INFO_MUTANT2, owner_info, sizeof owner_info}};
    synth_dump_add_handle(p->synth, &(synth_handle){.handle = handle, .type_name = "Mutant",
                                                    .handle_count = 1, .pointer_count = 2,
                                                    .info_count = 2, .infos = infos});
}

static const frame_spec mutant_wait_frames[] = {
    {&ntdll, "NtWaitForSingleObject"}, {&kernelbase, "WaitForSingleObjectEx"}, {&app, "job"}};

static void test_mutant_deadlock(void **state)
{
    (void)state;
    test_process *p = new_process();
    add_thread(p, &(thread_spec){0x600, mutant_wait_frames, 3, 0x50, 0, 0, 0});
    add_thread(p, &(thread_spec){0x604, mutant_wait_frames, 3, 0x54, 0, 0, 0});
    add_owned_mutant(p, 0x50, 0x604);
    add_owned_mutant(p, 0x54, 0x600);
    analyze(p);
    const dt_lock *lock = lock_at(p, 0x50);
    assert_int_equal(lock->kind, DT_LOCK_MUTANT);
    assert_int_equal(lock->owner_thread_id, 0x604);
    assert_int_equal(lock->waiter_count, 1);
    assert_int_equal(lock->waiter_thread_ids[0], 0x600);
    assert_int_equal(lock->recursion_count, 1);
    size_t count = 0;
    const dt_deadlock *d = dt_analysis_deadlocks(p->analysis, &count);
    assert_int_equal(count, 1);
    assert_cycle(p, d, 2);
    free_process(p);
}

/* ---- CLR monitors ------------------------------------------------------------- */

static void test_clr_monitor_waiters(void **state)
{
    (void)state;
    test_process *p = new_process();
    for (uint32_t i = 0; i < 3; i++)
        add_thread(p, &(thread_spec){0x700 + 4 * i,
                                     FRAMES({&ntdll, "NtWaitForMultipleObjects"},
                                            {&kernelbase, "WaitForMultipleObjectsEx"},
                                            {&coreclr, "Thread::DoAppropriateWait"},
                                            {&coreclr, "AwareLock::EnterEpilog"},
                                            {&coreclr, "AwareLock::Enter"},
                                            {&coreclr, "JITutil_MonContention"}),
                                     0, 0, 0, 0});
    add_running(p, 0x7F0);
    analyze(p);
    size_t count = 0;
    const dt_lock *locks = dt_analysis_locks(p->analysis, &count);
    assert_int_equal(count, 1);
    assert_int_equal(locks[0].kind, DT_LOCK_CLR_MONITOR);
    assert_false(locks[0].has_owner);
    assert_int_equal(locks[0].address, 0);
    assert_int_equal(locks[0].waiter_count, 3);
    assert_string_equal(dt_lock_kind_name(locks[0].kind), "clr_monitor");
    free_process(p);
}

/* ---- recursion ---------------------------------------------------------------- */

static void set_ips(dt_thread_stack *stack, dt_frame *frames, const uint64_t *ips, size_t n)
{
    for (size_t i = 0; i < n; i++)
        frames[i] = (dt_frame){.ip = ips[i]};
    *stack = (dt_thread_stack){.frame_count = n, .frames = frames};
}

static void test_recursion(void **state)
{
    (void)state;
    dt_frame frames[MAX_FRAMES];
    dt_thread_stack stack;
    dt_thread_facts facts = {0};
    static const uint64_t cycle3[] = {0xA0, 0xB, 0xC, 0xD, 0xB, 0xC, 0xD, 0xB, 0xC, 0xD, 0xE, 0xF};
    set_ips(&stack, frames, cycle3, sizeof cycle3 / sizeof cycle3[0]);
    an_find_recursion(&facts, &stack);
    assert_int_equal(facts.recursion_cycle, 3);
    assert_int_equal(facts.recursion_depth, 3);
    assert_int_equal(facts.recursion_start, 1);
    static const uint64_t self[] = {0x1, 0x1, 0x1, 0x1, 0x2};
    set_ips(&stack, frames, self, 5);
    an_find_recursion(&facts, &stack);
    assert_int_equal(facts.recursion_cycle, 1);
    assert_int_equal(facts.recursion_depth, 4);
    assert_int_equal(facts.recursion_start, 0);
}

static void test_no_recursion_in_deep_stack(void **state)
{
    (void)state;
    dt_frame frames[MAX_FRAMES];
    uint64_t ips[200];
    for (size_t i = 0; i < 200; i++)
        ips[i] = 0x1000 + i;
    dt_thread_stack stack;
    dt_thread_facts facts = {0};
    set_ips(&stack, frames, ips, 200);
    an_find_recursion(&facts, &stack);
    assert_int_equal(facts.recursion_depth, 1);
    assert_int_equal(facts.recursion_cycle, 0);
}

/* ---- handles, CPU and memory ---------------------------------------------- */

static void add_thread_handle(test_process *p, uint64_t handle, uint32_t exit_status,
                              uint64_t process_id, uint64_t thread_id)
{
    uint8_t info[SYNTH_THREAD_BASIC_INFO_SIZE];
    synth_thread_basic_info_encode(&(synth_thread_basic_info){
        .exit_status = exit_status, .process_id = process_id, .thread_id = thread_id}, info);
    synth_handle_info chain = {SYNTH_HANDLE_INFO_THREAD1, info, sizeof info};
    synth_dump_add_handle(p->synth, &(synth_handle){.handle = handle, .type_name = "Thread",
                                                    .info_count = 1, .infos = &chain});
}

/* PROCESS_BASIC_INFORMATION (x64, 48 bytes): ExitStatus @0, UniqueProcessId @0x20. */
static void add_process_handle(test_process *p, uint64_t handle, uint32_t exit_status)
{
    uint8_t info[0x30] = {0};
    memcpy(info, &exit_status, 4);
    synth_handle_info chain = {SYNTH_HANDLE_INFO_PROCESS1, info, sizeof info};
    synth_dump_add_handle(p->synth, &(synth_handle){.handle = handle, .type_name = "Process",
                                                    .info_count = 1, .infos = &chain});
}

static void test_exited_handles(void **state)
{
    (void)state;
    test_process *p = new_process();
    add_running(p, 0x800);
    add_thread_handle(p, 0x10, 0x7E, 0x99, 0x900);              /* exited child */
    add_thread_handle(p, 0x14, 0, 0x99, 0x904);                 /* exited child */
    add_thread_handle(p, 0x18, SYNTH_STATUS_PENDING, PROCESS_ID, 0x800); /* live */
    add_thread_handle(p, 0x1C, SYNTH_STATUS_PENDING, PROCESS_ID, 0x8F0); /* not in the dump */
    add_thread_handle(p, 0x20, SYNTH_STATUS_PENDING, 0x99, 0x908);       /* another process */
    add_process_handle(p, 0x24, 0x7E);
    add_process_handle(p, 0x28, SYNTH_STATUS_PENDING);
    synth_dump_add_handle(p->synth, &(synth_handle){.handle = 0x2C, .type_name = "Event"});
    analyze(p);
    const dt_process_facts *f = dt_analysis_process(p->analysis);
    assert_int_equal(f->handle_count, 8);
    assert_int_equal(f->thread_handles, 5);
    assert_int_equal(f->thread_handles_exited, 3);
    assert_int_equal(f->process_handles, 2);
    assert_int_equal(f->process_handles_exited, 1);
    free_process(p);
}

static void test_cpu_and_memory(void **state)
{
    (void)state;
    test_process *p = new_process();
    add_thread(p, &(thread_spec){0x900, running_frames, 2, 0, 0, 300, 100});
    add_thread(p, &(thread_spec){0x904, running_frames, 2, 0, 0, 600, 0});
    const synth_memory_info regions[] = {
        {0x10000, 0x10000, 4, 0x3000, SYNTH_MEM_COMMIT, 4, SYNTH_MEM_PRIVATE},
        {0x20000, 0x20000, 4, 0x5000, SYNTH_MEM_RESERVE, 0, SYNTH_MEM_PRIVATE},
        {0x30000, 0x30000, 2, 0x2000, SYNTH_MEM_COMMIT, 2, SYNTH_MEM_IMAGE},
        {0x40000, 0x40000, 2, 0x1000, SYNTH_MEM_COMMIT, 2, SYNTH_MEM_MAPPED}};
    for (size_t i = 0; i < 4; i++)
        synth_dump_add_memory_info(p->synth, &regions[i]);
    synth_dump_add_module(p->synth, &(synth_module){.path = "C:\\Windows\\mscorwks.dll",
                                                    .base = 0x79000000, .size = 0x1000,
                                                    .has_version = true,
                                                    .version = {2, 0, 50727, 3053},
                                                    .is_dll = true});
    analyze(p);
    assert_float_equal(facts_of(p, 0x900)->cpu_share, 0.4, 1e-9);
    assert_float_equal(facts_of(p, 0x904)->cpu_share, 0.6, 1e-9);
    const dt_process_facts *f = dt_analysis_process(p->analysis);
    assert_int_equal(f->total_user_time, 900);
    assert_int_equal(f->thread_count, 2);
    assert_int_equal(f->private_committed, 0x3000);
    assert_int_equal(f->image_committed, 0x2000);
    assert_int_equal(f->mapped_committed, 0x1000);
    assert_true(f->clr_loaded);
    assert_string_equal(f->clr_module, "mscorwks.dll");
    assert_string_equal(f->clr_version, "2.0.50727.3053");
    free_process(p);
}

/* ---- frame names -------------------------------------------------------------- */

static dt_frame frame(const dt_module *module, const char *function)
{
    return (dt_frame){.module = module, .function = function};
}

static void test_name_equivalences(void **state)
{
    (void)state;
    dt_frame wait = frame(&kernelbase, "WaitForSingleObjectEx");
    assert_true(dt_frame_name_matches("kernel32!WaitForSingleObjectEx", &wait));
    assert_true(dt_frame_name_matches("KERNELBASE!waitforsingleobjectex", &wait));
    assert_true(dt_frame_name_matches("kernel32.dll!WaitForSingleObjectEx", &wait));
    assert_false(dt_frame_name_matches("ntdll!WaitForSingleObjectEx", &wait));
    dt_frame close = frame(&ntdll, "ZwClose");
    assert_true(dt_frame_name_matches("ntdll!NtClose", &close));
    assert_true(dt_frame_name_matches("ntdll!ZwClose", &close));
    dt_frame nt_close = frame(&ntdll, "NtClose");
    assert_true(dt_frame_name_matches("ntdll!ZwClose", &nt_close));
    dt_frame co_wait = frame(&combase, "CoWaitForMultipleHandles");
    assert_true(dt_frame_name_matches("ole32!CoWaitForMultipleHandles", &co_wait));
    dt_frame enter_core = frame(&coreclr, "AwareLock::Enter");
    dt_frame enter_svr = frame(&mscorsvr, "AwareLock::Enter");
    assert_true(dt_frame_name_matches("clr!AwareLock::Enter", &enter_core));
    assert_true(dt_frame_name_matches("mscorwks!AwareLock::Enter", &enter_svr));
    assert_false(dt_frame_name_matches("clr!AwareLock::Enter", &wait));
}

static void test_name_globs(void **state)
{
    (void)state;
    dt_frame wait = frame(&kernelbase, "WaitForMultipleObjectsEx");
    assert_true(dt_frame_name_matches("kernel32!WaitFor*", &wait));
    assert_true(dt_frame_name_matches("*!WaitForMultipleObjects?x", &wait));
    assert_true(dt_frame_name_matches("WaitFor*Ex", &wait));
    assert_true(dt_frame_name_matches("k*32!*", &wait));
    assert_false(dt_frame_name_matches("WaitFor*Objects", &wait));
    assert_false(dt_frame_name_matches("kernel32!WaitFor?", &wait));
    dt_frame close = frame(&ntdll, "ZwClose");
    assert_true(dt_frame_name_matches("Zw*", &close));
    assert_true(dt_frame_name_matches("Nt*", &close));
    assert_true(dt_frame_name_matches("?tdll!?tClose", &close));
    dt_frame unnamed = frame(&ntdll, NULL);
    assert_true(dt_frame_name_matches("ntdll!*", &unnamed));
    assert_false(dt_frame_name_matches("ntdll!NtClose", &unnamed));
    dt_frame nowhere = frame(NULL, NULL);
    assert_false(dt_frame_name_matches("ntdll!*", &nowhere));
    assert_true(dt_frame_name_matches("*", &nowhere));
    assert_false(dt_frame_name_matches(NULL, &close));
    assert_false(dt_frame_name_matches("*", NULL));
}

static void test_name_matches_inline_frames(void **state)
{
    (void)state;
    const dt_inline_frame inlines[] = {{"wait_semaphore", NULL, 0}};
    dt_frame f = frame(&ntdll, "RtlpWaitForCriticalSection");
    f.inline_count = 1;
    f.inlines = inlines;
    assert_true(dt_frame_name_matches("ntdll!wait_semaphore", &f));
    assert_true(dt_frame_name_matches("ntdll!RtlpWaitForCriticalSection", &f));
    dt_frame exe = frame(&app, "main");
    assert_true(dt_frame_name_matches("app.exe!main", &exe));
    assert_true(dt_frame_name_matches("APP!MAIN", &exe));
}

static void test_bad_arguments(void **state)
{
    (void)state;
    dt_analysis *a = (dt_analysis *)1;
    assert_int_equal(dt_analyze_process(&a, NULL, NULL), DT_ERR_ARGUMENT);
    assert_null(a);
    assert_int_equal(dt_analyze_process(NULL, NULL, NULL), DT_ERR_ARGUMENT);
    dt_analysis_free(NULL);
    size_t count = 1;
    assert_null(dt_analysis_threads(NULL, &count));
    assert_int_equal(count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_kinds),
        cmocka_unit_test(test_wait_objects_from_r10),
        cmocka_unit_test(test_critical_section_old_encoding),
        cmocka_unit_test(test_critical_section_new_encoding),
        cmocka_unit_test(test_lock_count_encodings),
        cmocka_unit_test(test_critical_section_owner_dead),
        cmocka_unit_test(test_critical_section_not_in_memory),
        cmocka_unit_test(test_deadlock_two_threads),
        cmocka_unit_test(test_deadlock_three_threads),
        cmocka_unit_test(test_mutant_deadlock),
        cmocka_unit_test(test_clr_monitor_waiters),
        cmocka_unit_test(test_recursion),
        cmocka_unit_test(test_no_recursion_in_deep_stack),
        cmocka_unit_test(test_exited_handles),
        cmocka_unit_test(test_cpu_and_memory),
        cmocka_unit_test(test_name_equivalences),
        cmocka_unit_test(test_name_globs),
        cmocka_unit_test(test_name_matches_inline_frames),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
