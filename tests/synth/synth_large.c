/* synth_large: a big synthetic process written as a sparse full dump. */
#include "synth_large.h"

#include <stdio.h>

enum { RBX = 3, LIBRARY_FRAMES = 3, FIXED_MODULES = 3 };

#define OPS(a) (a), sizeof(a) / sizeof((a)[0])

static const synth_op sub28[] = {{SYNTH_OP_ALLOC, 0, 0x28, SYNTH_ENC_AUTO}};
static const synth_op rbx_20[] = {{SYNTH_OP_PUSH, RBX, 0, SYNTH_ENC_AUTO},
                                  {SYNTH_OP_ALLOC, 0, 0x20, SYNTH_ENC_AUTO}};

static const uint64_t LIBRARY_BASE = 0x7FE00000000ull; /* one library per 2 MiB */
static const uint64_t HEAP_BASE = 0x20000000000ull;    /* heap ranges from here */

static int add_module(synth_process *p, const char *name, uint64_t base, uint32_t timestamp)
{
    char path[64];
    snprintf(path, sizeof path, "C:\\bigapp\\%s", name);
    synth_module_spec spec = {name, path, base, timestamp, {1, 0, 0, 1}, NULL};
    return synth_process_add_module(p, &spec);
}

static void add_function(synth_process *p, int unit, const char *name, const synth_op *ops,
                         size_t op_count)
{
    synth_function f = {.name = name, .export_name = name, .ops = ops, .op_count = op_count};
    synth_process_add_function(p, unit, &f);
}

/* bigapp.exe, ntdll.dll and kernel32.dll with the thread start and wait. */
static void add_fixed_modules(synth_process *p)
{
    int exe = add_module(p, "bigapp.exe", 0x140000000ull, 0x5B000000);
    add_function(p, exe, "ThreadMain", OPS(rbx_20));
    int ntdll = add_module(p, "ntdll.dll", 0x7FFF0000000ull, 0x5B000001);
    synth_function wait = {.name = "NtWaitForSingleObject", .export_name = "NtWaitForSingleObject",
                           .kind = SYNTH_FUNC_SYSCALL, .syscall_number = 4};
    synth_process_add_function(p, ntdll, &wait);
    add_function(p, ntdll, "RtlUserThreadStart", OPS(sub28));
    int kernel32 = add_module(p, "kernel32.dll", 0x7FFE0000000ull, 0x5B000002);
    add_function(p, kernel32, "BaseThreadInitThunk", OPS(sub28));
}

/* libNNN.dll, each with Worker::Run and Worker::Wait. */
static void add_libraries(synth_process *p, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        char name[32];
        snprintf(name, sizeof name, "lib%03zu.dll", i);
        int unit = add_module(p, name, LIBRARY_BASE + (uint64_t)i * 0x200000,
                              0x5B001000 + (uint32_t)i);
        add_function(p, unit, "Worker::Run", OPS(rbx_20));
        add_function(p, unit, "Worker::Wait", OPS(sub28));
    }
}

/* Thread k: the wait, three libraries chosen by k, ThreadMain, the start. */
static void add_thread(synth_process *p, size_t k, size_t libraries)
{
    char names[LIBRARY_FRAMES][32];
    synth_frame_spec frames[LIBRARY_FRAMES + 4];
    size_t n = 0;
    frames[n++] = (synth_frame_spec){"ntdll.dll", "NtWaitForSingleObject", 0xa, SYNTH_AT_OFFSET};
    for (size_t j = 0; j < LIBRARY_FRAMES; j++) {
        snprintf(names[j], sizeof names[j], "lib%03zu.dll", (k * 7 + j * 31) % libraries);
        frames[n++] = (synth_frame_spec){names[j], j == 0 ? "Worker::Wait" : "Worker::Run",
                                         (uint32_t)(0x20 + 0x10 * j), SYNTH_AT_OFFSET};
    }
    frames[n++] = (synth_frame_spec){"bigapp.exe", "ThreadMain", 0x30, SYNTH_AT_OFFSET};
    frames[n++] = (synth_frame_spec){"kernel32.dll", "BaseThreadInitThunk", 0xd, SYNTH_AT_OFFSET};
    frames[n++] = (synth_frame_spec){"ntdll.dll", "RtlUserThreadStart", 0x1d, SYNTH_AT_OFFSET};
    synth_thread_spec t = {.id = (uint32_t)(0x1000 + 4 * k), .role = "worker", .frames = frames,
                           .frame_count = n, .user_time = 1000 * k};
    synth_process_add_thread(p, &t);
}

synth_process *synth_large_process(const synth_large_options *o)
{
    if (o->thread_count < 1 || o->module_count < FIXED_MODULES + 1)
        synth_fail("synth_large: %zu threads and %zu modules (at least 1 and %d)",
                   o->thread_count, o->module_count, FIXED_MODULES + 1);
    synth_process_options po = {.exe_name = "bigapp.exe", .process_id = 0x1F00,
                                .process_create_time = 1600000000, .dump_time = 1600003600,
                                .processor_count = 16, .product_type = 3, .os_major = 10,
                                .os_minor = 0, .os_build = 17763, .seed = 11};
    synth_process *p = synth_process_new(&po);
    add_fixed_modules(p);
    size_t libraries = o->module_count - FIXED_MODULES;
    add_libraries(p, libraries);
    for (size_t k = 0; k < o->thread_count; k++)
        add_thread(p, k, libraries);
    synth_process_finish(p);
    return p;
}

/* The heap: equal zero ranges, 64 KiB aligned, with their MemoryInfoList
 * entries (committed, private, read-write). */
static void add_heap(synth_dump *d, uint64_t bytes, size_t ranges)
{
    uint64_t each = ranges ? (bytes / ranges + 0xFFFF) & ~(uint64_t)0xFFFF : 0;
    for (size_t i = 0; i < ranges; i++) {
        uint64_t base = HEAP_BASE + (uint64_t)i * (each + 0x10000);
        synth_dump_add_zero_memory(d, base, each);
        synth_memory_info mi = {.base = base, .allocation_base = base,
                                .allocation_protect = SYNTH_PAGE_READWRITE, .region_size = each,
                                .state = SYNTH_MEM_COMMIT, .protect = SYNTH_PAGE_READWRITE,
                                .type = SYNTH_MEM_PRIVATE};
        synth_dump_add_memory_info(d, &mi);
    }
}

int synth_large_write(const synth_large_options *o, const char *path)
{
    synth_process *p = synth_large_process(o);
    synth_dump *d = synth_process_dump(p, SYNTH_VARIANT_FULL);
    add_heap(d, o->heap_bytes, o->heap_ranges);
    int rc = synth_dump_write_sparse(d, path);
    synth_dump_free(d);
    synth_process_free(p);
    return rc;
}
