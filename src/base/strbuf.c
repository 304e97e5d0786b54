#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fail(dt_strbuf *b)
{
    b->failed = true;
    b->capacity = b->length;
    return false;
}

static bool reserve(dt_strbuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra < b->capacity - b->length)
        return true;
    size_t capacity = b->capacity ? b->capacity : 256;
    while (capacity - b->length <= extra) {
        if (capacity > (size_t)-1 / 2)
            return fail(b);
        capacity *= 2;
    }
    char *data = realloc(b->data, capacity);
    if (!data)
        return fail(b);
    b->data = data;
    b->capacity = capacity;
    return true;
}

void dt_strbuf_append_growing(dt_strbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->length, s, n);
    b->length += n;
    b->data[b->length] = '\0';
}

void dt_strbuf_puts(dt_strbuf *b, const char *s)
{
    dt_strbuf_append(b, s, strlen(s));
}

void dt_strbuf_printf(dt_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->length, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->length += (size_t)n;
}

void dt_strbuf_free(dt_strbuf *b)
{
    free(b->data);
    *b = (dt_strbuf){0};
}
