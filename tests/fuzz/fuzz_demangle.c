/*
 * libFuzzer target: Itanium demangling. The input is demangled as given and
 * with "_Z" put in front (libiberty is not instrumented, so coverage cannot
 * lead the fuzzer to the prefix), into buffers of several sizes; the result
 * must be terminated within each buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dumptriage/symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void demangle_into_sizes(const char *name)
{
    static const size_t sizes[] = {1, 16, 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *out = malloc(sizes[i]);
        if (!out)
            return;
        dt_demangle_itanium(name, out, sizes[i]);
        if (strnlen(out, sizes[i]) == sizes[i])
            abort(); /* not terminated: a bug for the fuzzer to report */
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = malloc(size + 3);
    if (!name)
        return 0;
    memcpy(name, "_Z", 2);
    memcpy(name + 2, data, size);
    name[size + 2] = '\0';
    demangle_into_sizes(name + 2);
    demangle_into_sizes(name);
    free(name);
    return 0;
}
