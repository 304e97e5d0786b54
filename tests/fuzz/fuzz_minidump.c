/* libFuzzer target: the minidump reader and every accessor over its result. */
#include <stddef.h>
#include <stdint.h>

#include "dumptriage/dump.h"
#include "dumptriage/report.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch_memory(const dt_dump *dump)
{
    size_t n;
    const dt_thread *threads = dt_dump_threads(dump, &n);
    uint8_t buffer[64];
    for (size_t i = 0; i < n; i++) {
        dt_dump_read(dump, threads[i].stack_start, buffer, sizeof buffer);
        dt_dump_module_at(dump, dt_context_ip(&threads[i].context));
        dt_dump_memory_info_at(dump, dt_context_sp(&threads[i].context));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_dump *dump;
    dt_error err;
    if (dt_dump_open_memory(&dump, data, size, "fuzz.dmp", &err) != DT_OK)
        return 0;
    touch_memory(dump);
    free(dt_report_info(dump, DT_FORMAT_JSON));
    free(dt_report_info(dump, DT_FORMAT_TEXT));
    dt_dump_free(dump);
    return 0;
}
