/* A capped list of diagnostics whose strings live in an arena. */
#ifndef DT_BASE_DIAG_H
#define DT_BASE_DIAG_H

#include <stdarg.h>

#include "dumptriage/error.h"
#include "base/arena.h"

enum { DT_DIAG_CAP = 256 };

typedef struct dt_diag_list {
    dt_diagnostic *items;
    size_t count;
    size_t capacity;
    size_t dropped;          /* diagnostics past DT_DIAG_CAP */
} dt_diag_list;

/* Appends a diagnostic; offset < 0 means "no offset". Never fails loudly:
 * when memory runs out or the cap is reached the diagnostic is counted in
 * `dropped`. */
void dt_diag_add(dt_diag_list *list, dt_arena *arena, dt_diag_level level,
                 const char *structure, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The same with a va_list, for wrappers that add their own offsets. */
void dt_diag_vadd(dt_diag_list *list, dt_arena *arena, dt_diag_level level,
                  const char *structure, int64_t offset, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));
/* Adds a final "N more diagnostics suppressed" entry when any were dropped. */
void dt_diag_finish(dt_diag_list *list, dt_arena *arena);
void dt_diag_list_free(dt_diag_list *list);

#endif
