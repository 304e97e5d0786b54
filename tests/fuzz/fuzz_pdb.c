/*
 * libFuzzer target: the PDB provider. The input is opened as a PDB from
 * memory; identity, matching and lookups run at fixed RVAs and at the
 * starts and ends of the contributions and publics the reader decoded.
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
    size_t n;
    const dt_diagnostic *d = dt_pdb_diagnostics(pdb, &n);
    for (size_t i = 0; i < n; i++)
        (void)(strlen(d[i].message) + strlen(d[i].structure));
    dt_pdb_free(pdb);
    return 0;
}
