/*
 * Finding module images for the stack walker (docs/image.md, "Finding
 * images").
 *
 * Safety rule: a module name comes from the dump and is hostile. It is
 * checked (name_refusal), and even then it is never put into a path: it only
 * selects, by a case-insensitive comparison, among the entries a directory
 * listing returned. Every path opened is therefore <root>/<entry> or
 * <root>/<entry>/<entry>/<entry>, each <entry> a name that already exists in
 * its directory, and nothing is ever created.
 */
#include "dumptriage/image.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/text.h"

enum {
    MAX_ROOTS = 64,                /* search directories kept */
    MAX_LISTING_ENTRIES = 100000,  /* names read from one directory */
    MAX_NAME = 255,                /* bytes in a module name */
    MAX_PATH_BYTES = 4096,         /* bytes in a built path, NUL included */
    MAX_FILES_PER_MODULE = 16      /* candidate files opened for one module */
};

static const char DUMP_MEMORY_SOURCE[] = "dump memory";
static const char ENVIRONMENT_VARIABLE[] = "_NT_EXECUTABLE_IMAGE_PATH";

/* The names in one directory, sorted by ASCII case-folded name, then
 * bytewise, so all case variants of a name are adjacent. */
typedef struct dir_listing {
    char **names;
    size_t count;
    size_t capacity;
} dir_listing;

typedef struct search_root {
    const char *dir;
    bool flat;               /* plain directory: <dir>/<name> before the store layout */
    bool listed;
    dir_listing listing;     /* read on first use; names live in the set's arena */
} search_root;

typedef struct module_slot {
    bool resolved;
    dt_image *image;
    const char *source;
} module_slot;

struct dt_image_set {
    const dt_dump *dump;
    const dt_module *modules;
    size_t module_count;
    module_slot *slots;      /* one per module, filled on request */
    search_root roots[MAX_ROOTS];
    size_t root_count;
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
    const char *name;        /* the module name; passed name_refusal */
    char id[DT_IMAGE_ID_SIZE];
    unsigned files_opened;
    bool file_cap_noted;
} lookup;

#define NOTE(set, level, ...) dt_diag_add(&(set)->diags, &(set)->arena, (level), __VA_ARGS__)

/* ---- Names ------------------------------------------------------------- */

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive for ASCII letters only, independent of the locale. */
static int ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = ascii_lower((unsigned char)*a), cb = ascii_lower((unsigned char)*b);
        if (ca != cb || ca == 0)
            return ca - cb;
    }
}

static bool has_prefix_nocase(const char *s, size_t length, const char *prefix)
{
    size_t n = strlen(prefix);
    if (length < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)s[i]) != prefix[i])
            return false;
    return true;
}

/* Why a module name cannot be looked up on disk, or NULL when it can. */
static const char *name_refusal(const char *name)
{
    if (!name || !*name)
        return "it is empty";
    if (strnlen(name, MAX_NAME + 1) > MAX_NAME)
        return "it is longer than 255 bytes";
    if (strcmp(name, ".") == 0)
        return "it is \".\"";
    if (strstr(name, ".."))
        return "it contains \"..\"";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '/' || *p == '\\')
            return "it contains a path separator";
        if (*p == ':')
            return "it contains ':' (a drive letter or stream name)";
        if (*p < 0x20 || *p == 0x7F)
            return "it contains a control character";
    }
    return NULL;
}

/* "<dir>/<entry>" into `out`; false (with a diagnostic) when too long. */
static bool join_path(lookup *lk, char out[MAX_PATH_BYTES], const char *dir, const char *entry)
{
    int n = snprintf(out, MAX_PATH_BYTES, "%s/%s", dir, entry);
    if (n >= 0 && n < MAX_PATH_BYTES)
        return true;
    NOTE(lk->set, DT_DIAG_WARNING, "image search", -1,
         "%s: a path under %s is longer than %d bytes; skipped", lk->name, dir,
         MAX_PATH_BYTES - 1);
    return false;
}

/* ---- Directory listings ------------------------------------------------ */

static int compare_names(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int folded = ascii_casecmp(x, y);
    return folded ? folded : strcmp(x, y);
}

static bool listing_push(dir_listing *listing, dt_arena *arena, const char *name)
{
    if (listing->count == listing->capacity) {
        size_t capacity = listing->capacity ? listing->capacity * 2 : 64;
        char **names = realloc(listing->names, capacity * sizeof *names);
        if (!names)
            return false;
        listing->names = names;
        listing->capacity = capacity;
    }
    char *copy = dt_arena_strndup(arena, name, strlen(name));
    if (!copy)
        return false;
    listing->names[listing->count++] = copy;
    return true;
}

static void listing_release(dir_listing *listing)
{
    free(listing->names);
    memset(listing, 0, sizeof *listing);
}

/* Reads the names in `path` (strings in `arena`) at most
 * MAX_LISTING_ENTRIES of them. Returns 0 or the errno of opendir. */
static int read_listing(dt_image_set *set, dt_arena *arena, const char *path, dir_listing *out)
{
    memset(out, 0, sizeof *out);
    DIR *dir = opendir(path);
    if (!dir)
        return errno ? errno : EIO;
    const struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        if (out->count == MAX_LISTING_ENTRIES) {
            NOTE(set, DT_DIAG_WARNING, "image search", -1,
                 "%s: more than %d entries; only the first %d are searched", path,
                 MAX_LISTING_ENTRIES, MAX_LISTING_ENTRIES);
            break;
        }
        if (!listing_push(out, arena, entry->d_name)) {
            NOTE(set, DT_DIAG_WARNING, "image search", -1,
                 "%s: out of memory while listing; searched in part", path);
            break;
        }
    }
    closedir(dir);
    if (out->count)
        qsort(out->names, out->count, sizeof *out->names, compare_names);
    return 0;
}

/* Index of the first name equal to `name` ignoring ASCII case, or of where
 * it would be. */
static size_t listing_lower_bound(const dir_listing *listing, const char *name)
{
    size_t low = 0, high = listing->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (ascii_casecmp(listing->names[mid], name) < 0)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}

static bool listing_matches(const dir_listing *listing, size_t index, const char *name)
{
    return index < listing->count && ascii_casecmp(listing->names[index], name) == 0;
}

/* The root's listing, read once per set. */
static const dir_listing *root_listing(dt_image_set *set, search_root *root)
{
    if (!root->listed) {
        root->listed = true;
        int error = read_listing(set, &set->arena, root->dir, &root->listing);
        if (error)
            NOTE(set, DT_DIAG_WARNING, "image search", -1,
                 "search directory %s cannot be read: %s", root->dir, strerror(error));
    }
    return &root->listing;
}

/* ---- Candidates -------------------------------------------------------- */

static void note_mismatch(lookup *lk, const char *label, const dt_image *img)
{
    const dt_image_headers *h = dt_image_headers_get(img);
    NOTE(lk->set, DT_DIAG_WARNING, "image search", -1,
         "%s: TimeDateStamp 0x%08X SizeOfImage 0x%x does not match the module's 0x%08X 0x%x",
         label, h->timestamp, h->size_of_image, lk->module->timestamp, lk->module->size);
}

/* Opens the regular file at `path` and keeps it when it matches the module. */
static dt_image *try_file(lookup *lk, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return NULL;
    if (lk->files_opened == MAX_FILES_PER_MODULE) {
        if (!lk->file_cap_noted)
            NOTE(lk->set, DT_DIAG_WARNING, "image search", -1,
                 "%s: more than %d candidate files; the rest are skipped", lk->name,
                 MAX_FILES_PER_MODULE);
        lk->file_cap_noted = true;
        return NULL;
    }
    lk->files_opened++;
    dt_image *img = NULL;
    dt_error err = {0};
    if (dt_image_open_file(&img, path, &err) != DT_OK) {
        NOTE(lk->set, DT_DIAG_WARNING, "image search", -1, "%s", err.message);
        return NULL;
    }
    if (!dt_image_matches_module(img, lk->module)) {
        note_mismatch(lk, path, img);
        dt_image_free(img);
        return NULL;
    }
    return img;
}

/* <dir>/<name>, every case variant present. */
static dt_image *search_listed_files(lookup *lk, const char *dir, const dir_listing *listing)
{
    for (size_t i = listing_lower_bound(listing, lk->name); listing_matches(listing, i, lk->name);
         i++) {
        char path[MAX_PATH_BYTES];
        dt_image *img = join_path(lk, path, dir, listing->names[i]) ? try_file(lk, path) : NULL;
        if (img)
            return img;
    }
    return NULL;
}

/* A listing of a directory under a root, read for one search only. */
typedef struct scratch_listing {
    dt_arena arena;
    dir_listing listing;
} scratch_listing;

static bool scratch_read(lookup *lk, const char *dir, scratch_listing *out)
{
    memset(out, 0, sizeof *out);
    return read_listing(lk->set, &out->arena, dir, &out->listing) == 0;
}

static void scratch_release(scratch_listing *scratch)
{
    listing_release(&scratch->listing);
    dt_arena_release(&scratch->arena);
}

/* <id_dir>/<name> */
static dt_image *search_id_dir(lookup *lk, const char *id_dir)
{
    scratch_listing files;
    dt_image *img = NULL;
    if (scratch_read(lk, id_dir, &files))
        img = search_listed_files(lk, id_dir, &files.listing);
    scratch_release(&files);
    return img;
}

/* <name_dir>/<id>/<name>, every case variant of <id> present. */
static dt_image *search_name_dir(lookup *lk, const char *name_dir)
{
    scratch_listing ids;
    dt_image *img = NULL;
    if (scratch_read(lk, name_dir, &ids)) {
        const dir_listing *l = &ids.listing;
        for (size_t i = listing_lower_bound(l, lk->id); !img && listing_matches(l, i, lk->id);
             i++) {
            char id_dir[MAX_PATH_BYTES];
            if (join_path(lk, id_dir, name_dir, l->names[i]))
                img = search_id_dir(lk, id_dir);
        }
    }
    scratch_release(&ids);
    return img;
}

/* The symbol-store layout <root>/<name>/<id>/<name>. */
static dt_image *search_store(lookup *lk, const search_root *root, const dir_listing *top)
{
    for (size_t i = listing_lower_bound(top, lk->name); listing_matches(top, i, lk->name); i++) {
        char name_dir[MAX_PATH_BYTES];
        dt_image *img = join_path(lk, name_dir, root->dir, top->names[i])
                            ? search_name_dir(lk, name_dir)
                            : NULL;
        if (img)
            return img;
    }
    return NULL;
}

static dt_image *search_disk(lookup *lk)
{
    dt_image_set *set = lk->set;
    const char *refusal = name_refusal(lk->name);
    if (refusal) {
        NOTE(set, DT_DIAG_WARNING, "image search", -1,
             "module name \"%s\" refused: %s; no image file is searched for it",
             lk->name ? lk->name : "", refusal);
        return NULL;
    }
    for (size_t r = 0; r < set->root_count; r++) {
        search_root *root = &set->roots[r];
        const dir_listing *top = root_listing(set, root);
        dt_image *img = root->flat ? search_listed_files(lk, root->dir, top) : NULL;
        if (!img)
            img = search_store(lk, root, top);
        if (img)
            return img;
    }
    return NULL;
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

const char *dt_image_set_source(const dt_image_set *set, const dt_module *module)
{
    const module_slot *slot = set ? slot_of(set, module) : NULL;
    return slot ? slot->source : NULL;
}

/* ---- Search path entries ---------------------------------------------- */

static void add_root(dt_image_set *set, const char *dir, size_t length, bool flat)
{
    if (set->root_count == MAX_ROOTS) {
        NOTE(set, DT_DIAG_WARNING, "search path", -1,
             "more than %d search directories; \"%.*s\" is skipped", MAX_ROOTS, (int)length, dir);
        return;
    }
    const char *copy = dt_arena_strndup(&set->arena, dir, length);
    if (copy)
        set->roots[set->root_count++] = (search_root){.dir = copy, .flat = flat};
}

/* "srv*<dir>*...*<url>" or "cache*<dir>...": every local directory is a
 * store; URLs are noted (downloading is not implemented). */
static void add_store_entry(dt_image_set *set, const char *entry, size_t length)
{
    const char *end = entry + length;
    const char *star = memchr(entry, '*', length);
    size_t kind_length = (size_t)(star - entry);
    bool known = (kind_length == 3 && has_prefix_nocase(entry, kind_length, "srv")) ||
                 (kind_length == 5 && has_prefix_nocase(entry, kind_length, "cache"));
    if (!known) {
        NOTE(set, DT_DIAG_WARNING, "search path", -1,
             "\"%.*s\": only srv* and cache* entries are understood; skipped", (int)length, entry);
        return;
    }
    for (const char *part = star + 1;;) {
        const char *next = memchr(part, '*', (size_t)(end - part));
        size_t part_length = (size_t)((next ? next : end) - part);
        if (memmem(part, part_length, "://", 3))
            NOTE(set, DT_DIAG_INFO, "search path", -1,
                 "%.*s: downloading images is not supported; only local stores are searched",
                 (int)part_length, part);
        else if (part_length)
            add_root(set, part, part_length, false);
        if (!next)
            return;
        part = next + 1;
    }
}

static void add_search_list(dt_image_set *set, const char *list)
{
    const char *end = list + strlen(list);
    for (const char *entry = list;;) {
        const char *next = memchr(entry, ';', (size_t)(end - entry));
        size_t length = (size_t)((next ? next : end) - entry);
        if (memchr(entry, '*', length))
            add_store_entry(set, entry, length);
        else if (length)
            add_root(set, entry, length, true);
        if (!next)
            return;
        entry = next + 1;
    }
}

static void add_search(dt_image_set *set, const dt_image_search *search)
{
    for (size_t i = 0; i < search->path_count; i++)
        if (search->paths && search->paths[i])
            add_search_list(set, search->paths[i]);
    const char *environment = search->use_environment ? getenv(ENVIRONMENT_VARIABLE) : NULL;
    if (environment)
        add_search_list(set, environment);
    set->use_dump_memory = search->use_dump_memory;
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
    for (size_t i = 0; set->slots && i < set->module_count; i++)
        dt_image_free(set->slots[i].image);
    for (size_t r = 0; r < set->root_count; r++)
        listing_release(&set->roots[r].listing);
    free(set->slots);
    dt_diag_list_free(&set->diags);
    dt_arena_release(&set->arena);
    free(set);
}
