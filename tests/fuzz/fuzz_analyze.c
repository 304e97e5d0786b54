/*
 * libFuzzer target: the whole `analyze` pipeline on one input — read,
 * images from dump memory, walk, name, analysis facts, the built-in rules,
 * and every report format. The input is a minidump, passed through an
 * in-memory file (memfd) so the same entry point as the CLI is used.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dumptriage/batch.h"
#include "dumptriage/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const dt_rule_set *builtin_rules(void)
{
    static dt_rule_set *rules;
    if (!rules && dt_rule_set_new(&rules) == DT_OK)
        dt_rule_set_add_builtin(rules);
    return rules;
}

static void report_everything(const char *path, const dt_triage *t)
{
    for (int f = DT_BATCH_TEXT; f <= DT_BATCH_HTML; f++) {
        dt_batch_outcome outcome;
        free(dt_batch_entry((dt_batch_format)f, path, t, NULL, DT_SEVERITY_WARNING, &outcome));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-analyze", 0);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (write(fd, data, size) == (ssize_t)size) {
        dt_triage_options options = {.offline = true, .max_frames = 256, .rules = builtin_rules()};
        dt_triage *t = NULL;
        dt_error err;
        if (dt_triage_run(&t, path, &options, &err) == DT_OK)
            report_everything(path, t);
        dt_triage_free(t);
    }
    close(fd);
    return 0;
}
