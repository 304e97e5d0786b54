/*
 * Finding module images for the stack walker (docs/image.md, "Finding
 * images"). The search path and its safety rule are in base/store.h: a
 * module name from the dump only selects among entries that directory
 * listings returned.
 */
#include "dumptriage/image.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/store.h"
#include "base/text.h"

static const char DUMP_MEMORY_SOURCE[] = "dump memory";
static const char ENVIRONMENT_VARIABLE[] = "_NT_EXECUTABLE_IMAGE_PATH";

typedef struct module_slot {
    bool resolved;
    dt_image *image;
    const char *source;
    bool disk_searched;      /* the on-disk image was looked for */
    dt_image *file;          /* the on-disk image when `image` came from memory */
} module_slot;

struct dt_image_set {
    const dt_dump *dump;
    const dt_module *modules;
    size_t module_count;
    module_slot *slots;      /* one per module, filled on request */
    dt_store_path *path;
    bool use_dump_memory;
    bool memory_first;       /* full dump: dump memory before the search path */
    dt_arena arena;
    dt_diag_list diags;
    size_t summary_index;    /* the "N more suppressed" entry, or SIZE_MAX */
    size_t dropped_reported;
};

/* One module's search. */
typedef struct lookup {
    dt_image_set *set;
    const dt_module *module;
    const char *name;        /* the module name from the dump */
    char id[DT_IMAGE_ID_SIZE];
    dt_image *found;
} lookup;

#define NOTE(set, level, ...) dt_diag_add(&(set)->diags, &(set)->arena, (level), __VA_ARGS__)

/* ---- Candidates -------------------------------------------------------- */

static void note_mismatch(lookup *lk, const char *label, const dt_image *img)
{
    const dt_image_headers *h = dt_image_headers_get(img);
    NOTE(lk->set, DT_DIAG_WARNING, "image search", -1,
         "%s: TimeDateStamp 0x%08X SizeOfImage 0x%x does not match the module's 0x%08X 0x%x",
         label, h->timestamp, h->size_of_image, lk->module->timestamp, lk->module->size);
}

/* Store visitor: opens a candidate file and keeps it when it matches. */
static bool try_file(void *ctx, const char *path)
{
    lookup *lk = ctx;
    dt_image *img = NULL;
    dt_error err = {0};
    if (dt_image_open_file(&img, path, &err) != DT_OK) {
        NOTE(lk->set, DT_DIAG_WARNING, "image search", -1, "%s", err.message);
        return false;
    }
    if (!dt_image_matches_module(img, lk->module)) {
        note_mismatch(lk, path, img);
        dt_image_free(img);
        return false;
    }
    lk->found = img;
    return true;
}

/* <dir>/<name>, <root>/<name>/<id>/<name>, then a symbol-server download. */
static dt_image *search_disk(lookup *lk)
{
    if (lk->set->path)
        dt_store_find(lk->set->path, lk->name, lk->id, lk->name, try_file, lk);
    return lk->found;
}

/* ---- Dump memory ------------------------------------------------------- */

static dt_image *open_from_memory(lookup *lk)
{
    dt_image *img = NULL;
    dt_error err = {0};
    dt_status st = dt_image_open_memory(&img, lk->set->dump, lk->module, &err);
    if (st == DT_ERR_NOT_FOUND)
        return NULL;
    if (st != DT_OK) {
        NOTE(lk->set, DT_DIAG_WARNING, "image search", -1, "%s", err.message);
        return NULL;
    }
    if (!dt_image_matches_module(img, lk->module)) {
        note_mismatch(lk, dt_image_label(img), img);
        dt_image_free(img);
        return NULL;
    }
    return img;
}

/* False when the image declares an exception directory but none of its
 * RUNTIME_FUNCTIONs could be read (pages missing from the dump). */
static bool has_unwind_data(const dt_image *img)
{
    size_t count;
    dt_image_runtime_functions(img, &count);
    return count > 0 || dt_image_headers_get(img)->dirs[DT_IMAGE_DIR_EXCEPTION].size == 0;
}

/* ---- Resolution -------------------------------------------------------- */

static void keep(module_slot *slot, dt_image *img, const char *source)
{
    slot->image = img;
    slot->source = source;
}

static void resolve(dt_image_set *set, module_slot *slot, const dt_module *module)
{
    lookup lk = {.set = set, .module = module, .name = module->name};
    snprintf(lk.id, sizeof lk.id, "%08X%x", module->timestamp, module->size);
    dt_image *memory = set->memory_first ? open_from_memory(&lk) : NULL;
    if (memory && has_unwind_data(memory)) {
        keep(slot, memory, DUMP_MEMORY_SOURCE);
        return;
    }
    dt_image *file = search_disk(&lk);
    slot->disk_searched = true;
    if (file) {
        dt_image_free(memory);
        keep(slot, file, dt_image_label(file)); /* a file image's label is its path */
        return;
    }
    if (set->use_dump_memory && !set->memory_first)
        memory = open_from_memory(&lk);
    if (memory) {
        keep(slot, memory, DUMP_MEMORY_SOURCE);
        return;
    }
    NOTE(set, DT_DIAG_INFO, "image search", -1, "%s: no matching image found",
         lk.name ? lk.name : "(unnamed module)");
}

/* The slot of `module` when it is an element of the dump's module array. */
static module_slot *slot_of(const dt_image_set *set, const dt_module *module)
{
    uintptr_t first = (uintptr_t)set->modules, at = (uintptr_t)module;
    if (!module || at < first)
        return NULL;
    uintptr_t offset = at - first;
    if (offset % sizeof *module || offset / sizeof *module >= set->module_count)
        return NULL;
    return &set->slots[offset / sizeof *module];
}

const dt_image *dt_image_set_get(dt_image_set *set, const dt_module *module)
{
    module_slot *slot = set ? slot_of(set, module) : NULL;
    if (!slot)
        return NULL;
    if (!slot->resolved) {
        slot->resolved = true;
        resolve(set, slot, module);
    }
    return slot->image;
}

const dt_image *dt_image_set_get_file(dt_image_set *set, const dt_module *module)
{
    const dt_image *image = dt_image_set_get(set, module);
    module_slot *slot = image ? slot_of(set, module) : NULL;
    if (!slot || slot->source != DUMP_MEMORY_SOURCE)
        return image;
    if (!slot->disk_searched) {
        lookup lk = {.set = set, .module = module, .name = module->name};
        snprintf(lk.id, sizeof lk.id, "%08X%x", module->timestamp, module->size);
        slot->file = search_disk(&lk);
        slot->disk_searched = true;
    }
    return slot->file;
}

const char *dt_image_set_source(const dt_image_set *set, const dt_module *module)
{
    const module_slot *slot = set ? slot_of(set, module) : NULL;
    return slot ? slot->source : NULL;
}

/* ---- Search path entries ---------------------------------------------- */

static void add_search(dt_image_set *set, const dt_image_search *search)
{
    set->path = dt_store_path_new(&set->arena, &set->diags, "image search");
    set->use_dump_memory = search->use_dump_memory;
    if (!set->path)
        return;
    dt_store_path_allow_downloads(set->path, !search->offline);
    for (size_t i = 0; i < search->path_count; i++)
        if (search->paths && search->paths[i])
            dt_store_path_add(set->path, search->paths[i]);
    const char *environment = search->use_environment ? getenv(ENVIRONMENT_VARIABLE) : NULL;
    if (environment)
        dt_store_path_add(set->path, environment);
}

/* ---- Lifetime ---------------------------------------------------------- */

dt_status dt_image_set_new(dt_image_set **out, const dt_dump *dump,
                           const dt_image_search *search, dt_error *err)
{
    *out = NULL;
    if (!dump)
        return dt_error_set(err, DT_ERR_ARGUMENT, "image set", NULL, -1, "no dump given");
    dt_image_set *set = calloc(1, sizeof *set);
    if (!set)
        return dt_error_set(err, DT_ERR_NOMEM, "image set", NULL, -1, "out of memory");
    set->dump = dump;
    set->modules = dt_dump_modules(dump, &set->module_count);
    set->summary_index = SIZE_MAX;
    set->slots = calloc(set->module_count ? set->module_count : 1, sizeof *set->slots);
    if (!set->slots) {
        dt_image_set_free(set);
        return dt_error_set(err, DT_ERR_NOMEM, "image set", NULL, -1, "out of memory");
    }
    if (search)
        add_search(set, search);
    set->memory_first = set->use_dump_memory && dt_dump_kind_get(dump) == DT_DUMP_FULL;
    *out = set;
    return DT_OK;
}

/* Keeps one "N more diagnostics suppressed" entry last and up to date. */
static void refresh_suppressed_summary(dt_image_set *set)
{
    if (set->diags.dropped == set->dropped_reported)
        return;
    if (set->summary_index == SIZE_MAX) {
        size_t before = set->diags.count;
        dt_diag_finish(&set->diags, &set->arena);
        if (set->diags.count > before)
            set->summary_index = before;
    } else {
        const char *message = dt_arena_printf(&set->arena, "%zu more diagnostics suppressed",
                                              set->diags.dropped);
        if (message)
            set->diags.items[set->summary_index].message = message;
    }
    set->dropped_reported = set->diags.dropped;
}

const dt_diagnostic *dt_image_set_diagnostics(dt_image_set *set, size_t *count)
{
    refresh_suppressed_summary(set);
    *count = set->diags.count;
    return set->diags.items;
}

void dt_image_set_free(dt_image_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; set->slots && i < set->module_count; i++) {
        dt_image_free(set->slots[i].image);
        dt_image_free(set->slots[i].file);
    }
    dt_store_path_free(set->path);
    free(set->slots);
    dt_diag_list_free(&set->diags);
    dt_arena_release(&set->arena);
    free(set);
}
