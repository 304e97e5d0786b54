/*
 * synth_large: a big process for the benchmark (tests/bench): many modules
 * whose images are in the dump's memory, many waiting threads, and large
 * zero-filled heap ranges, written as a sparse full dump so a multi-GiB dump
 * costs neither the memory nor the disk space of its size.
 */
#ifndef SYNTH_LARGE_H
#define SYNTH_LARGE_H

#include <stddef.h>
#include <stdint.h>

#include "synth_process.h"

typedef struct synth_large_options {
    size_t thread_count;     /* waiting threads, at least 1 */
    size_t module_count;     /* modules in all, at least 4 (exe, ntdll, kernel32, a library) */
    uint64_t heap_bytes;     /* zero-filled private memory, split into heap_ranges */
    size_t heap_ranges;
} synth_large_options;

/* The finished process: bigapp.exe, ntdll.dll, kernel32.dll and libNNN.dll;
 * thread k waits in ntdll!NtWaitForSingleObject under three library
 * frames and bigapp!ThreadMain. */
synth_process *synth_large_process(const synth_large_options *options);
/* Writes its full dump (images, stacks and the heap ranges in one
 * Memory64List) to `path` with synth_dump_write_sparse; 0, or -1 with errno. */
int synth_large_write(const synth_large_options *options, const char *path);

#endif
