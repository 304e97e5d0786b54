/*
 * Search paths for images and symbols, as Windows debuggers read them:
 * ';'-separated entries, each a plain directory (files directly inside, or
 * in symbol-store layout), "srv*<store>*...*<url>" (local stores, then a
 * symbol server whose downloads land in the first store), or
 * "cache*<dir>" (a store that also receives downloads for later srv
 * entries without a store of their own).
 *
 * Safety rule: names come from dumps and are hostile. A name must pass
 * dt_store_name_refusal, and even then it is never put into a path for
 * reading: it only selects, case-insensitively, among entries that a
 * directory listing returned. Downloads write only below a store root,
 * under <name>/<id>/ where both parts passed the checks, through a
 * temporary file that is renamed into place.
 */
#ifndef DT_BASE_STORE_H
#define DT_BASE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/diag.h"

typedef struct dt_store_path dt_store_path;

/* `label` names the search in diagnostics ("image search", "symbol search").
 * Diagnostics go to `diags` with strings in `arena`; both outlive the path. */
dt_store_path *dt_store_path_new(dt_arena *arena, dt_diag_list *diags, const char *label);
void dt_store_path_free(dt_store_path *path);
/* Adds every entry of a ';'-separated list. */
void dt_store_path_add(dt_store_path *path, const char *list);
/* Whether srv* entries may download (default: yes). */
void dt_store_path_allow_downloads(dt_store_path *path, bool allow);

/* Why a name from a dump cannot be searched for, or NULL when it can: empty,
 * ".", "..", separators, drive letters, control characters, over 255 bytes. */
const char *dt_store_name_refusal(const char *name);

/* Called for each candidate file; returns true to accept it (the search
 * stops) and false to go on. */
typedef bool (*dt_store_visit)(void *ctx, const char *path);

/* Searches, in entry order: <dir>/<file_name> in plain directories,
 * <root>/<dir_name>/<id>/<file_name> in every directory and store, and a
 * download of <url>/<dir_name>/<id>/<file_name> into the srv entry's store.
 * All comparisons ignore ASCII case. At most 16 candidates are visited.
 * Returns true when a visit accepted a file. */
bool dt_store_find(dt_store_path *path, const char *dir_name, const char *id,
                   const char *file_name, dt_store_visit visit, void *ctx);

#endif
