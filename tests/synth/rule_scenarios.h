/*
 * Scenarios for the built-in rules' positive and negative fixtures
 * (docs/rules.md, tests/golden/test_rule_fixtures.py): processes whose
 * threads reproduce the stacks of SIGNATURES.md frame for frame, with the
 * exception records, handles, thread times, memory and critical sections
 * each rule needs, and near misses that must not fire.
 */
#ifndef SYNTH_RULE_SCENARIOS_H
#define SYNTH_RULE_SCENARIOS_H

#include <stddef.h>

#include "scenarios.h"

size_t synth_rule_scenario_count(void);
const synth_scenario *synth_rule_scenario_at(size_t index);

#endif
