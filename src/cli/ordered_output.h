/* Report entries made by worker threads in any order, written in input
 * order. Streaming: an entry is written, and freed, as soon as every entry
 * before it is out, so memory does not grow with the number of dumps and a
 * pipe sees each result early. Parking: for formats whose header needs the
 * totals, entries wait in an unlinked temporary file until the header is
 * out. Either way the bytes written never depend on timing. */
#ifndef DT_CLI_ORDERED_OUTPUT_H
#define DT_CLI_ORDERED_OUTPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct parked_entry {
    long offset;             /* in the park file; -1 when the entry was lost */
    size_t length;
} parked_entry;

typedef struct ordered_output {
    pthread_mutex_t lock;
    FILE *out;
    const char *separator;
    size_t count, next;      /* entries in all; the first one not yet written */
    char **pending;          /* streaming: arrived entries waiting for earlier ones */
    bool *arrived;
    FILE *park;              /* parking: NULL when streaming */
    parked_entry *parked;
    bool wrote_any, ok;
} ordered_output;

/* Prepares for `count` entries separated by `separator`, to be written to
 * `out` (streaming) or parked until ordered_output_replay (`park`). Prints a
 * message and returns false when out of memory or no park file can be made. */
bool ordered_output_init(ordered_output *o, FILE *out, size_t count, const char *separator,
                         bool park);
/* Hands over entry `index` (NULL: it could not be made, which fails the
 * output). Thread-safe; takes ownership of `entry`. */
void ordered_output_put(ordered_output *o, size_t index, char *entry);
/* Parking: writes the parked entries in order. Streaming: nothing to do. */
void ordered_output_replay(ordered_output *o);
/* Releases everything; returns false when any entry was lost or a write failed. */
bool ordered_output_finish(ordered_output *o);

#endif
