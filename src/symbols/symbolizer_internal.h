/* Private access to the symbolizer's per-module debug files, for the
 * accessors in other files of src/symbols (symbolizer_cfi.c). */
#ifndef DT_SYMBOLS_SYMBOLIZER_INTERNAL_H
#define DT_SYMBOLS_SYMBOLIZER_INTERNAL_H

#include "dumptriage/symbolizer.h"

/* The module's PDB and Breakpad .sym (found on first use; NULL when none).
 * False when `module` is not one of the dump's modules. */
bool dt_symbolizer_module_files(dt_symbolizer *s, const dt_module *module, dt_pdb **pdb,
                               dt_sym_file **sym);

#endif
