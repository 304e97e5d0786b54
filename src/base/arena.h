/*
 * A region allocator: many small allocations released together. Objects
 * decoded from one input (a dump, a PDB) live in one arena.
 */
#ifndef DT_BASE_ARENA_H
#define DT_BASE_ARENA_H

#include <stddef.h>

typedef struct dt_arena_block dt_arena_block;

typedef struct dt_arena {
    dt_arena_block *head;
    size_t used;             /* bytes handed out, for memory accounting */
} dt_arena;

/* Zeroed, 16-byte aligned memory, or NULL when out of memory. */
void *dt_arena_alloc(dt_arena *arena, size_t size);
/* count * size bytes with an overflow check. */
void *dt_arena_array(dt_arena *arena, size_t count, size_t size);
char *dt_arena_strndup(dt_arena *arena, const char *s, size_t n);
char *dt_arena_printf(dt_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dt_arena_release(dt_arena *arena);

#endif
