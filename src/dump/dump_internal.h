/* Private state of a decoded minidump, shared by the reader's source files. */
#ifndef DT_DUMP_INTERNAL_H
#define DT_DUMP_INTERNAL_H

#include "dumptriage/dump.h"
#include "base/arena.h"
#include "base/cursor.h"
#include "base/diag.h"
#include "base/mapfile.h"

/* Caps on counts read from the file, checked before any allocation. */
enum {
    DT_MAX_STREAMS = 4096,
    DT_MAX_THREADS = 65536,
    DT_MAX_MODULES = 65536,
    DT_MAX_MEMORY_RANGES = 1 << 22,
    DT_MAX_HANDLES = 1 << 20,
    DT_MAX_MEMORY_INFOS = 1 << 22,
    DT_MAX_FUNCTION_TABLES = 65536,
    DT_MAX_STRING_BYTES = 64 * 1024,
    DT_STRING_BUDGET_FLOOR = 1 << 20, /* plus 2x the file size: strings decoded in all */
    DT_MAX_OBJECT_INFO_CHAIN = 16
};

/* Stream type numbers (MINIDUMP_STREAM_TYPE and vendor streams). */
enum {
    MD_THREAD_LIST = 3, MD_MODULE_LIST = 4, MD_MEMORY_LIST = 5, MD_EXCEPTION = 6,
    MD_SYSTEM_INFO = 7, MD_THREAD_EX_LIST = 8, MD_MEMORY64_LIST = 9,
    MD_COMMENT_A = 10, MD_COMMENT_W = 11, MD_HANDLE_DATA = 12, MD_FUNCTION_TABLE = 13,
    MD_UNLOADED_MODULE_LIST = 14, MD_MISC_INFO = 15, MD_MEMORY_INFO_LIST = 16,
    MD_THREAD_INFO_LIST = 17, MD_HANDLE_OPERATION_LIST = 18, MD_TOKEN = 19,
    MD_JAVASCRIPT_DATA = 20, MD_SYSTEM_MEMORY_INFO = 21, MD_PROCESS_VM_COUNTERS = 22,
    MD_IPT_TRACE = 23, MD_THREAD_NAMES = 24,
    MD_BREAKPAD_INFO = 0x47670001, MD_BREAKPAD_ASSERTION = 0x47670002,
    MD_CRASHPAD_INFO = 0x43500001, MD_STABILITY_REPORT = 0x4B6B0002
};


/* A record's id and its index, sorted by id for binary search. */
typedef struct id_slot {
    uint32_t id;
    uint32_t index;
} id_slot;

struct dt_dump {
    char *path;
    dt_mapped_file file;
    dt_arena arena;
    dt_diag_list diags;
    dt_dump_header header;
    dt_cpu cpu;              /* from SystemInfo, else from the first context */

    dt_stream *streams;
    size_t stream_count;

    dt_thread *threads;
    size_t thread_count;
    id_slot *threads_by_id;
    dt_module *modules;
    size_t module_count;
    size_t *modules_by_base; /* indices into modules, sorted by base */
    dt_unloaded_module *unloaded;
    size_t unloaded_count;
    dt_handle *handles;
    size_t handle_count;
    dt_memory_info *memory_infos; /* sorted by base */
    size_t memory_info_count;
    dt_function_table *function_tables;
    size_t function_table_count;
    dt_thread_times *thread_times; /* ThreadInfoList, keyed by thread id */
    uint32_t *thread_times_ids;
    size_t thread_times_count;
    uint32_t *thread_name_ids;
    const char **thread_names;
    size_t thread_name_count;

    dt_memory_range *ranges; /* sorted, non-overlapping */
    size_t range_count;
    size_t range_capacity;
    bool range_cap_reported;

    dt_exception *exception;
    dt_system_info *system_info;
    dt_misc_info *misc_info;
    dt_vm_counters *vm_counters;
    dt_system_memory_info *system_memory_info;
    dt_assertion *assertion;
    dt_breakpad_info *breakpad_info;
    dt_crashpad_info *crashpad_info;
    dt_stability_report *stability_report;
    char *comment;
    char *command_line;
    size_t token_count;
    bool has_memory64;
    uint64_t string_budget;  /* UTF-16 bytes still allowed to be decoded */
    bool string_budget_noted;
};

/* Per-stream decoding state: the stream's bytes and where they sit. */
typedef struct dt_stream_reader {
    dt_dump *dump;
    const dt_stream *stream;
    const uint8_t *bytes;
    size_t size;
} dt_stream_reader;

/* Records a diagnostic; `offset` is a file offset, < 0 for none. */
void dt_dump_diag(dt_dump *d, dt_diag_level level, const char *structure, int64_t offset,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Bounds-checked view of `size` bytes at file offset `rva`. */
bool dt_dump_file_span(const dt_dump *d, uint64_t rva, uint64_t size, const uint8_t **out);
/* Many records may name one long string, so the total of strings decoded is
 * bounded by a multiple of the file size (no memory amplification). Returns
 * false (with one diagnostic) when `bytes` would exceed what is left. */
bool dt_dump_spend_string_budget(dt_dump *d, size_t bytes, const char *structure, uint32_t rva);
/* Reads a MINIDUMP_STRING (u32 byte length + UTF-16LE) at `rva`. Returns
 * NULL and records a diagnostic naming `structure` when it is damaged. */
const char *dt_dump_string_at(dt_dump *d, uint32_t rva, const char *structure);

/* Context decoding (context.c). Returns false when too small to decode. */
bool dt_context_decode(dt_dump *d, uint32_t size, uint32_t rva, const char *structure,
                       dt_context *out);

/* Memory index (memory.c). */
void dt_memory_add(dt_dump *d, uint64_t start, uint64_t size, uint64_t file_offset,
                   const char *structure);
void dt_memory_finish(dt_dump *d);

/* Stream decoders (streams_*.c): each decodes one stream type. */
typedef void (*dt_stream_decoder)(dt_stream_reader *r);
dt_stream_decoder dt_stream_decoder_for(uint32_t type);
const char *dt_stream_type_name(uint32_t type);

/* Locates the entries of a list stream: a u32 count, optionally 4 bytes of
 * padding, then `entry_size`-byte entries. Returns how many whole entries are
 * present (recording a diagnostic when fewer than the count) and sets *first
 * to the offset of the first entry within the stream. */
size_t dt_list_entries(dt_stream_reader *r, size_t entry_size, size_t cap, size_t *first);

/* Locates the entries of a stream with a {SizeOfHeader, SizeOfEntry, count}
 * header (count is u64 when `count_is_u64`). Entries shorter than
 * `min_entry` are rejected. Returns the usable count. */
size_t dt_sized_entries(dt_stream_reader *r, bool count_is_u64, size_t min_entry, size_t cap,
                        size_t *first, size_t *entry_size);

/* The file offset of byte `pos` of the stream, for diagnostics. */
int64_t dt_stream_offset(const dt_stream_reader *r, size_t pos);

id_slot *dt_sorted_slots(dt_dump *d, const uint32_t *ids, size_t count);
/* Index of the first record with `id`, or -1. */
long dt_find_slot(const id_slot *slots, size_t count, uint32_t id);

/* Reads the command line from the PEB when memory allows (process.c). */
void dt_dump_read_command_line(dt_dump *d);

/* Links ThreadNames and ThreadInfoList entries to threads (streams_thread.c). */
void dt_threads_link(dt_dump *d);

#endif
