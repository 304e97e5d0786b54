/*
 * Unwind records through the symbolizer: the STACK WIN / FPO record that
 * covers an address, from the module's PDB (FPO and new-FPO streams) or its
 * Breakpad .sym (STACK WIN lines), in that order.
 */
#include "dumptriage/symbolizer.h"

#include "symbols/symbolizer_internal.h"

bool dt_symbolizer_find_win(dt_symbolizer *symbolizer, const dt_module *module, uint64_t address,
                            dt_sym_win *out)
{
    dt_pdb *pdb;
    dt_sym_file *sym;
    if (!symbolizer || !dt_symbolizer_module_files(symbolizer, module, &pdb, &sym) ||
        address < module->base || address - module->base >= module->size)
        return false;
    uint32_t rva = (uint32_t)(address - module->base);
    return (pdb && dt_pdb_find_fpo(pdb, rva, out)) || (sym && dt_sym_find_win(sym, rva, out));
}
