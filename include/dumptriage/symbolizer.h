/*
 * dumptriage: the symbolizer. For each module it finds, lazily on the first
 * lookup, the symbol sources a Windows engineer would use — a matching PDB,
 * a Breakpad .sym, DWARF in the module image, the image's exports — and
 * answers lookups from the first source that has an answer, in that order.
 *
 * Symbol path entries (--symbols, then _NT_SYMBOL_PATH) are ';'-separated:
 * plain directories (flat, or <pdb>/<GUIDAGE>/<pdb> store layout),
 * srv*<cache>*<url>, cache*<dir>, and Breakpad stores
 * <root>/<debug file>/<ID>/<name>.sym. Names from the dump never leave the
 * symbol roots (see src/base/store.h).
 */
#ifndef DUMPTRIAGE_SYMBOLIZER_H
#define DUMPTRIAGE_SYMBOLIZER_H

#include "dumptriage/sym_cfi.h"
#include "dumptriage/symbols.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dt_image_set dt_image_set;

typedef struct dt_symbol_search {
    const char *const *paths;  /* --symbols entries, in order */
    size_t path_count;
    bool use_environment;      /* also _NT_SYMBOL_PATH, after `paths` */
    bool offline;              /* never download from srv* symbol servers */
    dt_image_set *images;      /* module images, for DWARF and exports; may be NULL */
} dt_symbol_search;

typedef struct dt_symbolizer dt_symbolizer;

dt_status dt_symbolizer_new(dt_symbolizer **out, const dt_dump *dump,
                            const dt_symbol_search *search, dt_error *err);
void dt_symbolizer_free(dt_symbolizer *symbolizer);

/* The symbol at `address` in `module` (an element of dt_dump_modules).
 * False when no source knows it. Strings live as long as the symbolizer. */
bool dt_symbolizer_lookup(dt_symbolizer *symbolizer, const dt_module *module, uint64_t address,
                          dt_symbol *out);
/* The x86 unwind record (STACK WIN / FPO) covering `address` in `module`:
 * from its PDB's FPO and new-FPO (frame data) streams, else its .sym STACK
 * WIN lines. False when neither has one. A program's text stays valid as
 * long as the symbolizer (symbolizer_cfi.c). */
bool dt_symbolizer_find_win(dt_symbolizer *symbolizer, const dt_module *module, uint64_t address,
                            dt_sym_win *out);
/* The best source found for a module (resolving it if needed) and its file
 * ("dump memory" or a path for exports and DWARF); DT_SYMBOLS_NONE when none. */
dt_symbol_kind dt_symbolizer_module_kind(dt_symbolizer *symbolizer, const dt_module *module,
                                         const char **file);
/* Whether the module's sources were already looked for (no search is done). */
bool dt_symbolizer_module_resolved(const dt_symbolizer *symbolizer, const dt_module *module);
const dt_diagnostic *dt_symbolizer_diagnostics(const dt_symbolizer *symbolizer, size_t *count);

#ifdef __cplusplus
}
#endif

#endif
