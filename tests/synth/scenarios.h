/*
 * Named synthetic scenarios: processes whose stacks reproduce the seed
 * documents (or a healthy baseline) frame for frame, built with
 * synth_process. See docs/synth.md for the list and the output layout.
 */
#ifndef SYNTH_SCENARIOS_H
#define SYNTH_SCENARIOS_H

#include <stddef.h>

#include "synth_process.h"

typedef struct synth_scenario {
    const char *name;
    const char *description;
    synth_process *(*build)(void);   /* a finished process, or NULL */
    int (*write)(const char *dir);   /* for image-only scenarios (build NULL) */
} synth_scenario;

size_t synth_scenario_count(void);
const synth_scenario *synth_scenario_at(size_t index);
/* The scenario called `name`, or NULL. */
const synth_scenario *synth_scenario_find(const char *name);
/* Builds the scenario and writes it to <root>/<name>; 0, or -1 with errno. */
int synth_scenario_write(const synth_scenario *s, const char *root);

#endif
