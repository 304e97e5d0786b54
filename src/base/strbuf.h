/* A growable text buffer. Out of memory makes it "failed": later appends are
 * ignored and the caller checks dt_strbuf_failed once at the end. */
#ifndef DT_BASE_STRBUF_H
#define DT_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct dt_strbuf {
    char *data;
    size_t length;
    size_t capacity;
    bool failed;
} dt_strbuf;

void dt_strbuf_append(dt_strbuf *b, const char *s, size_t n);
void dt_strbuf_puts(dt_strbuf *b, const char *s);
void dt_strbuf_printf(dt_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dt_strbuf_free(dt_strbuf *b);

#endif
