/* MemoryList, Memory64List, MemoryInfoList and FunctionTable streams. */
#include "dump/dump_internal.h"

#include "base/checked.h"

enum { MEMORY_DESCRIPTOR_SIZE = 16, MEMORY64_HEADER = 16, MEMORY_INFO_MIN = 0x30,
       FUNCTION_TABLE_HEADER = 24, FUNCTION_DESCRIPTOR_MIN = 32 };

/* MINIDUMP_MEMORY_DESCRIPTOR: StartOfMemoryRange 0, Memory {DataSize 8, Rva 0xC}. */
void dt_decode_memory_list(dt_stream_reader *r)
{
    size_t first;
    size_t count = dt_list_entries(r, MEMORY_DESCRIPTOR_SIZE, DT_MAX_MEMORY_RANGES, &first);
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = r->bytes + first + i * MEMORY_DESCRIPTOR_SIZE;
        dt_memory_add(r->dump, dt_le64(p), dt_le32(p + 8), dt_le32(p + 0xC),
                      "MemoryList descriptor");
    }
}

/* MINIDUMP_MEMORY64_LIST: NumberOfMemoryRanges u64, BaseRva u64, then
 * MINIDUMP_MEMORY_DESCRIPTOR64 {StartOfMemoryRange, DataSize}; the data of
 * all ranges follows BaseRva back to back, in order. */
void dt_decode_memory64_list(dt_stream_reader *r)
{
    dt_dump *d = r->dump;
    d->has_memory64 = true;
    if (r->size < MEMORY64_HEADER) {
        dt_dump_diag(d, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0),
                     "stream of %zu bytes is too small for its header", r->size);
        return;
    }
    uint64_t count = dt_le64(r->bytes);
    uint64_t offset = dt_le64(r->bytes + 8);
    uint64_t fit = (r->size - MEMORY64_HEADER) / MEMORY_DESCRIPTOR_SIZE;
    if (count > fit) {
        dt_dump_diag(d, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, MEMORY64_HEADER),
                     "stream holds %llu of %llu descriptors", (unsigned long long)fit,
                     (unsigned long long)count);
        count = fit;
    }
    for (uint64_t i = 0; i < count && offset < d->file.size; i++) {
        const uint8_t *p = r->bytes + MEMORY64_HEADER + i * MEMORY_DESCRIPTOR_SIZE;
        uint64_t size = dt_le64(p + 8);
        dt_memory_add(d, dt_le64(p), size, offset, "Memory64List descriptor");
        if (!dt_add_u64(offset, size, &offset))
            break;
    }
}

/* MINIDUMP_MEMORY_INFO: BaseAddress 0, AllocationBase 8, AllocationProtect 0x10,
 * RegionSize 0x18, State 0x20, Protect 0x24, Type 0x28. */
void dt_decode_memory_info_list(dt_stream_reader *r)
{
    dt_dump *d = r->dump;
    size_t first, entry_size;
    size_t count = dt_sized_entries(r, true, MEMORY_INFO_MIN, DT_MAX_MEMORY_INFOS, &first,
                                    &entry_size);
    d->memory_infos = dt_arena_array(&d->arena, count ? count : 1, sizeof *d->memory_infos);
    if (!d->memory_infos)
        return;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = r->bytes + first + i * entry_size;
        dt_memory_info *m = &d->memory_infos[i];
        m->base = dt_le64(p);
        m->allocation_base = dt_le64(p + 8);
        m->allocation_protect = dt_le32(p + 0x10);
        m->region_size = dt_le64(p + 0x18);
        m->state = dt_le32(p + 0x20);
        m->protect = dt_le32(p + 0x24);
        m->type = dt_le32(p + 0x28);
    }
    d->memory_info_count = count;
}

/* MINIDUMP_FUNCTION_TABLE_STREAM: SizeOfHeader 0, SizeOfDescriptor 4,
 * SizeOfNativeDescriptor 8, SizeOfFunctionEntry 0xC, NumberOfDescriptors 0x10,
 * SizeOfAlignPad 0x14 (padding after the header). Each descriptor (MinimumAddress 0, MaximumAddress 8,
 * BaseAddress 0x10, EntryCount 0x18, SizeOfAlignPad 0x1C) is followed by the
 * native descriptor, EntryCount function entries and the alignment pad. */
void dt_decode_function_table(dt_stream_reader *r)
{
    dt_dump *d = r->dump;
    if (r->size < FUNCTION_TABLE_HEADER) {
        dt_dump_diag(d, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0),
                     "stream of %zu bytes is too small for its header", r->size);
        return;
    }
    uint32_t header = dt_le32(r->bytes), descriptor = dt_le32(r->bytes + 4);
    uint32_t native = dt_le32(r->bytes + 8), entry_size = dt_le32(r->bytes + 0xC);
    uint32_t count = dt_le32(r->bytes + 0x10);
    if (header < FUNCTION_TABLE_HEADER || descriptor < FUNCTION_DESCRIPTOR_MIN || entry_size == 0) {
        dt_dump_diag(d, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0),
                     "bad header: SizeOfHeader %u, SizeOfDescriptor %u, SizeOfFunctionEntry %u",
                     header, descriptor, entry_size);
        return;
    }
    if (count > DT_MAX_FUNCTION_TABLES) {
        dt_dump_diag(d, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0x10),
                     "NumberOfDescriptors %u exceeds the cap of %d", count, DT_MAX_FUNCTION_TABLES);
        count = DT_MAX_FUNCTION_TABLES;
    }
    d->function_tables = dt_arena_array(&d->arena, count ? count : 1, sizeof *d->function_tables);
    if (!d->function_tables)
        return;
    uint64_t pos = (uint64_t)header + dt_le32(r->bytes + 0x14); /* header alignment pad */
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *p;
        if (!dt_span_at(r->bytes, r->size, pos, descriptor, &p)) {
            dt_dump_diag(d, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, (size_t)pos),
                         "descriptor %u of %u is past the end of the stream", i, count);
            break;
        }
        dt_function_table *t = &d->function_tables[d->function_table_count];
        t->minimum_address = dt_le64(p);
        t->maximum_address = dt_le64(p + 8);
        t->base_address = dt_le64(p + 0x10);
        t->entry_count = dt_le32(p + 0x18);
        t->entry_size = entry_size;
        uint32_t align_pad = dt_le32(p + 0x1C);
        uint64_t entries = pos + descriptor + native, table_bytes;
        if (!dt_mul_u64(t->entry_count, entry_size, &table_bytes) ||
            !dt_span_at(r->bytes, r->size, entries, table_bytes, &p)) {
            dt_dump_diag(d, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, (size_t)pos),
                         "descriptor %u: %u entries run past the end of the stream", i,
                         t->entry_count);
            break;
        }
        t->entries_offset = (uint64_t)dt_stream_offset(r, (size_t)entries);
        d->function_table_count++;
        pos = entries + table_bytes + align_pad;
    }
}
