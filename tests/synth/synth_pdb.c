/* synth_pdb: PDB (MSF 7.00) writer for tests. Layouts: see synth_pdb.h. */
#include "synth_pdb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    SUPERBLOCK_BLOCK_MAP = 0x34, /* SuperBlock.BlockMapAddr[] */
    PDB_VERSION_VC70 = 20000404,
    PDB_FEATURE_VC140 = 20140508,
    NAMES_SIGNATURE = 0xEFFEEFFEu,
    NAMES_HASH_V1 = 1,
    TPI_VERSION_V80 = 20040203,
    TPI_HEADER_SIZE = 56,
    TPI_HASH_BUCKETS = 0x3FFFF,
    DBI_VERSION_V70 = 19990903,
    DBI_BUILD_NUMBER = 0x8000 | 14 << 8 | 29, /* new format, toolset 14.29 */
    DBI_PDB_DLL_VERSION = 30148,
    SC_VERSION_60 = 0xEFFE0000u + 19970605u,
    GSI_HASH_VERSION = 0xEFFE0000u + 19990810u,
    GSI_BUCKETS = 4096,          /* IPHR_HASH */
    GSI_BITMAP_WORDS = (GSI_BUCKETS + 32) / 32,
    GSI_HR_OFFSET_CALC = 12,     /* bucket offsets count in-memory HROffsetCalc records */
    PSGSIHDR_SIZE = 28,
    DEBUG_S_LINES = 0xF2,
    DEBUG_S_FILECHKSMS = 0xF4,
    CV_LINE_STATEMENT = 0x80000000u, /* CV_Line_t.fStatement */
    LF_NUMERIC = 0x8000,
    LF_ULONG = 0x8004,
    LF_MEMBER = 0x150D,
    LF_ENUMERATE = 0x1502,
    LF_ONEMETHOD = 0x1511,
    LF_PAD0 = 0xF0,
    CV_ACCESS_PUBLIC = 3,
    CV_PROP_FWDREF = 0x80,
    CV_PROP_HASUNIQUENAME = 0x200,
    CV_PTR_64 = 0x0C,            /* CV_ptrtype_e CV_PTR_64 */
    CV_MOD_CONST = 1,
    CV_AMD64_RSP = 335,
    CV_CFL_CXX = 1,
    CV_CFL_X64 = 0xD0,
    CV_COMPILE_SECURITY_CHECKS = 1 << 13,
};

static const char MSF_MAGIC[32] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0\0";

/* ---- MSF ------------------------------------------------------------------ */

/* Blocks 1 and 2 of every interval of block_size blocks hold the two free
 * block maps (MsfFile.md "The Free Block Map"). */
static bool is_fpm_block(uint32_t block, uint32_t block_size)
{
    uint32_t within = block % block_size;
    return within == 1 || within == 2;
}

static uint32_t next_data_block(uint32_t block, uint32_t block_size)
{
    while (is_fpm_block(block, block_size))
        block++;
    return block;
}

static uint32_t blocks_for(uint64_t bytes, uint32_t block_size)
{
    return (uint32_t)((bytes + block_size - 1) / block_size);
}

/* Takes `count` data blocks from *next; returns the first. */
static uint32_t allocate(uint32_t *next, uint32_t count, uint32_t block_size)
{
    uint32_t first = next_data_block(*next, block_size), block = first;
    for (uint32_t i = 0; i < count; i++)
        block = next_data_block(block, block_size) + 1;
    *next = count ? block : first;
    return first;
}

/* Appends the numbers of `count` blocks allocated from `first`. */
static void list_blocks(synth_buf *list, uint32_t first, uint32_t count, uint32_t block_size)
{
    for (uint32_t i = 0, block = first; i < count; i++, block++) {
        block = next_data_block(block, block_size);
        synth_buf_u32(list, block);
    }
}

typedef struct msf_layout {
    uint32_t block_size;
    synth_buf directory;     /* NumStreams, StreamSizes[], the block lists */
    uint32_t directory_first;
    synth_buf block_map;     /* the directory's block numbers */
    uint32_t map_first;
    uint32_t block_count;
} msf_layout;

static bool has_blocks(const synth_msf_stream *s)
{
    return !s->nil && s->size > 0;
}

static void lay_out(msf_layout *l, synth_msf_stream *streams, size_t count)
{
    uint32_t bs = l->block_size, next = 3;
    synth_buf_init(&l->directory);
    synth_buf_init(&l->block_map);
    synth_buf_u32(&l->directory, (uint32_t)count);
    for (size_t i = 0; i < count; i++) {
        if (!streams[i].nil && streams[i].size > UINT32_MAX - 1)
            synth_fail("stream %zu of %zu bytes is too large for MSF", i, streams[i].size);
        synth_buf_u32(&l->directory, streams[i].nil ? 0xFFFFFFFFu : (uint32_t)streams[i].size);
    }
    for (size_t i = 0; i < count; i++) {
        uint32_t n = has_blocks(&streams[i]) ? blocks_for(streams[i].size, bs) : 0;
        streams[i].first_block = allocate(&next, n, bs);
        list_blocks(&l->directory, streams[i].first_block, n, bs);
    }
    uint32_t directory_blocks = blocks_for(l->directory.size, bs);
    l->directory_first = allocate(&next, directory_blocks, bs);
    list_blocks(&l->block_map, l->directory_first, directory_blocks, bs);
    uint32_t map_blocks = blocks_for(l->block_map.size, bs);
    if (SUPERBLOCK_BLOCK_MAP + 4ull * map_blocks > bs)
        synth_fail("an MSF directory of %zu bytes needs too many block map blocks",
                   l->directory.size);
    l->map_first = allocate(&next, map_blocks, bs);
    l->block_count = next;
}

typedef struct msf_writer {
    FILE *out;
    const msf_layout *layout;
    uint32_t written;        /* blocks written */
    uint8_t *block;          /* one block of scratch */
} msf_writer;

static void put_block(msf_writer *w)
{
    fwrite(w->block, 1, w->layout->block_size, w->out);
    w->written++;
}

/* A free block map block: bit k of byte i is block (interval * block_size
 * + i) * 8 + k, set when that block is free, i.e. past the end. */
static void put_fpm_block(msf_writer *w)
{
    uint32_t bs = w->layout->block_size;
    uint64_t first = (uint64_t)(w->written / bs) * bs * 8;
    for (uint32_t i = 0; i < bs; i++) {
        uint8_t bits = 0;
        for (uint32_t k = 0; k < 8; k++)
            bits |= (uint8_t)((first + 8ull * i + k >= w->layout->block_count) << k);
        w->block[i] = bits;
    }
    put_block(w);
}

/* Writes `n` bytes (at most a block) as block `block`, after the free block
 * map blocks that come before it. */
static void put_data_block(msf_writer *w, uint32_t block, const uint8_t *data, size_t n)
{
    while (w->written < block) {
        if (!is_fpm_block(w->written, w->layout->block_size))
            synth_fail("MSF writer: block %u skipped", w->written);
        put_fpm_block(w);
    }
    memset(w->block, 0, w->layout->block_size);
    if (n)
        memcpy(w->block, data, n);
    put_block(w);
}

/* Writes `size` bytes into consecutive data blocks from `first`. */
static void put_run(msf_writer *w, uint32_t first, const uint8_t *data, size_t size)
{
    uint32_t bs = w->layout->block_size, block = first;
    for (size_t at = 0; at < size; at += bs, block++) {
        block = next_data_block(block, bs);
        put_data_block(w, block, data + at, size - at < bs ? size - at : bs);
    }
}

/* SuperBlock: FileMagic, BlockSize, FreeBlockMapBlock 1, NumBlocks,
 * NumDirectoryBytes, Unknown, BlockMapAddr[] (one per block map block;
 * lay_out checked that they fit). */
static void put_superblock(msf_writer *w)
{
    const msf_layout *l = w->layout;
    uint8_t *sb = synth_alloc(l->block_size);
    memcpy(sb, MSF_MAGIC, sizeof MSF_MAGIC);
    synth_put_u32(sb + 0x20, l->block_size);
    synth_put_u32(sb + 0x24, 1);
    synth_put_u32(sb + 0x28, l->block_count);
    synth_put_u32(sb + 0x2C, (uint32_t)l->directory.size);
    uint32_t map_blocks = blocks_for(l->block_map.size, l->block_size);
    for (uint32_t i = 0, block = l->map_first; i < map_blocks; i++, block++) {
        block = next_data_block(block, l->block_size);
        synth_put_u32(sb + SUPERBLOCK_BLOCK_MAP + 4 * i, block);
    }
    put_data_block(w, 0, sb, l->block_size);
    free(sb);
}

/* Writes the file to `out`; false on a write error. */
static bool write_msf(FILE *out, synth_msf_stream *streams, size_t count, uint32_t block_size)
{
    if (block_size < 512 || block_size > 32768 || (block_size & (block_size - 1)))
        synth_fail("MSF block size %u is not a power of two in 512..32768", block_size);
    msf_layout l = {.block_size = block_size};
    lay_out(&l, streams, count);
    msf_writer w = {.out = out, .layout = &l, .block = synth_alloc(block_size)};
    put_superblock(&w);
    for (size_t i = 0; i < count; i++)
        if (has_blocks(&streams[i]))
            put_run(&w, streams[i].first_block, streams[i].data, streams[i].size);
    put_run(&w, l.directory_first, l.directory.data, l.directory.size);
    put_run(&w, l.map_first, l.block_map.data, l.block_map.size);
    if (w.written != l.block_count)
        synth_fail("MSF writer: %u blocks written of %u", w.written, l.block_count);
    free(w.block);
    synth_buf_free(&l.directory);
    synth_buf_free(&l.block_map);
    return !ferror(out);
}

void synth_msf_build(synth_msf_stream *streams, size_t count, uint32_t block_size,
                     synth_buf *out)
{
    char *data = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&data, &size);
    if (!f || !write_msf(f, streams, count, block_size) || fclose(f) != 0)
        synth_fail("MSF writer: out of memory");
    synth_buf_free(out);
    out->data = (uint8_t *)data;
    out->size = size;
    out->capacity = size;
}

int synth_msf_write_file(const char *path, synth_msf_stream *streams, size_t count,
                         uint32_t block_size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    bool written = write_msf(f, streams, count, block_size);
    int saved = errno;
    if (fclose(f) != 0 || !written) {
        errno = written ? errno : saved;
        return -1;
    }
    return 0;
}

/* ---- PDB info stream and /names --------------------------------------------- */

/* LHashPbCb (microsoft-pdb PDB/include/misc.h), the hash of /names version
 * 1 and of the GSI: XOR of the string's little-endian u32 words, then of a
 * trailing u16 and a trailing byte, OR 0x20202020 (case folding), then
 * mixed with its own shifts by 11 and 16. */
static uint32_t hash_v1(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    uint32_t h = 0;
    for (; n >= 4; p += 4, n -= 4)
        h ^= synth_get_u32(p);
    if (n >= 2) {
        h ^= (uint32_t)p[0] | (uint32_t)p[1] << 8;
        p += 2, n -= 2;
    }
    if (n)
        h ^= p[0];
    h |= 0x20202020u;
    h ^= h >> 11;
    return h ^ (h >> 16);
}

void synth_pdb_info_stream(synth_buf *b, const synth_pdb_identity *id, uint32_t names_stream)
{
    static const char names[] = "/names";
    /* PdbStreamHeader: Version, Signature, Age, UniqueId. */
    synth_buf_u32(b, PDB_VERSION_VC70);
    synth_buf_u32(b, id->signature);
    synth_buf_u32(b, id->age);
    synth_buf_bytes(b, id->guid, 16);
    /* Named stream map: string buffer size and strings, then a hash table
     * (HashTable.md) of Size 1, Capacity 1, Present bit vector {1 word: bit
     * 0}, empty Deleted bit vector, one {name offset, stream} pair. */
    synth_buf_u32(b, sizeof names);
    synth_buf_cstr(b, names);
    synth_buf_u32(b, 1);
    synth_buf_u32(b, 1);
    synth_buf_u32(b, 1);
    synth_buf_u32(b, 1);
    synth_buf_u32(b, 0);
    synth_buf_u32(b, 0);
    synth_buf_u32(b, names_stream);
    /* Feature codes. */
    synth_buf_u32(b, PDB_FEATURE_VC140);
}

void synth_pdb_names_init(synth_pdb_names *n)
{
    synth_buf_init(&n->strings);
    synth_buf_u8(&n->strings, 0);
    n->count = 0;
}

void synth_pdb_names_free(synth_pdb_names *n)
{
    synth_buf_free(&n->strings);
    n->count = 0;
}

uint32_t synth_pdb_names_add(synth_pdb_names *n, const char *s)
{
    n->count++;
    return (uint32_t)synth_buf_cstr(&n->strings, s);
}

/* /names (nmt.h NMT): Signature 0xEFFEEFFE, HashVersion 1, ByteSize, the
 * strings; u32 bucket count and the buckets, each the offset of a string
 * (0 for none) placed from LHashPbCb(string) % count by linear probing;
 * u32 the number of strings. */
void synth_pdb_names_stream(synth_buf *b, const synth_pdb_names *n)
{
    synth_buf_u32(b, NAMES_SIGNATURE);
    synth_buf_u32(b, NAMES_HASH_V1);
    synth_buf_u32(b, (uint32_t)n->strings.size);
    synth_buf_bytes(b, n->strings.data, n->strings.size);
    uint32_t count = (uint32_t)(n->count + n->count / 3 + 1);
    uint32_t *buckets = synth_alloc(count * sizeof *buckets);
    const char *strings = (const char *)n->strings.data;
    for (size_t at = 1; at < n->strings.size; at += strlen(strings + at) + 1) {
        uint32_t slot = hash_v1(strings + at) % count;
        while (buckets[slot])
            slot = (slot + 1) % count;
        buckets[slot] = (uint32_t)at;
    }
    synth_buf_u32(b, count);
    for (uint32_t i = 0; i < count; i++)
        synth_buf_u32(b, buckets[i]);
    synth_buf_u32(b, (uint32_t)n->count);
    free(buckets);
}

/* ---- Type streams ------------------------------------------------------------- */

/* TpiStreamHeader (TpiStream.md): Version V80, HeaderSize, TypeIndexBegin,
 * TypeIndexEnd, TypeRecordBytes, HashStreamIndex and HashAuxStreamIndex
 * (none), HashKeySize 4, NumHashBuckets, then the hash value, index offset
 * and hash adjustment buffers as {offset, length}, all empty. */
void synth_pdb_types_init(synth_pdb_types *t)
{
    synth_buf_init(&t->stream);
    synth_buf *b = &t->stream;
    synth_buf_u32(b, TPI_VERSION_V80);
    synth_buf_u32(b, TPI_HEADER_SIZE);
    synth_buf_u32(b, SYNTH_PDB_FIRST_TYPE);
    synth_buf_u32(b, SYNTH_PDB_FIRST_TYPE);
    synth_buf_u32(b, 0);
    synth_buf_u16(b, SYNTH_PDB_NO_STREAM);
    synth_buf_u16(b, SYNTH_PDB_NO_STREAM);
    synth_buf_u32(b, 4);
    synth_buf_u32(b, TPI_HASH_BUCKETS);
    synth_buf_zeros(b, 6 * 4);
    t->next_index = SYNTH_PDB_FIRST_TYPE;
    t->record_at = 0;
}

void synth_pdb_types_finish(synth_pdb_types *t)
{
    if (t->stream.size - TPI_HEADER_SIZE > UINT32_MAX)
        synth_fail("type records exceed 4 GiB");
    synth_buf_patch_u32(&t->stream, 12, t->next_index);
    synth_buf_patch_u32(&t->stream, 16, (uint32_t)(t->stream.size - TPI_HEADER_SIZE));
}

/* A type record: u16 RecordLen (excluding itself), u16 RecordKind, then
 * the leaf; records are 4-aligned with LF_PAD bytes. */
uint32_t synth_pdb_type_begin(synth_pdb_types *t, uint16_t leaf)
{
    t->record_at = synth_buf_u16(&t->stream, 0);
    synth_buf_u16(&t->stream, leaf);
    return t->next_index++;
}

/* LF_PAD3, LF_PAD2, LF_PAD1: each pad byte says how many are left. */
static void pad_leaf(synth_buf *b)
{
    while (b->size % 4)
        synth_buf_u8(b, (uint8_t)(LF_PAD0 + 4 - b->size % 4));
}

void synth_pdb_type_end(synth_pdb_types *t)
{
    pad_leaf(&t->stream);
    size_t length = t->stream.size - t->record_at - 2;
    if (length > 0xFFFF)
        synth_fail("type record of %zu bytes", length);
    synth_buf_patch_u16(&t->stream, t->record_at, (uint16_t)length);
}

/* A numeric leaf: the value when below LF_NUMERIC (0x8000), else LF_ULONG. */
static void numeric_leaf(synth_buf *b, uint32_t value)
{
    if (value < LF_NUMERIC) {
        synth_buf_u16(b, (uint16_t)value);
        return;
    }
    synth_buf_u16(b, LF_ULONG);
    synth_buf_u32(b, value);
}

/* LF_POINTER: ReferentType, Attributes (PointerKind 64-bit, Mode pointer,
 * Size 8 in bits 13-18). */
uint32_t synth_pdb_type_pointer(synth_pdb_types *t, uint32_t referent)
{
    uint32_t index = synth_pdb_type_begin(t, SYNTH_LF_POINTER);
    synth_buf_u32(&t->stream, referent);
    synth_buf_u32(&t->stream, CV_PTR_64 | 8u << 13);
    synth_pdb_type_end(t);
    return index;
}

/* LF_MODIFIER: ModifiedType, Modifiers (const). */
uint32_t synth_pdb_type_const(synth_pdb_types *t, uint32_t type)
{
    uint32_t index = synth_pdb_type_begin(t, SYNTH_LF_MODIFIER);
    synth_buf_u32(&t->stream, type);
    synth_buf_u16(&t->stream, CV_MOD_CONST);
    synth_pdb_type_end(t);
    return index;
}

/* LF_ARGLIST: Count, then the argument types. */
uint32_t synth_pdb_type_arglist(synth_pdb_types *t, const uint32_t *args, size_t count)
{
    uint32_t index = synth_pdb_type_begin(t, SYNTH_LF_ARGLIST);
    synth_buf_u32(&t->stream, (uint32_t)count);
    for (size_t i = 0; i < count; i++)
        synth_buf_u32(&t->stream, args[i]);
    synth_pdb_type_end(t);
    return index;
}

/* LF_PROCEDURE: ReturnType, CallConv (near C), Options, ParameterCount,
 * ArgumentList. */
uint32_t synth_pdb_type_procedure(synth_pdb_types *t, uint32_t return_type, uint32_t arglist,
                                  uint16_t parameter_count)
{
    uint32_t index = synth_pdb_type_begin(t, SYNTH_LF_PROCEDURE);
    synth_buf_u32(&t->stream, return_type);
    synth_buf_u8(&t->stream, 0);
    synth_buf_u8(&t->stream, 0);
    synth_buf_u16(&t->stream, parameter_count);
    synth_buf_u32(&t->stream, arglist);
    synth_pdb_type_end(t);
    return index;
}

/* LF_MFUNCTION: ReturnType, ClassType, ThisType, CallConv (near C),
 * Options, ParameterCount, ArgumentList, ThisPointerAdjustment 0. */
uint32_t synth_pdb_type_mfunction(synth_pdb_types *t, uint32_t return_type,
                                  uint32_t class_type, uint32_t this_type, uint32_t arglist,
                                  uint16_t parameter_count)
{
    uint32_t index = synth_pdb_type_begin(t, SYNTH_LF_MFUNCTION);
    synth_buf_u32(&t->stream, return_type);
    synth_buf_u32(&t->stream, class_type);
    synth_buf_u32(&t->stream, this_type);
    synth_buf_u8(&t->stream, 0);
    synth_buf_u8(&t->stream, 0);
    synth_buf_u16(&t->stream, parameter_count);
    synth_buf_u32(&t->stream, arglist);
    synth_buf_u32(&t->stream, 0);
    synth_pdb_type_end(t);
    return index;
}

/* LF_MEMBER: Attributes, Type, numeric FieldOffset, Name; 4-aligned. */
void synth_pdb_field_member(synth_pdb_types *t, uint32_t type, uint32_t offset,
                            const char *name)
{
    synth_buf_u16(&t->stream, LF_MEMBER);
    synth_buf_u16(&t->stream, CV_ACCESS_PUBLIC);
    synth_buf_u32(&t->stream, type);
    numeric_leaf(&t->stream, offset);
    synth_buf_cstr(&t->stream, name);
    pad_leaf(&t->stream);
}

/* LF_ONEMETHOD: Attributes (public, vanilla: no VBaseOffset), Type, Name. */
void synth_pdb_field_method(synth_pdb_types *t, uint32_t type, const char *name)
{
    synth_buf_u16(&t->stream, LF_ONEMETHOD);
    synth_buf_u16(&t->stream, CV_ACCESS_PUBLIC);
    synth_buf_u32(&t->stream, type);
    synth_buf_cstr(&t->stream, name);
    pad_leaf(&t->stream);
}

/* LF_ENUMERATE: Attributes, numeric Value, Name. */
void synth_pdb_field_enumerate(synth_pdb_types *t, uint32_t value, const char *name)
{
    synth_buf_u16(&t->stream, LF_ENUMERATE);
    synth_buf_u16(&t->stream, CV_ACCESS_PUBLIC);
    numeric_leaf(&t->stream, value);
    synth_buf_cstr(&t->stream, name);
    pad_leaf(&t->stream);
}

/* LF_CLASS/LF_STRUCTURE: MemberCount, Properties, FieldList, DerivedFrom,
 * VShape, numeric Size, Name, UniqueName. LF_ENUM: NumEnumerators,
 * Properties, UnderlyingType, FieldListType, Name, UniqueName. */
uint32_t synth_pdb_type_udt(synth_pdb_types *t, const synth_pdb_udt *u)
{
    synth_buf *b = &t->stream;
    uint32_t index = synth_pdb_type_begin(t, u->leaf);
    synth_buf_u16(b, u->forward ? 0 : u->field_count);
    synth_buf_u16(b, CV_PROP_HASUNIQUENAME | (u->forward ? CV_PROP_FWDREF : 0));
    if (u->leaf == SYNTH_LF_ENUM) {
        synth_buf_u32(b, u->underlying);
        synth_buf_u32(b, u->forward ? 0 : u->fields);
    } else {
        synth_buf_u32(b, u->forward ? 0 : u->fields);
        synth_buf_u32(b, 0);
        synth_buf_u32(b, 0);
        numeric_leaf(b, u->forward ? 0 : u->size);
    }
    synth_buf_cstr(b, u->name);
    synth_buf_cstr(b, u->unique_name);
    synth_pdb_type_end(t);
    return index;
}

/* ---- Module symbol streams ---------------------------------------------------- */

enum { CV_SIGNATURE_C13 = 4, PROC_PTR_END = 8 /* PROCSYM32.pEnd, from the record start */ };

void synth_pdb_module_begin(synth_buf *b)
{
    synth_buf_u32(b, CV_SIGNATURE_C13);
}

uint32_t synth_pdb_module_end(synth_buf *b, uint32_t symbols_size)
{
    uint32_t c13_size = (uint32_t)(b->size - symbols_size);
    synth_buf_u32(b, 0);
    return c13_size;
}

/* A symbol record: u16 RecordLength (excluding itself), u16 RecordKind,
 * then the fields, zero-padded to 4 bytes. */
static size_t sym_begin(synth_buf *b, uint16_t kind)
{
    size_t at = synth_buf_u16(b, 0);
    synth_buf_u16(b, kind);
    return at;
}

static void sym_finish(synth_buf *b, size_t at)
{
    synth_buf_align(b, 4, 0);
    size_t length = b->size - at - 2;
    if (length > 0xFFFF)
        synth_fail("symbol record of %zu bytes", length);
    synth_buf_patch_u16(b, at, (uint16_t)length);
}

/* PROCSYM32: PtrParent, PtrEnd, PtrNext, CodeSize, DbgStart, DbgEnd,
 * FunctionType, CodeOffset, Segment, Flags, Name. */
size_t synth_pdb_sym_proc(synth_buf *b, const synth_pdb_proc *p)
{
    size_t at = sym_begin(b, p->kind);
    synth_buf_u32(b, 0);
    synth_buf_u32(b, 0);
    synth_buf_u32(b, 0);
    synth_buf_u32(b, p->code_size);
    synth_buf_u32(b, p->debug_start);
    synth_buf_u32(b, p->debug_end);
    synth_buf_u32(b, p->type);
    synth_buf_u32(b, p->offset);
    synth_buf_u16(b, p->segment);
    synth_buf_u8(b, 0);
    synth_buf_cstr(b, p->name);
    sym_finish(b, at);
    return at;
}

void synth_pdb_sym_end(synth_buf *b, size_t proc_at)
{
    size_t at = sym_begin(b, SYNTH_S_END);
    sym_finish(b, at);
    synth_buf_patch_u32(b, proc_at + PROC_PTR_END, (uint32_t)at);
}

/* OBJNAMESYM: Signature, Name. */
void synth_pdb_sym_objname(synth_buf *b, const char *path)
{
    size_t at = sym_begin(b, SYNTH_S_OBJNAME);
    synth_buf_u32(b, 0);
    synth_buf_cstr(b, path);
    sym_finish(b, at);
}

/* COMPILESYM3: Flags (iLanguage C++, fSecurityChecks), Machine, front-end
 * and back-end versions (major, minor, build, QFE), Version string. */
void synth_pdb_sym_compile3(synth_buf *b, const char *version)
{
    static const uint16_t numbers[] = {19, 29, 30148, 0};
    size_t at = sym_begin(b, SYNTH_S_COMPILE3);
    synth_buf_u32(b, CV_CFL_CXX | CV_COMPILE_SECURITY_CHECKS);
    synth_buf_u16(b, CV_CFL_X64);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
            synth_buf_u16(b, numbers[i]);
    synth_buf_cstr(b, version);
    sym_finish(b, at);
}

/* FRAMEPROCSYM: TotalFrameBytes, PaddingFrameBytes, OffsetToPadding,
 * BytesOfCalleeSavedRegisters, OffsetOfExceptionHandler,
 * SectionIdOfExceptionHandler (u16), Flags: asynchronous EH, local and
 * parameter base pointer RSP (encoded 1 in bits 14-15 and 16-17),
 * optimized for speed. */
void synth_pdb_sym_frameproc(synth_buf *b, uint32_t frame_bytes)
{
    size_t at = sym_begin(b, SYNTH_S_FRAMEPROC);
    synth_buf_u32(b, frame_bytes);
    synth_buf_zeros(b, 4 * 4 + 2);
    synth_buf_u32(b, 0x200u | 1u << 14 | 1u << 16 | 0x100000u);
    sym_finish(b, at);
}

/* REGREL32: Offset, Type, Register (CV_AMD64_RSP), Name. */
void synth_pdb_sym_regrel32(synth_buf *b, uint32_t offset, uint32_t type, const char *name)
{
    size_t at = sym_begin(b, SYNTH_S_REGREL32);
    synth_buf_u32(b, offset);
    synth_buf_u32(b, type);
    synth_buf_u16(b, CV_AMD64_RSP);
    synth_buf_cstr(b, name);
    sym_finish(b, at);
}

/* A C13 subsection: u32 Kind, u32 Length, the payload padded to 4. Returns
 * where the length goes. */
static size_t c13_begin(synth_buf *b, uint32_t kind)
{
    synth_buf_u32(b, kind);
    return synth_buf_u32(b, 0);
}

static void c13_finish(synth_buf *b, size_t length_at)
{
    synth_buf_patch_u32(b, length_at, (uint32_t)(b->size - length_at - 4));
    synth_buf_align(b, 4, 0);
}

/* DEBUG_S_FILECHKSMS entries: FileNameOffset, ChecksumSize (u8),
 * ChecksumKind (u8), the checksum, padded to 4. */
void synth_pdb_c13_checksums(synth_buf *b, const synth_pdb_source *files, size_t count,
                             uint32_t *file_ids)
{
    size_t length_at = c13_begin(b, DEBUG_S_FILECHKSMS);
    for (size_t i = 0; i < count; i++) {
        file_ids[i] = (uint32_t)(b->size - length_at - 4);
        synth_buf_u32(b, files[i].name);
        synth_buf_u8(b, files[i].checksum_size);
        synth_buf_u8(b, files[i].checksum_kind);
        synth_buf_bytes(b, files[i].checksum, files[i].checksum_size);
        synth_buf_align(b, 4, 0);
    }
    c13_finish(b, length_at);
}

/* DEBUG_S_LINES: CV_DebugSLinesHeader_t {offCon, segCon (u16), flags (u16,
 * no columns), cbCon}, one CV_DebugSLinesFileBlockHeader_t {fileid,
 * nLines, cbBlock}, then CV_Line_t {offset, linenumStart:24 |
 * deltaLineEnd:7 | fStatement:1}. */
void synth_pdb_c13_lines(synth_buf *b, uint16_t segment, uint32_t offset, uint32_t code_size,
                         uint32_t file_id, const synth_pdb_line *lines, size_t count)
{
    size_t length_at = c13_begin(b, DEBUG_S_LINES);
    synth_buf_u32(b, offset);
    synth_buf_u16(b, segment);
    synth_buf_u16(b, 0);
    synth_buf_u32(b, code_size);
    synth_buf_u32(b, file_id);
    synth_buf_u32(b, (uint32_t)count);
    synth_buf_u32(b, (uint32_t)(12 + 8 * count));
    for (size_t i = 0; i < count; i++) {
        synth_buf_u32(b, lines[i].offset);
        synth_buf_u32(b, (lines[i].line & 0xFFFFFF) | CV_LINE_STATEMENT);
    }
    c13_finish(b, length_at);
}

/* ---- Publics ------------------------------------------------------------------ */

/* A public in the order of the address map. */
typedef struct public_ref {
    uint16_t segment;
    uint32_t offset;
    uint32_t record;         /* offset of its S_PUB32 in the symbol records */
    size_t index;            /* in the caller's list: a stable tie-break */
} public_ref;

static int compare_addresses(const void *a, const void *b)
{
    const public_ref *x = a, *y = b;
    if (x->segment != y->segment)
        return x->segment < y->segment ? -1 : 1;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* PUBSYM32: Flags, Offset, Segment, Name. */
static uint32_t pub32(synth_buf *records, const synth_pdb_public *p)
{
    size_t at = sym_begin(records, SYNTH_S_PUB32);
    synth_buf_u32(records, p->flags);
    synth_buf_u32(records, p->offset);
    synth_buf_u16(records, p->segment);
    synth_buf_cstr(records, p->name);
    sym_finish(records, at);
    return (uint32_t)at;
}

/* GSI hash (gsi.h GSIHashHdr, HRFile): header {VerSignature -1, VerHdr,
 * cbHr, cbBuckets}; one HRFile {symbol record offset + 1, cRef 1} per name,
 * grouped by bucket LHashPbCb(name) % 4096; the bitmap of non-empty buckets
 * (4097 bits in 129 words); per non-empty bucket the index of its first
 * HRFile times 12 (the size of the in-memory record). No bitmap without
 * names. */
static void gsi_hash(synth_buf *b, const synth_pdb_public *list, const uint32_t *records,
                     size_t count)
{
    uint32_t *starts = synth_alloc((GSI_BUCKETS + 1) * sizeof *starts);
    uint32_t *buckets = synth_alloc((count ? count : 1) * sizeof *buckets);
    for (size_t i = 0; i < count; i++) {
        buckets[i] = hash_v1(list[i].name) % GSI_BUCKETS;
        starts[buckets[i] + 1]++;
    }
    for (uint32_t k = 0; k < GSI_BUCKETS; k++)
        starts[k + 1] += starts[k];
    uint32_t *order = synth_alloc((count ? count : 1) * sizeof *order);
    uint32_t *fill = synth_alloc(GSI_BUCKETS * sizeof *fill);
    for (size_t i = 0; i < count; i++)
        order[starts[buckets[i]] + fill[buckets[i]]++] = (uint32_t)i;
    uint32_t used = 0, bitmap[GSI_BITMAP_WORDS] = {0};
    for (uint32_t k = 0; k < GSI_BUCKETS; k++)
        if (starts[k + 1] > starts[k]) {
            bitmap[k / 32] |= 1u << (k % 32);
            used++;
        }
    synth_buf_u32(b, 0xFFFFFFFFu);
    synth_buf_u32(b, GSI_HASH_VERSION);
    synth_buf_u32(b, (uint32_t)(8 * count));
    synth_buf_u32(b, count ? 4 * (GSI_BITMAP_WORDS + used) : 0);
    for (size_t i = 0; i < count; i++) {
        synth_buf_u32(b, records[order[i]] + 1);
        synth_buf_u32(b, 1);
    }
    for (uint32_t w = 0; count && w < GSI_BITMAP_WORDS; w++)
        synth_buf_u32(b, bitmap[w]);
    for (uint32_t k = 0; k < GSI_BUCKETS; k++)
        if (starts[k + 1] > starts[k])
            synth_buf_u32(b, starts[k] * GSI_HR_OFFSET_CALC);
    free(starts), free(buckets), free(order), free(fill);
}

/* The publics stream (gsi.h PSGSIHDR): cbSymHash, cbAddrMap, nThunks,
 * cbSizeOfThunk, isectThunkTable (u16 + pad), offThunkTable, nSects; the
 * GSI hash; the address map (record offsets in section:offset order). */
void synth_pdb_publics(synth_buf *publics, synth_buf *records, const synth_pdb_public *list,
                       size_t count)
{
    uint32_t *offsets = synth_alloc((count ? count : 1) * sizeof *offsets);
    public_ref *map = synth_alloc((count ? count : 1) * sizeof *map);
    for (size_t i = 0; i < count; i++) {
        offsets[i] = pub32(records, &list[i]);
        map[i] = (public_ref){list[i].segment, list[i].offset, offsets[i], i};
    }
    qsort(map, count, sizeof *map, compare_addresses);
    size_t header = synth_buf_reserve(publics, PSGSIHDR_SIZE);
    gsi_hash(publics, list, offsets, count);
    synth_buf_patch_u32(publics, header, (uint32_t)(publics->size - header - PSGSIHDR_SIZE));
    synth_buf_patch_u32(publics, header + 4, (uint32_t)(4 * count));
    for (size_t i = 0; i < count; i++)
        synth_buf_u32(publics, map[i].record);
    free(offsets);
    free(map);
}

/* ---- Section headers and DBI ------------------------------------------------- */

/* IMAGE_SECTION_HEADER: Name[8], VirtualSize, VirtualAddress,
 * SizeOfRawData, PointerToRawData, PointerToRelocations,
 * PointerToLinenumbers, NumberOfRelocations and NumberOfLinenumbers (u16),
 * Characteristics. */
void synth_pdb_section_header(synth_buf *b, const char *name, uint32_t virtual_address,
                              uint32_t size, uint32_t characteristics)
{
    char n[8] = {0};
    memcpy(n, name, strnlen(name, sizeof n));
    synth_buf_bytes(b, n, sizeof n);
    synth_buf_u32(b, size);
    synth_buf_u32(b, virtual_address);
    synth_buf_u32(b, size);
    synth_buf_zeros(b, 4 * 4);
    synth_buf_u32(b, characteristics);
}

void synth_pdb_dbi_init(synth_pdb_dbi *d)
{
    *d = (synth_pdb_dbi){.age = 1, .globals_stream = SYNTH_PDB_NO_STREAM,
                         .publics_stream = SYNTH_PDB_NO_STREAM,
                         .records_stream = SYNTH_PDB_NO_STREAM, .machine = 0x8664};
    for (int i = 0; i < SYNTH_PDB_DEBUG_SLOTS; i++)
        d->debug_streams[i] = SYNTH_PDB_NO_STREAM;
}

/* SectionContribEntry: Section (u16 + pad), Offset, Size, Characteristics,
 * ModuleIndex (u16 + pad), DataCrc, RelocCrc. */
static void contribution(synth_buf *b, const synth_pdb_contribution *c)
{
    synth_buf_u16(b, c->segment);
    synth_buf_u16(b, 0);
    synth_buf_u32(b, c->offset);
    synth_buf_u32(b, c->size);
    synth_buf_u32(b, c->characteristics);
    synth_buf_u16(b, c->module);
    synth_buf_u16(b, 0);
    synth_buf_u32(b, 0);
    synth_buf_u32(b, 0);
}

/* ModInfo: Unused1, SectionContr, Flags, ModuleSymStream, SymByteSize,
 * C11ByteSize, C13ByteSize, SourceFileCount (u16 + pad), Unused2,
 * SourceFileNameIndex, PdbFilePathNameIndex, ModuleName, ObjFileName;
 * 4-aligned. */
static void module_info(synth_buf *b, const synth_pdb_module_info *m)
{
    synth_buf_u32(b, 0);
    contribution(b, &m->contribution);
    synth_buf_u16(b, 0);
    synth_buf_u16(b, m->stream);
    synth_buf_u32(b, m->symbols_size);
    synth_buf_u32(b, 0);
    synth_buf_u32(b, m->c13_size);
    synth_buf_u16(b, (uint16_t)m->source_count);
    synth_buf_zeros(b, 2 + 3 * 4);
    synth_buf_cstr(b, m->name);
    synth_buf_cstr(b, m->obj_name);
    synth_buf_align(b, 4, 0);
}

/* File info substream: NumModules, NumSourceFiles (u16, both cut to 16
 * bits), ModIndices[] (each module's first file), ModFileCounts[],
 * FileNameOffsets[] into the names buffer that follows; padded to 4. */
static void file_info(synth_buf *b, const synth_pdb_dbi *d)
{
    size_t files = 0;
    for (size_t i = 0; i < d->module_count; i++)
        files += d->modules[i].source_count;
    synth_buf_u16(b, (uint16_t)d->module_count);
    synth_buf_u16(b, (uint16_t)files);
    size_t first = 0;
    for (size_t i = 0; i < d->module_count; i++) {
        synth_buf_u16(b, (uint16_t)first);
        first += d->modules[i].source_count;
    }
    for (size_t i = 0; i < d->module_count; i++)
        synth_buf_u16(b, (uint16_t)d->modules[i].source_count);
    synth_buf names;
    synth_buf_init(&names);
    for (size_t i = 0; i < d->module_count; i++)
        for (size_t k = 0; k < d->modules[i].source_count; k++)
            synth_buf_u32(b, (uint32_t)synth_buf_cstr(&names, d->modules[i].sources[k]));
    synth_buf_bytes(b, names.data, names.size);
    synth_buf_align(b, 4, 0);
    synth_buf_free(&names);
}

/* DbiStreamHeader: VersionSignature -1, VersionHeader V70, Age,
 * GlobalStreamIndex, BuildNumber, PublicStreamIndex, PdbDllVersion,
 * SymRecordStream, PdbDllRbld, the substream sizes (ModInfo, SectionContr,
 * SectionMap, SourceInfo, TypeServerMap), MFCTypeServerIndex,
 * OptionalDbgHeaderSize, ECSubstreamSize, Flags, Machine, Padding. */
static void dbi_header(synth_buf *b, const synth_pdb_dbi *d, size_t modules,
                       size_t contributions, size_t files, size_t ec_names)
{
    synth_buf_u32(b, 0xFFFFFFFFu);
    synth_buf_u32(b, DBI_VERSION_V70);
    synth_buf_u32(b, d->age);
    synth_buf_u16(b, d->globals_stream);
    synth_buf_u16(b, DBI_BUILD_NUMBER);
    synth_buf_u16(b, d->publics_stream);
    synth_buf_u16(b, DBI_PDB_DLL_VERSION);
    synth_buf_u16(b, d->records_stream);
    synth_buf_u16(b, 0);
    synth_buf_u32(b, (uint32_t)modules);
    synth_buf_u32(b, (uint32_t)contributions);
    synth_buf_u32(b, 0);
    synth_buf_u32(b, (uint32_t)files);
    synth_buf_zeros(b, 2 * 4);
    synth_buf_u32(b, 2 * SYNTH_PDB_DEBUG_SLOTS);
    synth_buf_u32(b, (uint32_t)ec_names);
    synth_buf_u16(b, 0);
    synth_buf_u16(b, d->machine);
    synth_buf_u32(b, 0);
}

void synth_pdb_dbi_stream(synth_buf *b, const synth_pdb_dbi *d)
{
    synth_buf modules, contributions, files, ec_names;
    synth_buf_init(&modules);
    synth_buf_init(&contributions);
    synth_buf_init(&files);
    synth_buf_init(&ec_names);
    for (size_t i = 0; i < d->module_count; i++)
        module_info(&modules, &d->modules[i]);
    synth_buf_u32(&contributions, SC_VERSION_60);
    for (size_t i = 0; i < d->contribution_count; i++)
        contribution(&contributions, &d->contributions[i]);
    file_info(&files, d);
    /* The edit-and-continue substream: a string table as /names, empty. */
    synth_pdb_names empty;
    synth_pdb_names_init(&empty);
    synth_pdb_names_stream(&ec_names, &empty);
    synth_pdb_names_free(&empty);
    if (modules.size > INT32_MAX || contributions.size > INT32_MAX || files.size > INT32_MAX)
        synth_fail("DBI substreams of %zu, %zu and %zu bytes", modules.size, contributions.size,
                   files.size);
    dbi_header(b, d, modules.size, contributions.size, files.size, ec_names.size);
    synth_buf_bytes(b, modules.data, modules.size);
    synth_buf_bytes(b, contributions.data, contributions.size);
    synth_buf_bytes(b, files.data, files.size);
    synth_buf_bytes(b, ec_names.data, ec_names.size);
    for (int i = 0; i < SYNTH_PDB_DEBUG_SLOTS; i++)
        synth_buf_u16(b, d->debug_streams[i]);
    synth_buf_free(&modules);
    synth_buf_free(&contributions);
    synth_buf_free(&files);
    synth_buf_free(&ec_names);
}
