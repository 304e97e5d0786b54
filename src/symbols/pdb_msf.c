/*
 * MSF 7.0 container: the superblock, the stream directory and stream reads.
 *
 * An MSF file is a sequence of fixed-size blocks. Block 0 holds the
 * superblock; the stream directory is scattered over blocks listed in
 * "block map" blocks, and each stream is scattered over the blocks its
 * directory entry lists (llvm.org/docs/PDB/MsfFile.md).
 */
#include "symbols/pdb_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/cursor.h"
#include "base/text.h"

static const char MSF7_MAGIC[32] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0\0";
static const char MSF2_MAGIC[] = "Microsoft C/C++ program database 2.00";

/* SuperBlock: 0 FileMagic[32], 0x20 BlockSize, 0x24 FreeBlockMapBlock,
 * 0x28 NumBlocks, 0x2C NumDirectoryBytes, 0x30 Unknown, 0x34 BlockMapAddr[]
 * (the blocks holding the directory's block list, as many as it needs). */
enum {
    SB_BLOCK_SIZE = 0x20,
    SB_NUM_BLOCKS = 0x28,
    SB_DIRECTORY_BYTES = 0x2C,
    SB_BLOCK_MAP = 0x34,
    SB_MIN_SIZE = 0x38,
};

/* Bytes copied into stream buffers are capped at this multiple of the file
 * size: honest streams never share blocks, hostile ones may. */
enum { MATERIALIZE_FACTOR = 4 };

void pdb_diag(dt_pdb *pdb, uint32_t stream, uint64_t offset, const char *structure,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dt_diag_vadd(&pdb->diags, &pdb->arena, DT_DIAG_WARNING, structure,
                 pdb_file_offset(pdb, stream, offset), fmt, ap);
    va_end(ap);
}

static bool valid_block_size(uint32_t size)
{
    return size >= 512 && size <= 32768 && (size & (size - 1)) == 0;
}

static dt_status check_magic(const dt_pdb *pdb, dt_error *err)
{
    if (pdb->size >= 4 && memcmp(pdb->bytes, "BSJB", 4) == 0)
        return dt_error_set(err, DT_ERR_UNSUPPORTED, pdb->label, "PDB header", 0,
                            "a Portable PDB (BSJB, .NET metadata), not an MSF PDB");
    if (pdb->size >= sizeof MSF2_MAGIC - 1 &&
        memcmp(pdb->bytes, MSF2_MAGIC, sizeof MSF2_MAGIC - 1) == 0)
        return dt_error_set(err, DT_ERR_UNSUPPORTED, pdb->label, "MSF superblock", 0,
                            "an MSF 2.00 (VC6-era) PDB; only MSF 7.00 is supported");
    if (pdb->size < SB_MIN_SIZE)
        return dt_error_set(err, DT_ERR_FORMAT, pdb->label, "MSF superblock", 0,
                            "file of %zu bytes is shorter than the superblock", pdb->size);
    if (memcmp(pdb->bytes, MSF7_MAGIC, sizeof MSF7_MAGIC) != 0)
        return dt_error_set(err, DT_ERR_FORMAT, pdb->label, "MSF superblock", 0,
                            "not an MSF 7.00 file (bad magic)");
    return DT_OK;
}

/* Reads the superblock's geometry fields. */
static dt_status read_geometry(dt_pdb *pdb, dt_error *err)
{
    pdb->block_size = dt_le32(pdb->bytes + SB_BLOCK_SIZE);
    if (!valid_block_size(pdb->block_size))
        return dt_error_set(err, DT_ERR_FORMAT, pdb->label, "MSF superblock", SB_BLOCK_SIZE,
                            "block size %u is not a power of two in 512..32768",
                            pdb->block_size);
    if (pdb->size < pdb->block_size)
        return dt_error_set(err, DT_ERR_FORMAT, pdb->label, "MSF superblock", 0,
                            "file is shorter than one %u-byte block", pdb->block_size);
    uint32_t declared = dt_le32(pdb->bytes + SB_NUM_BLOCKS);
    uint64_t present = pdb->size / pdb->block_size;
    pdb->block_count = declared < present ? declared : (uint32_t)present;
    if (declared > present)
        dt_diag_add(&pdb->diags, &pdb->arena, DT_DIAG_WARNING, "MSF superblock", SB_NUM_BLOCKS,
                    "%u blocks declared, %llu present: the file is truncated", declared,
                    (unsigned long long)present);
    return DT_OK;
}

/* Byte offset in the file of directory block number `i`, read from the
 * block map blocks named in the superblock. -1 when out of range. */
static int64_t directory_block_offset(const dt_pdb *pdb, uint32_t i)
{
    uint32_t per_map_block = pdb->block_size / 4;
    uint64_t slot = SB_BLOCK_MAP + 4ull * (i / per_map_block);
    if (slot + 4 > pdb->block_size)
        return -1;
    uint32_t map_block = dt_le32(pdb->bytes + slot);
    if (map_block >= pdb->block_count)
        return -1;
    uint64_t entry = (uint64_t)map_block * pdb->block_size + 4ull * (i % per_map_block);
    uint32_t block = dt_le32(pdb->bytes + entry);
    if (block >= pdb->block_count)
        return -1;
    return (int64_t)block * pdb->block_size;
}

/* Copies the stream directory out of its blocks. */
static dt_status read_directory(dt_pdb *pdb, dt_error *err)
{
    uint32_t bytes = dt_le32(pdb->bytes + SB_DIRECTORY_BYTES);
    if (bytes < 4 || bytes > pdb->size)
        return dt_error_set(err, DT_ERR_FORMAT, pdb->label, "MSF superblock", SB_DIRECTORY_BYTES,
                            "stream directory size %u is outside 4..%zu", bytes, pdb->size);
    pdb->directory = malloc(bytes);
    if (!pdb->directory)
        return dt_error_set(err, DT_ERR_NOMEM, pdb->label, "stream directory", -1,
                            "out of memory");
    pdb->directory_size = bytes;
    uint32_t blocks = (uint32_t)((bytes + (uint64_t)pdb->block_size - 1) / pdb->block_size);
    for (uint32_t i = 0; i < blocks; i++) {
        int64_t at = directory_block_offset(pdb, i);
        if (at < 0)
            return dt_error_set(err, DT_ERR_FORMAT, pdb->label, "MSF block map", SB_BLOCK_MAP,
                                "directory block %u is past the end of the file", i);
        size_t done = (size_t)i * pdb->block_size;
        size_t n = bytes - done < pdb->block_size ? bytes - done : pdb->block_size;
        memcpy(pdb->directory + done, pdb->bytes + at, n);
    }
    return DT_OK;
}

/* Directory: u32 NumStreams, u32 StreamSizes[NumStreams] (0xFFFFFFFF =
 * nil), then each stream's u32 block list, ceil(size / BlockSize) long. */
static dt_status parse_directory(dt_pdb *pdb, dt_error *err)
{
    int64_t dir_at = directory_block_offset(pdb, 0);
    uint32_t count = dt_le32(pdb->directory);
    if (count > PDB_MAX_STREAMS)
        return dt_error_set(err, DT_ERR_LIMIT, pdb->label, "stream directory", dir_at,
                            "NumStreams %u exceeds the cap of %u", count, PDB_MAX_STREAMS);
    if (4 + 4ull * count > pdb->directory_size)
        return dt_error_set(err, DT_ERR_FORMAT, pdb->label, "stream directory", dir_at,
                            "%u streams do not fit in a %zu-byte directory", count,
                            pdb->directory_size);
    pdb->streams = calloc(count ? count : 1, sizeof *pdb->streams);
    if (!pdb->streams)
        return dt_error_set(err, DT_ERR_NOMEM, pdb->label, "stream directory", -1,
                            "out of memory");
    pdb->stream_count = count;
    uint64_t cursor = 4 + 4ull * count;
    for (uint32_t i = 0; i < count; i++) {
        pdb_stream *s = &pdb->streams[i];
        uint32_t size = dt_le32(pdb->directory + 4 + 4ull * i);
        s->size = size == 0xFFFFFFFFu ? 0 : size;
        s->block_count = (uint32_t)((s->size + (uint64_t)pdb->block_size - 1) / pdb->block_size);
        s->blocks_at = (size_t)cursor;
        cursor += 4ull * s->block_count;
        if (cursor > pdb->directory_size)
            return dt_error_set(err, DT_ERR_FORMAT, pdb->label, "stream directory", dir_at,
                                "block list of stream %u (size %u) runs past the %zu-byte "
                                "directory", i, size, pdb->directory_size);
    }
    return DT_OK;
}

dt_status pdb_msf_open(dt_pdb *pdb, dt_error *err)
{
    dt_status st = check_magic(pdb, err);
    if (st == DT_OK)
        st = read_geometry(pdb, err);
    if (st == DT_OK)
        st = read_directory(pdb, err);
    if (st == DT_OK)
        st = parse_directory(pdb, err);
    return st;
}

static uint32_t stream_block(const dt_pdb *pdb, const pdb_stream *s, uint32_t j)
{
    return dt_le32(pdb->directory + s->blocks_at + 4ull * j);
}

int64_t pdb_file_offset(const dt_pdb *pdb, uint32_t stream, uint64_t offset)
{
    if (stream >= pdb->stream_count)
        return -1;
    const pdb_stream *s = &pdb->streams[stream];
    uint64_t j = offset / pdb->block_size;
    if (j >= s->block_count)
        return -1;
    uint32_t block = stream_block(pdb, s, (uint32_t)j);
    if (block >= pdb->block_count)
        return -1;
    return (int64_t)((uint64_t)block * pdb->block_size + offset % pdb->block_size);
}

/* Copies stream bytes [offset, offset + n) block by block; false when a
 * block index is out of range. The caller checked the range. */
static bool copy_stream(const dt_pdb *pdb, const pdb_stream *s, uint32_t offset, uint8_t *out,
                        size_t n, uint32_t *bad_block)
{
    while (n > 0) {
        uint32_t j = offset / pdb->block_size;
        uint32_t within = offset % pdb->block_size;
        uint32_t block = stream_block(pdb, s, j);
        if (block >= pdb->block_count) {
            *bad_block = j;
            return false;
        }
        size_t take = pdb->block_size - within;
        if (take > n)
            take = n;
        memcpy(out, pdb->bytes + (uint64_t)block * pdb->block_size + within, take);
        out += take;
        offset += (uint32_t)take;
        n -= take;
    }
    return true;
}

bool pdb_stream_read(dt_pdb *pdb, uint32_t stream, uint32_t offset, uint8_t *out, size_t n)
{
    if (stream >= pdb->stream_count)
        return false;
    const pdb_stream *s = &pdb->streams[stream];
    uint32_t bad = 0;
    if (offset > s->size || n > s->size - offset)
        return false;
    if (copy_stream(pdb, s, offset, out, n, &bad))
        return true;
    pdb_diag(pdb, stream, 0, "stream directory",
             "block %u of stream %u is past the end of the file", bad, stream);
    return false;
}

/* Materializes a stream after checking its size against the budget. */
static bool materialize(dt_pdb *pdb, uint32_t stream, pdb_stream *s)
{
    char what[32];
    snprintf(what, sizeof what, "stream %u", stream);
    uint64_t total;
    if (s->size > pdb->size || !dt_add_u64(pdb->materialized, s->size, &total) ||
        total > (uint64_t)MATERIALIZE_FACTOR * pdb->size) {
        pdb_diag(pdb, stream, 0, what, "size %u exceeds the file or the read budget", s->size);
        return false;
    }
    s->data = malloc(s->size ? s->size : 1);
    if (!s->data) {
        pdb_diag(pdb, stream, 0, what, "out of memory for %u bytes", s->size);
        return false;
    }
    uint32_t bad = 0;
    if (!copy_stream(pdb, s, 0, s->data, s->size, &bad)) {
        pdb_diag(pdb, stream, 0, what, "block %u of stream %u is past the end of the file", bad,
                 stream);
        free(s->data);
        s->data = NULL;
        return false;
    }
    pdb->materialized = total;
    return true;
}

const uint8_t *pdb_stream_data(dt_pdb *pdb, uint32_t stream, uint32_t *size)
{
    *size = 0;
    if (stream >= pdb->stream_count)
        return NULL;
    pdb_stream *s = &pdb->streams[stream];
    if (!s->data && !s->load_failed && !materialize(pdb, stream, s))
        s->load_failed = true;
    if (!s->data)
        return NULL;
    *size = s->size;
    return s->data;
}
