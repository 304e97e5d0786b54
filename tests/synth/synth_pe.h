/*
 * synth_pe: minimal but real PE32+ (x64) and PE32 (x86) images for tests.
 *
 * An image has .text (the functions of a synth_text), .rdata (the thunk
 * slots as the import address table, the export directory with forwarders,
 * the debug directory with a CodeView RSDS record), .pdata (one
 * RUNTIME_FUNCTION per frame function, sorted), .xdata (UNWIND_INFO), and
 * optionally a section with a long name (COFF string table); x86 images
 * have no .pdata/.xdata (x86 unwinding does not use them). Output is
 * deterministic: the caller supplies TimeDateStamp and the RSDS GUID.
 *
 * Use: synth_pe_new, add functions (synth_pe_add_function) and calls
 * (synth_text_add_call on synth_pe_text), synth_pe_layout; once every image
 * that calls are made into is laid out, synth_pe_build.
 *
 * Layouts: learn.microsoft.com/windows/win32/debug/pe-format and
 * /work/shared/FORMATS.md section 2.3.
 */
#ifndef SYNTH_PE_H
#define SYNTH_PE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "synth_buf.h"
#include "synth_dump.h"
#include "synth_text.h"

typedef struct synth_pe_options {
    const char *name;              /* file name: "ntdll.dll" (export Name) */
    synth_cpu machine;             /* SYNTH_CPU_AMD64 (PE32+) or SYNTH_CPU_X86 (PE32) */
    uint64_t image_base;
    uint32_t timestamp;            /* COFF TimeDateStamp */
    bool is_dll;
    bool has_codeview;
    synth_codeview codeview;       /* pdb_name is also the Breakpad debug file */
    const char *long_section_name; /* adds a section named so (> 8 chars uses
                                      the COFF string table), or NULL */
} synth_pe_options;

typedef struct synth_pe synth_pe;

synth_pe *synth_pe_new(const synth_pe_options *options);
void synth_pe_free(synth_pe *pe);

synth_text *synth_pe_text(synth_pe *pe);
const synth_text *synth_pe_text_const(const synth_pe *pe);
int synth_pe_add_function(synth_pe *pe, const synth_function *f);
/* An export that forwards to "DLL.Function" (string inside the export
 * directory). ordinal 0 assigns the next free one. */
void synth_pe_add_forwarder(synth_pe *pe, const char *export_name, const char *forward_to,
                            uint16_t ordinal);

/* A further export name for `function` (as ntdll exports both NtClose and
 * ZwClose at one address). ordinal 0 assigns the next free one. */
void synth_pe_add_alias(synth_pe *pe, const char *export_name, int function, uint16_t ordinal);

/* One export: a function's RVA, or a forwarder string. */
typedef struct synth_pe_export {
    const char *name;
    uint32_t rva;              /* 0 for a forwarder */
    const char *forward_to;    /* "DLL.Function", or NULL */
    uint16_t ordinal;
} synth_pe_export;

/* The exports in name order, ordinals assigned (after layout). The array
 * (not the strings) belongs to the caller. */
synth_pe_export *synth_pe_exports(const synth_pe *pe, size_t *count);

/* Generates the code and fixes every RVA. */
void synth_pe_layout(synth_pe *pe);
/* Writes the file image (call targets in other images must be laid out). */
void synth_pe_build(synth_pe *pe, synth_buf *out);

const char *synth_pe_name(const synth_pe *pe);
uint64_t synth_pe_base(const synth_pe *pe);
uint32_t synth_pe_size_of_image(const synth_pe *pe);
/* The PE checksum of the last build (0 before). */
uint32_t synth_pe_checksum(const synth_pe *pe);
const synth_pe_options *synth_pe_get_options(const synth_pe *pe);
/* RVA of a function's start. */
uint32_t synth_pe_function_rva(const synth_pe *pe, int function);

/* The image as the loader maps it: SizeOfImage bytes, headers at 0 and each
 * section's raw data at its VirtualAddress. `file` is synth_pe_build output. */
void synth_pe_map(const synth_pe *pe, const synth_buf *file, synth_buf *out);
/* The module-list entry for this image (version a.b.c.d, recorded path). */
void synth_pe_module_entry(const synth_pe *pe, const char *path, const uint16_t version[4],
                           synth_module *out);
/* Full-dump variant: the mapped image becomes a memory range at the image
 * base. */
void synth_pe_add_to_dump_memory(const synth_pe *pe, const synth_buf *file, synth_dump *d);
/* MemoryInfoList entries: one committed MEM_IMAGE region for the headers and
 * one per section, with the section's protection. */
void synth_pe_add_memory_infos(const synth_pe *pe, synth_dump *d);

/* Breakpad symbol file: MODULE, INFO CODE_ID, FILE, FUNC with one line
 * record each, PUBLIC for the thunks. */
void synth_pe_write_sym(const synth_pe *pe, FILE *out);
/* Store path "<debug file>/<ID>/<debug file without .pdb>.sym"; `out` must
 * hold `size` bytes. */
void synth_pe_sym_path(const synth_pe *pe, char *out, size_t size);
/* Mini variant: writes the image (`file`, synth_pe_build output) to
 * <dir>/images/<name> and its symbols to <dir>/symbols/<store path>.
 * Returns 0, or -1 with errno set. */
int synth_pe_write_files(const synth_pe *pe, const synth_buf *file, const char *dir);

#endif
