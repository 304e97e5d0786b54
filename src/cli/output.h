/* The report destination: stdout, or a file replaced atomically. */
#ifndef DT_CLI_OUTPUT_H
#define DT_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

typedef struct output_file {
    FILE *stream;
    const char *target;      /* NULL for stdout */
    char temporary[4096];
} output_file;

/* Opens stdout (target NULL) or a new temporary file beside `target`,
 * created exclusively under a random name, so a planted symlink is never
 * followed. Prints a message and returns false on failure. */
bool output_open(output_file *out, const char *target);
/* Finishes the output: on success the temporary file is renamed over the
 * target (replacing a file or a symlink, never writing through it); on
 * failure it is removed. Returns false when anything failed. */
bool output_close(output_file *out, bool ok);

#endif
