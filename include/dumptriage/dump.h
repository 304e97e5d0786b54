/*
 * dumptriage: the minidump reader.
 *
 * dt_dump_open maps a Windows minidump (MDMP), inflating gzip input into an
 * unlinked temporary file first, and decodes every stream into the typed
 * records below. A damaged stream becomes a diagnostic; all other streams are
 * still decoded. Every record and string belongs to the dt_dump and lives
 * until dt_dump_free.
 *
 * Layout references: Microsoft minidumpapiset.h (MINIDUMP_* records) and
 * winnt.h (CONTEXT); docs/reader.md lists the streams this reader decodes.
 */
#ifndef DUMPTRIAGE_DUMP_H
#define DUMPTRIAGE_DUMP_H

#include "dumptriage/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dt_dump dt_dump;

/* ---- Opening ---------------------------------------------------------- */

typedef struct dt_open_options {
    /* Largest inflated size accepted for gzip input, and largest standard
     * input spooled. 0 selects the default, 64 GiB. */
    uint64_t max_inflated_size;
    /* Directory for temporary files; NULL uses $TMPDIR or /tmp. */
    const char *temp_dir;
} dt_open_options;

/* Opens `path` ("-" is standard input). `options` may be NULL. On failure
 * returns a negative status, fills `err` when non-NULL, and sets *out = NULL.
 * Kernel dumps and ELF cores give DT_ERR_UNSUPPORTED. */
dt_status dt_dump_open(dt_dump **out, const char *path,
                       const dt_open_options *options, dt_error *err);
/* Reads a dump from memory the caller keeps alive until dt_dump_free (no
 * copy is made). `label` names the input in errors and reports. */
dt_status dt_dump_open_memory(dt_dump **out, const void *bytes, size_t size, const char *label,
                              dt_error *err);
void dt_dump_free(dt_dump *dump);

/* ---- Header and directory -------------------------------------------- */

/* MINIDUMP_TYPE flags (MINIDUMP_HEADER.Flags) used by the reader. */
#define DT_MINIDUMP_WITH_FULL_MEMORY 0x00000002u

typedef enum dt_dump_kind {
    DT_DUMP_MINI = 0,   /* no Memory64List and no full-memory flag */
    DT_DUMP_MEMORY = 1, /* a Memory64List without the full-memory flag */
    DT_DUMP_FULL = 2    /* the MiniDumpWithFullMemory flag */
} dt_dump_kind;

typedef struct dt_dump_header {
    uint32_t version;        /* MINIDUMP_HEADER.Version, low 16 bits 0xA793 */
    uint32_t stream_count;
    uint32_t directory_rva;
    uint32_t checksum;
    uint32_t timestamp;      /* seconds since 1970-01-01 UTC */
    uint64_t flags;          /* MINIDUMP_TYPE */
} dt_dump_header;

typedef enum dt_stream_state {
    DT_STREAM_DECODED = 0,
    DT_STREAM_UNKNOWN = 1,   /* a type this reader does not decode: listed only */
    DT_STREAM_DAMAGED = 2,   /* decoding failed; see the diagnostics */
    DT_STREAM_DUPLICATE = 3, /* a later copy of a type already decoded */
    DT_STREAM_EMPTY = 4      /* zero-size stream */
} dt_stream_state;

typedef struct dt_stream {
    uint32_t type;
    uint32_t size;
    uint32_t rva;
    const char *name;        /* "ThreadList", "Breakpad info", "vendor 0xfff0" */
    dt_stream_state state;
} dt_stream;

/* ---- CPU context ------------------------------------------------------ */

typedef enum dt_cpu {
    DT_CPU_UNKNOWN = 0,
    DT_CPU_X86,
    DT_CPU_AMD64,
    DT_CPU_ARM64,
    DT_CPU_ARM
} dt_cpu;

/* Register numbers. AMD64 numbers 0-15 are the x64 unwind register numbers. */
enum {
    DT_AMD64_RAX = 0, DT_AMD64_RCX, DT_AMD64_RDX, DT_AMD64_RBX,
    DT_AMD64_RSP, DT_AMD64_RBP, DT_AMD64_RSI, DT_AMD64_RDI,
    DT_AMD64_R8, DT_AMD64_R9, DT_AMD64_R10, DT_AMD64_R11,
    DT_AMD64_R12, DT_AMD64_R13, DT_AMD64_R14, DT_AMD64_R15,
    DT_AMD64_RIP, DT_AMD64_EFLAGS, DT_AMD64_CS, DT_AMD64_DS, DT_AMD64_ES,
    DT_AMD64_FS, DT_AMD64_GS, DT_AMD64_SS, DT_AMD64_MXCSR,
    DT_AMD64_REG_COUNT
};
enum {
    DT_X86_EAX = 0, DT_X86_ECX, DT_X86_EDX, DT_X86_EBX,
    DT_X86_ESP, DT_X86_EBP, DT_X86_ESI, DT_X86_EDI,
    DT_X86_EIP, DT_X86_EFLAGS, DT_X86_CS, DT_X86_DS, DT_X86_ES,
    DT_X86_FS, DT_X86_GS, DT_X86_SS,
    DT_X86_REG_COUNT
};
enum {
    DT_ARM64_X0 = 0, /* X0..X28 are 0..28 */
    DT_ARM64_FP = 29, DT_ARM64_LR = 30, DT_ARM64_SP = 31, DT_ARM64_PC = 32,
    DT_ARM64_CPSR = 33,
    DT_ARM64_REG_COUNT
};
#define DT_MAX_REGS 34

typedef struct dt_context {
    dt_cpu cpu;
    uint32_t flags;          /* ContextFlags as written */
    uint32_t size;           /* bytes in the dump (AMD64 may exceed 0x4D0: XSTATE) */
    uint64_t file_offset;
    uint64_t valid;          /* bit n set: regs[n] was present */
    uint64_t regs[DT_MAX_REGS];
} dt_context;

/* Register count and lower-case register names for a CPU ("rax", "eip"). */
size_t dt_context_reg_count(dt_cpu cpu);
const char *dt_context_reg_name(dt_cpu cpu, size_t reg);
/* Instruction and stack pointer; 0 when absent. */
uint64_t dt_context_ip(const dt_context *ctx);
uint64_t dt_context_sp(const dt_context *ctx);
const char *dt_cpu_name(dt_cpu cpu); /* "amd64", "x86", "arm64", "arm", "unknown" */

/* ---- Records ---------------------------------------------------------- */

typedef struct dt_thread_times {
    uint32_t dump_flags;
    uint32_t dump_error;
    uint32_t exit_status;
    uint64_t create_time;    /* FILETIME, 100 ns since 1601 */
    uint64_t exit_time;
    uint64_t kernel_time;    /* 100 ns units */
    uint64_t user_time;
    uint64_t start_address;
    uint64_t affinity;
} dt_thread_times;

typedef struct dt_thread {
    uint32_t id;
    uint32_t suspend_count;
    uint32_t priority_class;
    uint32_t priority;
    uint64_t teb;
    uint64_t stack_start;
    uint32_t stack_size;
    uint32_t stack_rva;      /* 0 in Wine full dumps: found by address */
    bool has_context;
    dt_context context;
    const char *name;        /* ThreadNames stream, or NULL */
    bool has_times;          /* ThreadInfoList entry present */
    dt_thread_times times;
} dt_thread;

typedef enum dt_codeview_kind { DT_CV_NONE = 0, DT_CV_RSDS, DT_CV_NB10 } dt_codeview_kind;

typedef struct dt_codeview {
    dt_codeview_kind kind;
    uint8_t guid[16];        /* RSDS: GUID as stored (Data1..3 little-endian) */
    uint32_t signature;      /* NB10 */
    uint32_t age;
    const char *pdb_path;    /* as written, may be a full Windows path */
} dt_codeview;

typedef struct dt_module {
    uint64_t base;
    uint32_t size;
    uint32_t checksum;
    uint32_t timestamp;      /* PE TimeDateStamp */
    const char *path;        /* full path as written */
    const char *name;        /* file name: last component on '\\' and '/' */
    bool has_version;        /* VS_FIXEDFILEINFO signature 0xFEEF04BD */
    uint16_t version[4];     /* FileVersionMS hi, lo; FileVersionLS hi, lo */
    dt_codeview codeview;
} dt_module;

typedef struct dt_unloaded_module {
    uint64_t base;
    uint32_t size;
    uint32_t checksum;
    uint32_t timestamp;
    const char *name;
} dt_unloaded_module;

typedef struct dt_exception {
    uint32_t thread_id;
    uint32_t code;
    uint32_t flags;
    uint64_t record;
    uint64_t address;
    uint32_t parameter_count; /* clamped to 15 */
    uint64_t parameters[15];
    bool has_context;
    dt_context context;
} dt_exception;

typedef struct dt_system_info {
    dt_cpu cpu;
    uint16_t processor_architecture;
    uint16_t processor_level;
    uint16_t processor_revision;
    uint8_t processor_count;
    uint8_t product_type;
    uint32_t major, minor, build;
    uint32_t platform_id;
    const char *csd;         /* service pack / CSD string, "" when none */
    uint16_t suite_mask;
    char vendor[13];         /* x86 CPU_INFORMATION VendorId, "" otherwise */
    uint32_t cpu_version_information;
    uint32_t cpu_feature_information;
    uint32_t cpu_family, cpu_model, cpu_stepping;
} dt_system_info;

/* MINIDUMP_MISC_INFO .. _5; `size` says which fields exist, `flags1` which
 * are valid (MINIDUMP_MISC1_*). */
#define DT_MISC1_PROCESS_ID 0x1u
#define DT_MISC1_PROCESS_TIMES 0x2u
#define DT_MISC1_PROCESSOR_POWER_INFO 0x4u
#define DT_MISC3_PROCESS_INTEGRITY 0x10u
#define DT_MISC3_PROCESS_EXECUTE_FLAGS 0x20u
#define DT_MISC3_TIMEZONE 0x40u
#define DT_MISC3_PROTECTED_PROCESS 0x80u
#define DT_MISC4_BUILDSTRING 0x100u
#define DT_MISC5_PROCESS_COOKIE 0x200u

typedef struct dt_misc_info {
    uint32_t size;
    uint32_t flags1;
    uint32_t process_id;
    uint32_t process_create_time; /* time_t */
    uint32_t process_user_time;    /* seconds */
    uint32_t process_kernel_time;
    uint32_t processor_max_mhz, processor_current_mhz, processor_mhz_limit;
    uint32_t processor_max_idle_state, processor_current_idle_state;
    uint32_t process_integrity_level;
    uint32_t process_execute_flags;
    uint32_t protected_process;
    uint32_t time_zone_id;
    int32_t time_zone_bias;
    const char *time_zone_standard_name;
    const char *build_string;
    const char *debug_build_string;
    uint32_t process_cookie;
    uint64_t xstate_enabled_features;
    uint32_t xstate_size;
} dt_misc_info;

/* Object information attached to a handle (MINIDUMP_HANDLE_OBJECT_INFORMATION
 * chain). The thread, process and mutant payloads are the native
 * THREAD_BASIC_INFORMATION, PROCESS_BASIC_INFORMATION and
 * MUTANT_BASIC_INFORMATION / MUTANT_OWNER_INFORMATION layouts. */
enum {
    DT_HANDLE_INFO_NONE = 0,
    DT_HANDLE_INFO_THREAD1 = 1,
    DT_HANDLE_INFO_MUTANT1 = 2,
    DT_HANDLE_INFO_MUTANT2 = 3,
    DT_HANDLE_INFO_PROCESS1 = 4,
    DT_HANDLE_INFO_PROCESS2 = 5,
    DT_HANDLE_INFO_EVENT1 = 6,
    DT_HANDLE_INFO_SECTION1 = 7,
    DT_HANDLE_INFO_SEMAPHORE1 = 8
};

typedef struct dt_handle_object_info {
    uint32_t type;
    uint32_t size;
    uint64_t file_offset;    /* payload bytes */
} dt_handle_object_info;

typedef struct dt_handle {
    uint64_t handle;
    const char *type_name;   /* "Thread", "Event", ...; "" when absent */
    const char *object_name; /* "" when absent */
    uint32_t attributes;
    uint32_t granted_access;
    uint32_t handle_count;
    uint32_t pointer_count;
    size_t info_count;
    const dt_handle_object_info *infos;
    /* Decoded from the thread or process information, when present. */
    bool has_exit_status;
    uint32_t exit_status;    /* 0x103 (STATUS_PENDING) = still running */
    uint32_t owner_process_id;
    uint32_t owner_thread_id; /* thread id of a thread handle, or mutant owner */
    bool has_mutant;
    int32_t mutant_count;
    bool mutant_abandoned;
} dt_handle;

typedef struct dt_function_table {
    uint64_t minimum_address;
    uint64_t maximum_address;
    uint64_t base_address;
    uint32_t entry_count;
    uint32_t entry_size;     /* SizeOfFunctionEntry (12 for RUNTIME_FUNCTION) */
    uint64_t entries_offset; /* file offset of the first entry */
} dt_function_table;

typedef struct dt_memory_info {
    uint64_t base;
    uint64_t allocation_base;
    uint32_t allocation_protect;
    uint64_t region_size;
    uint32_t state;          /* MEM_COMMIT 0x1000, MEM_RESERVE 0x2000, MEM_FREE 0x10000 */
    uint32_t protect;
    uint32_t type;           /* MEM_IMAGE 0x1000000, MEM_MAPPED 0x40000, MEM_PRIVATE 0x20000 */
} dt_memory_info;

/* A range of process memory present in the dump. */
typedef struct dt_memory_range {
    uint64_t start;
    uint64_t size;
    uint64_t file_offset;
} dt_memory_range;

typedef struct dt_vm_counters {
    uint32_t size;
    uint16_t revision;
    uint32_t page_fault_count;
    uint64_t peak_working_set, working_set;
    uint64_t quota_peak_paged_pool, quota_paged_pool;
    uint64_t quota_peak_nonpaged_pool, quota_nonpaged_pool;
    uint64_t pagefile_usage, peak_pagefile_usage, private_usage;
    bool has_extended;       /* VM_COUNTERS_2 tail */
    uint64_t private_working_set, shared_commit;
} dt_vm_counters;

typedef struct dt_system_memory_info {
    uint32_t size;
    uint16_t revision;
    uint32_t page_size;
    uint64_t physical_pages;
    uint64_t available_pages;
    uint64_t committed_pages;
    uint64_t commit_limit;
    uint64_t peak_commitment;
} dt_system_memory_info;

typedef struct dt_assertion {
    const char *expression;
    const char *function;
    const char *file;
    uint32_t line;
    uint32_t type;           /* 1 invalid parameter, 2 pure virtual call */
} dt_assertion;

typedef struct dt_breakpad_info {
    uint32_t validity;
    uint32_t dump_thread_id;
    uint32_t requesting_thread_id;
} dt_breakpad_info;

typedef struct dt_crashpad_info {
    uint32_t version;
    uint8_t report_id[16];
    uint8_t client_id[16];
    uint32_t annotation_count;
} dt_crashpad_info;

/* Chromium stability report (stream 0x4B6B0002), counts in pages. */
typedef struct dt_stability_report {
    uint64_t process_id;
    uint64_t process_private_usage;
    uint64_t process_peak_working_set;
    uint64_t process_peak_pagefile_usage;
    uint64_t process_handle_count;
    uint64_t system_commit_limit;
    uint64_t system_commit_remaining;
    uint64_t system_handle_count;
} dt_stability_report;

/* ---- Access ------------------------------------------------------------ */

const char *dt_dump_path(const dt_dump *dump);
uint64_t dt_dump_file_size(const dt_dump *dump);
bool dt_dump_was_compressed(const dt_dump *dump);
const dt_dump_header *dt_dump_header_get(const dt_dump *dump);
dt_dump_kind dt_dump_kind_get(const dt_dump *dump);
const char *dt_dump_kind_name(dt_dump_kind kind); /* "mini", "memory", "full" */

const dt_stream *dt_dump_streams(const dt_dump *dump, size_t *count);
const dt_thread *dt_dump_threads(const dt_dump *dump, size_t *count);
const dt_module *dt_dump_modules(const dt_dump *dump, size_t *count);
const dt_unloaded_module *dt_dump_unloaded_modules(const dt_dump *dump, size_t *count);
const dt_handle *dt_dump_handles(const dt_dump *dump, size_t *count);
const dt_memory_info *dt_dump_memory_infos(const dt_dump *dump, size_t *count);
const dt_function_table *dt_dump_function_tables(const dt_dump *dump, size_t *count);
/* Present memory ranges, sorted by start address, without overlaps. */
const dt_memory_range *dt_dump_memory_ranges(const dt_dump *dump, size_t *count);
const dt_diagnostic *dt_dump_diagnostics(const dt_dump *dump, size_t *count);

/* Each returns NULL when the stream is absent or damaged. */
const dt_exception *dt_dump_exception(const dt_dump *dump);
const dt_system_info *dt_dump_system_info(const dt_dump *dump);
const dt_misc_info *dt_dump_misc_info(const dt_dump *dump);
const dt_vm_counters *dt_dump_vm_counters(const dt_dump *dump);
const dt_system_memory_info *dt_dump_system_memory_info(const dt_dump *dump);
const dt_assertion *dt_dump_assertion(const dt_dump *dump);
const dt_breakpad_info *dt_dump_breakpad_info(const dt_dump *dump);
const dt_crashpad_info *dt_dump_crashpad_info(const dt_dump *dump);
const dt_stability_report *dt_dump_stability_report(const dt_dump *dump);
/* Comment streams (A and W, as UTF-8), token count; NULL / 0 when absent. */
const char *dt_dump_comment(const dt_dump *dump);
size_t dt_dump_token_count(const dt_dump *dump);

/* The module containing `address`, or NULL. O(log n). */
const dt_module *dt_dump_module_at(const dt_dump *dump, uint64_t address);
/* The MemoryInfoList region containing `address`, or NULL. O(log n). */
const dt_memory_info *dt_dump_memory_info_at(const dt_dump *dump, uint64_t address);
/* The thread with id `thread_id`, or NULL. */
const dt_thread *dt_dump_thread_by_id(const dt_dump *dump, uint32_t thread_id);

/* Copies up to `size` bytes of process memory at `address` into `buffer`.
 * Returns the number of bytes copied: fewer than `size` when the memory is
 * only partly present (the read stops at the first missing byte), 0 when the
 * address is not in the dump. O(log n) in the number of ranges. */
size_t dt_dump_read(const dt_dump *dump, uint64_t address, void *buffer, size_t size);
/* Zero-copy view: sets *bytes to the mapped bytes at `address` and returns
 * how many contiguous bytes follow there (up to `max`), 0 when absent. */
size_t dt_dump_view(const dt_dump *dump, uint64_t address, size_t max, const uint8_t **bytes);
bool dt_dump_read_u64(const dt_dump *dump, uint64_t address, uint64_t *value);
bool dt_dump_read_u32(const dt_dump *dump, uint64_t address, uint32_t *value);

/* ---- Process facts --------------------------------------------------- */

/* The main module's file name ("w3wp.exe"): the first ModuleList entry. */
const char *dt_dump_process_name(const dt_dump *dump);
/* The process command line read from the PEB in dump memory, or NULL. */
const char *dt_dump_command_line(const dt_dump *dump);
/* Seconds between process creation (MiscInfo) and the dump; false when unknown. */
bool dt_dump_process_uptime(const dt_dump *dump, uint64_t *seconds);

/* ---- Names ------------------------------------------------------------ */

/* "EXCEPTION_ACCESS_VIOLATION" etc., or NULL for an unknown code. */
const char *dt_exception_code_name(uint32_t code);
/* MINIDUMP_TYPE flag name for bit `bit` ("WithFullMemory"), or NULL. */
const char *dt_minidump_flag_name(unsigned bit);
/* "Windows 10", "Windows Server 2008 R2", "Linux"... */
const char *dt_os_name(const dt_system_info *system);

/* The bytes of the mapped file itself (for image and stream readers). */
const uint8_t *dt_dump_file_bytes(const dt_dump *dump, uint64_t *size);

#ifdef __cplusplus
}
#endif

#endif
