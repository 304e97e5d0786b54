/*
 * Test support for the rule engine: a hand-built process (modules, threads
 * with named frames, thread facts, locks, deadlocks, an exception) as a
 * dt_rule_input, and helpers that parse rule text and evaluate it.
 */
#ifndef DT_TESTS_RULES_FIXTURE_H
#define DT_TESTS_RULES_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumptriage/rules.h"

enum { FAKE_MODULES = 16, FAKE_THREADS = 64, FAKE_FRAMES = 32, FAKE_NAME = 96 };

typedef struct fake_process {
    dt_module modules[FAKE_MODULES];
    char module_names[FAKE_MODULES][FAKE_NAME];
    size_t module_count;
    char function_names[FAKE_THREADS][FAKE_FRAMES][FAKE_NAME];
    dt_thread threads[FAKE_THREADS];
    dt_frame frames[FAKE_THREADS][FAKE_FRAMES];
    dt_thread_stack stacks[FAKE_THREADS];
    dt_thread_facts facts[FAKE_THREADS];
    size_t thread_count;
    dt_process_facts process;
    dt_exception exception;
    dt_lock locks[8];
    size_t lock_count;
    dt_deadlock deadlocks[4];
    size_t deadlock_count;
    dt_rule_input input;
} fake_process;

static inline fake_process *fake_new(const char *process_name)
{
    fake_process *f = calloc(1, sizeof *f);
    f->process = (dt_process_facts){.name = process_name};
    f->input = (dt_rule_input){.process_name = process_name, .os_name = "Windows Server 2016",
                               .cpu = DT_CPU_AMD64, .threads = f->stacks,
                               .process = &f->process, .thread_facts = f->facts,
                               .locks = f->locks, .deadlocks = f->deadlocks};
    return f;
}

static inline const dt_module *fake_module(fake_process *f, const char *name, size_t length)
{
    for (size_t i = 0; i < f->module_count; i++)
        if (strlen(f->module_names[i]) == length &&
            strncmp(f->module_names[i], name, length) == 0)
            return &f->modules[i];
    size_t i = f->module_count++;
    snprintf(f->module_names[i], FAKE_NAME, "%.*s", (int)length, name);
    f->modules[i] = (dt_module){.base = 0x10000000ull * (i + 1), .size = 0x100000,
                                .name = f->module_names[i], .path = f->module_names[i]};
    return &f->modules[i];
}

/* Adds a thread whose frames are "module!function" strings (top first,
 * NULL-terminated); "0x..." is a frame in no module. Returns its index. */
static inline size_t fake_thread(fake_process *f, uint32_t id, dt_thread_state state,
                                 const char *const *frames)
{
    size_t t = f->thread_count++;
    size_t n = 0;
    for (; frames[n] && n < FAKE_FRAMES; n++) {
        const char *bang = strchr(frames[n], '!');
        dt_frame *frame = &f->frames[t][n];
        *frame = (dt_frame){.ip = 0x1C1BBD9 + n, .function_offset = 0x10 + n};
        if (!bang)
            continue;
        frame->module = fake_module(f, frames[n], (size_t)(bang - frames[n]));
        frame->ip = frame->module->base + 0x1000 + n;
        snprintf(f->function_names[t][n], FAKE_NAME, "%s", bang + 1);
        frame->function = f->function_names[t][n];
    }
    f->threads[t] = (dt_thread){.id = id};
    f->stacks[t] = (dt_thread_stack){.thread = &f->threads[t], .frame_count = n,
                                     .frames = f->frames[t]};
    f->facts[t] = (dt_thread_facts){.thread_id = id, .stack_index = t, .state = state};
    f->input.thread_count = f->thread_count;
    f->input.thread_facts_count = f->thread_count;
    f->process.thread_count = f->thread_count;
    return t;
}

static inline void fake_lock(fake_process *f, dt_lock lock)
{
    f->locks[f->lock_count++] = lock;
    f->input.lock_count = f->lock_count;
}

static inline void fake_exception(fake_process *f, size_t thread, uint32_t code,
                                  uint32_t parameter_count, uint64_t p0, uint64_t p1)
{
    f->exception = (dt_exception){.thread_id = f->threads[thread].id, .code = code,
                                  .address = f->frames[thread][0].ip,
                                  .parameter_count = parameter_count, .parameters = {p0, p1}};
    f->stacks[thread].from_exception = true;
    f->input.exception = &f->exception;
}

/* Parses `text` as one rule file; fails the test on errors. */
static inline dt_rule_set *parse_rules(const char *text)
{
    dt_rule_set *set;
    if (dt_rule_set_new(&set) != DT_OK)
        return NULL;
    if (dt_rule_set_add_text(set, "test.yaml", text, strlen(text)) != DT_OK) {
        size_t count;
        const dt_rule_error *e = dt_rule_set_errors(set, &count);
        for (size_t i = 0; i < count; i++)
            fprintf(stderr, "%s:%u:%u: %s\n", e[i].file, e[i].line, e[i].column, e[i].message);
        dt_rule_set_free(set);
        return NULL;
    }
    return set;
}

#endif
