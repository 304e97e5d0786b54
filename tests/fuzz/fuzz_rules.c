/*
 * libFuzzer target: the rule-file parser and the engine. The input is a
 * rule file; when it parses, its rules are evaluated and explained against
 * a small synthetic w3wp.exe process (threads with named frames, thread
 * facts, two critical sections in a deadlock cycle, a contended CLR monitor
 * and an access violation), so mutations reach the matcher, the analyzers
 * and the templates as well as the parser.
 */
#include <stddef.h>
#include <stdint.h>

#include "dumptriage/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { THREADS = 6, MAX_FRAMES = 6 };

static const dt_module modules[] = {
    {.base = 0x77BA0000, .size = 0x1AB000, .name = "ntdll.dll"},
    {.base = 0x7FEFDCB0000, .size = 0x10000, .name = "KERNELBASE.dll"},
    {.base = 0x7FEF5640000, .size = 0x10000, .name = "httpapi.dll"},
    {.base = 0x7FEF6A30000, .size = 0x10000, .name = "clr.dll"},
    {.base = 0xFF5A0000, .size = 0x10000, .name = "w3wp.exe"},
};

/* Frames per thread as module index and function (NULL: unnamed). */
static const struct frame_spec {
    int module;
    const char *function;
} stacks_spec[THREADS][MAX_FRAMES] = {
    {{0, "ZwClose"}, {1, "CloseHandle"}, {2, "HttpCloseRequestQueue"}, {4, "wmain"}},
    {{0, "NtWaitForWorkViaWorkerFactory"}, {0, "TppWorkerThread"}},
    {{0, "NtWaitForMultipleObjects"}, {1, "WaitForMultipleObjectsEx"},
     {3, "AwareLock::EnterEpilog"}, {3, "AwareLock::Enter"}, {3, "JITutil_MonContention"}},
    {{0, "NtWaitForSingleObject"}, {0, "RtlpWaitOnCriticalSection"},
     {0, "RtlEnterCriticalSection"}, {4, "Worker"}, {4, "Worker"}, {4, "Worker"}},
    {{0, "NtWaitForSingleObject"}, {0, "RtlpWaitOnCriticalSection"},
     {0, "RtlEnterCriticalSection"}, {4, "Other"}},
    {{4, "Crash"}, {-1, NULL}, {4, "main"}},
};

static const dt_thread threads[THREADS] = {{.id = 716}, {.id = 720}, {.id = 724},
                                           {.id = 728}, {.id = 732}, {.id = 736}};
static const uint32_t cycle_ids[] = {728, 732};
static const size_t cycle_locks[] = {0, 1};
static const uint32_t monitor_waiters[] = {724};

static const dt_lock locks[] = {
    {DT_LOCK_CRITICAL_SECTION, 0x7FFE1000, true, 732, true, -2, 1, 1, &cycle_ids[0]},
    {DT_LOCK_CRITICAL_SECTION, 0x7FFE2000, true, 728, true, -2, 1, 1, &cycle_ids[1]},
    {DT_LOCK_CLR_MONITOR, 0, true, 900, false, 0, 0, 1, monitor_waiters},
};
static const dt_deadlock deadlocks[] = {{2, cycle_ids, cycle_locks}};

static const dt_process_facts process = {
    .name = "w3wp.exe", .thread_count = THREADS, .has_uptime = true, .uptime_seconds = 93600,
    .clr_loaded = true, .clr_module = "clr.dll", .handle_count = 40, .thread_handles = 5,
    .thread_handles_exited = 3, .private_committed = 3ull << 30, .image_committed = 1 << 26,
    .total_user_time = 1200000000};

static const dt_exception exception = {
    .thread_id = 736, .code = 0xC0000005, .address = 0xFF5A1234, .parameter_count = 2,
    .parameters = {1, 0x10}};

typedef struct fake_process {
    dt_frame frames[THREADS][MAX_FRAMES];
    dt_thread_stack stacks[THREADS];
    dt_thread_facts facts[THREADS];
} fake_process;

static void build_stack(fake_process *p, size_t t)
{
    size_t n = 0;
    for (; n < MAX_FRAMES && (stacks_spec[t][n].function || stacks_spec[t][n].module < 0); n++) {
        const struct frame_spec *s = &stacks_spec[t][n];
        const dt_module *module = s->module >= 0 ? &modules[s->module] : NULL;
        p->frames[t][n] = (dt_frame){.ip = (module ? module->base : 0x1C1BBD9) + 0x100 + n,
                                     .module = module, .function = s->function,
                                     .function_offset = 0x10 + n};
    }
    p->stacks[t] = (dt_thread_stack){.thread = &threads[t], .from_exception = t == 5,
                                     .frame_count = n, .frames = p->frames[t]};
    static const dt_thread_state states[THREADS] = {DT_STATE_WAITING, DT_STATE_IDLE,
                                                    DT_STATE_WAITING, DT_STATE_WAITING,
                                                    DT_STATE_WAITING, DT_STATE_RUNNING};
    p->facts[t] = (dt_thread_facts){.thread_id = threads[t].id, .stack_index = t,
                                    .state = states[t], .user_time = 1000000 * (t + 1),
                                    .cpu_share = (double)(t + 1) / 21.0,
                                    .recursion_depth = t == 3 ? 3 : 0, .recursion_cycle = 1,
                                    .recursion_start = 3};
}

static void build_input(fake_process *p, dt_rule_input *in)
{
    for (size_t t = 0; t < THREADS; t++)
        build_stack(p, t);
    *in = (dt_rule_input){.process_name = "w3wp.exe", .os_name = "Windows Server 2008 R2",
                          .cpu = DT_CPU_AMD64, .exception = &exception,
                          .thread_count = THREADS, .threads = p->stacks, .process = &process,
                          .thread_facts_count = THREADS, .thread_facts = p->facts,
                          .lock_count = 3, .locks = locks, .deadlock_count = 1,
                          .deadlocks = deadlocks};
}

static void evaluate(const dt_rule_set *set, const dt_rule_input *in)
{
    dt_findings *findings;
    if (dt_rules_evaluate_input(&findings, set, in) == DT_OK)
        dt_findings_free(findings);
    size_t count = dt_rule_set_count(set);
    for (size_t i = 0; i < count && i < 4; i++) {
        dt_rule_trace *trace;
        if (dt_rules_explain(&trace, set, i, in) == DT_OK)
            dt_rule_trace_free(trace);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_rule_set *set;
    if (dt_rule_set_new(&set) != DT_OK)
        return 0;
    if (dt_rule_set_add_text(set, "fuzz.yaml", (const char *)data, size) == DT_OK) {
        fake_process p;
        dt_rule_input in;
        build_input(&p, &in);
        evaluate(set, &in);
    }
    dt_rule_set_free(set);
    return 0;
}
