/*
 * The PDB info stream (stream 1: identity and the named stream map) and the
 * "/names" string table (llvm.org/docs/PDB/PdbStream.md, HashTable.md).
 */
#include "symbols/pdb_internal.h"

#include <string.h>

#include "base/cursor.h"

enum { PDB_INFO_STREAM = 1, NAMES_SIGNATURE = 0xEFFEEFFEu, MAX_NAMED_STREAMS = 1 << 16 };

/* Skips a serialized bit vector: u32 WordCount, u32 Words[WordCount]. */
static bool skip_bit_vector(dt_cursor *c)
{
    uint32_t words;
    return dt_cursor_u32(c, &words) && words <= MAX_NAMED_STREAMS &&
           dt_cursor_skip(c, 4ull * words);
}

/* Named stream map: u32 StringBytes, char Strings[StringBytes], then a hash
 * table: u32 Size, u32 Capacity, Present bit vector, Deleted bit vector,
 * and Size pairs {u32 key = offset of the name in Strings, u32 stream}. */
static void find_names_stream(dt_pdb *pdb, dt_cursor *c)
{
    uint32_t string_bytes, size, capacity;
    const uint8_t *strings;
    if (!dt_cursor_u32(c, &string_bytes) || !dt_cursor_bytes(c, string_bytes, &strings) ||
        !dt_cursor_u32(c, &size) || !dt_cursor_u32(c, &capacity) || size > capacity ||
        size > MAX_NAMED_STREAMS || !skip_bit_vector(c) || !skip_bit_vector(c)) {
        pdb_diag(pdb, PDB_INFO_STREAM, c->pos, "PDB info named stream map", "malformed");
        return;
    }
    for (uint32_t i = 0; i < size; i++) {
        uint32_t key, stream;
        if (!dt_cursor_u32(c, &key) || !dt_cursor_u32(c, &stream)) {
            pdb_diag(pdb, PDB_INFO_STREAM, c->pos, "PDB info named stream map",
                     "entry %u is truncated", i);
            return;
        }
        static const char names[] = "/names";
        if (key < string_bytes && string_bytes - key >= sizeof names &&
            memcmp(strings + key, names, sizeof names) == 0)
            pdb->names_stream = stream;
    }
}

/* PDB info header: 0 Version, 4 Signature, 8 Age, 0xC Guid[16], 0x1C the
 * named stream map. */
bool pdb_load_info(dt_pdb *pdb)
{
    if (pdb->info_state != PDB_UNLOADED)
        return pdb->info_state == PDB_LOADED;
    pdb->info_state = PDB_FAILED;
    uint32_t size;
    const uint8_t *data = pdb_stream_data(pdb, PDB_INFO_STREAM, &size);
    if (!data || size < 0x1C) {
        pdb_diag(pdb, PDB_INFO_STREAM, 0, "PDB info stream", "missing or shorter than 28 bytes");
        return false;
    }
    pdb->info_age = dt_le32(data + 8);
    memcpy(pdb->guid, data + 0xC, 16);
    dt_cursor c = dt_cursor_make(data, size);
    c.pos = 0x1C;
    find_names_stream(pdb, &c);
    pdb->info_state = PDB_LOADED;
    return true;
}

/* /names: 0 Signature 0xEFFEEFFE, 4 HashVersion, 8 ByteSize, 0xC the
 * string buffer (then a hash index this reader does not need). */
static bool load_names(dt_pdb *pdb)
{
    if (pdb->names_state != PDB_UNLOADED)
        return pdb->names_state == PDB_LOADED;
    pdb->names_state = PDB_FAILED;
    if (!pdb_load_info(pdb) || pdb->names_stream == PDB_NO_STREAM)
        return false;
    uint32_t size;
    const uint8_t *data = pdb_stream_data(pdb, pdb->names_stream, &size);
    if (!data)
        return false;
    if (size < 12 || dt_le32(data) != NAMES_SIGNATURE || dt_le32(data + 8) > size - 12) {
        pdb_diag(pdb, pdb->names_stream, 0, "/names string table",
                 "bad signature or buffer size");
        return false;
    }
    pdb->names = data + 12;
    pdb->names_size = dt_le32(data + 8);
    pdb->names_state = PDB_LOADED;
    return true;
}

const char *pdb_names_string(dt_pdb *pdb, uint32_t offset)
{
    if (!load_names(pdb) || offset >= pdb->names_size)
        return NULL;
    const uint8_t *s = pdb->names + offset;
    if (!memchr(s, 0, pdb->names_size - offset))
        return NULL;
    return (const char *)s;
}
