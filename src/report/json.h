/*
 * A streaming JSON writer with stable formatting: two-space indentation,
 * keys in the order written, 64-bit values as "0x..." strings. Strings are
 * escaped and invalid UTF-8 is replaced by U+FFFD, so output is always valid.
 */
#ifndef DT_REPORT_JSON_H
#define DT_REPORT_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "base/strbuf.h"

enum { DT_JSON_MAX_DEPTH = 32 };

typedef struct dt_json {
    dt_strbuf *out;
    int depth;
    bool has_items[DT_JSON_MAX_DEPTH];
    bool after_key;
    bool compact;            /* one line: no newlines or indentation */
} dt_json;

void dt_json_init(dt_json *j, dt_strbuf *out);
/* A writer for `format`: compact for DT_FORMAT_NDJSON. */
void dt_json_init_for(dt_json *j, dt_strbuf *out, int format);
void dt_json_object_begin(dt_json *j);
void dt_json_object_end(dt_json *j);
void dt_json_array_begin(dt_json *j);
void dt_json_array_end(dt_json *j);
void dt_json_key(dt_json *j, const char *key);
void dt_json_string(dt_json *j, const char *s);      /* NULL writes null */
void dt_json_uint(dt_json *j, uint64_t value);
void dt_json_int(dt_json *j, int64_t value);
void dt_json_bool(dt_json *j, bool value);
void dt_json_null(dt_json *j);
void dt_json_hex(dt_json *j, uint64_t value);        /* "0x1a2b" */
void dt_json_raw(dt_json *j, const char *literal);   /* a pre-formatted value */

/* key + value shorthands */
void dt_json_kv_string(dt_json *j, const char *key, const char *s);
void dt_json_kv_uint(dt_json *j, const char *key, uint64_t value);
void dt_json_kv_int(dt_json *j, const char *key, int64_t value);
void dt_json_kv_hex(dt_json *j, const char *key, uint64_t value);
void dt_json_kv_bool(dt_json *j, const char *key, bool value);

/* Length of the valid UTF-8 sequence at `s` (1-4), or 0 when invalid. */
size_t dt_utf8_sequence(const unsigned char *s);

/* Appends `s` JSON-escaped (without quotes) to a buffer. */
void dt_json_escape(dt_strbuf *out, const char *s);

#endif
