/*
 * Bounds-checked little-endian reading of untrusted bytes.
 *
 * Every getter checks what remains before it reads and never forms a pointer
 * past the end. A failed read leaves the cursor unchanged and returns false.
 * Values are assembled from bytes, never by casting file bytes to structs.
 */
#ifndef DT_BASE_CURSOR_H
#define DT_BASE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct dt_cursor {
    const uint8_t *data;
    size_t size;
    size_t pos;
} dt_cursor;

static inline dt_cursor dt_cursor_make(const uint8_t *data, size_t size)
{
    dt_cursor c = {data, size, 0};
    return c;
}

static inline size_t dt_cursor_remaining(const dt_cursor *c)
{
    return c->size - c->pos;
}

static inline uint16_t dt_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t dt_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t dt_le64(const uint8_t *p)
{
    return (uint64_t)dt_le32(p) | ((uint64_t)dt_le32(p + 4) << 32);
}

/* Moves to absolute offset `pos` (may equal size). */
static inline bool dt_cursor_seek(dt_cursor *c, size_t pos)
{
    if (pos > c->size)
        return false;
    c->pos = pos;
    return true;
}

static inline bool dt_cursor_skip(dt_cursor *c, size_t n)
{
    if (n > dt_cursor_remaining(c))
        return false;
    c->pos += n;
    return true;
}

/* Points *out at the next n bytes and advances past them. */
static inline bool dt_cursor_bytes(dt_cursor *c, size_t n, const uint8_t **out)
{
    if (n > dt_cursor_remaining(c))
        return false;
    *out = c->data + c->pos;
    c->pos += n;
    return true;
}

/* Splits the next n bytes off as a child cursor. */
static inline bool dt_cursor_sub(dt_cursor *c, size_t n, dt_cursor *out)
{
    const uint8_t *p;
    if (!dt_cursor_bytes(c, n, &p))
        return false;
    *out = dt_cursor_make(p, n);
    return true;
}

static inline bool dt_cursor_u8(dt_cursor *c, uint8_t *out)
{
    const uint8_t *p;
    if (!dt_cursor_bytes(c, 1, &p))
        return false;
    *out = p[0];
    return true;
}

static inline bool dt_cursor_u16(dt_cursor *c, uint16_t *out)
{
    const uint8_t *p;
    if (!dt_cursor_bytes(c, 2, &p))
        return false;
    *out = dt_le16(p);
    return true;
}

static inline bool dt_cursor_u32(dt_cursor *c, uint32_t *out)
{
    const uint8_t *p;
    if (!dt_cursor_bytes(c, 4, &p))
        return false;
    *out = dt_le32(p);
    return true;
}

static inline bool dt_cursor_u64(dt_cursor *c, uint64_t *out)
{
    const uint8_t *p;
    if (!dt_cursor_bytes(c, 8, &p))
        return false;
    *out = dt_le64(p);
    return true;
}

/* Random access: the `n` bytes at absolute offset `off` of a span. */
static inline bool dt_span_at(const uint8_t *data, size_t size, uint64_t off, uint64_t n,
                              const uint8_t **out)
{
    if (off > size || n > size - off)
        return false;
    *out = data + off;
    return true;
}

#endif
