/*
 * libFuzzer target: the MSVC undecorator. The input (cut at 8 KiB) becomes
 * a NUL-terminated name, undecorated into buffers of several sizes; the
 * output must always be terminated within the buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dumptriage/symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_NAME = 8192 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char name[MAX_NAME + 1];
    static char out[MAX_NAME];
    size_t n = size < MAX_NAME ? size : MAX_NAME;
    memcpy(name, data, n);
    name[n] = '\0';
    static const size_t sizes[] = {1, 7, 64, MAX_NAME};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        dt_undecorate_msvc(name, out, sizes[i]);
        if (strnlen(out, sizes[i]) >= sizes[i])
            abort();
    }
    return 0;
}
