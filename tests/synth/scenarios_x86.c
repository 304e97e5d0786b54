/*
 * x86 scenarios: seed 002 in its original 32-bit form (w3wp.exe on Windows
 * Server 2003, .NET 1.1 mscorsvr), written by a 32-bit dump writer; and a
 * 32-bit process on 64-bit Windows 7 dumped by a 64-bit writer (WOW64).
 *
 * The functions mix the x86 frame kinds a walker meets: EBP-framed
 * functions (push ebp; mov ebp, esp), which have no STACK WIN record and
 * are walked by the EBP chain; FPO functions (pushes and sub esp, no frame
 * pointer), walkable only from their STACK WIN FRAME_DATA program; leaf
 * functions and syscall stubs with FPO records. Every stack carries decoy
 * return addresses.
 */
#include "scenarios_x86.h"

#include <string.h>

#include "scenario_kit.h"

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
enum { RBX = 3, RSI = 6, RDI = 7 };

#define SET_EBP {SYNTH_OP_SET_FPREG, EBP, 0, SYNTH_ENC_AUTO}

/* x86 prologs: EBP frames, and FPO frames without a frame pointer. */
static const synth_op ebp_frame[] = {PUSH(EBP), SET_EBP, ALLOC(0x10), PUSH(EBX), PUSH(ESI),
                                     PUSH(EDI)};
static const synth_op ebp_small[] = {PUSH(EBP), SET_EBP, PUSH(ESI)};
static const synth_op fpo_locals[] = {ALLOC(0x18), PUSH(EBX), PUSH(ESI), PUSH(EDI)};
static const synth_op fpo_pushes[] = {PUSH(ESI), PUSH(EDI)};
static const synth_op fpo_one[] = {PUSH(ESI)};
/* x64 prologs of the WOW64 layer. */
static const synth_op x64_sub28[] = {ALLOC(0x28)};
static const synth_op x64_rbx_20[] = {PUSH(RBX), ALLOC(0x20)};
static const synth_op x64_three[] = {PUSH(RBX), PUSH(RSI), PUSH(RDI), ALLOC(0x30)};

typedef struct x86_function {
    const char *module;
    const char *name;
    const char *export_name;
    synth_func_kind kind;
    uint32_t syscall_number;
    uint32_t param_size;      /* also a syscall stub's ret count */
    const synth_op *ops;
    size_t op_count;
} x86_function;

typedef struct x86_module {
    const char *name;
    const char *path;
    uint32_t base;
    uint32_t timestamp;
    uint16_t version[4];
} x86_module;

#define FRAME_FN(m, n, e, ops, params) {m, n, e, SYNTH_FUNC_FRAME, 0, params, OPS(ops)}
#define STUB(m, n, number, params) {m, n, n, SYNTH_FUNC_SYSCALL, number, params, NULL, 0}

/* ---- Modules and functions --------------------------------------------- */

#define W2K3 "C:\\WINDOWS\\system32\\"
#define NET11 "C:\\WINDOWS\\Microsoft.NET\\Framework\\v1.1.4322\\"

static const x86_module seed002_modules[] = {
    {"w3wp.exe", W2K3 "inetsrv\\w3wp.exe", 0x01000000, 0x42435B2A, {6, 0, 3790, 1830}},
    {"ntdll.dll", W2K3 "ntdll.dll", 0x7C800000, 0x45D70AD8, {5, 2, 3790, 4455}},
    {"kernel32.dll", W2K3 "kernel32.dll", 0x77E40000, 0x45D70AD9, {5, 2, 3790, 4480}},
    {"mscorsvr.dll", NET11 "mscorsvr.dll", 0x791B0000, 0x42435BE2, {1, 1, 4322, 2300}},
    {"aspnet_isapi.dll", NET11 "aspnet_isapi.dll", 0x79E70000, 0x42435BE1, {1, 1, 4322, 2300}},
};

static const x86_function seed002_functions[] = {
    FRAME_FN("w3wp.exe", "wmain", NULL, ebp_frame, 8),
    FRAME_FN("w3wp.exe", "wmainCRTStartup", NULL, ebp_small, 0),
    {"ntdll.dll", "KiFastSystemCallRet", "KiFastSystemCallRet", SYNTH_FUNC_LEAF, 0, 0, NULL, 0},
    STUB("ntdll.dll", "NtWaitForSingleObject", 0x10F, 0xC),
    STUB("ntdll.dll", "NtWaitForMultipleObjects", 0x110, 0x14),
    STUB("ntdll.dll", "ZwQueryDirectoryFile", 0x97, 0x2C),
    FRAME_FN("kernel32.dll", "WaitForSingleObjectEx", "WaitForSingleObjectEx", ebp_frame, 0xC),
    FRAME_FN("kernel32.dll", "WaitForMultipleObjectsEx", "WaitForMultipleObjectsEx", ebp_frame,
             0x14),
    FRAME_FN("kernel32.dll", "FindNextFileW", "FindNextFileW", ebp_frame, 8),
    FRAME_FN("kernel32.dll", "BaseThreadStart", NULL, ebp_small, 8),
    FRAME_FN("kernel32.dll", "BaseProcessStart", NULL, ebp_small, 4),
    FRAME_FN("mscorsvr.dll", "Thread::DoAppropriateWaitWorker", NULL, ebp_frame, 0x10),
    FRAME_FN("mscorsvr.dll", "Thread::DoAppropriateWait", NULL, fpo_locals, 0x10),
    FRAME_FN("mscorsvr.dll", "AwareLock::EnterEpilog", NULL, ebp_frame, 4),
    FRAME_FN("mscorsvr.dll", "AwareLock::Enter", NULL, fpo_pushes, 0),
    FRAME_FN("mscorsvr.dll", "JITutil_MonContention", NULL, ebp_frame, 4),
    FRAME_FN("mscorsvr.dll", "ComCallMLStubCache::CompileMLStub", NULL, ebp_frame, 8),
    FRAME_FN("mscorsvr.dll", "GCHeap::FinalizerThreadStart", NULL, fpo_locals, 4),
    FRAME_FN("aspnet_isapi.dll", "InstrumentedMutex::GetLock", NULL, fpo_one, 4),
    FRAME_FN("aspnet_isapi.dll", "InstrumentedMutexGetLock", "InstrumentedMutexGetLock",
             ebp_small, 8),
};

/* Managed methods (.NET 1.1 x86 JIT code: EBP frames). */
static const char *const jit_methods[] = {
    "System.Web.HttpRuntime.ProcessRequestInternal",
    "System.Web.HttpApplicationFactory.GetApplicationInstance",
    "System.Web.Compilation.PreservedAssemblyEntry.EnsureFirstTimeInit",
    "System.Web.Compilation.PreservedAssemblyEntry.RemoveOldTempFiles",
    "System.Web.UnsafeNativeMethods.FindNextFile",
    "System.Web.Compilation.CompilationMutex.WaitOne",
    "System.Web.UnsafeNativeMethods.InstrumentedMutexGetLock",
};

enum { JIT_BASE = 0x02540000, JIT_SIZE = 0x20000 };

static void add_functions(synth_process *p, int unit, const char *module,
                          const x86_function *functions, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const x86_function *c = &functions[i];
        if (strcmp(c->module, module) != 0)
            continue;
        synth_function f = {.name = c->name, .export_name = c->export_name, .kind = c->kind,
                            .syscall_number = c->syscall_number, .param_size = c->param_size,
                            .ops = c->ops, .op_count = c->op_count};
        synth_process_add_function(p, unit, &f);
    }
}

static int add_module(synth_process *p, const x86_module *m, bool native)
{
    synth_module_spec spec = {m->name, m->path, m->base, m->timestamp,
                              {m->version[0], m->version[1], m->version[2], m->version[3]},
                              NULL};
    return native ? synth_process_add_native_module(p, &spec) : synth_process_add_module(p, &spec);
}

static void add_modules(synth_process *p, const x86_module *modules, size_t module_count,
                        const x86_function *functions, size_t function_count, bool native)
{
    for (size_t i = 0; i < module_count; i++) {
        int unit = add_module(p, &modules[i], native);
        add_functions(p, unit, modules[i].name, functions, function_count);
    }
}

static void add_jit_region(synth_process *p)
{
    int unit = synth_process_add_jit_region(p, "jit", JIT_BASE, JIT_SIZE);
    for (size_t i = 0; i < sizeof jit_methods / sizeof jit_methods[0]; i++) {
        synth_function f = {.name = jit_methods[i], .ops = OPS(ebp_frame)};
        synth_process_add_function(p, unit, &f);
    }
}

/* ---- seed002-clr-monitor-x86 --------------------------------------------- */

static void add_thread(synth_process *p, uint32_t id, const char *role, const frame_list *l)
{
    scenario_add_thread(p, id, role, l, 1000 + id);
}

/* A request thread's bottom: managed code entered through a COM call. */
static void append_request_bottom(frame_list *l)
{
    frame_list_append(l, FRAMES(AT("jit", "System.Web.HttpRuntime.ProcessRequestInternal", 0x1b2),
                     AT("mscorsvr.dll", "ComCallMLStubCache::CompileMLStub", 0x429),
                     AT("kernel32.dll", "BaseThreadStart", 0x34)));
}

static void add_monitor_waiters(synth_process *p, uint32_t first_id, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        frame_list l = {0};
        frame_list_append(&l, FRAMES(AT("ntdll.dll", "KiFastSystemCallRet", 0),
                          AT("ntdll.dll", "NtWaitForMultipleObjects", 0xc),
                          AT("kernel32.dll", "WaitForMultipleObjectsEx", 0x11a),
                          AT("mscorsvr.dll", "Thread::DoAppropriateWaitWorker", 0xc1),
                          AT("mscorsvr.dll", "Thread::DoAppropriateWait", 0x46),
                          AT("mscorsvr.dll", "AwareLock::EnterEpilog", 0x9d),
                          AT("mscorsvr.dll", "AwareLock::Enter", 0x78),
                          AT("mscorsvr.dll", "JITutil_MonContention", 0x124),
                          AT("jit", "System.Web.HttpApplicationFactory.GetApplicationInstance",
                             0x5a)));
        append_request_bottom(&l);
        add_thread(p, first_id + 4 * i, "monitor-waiter", &l);
    }
}

static void add_lock_owner(synth_process *p, uint32_t id)
{
    frame_list l = {0};
    frame_list_append(&l,
           FRAMES(AT("ntdll.dll", "KiFastSystemCallRet", 0),
                  AT("ntdll.dll", "ZwQueryDirectoryFile", 0xc),
                  AT("kernel32.dll", "FindNextFileW", 0xaa),
                  AT("jit", "System.Web.UnsafeNativeMethods.FindNextFile", 0x3e),
                  AT("jit", "System.Web.Compilation.PreservedAssemblyEntry.RemoveOldTempFiles",
                     0x95),
                  AT("jit", "System.Web.Compilation.PreservedAssemblyEntry.EnsureFirstTimeInit",
                     0x3c),
                  AT("jit", "System.Web.HttpApplicationFactory.GetApplicationInstance", 0x7e)));
    append_request_bottom(&l);
    add_thread(p, id, "lock-owner", &l);
}

static void add_compilation_waiters(synth_process *p, uint32_t first_id, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        frame_list l = {0};
        frame_list_append(&l, FRAMES(AT("ntdll.dll", "KiFastSystemCallRet", 0),
                          AT("ntdll.dll", "NtWaitForSingleObject", 0xc),
                          AT("kernel32.dll", "WaitForSingleObjectEx", 0xac),
                          AT("aspnet_isapi.dll", "InstrumentedMutex::GetLock", 0x10),
                          AT("aspnet_isapi.dll", "InstrumentedMutexGetLock", 0x12),
                          AT("jit", "System.Web.UnsafeNativeMethods.InstrumentedMutexGetLock",
                             0x2b),
                          AT("jit", "System.Web.Compilation.CompilationMutex.WaitOne", 0x54),
                          AT("jit", "System.Web.HttpRuntime.ProcessRequestInternal", 0x21c),
                          AT("mscorsvr.dll", "ComCallMLStubCache::CompileMLStub", 0x429),
                          AT("kernel32.dll", "BaseThreadStart", 0x34)));
        add_thread(p, first_id + 4 * i, "compilation-waiter", &l);
    }
}

static void add_idle_threads(synth_process *p, uint32_t main_id, uint32_t finalizer_id)
{
    frame_list main = {0}, finalizer = {0};
    frame_list_append(&main, FRAMES(AT("ntdll.dll", "KiFastSystemCallRet", 0),
                         AT("ntdll.dll", "NtWaitForSingleObject", 0xc),
                         AT("kernel32.dll", "WaitForSingleObjectEx", 0xac),
                         AT("w3wp.exe", "wmain", 0x1d3),
                         AT("w3wp.exe", "wmainCRTStartup", 0x12d),
                         AT("kernel32.dll", "BaseProcessStart", 0x23)));
    add_thread(p, main_id, "main", &main);
    frame_list_append(&finalizer, FRAMES(AT("ntdll.dll", "KiFastSystemCallRet", 0),
                              AT("ntdll.dll", "NtWaitForMultipleObjects", 0xc),
                              AT("kernel32.dll", "WaitForMultipleObjectsEx", 0x11a),
                              AT("mscorsvr.dll", "GCHeap::FinalizerThreadStart", 0x8b),
                              AT("kernel32.dll", "BaseThreadStart", 0x34)));
    add_thread(p, finalizer_id, "finalizer", &finalizer);
}

synth_process *synth_build_seed002_x86(void)
{
    /* Windows Server 2003 SP2 x86, 4 CPUs; the dump of seed 002's w3wp. */
    synth_process_options o = {.exe_name = "w3wp.exe", .process_id = 0x13A8,
                               .process_create_time = 1167904800, .dump_time = 1167906600,
                               .processor_count = 4, .product_type = 3, .os_major = 5,
                               .os_minor = 2, .os_build = 3790, .csd = "Service Pack 2",
                               .seed = 3, .cpu = SYNTH_CPU_X86};
    synth_process *p = synth_process_new(&o);
    add_modules(p, seed002_modules, sizeof seed002_modules / sizeof seed002_modules[0],
                seed002_functions, sizeof seed002_functions / sizeof seed002_functions[0], false);
    add_jit_region(p);
    add_idle_threads(p, 0x1FC, 0x4A8);
    add_lock_owner(p, 0x360);
    add_monitor_waiters(p, 0x2000, 72);
    add_compilation_waiters(p, 0x2400, 3);
    synth_process_finish(p);
    return p;
}

/* ---- wow64-x86-process ------------------------------------------------------ */

#define SYSWOW64 "C:\\Windows\\SysWOW64\\"
#define SYSTEM32 "C:\\Windows\\System32\\"

/* Windows 7 SP1 x64: the 32-bit modules first (the main module leads the
 * module list), then the 64-bit ntdll and the WOW64 layer. */
static const x86_module wow64_modules[] = {
    {"crashme.exe", "C:\\crashme\\crashme.exe", 0x00400000, 0x4CA3B56E, {1, 0, 0, 1}},
    {"ntdll.dll", SYSWOW64 "ntdll.dll", 0x77A10000, 0x4CE7BA3F, {6, 1, 7601, 17514}},
    {"kernel32.dll", SYSWOW64 "kernel32.dll", 0x75D10000, 0x4CE7B8EF, {6, 1, 7601, 17514}},
    {"KERNELBASE.dll", SYSWOW64 "KERNELBASE.dll", 0x75A60000, 0x4CE7B8F0, {6, 1, 7601, 17514}},
};
static const x86_module wow64_native_modules[] = {
    {"ntdll.dll", SYSTEM32 "ntdll.dll", 0x77830000, 0x4CE7C8F9, {6, 1, 7601, 17514}},
    {"wow64.dll", SYSTEM32 "wow64.dll", 0x74A60000, 0x4CE7C99C, {6, 1, 7601, 17514}},
    {"wow64win.dll", SYSTEM32 "wow64win.dll", 0x74A00000, 0x4CE7C99D, {6, 1, 7601, 17514}},
    {"wow64cpu.dll", SYSTEM32 "wow64cpu.dll", 0x749F0000, 0x4CE7C99B, {6, 1, 7601, 17514}},
};

static const x86_function wow64_functions[] = {
    FRAME_FN("crashme.exe", "main", NULL, fpo_locals, 8),
    FRAME_FN("crashme.exe", "worker", NULL, fpo_pushes, 4),
    FRAME_FN("crashme.exe", "__tmainCRTStartup", NULL, ebp_frame, 0),
    STUB("ntdll.dll", "NtWaitForSingleObject", 0x1, 0xC),
    STUB("ntdll.dll", "NtWaitForMultipleObjects", 0x2, 0x14),
    FRAME_FN("ntdll.dll", "__RtlUserThreadStart", NULL, ebp_frame, 8),
    FRAME_FN("ntdll.dll", "_RtlUserThreadStart", NULL, ebp_small, 8),
    FRAME_FN("kernel32.dll", "WaitForSingleObjectExImplementation", "WaitForSingleObjectEx",
             ebp_frame, 0xC),
    FRAME_FN("kernel32.dll", "BaseThreadInitThunk", "BaseThreadInitThunk", fpo_one, 0xC),
    FRAME_FN("KERNELBASE.dll", "WaitForSingleObjectEx", "WaitForSingleObjectEx", ebp_frame, 0xC),
    FRAME_FN("KERNELBASE.dll", "WaitForMultipleObjectsEx", "WaitForMultipleObjectsEx", ebp_frame,
             0x14),
};

static const x86_function wow64_native_functions[] = {
    {"ntdll.dll", "NtWaitForSingleObject", "NtWaitForSingleObject", SYNTH_FUNC_SYSCALL, 0x1, 0,
     NULL, 0},
    {"ntdll.dll", "NtWaitForMultipleObjects", "NtWaitForMultipleObjects", SYNTH_FUNC_SYSCALL,
     0x1B, 0, NULL, 0},
    FRAME_FN("ntdll.dll", "LdrInitializeThunk", "LdrInitializeThunk", x64_sub28, 0),
    FRAME_FN("wow64.dll", "whNtWaitForSingleObject", NULL, x64_sub28, 0),
    FRAME_FN("wow64.dll", "whNtWaitForMultipleObjects", NULL, x64_three, 0),
    FRAME_FN("wow64.dll", "Wow64SystemServiceEx", "Wow64SystemServiceEx", x64_rbx_20, 0),
    FRAME_FN("wow64.dll", "RunCpuSimulation", NULL, x64_sub28, 0),
    FRAME_FN("wow64win.dll", "whNtUserGetMessage", NULL, x64_sub28, 0),
    FRAME_FN("wow64cpu.dll", "ServiceNoTurbo", NULL, x64_rbx_20, 0),
};

static void add_wow64_thread(synth_process *p, uint32_t id, const char *role,
                             const synth_frame_spec *frames, size_t count,
                             const synth_frame_spec *native, size_t native_count)
{
    synth_thread_spec t = {.id = id, .role = role, .frames = frames, .frame_count = count,
                           .user_time = 500 + id, .native_frames = native,
                           .native_frame_count = native_count};
    synth_process_add_thread(p, &t);
}

static void add_wow64_threads(synth_process *p)
{
    add_wow64_thread(p, 0x1A2C, "main",
                     FRAMES(AT("ntdll.dll", "NtWaitForSingleObject", 0xc),
                            AT("KERNELBASE.dll", "WaitForSingleObjectEx", 0x98),
                            AT("kernel32.dll", "WaitForSingleObjectExImplementation", 0x75),
                            AT("crashme.exe", "main", 0x40),
                            AT("crashme.exe", "__tmainCRTStartup", 0x10f),
                            AT("kernel32.dll", "BaseThreadInitThunk", 0x12),
                            AT("ntdll.dll", "__RtlUserThreadStart", 0x70),
                            AT("ntdll.dll", "_RtlUserThreadStart", 0x1b)),
                     FRAMES(AT("ntdll.dll", "NtWaitForSingleObject", 0xa),
                            AT("wow64.dll", "whNtWaitForSingleObject", 0x3a),
                            AT("wow64.dll", "Wow64SystemServiceEx", 0xd7),
                            AT("wow64cpu.dll", "ServiceNoTurbo", 0x24),
                            AT("wow64.dll", "RunCpuSimulation", 0x4a),
                            AT("ntdll.dll", "LdrInitializeThunk", 0x3e)));
    add_wow64_thread(p, 0x1B40, "worker",
                     FRAMES(AT("ntdll.dll", "NtWaitForMultipleObjects", 0xc),
                            AT("KERNELBASE.dll", "WaitForMultipleObjectsEx", 0x100),
                            AT("crashme.exe", "worker", 0x30),
                            AT("kernel32.dll", "BaseThreadInitThunk", 0x12),
                            AT("ntdll.dll", "__RtlUserThreadStart", 0x70),
                            AT("ntdll.dll", "_RtlUserThreadStart", 0x1b)),
                     FRAMES(AT("ntdll.dll", "NtWaitForMultipleObjects", 0xa),
                            AT("wow64.dll", "whNtWaitForMultipleObjects", 0xbe),
                            AT("wow64.dll", "Wow64SystemServiceEx", 0xd7),
                            AT("wow64cpu.dll", "ServiceNoTurbo", 0x24),
                            AT("wow64.dll", "RunCpuSimulation", 0x4a),
                            AT("ntdll.dll", "LdrInitializeThunk", 0x3e)));
}

synth_process *synth_build_wow64(void)
{
    synth_process_options o = {.exe_name = "crashme.exe", .process_id = 0x1F40,
                               .process_create_time = 1300000000, .dump_time = 1300000090,
                               .processor_count = 4, .product_type = 1, .os_major = 6,
                               .os_minor = 1, .os_build = 7601, .csd = "Service Pack 1",
                               .seed = 64, .cpu = SYNTH_CPU_X86, .wow64 = true};
    synth_process *p = synth_process_new(&o);
    add_modules(p, wow64_modules, sizeof wow64_modules / sizeof wow64_modules[0],
                wow64_functions, sizeof wow64_functions / sizeof wow64_functions[0], false);
    add_modules(p, wow64_native_modules,
                sizeof wow64_native_modules / sizeof wow64_native_modules[0],
                wow64_native_functions,
                sizeof wow64_native_functions / sizeof wow64_native_functions[0], true);
    add_wow64_threads(p);
    synth_process_finish(p);
    return p;
}
