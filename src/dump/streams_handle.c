/* HandleData stream: MINIDUMP_HANDLE_DESCRIPTOR(_2) and object information. */
#include "dump/dump_internal.h"

#include <stdio.h>

enum { HANDLE_HEADER_MIN = 16, DESCRIPTOR_MIN = 0x20, DESCRIPTOR_2_SIZE = 0x28,
       OBJECT_INFO_HEADER = 12, STATUS_PENDING = 0x103 };

/* THREAD_BASIC_INFORMATION, native layout of the writer: ExitStatus 0,
 * TebBaseAddress, ClientId {UniqueProcess, UniqueThread}, AffinityMask,
 * Priority, BasePriority. 64-bit: ClientId at 0x10; 32-bit: at 8. */
static void decode_thread_info(const uint8_t *p, uint32_t size, dt_handle *h)
{
    if (size >= 0x30) {
        h->owner_process_id = (uint32_t)dt_le64(p + 0x10);
        h->owner_thread_id = (uint32_t)dt_le64(p + 0x18);
    } else if (size >= 0x1C) {
        h->owner_process_id = dt_le32(p + 8);
        h->owner_thread_id = dt_le32(p + 0xC);
    } else {
        return;
    }
    h->has_exit_status = true;
    h->exit_status = dt_le32(p);
}

/* PROCESS_BASIC_INFORMATION: ExitStatus 0, then PebBaseAddress, AffinityMask,
 * BasePriority, UniqueProcessId (64-bit: 0x20; 32-bit: 0x10). */
static void decode_process_info(const uint8_t *p, uint32_t size, dt_handle *h)
{
    if (size >= 0x30)
        h->owner_process_id = (uint32_t)dt_le64(p + 0x20);
    else if (size >= 0x18)
        h->owner_process_id = dt_le32(p + 0x10);
    else
        return;
    h->has_exit_status = true;
    h->exit_status = dt_le32(p);
}

/* MUTANT_BASIC_INFORMATION {CurrentCount, OwnedByCaller, AbandonedState};
 * MUTANT_OWNER_INFORMATION {ClientId}: the owner's thread id. */
static void decode_object_payload(const uint8_t *p, uint32_t type, uint32_t size, dt_handle *h)
{
    switch (type) {
    case DT_HANDLE_INFO_THREAD1:
        decode_thread_info(p, size, h);
        break;
    case DT_HANDLE_INFO_PROCESS1:
    case DT_HANDLE_INFO_PROCESS2:
        decode_process_info(p, size, h);
        break;
    case DT_HANDLE_INFO_MUTANT1:
        if (size >= 6) {
            h->has_mutant = true;
            h->mutant_count = (int32_t)dt_le32(p);
            h->mutant_abandoned = p[5] != 0;
        }
        break;
    case DT_HANDLE_INFO_MUTANT2:
        if (size >= 16)
            h->owner_thread_id = (uint32_t)dt_le64(p + 8);
        else if (size >= 8)
            h->owner_thread_id = dt_le32(p + 4);
        break;
    default:
        break;
    }
}

/* MINIDUMP_HANDLE_OBJECT_INFORMATION: NextInfoRva 0, InfoType 4, SizeOfInfo 8,
 * payload at 12. The chain is followed at most DT_MAX_OBJECT_INFO_CHAIN deep. */
static void decode_object_chain(dt_dump *d, uint32_t rva, const char *structure, dt_handle *h)
{
    dt_handle_object_info infos[DT_MAX_OBJECT_INFO_CHAIN];
    size_t count = 0;
    while (rva != 0 && count < DT_MAX_OBJECT_INFO_CHAIN) {
        const uint8_t *p, *payload;
        if (!dt_dump_file_span(d, rva, OBJECT_INFO_HEADER, &p)) {
            dt_dump_diag(d, DT_DIAG_WARNING, structure, rva, "object information is past the end");
            break;
        }
        uint32_t type = dt_le32(p + 4), size = dt_le32(p + 8);
        if (!dt_dump_file_span(d, (uint64_t)rva + OBJECT_INFO_HEADER, size, &payload)) {
            dt_dump_diag(d, DT_DIAG_WARNING, structure, rva,
                         "object information of %u bytes runs past the end", size);
            break;
        }
        infos[count++] = (dt_handle_object_info){type, size, (uint64_t)rva + OBJECT_INFO_HEADER};
        decode_object_payload(payload, type, size, h);
        rva = dt_le32(p);
    }
    if (rva != 0 && count == DT_MAX_OBJECT_INFO_CHAIN)
        dt_dump_diag(d, DT_DIAG_WARNING, structure, rva,
                     "object information chain longer than %d entries", DT_MAX_OBJECT_INFO_CHAIN);
    dt_handle_object_info *copy = count ? dt_arena_array(&d->arena, count, sizeof *copy) : NULL;
    if (copy) {
        for (size_t i = 0; i < count; i++)
            copy[i] = infos[i];
        h->infos = copy;
        h->info_count = count;
    }
}

static const char *optional_string(dt_dump *d, uint32_t rva, const char *structure)
{
    const char *s = rva ? dt_dump_string_at(d, rva, structure) : NULL;
    return s ? s : "";
}

/* MINIDUMP_HANDLE_DESCRIPTOR(_2): Handle 0, TypeNameRva 8, ObjectNameRva 0xC,
 * Attributes 0x10, GrantedAccess 0x14, HandleCount 0x18, PointerCount 0x1C,
 * (_2) ObjectInfoRva 0x20. */
static void decode_handle(dt_dump *d, const uint8_t *p, size_t entry_size, size_t index,
                          dt_handle *h)
{
    char structure[64];
    snprintf(structure, sizeof structure, "HandleData descriptor %zu", index);
    h->handle = dt_le64(p);
    h->type_name = optional_string(d, dt_le32(p + 8), structure);
    h->object_name = optional_string(d, dt_le32(p + 0xC), structure);
    h->attributes = dt_le32(p + 0x10);
    h->granted_access = dt_le32(p + 0x14);
    h->handle_count = dt_le32(p + 0x18);
    h->pointer_count = dt_le32(p + 0x1C);
    h->exit_status = STATUS_PENDING;
    if (entry_size >= DESCRIPTOR_2_SIZE)
        decode_object_chain(d, dt_le32(p + 0x20), structure, h);
}

/* MINIDUMP_HANDLE_DATA_STREAM: SizeOfHeader 0, SizeOfDescriptor 4,
 * NumberOfDescriptors 8, Reserved 0xC. The descriptor size says which
 * version is used; it is trusted over the version of the writer. */
void dt_decode_handle_data(dt_stream_reader *r)
{
    dt_dump *d = r->dump;
    size_t first, entry_size;
    size_t count = dt_sized_entries(r, false, DESCRIPTOR_MIN, DT_MAX_HANDLES, &first, &entry_size);
    if (first < HANDLE_HEADER_MIN && count) {
        dt_dump_diag(d, DT_DIAG_ERROR, r->stream->name, dt_stream_offset(r, 0),
                     "SizeOfHeader %zu is smaller than 16", first);
        return;
    }
    d->handles = dt_arena_array(&d->arena, count ? count : 1, sizeof *d->handles);
    if (!d->handles)
        return;
    for (size_t i = 0; i < count; i++)
        decode_handle(d, r->bytes + first + i * entry_size, entry_size, i, &d->handles[i]);
    d->handle_count = count;
}
