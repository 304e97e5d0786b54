/* synth_dump: minidump writer for tests. Layouts cite minidumpapiset.h. */
#include "synth_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    MDMP_SIGNATURE = 0x504D444D, /* "MDMP" */
    MDMP_VERSION = 0xA793,
    HEADER_SIZE = 0x20,
    DIRECTORY_ENTRY_SIZE = 12,
    THREAD_SIZE = 0x30,
    MODULE_SIZE = 0x6C,
    MEMORY_DESCRIPTOR_SIZE = 16,
    EXCEPTION_STREAM_SIZE = 0xA8,
    SYSTEM_INFO_SIZE = 0x38,
    HANDLE_HEADER_SIZE = 16,
    HANDLE_DESCRIPTOR_SIZE = 0x20,
    HANDLE_DESCRIPTOR_2_SIZE = 0x28,
    THREAD_INFO_SIZE = 0x40,
    MEMORY_INFO_SIZE = 0x30,
    UNLOADED_MODULE_SIZE = 24,
    THREAD_NAME_SIZE = 12,
    AMD64_CONTEXT_SIZE = 0x4D0,
    X86_CONTEXT_SIZE = 0x2CC,
    AMD64_CONTEXT_ALL = 0x10001F, /* CONTEXT_AMD64 | CONTROL | INTEGER | SEGMENTS | FLOAT | DEBUG */
    X86_CONTEXT_ALL = 0x1003F,    /* CONTEXT_i386 | ... | DEBUG_REGISTERS | EXTENDED_REGISTERS */
    VS_FFI_SIGNATURE = 0xFEEF04BD,
    CV_RSDS = 0x53445352          /* "RSDS" */
};

typedef enum entry_kind { ENTRY_TYPED, ENTRY_RAW, ENTRY_LOCATION } entry_kind;

/* One directory entry in directory order. */
typedef struct dir_entry {
    uint32_t type;
    entry_kind kind;
    uint8_t *bytes;      /* ENTRY_RAW */
    size_t size;         /* ENTRY_RAW, ENTRY_LOCATION */
    uint32_t rva;        /* ENTRY_LOCATION */
} dir_entry;

typedef struct region {
    uint64_t address;
    uint8_t *bytes;      /* NULL: `size` zero bytes (synth_dump_add_zero_memory) */
    size_t size;
} region;

typedef struct thread_rec {
    synth_thread t;
    long stack_region;   /* index into regions, -1 without stack bytes */
} thread_rec;

typedef struct thread_name {
    uint32_t thread_id;
    const char *name;
} thread_name;

typedef struct handle_rec {
    synth_handle h;
    synth_handle_info *infos;
} handle_rec;

struct synth_dump {
    uint32_t timestamp;
    uint32_t version;
    uint64_t flags;
    synth_memory_layout layout;
    synth_dump_quirks quirks;

    dir_entry *entries;
    size_t entry_count;
    uint32_t *duplicates;
    size_t duplicate_count;

    bool has_system_info;
    synth_system_info system_info;
    bool has_exception;
    synth_exception exception;
    bool has_misc_info;
    synth_misc_info misc_info;
    const char *comment;

    thread_rec *threads;
    size_t thread_count;
    synth_module *modules;
    size_t module_count;
    region *regions;
    size_t region_count;
    handle_rec *handles;
    size_t handle_count;
    synth_thread_info *thread_infos;
    size_t thread_info_count;
    synth_memory_info *memory_infos;
    size_t memory_info_count;
    synth_unloaded_module *unloaded;
    size_t unloaded_count;
    thread_name *thread_names;
    size_t thread_name_count;

    char **strings;      /* copies owned by the dump */
    size_t string_count;
    uint8_t **blobs;
    size_t blob_count;
};

/* ---- Ownership helpers ----------------------------------------------- */

static const char *keep_string(synth_dump *d, const char *s)
{
    if (!s)
        return NULL;
    d->strings = synth_grow(d->strings, d->string_count + 1, sizeof *d->strings);
    d->strings[d->string_count] = synth_strdup(s);
    return d->strings[d->string_count++];
}

static uint8_t *keep_bytes(synth_dump *d, const void *bytes, size_t size)
{
    d->blobs = synth_grow(d->blobs, d->blob_count + 1, sizeof *d->blobs);
    uint8_t *copy = synth_alloc(size);
    if (size)
        memcpy(copy, bytes, size);
    d->blobs[d->blob_count++] = copy;
    return copy;
}

#define APPEND(array, count, value)                                           \
    do {                                                                      \
        (array) = synth_grow((array), (count) + 1, sizeof *(array));          \
        (array)[(count)++] = (value);                                         \
    } while (0)

synth_dump *synth_dump_new(void)
{
    synth_dump *d = synth_alloc(sizeof *d);
    d->version = MDMP_VERSION;
    return d;
}

void synth_dump_free(synth_dump *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->string_count; i++)
        free(d->strings[i]);
    for (size_t i = 0; i < d->blob_count; i++)
        free(d->blobs[i]);
    for (size_t i = 0; i < d->handle_count; i++)
        free(d->handles[i].infos);
    free(d->strings);
    free(d->blobs);
    free(d->entries);
    free(d->duplicates);
    free(d->threads);
    free(d->modules);
    free(d->regions);
    free(d->handles);
    free(d->thread_infos);
    free(d->memory_infos);
    free(d->unloaded);
    free(d->thread_names);
    free(d);
}

/* ---- Description ------------------------------------------------------ */

static bool has_typed_entry(const synth_dump *d, uint32_t type)
{
    for (size_t i = 0; i < d->entry_count; i++)
        if (d->entries[i].kind == ENTRY_TYPED && d->entries[i].type == type)
            return true;
    return false;
}

/* Places a typed stream in the directory at its first mention. */
static void place_typed(synth_dump *d, uint32_t type)
{
    if (!has_typed_entry(d, type))
        APPEND(d->entries, d->entry_count, ((dir_entry){type, ENTRY_TYPED, NULL, 0, 0}));
}

/* The memory stream is placed as MemoryList; its type is decided when the
 * dump is written, from the memory layout. */
static void place_memory(synth_dump *d)
{
    place_typed(d, SYNTH_STREAM_MEMORY_LIST);
}

void synth_dump_set_timestamp(synth_dump *d, uint32_t time_t_value) { d->timestamp = time_t_value; }
void synth_dump_set_flags(synth_dump *d, uint64_t minidump_type) { d->flags = minidump_type; }
void synth_dump_set_version(synth_dump *d, uint32_t version) { d->version = version; }
void synth_dump_set_memory_layout(synth_dump *d, synth_memory_layout layout) { d->layout = layout; }
void synth_dump_set_quirks(synth_dump *d, const synth_dump_quirks *quirks) { d->quirks = *quirks; }

void synth_dump_set_full_memory(synth_dump *d)
{
    d->layout = SYNTH_MEMORY64_LIST;
    d->flags |= SYNTH_MINIDUMP_WITH_FULL_MEMORY;
}

void synth_dump_set_system_info(synth_dump *d, const synth_system_info *info)
{
    place_typed(d, SYNTH_STREAM_SYSTEM_INFO);
    d->has_system_info = true;
    d->system_info = *info;
    d->system_info.csd = keep_string(d, info->csd);
    d->system_info.vendor = keep_string(d, info->vendor);
}

static size_t add_region(synth_dump *d, uint64_t address, const void *bytes, size_t size)
{
    place_memory(d);
    region r = {address, keep_bytes(d, bytes, size), size};
    APPEND(d->regions, d->region_count, r);
    return d->region_count - 1;
}

void synth_dump_add_memory(synth_dump *d, uint64_t address, const void *bytes, size_t size)
{
    add_region(d, address, bytes, size);
}

void synth_dump_add_zero_memory(synth_dump *d, uint64_t address, uint64_t size)
{
    place_memory(d);
    APPEND(d->regions, d->region_count, ((region){address, NULL, (size_t)size}));
}

void synth_dump_add_thread(synth_dump *d, const synth_thread *thread)
{
    place_typed(d, SYNTH_STREAM_THREAD_LIST);
    thread_rec rec = {*thread, -1};
    if (thread->stack && thread->stack_size)
        rec.stack_region =
            (long)add_region(d, thread->stack_start, thread->stack, thread->stack_size);
    rec.t.stack = NULL;
    APPEND(d->threads, d->thread_count, rec);
}

void synth_dump_add_module(synth_dump *d, const synth_module *module)
{
    place_typed(d, SYNTH_STREAM_MODULE_LIST);
    synth_module m = *module;
    m.path = keep_string(d, module->path ? module->path : "");
    m.codeview.pdb_name =
        keep_string(d, module->codeview.pdb_name ? module->codeview.pdb_name : "");
    APPEND(d->modules, d->module_count, m);
}

void synth_dump_set_exception(synth_dump *d, const synth_exception *exception)
{
    if (exception->parameter_count > 15)
        synth_fail("exception with %u parameters (at most 15)", exception->parameter_count);
    place_typed(d, SYNTH_STREAM_EXCEPTION);
    d->has_exception = true;
    d->exception = *exception;
}

static bool valid_misc_size(uint32_t size)
{
    return size == 24 || size == 44 || size == 232 || size == 832 || size == 1364;
}

void synth_dump_set_misc_info(synth_dump *d, const synth_misc_info *info)
{
    if (!valid_misc_size(info->size))
        synth_fail("MiscInfo size %u is not 24, 44, 232, 832 or 1364", info->size);
    place_typed(d, SYNTH_STREAM_MISC_INFO);
    d->has_misc_info = true;
    d->misc_info = *info;
    d->misc_info.time_zone_standard_name = keep_string(d, info->time_zone_standard_name);
    d->misc_info.time_zone_daylight_name = keep_string(d, info->time_zone_daylight_name);
    d->misc_info.build_string = keep_string(d, info->build_string);
    d->misc_info.debug_build_string = keep_string(d, info->debug_build_string);
}

void synth_dump_add_handle(synth_dump *d, const synth_handle *handle)
{
    place_typed(d, SYNTH_STREAM_HANDLE_DATA);
    handle_rec rec = {*handle, NULL};
    rec.h.type_name = keep_string(d, handle->type_name);
    rec.h.object_name = keep_string(d, handle->object_name);
    rec.infos = synth_alloc((handle->info_count ? handle->info_count : 1) * sizeof *rec.infos);
    for (size_t i = 0; i < handle->info_count; i++) {
        rec.infos[i] = handle->infos[i];
        rec.infos[i].payload = keep_bytes(d, handle->infos[i].payload, handle->infos[i].size);
    }
    rec.h.infos = rec.infos;
    APPEND(d->handles, d->handle_count, rec);
}

void synth_dump_add_thread_info(synth_dump *d, const synth_thread_info *info)
{
    place_typed(d, SYNTH_STREAM_THREAD_INFO_LIST);
    APPEND(d->thread_infos, d->thread_info_count, *info);
}

void synth_dump_add_memory_info(synth_dump *d, const synth_memory_info *info)
{
    place_typed(d, SYNTH_STREAM_MEMORY_INFO_LIST);
    APPEND(d->memory_infos, d->memory_info_count, *info);
}

void synth_dump_add_unloaded_module(synth_dump *d, const synth_unloaded_module *module)
{
    place_typed(d, SYNTH_STREAM_UNLOADED_MODULE_LIST);
    synth_unloaded_module m = *module;
    m.name = keep_string(d, module->name ? module->name : "");
    APPEND(d->unloaded, d->unloaded_count, m);
}

void synth_dump_add_thread_name(synth_dump *d, uint32_t thread_id, const char *name)
{
    place_typed(d, SYNTH_STREAM_THREAD_NAMES);
    thread_name n = {thread_id, keep_string(d, name)};
    APPEND(d->thread_names, d->thread_name_count, n);
}

void synth_dump_set_comment_w(synth_dump *d, const char *comment)
{
    place_typed(d, SYNTH_STREAM_COMMENT_W);
    d->comment = keep_string(d, comment);
}

void synth_dump_add_raw_stream(synth_dump *d, uint32_t type, const void *bytes, size_t size)
{
    dir_entry e = {type, ENTRY_RAW, keep_bytes(d, bytes, size), size, 0};
    APPEND(d->entries, d->entry_count, e);
}

void synth_dump_add_raw_entry(synth_dump *d, uint32_t type, uint32_t size, uint32_t rva)
{
    dir_entry e = {type, ENTRY_LOCATION, NULL, size, rva};
    APPEND(d->entries, d->entry_count, e);
}

void synth_dump_duplicate_stream(synth_dump *d, uint32_t type)
{
    APPEND(d->duplicates, d->duplicate_count, type);
}

/* ---- Small records ---------------------------------------------------- */

void synth_context_init(synth_context *ctx, synth_cpu cpu)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->cpu = cpu;
    if (cpu == SYNTH_CPU_AMD64) {
        ctx->regs[DT_AMD64_CS] = 0x33;
        ctx->regs[DT_AMD64_DS] = ctx->regs[DT_AMD64_ES] = ctx->regs[DT_AMD64_SS] = 0x2B;
        ctx->regs[DT_AMD64_GS] = 0x2B;
        ctx->regs[DT_AMD64_FS] = 0x53;
        ctx->regs[DT_AMD64_EFLAGS] = 0x246;
        ctx->regs[DT_AMD64_MXCSR] = 0x1F80;
    } else {
        ctx->regs[DT_X86_CS] = 0x1B;
        ctx->regs[DT_X86_DS] = ctx->regs[DT_X86_ES] = ctx->regs[DT_X86_SS] = 0x23;
        ctx->regs[DT_X86_FS] = 0x3B;
        ctx->regs[DT_X86_EFLAGS] = 0x246;
    }
}

size_t synth_context_size(synth_cpu cpu)
{
    return cpu == SYNTH_CPU_AMD64 ? AMD64_CONTEXT_SIZE : X86_CONTEXT_SIZE;
}

/* CONTEXT (AMD64, 0x4D0): ContextFlags 0x30, MxCsr 0x34, SegCs 0x38, SegDs
 * 0x3A, SegEs 0x3C, SegFs 0x3E, SegGs 0x40, SegSs 0x42, EFlags 0x44,
 * Rax..R15 at 0x78 + 8n (unwind register order), Rip 0xF8, FltSave
 * (XMM_SAVE_AREA32) at 0x100: ControlWord +0, MxCsr +0x18, MxCsr_Mask +0x1C,
 * XmmRegisters +0xA0 (so Xmm0 at 0x1A0, XmmN at 0x1A0 + 16N). */
static void encode_amd64(const synth_context *ctx, uint8_t *p)
{
    const uint64_t *r = ctx->regs;
    synth_put_u32(p + 0x30, ctx->flags ? ctx->flags : AMD64_CONTEXT_ALL);
    synth_put_u32(p + 0x34, (uint32_t)r[DT_AMD64_MXCSR]);
    synth_put_u16(p + 0x38, (uint16_t)r[DT_AMD64_CS]);
    synth_put_u16(p + 0x3A, (uint16_t)r[DT_AMD64_DS]);
    synth_put_u16(p + 0x3C, (uint16_t)r[DT_AMD64_ES]);
    synth_put_u16(p + 0x3E, (uint16_t)r[DT_AMD64_FS]);
    synth_put_u16(p + 0x40, (uint16_t)r[DT_AMD64_GS]);
    synth_put_u16(p + 0x42, (uint16_t)r[DT_AMD64_SS]);
    synth_put_u32(p + 0x44, (uint32_t)r[DT_AMD64_EFLAGS]);
    for (int reg = DT_AMD64_RAX; reg <= DT_AMD64_R15; reg++)
        synth_put_u64(p + 0x78 + 8 * reg, r[reg]);
    synth_put_u64(p + 0xF8, r[DT_AMD64_RIP]);
    synth_put_u16(p + 0x100, 0x27F);
    synth_put_u32(p + 0x118, (uint32_t)r[DT_AMD64_MXCSR]);
    synth_put_u32(p + 0x11C, 0xFFFF);
    for (int n = 0; n < 16; n++) {
        synth_put_u64(p + 0x1A0 + 16 * n, ctx->xmm[n][0]);
        synth_put_u64(p + 0x1A8 + 16 * n, ctx->xmm[n][1]);
    }
}

/* CONTEXT (x86, 0x2CC): ContextFlags 0, FloatSave 0x1C (ControlWord +0),
 * SegGs 0x8C, SegFs 0x90, SegEs 0x94, SegDs 0x98, Edi 0x9C, Esi 0xA0,
 * Ebx 0xA4, Edx 0xA8, Ecx 0xAC, Eax 0xB0, Ebp 0xB4, Eip 0xB8, SegCs 0xBC,
 * EFlags 0xC0, Esp 0xC4, SegSs 0xC8, ExtendedRegisters (FXSAVE) 0xCC. */
static void encode_x86(const synth_context *ctx, uint8_t *p)
{
    static const struct { int reg; uint16_t offset; } fields[] = {
        {DT_X86_GS, 0x8C}, {DT_X86_FS, 0x90}, {DT_X86_ES, 0x94}, {DT_X86_DS, 0x98},
        {DT_X86_EDI, 0x9C}, {DT_X86_ESI, 0xA0}, {DT_X86_EBX, 0xA4}, {DT_X86_EDX, 0xA8},
        {DT_X86_ECX, 0xAC}, {DT_X86_EAX, 0xB0}, {DT_X86_EBP, 0xB4}, {DT_X86_EIP, 0xB8},
        {DT_X86_CS, 0xBC}, {DT_X86_EFLAGS, 0xC0}, {DT_X86_ESP, 0xC4}, {DT_X86_SS, 0xC8}};
    synth_put_u32(p, ctx->flags ? ctx->flags : X86_CONTEXT_ALL);
    synth_put_u32(p + 0x1C, 0xFFFF027F);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        synth_put_u32(p + fields[i].offset, (uint32_t)ctx->regs[fields[i].reg]);
    synth_put_u16(p + 0xCC, 0x27F);          /* FXSAVE FCW */
    synth_put_u32(p + 0xCC + 0x18, 0x1F80);  /* FXSAVE MXCSR */
}

void synth_context_encode(const synth_context *ctx, uint8_t *out)
{
    memset(out, 0, synth_context_size(ctx->cpu));
    if (ctx->cpu == SYNTH_CPU_AMD64)
        encode_amd64(ctx, out);
    else
        encode_x86(ctx, out);
}

void synth_thread_basic_info_encode(const synth_thread_basic_info *info,
                                    uint8_t out[SYNTH_THREAD_BASIC_INFO_SIZE])
{
    memset(out, 0, SYNTH_THREAD_BASIC_INFO_SIZE);
    synth_put_u32(out, info->exit_status);
    synth_put_u64(out + 0x08, info->teb);
    synth_put_u64(out + 0x10, info->process_id);
    synth_put_u64(out + 0x18, info->thread_id);
    synth_put_u64(out + 0x20, info->affinity);
    synth_put_u32(out + 0x28, (uint32_t)info->priority);
    synth_put_u32(out + 0x2C, (uint32_t)info->base_priority);
}

void synth_guid_from_seed(uint8_t guid[16], const char *seed)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
    for (int half = 0; half < 2; half++) {
        for (const unsigned char *s = (const unsigned char *)seed; *s; s++)
            h = (h ^ *s) * 0x100000001b3ull;
        h = (h ^ (uint64_t)half) * 0x100000001b3ull;
        synth_put_u64(guid + 8 * half, h);
    }
}

void synth_codeview_id(const synth_codeview *cv, char *out)
{
    const uint8_t *g = cv->guid;
    int n = snprintf(out, 42, "%08X%04X%04X", synth_get_u32(g),
                     (unsigned)(g[4] | g[5] << 8), (unsigned)(g[6] | g[7] << 8));
    for (int i = 8; i < 16; i++)
        n += snprintf(out + n, 42 - (size_t)n, "%02X", g[i]);
    snprintf(out + n, 42 - (size_t)n, "%X", cv->age);
}

/* ---- Writing ---------------------------------------------------------- */

typedef struct stack_patch {
    size_t at;            /* offset of MINIDUMP_THREAD Stack.Memory.Rva */
    size_t region;
} stack_patch;

typedef struct writer {
    const synth_dump *d;
    synth_buf *out;
    uint64_t *region_offsets; /* file offset of each region's bytes */
    stack_patch *patches;
    size_t patch_count;
    size_t memory64_base_at;  /* offset of Memory64List BaseRva, 0 if none */
    bool sparse;              /* Memory64List data placed, not appended */
    uint64_t end;             /* file size (sparse) */
} writer;

static uint32_t rva32(size_t offset)
{
    if (offset > UINT32_MAX)
        synth_fail("dump exceeds 4 GiB: RVA %zu does not fit 32 bits", offset);
    return (uint32_t)offset;
}

static void align_aux(writer *w)
{
    synth_buf_align(w->out, 4, 0);
}

/* A region's bytes at the end of the buffer (zeros for a zero range). */
static size_t put_region_bytes(writer *w, const region *r)
{
    return r->bytes ? synth_buf_bytes(w->out, r->bytes, r->size) : synth_buf_zeros(w->out, r->size);
}

/* Starts a stream body: 4-aligned, or at 1 (mod 4) with the quirk. */
static size_t begin_stream(writer *w)
{
    synth_buf_align(w->out, 4, 0);
    if (w->d->quirks.unaligned_streams)
        synth_buf_u8(w->out, 0);
    return w->out->size;
}

/* A list count: u32, plus 4 bytes of padding with the quirk. */
static void put_list_count(writer *w, size_t count)
{
    synth_buf_u32(w->out, (uint32_t)count);
    if (w->d->quirks.pad_list_counts)
        synth_buf_u32(w->out, 0);
}

/* MINIDUMP_STRING: u32 Length in bytes (no terminator), UTF-16LE, then a
 * NUL code unit that Length does not count. Returns its RVA. */
static uint32_t put_string(writer *w, const char *s)
{
    align_aux(w);
    size_t at = synth_buf_u32(w->out, 0), bytes;
    synth_buf_utf16(w->out, s, &bytes);
    synth_buf_u16(w->out, 0);
    synth_buf_patch_u32(w->out, at, (uint32_t)bytes);
    return rva32(at);
}

/* Writes a CONTEXT record and patches the LOCATION_DESCRIPTOR {DataSize,
 * Rva} at `location`. */
static void put_context(writer *w, const synth_context *ctx, size_t location)
{
    uint8_t record[AMD64_CONTEXT_SIZE];
    size_t size = synth_context_size(ctx->cpu);
    synth_buf_align(w->out, 16, 0);
    synth_context_encode(ctx, record);
    size_t at = synth_buf_bytes(w->out, record, size);
    synth_buf_patch_u32(w->out, location, (uint32_t)size);
    synth_buf_patch_u32(w->out, location + 4, rva32(at));
}

/* MINIDUMP_THREAD (0x30): ThreadId 0, SuspendCount 4, PriorityClass 8,
 * Priority 0xC, Teb 0x10, Stack {StartOfMemoryRange 0x18, DataSize 0x20,
 * Rva 0x24}, ThreadContext {DataSize 0x28, Rva 0x2C}. */
static size_t write_thread_list(writer *w)
{
    const synth_dump *d = w->d;
    size_t start = w->out->size;
    put_list_count(w, d->thread_count);
    size_t first = w->out->size;
    synth_buf_reserve(w->out, d->thread_count * THREAD_SIZE);
    size_t size = w->out->size - start;
    for (size_t i = 0; i < d->thread_count; i++) {
        const synth_thread *t = &d->threads[i].t;
        size_t at = first + i * THREAD_SIZE;
        synth_buf_patch_u32(w->out, at, t->id);
        synth_buf_patch_u32(w->out, at + 4, t->suspend_count);
        synth_buf_patch_u32(w->out, at + 8, t->priority_class);
        synth_buf_patch_u32(w->out, at + 0xC, t->priority);
        synth_buf_patch_u64(w->out, at + 0x10, t->teb);
        synth_buf_patch_u64(w->out, at + 0x18, t->stack_start);
        synth_buf_patch_u32(w->out, at + 0x20, (uint32_t)t->stack_size);
        if (d->threads[i].stack_region >= 0 && !d->quirks.stack_rva_zero)
            APPEND(w->patches, w->patch_count,
                   ((stack_patch){at + 0x24, (size_t)d->threads[i].stack_region}));
        if (t->has_context)
            put_context(w, &t->context, at + 0x28);
    }
    return size;
}

/* VS_FIXEDFILEINFO (52 bytes): dwSignature, dwStrucVersion, FileVersionMS,
 * FileVersionLS, ProductVersionMS, ProductVersionLS, FileFlagsMask,
 * FileFlags, FileOS, FileType, FileSubtype, FileDateMS, FileDateLS. */
static void put_fixed_file_info(uint8_t *p, const synth_module *m)
{
    if (!m->has_version)
        return;
    uint32_t ms = (uint32_t)m->version[0] << 16 | m->version[1];
    uint32_t ls = (uint32_t)m->version[2] << 16 | m->version[3];
    synth_put_u32(p, VS_FFI_SIGNATURE);
    synth_put_u32(p + 4, 0x00010000);
    synth_put_u32(p + 8, ms);
    synth_put_u32(p + 12, ls);
    synth_put_u32(p + 16, ms);
    synth_put_u32(p + 20, ls);
    synth_put_u32(p + 24, 0x3F);      /* VS_FFI_FILEFLAGSMASK */
    synth_put_u32(p + 32, 0x40004);   /* VOS_NT_WINDOWS32 */
    synth_put_u32(p + 36, m->is_dll ? 2 : 1); /* VFT_DLL : VFT_APP */
}

/* CodeView RSDS: "RSDS", GUID 4, Age 20, PdbFileName 24 (UTF-8, NUL). */
static void put_codeview(writer *w, const synth_codeview *cv, size_t location)
{
    align_aux(w);
    size_t at = synth_buf_u32(w->out, CV_RSDS);
    synth_buf_bytes(w->out, cv->guid, 16);
    synth_buf_u32(w->out, cv->age);
    synth_buf_cstr(w->out, cv->pdb_name);
    synth_buf_patch_u32(w->out, location, (uint32_t)(w->out->size - at));
    synth_buf_patch_u32(w->out, location + 4, rva32(at));
}

/* MINIDUMP_MODULE (0x6C): BaseOfImage 0, SizeOfImage 8, CheckSum 0xC,
 * TimeDateStamp 0x10, ModuleNameRva 0x14, VersionInfo 0x18 (52 bytes),
 * CvRecord {DataSize 0x4C, Rva 0x50}, MiscRecord 0x54, Reserved 0x5C. */
static size_t write_module_list(writer *w)
{
    const synth_dump *d = w->d;
    size_t start = w->out->size;
    put_list_count(w, d->module_count);
    size_t first = w->out->size;
    synth_buf_reserve(w->out, d->module_count * MODULE_SIZE);
    size_t size = w->out->size - start;
    for (size_t i = 0; i < d->module_count; i++) {
        const synth_module *m = &d->modules[i];
        size_t at = first + i * MODULE_SIZE;
        uint8_t version[52] = {0};
        synth_buf_patch_u64(w->out, at, m->base);
        synth_buf_patch_u32(w->out, at + 8, m->size);
        synth_buf_patch_u32(w->out, at + 0xC, m->checksum);
        synth_buf_patch_u32(w->out, at + 0x10, m->timestamp);
        synth_buf_patch_u32(w->out, at + 0x14, put_string(w, m->path));
        put_fixed_file_info(version, m);
        synth_buf_patch_bytes(w->out, at + 0x18, version, sizeof version);
        if (m->has_codeview)
            put_codeview(w, &m->codeview, at + 0x4C);
    }
    return size;
}

/* MemoryList: count, MINIDUMP_MEMORY_DESCRIPTOR[16] {StartOfMemoryRange 0,
 * Memory.DataSize 8, Memory.Rva 0xC}, then each range's bytes. */
static size_t write_memory_list(writer *w)
{
    const synth_dump *d = w->d;
    size_t start = w->out->size;
    put_list_count(w, d->region_count);
    size_t first = w->out->size;
    synth_buf_reserve(w->out, d->region_count * MEMORY_DESCRIPTOR_SIZE);
    size_t size = w->out->size - start;
    for (size_t i = 0; i < d->region_count; i++) {
        const region *r = &d->regions[i];
        size_t at = first + i * MEMORY_DESCRIPTOR_SIZE;
        if (r->size > UINT32_MAX)
            synth_fail("MemoryList range of %zu bytes exceeds 32 bits", r->size);
        synth_buf_align(w->out, 16, 0);
        size_t data = put_region_bytes(w, r);
        w->region_offsets[i] = data;
        synth_buf_patch_u64(w->out, at, r->address);
        synth_buf_patch_u32(w->out, at + 8, (uint32_t)r->size);
        synth_buf_patch_u32(w->out, at + 0xC, rva32(data));
    }
    return size;
}

/* MINIDUMP_MEMORY64_LIST: NumberOfMemoryRanges u64, BaseRva u64 (patched
 * when the data is written at the end of the file), then
 * MINIDUMP_MEMORY_DESCRIPTOR64 {StartOfMemoryRange, DataSize}. */
static size_t write_memory64_list(writer *w)
{
    const synth_dump *d = w->d;
    size_t start = synth_buf_u64(w->out, d->region_count);
    w->memory64_base_at = synth_buf_u64(w->out, 0);
    for (size_t i = 0; i < d->region_count; i++) {
        synth_buf_u64(w->out, d->regions[i].address);
        synth_buf_u64(w->out, d->regions[i].size);
    }
    return w->out->size - start;
}

/* The Memory64List data: every range back to back, in descriptor order;
 * sparse, the ranges are only placed (synth_dump_write_sparse writes them). */
static void write_memory64_data(writer *w)
{
    const synth_dump *d = w->d;
    synth_buf_align(w->out, 16, 0);
    synth_buf_patch_u64(w->out, w->memory64_base_at, w->out->size);
    uint64_t at = w->out->size;
    for (size_t i = 0; i < d->region_count; i++) {
        w->region_offsets[i] = w->sparse ? at : put_region_bytes(w, &d->regions[i]);
        at += d->regions[i].size;
    }
    w->end = at;
}

/* MINIDUMP_EXCEPTION_STREAM (0xA8): ThreadId 0, __alignment 4,
 * ExceptionRecord 8 {ExceptionCode 8, ExceptionFlags 0xC, ExceptionRecord
 * 0x10, ExceptionAddress 0x18, NumberParameters 0x20, __unusedAlignment
 * 0x24, ExceptionInformation[15] 0x28}, ThreadContext {0xA0, 0xA4}. */
static size_t write_exception(writer *w)
{
    const synth_exception *e = &w->d->exception;
    size_t at = synth_buf_reserve(w->out, EXCEPTION_STREAM_SIZE);
    synth_buf_patch_u32(w->out, at, e->thread_id);
    synth_buf_patch_u32(w->out, at + 8, e->code);
    synth_buf_patch_u32(w->out, at + 0xC, e->flags);
    synth_buf_patch_u64(w->out, at + 0x10, e->record);
    synth_buf_patch_u64(w->out, at + 0x18, e->address);
    synth_buf_patch_u32(w->out, at + 0x20, e->parameter_count);
    for (uint32_t i = 0; i < e->parameter_count; i++)
        synth_buf_patch_u64(w->out, at + 0x28 + 8 * i, e->parameters[i]);
    if (e->has_context)
        put_context(w, &e->context, at + 0xA0);
    return EXCEPTION_STREAM_SIZE;
}

/* MINIDUMP_SYSTEM_INFO (0x38): ProcessorArchitecture 0 (0 x86, 9 AMD64),
 * ProcessorLevel 2, ProcessorRevision 4, NumberOfProcessors 6, ProductType
 * 7, MajorVersion 8, MinorVersion 0xC, BuildNumber 0x10, PlatformId 0x14,
 * CSDVersionRva 0x18, SuiteMask 0x1C, Reserved2 0x1E, Cpu 0x20 (x86:
 * VendorId[3] 0x20, VersionInformation 0x2C, FeatureInformation 0x30). */
static size_t write_system_info(writer *w)
{
    const synth_system_info *s = &w->d->system_info;
    size_t at = synth_buf_reserve(w->out, SYSTEM_INFO_SIZE);
    synth_buf_patch_u16(w->out, at, s->cpu == SYNTH_CPU_AMD64 ? 9 : 0);
    synth_buf_patch_u16(w->out, at + 2, s->processor_level);
    synth_buf_patch_u16(w->out, at + 4, s->processor_revision);
    synth_buf_patch_u8(w->out, at + 6, s->processor_count);
    synth_buf_patch_u8(w->out, at + 7, s->product_type);
    synth_buf_patch_u32(w->out, at + 8, s->major);
    synth_buf_patch_u32(w->out, at + 0xC, s->minor);
    synth_buf_patch_u32(w->out, at + 0x10, s->build);
    synth_buf_patch_u32(w->out, at + 0x14, s->platform_id ? s->platform_id : 2);
    synth_buf_patch_u16(w->out, at + 0x1C, s->suite_mask);
    if (s->cpu == SYNTH_CPU_X86 && s->vendor) {
        char vendor[12] = {0};
        memcpy(vendor, s->vendor, strnlen(s->vendor, 12));
        synth_buf_patch_bytes(w->out, at + 0x20, vendor, 12);
        synth_buf_patch_u32(w->out, at + 0x2C, s->version_information);
        synth_buf_patch_u32(w->out, at + 0x30, s->feature_information);
    }
    if (s->csd)
        synth_buf_patch_u32(w->out, at + 0x18, put_string(w, s->csd));
    return SYSTEM_INFO_SIZE;
}

/* A fixed-size WCHAR array of `units` code units at `at`, NUL padded. */
static void patch_fixed_utf16(writer *w, size_t at, size_t units, const char *s)
{
    if (!s)
        return;
    synth_buf scratch;
    synth_buf_init(&scratch);
    size_t bytes;
    synth_buf_utf16(&scratch, s, &bytes);
    if (bytes > 2 * (units - 1))
        bytes = 2 * (units - 1);
    synth_buf_patch_bytes(w->out, at, scratch.data, bytes);
    synth_buf_free(&scratch);
}

static uint32_t default_misc_flags(uint32_t size)
{
    uint32_t flags = 0x1 | 0x2; /* MINIDUMP_MISC1_PROCESS_ID | PROCESS_TIMES */
    if (size >= 44)
        flags |= 0x4;           /* MINIDUMP_MISC1_PROCESSOR_POWER_INFO */
    if (size >= 232)
        flags |= 0x10 | 0x20 | 0x40 | 0x80; /* INTEGRITY, EXECUTE_FLAGS, TIMEZONE, PROTECTED */
    if (size >= 832)
        flags |= 0x100;         /* MINIDUMP_MISC4_BUILDSTRING */
    if (size >= 1364)
        flags |= 0x200;         /* MINIDUMP_MISC5_PROCESS_COOKIE */
    return flags;
}

/* MINIDUMP_MISC_INFO_N: SizeOfInfo 0, Flags1 4, ProcessId 8,
 * ProcessCreateTime 0xC, ProcessUserTime 0x10, ProcessKernelTime 0x14 (24);
 * ProcessorMaxMhz 0x18, CurrentMhz 0x1C, MhzLimit 0x20, MaxIdleState 0x24,
 * CurrentIdleState 0x28 (44); ProcessIntegrityLevel 0x2C,
 * ProcessExecuteFlags 0x30, ProtectedProcess 0x34, TimeZoneId 0x38,
 * TIME_ZONE_INFORMATION 0x3C {Bias, StandardName[32] +4, StandardDate +0x44,
 * StandardBias +0x54, DaylightName[32] +0x58, ...} (232); BuildString[260]
 * 0xE8, DbgBldStr[40] 0x2F0 (832); XSTATE_CONFIG_FEATURE_MSC_INFO 0x340,
 * ProcessCookie 0x550 (1364). */
static size_t write_misc_info(writer *w)
{
    const synth_misc_info *m = &w->d->misc_info;
    size_t at = synth_buf_reserve(w->out, m->size);
    synth_buf_patch_u32(w->out, at, m->size);
    synth_buf_patch_u32(w->out, at + 4, m->flags1 ? m->flags1 : default_misc_flags(m->size));
    synth_buf_patch_u32(w->out, at + 8, m->process_id);
    synth_buf_patch_u32(w->out, at + 0xC, m->process_create_time);
    synth_buf_patch_u32(w->out, at + 0x10, m->process_user_time);
    synth_buf_patch_u32(w->out, at + 0x14, m->process_kernel_time);
    if (m->size >= 44) {
        synth_buf_patch_u32(w->out, at + 0x18, m->processor_max_mhz);
        synth_buf_patch_u32(w->out, at + 0x1C, m->processor_current_mhz);
        synth_buf_patch_u32(w->out, at + 0x20, m->processor_mhz_limit);
        synth_buf_patch_u32(w->out, at + 0x24, m->processor_max_idle_state);
        synth_buf_patch_u32(w->out, at + 0x28, m->processor_current_idle_state);
    }
    if (m->size >= 232) {
        synth_buf_patch_u32(w->out, at + 0x2C, m->process_integrity_level);
        synth_buf_patch_u32(w->out, at + 0x30, m->process_execute_flags);
        synth_buf_patch_u32(w->out, at + 0x34, m->protected_process);
        synth_buf_patch_u32(w->out, at + 0x38, m->time_zone_id);
        synth_buf_patch_u32(w->out, at + 0x3C, (uint32_t)m->time_zone_bias);
        patch_fixed_utf16(w, at + 0x40, 32, m->time_zone_standard_name);
        patch_fixed_utf16(w, at + 0x94, 32, m->time_zone_daylight_name);
    }
    if (m->size >= 832) {
        patch_fixed_utf16(w, at + 0xE8, 260, m->build_string);
        patch_fixed_utf16(w, at + 0x2F0, 40, m->debug_build_string);
    }
    if (m->size >= 1364)
        synth_buf_patch_u32(w->out, at + 0x550, m->process_cookie);
    return m->size;
}

/* MINIDUMP_HANDLE_OBJECT_INFORMATION chain: NextInfoRva 0, InfoType 4,
 * SizeOfInfo 8, payload 12. Returns the RVA of the first link, 0 if none. */
static uint32_t put_object_infos(writer *w, const synth_handle *h)
{
    uint32_t first = 0;
    size_t previous_next = 0;
    for (size_t i = 0; i < h->info_count; i++) {
        align_aux(w);
        size_t at = synth_buf_u32(w->out, 0);
        synth_buf_u32(w->out, h->infos[i].type);
        synth_buf_u32(w->out, h->infos[i].size);
        synth_buf_bytes(w->out, h->infos[i].payload, h->infos[i].size);
        if (i == 0)
            first = rva32(at);
        else
            synth_buf_patch_u32(w->out, previous_next, rva32(at));
        previous_next = at;
    }
    return first;
}

/* MINIDUMP_HANDLE_DATA_STREAM: SizeOfHeader 0, SizeOfDescriptor 4,
 * NumberOfDescriptors 8, Reserved 0xC; MINIDUMP_HANDLE_DESCRIPTOR(_2):
 * Handle 0, TypeNameRva 8, ObjectNameRva 0xC, Attributes 0x10,
 * GrantedAccess 0x14, HandleCount 0x18, PointerCount 0x1C, (_2)
 * ObjectInfoRva 0x20, Reserved0 0x24. */
static size_t write_handle_data(writer *w)
{
    const synth_dump *d = w->d;
    size_t descriptor = d->quirks.handle_descriptor_v1 ? HANDLE_DESCRIPTOR_SIZE
                                                       : HANDLE_DESCRIPTOR_2_SIZE;
    size_t start = synth_buf_u32(w->out, HANDLE_HEADER_SIZE);
    synth_buf_u32(w->out, (uint32_t)descriptor);
    synth_buf_u32(w->out, (uint32_t)d->handle_count);
    synth_buf_u32(w->out, 0);
    size_t first = synth_buf_reserve(w->out, d->handle_count * descriptor);
    size_t size = w->out->size - start;
    for (size_t i = 0; i < d->handle_count; i++) {
        const synth_handle *h = &d->handles[i].h;
        size_t at = first + i * descriptor;
        synth_buf_patch_u64(w->out, at, h->handle);
        if (h->type_name)
            synth_buf_patch_u32(w->out, at + 8, put_string(w, h->type_name));
        if (h->object_name)
            synth_buf_patch_u32(w->out, at + 0xC, put_string(w, h->object_name));
        synth_buf_patch_u32(w->out, at + 0x10, h->attributes);
        synth_buf_patch_u32(w->out, at + 0x14, h->granted_access);
        synth_buf_patch_u32(w->out, at + 0x18, h->handle_count);
        synth_buf_patch_u32(w->out, at + 0x1C, h->pointer_count);
        if (descriptor == HANDLE_DESCRIPTOR_2_SIZE)
            synth_buf_patch_u32(w->out, at + 0x20, put_object_infos(w, h));
    }
    return size;
}

/* MINIDUMP_THREAD_INFO_LIST: SizeOfHeader 0, SizeOfEntry 4,
 * NumberOfEntries 8; MINIDUMP_THREAD_INFO (0x40): ThreadId 0, DumpFlags 4,
 * DumpError 8, ExitStatus 0xC, CreateTime 0x10, ExitTime 0x18, KernelTime
 * 0x20, UserTime 0x28, StartAddress 0x30, Affinity 0x38. */
static size_t write_thread_info_list(writer *w)
{
    const synth_dump *d = w->d;
    size_t start = synth_buf_u32(w->out, 12);
    synth_buf_u32(w->out, THREAD_INFO_SIZE);
    synth_buf_u32(w->out, (uint32_t)d->thread_info_count);
    for (size_t i = 0; i < d->thread_info_count; i++) {
        const synth_thread_info *t = &d->thread_infos[i];
        synth_buf_u32(w->out, t->thread_id);
        synth_buf_u32(w->out, t->dump_flags);
        synth_buf_u32(w->out, t->dump_error);
        synth_buf_u32(w->out, t->exit_status);
        synth_buf_u64(w->out, t->create_time);
        synth_buf_u64(w->out, t->exit_time);
        synth_buf_u64(w->out, t->kernel_time);
        synth_buf_u64(w->out, t->user_time);
        synth_buf_u64(w->out, t->start_address);
        synth_buf_u64(w->out, t->affinity);
    }
    return w->out->size - start;
}

/* MINIDUMP_MEMORY_INFO_LIST: SizeOfHeader 0, SizeOfEntry 4,
 * NumberOfEntries u64 8; MINIDUMP_MEMORY_INFO (0x30): BaseAddress 0,
 * AllocationBase 8, AllocationProtect 0x10, __alignment1 0x14, RegionSize
 * 0x18, State 0x20, Protect 0x24, Type 0x28, __alignment2 0x2C. */
static size_t write_memory_info_list(writer *w)
{
    const synth_dump *d = w->d;
    size_t start = synth_buf_u32(w->out, 16);
    synth_buf_u32(w->out, MEMORY_INFO_SIZE);
    synth_buf_u64(w->out, d->memory_info_count);
    for (size_t i = 0; i < d->memory_info_count; i++) {
        const synth_memory_info *m = &d->memory_infos[i];
        synth_buf_u64(w->out, m->base);
        synth_buf_u64(w->out, m->allocation_base);
        synth_buf_u32(w->out, m->allocation_protect);
        synth_buf_u32(w->out, 0);
        synth_buf_u64(w->out, m->region_size);
        synth_buf_u32(w->out, m->state);
        synth_buf_u32(w->out, m->protect);
        synth_buf_u32(w->out, m->type);
        synth_buf_u32(w->out, 0);
    }
    return w->out->size - start;
}

/* MINIDUMP_UNLOADED_MODULE_LIST: SizeOfHeader 0, SizeOfEntry 4,
 * NumberOfEntries 8; MINIDUMP_UNLOADED_MODULE (24): BaseOfImage 0,
 * SizeOfImage 8, CheckSum 0xC, TimeDateStamp 0x10, ModuleNameRva 0x14. */
static size_t write_unloaded_module_list(writer *w)
{
    const synth_dump *d = w->d;
    size_t start = synth_buf_u32(w->out, 12);
    synth_buf_u32(w->out, UNLOADED_MODULE_SIZE);
    synth_buf_u32(w->out, (uint32_t)d->unloaded_count);
    size_t first = synth_buf_reserve(w->out, d->unloaded_count * UNLOADED_MODULE_SIZE);
    size_t size = w->out->size - start;
    for (size_t i = 0; i < d->unloaded_count; i++) {
        const synth_unloaded_module *m = &d->unloaded[i];
        size_t at = first + i * UNLOADED_MODULE_SIZE;
        synth_buf_patch_u64(w->out, at, m->base);
        synth_buf_patch_u32(w->out, at + 8, m->size);
        synth_buf_patch_u32(w->out, at + 0xC, m->checksum);
        synth_buf_patch_u32(w->out, at + 0x10, m->timestamp);
        synth_buf_patch_u32(w->out, at + 0x14, put_string(w, m->name));
    }
    return size;
}

/* MINIDUMP_THREAD_NAME_LIST: u32 count, then packed 12-byte entries
 * {ThreadId u32, RvaOfThreadName RVA64 -> MINIDUMP_STRING}. */
static size_t write_thread_names(writer *w)
{
    const synth_dump *d = w->d;
    size_t start = w->out->size;
    put_list_count(w, d->thread_name_count);
    size_t first = synth_buf_reserve(w->out, d->thread_name_count * THREAD_NAME_SIZE);
    size_t size = w->out->size - start;
    for (size_t i = 0; i < d->thread_name_count; i++) {
        size_t at = first + i * THREAD_NAME_SIZE;
        synth_buf_patch_u32(w->out, at, d->thread_names[i].thread_id);
        synth_buf_patch_u64(w->out, at + 4, put_string(w, d->thread_names[i].name));
    }
    return size;
}

/* CommentStreamW: a NUL-terminated UTF-16LE string. */
static size_t write_comment_w(writer *w)
{
    size_t start = w->out->size;
    synth_buf_utf16(w->out, w->d->comment, NULL);
    synth_buf_u16(w->out, 0);
    return w->out->size - start;
}

static uint32_t memory_stream_type(const synth_dump *d)
{
    return d->layout == SYNTH_MEMORY64_LIST ? SYNTH_STREAM_MEMORY64_LIST : SYNTH_STREAM_MEMORY_LIST;
}

static size_t write_typed(writer *w, uint32_t type)
{
    switch (type) {
    case SYNTH_STREAM_THREAD_LIST: return write_thread_list(w);
    case SYNTH_STREAM_MODULE_LIST: return write_module_list(w);
    case SYNTH_STREAM_MEMORY_LIST:
        return w->d->layout == SYNTH_MEMORY64_LIST ? write_memory64_list(w) : write_memory_list(w);
    case SYNTH_STREAM_EXCEPTION: return write_exception(w);
    case SYNTH_STREAM_SYSTEM_INFO: return write_system_info(w);
    case SYNTH_STREAM_MISC_INFO: return write_misc_info(w);
    case SYNTH_STREAM_HANDLE_DATA: return write_handle_data(w);
    case SYNTH_STREAM_THREAD_INFO_LIST: return write_thread_info_list(w);
    case SYNTH_STREAM_MEMORY_INFO_LIST: return write_memory_info_list(w);
    case SYNTH_STREAM_UNLOADED_MODULE_LIST: return write_unloaded_module_list(w);
    case SYNTH_STREAM_THREAD_NAMES: return write_thread_names(w);
    case SYNTH_STREAM_COMMENT_W: return write_comment_w(w);
    default: synth_fail("no typed writer for stream type %u", type);
    }
}

/* MINIDUMP_DIRECTORY: StreamType 0, Location {DataSize 4, Rva 8}. */
static void patch_directory_entry(writer *w, size_t index, uint32_t type, size_t size, size_t rva)
{
    size_t at = HEADER_SIZE + index * DIRECTORY_ENTRY_SIZE;
    synth_buf_patch_u32(w->out, at, type);
    synth_buf_patch_u32(w->out, at + 4, (uint32_t)size);
    synth_buf_patch_u32(w->out, at + 8, rva32(rva));
}

/* Writes one stream body and its directory entry. */
static void write_entry(writer *w, size_t index)
{
    const dir_entry *e = &w->d->entries[index];
    if (e->kind == ENTRY_LOCATION) {
        patch_directory_entry(w, index, e->type, e->size, e->rva);
        return;
    }
    if (e->kind == ENTRY_RAW && e->type == SYNTH_STREAM_UNUSED && e->size == 0)
        return; /* an all-zero unused entry */
    size_t rva = begin_stream(w);
    if (e->kind == ENTRY_RAW) {
        synth_buf_bytes(w->out, e->bytes, e->size);
        patch_directory_entry(w, index, e->type, e->size, rva);
        return;
    }
    size_t size = write_typed(w, e->type);
    uint32_t type = e->type == SYNTH_STREAM_MEMORY_LIST ? memory_stream_type(w->d) : e->type;
    patch_directory_entry(w, index, type, size, rva);
}

/* Copies the directory entry of the first stream of each duplicated type. */
static void write_duplicates(writer *w)
{
    const synth_dump *d = w->d;
    for (size_t i = 0; i < d->duplicate_count; i++) {
        uint32_t type = d->duplicates[i];
        size_t source = d->entry_count;
        for (size_t j = 0; j < d->entry_count && source == d->entry_count; j++) {
            uint32_t written = synth_get_u32(w->out->data + HEADER_SIZE + j * DIRECTORY_ENTRY_SIZE);
            if (written == type)
                source = j;
        }
        if (source == d->entry_count)
            synth_fail("cannot duplicate stream type %u: not in the dump", type);
        uint8_t copy[DIRECTORY_ENTRY_SIZE];
        memcpy(copy, w->out->data + HEADER_SIZE + source * DIRECTORY_ENTRY_SIZE, sizeof copy);
        synth_buf_patch_bytes(w->out, HEADER_SIZE + (d->entry_count + i) * DIRECTORY_ENTRY_SIZE,
                              copy, sizeof copy);
    }
}

static void apply_stack_patches(writer *w)
{
    for (size_t i = 0; i < w->patch_count; i++)
        synth_buf_patch_u32(w->out, w->patches[i].at,
                            rva32(w->region_offsets[w->patches[i].region]));
}

/* MINIDUMP_HEADER (0x20): Signature 0, Version 4, NumberOfStreams 8,
 * StreamDirectoryRva 0xC, CheckSum 0x10, TimeDateStamp 0x14, Flags 0x18. */
static void write_header(writer *w, size_t stream_count)
{
    synth_buf_u32(w->out, MDMP_SIGNATURE);
    synth_buf_u32(w->out, w->d->version);
    synth_buf_u32(w->out, (uint32_t)stream_count);
    synth_buf_u32(w->out, HEADER_SIZE);
    synth_buf_u32(w->out, 0);
    synth_buf_u32(w->out, w->d->timestamp);
    synth_buf_u64(w->out, w->d->flags);
}

/* Everything but (when sparse) the Memory64List data into w->out. */
static void write_all_streams(writer *w)
{
    const synth_dump *d = w->d;
    if (w->out->size != 0)
        synth_fail("synth_dump_write needs an empty buffer");
    w->region_offsets = synth_alloc((d->region_count + 1) * sizeof(uint64_t));
    size_t stream_count = d->entry_count + d->duplicate_count + d->quirks.unused_entries;
    write_header(w, stream_count);
    synth_buf_reserve(w->out, stream_count * DIRECTORY_ENTRY_SIZE);
    for (size_t i = 0; i < d->entry_count; i++)
        write_entry(w, i);
    if (w->memory64_base_at)
        write_memory64_data(w);
    write_duplicates(w);
    apply_stack_patches(w);
}

void synth_dump_write(const synth_dump *d, synth_buf *out)
{
    writer w = {.d = d, .out = out};
    write_all_streams(&w);
    free(w.region_offsets);
    free(w.patches);
}

int synth_dump_write_file(const synth_dump *d, const char *path)
{
    synth_buf b;
    synth_buf_init(&b);
    synth_dump_write(d, &b);
    int rc = synth_write_file(path, b.data, b.size);
    synth_buf_free(&b);
    return rc;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static bool pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t offset)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
        offset += (uint64_t)w;
    }
    return true;
}

/* The non-zero 4 KiB pages of one range, at its file offset. */
static bool write_region_pages(int fd, const region *r, uint64_t offset)
{
    enum { PAGE = 4096 };
    for (size_t at = 0; r->bytes && at < r->size; at += PAGE) {
        size_t n = r->size - at < PAGE ? r->size - at : PAGE;
        if (!all_zero(r->bytes + at, n) && !pwrite_all(fd, r->bytes + at, n, offset + at))
            return false;
    }
    return true;
}

static bool write_sparse_fd(int fd, const writer *w)
{
    uint64_t end = w->end > w->out->size ? w->end : w->out->size;
    if (!pwrite_all(fd, w->out->data, w->out->size, 0) || ftruncate(fd, (off_t)end) != 0)
        return false;
    for (size_t i = 0; i < w->d->region_count; i++)
        if (!write_region_pages(fd, &w->d->regions[i], w->region_offsets[i]))
            return false;
    return true;
}

int synth_dump_write_sparse(const synth_dump *d, const char *path)
{
    if (d->layout != SYNTH_MEMORY64_LIST)
        synth_fail("synth_dump_write_sparse needs the Memory64List layout");
    synth_buf b;
    synth_buf_init(&b);
    writer w = {.d = d, .out = &b, .sparse = true};
    write_all_streams(&w);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write_sparse_fd(fd, &w);
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    free(w.region_offsets);
    free(w.patches);
    synth_buf_free(&b);
    errno = saved;
    return ok ? 0 : -1;
}
