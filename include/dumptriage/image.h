/*
 * dumptriage: the PE image reader (PE32 and PE32+).
 *
 * A dt_image reads a module image from one of two byte sources behind the
 * same interface:
 *   - a file on disk (raw layout: section bytes at PointerToRawData, RVAs
 *     translated through the section table), mapped read-only;
 *   - a module in dump memory (loaded layout: RVA = offset from the module
 *     base), read through the dump, where pages may be missing.
 *
 * Opening decodes the headers and section table (failure there is an error)
 * and then the export, debug and exception directories; a damaged directory
 * becomes a diagnostic and the rest is kept. Every record and string belongs
 * to the dt_image and lives until dt_image_free. Offsets in errors and
 * diagnostics are file offsets for a file image and RVAs for a dump image.
 *
 * Layout reference: Microsoft "PE Format" (learn.microsoft.com/windows/win32/
 * debug/pe-format); see docs/image.md for what is decoded and the limits.
 */
#ifndef DUMPTRIAGE_IMAGE_H
#define DUMPTRIAGE_IMAGE_H

#include "dumptriage/dump.h"
#include "dumptriage/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dt_image dt_image;

/* ---- Opening ---------------------------------------------------------- */

/* Maps the image file at `path`. On failure returns a negative status, fills
 * `err` when non-NULL (naming the file, structure and offset) and sets
 * *out = NULL. */
dt_status dt_image_open_file(dt_image **out, const char *path, dt_error *err);
/* Reads the image of `module` from the memory saved in `dump`; `dump` must
 * outlive the image. Fails with DT_ERR_NOT_FOUND when the headers are not in
 * the dump. */
dt_status dt_image_open_memory(dt_image **out, const dt_dump *dump, const dt_module *module,
                               dt_error *err);
void dt_image_free(dt_image *img);

/* Copies up to `n` bytes at `rva` into `buf` and returns how many were
 * available: the read stops at the first byte that is outside the image,
 * outside every section (file images) or missing from the dump. Bytes of a
 * section past its raw data and within its VirtualSize read as zero. */
size_t dt_image_read(const dt_image *img, uint32_t rva, void *buf, size_t n);

/* "path/to/x.dll" or "module x.dll in dump": the name used in messages. */
const char *dt_image_label(const dt_image *img);
const dt_diagnostic *dt_image_diagnostics(const dt_image *img, size_t *count);

/* ---- Headers ---------------------------------------------------------- */

enum {
    DT_IMAGE_DIR_EXPORT = 0,
    DT_IMAGE_DIR_IMPORT = 1,
    DT_IMAGE_DIR_RESOURCE = 2,
    DT_IMAGE_DIR_EXCEPTION = 3,
    DT_IMAGE_DIR_DEBUG = 6,
    DT_IMAGE_DIR_COUNT = 16
};

#define DT_IMAGE_MACHINE_I386 0x014Cu
#define DT_IMAGE_MACHINE_AMD64 0x8664u
#define DT_IMAGE_MACHINE_ARM64 0xAA64u

typedef struct dt_image_data_dir {
    uint32_t rva;
    uint32_t size;
} dt_image_data_dir;

typedef struct dt_image_headers {
    /* IMAGE_FILE_HEADER */
    uint16_t machine;
    uint16_t section_count;
    uint32_t timestamp;
    uint32_t symbol_table_offset;  /* PointerToSymbolTable */
    uint32_t symbol_count;
    uint16_t optional_header_size;
    uint16_t characteristics;
    /* IMAGE_OPTIONAL_HEADER32/64 */
    bool pe32_plus;                /* Magic 0x20B (else 0x10B) */
    uint64_t image_base;
    uint32_t section_alignment;
    uint32_t file_alignment;
    uint32_t size_of_image;
    uint32_t size_of_headers;
    uint32_t checksum;
    uint16_t subsystem;
    uint32_t rva_and_size_count;   /* as written; at most 16 are read */
    dt_image_data_dir dirs[DT_IMAGE_DIR_COUNT]; /* zero when absent */
} dt_image_headers;

const dt_image_headers *dt_image_headers_get(const dt_image *img);

/* ---- Identity --------------------------------------------------------- */

/* Symbol-store id "%08X%x" of TimeDateStamp and SizeOfImage. */
enum { DT_IMAGE_ID_SIZE = 18 };
void dt_image_store_id(const dt_image *img, char out[DT_IMAGE_ID_SIZE]);
/* True when TimeDateStamp and SizeOfImage equal the module's. */
bool dt_image_matches_module(const dt_image *img, const dt_module *module);

/* ---- Sections --------------------------------------------------------- */

#define DT_SCN_CNT_CODE 0x00000020u
#define DT_SCN_MEM_EXECUTE 0x20000000u

typedef struct dt_image_section {
    const char *name;        /* "/N" long names resolved via the string table */
    uint32_t virtual_address;
    uint32_t virtual_size;
    uint32_t raw_size;       /* SizeOfRawData */
    uint32_t raw_offset;     /* PointerToRawData */
    uint32_t characteristics;
} dt_image_section;

const dt_image_section *dt_image_sections(const dt_image *img, size_t *count);
/* The first section named `name` (e.g. ".debug_info"), or NULL. */
const dt_image_section *dt_image_section_by_name(const dt_image *img, const char *name);
/* The section whose [VirtualAddress, +VirtualSize) holds `rva`, or NULL. */
const dt_image_section *dt_image_section_at(const dt_image *img, uint32_t rva);
/* Zero-copy view of a section's contents: sets *bytes and returns how many
 * contiguous bytes are available, up to its VirtualSize (or SizeOfRawData
 * when VirtualSize is 0). For a file image these are the raw file bytes;
 * for a dump image, the leading bytes present in the dump. */
size_t dt_image_section_data(const dt_image *img, const dt_image_section *section,
                             const uint8_t **bytes);
/* True when `rva` lies in a section marked MEM_EXECUTE or CNT_CODE. */
bool dt_image_rva_is_executable(const dt_image *img, uint32_t rva);

/* ---- Exports ---------------------------------------------------------- */

typedef struct dt_image_export {
    uint32_t ordinal;        /* biased: Base + index in AddressOfFunctions */
    uint32_t rva;            /* code/data RVA, or the forwarder string's RVA */
    const char *name;        /* NULL for an export by ordinal only */
    const char *forwarder;   /* "DLL.Function" or "DLL.#12"; NULL if none */
} dt_image_export;

/* The export directory's Name ("ntdll.dll"), or NULL. */
const char *dt_image_export_dll_name(const dt_image *img);
/* All exports in ordinal order; a function with several names appears once
 * per name. Unnamed slots with RVA 0 (gaps in the ordinals) are skipped. */
const dt_image_export *dt_image_exports(const dt_image *img, size_t *count);
/* The export with the greatest RVA <= `rva` (ties: the lowest ordinal, then
 * name), ignoring forwarders and RVA 0, or NULL. O(log n). */
const dt_image_export *dt_image_export_at_or_below(const dt_image *img, uint32_t rva);

/* ---- Debug directory -------------------------------------------------- */

/* The first CodeView (RSDS or NB10) record, or NULL. */
const dt_codeview *dt_image_codeview(const dt_image *img);

/* ---- Exception directory (.pdata) ------------------------------------ */

typedef struct dt_runtime_function {
    uint32_t begin;          /* RUNTIME_FUNCTION.BeginAddress */
    uint32_t end;            /* EndAddress (exclusive) */
    uint32_t unwind_data;    /* UnwindData: UNWIND_INFO RVA; bit 0 = indirect */
} dt_runtime_function;

#define DT_RUNTIME_FUNCTION_INDIRECT 1u
/* Indirect entries followed before the lookup gives up. */
enum { DT_IMAGE_MAX_INDIRECTION = 8 };

typedef struct dt_function_lookup {
    dt_runtime_function entry;    /* the .pdata entry whose range holds the RVA */
    dt_runtime_function primary;  /* after following indirect entries; its
                                     unwind_data is the UNWIND_INFO RVA */
    unsigned indirections;        /* indirect entries followed (0 = direct) */
} dt_function_lookup;

/* RUNTIME_FUNCTION entries sorted by BeginAddress (a sorted copy when the
 * image's table is not sorted). */
const dt_runtime_function *dt_image_runtime_functions(const dt_image *img, size_t *count);
/* Finds the entry with BeginAddress <= rva < EndAddress and resolves
 * indirect entries. Returns DT_ERR_NOT_FOUND when no entry covers `rva`,
 * DT_ERR_FORMAT when an indirect entry points outside .pdata or is
 * unreadable, and DT_ERR_LIMIT when more than DT_IMAGE_MAX_INDIRECTION
 * indirections are needed (e.g. a self-loop). */
dt_status dt_image_find_runtime_function(const dt_image *img, uint32_t rva,
                                         dt_function_lookup *out);
/* The start RVA of the function holding `rva`: the primary entry's, or the
 * root of its chained UNWIND_INFO (UNW_FLAG_CHAININFO, 32 deep at most).
 * False when no RUNTIME_FUNCTION covers `rva`. */
bool dt_image_function_start(const dt_image *img, uint32_t rva, uint32_t *start);

/* ---- Finding images (image_set.c) ------------------------------------ */

/* Where to look for module images; docs/image.md, "Finding images", gives
 * the order, the matching rule and how names from the dump are checked. */
typedef struct dt_image_search {
    /* Search path entries in order. Each may be a ';'-separated list of
     * directories (flat or symbol-store layout), "srv*<cache>*<url>",
     * "srv*<dir>" or "cache*<dir>". */
    const char *const *paths;
    size_t path_count;
    bool use_environment;    /* then _NT_EXECUTABLE_IMAGE_PATH, read once here */
    bool use_dump_memory;    /* allow images read from dump memory */
    bool offline;            /* never download from srv* symbol servers */
} dt_image_search;

/* Images of a dump's modules, each found and opened on first request. */
typedef struct dt_image_set dt_image_set;

/* `search` may be NULL (nothing is searched). `dump` must outlive the set.
 * Fails only for a NULL dump (DT_ERR_ARGUMENT) or out of memory. */
dt_status dt_image_set_new(dt_image_set **out, const dt_dump *dump,
                           const dt_image_search *search, dt_error *err);
/* The image of `module` (an element of dt_dump_modules of the set's dump),
 * found on the first request and cached, a miss included; NULL when no
 * matching image was found or `module` is not one of the dump's. The image
 * lives until dt_image_set_free. */
const dt_image *dt_image_set_get(dt_image_set *set, const dt_module *module);
/* Where the image of `module` came from: "dump memory" or the file's path.
 * NULL when it has no image or has not been requested yet. */
/* The module's image as a file on disk: the same as dt_image_set_get unless
 * that image came from dump memory, in which case the search path is
 * searched for the file (sections such as DWARF are not loaded in memory).
 * NULL when no file matches. */
const dt_image *dt_image_set_get_file(dt_image_set *set, const dt_module *module);
const char *dt_image_set_source(const dt_image_set *set, const dt_module *module);
/* What the searches so far found wrong: mismatching files, refused names,
 * unreadable search directories, misses. Grows as modules are requested. */
const dt_diagnostic *dt_image_set_diagnostics(dt_image_set *set, size_t *count);
void dt_image_set_free(dt_image_set *set);

#ifdef __cplusplus
}
#endif

#endif
