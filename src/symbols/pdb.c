/*
 * The PDB provider: opening, identity and address lookup. Opening reads
 * only the superblock and the stream directory; every other stream is read
 * when a call first needs it (see docs/pdb.md).
 */
#include "symbols/pdb_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/text.h"

static dt_pdb *new_pdb(void)
{
    dt_pdb *pdb = calloc(1, sizeof *pdb);
    if (pdb) {
        pdb->names_stream = PDB_NO_STREAM;
        pdb->publics_stream = PDB_NO_STREAM;
        pdb->symrec_stream = PDB_NO_STREAM;
    }
    return pdb;
}

/* Shared tail of the openers: read the MSF directory, then hand over. */
static dt_status finish_open(dt_pdb *pdb, const char *label, dt_pdb **out, dt_error *err)
{
    pdb->label = dt_arena_strndup(&pdb->arena, label, strlen(label));
    dt_status st = pdb->label ? pdb_msf_open(pdb, err)
                              : dt_error_set(err, DT_ERR_NOMEM, label, NULL, -1, "out of memory");
    if (st != DT_OK) {
        dt_pdb_free(pdb);
        return st;
    }
    *out = pdb;
    return DT_OK;
}

dt_status dt_pdb_open_bytes(dt_pdb **out, const uint8_t *bytes, size_t size, const char *label,
                            dt_error *err)
{
    *out = NULL;
    dt_pdb *pdb = new_pdb();
    if (!pdb)
        return dt_error_set(err, DT_ERR_NOMEM, label, NULL, -1, "out of memory");
    pdb->bytes = bytes;
    pdb->size = size;
    return finish_open(pdb, label, out, err);
}

dt_status dt_pdb_open(dt_pdb **out, const char *path, dt_error *err)
{
    if (!out)
        return dt_error_set(err, DT_ERR_ARGUMENT, path ? path : "(null)", NULL, -1,
                            "no output pointer given");
    *out = NULL;
    if (!path)
        return dt_error_set(err, DT_ERR_ARGUMENT, "(null)", NULL, -1, "no path given");
    dt_pdb *pdb = new_pdb();
    if (!pdb)
        return dt_error_set(err, DT_ERR_NOMEM, path, NULL, -1, "out of memory");
    dt_status st = dt_map_plain(&pdb->file, path, err);
    if (st != DT_OK) {
        dt_pdb_free(pdb);
        return st;
    }
    pdb->bytes = pdb->file.data;
    pdb->size = (size_t)pdb->file.size;
    return finish_open(pdb, path, out, err);
}

void dt_pdb_free(dt_pdb *pdb)
{
    if (!pdb)
        return;
    for (size_t i = 0; i < pdb->module_count; i++) {
        free(pdb->modules[i].procs);
        free(pdb->modules[i].lines);
    }
    for (uint32_t i = 0; i < pdb->stream_count; i++)
        free(pdb->streams[i].data);
    free(pdb->streams);
    free(pdb->directory);
    free(pdb->publics);
    pdb_free_types(pdb);
    dt_unmap_file(&pdb->file);
    dt_diag_list_free(&pdb->diags);
    dt_arena_release(&pdb->arena);
    free(pdb);
}

bool dt_pdb_identity(dt_pdb *pdb, uint8_t guid[16], uint32_t *age)
{
    if (!pdb || !pdb_load_info(pdb))
        return false;
    if (guid)
        memcpy(guid, pdb->guid, 16);
    if (age)
        *age = pdb_load_dbi_header(pdb) ? pdb->dbi_age : pdb->info_age;
    return true;
}

bool dt_pdb_matches(dt_pdb *pdb, const dt_codeview *codeview)
{
    uint8_t guid[16];
    uint32_t age;
    return codeview && codeview->kind == DT_CV_RSDS && dt_pdb_identity(pdb, guid, &age) &&
           memcmp(guid, codeview->guid, 16) == 0 && age == codeview->age;
}

const dt_diagnostic *dt_pdb_diagnostics(const dt_pdb *pdb, size_t *count)
{
    *count = pdb ? pdb->diags.count : 0;
    return pdb ? pdb->diags.items : NULL;
}

/* ---- Lookup ---- */

/* The module whose section contribution holds source-space `rva`. */
static pdb_module *module_at(dt_pdb *pdb, uint32_t rva)
{
    size_t lo = 0, hi = pdb->contribution_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pdb->contributions[mid].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const pdb_contribution *c = &pdb->contributions[lo - 1];
    if (rva - c->rva >= c->size || c->module >= pdb->module_count)
        return NULL;
    pdb_module *m = &pdb->modules[c->module];
    return pdb_load_module(pdb, m) ? m : NULL;
}

/* The procedure whose [rva, rva + size) holds `rva`; procedures are sorted
 * by start, so only the last one starting at or below can hold it, unless
 * an earlier, longer one encloses it (checked over a bounded window). */
static const pdb_proc *proc_at(const pdb_module *m, uint32_t rva)
{
    enum { ENCLOSING_WINDOW = 16 };
    size_t lo = 0, hi = m->proc_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->procs[mid].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, seen = 0; i > 0 && seen < ENCLOSING_WINDOW; i--, seen++) {
        const pdb_proc *p = &m->procs[i - 1];
        if (rva - p->rva < p->size)
            return p;
    }
    return NULL;
}

/* The nearest public at or below `rva` in the same section. */
static pdb_public *public_at(dt_pdb *pdb, uint32_t rva)
{
    if (!pdb_load_publics(pdb))
        return NULL;
    size_t lo = 0, hi = pdb->public_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pdb->publics[mid].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    pdb_public *p = &pdb->publics[lo - 1];
    return p->section == pdb_section_of(pdb, rva) ? p : NULL;
}

const char *pdb_display_name(dt_pdb *pdb, const char *raw)
{
    char buffer[PDB_MAX_NAME];
    if (raw[0] != '?' || !dt_undecorate_msvc(raw, buffer, sizeof buffer))
        return raw;
    const char *copy = dt_arena_strndup(&pdb->arena, buffer, strlen(buffer));
    return copy ? copy : raw;
}

static const char *public_name(dt_pdb *pdb, pdb_public *p)
{
    if (!p->name)
        p->name = pdb_display_name(pdb, p->raw_name);
    return p->name;
}

/* The procedure holding `src`, else the nearest public; returns the
 * procedure, NULL for a public or nothing. */
static const pdb_proc *fill_function(dt_pdb *pdb, pdb_module *m, uint32_t src, dt_symbol *out,
                                     uint32_t *start)
{
    const pdb_proc *proc = m ? proc_at(m, src) : NULL;
    if (proc) {
        out->function = proc->name;
        out->function_size = proc->size;
        *start = proc->rva;
        return proc;
    }
    pdb_public *pub = public_at(pdb, src);
    if (pub) {
        out->function = public_name(pdb, pub);
        *start = pub->rva;
    }
    return NULL;
}

bool dt_pdb_lookup(dt_pdb *pdb, uint32_t rva, dt_symbol *out)
{
    if (!out)
        return false;
    memset(out, 0, sizeof *out);
    if (!pdb || !pdb_load_dbi(pdb))
        return false;
    uint32_t src = rva, start = 0;
    if (pdb->has_omap && !pdb_omap_translate(&pdb->omap_to_src, rva, &src))
        return false;
    pdb_module *m = module_at(pdb, src);
    const pdb_proc *proc = fill_function(pdb, m, src, out, &start);
    if (!out->function)
        return false;
    const pdb_line *line = m ? pdb_line_at(m, src) : NULL;
    if (line) {
        out->file = pdb_line_file(pdb, m, line->file_id);
        out->line = line->line;
    }
    if (proc)
        pdb_inline_frames(pdb, m, proc, src, out);
    out->function_rva = start;
    if (pdb->has_omap && !pdb_omap_translate(&pdb->omap_from_src, start, &out->function_rva))
        out->function_rva = rva;
    return true;
}
