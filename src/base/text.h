/* Text helpers: UTF-16LE decoding, file names, error messages. */
#ifndef DT_BASE_TEXT_H
#define DT_BASE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "dumptriage/error.h"
#include "base/arena.h"

/* Decodes `units` UTF-16LE code units at `bytes` into NUL-terminated UTF-8
 * in the arena, stopping at the first NUL unit. Unpaired surrogates become
 * U+FFFD; control characters are kept (escaping is the writer's job). */
char *dt_utf16le_to_utf8(dt_arena *arena, const uint8_t *bytes, size_t units);

/* FNV-1a (64-bit) of a NUL-terminated string. */
uint64_t dt_fnv1a_string(const char *s);

/* The last path component on both '\\' and '/'. */
const char *dt_path_basename(const char *path);

/* Fills `err` (when non-NULL) and returns `status`. `offset` < 0: none. */
dt_status dt_error_set(dt_error *err, dt_status status, const char *file,
                       const char *structure, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
