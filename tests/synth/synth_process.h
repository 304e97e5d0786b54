/*
 * synth_process: a whole synthetic process (modules, JIT code, threads and
 * their stacks) turned into minidumps, images, symbols and a description of
 * the expected frames.
 *
 * Describe modules (each becomes a PE image at its base), JIT regions
 * (private executable memory with code but no image), their functions, and
 * threads as lists of frames "module!function+offset". synth_process_finish
 * derives the call sites from the frames (and adds spare calls whose return
 * addresses serve as decoys), lays out and links every image, and builds
 * each thread's stack. Then dumps can be made in two variants:
 *   full: every image mapped at its base, the JIT regions and the stacks in
 *         one Memory64List, MiniDumpWithFullMemory;
 *   mini: the stacks only (MemoryList); images are expected on disk.
 */
#ifndef SYNTH_PROCESS_H
#define SYNTH_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synth_dump.h"
#include "synth_pe.h"
#include "synth_stack.h"

typedef struct synth_process_options {
    const char *exe_name;          /* the process image, e.g. "w3wp.exe" */
    uint32_t process_id;
    uint32_t process_create_time;  /* time_t */
    uint32_t dump_time;            /* time_t */
    uint8_t processor_count;
    uint8_t product_type;          /* 1 workstation, 3 server */
    uint32_t os_major, os_minor, os_build;
    const char *csd;               /* service pack string or NULL */
    uint32_t seed;                 /* varies register values and decoys */
    synth_cpu cpu;                 /* the process's code: SYNTH_CPU_AMD64 (default) or
                                      SYNTH_CPU_X86 (PE32 modules, x86 JIT code, x86
                                      stacks and contexts, a 32-bit dump writer) */
    bool wow64;                    /* with SYNTH_CPU_X86: dumped by a 64-bit writer.
                                      AMD64 system info, 64-bit thread contexts (the
                                      threads' native frames), the 32-bit context in
                                      each TEB's WOW64 CPU area, TEB32 at TEB64+0x2000 */
} synth_process_options;

typedef struct synth_module_spec {
    const char *name;              /* file name, also the image file name */
    const char *path;              /* full path recorded in the module list */
    uint64_t base;
    uint32_t timestamp;
    uint16_t version[4];
    const char *pdb_name;          /* NULL: the name with .pdb */
} synth_module_spec;

/* How a frame's offset is given. Positions inside a prolog or an epilog are
 * only known once the code is generated, so they are given by instruction:
 * SYNTH_AT_PROLOG n: just after the n-th prolog instruction (0: the entry);
 * SYNTH_AT_EPILOG n: at the n-th instruction of the function's first epilog
 * (0: its first instruction). Only the innermost frame and frames entered
 * through a machine frame can be there (others are at a call site). */
typedef enum synth_offset_kind {
    SYNTH_AT_OFFSET = 0,
    SYNTH_AT_PROLOG,
    SYNTH_AT_EPILOG
} synth_offset_kind;

/* One frame of a thread, innermost first: "module!function+offset". For a
 * JIT region, `module` is the region's name. */
typedef struct synth_frame_spec {
    const char *module;
    const char *function;
    uint32_t offset;
    synth_offset_kind at;
} synth_frame_spec;

typedef struct synth_thread_spec {
    uint32_t id;
    const char *role;              /* free text for expected.json */
    const char *name;              /* ThreadNames entry, or NULL */
    const synth_frame_spec *frames;
    size_t frame_count;
    uint32_t suspend_count;
    int32_t priority;
    uint64_t create_time;          /* FILETIME, 0 derives one */
    uint64_t user_time;            /* 100 ns units */
    const synth_frame_spec *native_frames; /* WOW64: the 64-bit side (native modules) */
    size_t native_frame_count;
} synth_thread_spec;

typedef enum synth_variant { SYNTH_VARIANT_FULL = 0, SYNTH_VARIANT_MINI = 1 } synth_variant;

typedef struct synth_process synth_process;

/* Called for every dump the process makes, to add scenario-specific data. */
typedef void (*synth_dump_decorator)(synth_dump *d, synth_variant variant, void *context);

synth_process *synth_process_new(const synth_process_options *options);
void synth_process_free(synth_process *p);

/* Returns the unit index of the new module or JIT region. */
int synth_process_add_module(synth_process *p, const synth_module_spec *spec);
/* A 64-bit module of a WOW64 process (wow64.dll, wow64cpu.dll, ntdll.dll),
 * used by the threads' native frames. Its image is written to images/ only
 * when no 32-bit module has the same name (the full dump maps it). */
int synth_process_add_native_module(synth_process *p, const synth_module_spec *spec);
int synth_process_add_jit_region(synth_process *p, const char *name, uint64_t base,
                                 uint32_t size);
/* Adds a function to a module or JIT region; returns its index there. */
int synth_process_add_function(synth_process *p, int unit, const synth_function *f);
void synth_process_add_forwarder(synth_process *p, int unit, const char *export_name,
                                 const char *forward_to);
/* Exports `function` (by name) of a module under one more name. */
void synth_process_add_alias(synth_process *p, int unit, const char *export_name,
                             const char *function);
void synth_process_add_thread(synth_process *p, const synth_thread_spec *thread);
void synth_process_set_decorator(synth_process *p, synth_dump_decorator decorator,
                                 void *context);

/* Links everything and builds the stacks; nothing can be added after. */
void synth_process_finish(synth_process *p);

/* A new dump of the process in the given variant (caller frees). */
synth_dump *synth_process_dump(const synth_process *p, synth_variant variant);
/* Writes <dir>/full.dmp, <dir>/mini.dmp, <dir>/images/<module>,
 * <dir>/symbols/<debug file>/<ID>/<name>.sym and <dir>/expected.json.
 * Returns 0, or -1 with errno set. */
int synth_process_write(const synth_process *p, const char *dir, const char *scenario);

size_t synth_process_unit_count(const synth_process *p);
/* The CPU of the process's code (SYNTH_CPU_X86 for x86 and WOW64 processes). */
synth_cpu synth_process_cpu(const synth_process *p);
/* The module's image, or NULL for a JIT region. */
const synth_pe *synth_process_pe(const synth_process *p, int unit);
/* The built image file of a module (after finish). */
const synth_buf *synth_process_image(const synth_process *p, int unit);
const synth_text *synth_process_text(const synth_process *p, int unit);
size_t synth_process_thread_count(const synth_process *p);
const synth_thread_spec *synth_process_thread(const synth_process *p, size_t index);
const synth_stack *synth_process_stack(const synth_process *p, size_t index);
/* A WOW64 thread's 64-bit stack (its 32-bit one is synth_process_stack). */
const synth_stack *synth_process_native_stack(const synth_process *p, size_t index);

#endif
