/*
 * Names of inlined functions from the id stream (IPI, stream 4) and the
 * type stream (TPI, stream 2). Both can be hundreds of megabytes, so
 * neither is materialized: a record is found from the hash stream's
 * IndexOffsetBuffer (the offset of every few kilobytes of records) by
 * walking the records after the nearest entry, and read alone
 * (llvm.org/docs/PDB/TpiStream.md; record layouts: CodeViewTypes.md and
 * microsoft-pdb include/cvinfo.h: lfFuncId, lfMFuncId, lfStringId,
 * lfClass, lfUnion, lfEnum).
 */
#include "symbols/pdb_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"

enum {
    TPI_STREAM = 2,
    IPI_STREAM = 4,
    /* TpiStreamHeader: 4 HeaderSize, 8 TypeIndexBegin, 0xC TypeIndexEnd,
     * 0x14 HashStreamIndex u16, 0x28 IndexOffsetBufferOffset,
     * 0x2C IndexOffsetBufferLength. */
    TPI_HEADER_SIZE = 56,
    MAX_INDEX_OFFSETS = 1 << 22,
    MAX_RECORDS_WALKED = 1 << 16, /* between two index-offset entries */
    RECORD_BUFFER_SIZE = 0x10000, /* u16 RecordLen bytes after the length */
    LF_CLASS = 0x1504,
    LF_STRUCTURE = 0x1505,
    LF_UNION = 0x1506,
    LF_ENUM = 0x1507,
    LF_INTERFACE = 0x1519,
    LF_FUNC_ID = 0x1601,
    LF_MFUNC_ID = 0x1602,
    LF_STRING_ID = 0x1605,
    LF_NUMERIC = 0x8000,
};

/* IndexOffsetBuffer of the hash stream: {u32 TypeIndex, u32 Offset} pairs,
 * offsets counted from the first record, sorted by index. */
static void load_index_offsets(dt_pdb *pdb, const uint8_t *header, pdb_record_stream *rs)
{
    uint32_t hash_stream = dt_le16(header + 0x14);
    int32_t at = (int32_t)dt_le32(header + 0x28);
    uint32_t length = dt_le32(header + 0x2C);
    size_t count = length / 8;
    if (hash_stream == 0xFFFF || at < 0 || count == 0 || count > MAX_INDEX_OFFSETS)
        return;
    rs->index_offsets = malloc(count * 8);
    if (rs->index_offsets &&
        pdb_stream_read(pdb, hash_stream, (uint32_t)at, (uint8_t *)rs->index_offsets, count * 8)) {
        for (size_t i = 0; i < 2 * count; i++)
            rs->index_offsets[i] = dt_le32((const uint8_t *)&rs->index_offsets[i]);
        rs->index_offset_count = count;
        return;
    }
    free(rs->index_offsets);
    rs->index_offsets = NULL;
}

static bool load_record_stream(dt_pdb *pdb, uint32_t stream, pdb_record_stream *rs)
{
    if (rs->state != PDB_UNLOADED)
        return rs->state == PDB_LOADED;
    rs->state = PDB_FAILED;
    uint8_t header[TPI_HEADER_SIZE];
    if (!pdb_stream_read(pdb, stream, 0, header, sizeof header))
        return false;
    rs->header_size = dt_le32(header + 4);
    rs->first_index = dt_le32(header + 8);
    rs->end_index = dt_le32(header + 0xC);
    if (rs->header_size < TPI_HEADER_SIZE || rs->first_index > rs->end_index) {
        pdb_diag(pdb, stream, 4, "TpiStreamHeader", "HeaderSize %u or index range %u..%u is bad",
                 rs->header_size, rs->first_index, rs->end_index);
        return false;
    }
    load_index_offsets(pdb, header, rs);
    if (!pdb->record_buffer && !(pdb->record_buffer = malloc(RECORD_BUFFER_SIZE)))
        return false;
    rs->state = PDB_LOADED;
    return true;
}

/* The entry with the largest TypeIndex <= `index`, else the first record. */
static void nearest_index_offset(const pdb_record_stream *rs, uint32_t index, uint32_t *from,
                                 uint32_t *offset)
{
    size_t lo = 0, hi = rs->index_offset_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rs->index_offsets[2 * mid] <= index)
            lo = mid + 1;
        else
            hi = mid;
    }
    *from = rs->first_index;
    *offset = 0;
    if (lo > 0 && rs->index_offsets[2 * (lo - 1)] >= rs->first_index) {
        *from = rs->index_offsets[2 * (lo - 1)];
        *offset = rs->index_offsets[2 * (lo - 1) + 1];
    }
}

/* Reads record `index` (u16 RecordLen, u16 RecordKind, payload) into the
 * record buffer; `*kind`, `*payload` and `*length` describe it. */
static bool read_record(dt_pdb *pdb, uint32_t stream, pdb_record_stream *rs, uint32_t index,
                        uint16_t *kind, const uint8_t **payload, uint32_t *length)
{
    if (!load_record_stream(pdb, stream, rs) || index < rs->first_index ||
        index >= rs->end_index)
        return false;
    uint32_t current, offset;
    nearest_index_offset(rs, index, &current, &offset);
    uint64_t pos = (uint64_t)rs->header_size + offset;
    uint8_t prefix[2];
    for (uint32_t walked = 0; current < index; current++, walked++) {
        if (walked == MAX_RECORDS_WALKED || pos > UINT32_MAX ||
            !pdb_stream_read(pdb, stream, (uint32_t)pos, prefix, 2))
            return false;
        pos += 2 + (uint64_t)dt_le16(prefix);
    }
    if (pos > UINT32_MAX || !pdb_stream_read(pdb, stream, (uint32_t)pos, prefix, 2))
        return false;
    uint32_t record_length = dt_le16(prefix);
    if (record_length < 2 ||
        !pdb_stream_read(pdb, stream, (uint32_t)pos + 2, pdb->record_buffer, record_length))
        return false;
    *kind = dt_le16(pdb->record_buffer);
    *payload = pdb->record_buffer + 2;
    *length = record_length - 2;
    return true;
}

/* A NUL-terminated name at `at` of a payload, copied into the arena. */
static const char *payload_name(dt_pdb *pdb, const uint8_t *payload, uint32_t length,
                                uint32_t at)
{
    if (at >= length)
        return NULL;
    const uint8_t *end = memchr(payload + at, 0, length - at);
    return end ? dt_arena_strndup(&pdb->arena, (const char *)payload + at,
                                  (size_t)(end - payload - at))
               : NULL;
}

/* Size of a numeric leaf: a u16 below LF_NUMERIC is the value itself;
 * otherwise the u16 names the type of the value that follows. */
static uint32_t numeric_leaf_size(const uint8_t *p, uint32_t available)
{
    if (available < 2)
        return 0;
    uint16_t leaf = dt_le16(p);
    if (leaf < LF_NUMERIC)
        return 2;
    static const uint8_t value_size[] = {1, 2, 2, 4, 4, 0, 0, 0, 0, 8, 8};
    size_t which = (size_t)leaf - LF_NUMERIC;
    uint32_t size = which < sizeof value_size ? value_size[which] : 0;
    return size && size + 2 <= available ? size + 2 : 0;
}

/* The name of a class, structure, interface, union or enum type: after
 * u16 count, u16 property and the fields of its kind, then a numeric size
 * leaf (not for enums). */
static const char *type_name(dt_pdb *pdb, uint32_t type)
{
    uint16_t kind;
    const uint8_t *p;
    uint32_t length;
    if (!read_record(pdb, TPI_STREAM, &pdb->types, type, &kind, &p, &length))
        return NULL;
    uint32_t fixed = kind == LF_CLASS || kind == LF_STRUCTURE || kind == LF_INTERFACE ? 16
                     : kind == LF_UNION ? 8
                     : kind == LF_ENUM ? 12 : 0;
    if (fixed == 0 || fixed > length)
        return NULL;
    uint32_t size_leaf = kind == LF_ENUM ? 0 : numeric_leaf_size(p + fixed, length - fixed);
    if (kind != LF_ENUM && size_leaf == 0)
        return NULL;
    return payload_name(pdb, p, length, fixed + size_leaf);
}

/* lfStringId: u32 id (a substring list), the string. */
static const char *string_id(dt_pdb *pdb, uint32_t item)
{
    uint16_t kind;
    const uint8_t *p;
    uint32_t length;
    if (!read_record(pdb, IPI_STREAM, &pdb->ids, item, &kind, &p, &length) ||
        kind != LF_STRING_ID)
        return NULL;
    return payload_name(pdb, p, length, 4);
}

/* The last component of a qualified name, ignoring "::" inside template
 * arguments: "std::vector<a::b>" gives "vector<a::b>". */
static const char *last_component(const char *name)
{
    const char *last = name;
    int depth = 0;
    for (const char *c = name; *c; c++) {
        depth += *c == '<' ? 1 : *c == '>' ? -1 : 0;
        if (depth == 0 && c[0] == ':' && c[1] == ':')
            last = c + 2;
    }
    return last;
}

/* scope::name, with the {ctor} and {dtor} of member functions spelled as
 * C++ spells them. */
static const char *qualified(dt_pdb *pdb, const char *scope, const char *name)
{
    if (!scope)
        return name;
    if (strcmp(name, "{ctor}") == 0)
        return dt_arena_printf(&pdb->arena, "%s::%s", scope, last_component(scope));
    if (strcmp(name, "{dtor}") == 0)
        return dt_arena_printf(&pdb->arena, "%s::~%s", scope, last_component(scope));
    return dt_arena_printf(&pdb->arena, "%s::%s", scope, name);
}

/* lfFuncId: u32 scopeId (an LF_STRING_ID, or 0), u32 type, name.
 * lfMFuncId: u32 parentType (the class, in TPI), u32 type, name. */
static const char *make_inlinee_name(dt_pdb *pdb, uint32_t item)
{
    uint16_t kind;
    const uint8_t *p;
    uint32_t length;
    if (!read_record(pdb, IPI_STREAM, &pdb->ids, item, &kind, &p, &length) ||
        (kind != LF_FUNC_ID && kind != LF_MFUNC_ID) || length < 8)
        return NULL;
    uint32_t parent = dt_le32(p);
    const char *name = payload_name(pdb, p, length, 8);
    if (!name || parent == 0)
        return name;
    const char *scope = kind == LF_FUNC_ID ? string_id(pdb, parent) : type_name(pdb, parent);
    return qualified(pdb, scope, name);
}

/* ---- The names made, by item id ---- */

static size_t name_slot(const dt_pdb *pdb, uint32_t item)
{
    size_t mask = pdb->name_capacity - 1;
    size_t i = (item * 2654435761u) & mask;
    while (pdb->name_keys[i] != 0 && pdb->name_keys[i] != item)
        i = (i + 1) & mask;
    return i;
}

static bool grow_names(dt_pdb *pdb)
{
    size_t old_capacity = pdb->name_capacity, capacity = old_capacity ? old_capacity * 2 : 64;
    uint32_t *old_keys = pdb->name_keys, *keys = calloc(capacity, sizeof *keys);
    const char **old_values = pdb->name_values, **values = calloc(capacity, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return false;
    }
    pdb->name_keys = keys;
    pdb->name_values = values;
    pdb->name_capacity = capacity;
    for (size_t i = 0; i < old_capacity; i++) {
        if (old_keys[i] == 0)
            continue;
        size_t slot = name_slot(pdb, old_keys[i]);
        keys[slot] = old_keys[i];
        values[slot] = old_values[i];
    }
    free(old_keys);
    free(old_values);
    return true;
}

const char *pdb_inlinee_name(dt_pdb *pdb, uint32_t item)
{
    if (item == 0)
        return NULL;
    if (pdb->name_count * 2 >= pdb->name_capacity && !grow_names(pdb))
        return make_inlinee_name(pdb, item);
    size_t slot = name_slot(pdb, item);
    if (pdb->name_keys[slot] == item)
        return pdb->name_values[slot];
    const char *name = make_inlinee_name(pdb, item);
    pdb->name_keys[slot] = item;
    pdb->name_values[slot] = name;
    pdb->name_count++;
    return name;
}

void pdb_free_types(dt_pdb *pdb)
{
    free(pdb->types.index_offsets);
    free(pdb->ids.index_offsets);
    free(pdb->record_buffer);
    free(pdb->name_keys);
    free(pdb->name_values);
}
