/*
 * dumptriage: status codes, errors and diagnostics.
 *
 * Ownership rule for the whole public API: an object returned through an
 * `out` parameter belongs to the caller and is released with the matching
 * `*_free` function; `*_free(NULL)` is a no-op. Strings and arrays reachable
 * from an object live as long as that object.
 *
 * The library never prints, exits or aborts on bad input. A call that fails
 * returns a negative dt_status and, when given a dt_error, fills it with a
 * message naming the file, the structure and the offset.
 */
#ifndef DUMPTRIAGE_ERROR_H
#define DUMPTRIAGE_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dt_status {
    DT_OK = 0,
    DT_ERR_IO = -1,          /* the file could not be opened, read or mapped */
    DT_ERR_FORMAT = -2,      /* the input is malformed */
    DT_ERR_UNSUPPORTED = -3, /* recognized, but not supported (kernel dump, ELF core) */
    DT_ERR_NOMEM = -4,       /* out of memory */
    DT_ERR_LIMIT = -5,       /* a configured cap was exceeded */
    DT_ERR_ARGUMENT = -6,    /* the caller passed an invalid argument */
    DT_ERR_NOT_FOUND = -7    /* the requested item is not in the input */
} dt_status;

/* A failure, with enough context for a person to find the bad bytes. */
typedef struct dt_error {
    dt_status status;
    bool has_offset;
    uint64_t offset;       /* file offset of the offending structure */
    char structure[64];    /* e.g. "ModuleList entry 3" */
    char message[512];     /* complete sentence: "FILE: STRUCTURE at offset 0x..: reason" */
} dt_error;

/* Returns a constant, human-readable name of a status code. */
const char *dt_status_name(dt_status status);

typedef enum dt_diag_level {
    DT_DIAG_INFO = 0,
    DT_DIAG_WARNING = 1,
    DT_DIAG_ERROR = 2
} dt_diag_level;

/* A problem found while reading that did not stop the analysis. */
typedef struct dt_diagnostic {
    dt_diag_level level;
    const char *structure; /* e.g. "ThreadList", "HandleData descriptor 12" */
    bool has_offset;
    uint64_t offset;       /* file offset of the problem, when known */
    const char *message;
} dt_diagnostic;

const char *dt_diag_level_name(dt_diag_level level);

#ifdef __cplusplus
}
#endif

#endif
