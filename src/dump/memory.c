/*
 * The index of process memory present in the dump: MemoryList ranges
 * (MINIDUMP_MEMORY_DESCRIPTOR), Memory64List ranges (MINIDUMP_MEMORY_DESCRIPTOR64,
 * data contiguous from BaseRva) and thread stacks with an RVA. Sorted by
 * address with overlaps trimmed, so a lookup is one binary search.
 */
#include "dump/dump_internal.h"

#include <stdlib.h>
#include <string.h>

void dt_memory_add(dt_dump *d, uint64_t start, uint64_t size, uint64_t file_offset,
                   const char *structure)
{
    if (size == 0)
        return;
    uint64_t available = file_offset < d->file.size ? d->file.size - file_offset : 0;
    if (size > available) {
        dt_dump_diag(d, DT_DIAG_ERROR, structure, (int64_t)file_offset,
                     "memory range at 0x%llx of %llu bytes is cut to %llu by the end of the file",
                     (unsigned long long)start, (unsigned long long)size,
                     (unsigned long long)available);
        size = available;
    }
    if (start + size < start)
        size = UINT64_MAX - start; /* a range cannot wrap the address space */
    if (size == 0)
        return;
    if (d->range_count == d->range_capacity) {
        if (d->range_count >= DT_MAX_MEMORY_RANGES) {
            if (!d->range_cap_reported)
                dt_dump_diag(d, DT_DIAG_ERROR, structure, (int64_t)file_offset,
                             "more than %d memory ranges in all (memory lists and stacks); "
                             "the rest are ignored", DT_MAX_MEMORY_RANGES);
            d->range_cap_reported = true;
            return;
        }
        size_t capacity = d->range_capacity ? d->range_capacity * 2 : 64;
        dt_memory_range *ranges = realloc(d->ranges, capacity * sizeof *ranges);
        if (!ranges)
            return;
        d->ranges = ranges;
        d->range_capacity = capacity;
    }
    d->ranges[d->range_count++] = (dt_memory_range){start, size, file_offset};
}

static int compare_ranges(const void *a, const void *b)
{
    const dt_memory_range *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->size > y->size ? -1 : x->size < y->size; /* longer first */
}

static int compare_module_bases(const void *a, const void *b, void *ctx)
{
    const dt_module *modules = ctx;
    uint64_t x = modules[*(const size_t *)a].base, y = modules[*(const size_t *)b].base;
    return x < y ? -1 : x > y;
}

static int compare_memory_infos(const void *a, const void *b)
{
    const dt_memory_info *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

/* Number of ranges in order at the start of `ranges` (at least 1). */
static size_t run_length(const dt_memory_range *ranges, size_t count)
{
    size_t n = 1;
    while (n < count && compare_ranges(&ranges[n - 1], &ranges[n]) <= 0)
        n++;
    return n;
}

/* Merges the sorted runs a and b into `out`, a's ranges first among equal ones. */
static void merge_runs(const dt_memory_range *a, size_t a_count, const dt_memory_range *b,
                       size_t b_count, dt_memory_range *out)
{
    while (a_count > 0 && b_count > 0) {
        if (compare_ranges(b, a) < 0) {
            *out++ = *b++;
            b_count--;
        } else {
            *out++ = *a++;
            a_count--;
        }
    }
    memcpy(out, a, a_count * sizeof *a);
    memcpy(out + a_count, b, b_count * sizeof *b);
}

/* Merges each pair of adjacent runs of `from` into `to`; returns the number of merged runs. */
static size_t merge_pass(const dt_memory_range *from, dt_memory_range *to, size_t count)
{
    size_t runs = 0;
    for (size_t start = 0; start < count; runs++) {
        size_t middle = start + run_length(from + start, count - start);
        size_t end = middle < count ? middle + run_length(from + middle, count - middle) : count;
        merge_runs(from + start, middle - start, from + middle, end - middle, to + start);
        start = end;
    }
    return runs;
}

/*
 * Sorts the ranges, equal ones in their original order (a stable natural
 * merge sort). A MemoryList is a few runs already in address order, followed
 * by the thread stacks, so this costs a few passes instead of a full sort.
 */
static void sort_ranges(dt_dump *d)
{
    size_t count = d->range_count;
    if (run_length(d->ranges, count) == count)
        return;
    dt_memory_range *spare = malloc(count * sizeof *spare);
    if (!spare) {
        qsort(d->ranges, count, sizeof *d->ranges, compare_ranges);
        return;
    }
    dt_memory_range *from = d->ranges, *to = spare;
    while (merge_pass(from, to, count) > 1) {
        dt_memory_range *merged = to;
        to = from;
        from = merged;
    }
    if (to != d->ranges)
        memcpy(d->ranges, to, count * sizeof *to);
    free(spare);
}

/* Sorts the ranges and trims each one's overlap with its predecessor. */
static void normalize_ranges(dt_dump *d)
{
    if (d->range_count == 0)
        return;
    sort_ranges(d);
    size_t kept = 0;
    for (size_t i = 0; i < d->range_count; i++) {
        dt_memory_range r = d->ranges[i];
        if (kept > 0) {
            const dt_memory_range *prev = &d->ranges[kept - 1];
            uint64_t prev_end = prev->start + prev->size;
            if (r.start + r.size <= prev_end)
                continue;
            if (r.start < prev_end) {
                uint64_t cut = prev_end - r.start;
                r.start += cut;
                r.file_offset += cut;
                r.size -= cut;
            }
        }
        d->ranges[kept++] = r;
    }
    d->range_count = kept;
}

static void sort_modules(dt_dump *d)
{
    if (d->module_count == 0)
        return;
    d->modules_by_base = dt_arena_array(&d->arena, d->module_count, sizeof(size_t));
    if (!d->modules_by_base)
        return;
    for (size_t i = 0; i < d->module_count; i++)
        d->modules_by_base[i] = i;
    qsort_r(d->modules_by_base, d->module_count, sizeof(size_t), compare_module_bases,
            d->modules);
}

void dt_memory_finish(dt_dump *d)
{
    for (size_t i = 0; i < d->thread_count; i++) {
        const dt_thread *t = &d->threads[i];
        if (t->stack_rva != 0)
            dt_memory_add(d, t->stack_start, t->stack_size, t->stack_rva, "ThreadList stack");
    }
    normalize_ranges(d);
    sort_modules(d);
    if (d->memory_info_count > 1)
        qsort(d->memory_infos, d->memory_info_count, sizeof *d->memory_infos,
              compare_memory_infos);
}

/* Index of the last range starting at or below `address`, or -1. */
static ptrdiff_t range_index(const dt_dump *d, uint64_t address)
{
    size_t lo = 0, hi = d->range_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->ranges[mid].start <= address)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

size_t dt_dump_view(const dt_dump *dump, uint64_t address, size_t max, const uint8_t **bytes)
{
    ptrdiff_t i = range_index(dump, address);
    if (i < 0)
        return 0;
    const dt_memory_range *r = &dump->ranges[i];
    uint64_t delta = address - r->start;
    if (delta >= r->size)
        return 0;
    uint64_t left = r->size - delta;
    *bytes = dump->file.data + r->file_offset + delta;
    return left < max ? (size_t)left : max;
}

size_t dt_dump_read(const dt_dump *dump, uint64_t address, void *buffer, size_t size)
{
    uint8_t *out = buffer;
    size_t done = 0;
    /* Each step consumes one whole range or finishes, so the loop is bounded
     * by the number of ranges. */
    while (done < size) {
        const uint8_t *bytes;
        size_t n = dt_dump_view(dump, address + done, size - done, &bytes);
        if (n == 0)
            break;
        memcpy(out + done, bytes, n);
        done += n;
    }
    return done;
}

bool dt_dump_read_u64(const dt_dump *dump, uint64_t address, uint64_t *value)
{
    uint8_t b[8];
    if (dt_dump_read(dump, address, b, 8) != 8)
        return false;
    *value = dt_le64(b);
    return true;
}

bool dt_dump_read_u32(const dt_dump *dump, uint64_t address, uint32_t *value)
{
    uint8_t b[4];
    if (dt_dump_read(dump, address, b, 4) != 4)
        return false;
    *value = dt_le32(b);
    return true;
}

const dt_module *dt_dump_module_at(const dt_dump *dump, uint64_t address)
{
    if (!dump->modules_by_base)
        return NULL;
    size_t lo = 0, hi = dump->module_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dump->modules[dump->modules_by_base[mid]].base <= address)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const dt_module *m = &dump->modules[dump->modules_by_base[lo - 1]];
    return address - m->base < m->size ? m : NULL;
}

const dt_memory_info *dt_dump_memory_info_at(const dt_dump *dump, uint64_t address)
{
    size_t lo = 0, hi = dump->memory_info_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dump->memory_infos[mid].base <= address)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const dt_memory_info *m = &dump->memory_infos[lo - 1];
    return address - m->base < m->region_size ? m : NULL;
}
