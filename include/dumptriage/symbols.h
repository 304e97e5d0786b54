/*
 * dumptriage: symbols.
 *
 * Symbol providers answer "what function, file and line is at this RVA of
 * this module". Each provider reads one kind of debug data and is hostile-
 * input safe: PDB (MSF 7.0), Breakpad .sym, DWARF in PE images (libdwarf),
 * and PE exports. The symbolizer tries them per module in that order; the
 * first with an answer wins.
 *
 * Strings and arrays in a dt_symbol belong to the provider that produced it
 * and stay valid until that provider is freed.
 */
#ifndef DUMPTRIAGE_SYMBOLS_H
#define DUMPTRIAGE_SYMBOLS_H

#include "dumptriage/dump.h"
#include "dumptriage/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A function inlined at the looked-up address, innermost first. Every
 * provider places frames the way debuggers show them: the innermost inlined
 * function at the source position of the address, each outer one at the
 * call site inside it, and the symbol's own file/line (the physical
 * function) at the call site of its outermost inlined call. */
typedef struct dt_inline_frame {
    const char *function;
    const char *file;        /* NULL when unknown */
    uint32_t line;           /* 0 when unknown */
} dt_inline_frame;

typedef struct dt_symbol {
    const char *function;    /* undecorated, WinDbg style: "UL_APP_POOL::Cleanup" */
    uint32_t function_rva;   /* start of the function (or public symbol) */
    uint32_t function_size;  /* 0 when unknown (public symbols, exports) */
    const char *file;        /* source position of the physical function: of the
                                address, or of its outermost inlined call */
    uint32_t line;           /* 0 when unknown */
    size_t inline_count;
    const dt_inline_frame *inlines;
} dt_symbol;

typedef enum dt_symbol_kind {
    DT_SYMBOLS_NONE = 0,
    DT_SYMBOLS_PDB,
    DT_SYMBOLS_SYM,
    DT_SYMBOLS_DWARF,
    DT_SYMBOLS_EXPORTS
} dt_symbol_kind;

const char *dt_symbol_kind_name(dt_symbol_kind kind); /* "pdb", "sym", "dwarf", "exports", "none" */

/* ---- PDB (MSF 7.0) ------------------------------------------------------- */

typedef struct dt_pdb dt_pdb;
/* Maps a PDB read-only. Only the streams a lookup needs are read, lazily. */
dt_status dt_pdb_open(dt_pdb **out, const char *path, dt_error *err);
void dt_pdb_free(dt_pdb *pdb);
/* The PDB info stream's GUID and the DBI stream's age (the image's
 * CodeView age matches the DBI age). */
bool dt_pdb_identity(dt_pdb *pdb, uint8_t guid[16], uint32_t *age);
/* True when the PDB belongs to a module with this CodeView record. */
bool dt_pdb_matches(dt_pdb *pdb, const dt_codeview *codeview);
/* The function (S_GPROC32/S_LPROC32 with its range, else the nearest
 * S_PUB32) and the C13 line at `rva`; RVAs go through OMAP when present. */
bool dt_pdb_lookup(dt_pdb *pdb, uint32_t rva, dt_symbol *out);
const dt_diagnostic *dt_pdb_diagnostics(const dt_pdb *pdb, size_t *count);

/* ---- PDB x86 unwind records (pdb_fpo.c) ---------------------------------- */

typedef struct dt_sym_win dt_sym_win; /* sym_cfi.h */
/* The FPO record covering image `rva`: the new-FPO (FRAMEDATA, with its
 * program from /names) stream first, then the FPO_DATA stream; returned as
 * a STACK WIN record with `rva` in image space. False when none covers it. */
bool dt_pdb_find_fpo(dt_pdb *pdb, uint32_t rva, dt_sym_win *out);

/* ---- Breakpad .sym ------------------------------------------------------- */

typedef struct dt_sym_file dt_sym_file;
dt_status dt_sym_open(dt_sym_file **out, const char *path, dt_error *err);
void dt_sym_free(dt_sym_file *sym);
/* MODULE record: os, cpu, debug id and debug file name. */
const char *dt_sym_debug_id(const dt_sym_file *sym);
const char *dt_sym_debug_file(const dt_sym_file *sym);
/* FUNC (with its line records and INLINE records) or the nearest PUBLIC. */
bool dt_sym_lookup(dt_sym_file *sym, uint32_t rva, dt_symbol *out);
const dt_diagnostic *dt_sym_diagnostics(const dt_sym_file *sym, size_t *count);

/* ---- DWARF in PE images (libdwarf) --------------------------------------- */

typedef struct dt_dwarf dt_dwarf;
/* Reads the DWARF sections of a PE image opened from a file (MinGW, Wine).
 * DT_ERR_NOT_FOUND when the image has no DWARF. */
dt_status dt_dwarf_open(dt_dwarf **out, const dt_image *image, dt_error *err);
void dt_dwarf_free(dt_dwarf *dwarf);
bool dt_dwarf_lookup(dt_dwarf *dwarf, uint32_t rva, dt_symbol *out);
const dt_diagnostic *dt_dwarf_diagnostics(const dt_dwarf *dwarf, size_t *count);

/* ---- Names ---------------------------------------------------------------- */

/* Undecorates an MSVC name to "Scope::Name" without parameters, as WinDbg
 * shows it ("?Cleanup@UL_APP_POOL@@QEAAXXZ" -> "UL_APP_POOL::Cleanup").
 * Returns false (and copies the input) when it is not a decorated name or
 * cannot be undecorated. Never reads past the string, never recurses
 * without a bound. */
bool dt_undecorate_msvc(const char *decorated, char *out, size_t size);
/* Demangles an Itanium C++ name (MinGW) to "ns::Class::name" without
 * parameters; false (input copied) when it is not one. */
bool dt_demangle_itanium(const char *mangled, char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif
