/* A growable text buffer. Out of memory makes it "failed": later appends are
 * ignored and the caller checks dt_strbuf_failed once at the end. */
#ifndef DT_BASE_STRBUF_H
#define DT_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct dt_strbuf {
    char *data;
    size_t length;
    size_t capacity;         /* equals length once failed: no more room */
    bool failed;
} dt_strbuf;

/* dt_strbuf_append when the buffer must grow (or has failed). */
void dt_strbuf_append_growing(dt_strbuf *b, const char *s, size_t n);

/* Appends n bytes (kept NUL-terminated). Reports are built from many short
 * appends, so the common case, room to spare, is inline. */
static inline void dt_strbuf_append(dt_strbuf *b, const char *s, size_t n)
{
    if (n >= b->capacity - b->length) {
        dt_strbuf_append_growing(b, s, n);
        return;
    }
    memcpy(b->data + b->length, s, n);
    b->length += n;
    b->data[b->length] = '\0';
}

void dt_strbuf_puts(dt_strbuf *b, const char *s);
void dt_strbuf_printf(dt_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dt_strbuf_free(dt_strbuf *b);

#endif
