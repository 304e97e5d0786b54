/*
 * What the scenario builders (scenarios.c, scenarios_x86.c,
 * rule_scenarios.c) share: prolog and frame notation, the module catalog
 * entry, and stacks assembled from frame lists.
 */
#ifndef SYNTH_SCENARIO_KIT_H
#define SYNTH_SCENARIO_KIT_H

#include <stddef.h>
#include <stdint.h>

#include "synth_process.h"

/* Prolog operations (synth_code.h); registers as the architecture numbers them. */
#define PUSH(r) {SYNTH_OP_PUSH, (r), 0, SYNTH_ENC_AUTO}
#define ALLOC(n) {SYNTH_OP_ALLOC, 0, (n), SYNTH_ENC_AUTO}
#define SET_FP(r, off) {SYNTH_OP_SET_FPREG, (r), (off), SYNTH_ENC_AUTO}
#define SAVE_XMM(r, off) {SYNTH_OP_SAVE_XMM, (r), (off), SYNTH_ENC_AUTO}
#define OPS(a) (a), sizeof(a) / sizeof((a)[0])

/* A frame at a byte offset ("module!function+offset"), and a frame list
 * literal with its length. */
#define AT(module, function, offset) {(module), (function), (offset), SYNTH_AT_OFFSET}
#define FRAMES(...) (const synth_frame_spec[]){__VA_ARGS__}, \
    sizeof((const synth_frame_spec[]){__VA_ARGS__}) / sizeof(synth_frame_spec)

/* A module of a scenario's catalog. */
typedef struct catalog_module {
    const char *name;
    const char *path;
    uint64_t base;
    uint32_t timestamp;
    uint16_t version[4];
} catalog_module;

/* A thread's frames, innermost first. */
typedef struct frame_list {
    synth_frame_spec frames[32];
    size_t count;
} frame_list;

void frame_list_append(frame_list *l, const synth_frame_spec *frames, size_t count);
/* Adds a thread running the frames of `l`. */
void scenario_add_thread(synth_process *p, uint32_t id, const char *role, const frame_list *l,
                         uint64_t user_time);

#endif
