/*
 * synth_buf: a growable little-endian byte buffer for building test inputs.
 *
 * Every writer appends at the end and returns the offset where its bytes
 * start, so a caller can reserve a field and patch it once the value is
 * known. This is test support: running out of memory aborts the program.
 */
#ifndef SYNTH_BUF_H
#define SYNTH_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct synth_buf {
    uint8_t *data;
    size_t size;
    size_t capacity;
} synth_buf;

void synth_buf_init(synth_buf *b);
void synth_buf_free(synth_buf *b);
/* Hands the bytes to the caller (free() them) and leaves `b` empty. */
uint8_t *synth_buf_take(synth_buf *b, size_t *size);

size_t synth_buf_u8(synth_buf *b, uint8_t v);
size_t synth_buf_u16(synth_buf *b, uint16_t v);
size_t synth_buf_u32(synth_buf *b, uint32_t v);
size_t synth_buf_u64(synth_buf *b, uint64_t v);
size_t synth_buf_bytes(synth_buf *b, const void *bytes, size_t n);
size_t synth_buf_zeros(synth_buf *b, size_t n);
/* A NUL-terminated string, terminator included. */
size_t synth_buf_cstr(synth_buf *b, const char *s);
/* `utf8` as UTF-16LE code units without a terminator; returns the offset,
 * and the number of bytes written through *bytes when non-NULL. */
size_t synth_buf_utf16(synth_buf *b, const char *utf8, size_t *bytes);
/* Pads with `fill` bytes until the size is a multiple of `alignment`. */
size_t synth_buf_align(synth_buf *b, size_t alignment, uint8_t fill);
/* Appends `n` zero bytes to be patched later. */
size_t synth_buf_reserve(synth_buf *b, size_t n);
/* Grows the buffer with zeros to at least `size` bytes. */
void synth_buf_extend_to(synth_buf *b, size_t size);

/* Overwrite bytes already in the buffer; the range must lie inside it. */
void synth_buf_patch_u8(synth_buf *b, size_t offset, uint8_t v);
void synth_buf_patch_u16(synth_buf *b, size_t offset, uint16_t v);
void synth_buf_patch_u32(synth_buf *b, size_t offset, uint32_t v);
void synth_buf_patch_u64(synth_buf *b, size_t offset, uint64_t v);
void synth_buf_patch_bytes(synth_buf *b, size_t offset, const void *bytes, size_t n);

/* Little-endian stores into plain memory (for fixed-size scratch records). */
void synth_put_u16(uint8_t *p, uint16_t v);
void synth_put_u32(uint8_t *p, uint32_t v);
void synth_put_u64(uint8_t *p, uint64_t v);
uint32_t synth_get_u32(const uint8_t *p);
uint64_t synth_get_u64(const uint8_t *p);

/* Writes `size` bytes to `path`; 0 on success, -1 with errno set. */
int synth_write_file(const char *path, const void *bytes, size_t size);
/* mkdir -p; 0 on success, -1 with errno set. */
int synth_make_directories(const char *path);

/* Test-support failure: prints the message and aborts. */
_Noreturn void synth_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* calloc/realloc/strdup that abort on failure. */
void *synth_alloc(size_t size);
void *synth_grow(void *p, size_t count, size_t size);
char *synth_strdup(const char *s);

#endif
