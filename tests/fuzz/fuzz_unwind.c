/*
 * libFuzzer target: the stack walker and x64 unwinder. The input is a
 * minidump; module images are read from its memory (seed it with the
 * synthetic full dumps, whose images carry .pdata/.xdata), so mutations reach
 * UNWIND_INFO, code bytes and stacks alike.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dumptriage/report.h"
#include "dumptriage/unwind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_dump *dump;
    dt_error err;
    if (dt_dump_open_memory(&dump, data, size, "fuzz.dmp", &err) != DT_OK)
        return 0;
    dt_image_search search = {NULL, 0, false, true, true};
    dt_image_set *images = NULL;
    if (dt_image_set_new(&images, dump, &search, &err) == DT_OK) {
        dt_walk_options options = {.max_frames = 256, .images = images};
        dt_stacks *stacks;
        if (dt_walk_threads(&stacks, dump, &options) == DT_OK) {
            free(dt_report_stacks(dump, stacks, images, NULL, DT_FORMAT_JSON, true));
            dt_stacks_free(stacks);
        }
        dt_image_set_free(images);
    }
    dt_dump_free(dump);
    return 0;
}
