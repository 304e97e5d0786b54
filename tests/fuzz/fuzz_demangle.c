/*
 * libFuzzer target: Itanium demangling. The input, as a NUL-terminated
 * string, is demangled into buffers of several sizes; the result must be
 * terminated within each buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dumptriage/symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = malloc(size + 1);
    if (!name)
        return 0;
    memcpy(name, data, size);
    name[size] = '\0';
    static const size_t sizes[] = {1, 16, 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *out = malloc(sizes[i]);
        if (out) {
            dt_demangle_itanium(name, out, sizes[i]);
            if (strnlen(out, sizes[i]) == sizes[i])
                abort(); /* not terminated: a bug to report */
            free(out);
        }
    }
    free(name);
    return 0;
}
