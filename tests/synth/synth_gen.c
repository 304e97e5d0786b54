/*
 * dt-synth: writes synthetic scenarios (dumps, images, symbols, expected
 * frames) to a directory. See docs/synth.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scenarios.h"

static void usage(FILE *out)
{
    fputs("usage: dt-synth [--list] [--out DIR] [SCENARIO...]\n"
          "Writes each SCENARIO (all of them when none is named) to DIR/<scenario>/\n"
          "(DIR defaults to the current directory): full.dmp, mini.dmp, images/,\n"
          "symbols/ and expected.json.\n", out);
}

static void list_scenarios(void)
{
    for (size_t i = 0; i < synth_scenario_count(); i++) {
        const synth_scenario *s = synth_scenario_at(i);
        printf("%-26s %s\n", s->name, s->description);
    }
}

static int write_one(const synth_scenario *s, const char *root)
{
    if (synth_scenario_write(s, root) != 0) {
        fprintf(stderr, "dt-synth: %s: %s\n", s->name, strerror(errno));
        return 1;
    }
    printf("%s/%s\n", root, s->name);
    return 0;
}

int main(int argc, char **argv)
{
    const char *root = ".";
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "--list") == 0) {
            list_scenarios();
            return 0;
        } else if (strcmp(argv[first], "--out") == 0 && first + 1 < argc) {
            root = argv[++first];
        } else if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    int failures = 0;
    if (first == argc) {
        for (size_t i = 0; i < synth_scenario_count(); i++)
            failures += write_one(synth_scenario_at(i), root);
        return failures ? 1 : 0;
    }
    for (int i = first; i < argc; i++) {
        const synth_scenario *s = synth_scenario_find(argv[i]);
        if (!s) {
            fprintf(stderr, "dt-synth: unknown scenario %s (see --list)\n", argv[i]);
            failures++;
            continue;
        }
        failures += write_one(s, root);
    }
    return failures ? 1 : 0;
}
