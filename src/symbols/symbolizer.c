/*
 * The symbolizer: per module, lazily, the PDB, the Breakpad .sym, DWARF in
 * the image and the image's exports; lookups go to the first that answers.
 */
#include "dumptriage/symbolizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/store.h"
#include "base/text.h"
#include "symbols/symbolizer_internal.h"

enum { NAME_SIZE = 512, ID_SIZE = 48, MAX_SYMBOL_NAME = 256 };

static const char ENVIRONMENT_VARIABLE[] = "_NT_SYMBOL_PATH";

typedef struct module_sources {
    bool resolved;
    dt_pdb *pdb;
    const char *pdb_file;
    dt_sym_file *sym;
    const char *sym_file;
    dt_dwarf *dwarf;
    const dt_image *image;
} module_sources;

struct dt_symbolizer {
    const dt_dump *dump;
    const dt_module *modules;
    size_t module_count;
    module_sources *slots;
    dt_store_path *path;
    dt_image_set *images;
    dt_arena arena;
    dt_diag_list diags;
    char undecorated[MAX_SYMBOL_NAME]; /* last export name undecorated */
};

/* One module's search for a symbol file. */
typedef struct file_search {
    dt_symbolizer *symbolizer;
    const dt_module *module;
    const char *id;
    module_sources *slot;
} file_search;

#define NOTE(s, level, ...) dt_diag_add(&(s)->diags, &(s)->arena, (level), "symbol search", -1, \
                                        __VA_ARGS__)

const char *dt_symbol_kind_name(dt_symbol_kind kind)
{
    static const char *const names[] = {"none", "pdb", "sym", "dwarf", "exports"};
    return kind <= DT_SYMBOLS_EXPORTS ? names[kind] : "none";
}

/* Symbol-store id of a CodeView record: GUID (%08X%04X%04X + 8 bytes) and
 * age %X for RSDS; signature %08X and age %X for NB10. */
static bool debug_id(const dt_codeview *cv, char id[ID_SIZE])
{
    const uint8_t *g = cv->guid;
    if (cv->kind == DT_CV_RSDS)
        snprintf(id, ID_SIZE, "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X%X",
                 (unsigned)(g[0] | g[1] << 8 | g[2] << 16 | (unsigned)g[3] << 24),
                 (unsigned)(g[4] | g[5] << 8), (unsigned)(g[6] | g[7] << 8), g[8], g[9], g[10],
                 g[11], g[12], g[13], g[14], g[15], cv->age);
    else if (cv->kind == DT_CV_NB10)
        snprintf(id, ID_SIZE, "%08X%X", cv->signature, cv->age);
    return cv->kind != DT_CV_NONE;
}

/* ---- Finding files -------------------------------------------------------- */

static bool accept_pdb(void *ctx, const char *path)
{
    file_search *f = ctx;
    dt_symbolizer *s = f->symbolizer;
    dt_pdb *pdb = NULL;
    dt_error err = {0};
    if (dt_pdb_open(&pdb, path, &err) != DT_OK) {
        NOTE(s, DT_DIAG_WARNING, "%s", err.message);
        return false;
    }
    if (!dt_pdb_matches(pdb, &f->module->codeview)) {
        NOTE(s, DT_DIAG_WARNING, "%s: GUID and age do not match the module's %s", path, f->id);
        dt_pdb_free(pdb);
        return false;
    }
    f->slot->pdb = pdb;
    f->slot->pdb_file = dt_arena_printf(&s->arena, "%s", path);
    return true;
}

static bool accept_sym(void *ctx, const char *path)
{
    file_search *f = ctx;
    dt_symbolizer *s = f->symbolizer;
    dt_sym_file *sym = NULL;
    dt_error err = {0};
    if (dt_sym_open(&sym, path, &err) != DT_OK) {
        NOTE(s, DT_DIAG_WARNING, "%s", err.message);
        return false;
    }
    const char *id = dt_sym_debug_id(sym);
    if (!id || strcasecmp(id, f->id) != 0) {
        NOTE(s, DT_DIAG_WARNING, "%s: MODULE id %s does not match the module's %s", path,
             id ? id : "(none)", f->id);
        dt_sym_free(sym);
        return false;
    }
    f->slot->sym = sym;
    f->slot->sym_file = dt_arena_printf(&s->arena, "%s", path);
    return true;
}

/* A CAB-compressed store entry ("x.pd_", magic "MSCF"): reported, not read. */
static bool report_cab(void *ctx, const char *path)
{
    file_search *f = ctx;
    FILE *file = fopen(path, "rb");
    char magic[4] = {0};
    bool cab = file && fread(magic, 1, 4, file) == 4 && memcmp(magic, "MSCF", 4) == 0;
    if (file)
        fclose(file);
    if (cab)
        NOTE(f->symbolizer, DT_DIAG_WARNING,
             "%s is CAB-compressed; compressed symbol files are not supported (expand it with "
             "cabextract into the same directory)", path);
    return cab;
}

/* "x.pdb" -> "x.pd_", the name of a CAB-compressed copy in a symbol store. */
static void compressed_name(const char *file, char out[NAME_SIZE])
{
    snprintf(out, NAME_SIZE, "%s", file);
    size_t n = strlen(out);
    if (n > 0)
        out[n - 1] = '_';
}

/* "<debug file without its extension>.sym" (Breakpad store file name). */
static void sym_file_name(const char *debug_file, char out[NAME_SIZE])
{
    snprintf(out, NAME_SIZE, "%s", debug_file);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
    size_t n = strlen(out);
    snprintf(out + n, NAME_SIZE - n, ".sym");
}

static void find_debug_files(dt_symbolizer *s, module_sources *slot, const dt_module *m)
{
    char id[ID_SIZE], sym_name[NAME_SIZE];
    if (!s->path || !debug_id(&m->codeview, id))
        return;
    const char *debug_file = dt_path_basename(m->codeview.pdb_path ? m->codeview.pdb_path : "");
    file_search f = {s, m, id, slot};
    if (!dt_store_find(s->path, debug_file, id, debug_file, accept_pdb, &f)) {
        compressed_name(debug_file, sym_name);
        dt_store_find(s->path, debug_file, id, sym_name, report_cab, &f);
    }
    sym_file_name(debug_file, sym_name);
    dt_store_find(s->path, debug_file, id, sym_name, accept_sym, &f);
}

/* DWARF sections are not loaded into memory, so they come from the file. */
static void open_dwarf(dt_symbolizer *s, module_sources *slot, const dt_module *m)
{
    const dt_image *file = dt_image_set_get_file(s->images, m);
    if (!file)
        return;
    dt_error err = {0};
    dt_status st = dt_dwarf_open(&slot->dwarf, file, &err);
    if (st != DT_OK && st != DT_ERR_NOT_FOUND)
        NOTE(s, DT_DIAG_WARNING, "%s", err.message);
}

static void resolve(dt_symbolizer *s, module_sources *slot, const dt_module *m)
{
    slot->resolved = true;
    find_debug_files(s, slot, m);
    slot->image = s->images ? dt_image_set_get(s->images, m) : NULL;
    if (slot->image && !slot->pdb && !slot->sym)
        open_dwarf(s, slot, m);
}

/* The index of `module` in the dump's module array, when it is one. */
static bool module_index(const dt_symbolizer *s, const dt_module *module, size_t *index)
{
    uintptr_t first = (uintptr_t)s->modules, at = (uintptr_t)module;
    if (!module || at < first || (at - first) % sizeof *module ||
        (at - first) / sizeof *module >= s->module_count)
        return false;
    *index = (at - first) / sizeof *module;
    return true;
}

static module_sources *sources_of(dt_symbolizer *s, const dt_module *module)
{
    size_t i;
    if (!module_index(s, module, &i))
        return NULL;
    if (!s->slots[i].resolved)
        resolve(s, &s->slots[i], module);
    return &s->slots[i];
}

/* ---- Lookups -------------------------------------------------------------- */

/* The export at or below `rva`, unless .pdata says the address belongs to a
 * function that starts after it (then the export names another function). */
static bool lookup_export(dt_symbolizer *s, const dt_image *image, uint32_t rva, dt_symbol *out)
{
    const dt_image_export *e = dt_image_export_at_or_below(image, rva);
    uint32_t start;
    if (!e || !e->name || (dt_image_function_start(image, rva, &start) && e->rva < start))
        return false;
    memset(out, 0, sizeof *out);
    out->function = e->name;
    if (e->name[0] == '?' && dt_undecorate_msvc(e->name, s->undecorated, sizeof s->undecorated))
        out->function = dt_arena_printf(&s->arena, "%s", s->undecorated);
    out->function_rva = e->rva;
    return out->function != NULL;
}

bool dt_symbolizer_lookup(dt_symbolizer *s, const dt_module *module, uint64_t address,
                          dt_symbol *out)
{
    module_sources *slot = s ? sources_of(s, module) : NULL;
    if (!slot || address < module->base || address - module->base >= module->size)
        return false;
    uint32_t rva = (uint32_t)(address - module->base);
    return (slot->pdb && dt_pdb_lookup(slot->pdb, rva, out)) ||
           (slot->sym && dt_sym_lookup(slot->sym, rva, out)) ||
           (slot->dwarf && dt_dwarf_lookup(slot->dwarf, rva, out)) ||
           (slot->image && lookup_export(s, slot->image, rva, out));
}

bool dt_symbolizer_module_files(dt_symbolizer *s, const dt_module *module, dt_pdb **pdb,
                               dt_sym_file **sym)
{
    module_sources *slot = s ? sources_of(s, module) : NULL;
    *pdb = slot ? slot->pdb : NULL;
    *sym = slot ? slot->sym : NULL;
    return slot != NULL;
}

dt_symbol_kind dt_symbolizer_module_kind(dt_symbolizer *s, const dt_module *module,
                                         const char **file)
{
    module_sources *slot = s ? sources_of(s, module) : NULL;
    *file = NULL;
    if (!slot)
        return DT_SYMBOLS_NONE;
    if (slot->pdb) {
        *file = slot->pdb_file;
        return DT_SYMBOLS_PDB;
    }
    if (slot->sym) {
        *file = slot->sym_file;
        return DT_SYMBOLS_SYM;
    }
    if (!slot->image)
        return DT_SYMBOLS_NONE;
    *file = dt_image_set_source(s->images, module);
    if (slot->dwarf)
        return DT_SYMBOLS_DWARF;
    size_t exports;
    dt_image_exports(slot->image, &exports);
    return exports ? DT_SYMBOLS_EXPORTS : DT_SYMBOLS_NONE;
}

bool dt_symbolizer_module_resolved(const dt_symbolizer *s, const dt_module *module)
{
    size_t i;
    return module_index(s, module, &i) && s->slots[i].resolved;
}

const dt_diagnostic *dt_symbolizer_diagnostics(const dt_symbolizer *s, size_t *count)
{
    *count = s->diags.count;
    return s->diags.items;
}

/* ---- Lifetime ------------------------------------------------------------- */

static void add_search(dt_symbolizer *s, const dt_symbol_search *search)
{
    s->images = search->images;
    s->path = dt_store_path_new(&s->arena, &s->diags, "symbol search");
    if (!s->path)
        return;
    dt_store_path_allow_downloads(s->path, !search->offline);
    for (size_t i = 0; i < search->path_count; i++)
        if (search->paths && search->paths[i])
            dt_store_path_add(s->path, search->paths[i]);
    const char *environment = search->use_environment ? getenv(ENVIRONMENT_VARIABLE) : NULL;
    if (environment)
        dt_store_path_add(s->path, environment);
}

dt_status dt_symbolizer_new(dt_symbolizer **out, const dt_dump *dump,
                            const dt_symbol_search *search, dt_error *err)
{
    *out = NULL;
    dt_symbolizer *s = dump ? calloc(1, sizeof *s) : NULL;
    if (!s)
        return dt_error_set(err, dump ? DT_ERR_NOMEM : DT_ERR_ARGUMENT, "symbolizer", NULL, -1,
                            dump ? "out of memory" : "no dump given");
    s->dump = dump;
    s->modules = dt_dump_modules(dump, &s->module_count);
    s->slots = calloc(s->module_count ? s->module_count : 1, sizeof *s->slots);
    if (!s->slots) {
        dt_symbolizer_free(s);
        return dt_error_set(err, DT_ERR_NOMEM, "symbolizer", NULL, -1, "out of memory");
    }
    if (search)
        add_search(s, search);
    *out = s;
    return DT_OK;
}

void dt_symbolizer_free(dt_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->slots && i < s->module_count; i++) {
        dt_pdb_free(s->slots[i].pdb);
        dt_sym_free(s->slots[i].sym);
        dt_dwarf_free(s->slots[i].dwarf);
    }
    free(s->slots);
    dt_store_path_free(s->path);
    dt_diag_list_free(&s->diags);
    dt_arena_release(&s->arena);
    free(s);
}
