/*
 * libFuzzer target: the PDB provider. The input is opened as a PDB from
 * memory; identity, matching and lookups run at fixed RVAs, at the starts
 * and ends of the contributions and publics the reader decoded, and inside
 * the procedures of the modules those lookups loaded (inline sites).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "symbols/pdb_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lookups per input are capped so one input stays fast. */
enum { MAX_PROBES = 256 };

static void probe(dt_pdb *pdb, uint32_t rva)
{
    dt_symbol s;
    if (!dt_pdb_lookup(pdb, rva, &s))
        return;
    (void)strlen(s.function);
    if (s.file)
        (void)strlen(s.file);
    for (size_t i = 0; i < s.inline_count; i++) {
        (void)strlen(s.inlines[i].function);
        if (s.inlines[i].file)
            (void)strlen(s.inlines[i].file);
    }
}

/* Offsets 2, 0x10, the middle and the last byte of each procedure. */
static void probe_procedures(dt_pdb *pdb)
{
    size_t probes = 0;
    for (size_t m = 0; m < pdb->module_count; m++) {
        const pdb_module *module = &pdb->modules[m];
        for (size_t i = 0; module->state == PDB_LOADED && i < module->proc_count; i++) {
            const pdb_proc *p = &module->procs[i];
            const uint32_t offsets[] = {2, 0x10, p->size / 2, p->size - 1};
            for (size_t k = 0; k < 4 && probes++ < 4 * MAX_PROBES; k++)
                probe(pdb, p->rva + offsets[k]);
        }
    }
}

static void probe_decoded(dt_pdb *pdb)
{
    for (size_t i = 0; i < pdb->contribution_count && i < MAX_PROBES; i++) {
        probe(pdb, pdb->contributions[i].rva);
        probe(pdb, pdb->contributions[i].rva + pdb->contributions[i].size - 1);
    }
    for (size_t i = 0; i < pdb->public_count && i < MAX_PROBES; i++)
        probe(pdb, pdb->publics[i].rva + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_pdb *pdb;
    dt_error err;
    if (dt_pdb_open_bytes(&pdb, data, size, "fuzz.pdb", &err) != DT_OK)
        return 0;
    uint8_t guid[16];
    uint32_t age;
    if (dt_pdb_identity(pdb, guid, &age)) {
        dt_codeview cv = {.kind = DT_CV_RSDS, .age = age};
        memcpy(cv.guid, guid, sizeof guid);
        dt_pdb_matches(pdb, &cv);
    }
    static const uint32_t fixed[] = {0, 1, 0x1000, 0x1010, 0x1620, 0x2000, 0x10000,
                                     0x7FFFFFFF, 0xFFFFFFFF};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        probe(pdb, fixed[i]);
    probe_decoded(pdb);
    probe_procedures(pdb);
    size_t n;
    const dt_diagnostic *d = dt_pdb_diagnostics(pdb, &n);
    for (size_t i = 0; i < n; i++)
        (void)(strlen(d[i].message) + strlen(d[i].structure));
    dt_pdb_free(pdb);
    return 0;
}
