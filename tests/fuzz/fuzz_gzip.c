/* libFuzzer target: gzip input, inflated into a temporary file and mapped.
 * The input is written to an in-memory file with the gzip magic in front. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dumptriage/dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-gzip", 0);
    if (fd < 0)
        return 0;
    static const uint8_t magic[2] = {0x1f, 0x8b};
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    dt_open_options options = {1u << 24, NULL};
    if (write(fd, magic, 2) == 2 && write(fd, data, size) == (ssize_t)size) {
        dt_dump *dump;
        dt_error err;
        if (dt_dump_open(&dump, path, &options, &err) == DT_OK)
            dt_dump_free(dump);
    }
    close(fd);
    return 0;
}
