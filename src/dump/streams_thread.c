/* ThreadList, ThreadExList, ThreadInfoList and ThreadNames streams. */
#include "dump/dump_internal.h"

#include <stdio.h>
#include <stdlib.h>

enum { THREAD_SIZE = 0x30, THREAD_EX_SIZE = 0x40, THREAD_INFO_MIN = 0x40, THREAD_NAME_SIZE = 12 };

/* MINIDUMP_THREAD: ThreadId 0, SuspendCount 4, PriorityClass 8, Priority 0xC,
 * Teb 0x10, Stack {StartOfMemoryRange 0x18, DataSize 0x20, Rva 0x24},
 * ThreadContext {DataSize 0x28, Rva 0x2C}. */
static void decode_thread(dt_stream_reader *r, const uint8_t *p, size_t index, dt_thread *t)
{
    t->id = dt_le32(p);
    t->suspend_count = dt_le32(p + 4);
    t->priority_class = dt_le32(p + 8);
    t->priority = dt_le32(p + 0xC);
    t->teb = dt_le64(p + 0x10);
    t->stack_start = dt_le64(p + 0x18);
    t->stack_size = dt_le32(p + 0x20);
    t->stack_rva = dt_le32(p + 0x24);
    char structure[64];
    snprintf(structure, sizeof structure, "%s entry %zu context", r->stream->name, index);
    t->has_context = dt_context_decode(r->dump, dt_le32(p + 0x28), dt_le32(p + 0x2C), structure,
                                       &t->context);
}

static void decode_threads(dt_stream_reader *r, size_t entry_size)
{
    dt_dump *d = r->dump;
    if (d->threads) {
        dt_dump_diag(d, DT_DIAG_INFO, r->stream->name, dt_stream_offset(r, 0),
                     "threads already read from another list; this stream is ignored");
        return;
    }
    size_t first;
    size_t count = dt_list_entries(r, entry_size, DT_MAX_THREADS, &first);
    d->threads = dt_arena_array(&d->arena, count ? count : 1, sizeof *d->threads);
    if (!d->threads)
        return;
    for (size_t i = 0; i < count; i++)
        decode_thread(r, r->bytes + first + i * entry_size, i, &d->threads[i]);
    d->thread_count = count;
}

void dt_decode_thread_list(dt_stream_reader *r) { decode_threads(r, THREAD_SIZE); }
void dt_decode_thread_ex_list(dt_stream_reader *r) { decode_threads(r, THREAD_EX_SIZE); }

/* MINIDUMP_THREAD_INFO: ThreadId 0, DumpFlags 4, DumpError 8, ExitStatus 0xC,
 * CreateTime 0x10, ExitTime 0x18, KernelTime 0x20, UserTime 0x28,
 * StartAddress 0x30, Affinity 0x38. */
void dt_decode_thread_info_list(dt_stream_reader *r)
{
    dt_dump *d = r->dump;
    size_t first, entry_size;
    size_t count = dt_sized_entries(r, false, THREAD_INFO_MIN, DT_MAX_THREADS, &first, &entry_size);
    d->thread_times = dt_arena_array(&d->arena, count ? count : 1, sizeof *d->thread_times);
    d->thread_times_ids = dt_arena_array(&d->arena, count ? count : 1, sizeof(uint32_t));
    if (!d->thread_times || !d->thread_times_ids)
        return;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = r->bytes + first + i * entry_size;
        dt_thread_times *t = &d->thread_times[i];
        d->thread_times_ids[i] = dt_le32(p);
        t->dump_flags = dt_le32(p + 4);
        t->dump_error = dt_le32(p + 8);
        t->exit_status = dt_le32(p + 0xC);
        t->create_time = dt_le64(p + 0x10);
        t->exit_time = dt_le64(p + 0x18);
        t->kernel_time = dt_le64(p + 0x20);
        t->user_time = dt_le64(p + 0x28);
        t->start_address = dt_le64(p + 0x30);
        t->affinity = dt_le64(p + 0x38);
    }
    d->thread_times_count = count;
}

/* MINIDUMP_THREAD_NAME_LIST: u32 count, then packed 12-byte entries
 * {u32 ThreadId, RVA64 RvaOfThreadName -> MINIDUMP_STRING}. */
void dt_decode_thread_names(dt_stream_reader *r)
{
    dt_dump *d = r->dump;
    size_t first;
    size_t count = dt_list_entries(r, THREAD_NAME_SIZE, DT_MAX_THREADS, &first);
    d->thread_name_ids = dt_arena_array(&d->arena, count ? count : 1, sizeof(uint32_t));
    d->thread_names = dt_arena_array(&d->arena, count ? count : 1, sizeof(char *));
    if (!d->thread_name_ids || !d->thread_names)
        return;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = r->bytes + first + i * THREAD_NAME_SIZE;
        uint64_t rva = dt_le64(p + 4);
        d->thread_name_ids[i] = dt_le32(p);
        d->thread_names[i] = NULL;
        if (rva > UINT32_MAX) {
            dt_dump_diag(d, DT_DIAG_WARNING, "ThreadNames entry", dt_stream_offset(r, first + i * 12),
                         "name RVA 0x%llx is past the end of the file", (unsigned long long)rva);
            continue;
        }
        d->thread_names[i] = dt_dump_string_at(d, (uint32_t)rva, "ThreadNames name");
    }
    d->thread_name_count = count;
}

static int compare_slots(const void *a, const void *b)
{
    const id_slot *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorted (id, index) pairs for binary search; NULL when empty or no memory. */
id_slot *dt_sorted_slots(dt_dump *d, const uint32_t *ids, size_t count)
{
    id_slot *slots = count ? dt_arena_array(&d->arena, count, sizeof *slots) : NULL;
    if (!slots)
        return NULL;
    for (size_t i = 0; i < count; i++)
        slots[i] = (id_slot){ids[i], (uint32_t)i};
    qsort(slots, count, sizeof *slots, compare_slots);
    return slots;
}

/* Index of the first entry for `id`, or -1. */
long dt_find_slot(const id_slot *slots, size_t count, uint32_t id)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (slots[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return slots && lo < count && slots[lo].id == id ? (long)slots[lo].index : -1;
}

void dt_threads_link(dt_dump *d)
{
    id_slot *names = dt_sorted_slots(d, d->thread_name_ids, d->thread_name_count);
    id_slot *times = dt_sorted_slots(d, d->thread_times_ids, d->thread_times_count);
    uint32_t *thread_ids = dt_arena_array(&d->arena, d->thread_count + 1, sizeof(uint32_t));
    for (size_t i = 0; thread_ids && i < d->thread_count; i++)
        thread_ids[i] = d->threads[i].id;
    if (thread_ids)
        d->threads_by_id = dt_sorted_slots(d, thread_ids, d->thread_count);
    for (size_t i = 0; i < d->thread_count; i++) {
        dt_thread *t = &d->threads[i];
        long name = dt_find_slot(names, d->thread_name_count, t->id);
        if (name >= 0 && d->thread_names[name] && d->thread_names[name][0])
            t->name = d->thread_names[name];
        long time = dt_find_slot(times, d->thread_times_count, t->id);
        if (time >= 0) {
            t->has_times = true;
            t->times = d->thread_times[time];
        }
    }
}
