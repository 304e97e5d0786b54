#include "base/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"

enum { ARENA_BLOCK_SIZE = 64 * 1024, ARENA_ALIGN = 16 };

struct dt_arena_block {
    dt_arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

static dt_arena_block *new_block(size_t payload)
{
    dt_arena_block *block = malloc(sizeof *block + payload);
    if (!block)
        return NULL;
    block->next = NULL;
    block->size = payload;
    block->used = 0;
    return block;
}

void *dt_arena_alloc(dt_arena *arena, size_t size)
{
    size_t rounded;
    if (!dt_add_size(size, ARENA_ALIGN - 1, &rounded))
        return NULL;
    rounded &= ~(size_t)(ARENA_ALIGN - 1);
    if (rounded == 0)
        rounded = ARENA_ALIGN;
    dt_arena_block *head = arena->head;
    if (!head || head->size - head->used < rounded) {
        size_t payload = rounded > ARENA_BLOCK_SIZE / 4 ? rounded : ARENA_BLOCK_SIZE;
        dt_arena_block *block = new_block(payload);
        if (!block)
            return NULL;
        if (payload == rounded && head) {
            /* A large allocation gets its own block behind the current one,
             * so the current block keeps serving small requests. */
            block->next = head->next;
            head->next = block;
        } else {
            block->next = head;
            arena->head = block;
        }
        head = block;
    }
    void *p = head->data + head->used;
    head->used += rounded;
    arena->used += rounded;
    memset(p, 0, rounded);
    return p;
}

void *dt_arena_array(dt_arena *arena, size_t count, size_t size)
{
    size_t total;
    if (!dt_mul_size(count, size, &total))
        return NULL;
    return dt_arena_alloc(arena, total);
}

char *dt_arena_strndup(dt_arena *arena, const char *s, size_t n)
{
    char *copy = dt_arena_alloc(arena, n + 1);
    if (copy && n)
        memcpy(copy, s, n);
    return copy;
}

char *dt_arena_printf(dt_arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = dt_arena_alloc(arena, (size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void dt_arena_release(dt_arena *arena)
{
    dt_arena_block *block = arena->head;
    while (block) {
        dt_arena_block *next = block->next;
        free(block);
        block = next;
    }
    arena->head = NULL;
    arena->used = 0;
}
