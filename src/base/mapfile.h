/*
 * Read-only views of input files. A plain file is memory-mapped; gzip input
 * (detected by magic) and standard input are first written to an unlinked
 * temporary file, which is then mapped, so memory stays flat for any size.
 * Inputs are never written.
 */
#ifndef DT_BASE_MAPFILE_H
#define DT_BASE_MAPFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "dumptriage/error.h"

typedef struct dt_mapped_file {
    const uint8_t *data;     /* NULL for an empty file */
    uint64_t size;
    bool inflated;           /* the input was gzip-compressed */
    bool from_stdin;
    bool borrowed;           /* caller-owned memory: never unmapped */
} dt_mapped_file;

typedef struct dt_map_options {
    uint64_t max_inflated_size; /* cap on inflated or spooled bytes */
    const char *temp_dir;       /* NULL: $TMPDIR or /tmp */
} dt_map_options;

/* Maps `path` ("-" for standard input). `label` names the input in errors. */
dt_status dt_map_file(dt_mapped_file *out, const char *path, const dt_map_options *options,
                      dt_error *err);
/* Maps an existing file read-only without inflating it. */
dt_status dt_map_plain(dt_mapped_file *out, const char *path, dt_error *err);
void dt_unmap_file(dt_mapped_file *file);
/* A new, already unlinked temporary file in `dir` (NULL: $TMPDIR, else
 * /tmp), open for reading and writing; -1 on failure. */
int dt_open_unlinked_temp(const char *dir);

#endif
