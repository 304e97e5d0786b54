/* Search paths for images and symbols (see store.h for the safety rule). */
#include "base/store.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/download.h"

enum {
    MAX_ENTRIES = 64,              /* search path entries kept */
    MAX_LISTING_ENTRIES = 100000,  /* names read from one directory */
    MAX_NAME = 255,                /* bytes in a name from a dump */
    MAX_PATH_BYTES = 4096,         /* bytes in a built path, NUL included */
    MAX_CANDIDATES = 16,           /* files visited for one search */
    MAX_FAILED_DOWNLOADS = 1024    /* negative cache */
};

/* The names in one directory, sorted by ASCII case-folded name, then
 * bytewise, so all case variants of a name are adjacent. */
typedef struct dir_listing {
    char **names;
    size_t count;
    size_t capacity;
} dir_listing;

/* A directory to search, or (with a URL) a symbol server whose downloads
 * go to `dir`. */
typedef struct store_entry {
    const char *dir;
    const char *url;
    bool flat;               /* plain directory: files directly inside too */
    bool listed;
    dir_listing listing;     /* read on first use */
} store_entry;

struct dt_store_path {
    dt_arena *arena;
    dt_diag_list *diags;
    const char *label;
    store_entry entries[MAX_ENTRIES];
    size_t entry_count;
    const char *default_cache; /* from cache*<dir> */
    bool downloads;
    const char *failed[MAX_FAILED_DOWNLOADS];
    size_t failed_count;
};

/* One search in progress. */
typedef struct search {
    dt_store_path *path;
    const char *dir_name, *id, *file_name;
    dt_store_visit visit;
    void *ctx;
    unsigned candidates;
    bool accepted;
} search;

#define NOTE(p, level, ...) dt_diag_add((p)->diags, (p)->arena, (level), (p)->label, -1, __VA_ARGS__)

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

const char *dt_store_name_refusal(const char *name)
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
static bool join_path(dt_store_path *p, char out[MAX_PATH_BYTES], const char *dir,
                      const char *entry)
{
    int n = snprintf(out, MAX_PATH_BYTES, "%s/%s", dir, entry);
    if (n >= 0 && n < MAX_PATH_BYTES)
        return true;
    NOTE(p, DT_DIAG_WARNING, "a path under %s is longer than %d bytes; skipped", dir,
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

/* Reads at most MAX_LISTING_ENTRIES names of `dir` (strings in `arena`).
 * Returns 0 or the errno of opendir. */
static int read_listing(dt_store_path *p, dt_arena *arena, const char *dir, dir_listing *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return errno ? errno : EIO;
    const struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        if (out->count == MAX_LISTING_ENTRIES) {
            NOTE(p, DT_DIAG_WARNING, "%s: more than %d entries; only the first %d are searched",
                 dir, MAX_LISTING_ENTRIES, MAX_LISTING_ENTRIES);
            break;
        }
        if (!listing_push(out, arena, entry->d_name)) {
            NOTE(p, DT_DIAG_WARNING, "%s: out of memory while listing; searched in part", dir);
            break;
        }
    }
    closedir(d);
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

/* The entry's listing, read once per search path. */
static const dir_listing *entry_listing(dt_store_path *p, store_entry *e)
{
    if (!e->listed) {
        e->listed = true;
        int error = read_listing(p, p->arena, e->dir, &e->listing);
        if (error)
            NOTE(p, DT_DIAG_WARNING, "search directory %s cannot be read: %s", e->dir,
                 strerror(error));
    }
    return &e->listing;
}

/* ---- Candidates -------------------------------------------------------- */

/* Offers the regular file at `path` to the visitor. */
static void offer(search *s, const char *path)
{
    struct stat st;
    if (s->accepted || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    if (s->candidates == MAX_CANDIDATES) {
        NOTE(s->path, DT_DIAG_WARNING, "%s: more than %d candidate files; the rest are skipped",
             s->file_name, MAX_CANDIDATES);
        s->candidates++;
        return;
    }
    if (s->candidates > MAX_CANDIDATES)
        return;
    s->candidates++;
    s->accepted = s->visit(s->ctx, path);
}

/* <dir>/<name> for every case variant of `name` in the listing. */
static void offer_listed(search *s, const char *dir, const dir_listing *listing, const char *name)
{
    for (size_t i = listing_lower_bound(listing, name);
         !s->accepted && listing_matches(listing, i, name); i++) {
        char path[MAX_PATH_BYTES];
        if (join_path(s->path, path, dir, listing->names[i]))
            offer(s, path);
    }
}

/* Calls `each(s, <dir>/<match>)` for every case variant of `name` in `dir`. */
static void for_each_match(search *s, const char *dir, const char *name,
                           void (*each)(search *, const char *))
{
    dt_arena scratch = {0};
    dir_listing listing;
    if (read_listing(s->path, &scratch, dir, &listing) == 0)
        for (size_t i = listing_lower_bound(&listing, name);
             !s->accepted && listing_matches(&listing, i, name); i++) {
            char child[MAX_PATH_BYTES];
            if (join_path(s->path, child, dir, listing.names[i]))
                each(s, child);
        }
    listing_release(&listing);
    dt_arena_release(&scratch);
}

static void offer_files_in(search *s, const char *id_dir)
{
    dt_arena scratch = {0};
    dir_listing listing;
    if (read_listing(s->path, &scratch, id_dir, &listing) == 0)
        offer_listed(s, id_dir, &listing, s->file_name);
    listing_release(&listing);
    dt_arena_release(&scratch);
}

static void offer_ids_in(search *s, const char *name_dir)
{
    for_each_match(s, name_dir, s->id, offer_files_in);
}

/* The store layout <root>/<dir_name>/<id>/<file_name>. */
static void offer_store(search *s, store_entry *e)
{
    const dir_listing *top = entry_listing(s->path, e);
    for (size_t i = listing_lower_bound(top, s->dir_name);
         !s->accepted && listing_matches(top, i, s->dir_name); i++) {
        char name_dir[MAX_PATH_BYTES];
        if (join_path(s->path, name_dir, e->dir, top->names[i]))
            offer_ids_in(s, name_dir);
    }
}

/* ---- Downloads ---------------------------------------------------------- */

static bool failed_before(const dt_store_path *p, const char *url)
{
    for (size_t i = 0; i < p->failed_count; i++)
        if (strcmp(p->failed[i], url) == 0)
            return true;
    return false;
}

static void remember_failure(dt_store_path *p, const char *url)
{
    if (p->failed_count < MAX_FAILED_DOWNLOADS)
        p->failed[p->failed_count++] = dt_arena_printf(p->arena, "%s", url);
}

/* mkdir of <store>/<dir_name> and <store>/<dir_name>/<id>; the names passed
 * the refusal checks, so the directories stay below the store. */
static bool make_store_dirs(dt_store_path *p, const char *store, const search *s, char *id_dir)
{
    char name_dir[MAX_PATH_BYTES];
    if (!join_path(p, name_dir, store, s->dir_name) || !join_path(p, id_dir, name_dir, s->id))
        return false;
    if ((mkdir(store, 0755) != 0 && errno != EEXIST) ||
        (mkdir(name_dir, 0755) != 0 && errno != EEXIST) ||
        (mkdir(id_dir, 0755) != 0 && errno != EEXIST)) {
        NOTE(p, DT_DIAG_WARNING, "cannot create %s: %s", id_dir, strerror(errno));
        return false;
    }
    return true;
}

static void download_from(search *s, store_entry *e)
{
    dt_store_path *p = s->path;
    const char *store = e->dir ? e->dir : p->default_cache;
    char url[MAX_PATH_BYTES], id_dir[MAX_PATH_BYTES], target[MAX_PATH_BYTES];
    int n = snprintf(url, sizeof url, "%s/%s/%s/%s", e->url, s->dir_name, s->id, s->file_name);
    if (!p->downloads || n < 0 || n >= (int)sizeof url || failed_before(p, url))
        return;
    if (!store) {
        NOTE(p, DT_DIAG_WARNING, "%s: no cache directory to download into (use srv*<cache>*<url>)",
             e->url);
        remember_failure(p, url);
        return;
    }
    if (!make_store_dirs(p, store, s, id_dir) || !join_path(p, target, id_dir, s->file_name))
        return;
    char why[256];
    if (dt_download(url, target, why, sizeof why) != DT_OK) {
        NOTE(p, DT_DIAG_WARNING, "%s: %s", s->file_name, why);
        remember_failure(p, url);
        return;
    }
    offer(s, target);
}

/* ---- Searching ---------------------------------------------------------- */

bool dt_store_find(dt_store_path *p, const char *dir_name, const char *id,
                   const char *file_name, dt_store_visit visit, void *ctx)
{
    const char *refusal = dt_store_name_refusal(dir_name);
    if (!refusal)
        refusal = dt_store_name_refusal(file_name);
    if (!refusal)
        refusal = dt_store_name_refusal(id);
    if (refusal) {
        NOTE(p, DT_DIAG_WARNING, "name \"%s\" refused: %s; no file is searched for it",
             dir_name ? dir_name : "", refusal);
        return false;
    }
    search s = {p, dir_name, id, file_name, visit, ctx, 0, false};
    for (size_t i = 0; i < p->entry_count && !s.accepted; i++) {
        store_entry *e = &p->entries[i];
        if (e->url) {
            download_from(&s, e);
            continue;
        }
        if (e->flat)
            offer_listed(&s, e->dir, entry_listing(p, e), file_name);
        if (!s.accepted)
            offer_store(&s, e);
    }
    return s.accepted;
}

/* ---- Search path entries ---------------------------------------------- */

static store_entry *add_entry(dt_store_path *p, const char *text, size_t length)
{
    if (p->entry_count == MAX_ENTRIES) {
        NOTE(p, DT_DIAG_WARNING, "more than %d search path entries; \"%.*s\" is skipped",
             MAX_ENTRIES, (int)length, text);
        return NULL;
    }
    const char *copy = dt_arena_strndup(p->arena, text, length);
    if (!copy)
        return NULL;
    store_entry *e = &p->entries[p->entry_count++];
    memset(e, 0, sizeof *e);
    e->dir = copy;
    return e;
}

/* "srv*<store>*...*<url>": every local directory is a store; a URL is a
 * server whose downloads go to the entry's first store (or the default cache
 * set by an earlier cache*<dir>). "cache*<dir>": a store and the default
 * download cache. */
static void add_store_entry(dt_store_path *p, const char *text, size_t length)
{
    const char *end = text + length, *star = memchr(text, '*', length);
    size_t kind = (size_t)(star - text);
    bool is_cache = kind == 5 && has_prefix_nocase(text, kind, "cache");
    if (!is_cache && !(kind == 3 && has_prefix_nocase(text, kind, "srv"))) {
        NOTE(p, DT_DIAG_WARNING, "\"%.*s\": only srv* and cache* entries are understood; skipped",
             (int)length, text);
        return;
    }
    const char *first_store = NULL;
    for (const char *part = star + 1;;) {
        const char *next = memchr(part, '*', (size_t)(end - part));
        size_t part_length = (size_t)((next ? next : end) - part);
        store_entry *e = part_length ? add_entry(p, part, part_length) : NULL;
        if (e && memmem(part, part_length, "://", 3)) {
            e->url = e->dir;
            e->dir = first_store;
        } else if (e && !first_store) {
            first_store = e->dir;
            if (is_cache)
                p->default_cache = e->dir;
        }
        if (!next)
            return;
        part = next + 1;
    }
}

void dt_store_path_add(dt_store_path *p, const char *list)
{
    const char *end = list + strlen(list);
    for (const char *entry = list;;) {
        const char *next = memchr(entry, ';', (size_t)(end - entry));
        size_t length = (size_t)((next ? next : end) - entry);
        if (memchr(entry, '*', length)) {
            add_store_entry(p, entry, length);
        } else if (length) {
            store_entry *e = add_entry(p, entry, length);
            if (e)
                e->flat = true;
        }
        if (!next)
            return;
        entry = next + 1;
    }
}

void dt_store_path_allow_downloads(dt_store_path *p, bool allow)
{
    p->downloads = allow;
}

dt_store_path *dt_store_path_new(dt_arena *arena, dt_diag_list *diags, const char *label)
{
    dt_store_path *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->arena = arena;
    p->diags = diags;
    p->label = label;
    p->downloads = true;
    return p;
}

void dt_store_path_free(dt_store_path *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->entry_count; i++)
        listing_release(&p->entries[i].listing);
    free(p);
}
