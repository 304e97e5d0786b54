/*
 * synth_pdb: Microsoft PDB files (MSF 7.00) for tests and the benchmark.
 *
 * The caller builds each stream into a synth_buf with the writers below and
 * numbers the streams itself (1 PDB info, 2 TPI, 3 DBI and 4 IPI are fixed
 * by the format; the DBI header, the optional debug header and the named
 * stream map refer to the others by number), then synth_msf_build or
 * synth_msf_write_file puts them into blocks behind a superblock and a
 * stream directory. Every record a writer emits is well-formed, so hostile
 * files are made by patching the result.
 *
 * Layouts: llvm.org/docs/PDB/{MsfFile,PdbStream,TpiStream,DbiStream,
 * ModiStream,CodeViewSymbols,CodeViewTypes,HashTable}.md, microsoft-pdb
 * include/cvinfo.h, PDB/dbi/gsi.h and PDB/include/nmt.h, and
 * /work/shared/FORMATS.md section 2.5.
 */
#ifndef SYNTH_PDB_H
#define SYNTH_PDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synth_buf.h"

enum {
    SYNTH_PDB_NO_STREAM = 0xFFFF,       /* a u16 stream number that names none */
    SYNTH_PDB_FIRST_TYPE = 0x1000,      /* TPI TypeIndexBegin: lower indices are simple types */
    SYNTH_PDB_DEBUG_SLOTS = 11,         /* stream numbers in the DBI optional debug header */
    SYNTH_PDB_DEBUG_OMAP_TO_SRC = 3,
    SYNTH_PDB_DEBUG_OMAP_FROM_SRC = 4,
    SYNTH_PDB_DEBUG_SECTION_HEADERS = 5,
    SYNTH_PDB_DEBUG_ORIGINAL_SECTION_HEADERS = 10,
};

/* Symbol record kinds (cvinfo.h SYM_ENUM_e). */
enum {
    SYNTH_S_END = 0x0006,
    SYNTH_S_FRAMEPROC = 0x1012,
    SYNTH_S_OBJNAME = 0x1101,
    SYNTH_S_PUB32 = 0x110E,
    SYNTH_S_LPROC32 = 0x110F,
    SYNTH_S_GPROC32 = 0x1110,
    SYNTH_S_REGREL32 = 0x1111,
    SYNTH_S_COMPILE3 = 0x113C,
    SYNTH_S_LPROC32_ID = 0x1146,
    SYNTH_S_GPROC32_ID = 0x1147,
};

/* Type record kinds (cvinfo.h LEAF_ENUM_e) and simple type indices. */
enum {
    SYNTH_LF_MODIFIER = 0x1001,
    SYNTH_LF_POINTER = 0x1002,
    SYNTH_LF_PROCEDURE = 0x1008,
    SYNTH_LF_MFUNCTION = 0x1009,
    SYNTH_LF_ARGLIST = 0x1201,
    SYNTH_LF_FIELDLIST = 0x1203,
    SYNTH_LF_CLASS = 0x1504,
    SYNTH_LF_STRUCTURE = 0x1505,
    SYNTH_LF_ENUM = 0x1507,
    SYNTH_T_VOID = 0x0003,
    SYNTH_T_UQUAD = 0x0023,
    SYNTH_T_BOOL08 = 0x0030,
    SYNTH_T_REAL64 = 0x0041,
    SYNTH_T_RCHAR = 0x0070,       /* char */
    SYNTH_T_INT4 = 0x0074,
    SYNTH_T_UINT4 = 0x0075,
    SYNTH_T_64PVOID = 0x0603,
    SYNTH_T_64PRCHAR = 0x0670,
};

/* ---- The MSF container --------------------------------------------------- */

typedef struct synth_msf_stream {
    const uint8_t *data;
    size_t size;
    bool nil;               /* a nil stream: size 0xFFFFFFFF, no blocks */
    uint32_t first_block;   /* set by the writer: the stream's blocks follow
                               each other from here, skipping only the free
                               block map blocks */
} synth_msf_stream;

/* Lays the streams out in blocks of `block_size` (a power of two in
 * 512..32768): block 0 the superblock, blocks 1 and 2 of every interval of
 * `block_size` blocks the two free block maps (every block of the file in
 * use), then the streams in order, the stream directory and its block map
 * (listed in the superblock). `out` is replaced with the file. */
void synth_msf_build(synth_msf_stream *streams, size_t count, uint32_t block_size,
                     synth_buf *out);
/* The same file written to `path`; 0, or -1 with errno set. */
int synth_msf_write_file(const char *path, synth_msf_stream *streams, size_t count,
                         uint32_t block_size);

/* ---- PDB info stream (1) and /names -------------------------------------- */

typedef struct synth_pdb_identity {
    uint32_t signature;     /* Signature: the link time stamp */
    uint32_t age;           /* Age; images match the DBI stream's age */
    uint8_t guid[16];
} synth_pdb_identity;

/* Version VC70, the identity, the named stream map {"/names": names_stream}
 * and the feature code VC140 (the file has an IPI stream). */
void synth_pdb_info_stream(synth_buf *b, const synth_pdb_identity *id, uint32_t names_stream);

/* The /names string table; offset 0 is the empty string. */
typedef struct synth_pdb_names {
    synth_buf strings;
    size_t count;           /* strings added */
} synth_pdb_names;

void synth_pdb_names_init(synth_pdb_names *n);
void synth_pdb_names_free(synth_pdb_names *n);
/* Appends `s` (the caller avoids duplicates); returns its offset, the name
 * index file checksums refer to. */
uint32_t synth_pdb_names_add(synth_pdb_names *n, const char *s);
/* The /names stream: header, strings, hash buckets and the string count. */
void synth_pdb_names_stream(synth_buf *b, const synth_pdb_names *n);

/* ---- Type streams (TPI 2, IPI 4) ------------------------------------------ */

typedef struct synth_pdb_types {
    synth_buf stream;       /* header, then the records */
    uint32_t next_index;    /* type index of the next record */
    size_t record_at;       /* the record being written */
} synth_pdb_types;

/* Starts a stream with no records (an empty IPI is complete after finish). */
void synth_pdb_types_init(synth_pdb_types *t);
/* Sets TypeIndexEnd and TypeRecordBytes in the header. */
void synth_pdb_types_finish(synth_pdb_types *t);
/* Starts a record of kind `leaf`; returns its type index. */
uint32_t synth_pdb_type_begin(synth_pdb_types *t, uint16_t leaf);
/* Pads the record to 4 bytes with LF_PAD bytes and sets its length. */
void synth_pdb_type_end(synth_pdb_types *t);

/* Whole records; each returns its type index. */
uint32_t synth_pdb_type_pointer(synth_pdb_types *t, uint32_t referent);   /* 64-bit */
uint32_t synth_pdb_type_const(synth_pdb_types *t, uint32_t type);         /* LF_MODIFIER */
uint32_t synth_pdb_type_arglist(synth_pdb_types *t, const uint32_t *args, size_t count);
uint32_t synth_pdb_type_procedure(synth_pdb_types *t, uint32_t return_type, uint32_t arglist,
                                  uint16_t parameter_count);
uint32_t synth_pdb_type_mfunction(synth_pdb_types *t, uint32_t return_type,
                                  uint32_t class_type, uint32_t this_type, uint32_t arglist,
                                  uint16_t parameter_count);

/* Fields of an LF_FIELDLIST record (synth_pdb_type_begin/end around them);
 * all public. */
void synth_pdb_field_member(synth_pdb_types *t, uint32_t type, uint32_t offset,
                            const char *name);
void synth_pdb_field_method(synth_pdb_types *t, uint32_t type, const char *name);
void synth_pdb_field_enumerate(synth_pdb_types *t, uint32_t value, const char *name);

/* LF_CLASS, LF_STRUCTURE or LF_ENUM with its unique (decorated) name. */
typedef struct synth_pdb_udt {
    uint16_t leaf;
    uint16_t field_count;
    bool forward;           /* a forward reference: no fields, size 0 */
    uint32_t fields;        /* LF_FIELDLIST index */
    uint32_t size;          /* class size; ignored for enums */
    uint32_t underlying;    /* enums: the integer type */
    const char *name;
    const char *unique_name;
} synth_pdb_udt;

uint32_t synth_pdb_type_udt(synth_pdb_types *t, const synth_pdb_udt *u);

/* ---- Module symbol streams ----------------------------------------------- */

/* Signature 4 (C13). Then symbol records; then, with SymByteSize =
 * b->size, the C13 subsections; then synth_pdb_module_end. */
void synth_pdb_module_begin(synth_buf *b);
/* Appends GlobalRefsSize 0 and returns C13ByteSize. */
uint32_t synth_pdb_module_end(synth_buf *b, uint32_t symbols_size);

typedef struct synth_pdb_proc {
    uint16_t kind;          /* S_GPROC32, S_LPROC32, S_GPROC32_ID, S_LPROC32_ID */
    uint16_t segment;       /* 1-based section */
    uint32_t offset;        /* in the section */
    uint32_t code_size;
    uint32_t debug_start;   /* DbgStart, DbgEnd: the body between prolog and epilog */
    uint32_t debug_end;
    uint32_t type;          /* FunctionType */
    const char *name;
} synth_pdb_proc;

/* A procedure record; returns its offset for synth_pdb_sym_end. */
size_t synth_pdb_sym_proc(synth_buf *b, const synth_pdb_proc *p);
/* S_END closing the procedure at `proc_at` (its PtrEnd is set). */
void synth_pdb_sym_end(synth_buf *b, size_t proc_at);
void synth_pdb_sym_objname(synth_buf *b, const char *path);
/* S_COMPILE3 of an x64 C++ compiler, version 19.29.30148. */
void synth_pdb_sym_compile3(synth_buf *b, const char *version);
/* S_FRAMEPROC of a function with an RSP-based frame of `frame_bytes`. */
void synth_pdb_sym_frameproc(synth_buf *b, uint32_t frame_bytes);
/* S_REGREL32: a variable at RSP + offset. */
void synth_pdb_sym_regrel32(synth_buf *b, uint32_t offset, uint32_t type, const char *name);

/* C13 DEBUG_S_FILECHKSMS: one entry per source file. */
typedef struct synth_pdb_source {
    uint32_t name;          /* offset of its path in /names */
    uint8_t checksum_kind;  /* 0 none, 1 MD5, 2 SHA1, 3 SHA256 */
    uint8_t checksum_size;
    const uint8_t *checksum;
} synth_pdb_source;

/* Sets file_ids[i] to entry i's offset, the file id line blocks use. */
void synth_pdb_c13_checksums(synth_buf *b, const synth_pdb_source *files, size_t count,
                             uint32_t *file_ids);

typedef struct synth_pdb_line {
    uint32_t offset;        /* from the start of the code */
    uint32_t line;
} synth_pdb_line;

/* C13 DEBUG_S_LINES for `code_size` bytes of code at segment:offset, one
 * file block of statements sorted by offset. */
void synth_pdb_c13_lines(synth_buf *b, uint16_t segment, uint32_t offset, uint32_t code_size,
                         uint32_t file_id, const synth_pdb_line *lines, size_t count);

/* ---- Publics, section headers, DBI ---------------------------------------- */

typedef struct synth_pdb_public {
    uint16_t segment;
    uint32_t offset;
    uint32_t flags;         /* CV_PUBSYMFLAGS: 1 code, 2 function */
    const char *name;       /* decorated */
} synth_pdb_public;

/* Appends the S_PUB32 records to `records` (the symbol record stream) and
 * writes the publics stream: PSGSIHDR, the GSI hash of the names and the
 * address map in section:offset order. */
void synth_pdb_publics(synth_buf *publics, synth_buf *records, const synth_pdb_public *list,
                       size_t count);

/* An IMAGE_SECTION_HEADER of the section header stream. */
void synth_pdb_section_header(synth_buf *b, const char *name, uint32_t virtual_address,
                              uint32_t size, uint32_t characteristics);

typedef struct synth_pdb_contribution {
    uint16_t segment;
    uint32_t offset;
    uint32_t size;
    uint32_t characteristics; /* IMAGE_SCN_* of the section */
    uint16_t module;
} synth_pdb_contribution;

typedef struct synth_pdb_module_info {
    const char *name;       /* ModuleName: the object file */
    const char *obj_name;   /* ObjFileName: the object or the library holding it */
    uint16_t stream;        /* SYNTH_PDB_NO_STREAM without symbols */
    uint32_t symbols_size;  /* SymByteSize */
    uint32_t c13_size;      /* C13ByteSize */
    const char *const *sources; /* its source files, for the file info substream */
    size_t source_count;
    synth_pdb_contribution contribution; /* its first section contribution */
} synth_pdb_module_info;

typedef struct synth_pdb_dbi {
    uint32_t age;
    uint16_t globals_stream;
    uint16_t publics_stream;
    uint16_t records_stream; /* the symbol record stream */
    uint16_t machine;        /* IMAGE_FILE_MACHINE_* */
    const synth_pdb_module_info *modules;
    size_t module_count;
    const synth_pdb_contribution *contributions; /* in section:offset order */
    size_t contribution_count;
    uint16_t debug_streams[SYNTH_PDB_DEBUG_SLOTS];
} synth_pdb_dbi;

/* Age 1, AMD64, no streams, no modules. */
void synth_pdb_dbi_init(synth_pdb_dbi *d);
/* Header, module infos, section contributions (Ver60), file info (the
 * modules' source files), an empty edit-and-continue string table, the
 * optional debug header. */
void synth_pdb_dbi_stream(synth_buf *b, const synth_pdb_dbi *d);

#endif
