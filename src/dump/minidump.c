/*
 * Opening a minidump: signature sniffing, MINIDUMP_HEADER, the stream
 * directory (MINIDUMP_DIRECTORY[]), and dispatch to the stream decoders.
 */
#include "dump/dump_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

enum { HEADER_SIZE = 0x20, DIRECTORY_ENTRY_SIZE = 12, MDMP_SIGNATURE = 0x504D444D,
       MDMP_VERSION_LOW = 0xA793 };

void dt_dump_diag(dt_dump *d, dt_diag_level level, const char *structure, int64_t offset,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dt_diag_vadd(&d->diags, &d->arena, level, structure, offset, fmt, ap);
    va_end(ap);
}

bool dt_dump_file_span(const dt_dump *d, uint64_t rva, uint64_t size, const uint8_t **out)
{
    return dt_span_at(d->file.data, (size_t)d->file.size, rva, size, out);
}

bool dt_dump_spend_string_budget(dt_dump *d, size_t bytes, const char *structure, uint32_t rva)
{
    if (bytes <= d->string_budget) {
        d->string_budget -= bytes;
        return true;
    }
    if (!d->string_budget_noted)
        dt_dump_diag(d, DT_DIAG_ERROR, structure, rva,
                     "strings exceed twice the file size; further strings are not read");
    d->string_budget_noted = true;
    return false;
}

const char *dt_dump_string_at(dt_dump *d, uint32_t rva, const char *structure)
{
    const uint8_t *p;
    if (!dt_dump_file_span(d, rva, 4, &p)) {
        dt_dump_diag(d, DT_DIAG_WARNING, structure, rva, "string RVA is past the end of the file");
        return NULL;
    }
    /* MINIDUMP_STRING: u32 Length in bytes (no terminator), then UTF-16LE. */
    uint32_t length = dt_le32(p);
    uint32_t readable = length;
    if (length > DT_MAX_STRING_BYTES)
        readable = DT_MAX_STRING_BYTES;
    if (!dt_dump_file_span(d, (uint64_t)rva + 4, readable, &p)) {
        dt_dump_diag(d, DT_DIAG_WARNING, structure, rva,
                     "string of %u bytes runs past the end of the file", length);
        return NULL;
    }
    if (length != readable)
        dt_dump_diag(d, DT_DIAG_WARNING, structure, rva,
                     "string of %u bytes truncated to %u", length, readable);
    if (!dt_dump_spend_string_budget(d, readable, structure, rva))
        return NULL;
    return dt_utf16le_to_utf8(&d->arena, p, readable / 2);
}

/* Refuses inputs that are not minidumps, naming what they are when known. */
static dt_status check_signature(const dt_mapped_file *f, const char *label, dt_error *err)
{
    const uint8_t *p = f->data;
    if (f->size >= 8 && (memcmp(p, "PAGEDU64", 8) == 0 || memcmp(p, "PAGEDUMP", 8) == 0))
        return dt_error_set(err, DT_ERR_UNSUPPORTED, label, "DUMP_HEADER", 0,
                            "Windows kernel dump (%.8s) is not supported yet", (const char *)p);
    if (f->size >= 4 && memcmp(p, "\x7f" "ELF", 4) == 0)
        return dt_error_set(err, DT_ERR_UNSUPPORTED, label, "ELF header", 0,
                            "ELF core files are not supported");
    if (f->size < HEADER_SIZE)
        return dt_error_set(err, DT_ERR_FORMAT, label, "MINIDUMP_HEADER", 0,
                            "file of %llu bytes is too small for a minidump header",
                            (unsigned long long)f->size);
    if (dt_le32(p) != MDMP_SIGNATURE)
        return dt_error_set(err, DT_ERR_FORMAT, label, "MINIDUMP_HEADER", 0,
                            "not a minidump: signature 0x%08x is not MDMP", dt_le32(p));
    return DT_OK;
}

static void read_header(dt_dump *d)
{
    const uint8_t *p = d->file.data;
    /* MINIDUMP_HEADER: Signature, Version, NumberOfStreams, StreamDirectoryRva,
     * CheckSum, TimeDateStamp, Flags (u64). */
    d->header.version = dt_le32(p + 4);
    d->header.stream_count = dt_le32(p + 8);
    d->header.directory_rva = dt_le32(p + 0xC);
    d->header.checksum = dt_le32(p + 0x10);
    d->header.timestamp = dt_le32(p + 0x14);
    d->header.flags = dt_le64(p + 0x18);
    if ((d->header.version & 0xFFFF) != MDMP_VERSION_LOW)
        dt_dump_diag(d, DT_DIAG_WARNING, "MINIDUMP_HEADER", 4,
                     "unexpected version 0x%08x (low 16 bits should be 0xa793)",
                     d->header.version);
}

/* Reads MINIDUMP_DIRECTORY entries; keeps the intact ones when truncated. */
static dt_status read_directory(dt_dump *d, const char *label, dt_error *err)
{
    uint32_t count = d->header.stream_count;
    uint64_t rva = d->header.directory_rva;
    if (count > DT_MAX_STREAMS) {
        dt_dump_diag(d, DT_DIAG_ERROR, "stream directory", (int64_t)rva,
                     "%u streams exceed the cap of %d; reading the first %d", count,
                     DT_MAX_STREAMS, DT_MAX_STREAMS);
        count = DT_MAX_STREAMS;
    }
    uint64_t fit = rva <= d->file.size ? (d->file.size - rva) / DIRECTORY_ENTRY_SIZE : 0;
    if (fit < count) {
        if (fit == 0)
            return dt_error_set(err, DT_ERR_FORMAT, label, "stream directory", (int64_t)rva,
                                "directory of %u entries lies past the end of the file", count);
        dt_dump_diag(d, DT_DIAG_ERROR, "stream directory", (int64_t)rva,
                     "directory is truncated: %llu of %u entries present",
                     (unsigned long long)fit, count);
        count = (uint32_t)fit;
    }
    d->streams = dt_arena_array(&d->arena, count ? count : 1, sizeof *d->streams);
    if (!d->streams)
        return dt_error_set(err, DT_ERR_NOMEM, label, NULL, -1, "out of memory");
    const uint8_t *p = d->file.data + rva;
    for (uint32_t i = 0; i < count; i++, p += DIRECTORY_ENTRY_SIZE) {
        uint32_t type = dt_le32(p);
        if (type == 0)
            continue; /* UnusedStream */
        dt_stream *s = &d->streams[d->stream_count++];
        s->type = type;
        s->size = dt_le32(p + 4);
        s->rva = dt_le32(p + 8);
        s->name = dt_stream_type_name(type);
        if (!strncmp(s->name, "vendor", 6) || !strncmp(s->name, "stream", 6))
            s->name = dt_arena_printf(&d->arena, "%s 0x%x", s->name, type);
    }
    return DT_OK;
}

static bool seen_before(const dt_dump *d, size_t index)
{
    for (size_t i = 0; i < index; i++)
        if (d->streams[i].type == d->streams[index].type &&
            d->streams[i].state == DT_STREAM_DECODED)
            return true;
    return false;
}

static void decode_stream(dt_dump *d, size_t index)
{
    dt_stream *s = &d->streams[index];
    dt_stream_decoder decoder = dt_stream_decoder_for(s->type);
    if (!decoder) {
        s->state = DT_STREAM_UNKNOWN;
        return;
    }
    if (seen_before(d, index)) {
        s->state = DT_STREAM_DUPLICATE;
        dt_dump_diag(d, DT_DIAG_WARNING, s->name, s->rva,
                     "duplicate %s stream ignored; the first copy is used", s->name);
        return;
    }
    if (s->size == 0) {
        s->state = DT_STREAM_EMPTY;
        dt_dump_diag(d, DT_DIAG_WARNING, s->name, s->rva, "stream is empty");
        return;
    }
    dt_stream_reader r = {d, s, NULL, s->size};
    if (!dt_dump_file_span(d, s->rva, s->size, &r.bytes)) {
        uint64_t available = s->rva < d->file.size ? d->file.size - s->rva : 0;
        if (available == 0) {
            s->state = DT_STREAM_DAMAGED;
            dt_dump_diag(d, DT_DIAG_ERROR, s->name, s->rva,
                         "stream of %u bytes lies past the end of the file", s->size);
            return;
        }
        dt_dump_diag(d, DT_DIAG_ERROR, s->name, s->rva,
                     "stream of %u bytes is truncated to %llu by the end of the file", s->size,
                     (unsigned long long)available);
        r.bytes = d->file.data + s->rva;
        r.size = (size_t)available;
    }
    size_t diags_before = d->diags.count + d->diags.dropped;
    decoder(&r);
    bool errors = false;
    for (size_t i = diags_before; i < d->diags.count; i++)
        errors |= d->diags.items[i].level == DT_DIAG_ERROR;
    s->state = errors ? DT_STREAM_DAMAGED : DT_STREAM_DECODED;
}

/* SystemInfo decides how contexts are read, so it is decoded first. */
static void decode_streams(dt_dump *d)
{
    for (size_t i = 0; i < d->stream_count; i++)
        if (d->streams[i].type == MD_SYSTEM_INFO)
            decode_stream(d, i);
    for (size_t i = 0; i < d->stream_count; i++)
        if (d->streams[i].type != MD_SYSTEM_INFO)
            decode_stream(d, i);
}

/* Decodes an input that is already mapped; takes ownership of `d`. */
static dt_status decode(dt_dump **out, dt_dump *d, const char *label, dt_error *err)
{
    d->path = dt_arena_printf(&d->arena, "%s", label);
    d->string_budget = DT_STRING_BUDGET_FLOOR + 2 * d->file.size;
    dt_status st = d->path ? check_signature(&d->file, label, err)
                           : dt_error_set(err, DT_ERR_NOMEM, label, NULL, -1, "out of memory");
    if (st == DT_OK) {
        read_header(d);
        st = read_directory(d, label, err);
    }
    if (st != DT_OK) {
        dt_dump_free(d);
        return st;
    }
    decode_streams(d);
    dt_memory_finish(d);
    dt_threads_link(d);
    dt_dump_read_command_line(d);
    dt_diag_finish(&d->diags, &d->arena);
    *out = d;
    return DT_OK;
}

dt_status dt_dump_open(dt_dump **out, const char *path, const dt_open_options *options,
                       dt_error *err)
{
    *out = NULL;
    if (!path)
        return dt_error_set(err, DT_ERR_ARGUMENT, "(null)", NULL, -1, "no path given");
    dt_dump *d = calloc(1, sizeof *d);
    if (!d)
        return dt_error_set(err, DT_ERR_NOMEM, path, NULL, -1, "out of memory");
    dt_map_options map = {0, NULL};
    if (options) {
        map.max_inflated_size = options->max_inflated_size;
        map.temp_dir = options->temp_dir;
    }
    dt_status st = dt_map_file(&d->file, path, &map, err);
    if (st != DT_OK) {
        dt_dump_free(d);
        return st;
    }
    return decode(out, d, strcmp(path, "-") == 0 ? "<stdin>" : path, err);
}

dt_status dt_dump_open_memory(dt_dump **out, const void *bytes, size_t size, const char *label,
                              dt_error *err)
{
    *out = NULL;
    dt_dump *d = calloc(1, sizeof *d);
    if (!d)
        return dt_error_set(err, DT_ERR_NOMEM, label, NULL, -1, "out of memory");
    d->file.data = bytes;
    d->file.size = size;
    d->file.borrowed = true;
    return decode(out, d, label ? label : "<memory>", err);
}

void dt_dump_free(dt_dump *dump)
{
    if (!dump)
        return;
    dt_unmap_file(&dump->file);
    dt_diag_list_free(&dump->diags);
    free(dump->ranges);
    dt_arena_release(&dump->arena);
    free(dump);
}
