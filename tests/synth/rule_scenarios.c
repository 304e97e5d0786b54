/*
 * Rule fixtures: one process per scenario, described as threads whose
 * frames are written the way WinDbg shows them ("module!function+0xNN",
 * innermost first), on Windows Server 2008 R2 SP1 x64 with CLR 4.0 and
 * IIS 7.5. Modules are taken from the catalog below as the frames name
 * them (the process's own image first); functions are created as the
 * frames use them: ntdll Nt/Zw and user32 NtUser/ZwUser names are system
 * call stubs, KiUserExceptionDispatcher starts with a machine frame, JIT
 * methods live in a private executable region. What a rule needs beyond
 * stacks (an exception record, handles, memory regions, critical sections
 * in a full dump) is added to every dump by one decorator.
 */
#include "rule_scenarios.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_kit.h"
#include "synth_buf.h"
#include "synth_process.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };


/* Prologs without saves into the home area (a critical-section pointer is
 * planted there, see plant_pointer). Each keeps rsp 16-aligned at calls. */
static const synth_op sub28[] = {ALLOC(0x28)};
static const synth_op rbx_20[] = {PUSH(RBX), ALLOC(0x20)};
static const synth_op fp_frame[] = {PUSH(RBP), PUSH(RBX), ALLOC(0x48), SET_FP(RBP, 0x20)};
static const synth_op xmm_frame[] = {PUSH(RBX), PUSH(RDI), ALLOC(0x48), SAVE_XMM(6, 0x30)};
static const synth_op seven_pushes[] = {PUSH(RBX), PUSH(RBP), PUSH(RSI), PUSH(RDI),
                                        PUSH(R12), PUSH(R13), PUSH(R14), ALLOC(0x50)};
static const synth_op large_frame[] = {PUSH(RBX), PUSH(RSI), ALLOC(0x1F8)};
static const synth_op dispatcher[] = {{SYNTH_OP_MACHFRAME, 0, 0, SYNTH_ENC_AUTO}, ALLOC(0x4F8)};
static const synth_op jit_frame[] = {PUSH(RBP), PUSH(RDI), PUSH(RSI), ALLOC(0x30),
                                     SET_FP(RBP, 0x40)};

static const struct prolog {
    const synth_op *ops;
    size_t count;
} prologs[] = {{OPS(rbx_20)}, {OPS(seven_pushes)}, {OPS(fp_frame)}, {OPS(xmm_frame)},
               {OPS(large_frame)}, {OPS(sub28)}};

#define SYS32 "C:\\Windows\\System32\\"
#define INETSRV "C:\\Windows\\System32\\inetsrv\\"
#define FW64 "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\"
#define GAC64 "C:\\Windows\\Microsoft.NET\\assembly\\GAC_64\\"
#define CONTOSO "C:\\Program Files\\Contoso\\Orders\\"
#define SP1 {6, 1, 7601, 17514}

static const catalog_module modules[] = {
    {"w3wp.exe", INETSRV "w3wp.exe", 0xFF5A0000, 0x4CE7A5F8, {7, 5, 7601, 17514}},
    {"ordersvc.exe", CONTOSO "ordersvc.exe", 0x13F3A0000, 0x5E1F0C2A, {3, 2, 0, 118}},
    {"orderentry.exe", CONTOSO "orderentry.exe", 0x13F800000, 0x5E1F0C31, {3, 2, 0, 118}},
    {"uploadsvc.exe", CONTOSO "uploadsvc.exe", 0x13FB20000, 0x5E1F0C40, {3, 2, 0, 118}},
    {"ntdll.dll", SYS32 "ntdll.dll", 0x77BA0000, 0x4CE7C8F9, SP1},
    {"kernel32.dll", SYS32 "kernel32.dll", 0x77A80000, 0x4CE7C8C6, SP1},
    {"KERNELBASE.dll", SYS32 "KERNELBASE.dll", 0x7FEFDCB0000, 0x4CE7C8C7, SP1},
    {"user32.dll", SYS32 "user32.dll", 0x77980000, 0x4CE7C9F1, SP1},
    {"ole32.dll", SYS32 "ole32.dll", 0x7FEFF0D0000, 0x4CE7C92C, SP1},
    {"rpcrt4.dll", SYS32 "rpcrt4.dll", 0x7FEFEB70000, 0x4CE7C9AD, SP1},
    {"ws2_32.dll", SYS32 "ws2_32.dll", 0x7FEFEE90000, 0x4CE7CA0E, SP1},
    {"mswsock.dll", SYS32 "mswsock.dll", 0x7FEFC9C0000, 0x4CE7C8EA, SP1},
    {"winhttp.dll", SYS32 "winhttp.dll", 0x7FEF9F00000, 0x4CE7C9FA, SP1},
    {"crypt32.dll", SYS32 "crypt32.dll", 0x7FEFD9C0000, 0x4CE7C7A3, SP1},
    {"cryptnet.dll", SYS32 "cryptnet.dll", 0x7FEFA330000, 0x4CE7C7A6, SP1},
    {"msvcr100.dll", SYS32 "msvcr100.dll", 0x7FEF8E00000, 0x4BA1DBBE, {10, 0, 30319, 1}},
    {"httpapi.dll", SYS32 "httpapi.dll", 0x7FEF5640000, 0x4CE7C85C, SP1},
    {"w3dt.dll", INETSRV "w3dt.dll", 0x7FEF5430000, 0x4CE7CA03, {7, 5, 7601, 17514}},
    {"iiscore.dll", INETSRV "iiscore.dll", 0x7FEF5480000, 0x4CE7C8A4, {7, 5, 7601, 17514}},
    {"w3wphost.dll", INETSRV "w3wphost.dll", 0x7FEF5620000, 0x4CE7CA07, {7, 5, 7601, 17514}},
    {"w3tp.dll", INETSRV "w3tp.dll", 0x7FEF5600000, 0x4CE7CA05, {7, 5, 7601, 17514}},
    {"legacyauth.dll", "C:\\inetpub\\modules\\legacyauth.dll", 0x7FEF4F10000, 0x4F3A2B10,
     {1, 4, 0, 7}},
    {"clr.dll", FW64 "clr.dll", 0x7FEF6A30000, 0x4BA21EEB, {4, 0, 30319, 1}},
    {"webengine4.dll", FW64 "webengine4.dll", 0x7FEF5E40000, 0x4BA21F0B, {4, 0, 30319, 1}},
    {"System.Data.dll",
     GAC64 "System.Data\\v4.0_4.0.0.0__b77a5c561934e089\\System.Data.dll", 0x7FEF1B90000,
     0x4BA1DF1C, {4, 0, 30319, 1}},
    {"legacypricing.dll", CONTOSO "legacypricing.dll", 0x7FEF4A00000, 0x3F8E1C22, {1, 0, 0, 3}},
    {"scanplugin.dll", CONTOSO "scanplugin.dll", 0x7FEF4800000, 0x5E1F0C55, {3, 2, 0, 118}},
    {"codec_jpeg.dll", CONTOSO "codec_jpeg.dll", 0x7FEF4700000, 0x5E1F0C56, {3, 2, 0, 118}},
};

enum { JIT_BASE = 0x7FF00150000ull >> 16, JIT_SIZE = 0x40000 };
enum { MAX_FRAMES = 64, MAX_THREADS = 96, NAME_SIZE = 160 };

/* ---- Describing a process --------------------------------------------------- */

typedef struct rule_thread {
    uint32_t id;
    const char *role;
    uint64_t user_time;                  /* 100 ns units */
    const char *const *frames;           /* innermost first */
    size_t count;
    const char *const *tail;             /* frames appended below (the thread start) */
    size_t tail_count;
} rule_thread;

typedef struct parsed_frame {
    char module[NAME_SIZE];              /* the catalog file name, or "jit" */
    char function[NAME_SIZE];
    uint32_t offset;
} parsed_frame;

/* The module whose file name without extension is `stem`; WinDbg writes
 * dots inside a module name as underscores (System_Data). */
static const catalog_module *find_module(const char *stem, size_t length)
{
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        const char *name = modules[i].name, *dot = strrchr(name, '.');
        size_t k = 0;
        while (k < length && name + k < dot &&
               (name[k] == stem[k] || (name[k] == '.' && stem[k] == '_')))
            k++;
        if (k == length && name + k == dot)
            return &modules[i];
    }
    synth_fail("no module %.*s in the rule scenarios' catalog", (int)length, stem);
}

/* "module!function+0xNN" (the module as WinDbg names it, without extension). */
static void parse_frame(const char *text, parsed_frame *out)
{
    const char *bang = strchr(text, '!'), *plus = strrchr(text, '+');
    if (!bang || !plus || plus < bang || (size_t)(plus - bang) >= NAME_SIZE)
        synth_fail("frame '%s' is not module!function+offset", text);
    size_t length = (size_t)(bang - text);
    if (length == 3 && strncmp(text, "jit", 3) == 0)
        snprintf(out->module, sizeof out->module, "jit");
    else
        snprintf(out->module, sizeof out->module, "%s", find_module(text, length)->name);
    snprintf(out->function, sizeof out->function, "%.*s", (int)(plus - bang - 1), bang + 1);
    out->offset = (uint32_t)strtoul(plus + 1, NULL, 16);
}

static size_t parse_thread(const rule_thread *t, parsed_frame *out)
{
    size_t n = 0;
    if (t->count + t->tail_count > MAX_FRAMES)
        synth_fail("thread %u: too many frames", t->id);
    for (size_t k = 0; k < t->count; k++)
        parse_frame(t->frames[k], &out[n++]);
    for (size_t k = 0; k < t->tail_count; k++)
        parse_frame(t->tail[k], &out[n++]);
    return n;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_syscall(const parsed_frame *f)
{
    if (strcmp(f->module, "ntdll.dll") == 0)
        return (starts_with(f->function, "Nt") || starts_with(f->function, "Zw")) &&
               f->function[2] >= 'A' && f->function[2] <= 'Z';
    return strcmp(f->module, "user32.dll") == 0 &&
           (starts_with(f->function, "NtUser") || starts_with(f->function, "ZwUser"));
}

/* Functions of System32 DLLs are exported unless they are C++ members or
 * internal helpers; those of other modules are not. */
static bool is_exported(const parsed_frame *f)
{
    static const char *const internal[] = {"Rtlp", "Ldrp", "_Ldrp", "Tpp", "Werp", "Basep",
                                           "Sock", "__", "Internal", "SoftModal", "DialogBox2",
                                           "UserCallWinProc", "Thread", "GetToSTA", "AppInvoke",
                                           "ComInvoke", "StubInvoke", "SyncStubInvoke",
                                           "Retrieve", "ChainCreate"};
    const char *dot = strrchr(f->module, '.');
    const catalog_module *m = find_module(f->module, (size_t)(dot - f->module));
    if (!starts_with(m->path, SYS32) || strstr(f->function, "::") || strchr(f->function, '$'))
        return false;
    size_t n = strlen(f->function);
    if ((n > 6 && strcmp(f->function + n - 6, "Worker") == 0) ||
        (n > 14 && strcmp(f->function + n - 14, "Implementation") == 0))
        return false;
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++)
        if (starts_with(f->function, internal[i]))
            return false;
    return true;
}

typedef struct plan {
    parsed_frame frames[MAX_THREADS][MAX_FRAMES];
    size_t counts[MAX_THREADS];
    size_t thread_count;
} plan;

/* The smallest offset any frame of the plan uses in `function`: the
 * prolog must end before it. */
static uint32_t smallest_offset(const plan *pl, const char *module, const char *function)
{
    uint32_t smallest = UINT32_MAX;
    for (size_t i = 0; i < pl->thread_count; i++)
        for (size_t k = 0; k < pl->counts[i]; k++) {
            const parsed_frame *f = &pl->frames[i][k];
            if (f->offset < smallest && strcmp(f->module, module) == 0 &&
                strcmp(f->function, function) == 0)
                smallest = f->offset;
        }
    return smallest;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void add_function(synth_process *p, int unit, const plan *pl, const parsed_frame *f,
                         uint32_t *syscall_number)
{
    const synth_text *text = synth_process_text(p, unit);
    if (synth_text_find(text, f->function) >= 0)
        return;
    synth_function fn = {.name = f->function};
    if (strcmp(f->module, "jit") == 0) {
        fn.ops = jit_frame;
        fn.op_count = sizeof jit_frame / sizeof jit_frame[0];
    } else if (is_syscall(f)) {
        fn.kind = SYNTH_FUNC_SYSCALL;
        fn.syscall_number = (*syscall_number)++;
        fn.export_name = f->function;
    } else if (strcmp(f->function, "KiUserExceptionDispatcher") == 0) {
        fn.ops = dispatcher;
        fn.op_count = sizeof dispatcher / sizeof dispatcher[0];
        fn.export_name = f->function;
    } else {
        const struct prolog *pr = &prologs[name_hash(f->function) % 6];
        if (smallest_offset(pl, f->module, f->function) < 0x20)
            pr = &prologs[5]; /* sub rsp, 28h: room for a call site at +0xe */
        fn.ops = pr->ops;
        fn.op_count = pr->count;
        fn.export_name = is_exported(f) ? f->function : NULL;
    }
    synth_process_add_function(p, unit, &fn);
}

typedef struct process_spec {
    const char *exe;
    uint32_t pid;
    uint32_t seed;
    bool workstation;
    const rule_thread *threads;
    size_t thread_count;
} process_spec;

enum { CREATED = 1325412000 }; /* 2012-01-01 10:00 UTC */

static int unit_of(synth_process *p, const char **names, int *units, size_t *count,
                   const char *module)
{
    for (size_t i = 0; i < *count; i++)
        if (strcmp(names[i], module) == 0)
            return units[i];
    int unit;
    if (strcmp(module, "jit") == 0) {
        unit = synth_process_add_jit_region(p, "jit", (uint64_t)JIT_BASE << 16, JIT_SIZE);
    } else {
        const char *dot = strrchr(module, '.');
        const catalog_module *m = find_module(module, (size_t)(dot - module));
        synth_module_spec spec = {m->name, m->path, m->base, m->timestamp,
                                  {m->version[0], m->version[1], m->version[2], m->version[3]},
                                  NULL};
        unit = synth_process_add_module(p, &spec);
    }
    names[*count] = module;
    units[(*count)++] = unit;
    return unit;
}

/* The process of `spec`, not finished. */
static synth_process *describe(const process_spec *spec)
{
    if (spec->thread_count > MAX_THREADS)
        synth_fail("%s: too many threads", spec->exe);
    synth_process_options o = {.exe_name = spec->exe, .process_id = spec->pid,
                               .process_create_time = CREATED,
                               .dump_time = CREATED + 7200,
                               .processor_count = 4, .product_type = spec->workstation ? 1 : 3,
                               .os_major = 6, .os_minor = 1, .os_build = 7601,
                               .csd = "Service Pack 1", .seed = spec->seed};
    synth_process *p = synth_process_new(&o);
    plan *pl = synth_alloc(sizeof *pl);
    pl->thread_count = spec->thread_count;
    for (size_t i = 0; i < spec->thread_count; i++)
        pl->counts[i] = parse_thread(&spec->threads[i], pl->frames[i]);
    const char *names[sizeof modules / sizeof modules[0] + 1];
    int units[sizeof modules / sizeof modules[0] + 1];
    size_t unit_count = 0;
    uint32_t syscall_number = 0x10;
    unit_of(p, names, units, &unit_count, spec->exe);
    for (size_t i = 0; i < pl->thread_count; i++)
        for (size_t k = 0; k < pl->counts[i]; k++) {
            const parsed_frame *f = &pl->frames[i][k];
            add_function(p, unit_of(p, names, units, &unit_count, f->module), pl, f,
                         &syscall_number);
        }
    for (size_t i = 0; i < pl->thread_count; i++) {
        synth_frame_spec frames[MAX_FRAMES];
        for (size_t k = 0; k < pl->counts[i]; k++)
            frames[k] = (synth_frame_spec){pl->frames[i][k].module, pl->frames[i][k].function,
                                           pl->frames[i][k].offset, SYNTH_AT_OFFSET};
        const rule_thread *t = &spec->threads[i];
        synth_thread_spec ts = {.id = t->id, .role = t->role, .frames = frames,
                                .frame_count = pl->counts[i], .user_time = t->user_time};
        synth_process_add_thread(p, &ts);
    }
    free(pl);
    return p;
}

/* ---- What the decorator adds --------------------------------------------------- */

enum { MAX_HANDLES = 16, MAX_SECTIONS = 2, MAX_REGIONS = 32 };

typedef struct critical_section {
    uint64_t address;
    uint8_t bytes[0x80];                 /* RTL_CRITICAL_SECTION, then its DEBUG record */
} critical_section;

typedef struct extras {
    bool has_exception;
    synth_exception exception;
    critical_section sections[MAX_SECTIONS];
    size_t section_count;
    synth_handle handles[MAX_HANDLES];
    synth_handle_info infos[MAX_HANDLES];
    uint8_t payloads[MAX_HANDLES][SYNTH_THREAD_BASIC_INFO_SIZE];
    size_t handle_count;
    uint64_t private_region_size;        /* heap regions of this size ... */
    size_t private_regions;              /* ... this many */
} extras;

static void decorate(synth_dump *d, synth_variant variant, void *context)
{
    const extras *x = context;
    if (x->has_exception)
        synth_dump_set_exception(d, &x->exception);
    for (size_t i = 0; i < x->handle_count; i++)
        synth_dump_add_handle(d, &x->handles[i]);
    for (size_t i = 0; i < x->private_regions; i++) {
        uint64_t base = 0x100000000ull + i * x->private_region_size;
        synth_memory_info mi = {.base = base, .allocation_base = base,
                                .allocation_protect = SYNTH_PAGE_READWRITE,
                                .region_size = x->private_region_size,
                                .state = SYNTH_MEM_COMMIT, .protect = SYNTH_PAGE_READWRITE,
                                .type = SYNTH_MEM_PRIVATE};
        synth_dump_add_memory_info(d, &mi);
    }
    /* The heap that holds the critical sections is only in full dumps. */
    for (size_t i = 0; variant == SYNTH_VARIANT_FULL && i < x->section_count; i++)
        synth_dump_add_memory(d, x->sections[i].address, x->sections[i].bytes,
                              sizeof x->sections[i].bytes);
}

static size_t thread_index(const synth_process *p, uint32_t id)
{
    for (size_t i = 0; i < synth_process_thread_count(p); i++)
        if (synth_process_thread(p, i)->id == id)
            return i;
    synth_fail("no thread %u", id);
}

/* The exception record of a crash on thread `id`, with that thread's
 * context (frame 0 is where it faulted). */
static void set_exception(extras *x, const synth_process *p, uint32_t id, uint32_t code,
                          uint32_t flags, const uint64_t *parameters, uint32_t count)
{
    const synth_stack *s = synth_process_stack(p, thread_index(p, id));
    x->has_exception = true;
    x->exception = (synth_exception){.thread_id = id, .code = code, .flags = flags,
                                     .address = s->context.regs[DT_AMD64_RIP],
                                     .parameter_count = count, .has_context = true,
                                     .context = s->context};
    memcpy(x->exception.parameters, parameters, count * sizeof *parameters);
}

/* An owned RTL_CRITICAL_SECTION (x64: DebugInfo, LockCount, RecursionCount,
 * OwningThread, LockSemaphore, SpinCount) at `address`, with an
 * RTL_CRITICAL_SECTION_DEBUG at +0x40 whose CriticalSection points back.
 * Vista+ LockCount: locked (bit 0 clear), no waiter woken (bit 1 set),
 * waiters = (-1 - LockCount) >> 2. */
static void add_critical_section(extras *x, uint64_t address, uint32_t owner, unsigned waiters)
{
    critical_section *cs = &x->sections[x->section_count++];
    cs->address = address;
    memset(cs->bytes, 0, sizeof cs->bytes);
    synth_put_u64(cs->bytes, address + 0x40);
    synth_put_u32(cs->bytes + 8, (uint32_t)(-2 - (int32_t)(waiters << 2)));
    synth_put_u32(cs->bytes + 0xC, 1);
    synth_put_u64(cs->bytes + 0x10, owner);
    synth_put_u64(cs->bytes + 0x18, 0x1F4);
    synth_put_u64(cs->bytes + 0x20, 0x20007D0);
    synth_put_u64(cs->bytes + 0x48, address);
}

/* Writes the critical section's address into the home area of the waiter's
 * RtlEnterCriticalSection frame (the slot where it spills its argument),
 * where the analysis looks for it. RtlEnterCriticalSection's prolog saves
 * nothing there, so the slot holds filler. */
static void plant_pointer(const synth_process *p, uint32_t waiter, uint64_t address)
{
    size_t i = thread_index(p, waiter);
    const synth_thread_spec *t = synth_process_thread(p, i);
    const synth_stack *s = synth_process_stack(p, i);
    for (size_t k = 0; k + 1 < t->frame_count; k++) {
        if (strcmp(t->frames[k].function, "RtlEnterCriticalSection") != 0)
            continue;
        synth_put_u64(s->bytes + (s->frames[k + 1].sp - s->start), address);
        return;
    }
    synth_fail("thread %u has no RtlEnterCriticalSection frame", waiter);
}

static void add_thread_handle(extras *x, uint64_t handle, uint32_t pid, uint32_t tid,
                              bool exited)
{
    size_t i = x->handle_count++;
    synth_thread_basic_info info = {.exit_status = exited ? 0 : SYNTH_STATUS_PENDING,
                                    .teb = exited ? 0 : 0x7FFFFFD0000ull - 0x2000ull * i,
                                    .process_id = pid, .thread_id = tid, .affinity = 0xF,
                                    .priority = 8, .base_priority = 8};
    synth_thread_basic_info_encode(&info, x->payloads[i]);
    x->infos[i] = (synth_handle_info){SYNTH_HANDLE_INFO_THREAD1, x->payloads[i],
                                      SYNTH_THREAD_BASIC_INFO_SIZE};
    x->handles[i] = (synth_handle){.handle = handle, .type_name = "Thread",
                                   .granted_access = 0x1FFFFF, .handle_count = 1,
                                   .pointer_count = exited ? 1 : 3, .info_count = 1,
                                   .infos = &x->infos[i]};
}

static void add_handle(extras *x, uint64_t handle, const char *type, const char *name)
{
    x->handles[x->handle_count++] = (synth_handle){.handle = handle, .type_name = type,
                                                   .object_name = name,
                                                   .granted_access = 0x1F0003,
                                                   .handle_count = 1, .pointer_count = 2};
}

static synth_process *finish(synth_process *p, extras *x)
{
    synth_process_set_decorator(p, decorate, x);
    synth_process_finish(p);
    return p;
}

/* ---- Shared stacks ------------------------------------------------------------ */

#define LIST(...) (const char *const[]){__VA_ARGS__}, \
    sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
#define NONE NULL, 0

#define THREAD_START "kernel32!BaseThreadInitThunk+0xd", "ntdll!RtlUserThreadStart+0x1d"
#define START LIST(THREAD_START)
/* A native thread-pool work item (Vista+ pool). */
#define NATIVE_POOL LIST("ntdll!TppWorkpExecuteCallback+0x2ba", "ntdll!TppWorkerThread+0x3f8", \
                         THREAD_START)
/* A CLR thread-pool work item. */
#define CLR_POOL LIST("clr!CallDescrWorkerInternal+0x83", \
                      "clr!ManagedPerAppDomainTPCount::DispatchWorkItem+0x1c7", \
                      "clr!ThreadpoolMgr::ExecuteWorkRequest+0x4c", \
                      "clr!ThreadpoolMgr::WorkerThreadStart+0x3b", \
                      "clr!Thread::intermediateThreadProc+0x7d", THREAD_START)
/* A thread started with new Thread(...).Start(). */
#define CLR_THREAD LIST("clr!CallDescrWorkerInternal+0x83", \
                        "clr!ThreadNative::KickOffThreadWorker+0xd3", \
                        "clr!ThreadNative::KickOffThread+0x1e3", \
                        "clr!Thread::intermediateThreadProc+0x7d", THREAD_START)
/* An IIS request in the integrated pipeline, entering managed code. */
#define IIS_REQUEST LIST("jit!System.Web.HttpRuntime.ProcessRequestInternal+0x1b2", \
                         "clr!UMThunkStub+0x67", \
                         "webengine4!W3_MGD_HANDLER::ProcessNotification+0x57", \
                         "iiscore!NOTIFICATION_CONTEXT::RequestDoWork+0x128", \
                         "w3dt!UL_NATIVE_REQUEST::DoWork+0x60", \
                         "w3tp!THREAD_POOL_DATA::ThreadPoolThread+0x34", \
                         "w3tp!THREAD_MANAGER::ThreadManagerThread+0x39", THREAD_START)

static const rule_thread w3wp_main = {
    0x0F14, "main", 310000,
    LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79",
         "w3wphost!W3WP_HOST::WaitForShutdown+0x27", "w3wphost!AppHostInitialize+0x2c4",
         "w3wp!wmain+0x3da", "w3wp!__wmainCRTStartup+0x13b"), START};
static const rule_thread service_main = {
    0x0A10, "main", 150000,
    LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79",
         "ordersvc!wait_for_stop+0x2e", "ordersvc!wmain+0x8c", "ordersvc!__wmainCRTStartup+0x13b"),
    START};
#define POOL_IDLE(id) {(id), "pool-worker-idle", 0, \
    LIST("ntdll!NtWaitForWorkViaWorkerFactory+0xa", "ntdll!TppWorkerThread+0x2c9"), START}
#define W3TP_IDLE(id) {(id), "completion-port-idle", 0, \
    LIST("ntdll!NtRemoveIoCompletion+0xa", "KERNELBASE!GetQueuedCompletionStatus+0x39", \
         "w3tp!THREAD_POOL_DATA::ThreadPoolThread+0x6e", \
         "w3tp!THREAD_MANAGER::ThreadManagerThread+0x39"), START}
#define CLR_PORT_IDLE(id) {(id), "completion-port-idle", 800, \
    LIST("ntdll!NtRemoveIoCompletion+0xa", "KERNELBASE!GetQueuedCompletionStatus+0x39", \
         "clr!ThreadpoolMgr::CompletionPortThreadStart+0x93", \
         "clr!Thread::intermediateThreadProc+0x7d"), START}
#define CLR_WORKER_IDLE(id) {(id), "clr-worker-idle", 900, \
    LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79", \
         "clr!CLREventWaitHelper2+0x38", "clr!CLREventWaitHelper+0x1f", \
         "clr!CLREventBase::WaitEx+0x70", "clr!ThreadpoolMgr::WorkerThreadStart+0x2a9", \
         "clr!Thread::intermediateThreadProc+0x7d"), START}
#define FINALIZER(id) {(id), "finalizer", 4000, \
    LIST("ntdll!NtWaitForMultipleObjects+0xa", "KERNELBASE!WaitForMultipleObjectsEx+0xe8", \
         "clr!WKS::GCHeap::FinalizerThreadStart+0x8b", \
         "clr!Thread::intermediateThreadProc+0x7d"), START}

#define SPEC(exe, pid, seed, threads) \
    (process_spec){(exe), (pid), (seed), false, (threads), sizeof(threads) / sizeof((threads)[0])}

/* ---- .NET: monitors, GC, Monitor.Wait, the pool, databases ---------------------- */

#define MONITOR_WAITER(id) {(id), "monitor-waiter", 2000, \
    LIST("ntdll!NtWaitForMultipleObjects+0xa", "KERNELBASE!WaitForMultipleObjectsEx+0xe8", \
         "clr!Thread::DoAppropriateWaitWorker+0x1da", "clr!Thread::DoAppropriateWait+0x73", \
         "clr!AwareLock::EnterEpilog+0xc8", "clr!AwareLock::Enter+0x72", \
         "clr!JITutil_MonContention+0x14d", \
         "jit!System.Web.HttpApplicationFactory.GetApplicationInstance+0x5a"), IIS_REQUEST}

/* Negative for clr-monitor-contention (2 waiters, not 3),
 * directory-enumeration-stall (a listing while only 2 threads wait on a
 * lock) and aspnet-compilation-lock (a compilation runs; nobody waits for
 * its mutex). */
static synth_process *build_clr_below(void)
{
    const rule_thread threads[] = {
        w3wp_main, POOL_IDLE(0x0F20), POOL_IDLE(0x0F24), CLR_PORT_IDLE(0x0F40), FINALIZER(0x0F48),
        MONITOR_WAITER(0x1000), MONITOR_WAITER(0x1004),
        {0x0360, "directory-enumeration", 950000,
         LIST("ntdll!ZwQueryDirectoryFile+0xa", "KERNELBASE!FindNextFileW+0x12d",
              "jit!IL_STUB_PInvoke(FindNextFile)+0xe0",
              "jit!System.Web.Compilation.PreservedAssemblyEntry.RemoveOldTempFiles+0x95",
              "jit!System.Web.Compilation.PreservedAssemblyEntry.EnsureFirstTimeInit+0x3c",
              "jit!System.Web.HttpApplicationFactory.GetApplicationInstance+0x7e"), IIS_REQUEST},
        {0x0364, "compiling", 12000,
         LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79",
              "jit!System.CodeDom.Compiler.Executor.ExecWaitWithCaptureUnimpersonated+0x2f1",
              "jit!System.CodeDom.Compiler.Executor.ExecWaitWithCapture+0x9c",
              "jit!Microsoft.CSharp.CSharpCodeGenerator.Compile+0x1d6",
              "jit!System.Web.Compilation.AssemblyBuilder.Compile+0x2e8",
              "jit!System.Web.Compilation.BuildManager.CompileWebFile+0x1a4",
              "jit!System.Web.Compilation.BuildManager.GetVPathBuildResultInternal+0x1c2"),
         IIS_REQUEST},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("w3wp.exe", 0x0F10, 11, threads)), &x);
}

#define GC_WAITER(id) {(id), "gc-waiter", 3000, \
    LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79", \
         "clr!CLREventWaitHelper2+0x38", "clr!CLREventWaitHelper+0x1f", \
         "clr!CLREventBase::WaitEx+0x70", "clr!WKS::GCHeap::WaitUntilGCComplete+0x32", \
         "clr!Thread::RareDisablePreemptiveGC+0x118", "clr!JIT_RareDisableHelperWorker+0x2b", \
         "clr!JIT_RareDisableHelper+0x23", "jit!Contoso.Orders.OrderRepository.Load+0xb4", \
         "jit!Contoso.Orders.OrderProcessor.Handle+0x61"), CLR_POOL}

/* clr-gc-wait positive: 4 pool threads wait for a workstation GC that the
 * allocating thread runs. */
static synth_process *build_gc_wait(void)
{
    const rule_thread threads[] = {
        service_main, CLR_PORT_IDLE(0x0A40), FINALIZER(0x0A48),
        GC_WAITER(0x0B00), GC_WAITER(0x0B04), GC_WAITER(0x0B08), GC_WAITER(0x0B0C),
        {0x0B10, "gc-running", 6000,
         LIST("clr!WKS::gc_heap::mark_object_simple+0x1c",
              "clr!WKS::gc_heap::mark_phase+0x2b3", "clr!WKS::gc_heap::gc1+0x9e",
              "clr!WKS::gc_heap::garbage_collect+0x2c7",
              "clr!WKS::GCHeap::GarbageCollectGeneration+0x14e",
              "clr!WKS::gc_heap::try_allocate_more_space+0x25f",
              "clr!WKS::GCHeap::Alloc+0x7e", "clr!JIT_NewArr1+0x3ac",
              "jit!Contoso.Orders.InvoiceBuilder.Render+0x13d",
              "jit!Contoso.Orders.OrderProcessor.Handle+0x9f"), CLR_POOL},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 12, threads)), &x);
}

#define SVR_GC_IDLE(id) {(id), "gc-thread-idle", 500, \
    LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79", \
         "clr!CLREventWaitHelper2+0x38", "clr!CLREventWaitHelper+0x1f", \
         "clr!CLREventBase::WaitEx+0x70", "clr!SVR::gc_heap::gc_thread_function+0x5c", \
         "clr!SVR::gc_heap::gc_thread_stub+0x7a"), START}

/* clr-gc-wait negative: server GC threads at rest, and only 2 threads
 * waiting for a (short) collection. */
static synth_process *build_gc_at_rest(void)
{
    const rule_thread threads[] = {
        service_main, SVR_GC_IDLE(0x0A20), SVR_GC_IDLE(0x0A24), SVR_GC_IDLE(0x0A28),
        SVR_GC_IDLE(0x0A2C), CLR_WORKER_IDLE(0x0A30), FINALIZER(0x0A48),
        GC_WAITER(0x0B00), GC_WAITER(0x0B04),
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 13, threads)), &x);
}

#define MONITOR_WAIT "ntdll!NtWaitForMultipleObjects+0xa", \
    "KERNELBASE!WaitForMultipleObjectsEx+0xe8", "clr!WaitForMultipleObjectsEx_SO_TOLERANT+0x62", \
    "clr!Thread::DoAppropriateWaitWorker+0x1da", "clr!Thread::DoAppropriateWait+0x73", \
    "clr!CLREventBase::WaitEx+0xc0", "clr!Thread::Block+0x27", "clr!SyncBlock::Wait+0x170", \
    "clr!ObjectNative::WaitTimeout+0xe1"
#define CONSUMER(id) {(id), "monitor-wait-consumer", 1500, \
    LIST(MONITOR_WAIT, "jit!Contoso.Orders.OrderQueue.Take+0x8e", \
         "jit!Contoso.Orders.OrderConsumer.Run+0x52"), CLR_THREAD}

/* monitor-wait positive (and threadpool-starvation negative): 3 dedicated
 * consumer threads wait for work in Monitor.Wait; the pool's workers rest. */
static synth_process *build_monitor_wait(void)
{
    const rule_thread threads[] = {
        service_main, CLR_WORKER_IDLE(0x0A20), CLR_WORKER_IDLE(0x0A24), CLR_WORKER_IDLE(0x0A28),
        CLR_WORKER_IDLE(0x0A2C), CLR_PORT_IDLE(0x0A40), FINALIZER(0x0A48),
        CONSUMER(0x0C00), CONSUMER(0x0C04), CONSUMER(0x0C08),
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 14, threads)), &x);
}

#define SYNC_OVER_ASYNC(id) {(id), "pool-blocked", 1200, \
    LIST(MONITOR_WAIT, "jit!System.Threading.ManualResetEventSlim.Wait+0x2c3", \
         "jit!System.Threading.Tasks.Task.SpinThenBlockingWait+0xdb", \
         "jit!System.Threading.Tasks.Task.InternalWait+0x1c4", \
         "jit!System.Threading.Tasks.Task`1.GetResultCore+0x4a", \
         "jit!Contoso.Orders.InventoryClient.GetStock+0x77", \
         "jit!Contoso.Orders.OrderProcessor.Handle+0x9f"), CLR_POOL}

/* threadpool-starvation positive (and monitor-wait negative: its waiters
 * are explained by the starvation): 12 pool threads block on .Result. */
static synth_process *build_starvation(void)
{
    const rule_thread threads[] = {
        service_main, CLR_PORT_IDLE(0x0A40), FINALIZER(0x0A48),
        SYNC_OVER_ASYNC(0x0D00), SYNC_OVER_ASYNC(0x0D04), SYNC_OVER_ASYNC(0x0D08),
        SYNC_OVER_ASYNC(0x0D0C), SYNC_OVER_ASYNC(0x0D10), SYNC_OVER_ASYNC(0x0D14),
        SYNC_OVER_ASYNC(0x0D18), SYNC_OVER_ASYNC(0x0D1C), SYNC_OVER_ASYNC(0x0D20),
        SYNC_OVER_ASYNC(0x0D24), SYNC_OVER_ASYNC(0x0D28), SYNC_OVER_ASYNC(0x0D2C),
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 15, threads)), &x);
}

#define SQL_CALLER "jit!System.Data.SqlClient.TdsParserStateObject.ReadSniSyncOverAsync+0x83", \
    "jit!System.Data.SqlClient.TdsParserStateObject.TryReadNetworkPacket+0x4b", \
    "jit!System.Data.SqlClient.TdsParser.TryRun+0x2a1", \
    "jit!System.Data.SqlClient.SqlDataReader.TryConsumeMetaData+0x3b", \
    "jit!System.Data.SqlClient.SqlCommand.RunExecuteReaderTds+0x1e5", \
    "jit!System.Data.SqlClient.SqlCommand.ExecuteReader+0x78", \
    "jit!Contoso.Orders.OrderRepository.Load+0xb4"
#define SQL_WAITER(id) {(id), "database-wait", 2500, \
    LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79", \
         "System_Data!SNIReadSyncOverAsync+0x6f", SQL_CALLER), IIS_REQUEST}

/* database-wait positive: request threads wait for SQL Server's answer. */
static synth_process *build_database_wait(void)
{
    const rule_thread threads[] = {
        w3wp_main, POOL_IDLE(0x0F20), W3TP_IDLE(0x0F40), CLR_PORT_IDLE(0x0F44), FINALIZER(0x0F48),
        SQL_WAITER(0x1100), SQL_WAITER(0x1104), SQL_WAITER(0x1108),
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("w3wp.exe", 0x0F10, 16, threads)), &x);
}

#define SQL_READER(id) {(id), "database-reading", 4000, \
    LIST("System_Data!SNIPacketGetData+0x1d", "System_Data!SNIReadSyncOverAsync+0xa2", \
         SQL_CALLER), IIS_REQUEST}

/* database-wait negative: the answer has arrived; the request threads are
 * running, copying packets (the same stacks, not waiting). */
static synth_process *build_database_reading(void)
{
    const rule_thread threads[] = {
        w3wp_main, POOL_IDLE(0x0F20), W3TP_IDLE(0x0F40), CLR_PORT_IDLE(0x0F44), FINALIZER(0x0F48),
        SQL_READER(0x1100), SQL_READER(0x1104),
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("w3wp.exe", 0x0F10, 17, threads)), &x);
}

/* ---- Crashes ----------------------------------------------------------------- */

#define UPLOAD_WORKER LIST("uploadsvc!handle_upload+0x8e", "uploadsvc!worker_main+0x4a", \
                           THREAD_START)
static const rule_thread upload_main = {
    0x0B14, "main", 90000,
    LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79",
         "uploadsvc!wmain+0x8c", "uploadsvc!__wmainCRTStartup+0x13b"), START};

/* fail-fast positive: /GS found the stack cookie of parse_multipart_header
 * overwritten; __report_gsfailure raised 0xC0000409 with
 * FAST_FAIL_STACK_COOKIE_CHECK_FAILURE (2). */
static synth_process *build_fail_fast(void)
{
    const rule_thread threads[] = {
        upload_main, POOL_IDLE(0x0B20),
        {0x0B30, "gs-failure", 2000,
         LIST("uploadsvc!__report_gsfailure+0x1a", "uploadsvc!parse_multipart_header+0x1c3"),
         UPLOAD_WORKER},
    };
    static extras x;
    x = (extras){0};
    synth_process *p = describe(&SPEC("uploadsvc.exe", 0x0B10, 18, threads));
    finish(p, &x);
    static const uint64_t subcode[] = {2};
    set_exception(&x, p, 0x0B30, 0xC0000409, 1, subcode, 1);
    return p;
}

/* heap-corruption positive: free() of a block whose header was overwritten;
 * the heap stops the process with 0xC0000374 in RtlReportCriticalFailure. */
static synth_process *build_heap_corruption(void)
{
    const rule_thread threads[] = {
        upload_main, POOL_IDLE(0x0B20),
        {0x0B30, "heap-corruption", 2000,
         LIST("ntdll!RtlReportCriticalFailure+0x2f", "ntdll!RtlpReportHeapFailure+0x26",
              "ntdll!RtlpHeapHandleError+0x12", "ntdll!RtlpLogHeapFailure+0xa4",
              "ntdll!RtlpFreeHeap+0x1a4", "ntdll!RtlFreeHeap+0x1a", "msvcr100!free+0x1c",
              "uploadsvc!release_part+0x22"), UPLOAD_WORKER},
    };
    static extras x;
    x = (extras){0};
    synth_process *p = describe(&SPEC("uploadsvc.exe", 0x0B10, 19, threads));
    finish(p, &x);
    static const uint64_t heap[] = {0x2A0000};
    set_exception(&x, p, 0x0B30, 0xC0000374, 1, heap, 1);
    return p;
}

/* clr-unhandled-exception positive: an InvalidOperationException nobody
 * catches on a dedicated thread (0xE0434352 with the HRESULT, the object
 * and clr.dll's base). */
static synth_process *build_clr_unhandled(void)
{
    const rule_thread threads[] = {
        service_main, CLR_WORKER_IDLE(0x0A20), FINALIZER(0x0A48),
        {0x0C00, "throwing", 5000,
         LIST("KERNELBASE!RaiseException+0x3d", "clr!RaiseTheExceptionInternalOnly+0x2fe",
              "clr!IL_Throw+0x114", "jit!Contoso.Orders.OrderValidator.Validate+0x1f3",
              "jit!Contoso.Orders.OrderConsumer.Run+0x52"), CLR_THREAD},
    };
    static extras x;
    x = (extras){0};
    synth_process *p = describe(&SPEC("ordersvc.exe", 0x0A0C, 20, threads));
    finish(p, &x);
    static const uint64_t clr[] = {0x80131509, 0x2A53F10, 0, 0, 0x7FEF6A30000};
    set_exception(&x, p, 0x0C00, 0xE0434352, 1, clr, 5);
    return p;
}

#define FAULTING_WORKER LIST("ordersvc!price_order+0x44", "ordersvc!worker_main+0x4a", \
                             THREAD_START)

/* hung-in-exception-handling positive: an access violation went unhandled;
 * the thread waits in WER's fault reporting (a hang dump: no exception
 * stream). */
static synth_process *build_wer(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20),
        {0x0A60, "reporting-fault", 3000,
         LIST("ntdll!NtWaitForMultipleObjects+0xa", "KERNELBASE!WaitForMultipleObjectsEx+0xe8",
              "kernel32!WaitForMultipleObjectsExImplementation+0xb3",
              "kernel32!WerpReportFaultInternal+0x215", "kernel32!WerpReportFault+0x77",
              "kernel32!BasepReportFault+0x1f", "kernel32!UnhandledExceptionFilter+0x1fc",
              "ntdll!RtlUserThreadStart$filt$0+0x3e", "ntdll!__C_specific_handler+0x8c",
              "ntdll!RtlpExecuteHandlerForException+0xd", "ntdll!RtlDispatchException+0x45a",
              "ntdll!KiUserExceptionDispatcher+0x2e", "ordersvc!apply_discount+0x17"),
         FAULTING_WORKER},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 21, threads)), &x);
}

/* hung-in-exception-handling negative: a first-chance exception is being
 * dispatched; the process's vectored handler logs it and waits for the log
 * file's event. Nothing is unhandled. */
static synth_process *build_first_chance(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20),
        {0x0A60, "first-chance-logging", 3000,
         LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79",
              "ordersvc!log_first_chance+0x5c", "ordersvc!vectored_logger+0x2e",
              "ntdll!RtlpCallVectoredHandlers+0xa8", "ntdll!RtlDispatchException+0x45",
              "ntdll!KiUserExceptionDispatcher+0x2e", "ordersvc!parse_quantity+0x1b"),
         FAULTING_WORKER},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 22, threads)), &x);
}

/* ---- IIS --------------------------------------------------------------------------- */

/* iis-shutdown-close-request-queue negative: the same close of the request
 * queue (seed 000's stack) while the worker process still has its main
 * thread and pools: an ordinary shutdown in progress. */
static synth_process *build_iis_shutdown_in_progress(void)
{
    const rule_thread threads[] = {
        w3wp_main, POOL_IDLE(0x0F20), POOL_IDLE(0x0F24), W3TP_IDLE(0x0F40), W3TP_IDLE(0x0F44),
        {0x02CC, "shutdown", 120000,
         LIST("ntdll!ZwClose+0xa", "KERNELBASE!CloseHandle+0x13",
              "kernel32!CloseHandleImplementation+0x3d", "httpapi!HttpCloseRequestQueue+0xa",
              "w3dt!UL_APP_POOL::Cleanup+0x62", "w3dt!WP_CONTEXT::CleanupOutstandingRequests+0x83",
              "iiscore!W3_SERVER::StopListen+0x4a",
              "iiscore!IISCORE_PROTOCOL_MANAGER::StopListenerChannel+0x5a",
              "w3wphost!LISTENER_CHANNEL_STOP_WORKITEM::ExecuteWorkItem+0x7b",
              "w3wphost!W3WP_HOST::ExecuteWorkItem+0xf", "ntdll!RtlpTpWorkCallback+0x16b",
              "ntdll!TppWorkerThread+0x5ff"), START},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("w3wp.exe", 0x0F10, 23, threads)), &x);
}

#define MESSAGE_BOX "user32!ZwUserWaitMessage+0xa", "user32!DialogBox2+0x274", \
    "user32!InternalDialogBox+0x135", "user32!SoftModalMessageBox+0x9b4", \
    "user32!MessageBoxWorker+0x31d", "user32!MessageBoxTimeoutW+0xb3", "user32!MessageBoxW+0x4e"

/* messagebox-in-service positive: a native IIS module shows an error box
 * on a request thread of w3wp.exe. */
static synth_process *build_messagebox_w3wp(void)
{
    const rule_thread threads[] = {
        w3wp_main, POOL_IDLE(0x0F20), W3TP_IDLE(0x0F40),
        {0x1200, "message-box", 900,
         LIST(MESSAGE_BOX, "legacyauth!ReportConfigError+0x3c",
              "legacyauth!CLegacyAuthModule::OnAuthenticateRequest+0x9a",
              "iiscore!NOTIFICATION_CONTEXT::RequestDoWork+0x128",
              "w3dt!UL_NATIVE_REQUEST::DoWork+0x60", "w3tp!THREAD_POOL_DATA::ThreadPoolThread+0x34",
              "w3tp!THREAD_MANAGER::ThreadManagerThread+0x39"), START},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("w3wp.exe", 0x0F10, 24, threads)), &x);
}

#define UI_LOOP "user32!UserCallWinProcCheckWow+0x1ad", "user32!DispatchMessageWorker+0x3b5", \
    "orderentry!wWinMain+0xc8", "orderentry!__tmainCRTStartup+0x15a"
#define DESKTOP(threads) \
    (process_spec){"orderentry.exe", 0x0E2C, 0, true, (threads), \
                   sizeof(threads) / sizeof((threads)[0])}

/* messagebox-in-service negative: the same message box in a desktop
 * application, where the user sees and closes it. */
static synth_process *build_messagebox_desktop(void)
{
    const rule_thread threads[] = {
        {0x0E30, "ui-message-box", 2000,
         LIST(MESSAGE_BOX, "orderentry!ConfirmDelete+0x3c", "orderentry!MainWndProc+0x1a2",
              UI_LOOP), START},
        POOL_IDLE(0x0E40),
    };
    static extras x;
    x = (extras){0};
    process_spec spec = DESKTOP(threads);
    spec.seed = 25;
    return finish(describe(&spec), &x);
}

/* cross-thread-sendmessage positive: an import worker reports progress
 * with SendMessage to the UI thread's window, while the UI thread
 * recalculates. */
static synth_process *build_sendmessage(void)
{
    const rule_thread threads[] = {
        {0x0E30, "ui-busy", 9000,
         LIST("orderentry!RecalculateTotals+0x2b", "orderentry!MainWndProc+0x1f0", UI_LOOP),
         START},
        {0x0E34, "sender", 700,
         LIST("user32!ZwUserMessageCall+0xa", "user32!SendMessageWorker+0x73",
              "user32!SendMessageW+0x5c", "orderentry!ReportProgress+0x31",
              "orderentry!ImportWorker+0x8e"), START},
        POOL_IDLE(0x0E40),
    };
    static extras x;
    x = (extras){0};
    process_spec spec = DESKTOP(threads);
    spec.seed = 26;
    return finish(describe(&spec), &x);
}

/* cross-thread-sendmessage negative: SendMessage to the thread's own
 * window calls the window procedure directly; a notification thread waits
 * in its message loop. */
static synth_process *build_sendmessage_same_thread(void)
{
    const rule_thread threads[] = {
        {0x0E30, "ui-own-window", 9000,
         LIST("orderentry!StatusWndProc+0x24", "user32!UserCallWinProcCheckWow+0x1ad",
              "user32!SendMessageWorker+0x4c6", "user32!SendMessageW+0x5c",
              "orderentry!UpdateStatus+0x2a", "orderentry!MainWndProc+0x230", UI_LOOP), START},
        {0x0E34, "message-loop", 300,
         LIST("user32!ZwUserGetMessage+0xa", "user32!GetMessageW+0x34",
              "orderentry!NotifyThread+0x3e"), START},
        POOL_IDLE(0x0E40),
    };
    static extras x;
    x = (extras){0};
    process_spec spec = DESKTOP(threads);
    spec.seed = 27;
    return finish(describe(&spec), &x);
}

/* ---- Network, certificates, sleeps ---------------------------------------------- */

#define WORKER LIST("ordersvc!worker_main+0x4a", THREAD_START)
#define RECV(id) {(id), "socket-recv", 600, \
    LIST("ntdll!NtWaitForSingleObject+0xa", "mswsock!SockWaitForSingleObject+0x10a", \
         "mswsock!WSPRecv+0x65b", "ws2_32!recv+0x13a", "ordersvc!read_reply+0x4f", \
         "ordersvc!query_inventory+0x73"), WORKER}

/* network-wait positive: two threads wait for an inventory server's reply,
 * one for an HTTP response. */
static synth_process *build_network_wait(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20), RECV(0x0A70), RECV(0x0A74),
        {0x0A78, "winhttp-receive", 600,
         LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79",
              "winhttp!WinHttpReceiveResponse+0x8d", "ordersvc!post_invoice+0x11c"), WORKER},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 28, threads)), &x);
}

#define LISTENER(id) {(id), "socket-accept", 100, \
    LIST("ntdll!NtWaitForSingleObject+0xa", "mswsock!SockWaitForSingleObject+0x10a", \
         "mswsock!WSPAccept+0x2e1", "ws2_32!WSAAccept+0xd5", "ws2_32!accept+0x16", \
         "ordersvc!listener_main+0x3c"), START}

/* network-wait negative: listening sockets wait for clients (a server at
 * rest) and a single call waits for a reply. */
static synth_process *build_network_listening(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20), LISTENER(0x0A50), LISTENER(0x0A54), RECV(0x0A70),
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 29, threads)), &x);
}

#define CHAIN_BOTTOM "crypt32!CCertChainEngine::CreateChainContextFromPathGraph+0x236", \
    "crypt32!CCertChainEngine::GetChainContext+0x8e", "crypt32!CertGetCertificateChain+0x97", \
    "ordersvc!verify_peer_certificate+0x81", "ordersvc!tls_handshake+0x1d2"
#define CRL_FETCH(id) {(id), "crl-download", 400, \
    LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79", \
         "cryptnet!CryptRetrieveObjectByUrlWithTimeout+0x1a3", \
         "cryptnet!CryptRetrieveObjectByUrlW+0xc3", \
         "cryptnet!RetrieveObjectByUrlValidForSubject+0x7e", \
         "cryptnet!MicrosoftCertDllVerifyRevocation+0x5b1", \
         "crypt32!CertVerifyRevocation+0x1f6", \
         "crypt32!CChainPathObject::CalculateRevocationStatus+0x1c9", \
         "crypt32!CChainPathObject::CalculateAdditionalStatus+0x152", CHAIN_BOTTOM), WORKER}

/* crl-retrieval positive: TLS handshakes wait for a CRL download during
 * chain building. */
static synth_process *build_crl(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20), CRL_FETCH(0x0A80), CRL_FETCH(0x0A84),
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 30, threads)), &x);
}

/* crl-retrieval negative: a chain being built from cached certificates
 * (running, no download). */
static synth_process *build_chain_building(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20),
        {0x0A80, "chain-building", 1200,
         LIST("crypt32!CChainPathObject::FindAndAddIssuers+0x2a",
              "crypt32!CChainPathObject::CChainPathObject+0x1b3",
              "crypt32!ChainCreatePathObject+0x7c", CHAIN_BOTTOM), WORKER},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 31, threads)), &x);
}

#define POLLER(id) {(id), "pool-sleeping", 300, \
    LIST("ntdll!NtDelayExecution+0xa", "KERNELBASE!SleepEx+0xab", \
         "ordersvc!poll_shipment_status+0x5e", "ordersvc!shipment_work_callback+0x22"), \
    NATIVE_POOL}

/* sleep-on-worker positive: pool work items poll with Sleep. */
static synth_process *build_sleep_on_pool(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20), POOL_IDLE(0x0A24), POLLER(0x0A90), POLLER(0x0A94),
        POLLER(0x0A98),
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 32, threads)), &x);
}

/* sleep-on-worker negative: dedicated housekeeping threads sleep between
 * rounds; the pool is at rest. */
static synth_process *build_sleep_dedicated(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20), POOL_IDLE(0x0A24), POOL_IDLE(0x0A28),
        {0x0A90, "heartbeat", 200,
         LIST("ntdll!NtDelayExecution+0xa", "KERNELBASE!SleepEx+0xab",
              "ordersvc!heartbeat_main+0x41"), START},
        {0x0A94, "cache-trimmer", 200,
         LIST("ntdll!NtDelayExecution+0xa", "KERNELBASE!SleepEx+0xab",
              "ordersvc!cache_trim_main+0x67"), START},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 33, threads)), &x);
}

/* ---- COM, RPC and critical sections ------------------------------------------------ */

#define PROXY_CALL "ole32!CRpcChannelBuffer::SendReceive2+0x11b", \
    "ole32!CAptRpcChnl::SendReceive+0x52", "ole32!CCtxComChnl::SendReceive+0x68", \
    "ole32!NdrExtpProxySendReceive+0x45", "rpcrt4!NdrpClientCall3+0x2e2", \
    "rpcrt4!NdrClientCall3+0xf2", "ole32!ObjectStublessClient+0x11d", "ole32!ObjectStubless+0x42"
/* An out-of-process COM call from the MTA: the reply comes over ALPC. */
#define ALPC_CALL "ntdll!ZwAlpcSendWaitReceivePort+0xa", "rpcrt4!LRPC_CCALL::SendReceive+0x156", \
    "rpcrt4!I_RpcSendReceive+0x28", "ole32!ThreadSendReceive+0x7b", \
    "ole32!CRpcChannelBuffer::SwitchAptAndDispatchCall+0xa7", PROXY_CALL
#define STOCK_CALLER(id) {(id), "com-call-out-of-process", 500, \
    LIST(ALPC_CALL, "ordersvc!reserve_stock+0x3a"), WORKER}
#define CS_WAITER(id, caller) {(id), "critical-section-waiter", 400, \
    LIST("ntdll!NtWaitForSingleObject+0xa", "ntdll!RtlpWaitOnCriticalSection+0xe8", \
         "ntdll!RtlEnterCriticalSection+0xd1", caller, "ordersvc!price_order+0x5d"), WORKER}

enum { STOCK_LOCK = 0x30A1C2C0, CONFIG_LOCK = 0x30A1C8C0 };

/* outbound-rpc-wait positive; negative for sta-serialization (the same
 * channel, SwitchAptAndDispatchCall, but to another process: no STA) and
 * com-call-holding-lock (a critical section is held, by a thread reading a
 * file; the COM callers hold no lock). Full dump: the section is in memory. */
static synth_process *build_com_mta_calls(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20), STOCK_CALLER(0x0AA0), STOCK_CALLER(0x0AA4),
        STOCK_CALLER(0x0AA8),
        {0x0AB0, "lock-owner-reading", 800,
         LIST("ntdll!NtReadFile+0xa", "KERNELBASE!ReadFile+0x73", "ordersvc!load_stock_file+0x5d",
              "ordersvc!refresh_stock+0x31"), WORKER},
        CS_WAITER(0x0AB4, "ordersvc!get_stock_level+0x27"),
        CS_WAITER(0x0AB8, "ordersvc!get_stock_level+0x27"),
    };
    static extras x;
    x = (extras){0};
    synth_process *p = finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 34, threads)), &x);
    add_critical_section(&x, STOCK_LOCK, 0x0AB0, 2);
    plant_pointer(p, 0x0AB4, STOCK_LOCK);
    plant_pointer(p, 0x0AB8, STOCK_LOCK);
    return p;
}

/* com-call-holding-lock positive: the owner of the stock lock makes an
 * out-of-process COM call; two threads wait for the lock. */
static synth_process *build_com_call_holding_lock(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20),
        {0x0AB0, "lock-owner-calling", 800,
         LIST(ALPC_CALL, "ordersvc!refresh_stock_remote+0x6b", "ordersvc!refresh_stock+0x48"),
         WORKER},
        CS_WAITER(0x0AB4, "ordersvc!get_stock_level+0x27"),
        CS_WAITER(0x0AB8, "ordersvc!get_stock_level+0x27"),
    };
    static extras x;
    x = (extras){0};
    synth_process *p = finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 35, threads)), &x);
    add_critical_section(&x, STOCK_LOCK, 0x0AB0, 2);
    plant_pointer(p, 0x0AB4, STOCK_LOCK);
    plant_pointer(p, 0x0AB8, STOCK_LOCK);
    return p;
}

#define STA_CALLER(id) {(id), "sta-caller", 500, \
    LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79", \
         "ole32!GetToSTA+0x8a", "ole32!CRpcChannelBuffer::SwitchAptAndDispatchCall+0x13b", \
         PROXY_CALL, "ordersvc!price_with_legacy_engine+0x4c"), WORKER}

/* sta-serialization positive (outbound-rpc-wait negative: in-process
 * calls, no ALPC): four MTA threads call an apartment-threaded pricing
 * engine whose STA thread is busy with a call. */
static synth_process *build_com_sta_calls(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20),
        {0x0A30, "sta-busy", 7000,
         LIST("legacypricing!CPricingEngine::Compute+0x38", "rpcrt4!Invoke+0x65",
              "rpcrt4!NdrStubCall2+0x32a", "ole32!CStdStubBuffer_Invoke+0x5b",
              "ole32!SyncStubInvoke+0x5e", "ole32!StubInvoke+0xdb",
              "ole32!CCtxComChnl::ContextInvoke+0x190", "ole32!AppInvoke+0xc2",
              "ole32!ComInvokeWithLockAndIPID+0x52b", "ole32!ThreadDispatch+0x29",
              "ole32!ThreadWndProc+0xaa", "user32!UserCallWinProcCheckWow+0x1ad",
              "user32!DispatchMessageWorker+0x3b5", "ordersvc!sta_main+0x71"), START},
        STA_CALLER(0x0AC0), STA_CALLER(0x0AC4), STA_CALLER(0x0AC8), STA_CALLER(0x0ACC),
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 36, threads)), &x);
}

/* orphaned-critical-section positive: the configuration lock's owner
 * (thread 0xB5C) exited without leaving it; three threads wait forever. */
static synth_process *build_orphaned_cs(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20), POOL_IDLE(0x0A24),
        CS_WAITER(0x0AB4, "ordersvc!read_config_value+0x33"),
        CS_WAITER(0x0AB8, "ordersvc!read_config_value+0x33"),
        CS_WAITER(0x0ABC, "ordersvc!read_config_value+0x33"),
    };
    static extras x;
    x = (extras){0};
    synth_process *p = finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 37, threads)), &x);
    add_critical_section(&x, CONFIG_LOCK, 0x0B5C, 3);
    plant_pointer(p, 0x0AB4, CONFIG_LOCK);
    plant_pointer(p, 0x0AB8, CONFIG_LOCK);
    plant_pointer(p, 0x0ABC, CONFIG_LOCK);
    return p;
}

/* ---- The loader ------------------------------------------------------------------ */

#define LOADER_WAIT "ntdll!NtWaitForSingleObject+0xa", "ntdll!RtlpWaitOnCriticalSection+0xe8", \
    "ntdll!RtlEnterCriticalSection+0xd1", "ntdll!LdrLockLoaderLock+0x6d"
#define LOAD_CODEC "ntdll!LdrLoadDll+0x82", "KERNELBASE!LoadLibraryExW+0x1f7", \
    "ordersvc!load_codec+0x2a", "ordersvc!render_thumbnail+0x5e"
#define LOADER_WAITER(id) {(id), "loader-lock-waiter", 300, LIST(LOADER_WAIT, LOAD_CODEC), WORKER}

/* loader-lock positive (loadlibrary-serialization negative: a DllMain runs,
 * so the loader lock is the finding): scanplugin's DllMain waits for a
 * thread it started, which cannot attach; two other loads wait. */
static synth_process *build_loader_dllmain(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20),
        {0x0AD0, "dllmain", 400,
         LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79",
              "scanplugin!start_scanner_and_wait+0x52", "scanplugin!DllMain+0x3e",
              "scanplugin!__DllMainCRTStartup+0x7e", "ntdll!LdrpCallInitRoutine+0x14",
              "ntdll!LdrpRunInitializeRoutines+0x1fe", "ntdll!LdrpLoadDll+0x231",
              "ntdll!LdrLoadDll+0xa4", "KERNELBASE!LoadLibraryExW+0x1f7",
              "ordersvc!load_scanner+0x2a"), WORKER},
        LOADER_WAITER(0x0AD4), LOADER_WAITER(0x0AD8),
        {0x0ADC, "thread-attach-waiter", 0,
         LIST("ntdll!NtWaitForSingleObject+0xa", "ntdll!RtlpWaitOnCriticalSection+0xe8",
              "ntdll!RtlEnterCriticalSection+0xd1", "ntdll!LdrpInitializeThread+0x6a",
              "ntdll!_LdrpInitialize+0x8a", "ntdll!LdrInitializeThunk+0xe"), NONE},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 38, threads)), &x);
}

/* loadlibrary-serialization positive (loader-lock negative: no DllMain
 * runs): three request threads load a codec at once; one maps it, two wait
 * for the loader lock. */
static synth_process *build_loader_parallel(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20),
        {0x0AD0, "mapping-dll", 500,
         LIST("ntdll!NtMapViewOfSection+0xa", "ntdll!LdrpMapViewOfSection+0xc1",
              "ntdll!LdrpFindOrMapDll+0x3c2", "ntdll!LdrpLoadDll+0x187", LOAD_CODEC), WORKER},
        LOADER_WAITER(0x0AD4), LOADER_WAITER(0x0AD8),
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 39, threads)), &x);
}

/* ---- Handles and memory -------------------------------------------------------- */

#define JOB_WAITER(id) {(id), "job-waiter", 200, \
    LIST("ntdll!NtWaitForSingleObject+0xa", "KERNELBASE!WaitForSingleObjectEx+0x79", \
         "ordersvc!wait_for_job+0x2c"), WORKER}

/* leaked-exited-thread-handles negative: 4 handles to exited threads (under
 * the threshold of 5) beside live thread handles and others. */
static synth_process *build_handles_below(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20), JOB_WAITER(0x0AE0), JOB_WAITER(0x0AE4),
    };
    static extras x;
    x = (extras){0};
    synth_process *p = finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 40, threads)), &x);
    static const uint32_t exited[] = {0x0B60, 0x0B64, 0x0B68, 0x0B6C};
    for (size_t i = 0; i < sizeof exited / sizeof exited[0]; i++)
        add_thread_handle(&x, 0x200 + 4 * i, 0x0A0C, exited[i], true);
    add_thread_handle(&x, 0x220, 0x0A0C, 0x0AE0, false);
    add_thread_handle(&x, 0x224, 0x0A0C, 0x0AE4, false);
    add_thread_handle(&x, 0x228, 0x0A0C, 0x0A20, false);
    add_handle(&x, 0x1C4, "Event", NULL);
    add_handle(&x, 0x1C8, "File", "\\Device\\HarddiskVolume2\\ProgramData\\Contoso\\orders.log");
    return p;
}

/* memory-growth positive and negative: private heap regions of 3 GiB (over
 * 2 GiB, almost all of the committed memory) and 1.5 GiB. */
static synth_process *build_memory(uint32_t seed, size_t regions)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20), POOL_IDLE(0x0A24), JOB_WAITER(0x0AE0),
    };
    static extras x;
    x = (extras){0};
    x.private_region_size = 128ull << 20;
    x.private_regions = regions;
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, seed, threads)), &x);
}

static synth_process *build_memory_growth(void)
{
    return build_memory(41, 24);
}

static synth_process *build_memory_below(void)
{
    return build_memory(42, 12);
}

/* runaway-thread positive: a dispatcher busy-polls for a free slot; it has
 * used 25 minutes of CPU (user 20, kernel 5) in the process's 2 hours. */
static synth_process *build_runaway(void)
{
    const rule_thread threads[] = {
        service_main, POOL_IDLE(0x0A20), JOB_WAITER(0x0AE0),
        {0x0AF0, "spinning", 12000000000ull,
         LIST("ordersvc!wait_for_slot+0x1e", "ordersvc!dispatch_orders+0x57"), WORKER},
    };
    static extras x;
    x = (extras){0};
    return finish(describe(&SPEC("ordersvc.exe", 0x0A0C, 43, threads)), &x);
}

/* ---- Registry ----------------------------------------------------------------------- */

static const synth_scenario rule_scenarios[] = {
    {"rule-clr-below-threshold",
     "w3wp.exe: 2 CLR monitor waiters, a directory listing, an ASP.NET compilation running "
     "(negatives of S3, S4, S5)", build_clr_below, NULL},
    {"rule-clr-gc-wait", "4 CLR pool threads in WKS::GCHeap::WaitUntilGCComplete during a GC",
     build_gc_wait, NULL},
    {"rule-clr-gc-at-rest", "server GC threads at rest and 2 threads waiting for a GC",
     build_gc_at_rest, NULL},
    {"rule-monitor-wait", "3 dedicated threads in clr!SyncBlock::Wait, the CLR pool at rest",
     build_monitor_wait, NULL},
    {"rule-threadpool-starvation", "12 CLR pool threads blocked in Task.Result (Monitor.Wait)",
     build_starvation, NULL},
    {"rule-database-wait", "w3wp.exe: 3 requests in System_Data!SNIReadSyncOverAsync",
     build_database_wait, NULL},
    {"rule-database-reading", "w3wp.exe: 2 requests running in SNI packet code (not waiting)",
     build_database_reading, NULL},
    {"rule-crash-fail-fast", "0xC0000409 FAST_FAIL_STACK_COOKIE_CHECK_FAILURE in "
     "__report_gsfailure", build_fail_fast, NULL},
    {"rule-crash-heap-corruption", "0xC0000374 in ntdll!RtlReportCriticalFailure under free()",
     build_heap_corruption, NULL},
    {"rule-crash-clr-unhandled", "0xE0434352 from clr!IL_Throw on a dedicated thread",
     build_clr_unhandled, NULL},
    {"rule-wer-reporting", "a thread in kernel32!WerpReportFault under UnhandledExceptionFilter",
     build_wer, NULL},
    {"rule-first-chance-handler", "a vectored handler logging a first-chance exception",
     build_first_chance, NULL},
    {"rule-iis-shutdown-in-progress",
     "w3wp.exe closing its request queue while its main thread and pools remain",
     build_iis_shutdown_in_progress, NULL},
    {"rule-messagebox-w3wp", "w3wp.exe: a native module's user32!MessageBoxW on a request thread",
     build_messagebox_w3wp, NULL},
    {"rule-messagebox-desktop", "orderentry.exe: the same MessageBoxW on its UI thread",
     build_messagebox_desktop, NULL},
    {"rule-sendmessage-cross-thread",
     "orderentry.exe: a worker in user32!NtUserMessageCall under SendMessageW, the UI busy",
     build_sendmessage, NULL},
    {"rule-sendmessage-same-thread",
     "orderentry.exe: SendMessageW to the thread's own window, a message loop at rest",
     build_sendmessage_same_thread, NULL},
    {"rule-network-wait", "2 threads in ws2_32!recv and 1 in winhttp!WinHttpReceiveResponse",
     build_network_wait, NULL},
    {"rule-network-listening", "2 threads in ws2_32!accept and 1 in ws2_32!recv",
     build_network_listening, NULL},
    {"rule-crl-retrieval",
     "2 threads in cryptnet!CryptRetrieveObjectByUrlW under crypt32!CertGetCertificateChain",
     build_crl, NULL},
    {"rule-crl-chain-building", "crypt32!CertGetCertificateChain building from cache (running)",
     build_chain_building, NULL},
    {"rule-sleep-on-pool", "3 thread-pool work items in Sleep", build_sleep_on_pool, NULL},
    {"rule-sleep-dedicated", "2 dedicated housekeeping threads in Sleep, the pool at rest",
     build_sleep_dedicated, NULL},
    {"rule-com-mta-calls",
     "3 out-of-process COM calls over ALPC; a critical section held by a thread reading a file "
     "(full dump)", build_com_mta_calls, NULL},
    {"rule-com-call-holding-lock",
     "a critical-section owner in an out-of-process COM call, 2 waiters (full dump)",
     build_com_call_holding_lock, NULL},
    {"rule-com-sta-calls", "4 MTA threads in ole32!GetToSTA, the STA thread busy",
     build_com_sta_calls, NULL},
    {"rule-orphaned-cs",
     "3 threads wait on a critical section whose owner thread has exited (full dump)",
     build_orphaned_cs, NULL},
    {"rule-loader-dllmain", "a DllMain waits; 2 LoadLibraryExW and a thread attach wait for the "
     "loader lock", build_loader_dllmain, NULL},
    {"rule-loader-parallel", "3 threads in LoadLibraryExW, one mapping, no DllMain running",
     build_loader_parallel, NULL},
    {"rule-handles-below", "4 handles to exited threads beside live thread handles",
     build_handles_below, NULL},
    {"rule-runaway-thread", "a thread busy-polling with 25 minutes of CPU time",
     build_runaway, NULL},
    {"rule-memory-growth", "3 GiB of private committed memory", build_memory_growth, NULL},
    {"rule-memory-below", "1.5 GiB of private committed memory", build_memory_below, NULL},
};

size_t synth_rule_scenario_count(void)
{
    return sizeof rule_scenarios / sizeof rule_scenarios[0];
}

const synth_scenario *synth_rule_scenario_at(size_t index)
{
    return index < synth_rule_scenario_count() ? &rule_scenarios[index] : NULL;
}
