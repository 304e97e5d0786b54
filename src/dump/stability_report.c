/*
 * Chromium's stability report stream (0x4B6B0002): a protocol buffer
 * (components/stability_report/stability_report.proto). Only the Windows
 * memory and handle counters are read:
 *   StabilityReport { ProcessState process_states = 2;
 *                     SystemMemoryState system_memory_state = 7; }
 *   ProcessState { uint64 process_id = 3; MemoryState memory_state = 4;
 *                  FileSystemState file_system_state = 7; }
 *   MemoryState.windows_memory = 1 { process_private_usage = 1,
 *       process_peak_workingset_size = 2, process_peak_pagefile_usage = 3 }
 *   FileSystemState.windows_file_system_state = 2 { process_handle_count = 1 }
 *   SystemMemoryState.windows_memory = 1 { system_commit_limit = 1,
 *       system_commit_remaining = 2, system_handle_count = 3 }
 * Values are in pages where the source counts pages.
 */
#include "dump/dump_internal.h"

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5, MAX_FIELDS = 4096 };

typedef struct pb_field {
    uint32_t number;
    uint32_t wire;
    uint64_t value;          /* varint value */
    dt_cursor bytes;         /* WIRE_LEN payload */
} pb_field;

static bool read_varint(dt_cursor *c, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;
        if (!dt_cursor_u8(c, &b))
            return false;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Reads the next field; false at the end or on damage. */
static bool next_field(dt_cursor *c, pb_field *f)
{
    uint64_t key, length;
    if (dt_cursor_remaining(c) == 0 || !read_varint(c, &key))
        return false;
    f->number = (uint32_t)(key >> 3);
    f->wire = key & 7;
    switch (f->wire) {
    case WIRE_VARINT: return read_varint(c, &f->value);
    case WIRE_I64: return dt_cursor_skip(c, 8);
    case WIRE_I32: return dt_cursor_skip(c, 4);
    case WIRE_LEN:
        return read_varint(c, &length) && length <= dt_cursor_remaining(c) &&
               dt_cursor_sub(c, (size_t)length, &f->bytes);
    default: return false;
    }
}

/* Finds the first length-delimited field `number` of a message. */
static bool find_message(dt_cursor message, uint32_t number, dt_cursor *out)
{
    pb_field f;
    for (int i = 0; i < MAX_FIELDS && next_field(&message, &f); i++)
        if (f.number == number && f.wire == WIRE_LEN) {
            *out = f.bytes;
            return true;
        }
    return false;
}

/* Copies varint fields 1..n of a message into values[0..n-1]. */
static void read_varints(dt_cursor message, uint64_t *values, uint32_t n)
{
    pb_field f;
    for (int i = 0; i < MAX_FIELDS && next_field(&message, &f); i++)
        if (f.wire == WIRE_VARINT && f.number >= 1 && f.number <= n)
            values[f.number - 1] = f.value;
}

static void read_process(dt_cursor process, dt_stability_report *s)
{
    pb_field f;
    dt_cursor c = process, memory, windows, files;
    for (int i = 0; i < MAX_FIELDS && next_field(&c, &f); i++)
        if (f.number == 3 && f.wire == WIRE_VARINT)
            s->process_id = f.value;
    uint64_t counters[3] = {0};
    if (find_message(process, 4, &memory) && find_message(memory, 1, &windows)) {
        read_varints(windows, counters, 3);
        s->process_private_usage = counters[0];
        s->process_peak_working_set = counters[1];
        s->process_peak_pagefile_usage = counters[2];
    }
    if (find_message(process, 7, &files) && find_message(files, 2, &windows)) {
        read_varints(windows, counters, 1);
        s->process_handle_count = counters[0];
    }
}

void dt_decode_stability_report(dt_stream_reader *r)
{
    dt_stability_report *s = dt_arena_alloc(&r->dump->arena, sizeof *s);
    if (!s)
        return;
    dt_cursor report = dt_cursor_make(r->bytes, r->size), process, system, windows;
    if (find_message(report, 2, &process))
        read_process(process, s);
    if (find_message(report, 7, &system) && find_message(system, 1, &windows)) {
        uint64_t counters[3] = {0};
        read_varints(windows, counters, 3);
        s->system_commit_limit = counters[0];
        s->system_commit_remaining = counters[1];
        s->system_handle_count = counters[2];
    }
    r->dump->stability_report = s;
}

const dt_stability_report *dt_dump_stability_report(const dt_dump *dump)
{
    return dump->stability_report;
}
