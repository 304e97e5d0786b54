#include "base/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

char *dt_utf16le_to_utf8(dt_arena *arena, const uint8_t *bytes, size_t units)
{
    /* At most 3 UTF-8 bytes per UTF-16 unit (a pair gives 4 for 2 units). */
    char *out = dt_arena_array(arena, units + 1, 3);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t unit = (uint32_t)(bytes[2 * i] | (bytes[2 * i + 1] << 8));
        if (unit == 0)
            break;
        uint32_t cp = unit;
        if (unit >= 0xD800 && unit <= 0xDBFF && i + 1 < units) {
            uint32_t low = (uint32_t)(bytes[2 * i + 2] | (bytes[2 * i + 3] << 8));
            if (low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                i++;
            } else {
                cp = 0xFFFD;
            }
        } else if (unit >= 0xD800 && unit <= 0xDFFF) {
            cp = 0xFFFD;
        }
        n += put_utf8(out + n, cp);
    }
    out[n] = '\0';
    return out;
}

const char *dt_path_basename(const char *path)
{
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '\\' || *p == '/')
            base = p + 1;
    return base;
}

dt_status dt_error_set(dt_error *err, dt_status status, const char *file,
                       const char *structure, int64_t offset, const char *fmt, ...)
{
    if (!err)
        return status;
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    err->status = status;
    err->has_offset = offset >= 0;
    err->offset = offset >= 0 ? (uint64_t)offset : 0;
    snprintf(err->structure, sizeof err->structure, "%s", structure ? structure : "");
    if (structure && offset >= 0)
        snprintf(err->message, sizeof err->message, "%s: %s at offset 0x%llx: %s",
                 file, structure, (unsigned long long)offset, reason);
    else if (structure)
        snprintf(err->message, sizeof err->message, "%s: %s: %s", file, structure, reason);
    else
        snprintf(err->message, sizeof err->message, "%s: %s", file, reason);
    return status;
}

const char *dt_status_name(dt_status status)
{
    switch (status) {
    case DT_OK: return "ok";
    case DT_ERR_IO: return "i/o error";
    case DT_ERR_FORMAT: return "malformed input";
    case DT_ERR_UNSUPPORTED: return "unsupported input";
    case DT_ERR_NOMEM: return "out of memory";
    case DT_ERR_LIMIT: return "limit exceeded";
    case DT_ERR_ARGUMENT: return "invalid argument";
    case DT_ERR_NOT_FOUND: return "not found";
    }
    return "unknown status";
}

const char *dt_diag_level_name(dt_diag_level level)
{
    switch (level) {
    case DT_DIAG_INFO: return "info";
    case DT_DIAG_WARNING: return "warning";
    case DT_DIAG_ERROR: return "error";
    }
    return "unknown";
}

uint64_t dt_fnv1a_string(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}
