/*
 * synth_dump: a minidump writer for tests.
 *
 * Describe a process (threads, modules, memory, streams), then write it to a
 * buffer or a file. Typed helpers produce well-formed streams; raw streams
 * and directory entries let a test craft broken ones; quirks reproduce what
 * real writers do and the reader must tolerate.
 *
 * Streams appear in the directory in the order of their first mention (the
 * first call that adds to a stream type places it). Everything passed in is
 * copied. Invalid descriptions abort (this is test support).
 *
 * Layouts: Microsoft minidumpapiset.h (MINIDUMP_*), winnt.h (CONTEXT); see
 * /work/shared/FORMATS.md section 2.1 and 2.2.
 */
#ifndef SYNTH_DUMP_H
#define SYNTH_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumptriage/dump.h" /* register numbers DT_AMD64_* and DT_X86_* */
#include "synth_buf.h"

/* MINIDUMP_STREAM_TYPE values the typed helpers write. */
enum {
    SYNTH_STREAM_UNUSED = 0,
    SYNTH_STREAM_THREAD_LIST = 3,
    SYNTH_STREAM_MODULE_LIST = 4,
    SYNTH_STREAM_MEMORY_LIST = 5,
    SYNTH_STREAM_EXCEPTION = 6,
    SYNTH_STREAM_SYSTEM_INFO = 7,
    SYNTH_STREAM_MEMORY64_LIST = 9,
    SYNTH_STREAM_COMMENT_W = 11,
    SYNTH_STREAM_HANDLE_DATA = 12,
    SYNTH_STREAM_FUNCTION_TABLE = 13,
    SYNTH_STREAM_UNLOADED_MODULE_LIST = 14,
    SYNTH_STREAM_MISC_INFO = 15,
    SYNTH_STREAM_MEMORY_INFO_LIST = 16,
    SYNTH_STREAM_THREAD_INFO_LIST = 17,
    SYNTH_STREAM_THREAD_NAMES = 24
};

/* MINIDUMP_TYPE flags. */
#define SYNTH_MINIDUMP_WITH_DATA_SEGS 0x1u
#define SYNTH_MINIDUMP_WITH_FULL_MEMORY 0x2u
#define SYNTH_MINIDUMP_WITH_HANDLE_DATA 0x4u
#define SYNTH_MINIDUMP_WITH_UNLOADED_MODULES 0x20u
#define SYNTH_MINIDUMP_WITH_PROCESS_THREAD_DATA 0x100u
#define SYNTH_MINIDUMP_WITH_FULL_MEMORY_INFO 0x800u
#define SYNTH_MINIDUMP_WITH_THREAD_INFO 0x1000u

/* Memory protection and state constants (MEMORY_BASIC_INFORMATION). */
#define SYNTH_MEM_COMMIT 0x1000u
#define SYNTH_MEM_RESERVE 0x2000u
#define SYNTH_MEM_FREE 0x10000u
#define SYNTH_MEM_PRIVATE 0x20000u
#define SYNTH_MEM_MAPPED 0x40000u
#define SYNTH_MEM_IMAGE 0x1000000u
#define SYNTH_PAGE_NOACCESS 0x01u
#define SYNTH_PAGE_READONLY 0x02u
#define SYNTH_PAGE_READWRITE 0x04u
#define SYNTH_PAGE_WRITECOPY 0x08u
#define SYNTH_PAGE_EXECUTE_READ 0x20u
#define SYNTH_PAGE_EXECUTE_READWRITE 0x40u
#define SYNTH_PAGE_GUARD 0x100u

/* MINIDUMP_HANDLE_OBJECT_INFORMATION_TYPE values. */
enum { SYNTH_HANDLE_INFO_THREAD1 = 1, SYNTH_HANDLE_INFO_MUTANT1 = 2,
       SYNTH_HANDLE_INFO_MUTANT2 = 3, SYNTH_HANDLE_INFO_PROCESS1 = 4 };

#define SYNTH_STATUS_PENDING 0x103u

typedef enum synth_cpu { SYNTH_CPU_AMD64 = 0, SYNTH_CPU_X86 = 1 } synth_cpu;

/* A CPU context. regs[] uses the reader's numbering (DT_AMD64_RAX..MXCSR or
 * DT_X86_EAX..SS); synth_context_init sets the usual segment, flag and MXCSR
 * values. flags 0 writes CONTEXT_ALL for the CPU. */
typedef struct synth_context {
    synth_cpu cpu;
    uint32_t flags;
    uint64_t regs[DT_MAX_REGS];
    uint64_t xmm[16][2];       /* AMD64 XMM0-15, low quadword first */
} synth_context;

void synth_context_init(synth_context *ctx, synth_cpu cpu);
/* Size of the CONTEXT record for `cpu` (0x4D0 AMD64, 0x2CC x86). */
size_t synth_context_size(synth_cpu cpu);
/* Lays out the CONTEXT record bytes (synth_context_size bytes) at `out`. */
void synth_context_encode(const synth_context *ctx, uint8_t *out);

/* A CodeView RSDS record: GUID as stored (Data1..3 little-endian), age and
 * PDB file name (may be a full path). Shared with the PE builder. */
typedef struct synth_codeview {
    uint8_t guid[16];
    uint32_t age;
    const char *pdb_name;
} synth_codeview;

/* A deterministic GUID derived from `seed` (an FNV-1a based hash). */
void synth_guid_from_seed(uint8_t guid[16], const char *seed);
/* The symbol-store id: %08X%04X%04X of Data1..3, Data4 as hex, age as %X.
 * `out` must hold 42 bytes. */
void synth_codeview_id(const synth_codeview *cv, char *out);

typedef struct synth_system_info {
    synth_cpu cpu;
    uint16_t processor_level;
    uint16_t processor_revision;
    uint8_t processor_count;
    uint8_t product_type;        /* 1 workstation, 3 server */
    uint32_t major, minor, build;
    uint32_t platform_id;        /* 0 selects VER_PLATFORM_WIN32_NT (2) */
    const char *csd;             /* NULL: no CSDVersion string (RVA 0) */
    uint16_t suite_mask;
    const char *vendor;          /* x86 CPU_INFORMATION.VendorId, 12 chars */
    uint32_t version_information;
    uint32_t feature_information;
} synth_system_info;

typedef struct synth_thread {
    uint32_t id;
    uint32_t suspend_count;
    uint32_t priority_class;
    uint32_t priority;
    uint64_t teb;
    uint64_t stack_start;
    const uint8_t *stack;        /* stack_size bytes of stack memory, or NULL */
    size_t stack_size;
    bool has_context;
    synth_context context;
} synth_thread;

typedef struct synth_module {
    const char *path;            /* full path as the writer records it */
    uint64_t base;
    uint32_t size;
    uint32_t checksum;
    uint32_t timestamp;
    bool has_version;
    uint16_t version[4];         /* file and product version a.b.c.d */
    bool is_dll;                 /* VS_FIXEDFILEINFO.dwFileType: VFT_DLL or VFT_APP */
    bool has_codeview;
    synth_codeview codeview;
} synth_module;

typedef struct synth_exception {
    uint32_t thread_id;
    uint32_t code;
    uint32_t flags;
    uint64_t record;
    uint64_t address;
    uint32_t parameter_count;    /* at most 15 */
    uint64_t parameters[15];
    bool has_context;
    synth_context context;
} synth_exception;

/* MINIDUMP_MISC_INFO.._5. `size` is 24, 44, 232, 832 or 1364; fields past
 * the size are not written. flags1 0 selects PROCESS_ID | PROCESS_TIMES
 * (plus the flags of every later part the size includes). */
typedef struct synth_misc_info {
    uint32_t size;
    uint32_t flags1;
    uint32_t process_id;
    uint32_t process_create_time; /* time_t */
    uint32_t process_user_time;
    uint32_t process_kernel_time;
    uint32_t processor_max_mhz, processor_current_mhz, processor_mhz_limit;
    uint32_t processor_max_idle_state, processor_current_idle_state;
    uint32_t process_integrity_level;
    uint32_t process_execute_flags;
    uint32_t protected_process;
    uint32_t time_zone_id;
    int32_t time_zone_bias;
    const char *time_zone_standard_name;
    const char *time_zone_daylight_name;
    const char *build_string;
    const char *debug_build_string;
    uint32_t process_cookie;
} synth_misc_info;

/* One MINIDUMP_HANDLE_OBJECT_INFORMATION: InfoType and payload bytes. */
typedef struct synth_handle_info {
    uint32_t type;
    const uint8_t *payload;
    uint32_t size;
} synth_handle_info;

typedef struct synth_handle {
    uint64_t handle;
    const char *type_name;       /* NULL: RVA 0 */
    const char *object_name;     /* NULL: RVA 0 */
    uint32_t attributes;
    uint32_t granted_access;
    uint32_t handle_count;
    uint32_t pointer_count;
    size_t info_count;           /* chained in this order */
    const synth_handle_info *infos;
} synth_handle;

/* Native 64-bit THREAD_BASIC_INFORMATION (0x30 bytes): ExitStatus u32 @0,
 * TebBaseAddress @8, ClientId.UniqueProcess @0x10, ClientId.UniqueThread
 * @0x18, AffinityMask @0x20, Priority i32 @0x28, BasePriority i32 @0x2C. */
enum { SYNTH_THREAD_BASIC_INFO_SIZE = 0x30 };
typedef struct synth_thread_basic_info {
    uint32_t exit_status;        /* SYNTH_STATUS_PENDING while running */
    uint64_t teb;
    uint64_t process_id;
    uint64_t thread_id;
    uint64_t affinity;
    int32_t priority;
    int32_t base_priority;
} synth_thread_basic_info;
void synth_thread_basic_info_encode(const synth_thread_basic_info *info,
                                    uint8_t out[SYNTH_THREAD_BASIC_INFO_SIZE]);

typedef struct synth_thread_info {
    uint32_t thread_id;
    uint32_t dump_flags;
    uint32_t dump_error;
    uint32_t exit_status;
    uint64_t create_time;        /* FILETIME */
    uint64_t exit_time;
    uint64_t kernel_time;        /* 100 ns units */
    uint64_t user_time;
    uint64_t start_address;
    uint64_t affinity;
} synth_thread_info;

typedef struct synth_memory_info {
    uint64_t base;
    uint64_t allocation_base;
    uint32_t allocation_protect;
    uint64_t region_size;
    uint32_t state;
    uint32_t protect;
    uint32_t type;
} synth_memory_info;

typedef struct synth_unloaded_module {
    uint64_t base;
    uint32_t size;
    uint32_t checksum;
    uint32_t timestamp;
    const char *name;
} synth_unloaded_module;

/* Writer quirks the reader must tolerate. */
typedef struct synth_dump_quirks {
    bool pad_list_counts;   /* 4 bytes after the u32 count of ThreadList,
                               ModuleList, MemoryList and ThreadNames */
    bool unaligned_streams; /* every stream starts at an offset = 1 (mod 4) */
    bool stack_rva_zero;    /* MINIDUMP_THREAD Stack.Memory.Rva = 0: the stack
                               is found by address (Wine full dumps) */
    uint32_t unused_entries; /* type-0 directory entries appended */
    bool handle_descriptor_v1; /* 0x20-byte MINIDUMP_HANDLE_DESCRIPTOR */
} synth_dump_quirks;

/* Where memory ranges go: MemoryList (RVA per range) or one Memory64List
 * whose data follows everything else in the file. */
typedef enum synth_memory_layout {
    SYNTH_MEMORY_LIST = 0,
    SYNTH_MEMORY64_LIST = 1
} synth_memory_layout;

typedef struct synth_dump synth_dump;

synth_dump *synth_dump_new(void);
void synth_dump_free(synth_dump *d);

void synth_dump_set_timestamp(synth_dump *d, uint32_t time_t_value);
void synth_dump_set_flags(synth_dump *d, uint64_t minidump_type);
/* MINIDUMP_HEADER.Version; the default is 0xA793 with a zero high word. */
void synth_dump_set_version(synth_dump *d, uint32_t version);
void synth_dump_set_memory_layout(synth_dump *d, synth_memory_layout layout);
/* A "full" dump: Memory64List and MiniDumpWithFullMemory in the flags. */
void synth_dump_set_full_memory(synth_dump *d);
void synth_dump_set_quirks(synth_dump *d, const synth_dump_quirks *quirks);

void synth_dump_set_system_info(synth_dump *d, const synth_system_info *info);
/* Adds a thread; its stack bytes (if any) become a memory range. */
void synth_dump_add_thread(synth_dump *d, const synth_thread *thread);
void synth_dump_add_module(synth_dump *d, const synth_module *module);
void synth_dump_add_memory(synth_dump *d, uint64_t address, const void *bytes, size_t size);
/* A range of `size` zero bytes that is never held in memory: written as
 * zeros by synth_dump_write, left as a hole by synth_dump_write_sparse. */
void synth_dump_add_zero_memory(synth_dump *d, uint64_t address, uint64_t size);
void synth_dump_set_exception(synth_dump *d, const synth_exception *exception);
void synth_dump_set_misc_info(synth_dump *d, const synth_misc_info *info);
void synth_dump_add_handle(synth_dump *d, const synth_handle *handle);
void synth_dump_add_thread_info(synth_dump *d, const synth_thread_info *info);
void synth_dump_add_memory_info(synth_dump *d, const synth_memory_info *info);
void synth_dump_add_unloaded_module(synth_dump *d, const synth_unloaded_module *module);
void synth_dump_add_thread_name(synth_dump *d, uint32_t thread_id, const char *name);
void synth_dump_set_comment_w(synth_dump *d, const char *comment);

/* A stream of any type with the given bytes (type 0 gives an unused entry). */
void synth_dump_add_raw_stream(synth_dump *d, uint32_t type, const void *bytes, size_t size);
/* A directory entry with an arbitrary DataSize and Rva and no bytes. */
void synth_dump_add_raw_entry(synth_dump *d, uint32_t type, uint32_t size, uint32_t rva);
/* Lists the first stream of `type` a second time in the directory. */
void synth_dump_duplicate_stream(synth_dump *d, uint32_t type);

/* Writes the dump into `out` (which must be empty). */
void synth_dump_write(const synth_dump *d, synth_buf *out);
/* Writes the dump to `path`; 0 on success, -1 with errno set on failure. */
int synth_dump_write_file(const synth_dump *d, const char *path);
/* Writes a dump of any size without holding its memory: the header, streams
 * and descriptors are built in memory, then only the non-zero 4 KiB pages of
 * the Memory64List data are written with pwrite(); everything else is a hole
 * (a sparse file on file systems that have them). Needs the Memory64List
 * layout. Returns 0, or -1 with errno set. */
int synth_dump_write_sparse(const synth_dump *d, const char *path);

#endif
