/* synth_buf: growable little-endian byte buffer (test support). */
#include "synth_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

_Noreturn void synth_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("synth: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void *synth_alloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p)
        synth_fail("out of memory allocating %zu bytes", size);
    return p;
}

void *synth_grow(void *p, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        synth_fail("allocation of %zu x %zu bytes overflows", count, size);
    size_t bytes = count * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        synth_fail("out of memory growing to %zu x %zu bytes", count, size);
    return q;
}

char *synth_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = synth_alloc(n);
    memcpy(copy, s, n);
    return copy;
}

void synth_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void synth_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void synth_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t synth_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t synth_get_u64(const uint8_t *p)
{
    return synth_get_u32(p) | (uint64_t)synth_get_u32(p + 4) << 32;
}

void synth_buf_init(synth_buf *b)
{
    b->data = NULL;
    b->size = 0;
    b->capacity = 0;
}

void synth_buf_free(synth_buf *b)
{
    free(b->data);
    synth_buf_init(b);
}

uint8_t *synth_buf_take(synth_buf *b, size_t *size)
{
    uint8_t *data = b->data ? b->data : synth_alloc(1);
    *size = b->size;
    synth_buf_init(b);
    return data;
}

/* Makes room for `n` more bytes and returns the offset where they go. */
static size_t grow_by(synth_buf *b, size_t n)
{
    if (n > SIZE_MAX - b->size)
        synth_fail("buffer size overflows");
    size_t need = b->size + n;
    if (need > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 256;
        while (capacity < need)
            capacity = capacity > SIZE_MAX / 2 ? need : capacity * 2;
        b->data = synth_grow(b->data, capacity, 1);
        b->capacity = capacity;
    }
    size_t at = b->size;
    b->size = need;
    return at;
}

size_t synth_buf_bytes(synth_buf *b, const void *bytes, size_t n)
{
    size_t at = grow_by(b, n);
    if (n)
        memcpy(b->data + at, bytes, n);
    return at;
}

size_t synth_buf_zeros(synth_buf *b, size_t n)
{
    size_t at = grow_by(b, n);
    if (n)
        memset(b->data + at, 0, n);
    return at;
}

size_t synth_buf_reserve(synth_buf *b, size_t n)
{
    return synth_buf_zeros(b, n);
}

void synth_buf_extend_to(synth_buf *b, size_t size)
{
    if (size > b->size)
        synth_buf_zeros(b, size - b->size);
}

size_t synth_buf_u8(synth_buf *b, uint8_t v)
{
    return synth_buf_bytes(b, &v, 1);
}

size_t synth_buf_u16(synth_buf *b, uint16_t v)
{
    uint8_t p[2];
    synth_put_u16(p, v);
    return synth_buf_bytes(b, p, sizeof p);
}

size_t synth_buf_u32(synth_buf *b, uint32_t v)
{
    uint8_t p[4];
    synth_put_u32(p, v);
    return synth_buf_bytes(b, p, sizeof p);
}

size_t synth_buf_u64(synth_buf *b, uint64_t v)
{
    uint8_t p[8];
    synth_put_u64(p, v);
    return synth_buf_bytes(b, p, sizeof p);
}

size_t synth_buf_cstr(synth_buf *b, const char *s)
{
    return synth_buf_bytes(b, s, strlen(s) + 1);
}

/* Decodes one UTF-8 sequence at *s (advancing it); invalid bytes map to
 * U+FFFD so that any input yields well-formed UTF-16. */
static uint32_t next_code_point(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t cp;
    int extra;
    if (p[0] < 0x80) {
        cp = p[0];
        extra = 0;
    } else if ((p[0] & 0xE0) == 0xC0) {
        cp = p[0] & 0x1F;
        extra = 1;
    } else if ((p[0] & 0xF0) == 0xE0) {
        cp = p[0] & 0x0F;
        extra = 2;
    } else if ((p[0] & 0xF8) == 0xF0) {
        cp = p[0] & 0x07;
        extra = 3;
    } else {
        *s = p + 1;
        return 0xFFFD;
    }
    for (int i = 1; i <= extra; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *s = p + i;
            return 0xFFFD;
        }
        cp = cp << 6 | (p[i] & 0x3F);
    }
    *s = p + 1 + extra;
    return cp;
}

size_t synth_buf_utf16(synth_buf *b, const char *utf8, size_t *bytes)
{
    size_t at = b->size;
    const unsigned char *s = (const unsigned char *)utf8;
    while (*s) {
        uint32_t cp = next_code_point(&s);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            synth_buf_u16(b, (uint16_t)(0xD800 | (cp >> 10)));
            synth_buf_u16(b, (uint16_t)(0xDC00 | (cp & 0x3FF)));
        } else {
            synth_buf_u16(b, (uint16_t)cp);
        }
    }
    if (bytes)
        *bytes = b->size - at;
    return at;
}

size_t synth_buf_align(synth_buf *b, size_t alignment, uint8_t fill)
{
    while (alignment > 1 && b->size % alignment != 0)
        synth_buf_u8(b, fill);
    return b->size;
}

static void check_range(const synth_buf *b, size_t offset, size_t n)
{
    if (offset > b->size || n > b->size - offset)
        synth_fail("patch of %zu bytes at %zu is outside the %zu-byte buffer", n, offset,
                   b->size);
}

void synth_buf_patch_bytes(synth_buf *b, size_t offset, const void *bytes, size_t n)
{
    check_range(b, offset, n);
    if (n)
        memcpy(b->data + offset, bytes, n);
}

void synth_buf_patch_u8(synth_buf *b, size_t offset, uint8_t v)
{
    synth_buf_patch_bytes(b, offset, &v, 1);
}

void synth_buf_patch_u16(synth_buf *b, size_t offset, uint16_t v)
{
    check_range(b, offset, 2);
    synth_put_u16(b->data + offset, v);
}

void synth_buf_patch_u32(synth_buf *b, size_t offset, uint32_t v)
{
    check_range(b, offset, 4);
    synth_put_u32(b->data + offset, v);
}

void synth_buf_patch_u64(synth_buf *b, size_t offset, uint64_t v)
{
    check_range(b, offset, 8);
    synth_put_u64(b->data + offset, v);
}

/* ---- Files ---------------------------------------------------------------- */

int synth_write_file(const char *path, const void *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t written = fwrite(bytes, 1, size, f);
    int saved = errno;
    if (fclose(f) != 0 || written != size) {
        errno = written != size ? saved : errno;
        return -1;
    }
    return 0;
}

int synth_make_directories(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}
