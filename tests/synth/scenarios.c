/*
 * Scenarios. A catalog of Windows 7 x64 modules and the functions the
 * scenarios' stacks pass through, with prologs typical of the MSVC and CLR
 * JIT code of that time; each scenario picks modules and lists threads.
 */
#include "scenarios.h"

#include <stdio.h>
#include <string.h>

#include "rule_scenarios.h"
#include "scenario_kit.h"
#include "scenarios_x86.h"
#include "synth_json.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

#define SAVE(r, off) {SYNTH_OP_SAVE, (r), (off), SYNTH_ENC_AUTO}

/* Prologs. Each keeps rsp 16-aligned at calls (entry rsp is 8 mod 16). */
static const synth_op sub28[] = {ALLOC(0x28)};
static const synth_op sub48[] = {ALLOC(0x48)};
static const synth_op rbx_20[] = {PUSH(RBX), ALLOC(0x20)};
static const synth_op rdi_30_saves[] = {PUSH(RDI), ALLOC(0x30), SAVE(RBX, 0x40), SAVE(RSI, 0x48)};
static const synth_op fp_frame[] = {PUSH(RBP), PUSH(RBX), ALLOC(0x48), SET_FP(RBP, 0x20)};
static const synth_op xmm_frame[] = {PUSH(RBX), PUSH(RDI), ALLOC(0x48), SAVE_XMM(6, 0x30)};
static const synth_op seven_pushes[] = {PUSH(RBX), PUSH(RBP), PUSH(RSI), PUSH(RDI),
                                        PUSH(R12), PUSH(R13), PUSH(R14), ALLOC(0x50)};
static const synth_op eight_pushes[] = {PUSH(RBX), PUSH(RBP), PUSH(RSI), PUSH(RDI), PUSH(R12),
                                        PUSH(R13), PUSH(R14), PUSH(R15), ALLOC(0xB8)};
static const synth_op large_frame[] = {PUSH(RBX), PUSH(RSI), ALLOC(0x1F8)};
/* Edge cases: the largest frame offset, 32-bit ALLOC_LARGE and the _FAR
 * saves; a frame register set before further pushes (lea rsp,[rbp-10h] in
 * the epilog); a machine frame as exception dispatch pushes it. */
static const synth_op big_frame[] = {
    PUSH(RBP), PUSH(RBX), {SYNTH_OP_ALLOC, 0, 0x2008, SYNTH_ENC_FAR}, SET_FP(RBP, 0xF0),
    {SYNTH_OP_SAVE, RDI, 0x100, SYNTH_ENC_FAR}, {SYNTH_OP_SAVE_XMM, 7, 0x40, SYNTH_ENC_FAR}};
static const synth_op fp_first[] = {PUSH(RBP), SET_FP(RBP, 0), PUSH(RSI), PUSH(RDI), ALLOC(0x20)};
static const synth_op three_pushes[] = {PUSH(RBX), PUSH(RSI), PUSH(R12), ALLOC(0x28)};
static const synth_op dispatcher[] = {{SYNTH_OP_MACHFRAME, 0, 0, SYNTH_ENC_AUTO}, ALLOC(0x4F8)};
static const synth_op cold_save[] = {SAVE(R12, 0x30)};
/* CLR x64 JIT: push rbp; push rdi; push rsi; sub rsp,30h; lea rbp,[rsp+40h]
 * leaves rbp at the saved rbp, so [rbp] and [rbp+8] chain the frames. */
static const synth_op jit_frame[] = {PUSH(RBP), PUSH(RDI), PUSH(RSI), ALLOC(0x30),
                                     SET_FP(RBP, 0x40)};

#define SYS32 "C:\\Windows\\System32\\"
#define INETSRV "C:\\Windows\\System32\\inetsrv\\"
#define FW64 "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\"

static const catalog_module modules[] = {
    {"w3wp.exe", INETSRV "w3wp.exe", 0xFF5A0000, 0x4A5BE09F, {7, 5, 7600, 16385}},
    {"ntdll.dll", SYS32 "ntdll.dll", 0x77BA0000, 0x4A5BE02B, {6, 1, 7600, 16385}},
    {"kernel32.dll", SYS32 "kernel32.dll", 0x77A80000, 0x4A5BDFE0, {6, 1, 7600, 16385}},
    {"KERNELBASE.dll", SYS32 "KERNELBASE.dll", 0x7FEFDCB0000, 0x4A5BDFE1, {6, 1, 7600, 16385}},
    {"httpapi.dll", SYS32 "httpapi.dll", 0x7FEF5640000, 0x4A5BE03E, {6, 1, 7600, 16385}},
    {"w3dt.dll", INETSRV "w3dt.dll", 0x7FEF5430000, 0x4A5BE0A0, {7, 5, 7600, 16385}},
    {"iiscore.dll", INETSRV "iiscore.dll", 0x7FEF5480000, 0x4A5BE0A1, {7, 5, 7600, 16385}},
    {"w3wphost.dll", INETSRV "w3wphost.dll", 0x7FEF5620000, 0x4A5BE0A2, {7, 5, 7600, 16385}},
    {"w3tp.dll", INETSRV "w3tp.dll", 0x7FEF5600000, 0x4A5BE0A3, {7, 5, 7600, 16385}},
    {"clr.dll", FW64 "clr.dll", 0x7FEF6A30000, 0x4BA21EEB, {4, 0, 30319, 1}},
    {"webengine4.dll", FW64 "webengine4.dll", 0x7FEF5E40000, 0x4BA21F0B, {4, 0, 30319, 1}},
    {"edge.exe", "C:\\synth\\edge.exe", 0x13F5A0000, 0x5A000000, {1, 0, 0, 1}},
    {"edgelib.dll", "C:\\synth\\edgelib.dll", 0x7FEF7000000, 0x5A000001, {1, 0, 0, 1}},
};

typedef struct catalog_function {
    const char *module;
    const char *name;
    const char *export_name;
    synth_func_kind kind;
    uint32_t syscall_number;
    const synth_op *ops;
    size_t op_count;
    uint8_t unwind_version;
    uint8_t extra_epilogs;
    synth_fragment_kind fragment;
    const char *parent;
} catalog_function;

#define SYSCALL(name, number) \
    {"ntdll.dll", name, name, SYNTH_FUNC_SYSCALL, number, NULL, 0, 0, 0, SYNTH_PRIMARY, NULL}
#define FUNC(module, name, export_name, ops) \
    {module, name, export_name, SYNTH_FUNC_FRAME, 0, OPS(ops), 0, 0, SYNTH_PRIMARY, NULL}

static const catalog_function functions[] = {
    SYSCALL("ZwClose", 0xC),
    SYSCALL("NtWaitForSingleObject", 0x1),
    SYSCALL("NtRemoveIoCompletion", 0x9),
    SYSCALL("ZwQueryDirectoryFile", 0x32),
    SYSCALL("NtWaitForMultipleObjects", 0x58),
    SYSCALL("NtWaitForWorkViaWorkerFactory", 0xAE),
    FUNC("ntdll.dll", "RtlpTpWorkCallback", NULL, seven_pushes),
    FUNC("ntdll.dll", "TppWorkerThread", NULL, eight_pushes),
    FUNC("ntdll.dll", "RtlUserThreadStart", "RtlUserThreadStart", sub48),
    FUNC("kernel32.dll", "BaseThreadInitThunk", "BaseThreadInitThunk", sub28),
    FUNC("kernel32.dll", "CloseHandleImplementation", "CloseHandle", rbx_20),
    FUNC("KERNELBASE.dll", "CloseHandle", "CloseHandle", rbx_20),
    FUNC("KERNELBASE.dll", "WaitForSingleObjectEx", "WaitForSingleObjectEx", rdi_30_saves),
    FUNC("KERNELBASE.dll", "WaitForMultipleObjectsEx", "WaitForMultipleObjectsEx", seven_pushes),
    FUNC("KERNELBASE.dll", "GetQueuedCompletionStatus", "GetQueuedCompletionStatus", rbx_20),
    FUNC("KERNELBASE.dll", "FindNextFileW", "FindNextFileW", large_frame),
    FUNC("httpapi.dll", "HttpCloseRequestQueue", "HttpCloseRequestQueue", sub28),
    FUNC("w3dt.dll", "UL_APP_POOL::Cleanup", NULL, rbx_20),
    FUNC("w3dt.dll", "WP_CONTEXT::CleanupOutstandingRequests", NULL, rdi_30_saves),
    FUNC("w3dt.dll", "UL_NATIVE_REQUEST::DoWork", NULL, rbx_20),
    FUNC("iiscore.dll", "W3_SERVER::StopListen", NULL, rbx_20),
    FUNC("iiscore.dll", "IISCORE_PROTOCOL_MANAGER::StopListenerChannel", NULL, fp_frame),
    FUNC("iiscore.dll", "NOTIFICATION_CONTEXT::RequestDoWork", NULL, seven_pushes),
    FUNC("w3wphost.dll", "LISTENER_CHANNEL_STOP_WORKITEM::ExecuteWorkItem", NULL, xmm_frame),
    FUNC("w3wphost.dll", "W3WP_HOST::ExecuteWorkItem", NULL, sub28),
    FUNC("w3wphost.dll", "W3WP_HOST::WaitForShutdown", NULL, rbx_20),
    FUNC("w3wphost.dll", "AppHostInitialize", "AppHostInitialize", fp_frame),
    FUNC("w3tp.dll", "THREAD_POOL_DATA::ThreadPoolThread", NULL, rdi_30_saves),
    FUNC("w3tp.dll", "THREAD_MANAGER::ThreadManagerThread", NULL, sub28),
    FUNC("w3wp.exe", "wmain", NULL, rdi_30_saves),
    FUNC("w3wp.exe", "__wmainCRTStartup", NULL, sub28),
    FUNC("clr.dll", "Thread::DoAppropriateWaitWorker", NULL, eight_pushes),
    FUNC("clr.dll", "Thread::DoAppropriateWait", NULL, xmm_frame),
    FUNC("clr.dll", "AwareLock::EnterEpilog", NULL, fp_frame),
    FUNC("clr.dll", "AwareLock::Enter", NULL, rbx_20),
    FUNC("clr.dll", "JITutil_MonContention", NULL, seven_pushes),
    FUNC("clr.dll", "UMThunkStub", NULL, fp_frame),
    FUNC("clr.dll", "CLREventBase::WaitEx", NULL, rdi_30_saves),
    FUNC("clr.dll", "ThreadpoolMgr::CompletionPortThreadStart", NULL, large_frame),
    FUNC("clr.dll", "WKS::GCHeap::FinalizerThreadStart", NULL, rbx_20),
    FUNC("clr.dll", "Thread::intermediateThreadProc", NULL, fp_frame),
    FUNC("webengine4.dll", "InstrumentedMutex::GetLock", NULL, rbx_20),
    FUNC("webengine4.dll", "InstrumentedMutexGetLock", "InstrumentedMutexGetLock", sub28),
    FUNC("webengine4.dll", "W3_MGD_HANDLER::ProcessNotification", NULL, xmm_frame),
    FUNC("ntdll.dll", "KiUserExceptionDispatcher", "KiUserExceptionDispatcher", dispatcher),
    FUNC("ntdll.dll", "RtlDispatchException", NULL, rbx_20),
    FUNC("edge.exe", "main", NULL, rdi_30_saves),
    FUNC("edgelib.dll", "EdgeInProlog", "EdgeInProlog", seven_pushes),
    FUNC("edgelib.dll", "EdgeInEpilogV1", "EdgeInEpilogV1", fp_frame),
    {"edgelib.dll", "EdgeInEpilogV2", "EdgeInEpilogV2", SYNTH_FUNC_FRAME, 0, OPS(three_pushes), 2,
     1, SYNTH_PRIMARY, NULL},
    FUNC("edgelib.dll", "EdgeChained", "EdgeChained", rbx_20),
    {"edgelib.dll", "EdgeChained$cold", NULL, SYNTH_FUNC_FRAME, 0, OPS(cold_save), 0, 0,
     SYNTH_CHAINED, "EdgeChained"},
    FUNC("edgelib.dll", "EdgeIndirect", "EdgeIndirect", xmm_frame),
    {"edgelib.dll", "EdgeIndirect$frag", NULL, SYNTH_FUNC_FRAME, 0, NULL, 0, 0, 0, SYNTH_INDIRECT,
     "EdgeIndirect"},
    FUNC("edgelib.dll", "EdgeBigFrame", "EdgeBigFrame", big_frame),
    FUNC("edgelib.dll", "EdgeFpFirst", "EdgeFpFirst", fp_first),
    FUNC("edgelib.dll", "EdgeFaulting", "EdgeFaulting", seven_pushes),
};

/* Managed methods compiled into the JIT region. */
static const char *const jit_methods[] = {
    "System.Web.HttpRuntime.ProcessRequestInternal",
    "System.Web.HttpApplicationFactory.GetApplicationInstance",
    "System.Web.Compilation.PreservedAssemblyEntry.EnsureFirstTimeInit",
    "System.Web.Compilation.PreservedAssemblyEntry.DoFirstTimeInit",
    "System.Web.Compilation.PreservedAssemblyEntry.RemoveOldTempFiles",
    "IL_STUB_PInvoke(FindNextFile)",
    "System.Web.Compilation.BuildManager.GetVPathBuildResultInternal",
    "System.Web.Compilation.CompilationMutex.WaitOne",
    "IL_STUB_PInvoke(InstrumentedMutexGetLock)",
};

enum { JIT_BASE = 0x7FF00150000ull >> 16, JIT_SIZE = 0x20000 };

/* ---- Building blocks ------------------------------------------------------ */

static void add_catalog_module(synth_process *p, const char *name)
{
    const catalog_module *m = NULL;
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
        if (strcmp(modules[i].name, name) == 0)
            m = &modules[i];
    if (!m)
        synth_fail("no module %s in the catalog", name);
    synth_module_spec spec = {m->name, m->path, m->base, m->timestamp,
                              {m->version[0], m->version[1], m->version[2], m->version[3]}, NULL};
    int unit = synth_process_add_module(p, &spec);
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        const catalog_function *c = &functions[i];
        if (strcmp(c->module, name) != 0)
            continue;
        synth_function f = {.name = c->name, .export_name = c->export_name, .kind = c->kind,
                            .ops = c->ops, .op_count = c->op_count,
                            .syscall_number = c->syscall_number,
                            .unwind_version = c->unwind_version,
                            .extra_epilogs = c->extra_epilogs, .fragment = c->fragment};
        if (c->parent)
            f.parent = synth_text_find(synth_process_text(p, unit), c->parent);
        synth_process_add_function(p, unit, &f);
    }
    if (strcmp(name, "ntdll.dll") == 0) {
        synth_process_add_alias(p, unit, "NtClose", "ZwClose");
        synth_process_add_alias(p, unit, "ZwWaitForSingleObject", "NtWaitForSingleObject");
        synth_process_add_alias(p, unit, "NtQueryDirectoryFile", "ZwQueryDirectoryFile");
    }
    if (strcmp(name, "kernel32.dll") == 0)
        synth_process_add_forwarder(p, unit, "HeapAlloc", "NTDLL.RtlAllocateHeap");
}

static void add_catalog_modules(synth_process *p, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        add_catalog_module(p, names[i]);
}

static void add_jit_region(synth_process *p)
{
    int unit = synth_process_add_jit_region(p, "jit", (uint64_t)JIT_BASE << 16, JIT_SIZE);
    for (size_t i = 0; i < sizeof jit_methods / sizeof jit_methods[0]; i++) {
        synth_function f = {.name = jit_methods[i], .ops = OPS(jit_frame)};
        synth_process_add_function(p, unit, &f);
    }
}

static synth_process *new_w3wp(uint32_t pid, uint32_t created, uint32_t dumped, uint32_t seed)
{
    synth_process_options o = {.exe_name = "w3wp.exe", .process_id = pid,
                               .process_create_time = created, .dump_time = dumped,
                               .processor_count = 8, .product_type = 3, .os_major = 6,
                               .os_minor = 1, .os_build = 7600, .seed = seed};
    return synth_process_new(&o);
}

/* A frame just after the n-th prolog instruction / at the n-th instruction
 * of the first epilog. */
#define IN_PROLOG(module, function, n) {(module), (function), (n), SYNTH_AT_PROLOG}
#define IN_EPILOG(module, function, n) {(module), (function), (n), SYNTH_AT_EPILOG}

static const synth_frame_spec thread_start[] = {
    AT("kernel32.dll", "BaseThreadInitThunk", 0xd),
    AT("ntdll.dll", "RtlUserThreadStart", 0x1d),
};

/* ---- seed000: w3wp hung closing the HTTP.sys request queue ---------------- */

static void seed000_handles(synth_dump *d, synth_variant variant, void *context)
{
    (void)variant;
    (void)context;
    synth_dump_add_handle(d, &(synth_handle){.handle = 0x1C4, .type_name = "File",
                                             .object_name = "\\Device\\Http\\ReqQueue",
                                             .granted_access = 0x12019F, .handle_count = 1,
                                             .pointer_count = 3});
}

static synth_process *build_seed000(void)
{
    static const char *const names[] = {"w3wp.exe", "ntdll.dll", "kernel32.dll",
                                        "KERNELBASE.dll", "httpapi.dll", "w3dt.dll",
                                        "iiscore.dll", "w3wphost.dll"};
    /* Seed post dated 2009-09-25; the process had been hung for days. */
    synth_process *p = new_w3wp(0x85C, 1253543400, 1253865600, 0);
    add_catalog_modules(p, names, sizeof names / sizeof names[0]);
    frame_list l = {0};
    frame_list_append(&l, FRAMES(AT("ntdll.dll", "ZwClose", 0xa),
                      AT("KERNELBASE.dll", "CloseHandle", 0x13),
                      AT("kernel32.dll", "CloseHandleImplementation", 0x3d),
                      AT("httpapi.dll", "HttpCloseRequestQueue", 0xa),
                      AT("w3dt.dll", "UL_APP_POOL::Cleanup", 0x62),
                      AT("w3dt.dll", "WP_CONTEXT::CleanupOutstandingRequests", 0x83),
                      AT("iiscore.dll", "W3_SERVER::StopListen", 0x4a),
                      AT("iiscore.dll", "IISCORE_PROTOCOL_MANAGER::StopListenerChannel", 0x5a),
                      AT("w3wphost.dll", "LISTENER_CHANNEL_STOP_WORKITEM::ExecuteWorkItem", 0x7b),
                      AT("w3wphost.dll", "W3WP_HOST::ExecuteWorkItem", 0xf),
                      AT("ntdll.dll", "RtlpTpWorkCallback", 0x16b),
                      AT("ntdll.dll", "TppWorkerThread", 0x5ff)));
    frame_list_append(&l, OPS(thread_start));
    scenario_add_thread(p, 0x2CC, "shutdown", &l, 120000);
    synth_process_set_decorator(p, seed000_handles, NULL);
    synth_process_finish(p);
    return p;
}

/* ---- Shared IIS stacks ----------------------------------------------------- */

/* The bottom of an IIS request thread: managed code entered from the
 * integrated pipeline on a w3tp thread. */
static void append_request_bottom(frame_list *l)
{
    frame_list_append(l, FRAMES(AT("jit", "System.Web.HttpRuntime.ProcessRequestInternal", 0x1b2),
                     AT("clr.dll", "UMThunkStub", 0x67),
                     AT("webengine4.dll", "W3_MGD_HANDLER::ProcessNotification", 0x57),
                     AT("iiscore.dll", "NOTIFICATION_CONTEXT::RequestDoWork", 0x128),
                     AT("w3dt.dll", "UL_NATIVE_REQUEST::DoWork", 0x60),
                     AT("w3tp.dll", "THREAD_POOL_DATA::ThreadPoolThread", 0x34),
                     AT("w3tp.dll", "THREAD_MANAGER::ThreadManagerThread", 0x39)));
    frame_list_append(l, OPS(thread_start));
}

static void add_pool_workers(synth_process *p, uint32_t first_id, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        frame_list l = {0};
        frame_list_append(&l, FRAMES(AT("ntdll.dll", "NtWaitForWorkViaWorkerFactory", 0xa),
                          AT("ntdll.dll", "TppWorkerThread", 0x2c9)));
        frame_list_append(&l, OPS(thread_start));
        scenario_add_thread(p, first_id + 4 * i, "pool-worker-idle", &l, 0);
    }
}

static void add_w3tp_completion_threads(synth_process *p, uint32_t first_id, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        frame_list l = {0};
        frame_list_append(&l, FRAMES(AT("ntdll.dll", "NtRemoveIoCompletion", 0xa),
                          AT("KERNELBASE.dll", "GetQueuedCompletionStatus", 0x39),
                          AT("w3tp.dll", "THREAD_POOL_DATA::ThreadPoolThread", 0x6e),
                          AT("w3tp.dll", "THREAD_MANAGER::ThreadManagerThread", 0x39)));
        frame_list_append(&l, OPS(thread_start));
        scenario_add_thread(p, first_id + 4 * i, "completion-port-idle", &l, 0);
    }
}

static void add_main_thread(synth_process *p, uint32_t id)
{
    frame_list l = {0};
    frame_list_append(&l, FRAMES(AT("ntdll.dll", "NtWaitForSingleObject", 0xa),
                      AT("KERNELBASE.dll", "WaitForSingleObjectEx", 0x79),
                      AT("w3wphost.dll", "W3WP_HOST::WaitForShutdown", 0x27),
                      AT("w3wphost.dll", "AppHostInitialize", 0x2c4),
                      AT("w3wp.exe", "wmain", 0x3da),
                      AT("w3wp.exe", "__wmainCRTStartup", 0x13b)));
    frame_list_append(&l, OPS(thread_start));
    scenario_add_thread(p, id, "main", &l, 31000);
}

/* ---- seed002: CLR monitor contention, owner in FindNextFileW --------------- */

static void add_monitor_waiters(synth_process *p, uint32_t first_id, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        frame_list l = {0};
        frame_list_append(&l,
               FRAMES(AT("ntdll.dll", "NtWaitForMultipleObjects", 0xa),
                      AT("KERNELBASE.dll", "WaitForMultipleObjectsEx", 0xe8),
                      AT("clr.dll", "Thread::DoAppropriateWaitWorker", 0x1da),
                      AT("clr.dll", "Thread::DoAppropriateWait", 0x73),
                      AT("clr.dll", "AwareLock::EnterEpilog", 0xc8),
                      AT("clr.dll", "AwareLock::Enter", 0x72),
                      AT("clr.dll", "JITutil_MonContention", 0x14d),
                      AT("jit", "System.Web.HttpApplicationFactory.GetApplicationInstance", 0x5a)));
        append_request_bottom(&l);
        scenario_add_thread(p, first_id + 4 * i, "monitor-waiter", &l, 2000 + 10 * i);
    }
}

static void add_lock_owner(synth_process *p, uint32_t id)
{
    frame_list l = {0};
    frame_list_append(
        &l,
        FRAMES(AT("ntdll.dll", "ZwQueryDirectoryFile", 0xa),
               AT("KERNELBASE.dll", "FindNextFileW", 0x12d),
               AT("jit", "IL_STUB_PInvoke(FindNextFile)", 0xe0),
               AT("jit", "System.Web.Compilation.PreservedAssemblyEntry.RemoveOldTempFiles", 0x95),
               AT("jit", "System.Web.Compilation.PreservedAssemblyEntry.DoFirstTimeInit", 0x4b),
               AT("jit", "System.Web.Compilation.PreservedAssemblyEntry.EnsureFirstTimeInit", 0x3c),
               AT("jit", "System.Web.HttpApplicationFactory.GetApplicationInstance", 0x7e)));
    append_request_bottom(&l);
    scenario_add_thread(p, id, "lock-owner", &l, 95000000);
}

static void add_compilation_waiters(synth_process *p, uint32_t first_id, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        frame_list l = {0};
        frame_list_append(&l,
               FRAMES(AT("ntdll.dll", "NtWaitForSingleObject", 0xa),
                      AT("KERNELBASE.dll", "WaitForSingleObjectEx", 0x79),
                      AT("webengine4.dll", "InstrumentedMutex::GetLock", 0x10),
                      AT("webengine4.dll", "InstrumentedMutexGetLock", 0x12),
                      AT("jit", "IL_STUB_PInvoke(InstrumentedMutexGetLock)", 0x8f),
                      AT("jit", "System.Web.Compilation.CompilationMutex.WaitOne", 0x54),
                      AT("jit", "System.Web.Compilation.BuildManager.GetVPathBuildResultInternal",
                         0x1c2),
                      AT("jit", "System.Web.HttpRuntime.ProcessRequestInternal", 0x21c),
                      AT("clr.dll", "UMThunkStub", 0x67),
                      AT("webengine4.dll", "W3_MGD_HANDLER::ProcessNotification", 0x57),
                      AT("iiscore.dll", "NOTIFICATION_CONTEXT::RequestDoWork", 0x128),
                      AT("w3dt.dll", "UL_NATIVE_REQUEST::DoWork", 0x60),
                      AT("w3tp.dll", "THREAD_POOL_DATA::ThreadPoolThread", 0x34),
                      AT("w3tp.dll", "THREAD_MANAGER::ThreadManagerThread", 0x39)));
        frame_list_append(&l, OPS(thread_start));
        scenario_add_thread(p, first_id + 4 * i, "compilation-waiter", &l, 1500);
    }
}

static void add_clr_idle_threads(synth_process *p, uint32_t first_id)
{
    frame_list port = {0}, finalizer = {0};
    frame_list_append(&port, FRAMES(AT("ntdll.dll", "NtRemoveIoCompletion", 0xa),
                         AT("KERNELBASE.dll", "GetQueuedCompletionStatus", 0x39),
                         AT("clr.dll", "ThreadpoolMgr::CompletionPortThreadStart", 0x93),
                         AT("clr.dll", "Thread::intermediateThreadProc", 0x7d)));
    frame_list_append(&port, OPS(thread_start));
    scenario_add_thread(p, first_id, "completion-port-idle", &port, 800);
    scenario_add_thread(p, first_id + 4, "completion-port-idle", &port, 700);
    frame_list_append(&finalizer, FRAMES(AT("ntdll.dll", "NtWaitForMultipleObjects", 0xa),
                              AT("KERNELBASE.dll", "WaitForMultipleObjectsEx", 0xe8),
                              AT("clr.dll", "WKS::GCHeap::FinalizerThreadStart", 0x8b),
                              AT("clr.dll", "Thread::intermediateThreadProc", 0x7d)));
    frame_list_append(&finalizer, OPS(thread_start));
    scenario_add_thread(p, first_id + 8, "finalizer", &finalizer, 4000);
}

static synth_process *build_seed002(void)
{
    static const char *const names[] = {"w3wp.exe", "ntdll.dll", "kernel32.dll",
                                        "KERNELBASE.dll", "w3dt.dll", "iiscore.dll",
                                        "w3wphost.dll", "w3tp.dll", "clr.dll", "webengine4.dll"};
    synth_process *p = new_w3wp(0x13A8, 1262340000, 1262343600, 2);
    add_catalog_modules(p, names, sizeof names / sizeof names[0]);
    add_jit_region(p);
    add_main_thread(p, 0x1C40);
    add_pool_workers(p, 0x1C80, 2);
    add_clr_idle_threads(p, 0x1D00);
    add_lock_owner(p, 0x360);
    add_monitor_waiters(p, 0x2000, 72);
    add_compilation_waiters(p, 0x2400, 3);
    synth_process_finish(p);
    return p;
}

/* ---- healthy-w3wp: idle pools, main thread waiting ------------------------ */

static synth_process *build_healthy(void)
{
    static const char *const names[] = {"w3wp.exe", "ntdll.dll", "kernel32.dll",
                                        "KERNELBASE.dll", "httpapi.dll", "w3dt.dll",
                                        "iiscore.dll", "w3wphost.dll", "w3tp.dll"};
    synth_process *p = new_w3wp(0x0F10, 1262340000, 1262426400, 3);
    add_catalog_modules(p, names, sizeof names / sizeof names[0]);
    add_main_thread(p, 0x0F14);
    add_pool_workers(p, 0x0F20, 4);
    add_w3tp_completion_threads(p, 0x0F40, 3);
    synth_process_finish(p);
    return p;
}

/* ---- unwind-edge-cases: where exact unwinders need every rule ------------- */

static void add_edge_thread(synth_process *p, uint32_t id, const char *role,
                            const synth_frame_spec *top, size_t count, uint32_t main_offset)
{
    frame_list l = {0};
    frame_list_append(&l, top, count);
    frame_list_append(&l, FRAMES(AT("edge.exe", "main", main_offset)));
    frame_list_append(&l, OPS(thread_start));
    scenario_add_thread(p, id, role, &l, 100);
}

static synth_process *build_edge_cases(void)
{
    static const char *const names[] = {"edge.exe", "ntdll.dll", "kernel32.dll", "edgelib.dll"};
    synth_process_options o = {.exe_name = "edge.exe", .process_id = 0x1234,
                               .process_create_time = 1500000000, .dump_time = 1500003600,
                               .processor_count = 4, .product_type = 1, .os_major = 6,
                               .os_minor = 1, .os_build = 7601, .csd = "Service Pack 1",
                               .seed = 5};
    synth_process *p = synth_process_new(&o);
    add_catalog_modules(p, names, sizeof names / sizeof names[0]);
    const synth_frame_spec wait = AT("ntdll.dll", "NtWaitForSingleObject", 0xa);
    add_edge_thread(p, 0x100, "frame 0 inside a prolog",
                    FRAMES(IN_PROLOG("edgelib.dll", "EdgeInProlog", 3)), 0x40);
    add_edge_thread(p, 0x104, "frame 0 inside a v1 epilog after lea rsp,[rbp+d] and a pop",
                    FRAMES(IN_EPILOG("edgelib.dll", "EdgeInEpilogV1", 2)), 0x50);
    add_edge_thread(p, 0x108, "frame 0 inside a mid-function v2 epilog",
                    FRAMES(IN_EPILOG("edgelib.dll", "EdgeInEpilogV2", 2)), 0x60);
    add_edge_thread(p, 0x10C, "caller in the body of a v2 function",
                    FRAMES(wait, AT("edgelib.dll", "EdgeInEpilogV2", 0x40)), 0x60);
    add_edge_thread(p, 0x110, "caller in a chained fragment (UNW_FLAG_CHAININFO)",
                    FRAMES(wait, AT("edgelib.dll", "EdgeChained$cold", 0x20)), 0x70);
    add_edge_thread(p, 0x114, "caller in an indirect fragment (UnwindData | 1)",
                    FRAMES(wait, AT("edgelib.dll", "EdgeIndirect$frag", 0x10)), 0x80);
    add_edge_thread(p, 0x118, "caller with FrameOffset 240, ALLOC_LARGE 32-bit, _FAR saves",
                    FRAMES(wait, AT("edgelib.dll", "EdgeBigFrame", 0x60)), 0x90);
    add_edge_thread(p, 0x11C, "frame 0 at lea rsp,[rbp-10h] of a frame-pointer-first function",
                    FRAMES(IN_EPILOG("edgelib.dll", "EdgeFpFirst", 0)), 0xa0);
    add_edge_thread(p, 0x120, "exception dispatch: machine frame over a frame inside its prolog",
                    FRAMES(wait, AT("ntdll.dll", "RtlDispatchException", 0x1a5),
                           AT("ntdll.dll", "KiUserExceptionDispatcher", 0x2e),
                           IN_PROLOG("edgelib.dll", "EdgeFaulting", 4)), 0xb0);
    synth_process_finish(p);
    return p;
}

/* ---- pe32-images: x86 images for the x86 form of seed 002 ------------------ */

/* Windows Server 2003 x86 prologs: ebp frames, callee-saved pushes. */
static const synth_op x86_ebp_frame[] = {PUSH(RBP), SET_FP(RBP, 0), ALLOC(0x10), PUSH(RBX),
                                         PUSH(RSI), PUSH(RDI)};
static const synth_op x86_ebp_small[] = {PUSH(RBP), SET_FP(RBP, 0), PUSH(RSI)};

typedef struct x86_function {
    const char *name;
    const char *export_name;
    synth_func_kind kind;
    uint32_t syscall_number;  /* syscalls: also ret's byte count in param_size */
    uint32_t param_size;
    const synth_op *ops;
    size_t op_count;
} x86_function;

typedef struct x86_module {
    const char *name;
    uint32_t base;
    uint32_t timestamp;
    const x86_function *functions;
    size_t function_count;
} x86_module;

static const x86_function ntdll32[] = {
    {"KiFastSystemCallRet", "KiFastSystemCallRet", SYNTH_FUNC_LEAF, 0, 0, NULL, 0},
    {"NtWaitForSingleObject", "NtWaitForSingleObject", SYNTH_FUNC_SYSCALL, 0x10F, 0xC, NULL, 0},
    {"NtWaitForMultipleObjects", "NtWaitForMultipleObjects", SYNTH_FUNC_SYSCALL, 0x110, 0x14,
     NULL, 0},
    {"ZwQueryDirectoryFile", "ZwQueryDirectoryFile", SYNTH_FUNC_SYSCALL, 0x97, 0x2C, NULL, 0},
};
static const x86_function kernel32_32[] = {
    {"WaitForSingleObjectEx", "WaitForSingleObjectEx", SYNTH_FUNC_FRAME, 0, 0xC,
     OPS(x86_ebp_frame)},
    {"WaitForMultipleObjectsEx", "WaitForMultipleObjectsEx", SYNTH_FUNC_FRAME, 0, 0x14,
     OPS(x86_ebp_frame)},
    {"FindNextFileW", "FindNextFileW", SYNTH_FUNC_FRAME, 0, 8, OPS(x86_ebp_frame)},
};
static const x86_function aspnet_isapi[] = {
    {"InstrumentedMutex::GetLock", NULL, SYNTH_FUNC_FRAME, 0, 4, OPS(x86_ebp_small)},
    {"InstrumentedMutexGetLock", "InstrumentedMutexGetLock", SYNTH_FUNC_FRAME, 0, 8,
     OPS(x86_ebp_small)},
};
static const x86_function mscorsvr[] = {
    {"Thread::DoAppropriateWaitWorker", NULL, SYNTH_FUNC_FRAME, 0, 0x10, OPS(x86_ebp_frame)},
    {"Thread::DoAppropriateWait", NULL, SYNTH_FUNC_FRAME, 0, 0x10, OPS(x86_ebp_frame)},
    {"AwareLock::EnterEpilog", NULL, SYNTH_FUNC_FRAME, 0, 4, OPS(x86_ebp_frame)},
    {"AwareLock::Enter", NULL, SYNTH_FUNC_FRAME, 0, 0, OPS(x86_ebp_small)},
    {"JITutil_MonContention", NULL, SYNTH_FUNC_FRAME, 0, 4, OPS(x86_ebp_frame)},
};

#define X86_MODULE(name, base, timestamp, functions) \
    {name, base, timestamp, functions, sizeof(functions) / sizeof((functions)[0])}
static const x86_module x86_modules[] = {
    X86_MODULE("ntdll.dll", 0x7C800000, 0x45D70AD8, ntdll32),
    X86_MODULE("kernel32.dll", 0x77E40000, 0x45D70AD9, kernel32_32),
    X86_MODULE("aspnet_isapi.dll", 0x79E70000, 0x42435BE1, aspnet_isapi),
    X86_MODULE("mscorsvr.dll", 0x791B0000, 0x42435BE2, mscorsvr),
};

/* Call sites of the x86 seed 002 stacks: caller!function+offset calls
 * module!function. */
static const struct x86_call {
    const char *module, *function;
    uint32_t offset;
    const char *target_module, *target;
} x86_calls[] = {
    {"kernel32.dll", "WaitForSingleObjectEx", 0xac, "ntdll.dll", "NtWaitForSingleObject"},
    {"kernel32.dll", "WaitForMultipleObjectsEx", 0x11a, "ntdll.dll", "NtWaitForMultipleObjects"},
    {"kernel32.dll", "FindNextFileW", 0xaa, "ntdll.dll", "ZwQueryDirectoryFile"},
    {"aspnet_isapi.dll", "InstrumentedMutex::GetLock", 0x10, "kernel32.dll",
     "WaitForSingleObjectEx"},
    {"aspnet_isapi.dll", "InstrumentedMutexGetLock", 0x12, "aspnet_isapi.dll",
     "InstrumentedMutex::GetLock"},
    {"mscorsvr.dll", "Thread::DoAppropriateWaitWorker", 0xc1, "kernel32.dll",
     "WaitForMultipleObjectsEx"},
    {"mscorsvr.dll", "Thread::DoAppropriateWait", 0x46, "mscorsvr.dll",
     "Thread::DoAppropriateWaitWorker"},
    {"mscorsvr.dll", "AwareLock::EnterEpilog", 0x9d, "mscorsvr.dll", "Thread::DoAppropriateWait"},
    {"mscorsvr.dll", "AwareLock::Enter", 0x78, "mscorsvr.dll", "AwareLock::EnterEpilog"},
    {"mscorsvr.dll", "JITutil_MonContention", 0x124, "mscorsvr.dll", "AwareLock::Enter"},
};

static synth_pe *new_x86_image(const x86_module *m)
{
    synth_pe_options o = {.name = m->name, .machine = SYNTH_CPU_X86, .image_base = m->base,
                          .timestamp = m->timestamp, .is_dll = true, .has_codeview = true,
                          .codeview = {.age = 1}};
    char pdb[64];
    snprintf(pdb, sizeof pdb, "%.*s.pdb", (int)(strrchr(m->name, '.') - m->name), m->name);
    o.codeview.pdb_name = pdb;
    synth_guid_from_seed(o.codeview.guid, pdb);
    synth_pe *pe = synth_pe_new(&o);
    for (size_t i = 0; i < m->function_count; i++) {
        const x86_function *f = &m->functions[i];
        synth_function fn = {.name = f->name, .export_name = f->export_name, .kind = f->kind,
                             .syscall_number = f->syscall_number, .param_size = f->param_size,
                             .ops = f->ops, .op_count = f->op_count};
        synth_pe_add_function(pe, &fn);
    }
    return pe;
}

static synth_pe *x86_image_named(synth_pe **images, const char *name)
{
    for (size_t i = 0; i < sizeof x86_modules / sizeof x86_modules[0]; i++)
        if (strcmp(x86_modules[i].name, name) == 0)
            return images[i];
    synth_fail("no x86 module %s", name);
}

static void add_x86_calls(synth_pe **images)
{
    for (size_t i = 0; i < sizeof x86_calls / sizeof x86_calls[0]; i++) {
        const struct x86_call *c = &x86_calls[i];
        synth_text *caller = synth_pe_text(x86_image_named(images, c->module));
        const synth_text *callee = synth_pe_text(x86_image_named(images, c->target_module));
        synth_target target = {callee, synth_text_find(callee, c->target), 0};
        synth_text_add_call(caller, synth_text_find(caller, c->function), c->offset, target);
    }
}

/* The images, their symbols and an expected.json without dumps or threads. */
static int write_x86_outputs(synth_pe **images, size_t count, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/expected.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("{\n  \"scenario\": \"pe32-images\",\n  \"process\": null,\n  \"cpu\": \"x86\",\n"
          "  \"dumps\": {},\n  \"images\": \"images\",\n  \"symbols\": \"symbols\",\n"
          "  \"modules\": [\n", f);
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        synth_buf file;
        synth_buf_init(&file);
        synth_pe_build(images[i], &file);
        rc |= synth_pe_write_files(images[i], &file, dir);
        synth_buf_free(&file);
        fputs(i ? ",\n    " : "    ", f);
        synth_json_image(f, images[i]);
    }
    fputs("\n  ],\n  \"threads\": []\n}\n", f);
    return fclose(f) | rc;
}

static int write_pe32_images(const char *dir)
{
    enum { COUNT = sizeof x86_modules / sizeof x86_modules[0] };
    synth_pe *images[COUNT];
    for (size_t i = 0; i < COUNT; i++)
        images[i] = new_x86_image(&x86_modules[i]);
    add_x86_calls(images);
    for (size_t i = 0; i < COUNT; i++)
        synth_pe_layout(images[i]);
    int rc = synth_make_directories(dir) != 0 ? -1 : write_x86_outputs(images, COUNT, dir);
    for (size_t i = 0; i < COUNT; i++)
        synth_pe_free(images[i]);
    return rc;
}

/* ---- Registry ----------------------------------------------------------------- */

static const synth_scenario scenarios[] = {
    {"seed000-w3wp-shutdown",
     "w3wp.exe with one thread left, blocked in ntdll!ZwClose under "
     "httpapi!HttpCloseRequestQueue during shutdown (seed 000)", build_seed000, NULL},
    {"seed002-clr-monitor-x64",
     "x64 form of seed 002: 72 threads in clr!AwareLock::Enter, the owner in "
     "ntdll!ZwQueryDirectoryFile under KERNELBASE!FindNextFileW, compilation-mutex "
     "waiters, idle pool and finalizer threads", build_seed002, NULL},
    {"healthy-w3wp",
     "w3wp.exe at rest: idle pool workers and completion-port threads, main thread "
     "waiting", build_healthy, NULL},
    {"unwind-edge-cases",
     "frames inside prologs and v1/v2 epilogs, chained and indirect fragments, "
     "_FAR codes, FrameOffset 240, a machine frame", build_edge_cases, NULL},
    {"pe32-images",
     "x86 (PE32) images of seed 002's x86 stacks (ntdll, kernel32, aspnet_isapi, mscorsvr) "
     "with symbols; no dump", NULL, write_pe32_images},
    {"seed002-clr-monitor-x86",
     "seed 002 in its original 32-bit form (Windows Server 2003, mscorsvr): 72 threads in "
     "mscorsvr!AwareLock::Enter, the owner in ntdll!ZwQueryDirectoryFile under "
     "kernel32!FindNextFileW, compilation-mutex waiters; FPO and EBP frames", synth_build_seed002_x86,
     NULL},
    {"wow64-x86-process",
     "a 32-bit process on Windows 7 x64 dumped by a 64-bit writer: 32-bit stacks in the TEBs' "
     "WOW64 contexts, the wow64cpu/wow64 side in the thread contexts", synth_build_wow64, NULL},
};

/* The scenarios above, then the rule fixtures' (rule_scenarios.c). */
size_t synth_scenario_count(void)
{
    return sizeof scenarios / sizeof scenarios[0] + synth_rule_scenario_count();
}

const synth_scenario *synth_scenario_at(size_t index)
{
    size_t own = sizeof scenarios / sizeof scenarios[0];
    return index < own ? &scenarios[index] : synth_rule_scenario_at(index - own);
}

const synth_scenario *synth_scenario_find(const char *name)
{
    for (size_t i = 0; i < synth_scenario_count(); i++)
        if (strcmp(synth_scenario_at(i)->name, name) == 0)
            return synth_scenario_at(i);
    return NULL;
}

int synth_scenario_write(const synth_scenario *s, const char *root)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", root, s->name);
    if (!s->build)
        return s->write(dir);
    synth_process *p = s->build();
    int rc = synth_process_write(p, dir, s->name);
    synth_process_free(p);
    return rc;
}
