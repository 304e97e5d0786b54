/*
 * Private state of the PDB (MSF 7.0) reader, shared by src/symbols/pdb*.c.
 *
 * Layout references: llvm.org/docs/PDB/{MsfFile,PdbStream,DbiStream,
 * ModiStream,CodeViewSymbols}.md and microsoft-pdb include/cvinfo.h;
 * /work/shared/FORMATS.md section 2.5. docs/pdb.md describes the lazy
 * stream policy and the limits below.
 */
#ifndef DT_SYMBOLS_PDB_INTERNAL_H
#define DT_SYMBOLS_PDB_INTERNAL_H

#include "dumptriage/symbols.h"
#include "base/arena.h"
#include "base/diag.h"
#include "base/mapfile.h"

/* Caps on counts and sizes read from a PDB, checked before allocation. */
enum {
    PDB_MAX_STREAMS = 1 << 20,
    PDB_MAX_MODULES = 0xFFFF,        /* module indices are u16 */
    PDB_MAX_SECTIONS = 0xFFFF,       /* segment numbers are u16 */
    PDB_MAX_CONTRIBUTIONS = 1 << 22,
    PDB_MAX_PUBLICS = 1 << 22,
    PDB_MAX_PROCS_PER_MODULE = 1 << 20,
    PDB_MAX_LINES_PER_MODULE = 1 << 22,
    PDB_MAX_NAME = 4096,             /* undecorated names are cut here */
};

/* A stream number that names no stream (u16 0xFFFF in DBI fields). */
#define PDB_NO_STREAM 0xFFFFFFFFu

typedef struct pdb_stream {
    uint32_t size;           /* 0 for a nil stream */
    uint32_t block_count;
    size_t blocks_at;        /* offset of its u32 block list in the directory */
    uint8_t *data;           /* materialized on first use, owned */
    bool load_failed;
} pdb_stream;

/* A section of the image: from IMAGE_SECTION_HEADER. */
typedef struct pdb_section {
    uint32_t virtual_address;
    uint32_t extent;         /* VirtualSize, or SizeOfRawData when 0 */
} pdb_section;

/* A section contribution: code of one module at [rva, rva + size). */
typedef struct pdb_contribution {
    uint32_t rva;
    uint32_t size;
    uint16_t module;
} pdb_contribution;

typedef struct pdb_proc {
    uint32_t rva;
    uint32_t size;
    const char *name;        /* NUL-terminated inside the module stream */
    uint32_t record_at;      /* its record in the module stream */
    uint32_t record_end;     /* PtrEnd: its S_END record */
} pdb_proc;

typedef struct pdb_line {
    uint32_t rva;
    uint32_t end;            /* exclusive: next line or the block's end */
    uint32_t line;
    uint32_t file_id;        /* offset into the module's checksum subsection */
    uint32_t order;          /* position in the stream, for a stable sort */
} pdb_line;

typedef enum pdb_load_state { PDB_UNLOADED = 0, PDB_LOADED, PDB_FAILED } pdb_load_state;

typedef struct pdb_module {
    uint32_t stream;         /* PDB_NO_STREAM when the module has no symbols */
    uint32_t symbols_size;   /* SymByteSize, includes the 4-byte signature */
    uint32_t c11_size;
    uint32_t c13_size;
    const char *name;
    pdb_contribution first_contribution; /* ModInfo.SectionContr */
    pdb_load_state state;
    pdb_proc *procs;         /* sorted by rva */
    size_t proc_count;
    pdb_line *lines;         /* sorted by rva */
    size_t line_count;
    bool lines_capped;       /* PDB_MAX_LINES_PER_MODULE reached and reported */
    const uint8_t *checksums; /* DEBUG_S_FILECHKSMS payload, in the stream */
    uint32_t checksums_size;
    const uint8_t *inlinee_lines; /* DEBUG_S_INLINEELINES payload, in the stream */
    uint32_t inlinee_lines_size;
} pdb_module;

typedef struct pdb_public {
    uint32_t rva;
    uint16_t section;        /* 1-based segment */
    const char *raw_name;    /* in the symbol record stream */
    const char *name;        /* undecorated on first use */
} pdb_public;

/* The TPI (types) or IPI (ids) stream, read one record at a time. */
typedef struct pdb_record_stream {
    pdb_load_state state;
    uint32_t header_size;    /* the first record starts here */
    uint32_t first_index;    /* TypeIndexBegin */
    uint32_t end_index;      /* TypeIndexEnd */
    uint32_t *index_offsets; /* IndexOffsetBuffer: {TypeIndex, Offset} pairs */
    size_t index_offset_count;
} pdb_record_stream;

/* An OMAP table: u32 pairs {rva, rvaTo} sorted by rva, in stream data. */
typedef struct pdb_omap {
    const uint8_t *entries;
    size_t count;
} pdb_omap;

struct dt_pdb {
    const char *label;
    dt_arena arena;
    dt_diag_list diags;
    dt_mapped_file file;
    const uint8_t *bytes;
    size_t size;

    /* MSF superblock and stream directory (read at open). */
    uint32_t block_size;
    uint32_t block_count;    /* blocks present in the file */
    uint8_t *directory;
    size_t directory_size;
    pdb_stream *streams;
    uint32_t stream_count;
    uint64_t materialized;   /* bytes copied into stream buffers */

    /* PDB info stream (identity, named streams). */
    pdb_load_state info_state;
    uint8_t guid[16];
    uint32_t info_age;
    uint32_t names_stream;   /* "/names", or PDB_NO_STREAM */

    /* DBI header only (identity), then the whole DBI (first lookup). */
    pdb_load_state dbi_header_state;
    uint32_t dbi_age;
    uint32_t publics_stream;
    uint32_t symrec_stream;
    pdb_load_state dbi_state;
    pdb_module *modules;
    size_t module_count;
    pdb_contribution *contributions; /* sorted by rva, in source space */
    size_t contribution_count;
    pdb_section *sections;   /* the sections symbols refer to */
    size_t section_count;
    pdb_omap omap_to_src;    /* image RVA -> source RVA */
    pdb_omap omap_from_src;  /* source RVA -> image RVA */
    bool has_omap;

    pdb_load_state publics_state;
    pdb_public *publics;     /* sorted by rva, in source space */
    size_t public_count;

    pdb_load_state names_state;
    const uint8_t *names;    /* /names string buffer */
    uint32_t names_size;

    /* Inlined function names (pdb_types.c): records read one at a time, and
     * the names made, by IPI item id (open addressing, 0 = empty). */
    pdb_record_stream types, ids;
    uint8_t *record_buffer;
    uint32_t *name_keys;
    const char **name_values;
    size_t name_capacity, name_count;
};

/* Opens `size` bytes at `bytes`, borrowed until dt_pdb_free. `label` names
 * the input in messages. For fuzzing and tests. */
dt_status dt_pdb_open_bytes(dt_pdb **out, const uint8_t *bytes, size_t size, const char *label,
                            dt_error *err);

/* ---- MSF (pdb_msf.c) ---- */
/* Validates the superblock and reads the stream directory. */
dt_status pdb_msf_open(dt_pdb *pdb, dt_error *err);
/* The whole stream, materialized once and cached; NULL (with a diagnostic)
 * when the stream is nil, absent or damaged. `*size` gets its size. */
const uint8_t *pdb_stream_data(dt_pdb *pdb, uint32_t stream, uint32_t *size);
/* Copies `n` bytes at `offset` of a stream without materializing it. */
bool pdb_stream_read(dt_pdb *pdb, uint32_t stream, uint32_t offset, uint8_t *out, size_t n);
/* File offset of byte `offset` of a stream, for messages; -1 when none. */
int64_t pdb_file_offset(const dt_pdb *pdb, uint32_t stream, uint64_t offset);
/* A diagnostic about `structure` at byte `offset` of `stream`. */
void pdb_diag(dt_pdb *pdb, uint32_t stream, uint64_t offset, const char *structure,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- Streams read lazily (pdb_info.c, pdb_dbi.c, pdb_publics.c,
 *      pdb_modules.c, pdb_lines.c) ---- */
bool pdb_load_info(dt_pdb *pdb);
bool pdb_load_dbi_header(dt_pdb *pdb);
bool pdb_load_dbi(dt_pdb *pdb);
bool pdb_load_publics(dt_pdb *pdb);
/* The /names string at `offset`; NULL when absent or unterminated. */
const char *pdb_names_string(dt_pdb *pdb, uint32_t offset);
bool pdb_load_module(dt_pdb *pdb, pdb_module *module);
/* Decodes the C13 subsections of a module stream (lines, checksums). */
void pdb_decode_c13(dt_pdb *pdb, pdb_module *module, const uint8_t *data, uint32_t size,
                    uint32_t at);
/* The line entry covering source-space `rva`, or NULL. */
const pdb_line *pdb_line_at(const pdb_module *module, uint32_t rva);
/* The source file named by a line's file id, or NULL. */
const char *pdb_line_file(dt_pdb *pdb, const pdb_module *module, uint32_t file_id);

/* The qualified name of an inlined function (an IPI LF_FUNC_ID or
 * LF_MFUNC_ID item), made once; NULL when it cannot be read. */
const char *pdb_inlinee_name(dt_pdb *pdb, uint32_t item);
/* Releases what pdb_inlinee_name keeps. */
void pdb_free_types(dt_pdb *pdb);
/* Adds the functions inlined at source-space `rva` of `proc` to `out`
 * (symbols.h convention), from the procedure's S_INLINESITE records. */
void pdb_inline_frames(dt_pdb *pdb, pdb_module *m, const pdb_proc *proc, uint32_t rva,
                       dt_symbol *out);

/* A decorated name undecorated into the arena; other names as they are. */
const char *pdb_display_name(dt_pdb *pdb, const char *raw);

/* ---- Addresses (pdb_omap.c) ---- */
/* Source-space RVA of section:offset; false when the section is unknown. */
bool pdb_section_rva(const dt_pdb *pdb, uint16_t section, uint32_t offset, uint32_t *rva);
/* The 1-based section holding `rva`, or 0. */
uint16_t pdb_section_of(const dt_pdb *pdb, uint32_t rva);
/* Translates through an OMAP table; false when the address is unmapped. */
bool pdb_omap_translate(const pdb_omap *omap, uint32_t rva, uint32_t *out);

#endif
