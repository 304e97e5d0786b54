/* Writes a minidump whose modules carry the hostile names given on the
 * command line, both as module paths and as CodeView PDB names, for
 * tests/symbols/test_hostile_names.py. */
#include <stdio.h>
#include <string.h>

#include "synth_dump.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: hostile_dump OUT.dmp NAME...\n");
        return 2;
    }
    synth_dump *d = synth_dump_new();
    synth_system_info sys = {.cpu = SYNTH_CPU_AMD64, .major = 10, .build = 19041};
    synth_dump_set_system_info(d, &sys);
    static uint8_t stack[64];
    /* One thread in each module, so that every hostile name is looked up. */
    for (int i = 2; i < argc; i++) {
        synth_module m = {.path = argv[i], .base = 0x10000000ull * (unsigned)i, .size = 0x1000,
                          .timestamp = 0x5F5E1000, .has_codeview = true,
                          .codeview = {.age = 1, .pdb_name = argv[i]}};
        synth_guid_from_seed(m.codeview.guid, argv[i]);
        synth_dump_add_module(d, &m);
        synth_thread t = {.id = (uint32_t)i, .stack_start = 0x10000 * (uint64_t)i, .stack = stack,
                          .stack_size = sizeof stack, .has_context = true};
        synth_context_init(&t.context, SYNTH_CPU_AMD64);
        t.context.regs[DT_AMD64_RIP] = m.base + 0x10;
        t.context.regs[DT_AMD64_RSP] = t.stack_start;
        synth_dump_add_thread(d, &t);
    }
    int status = synth_dump_write_file(d, argv[1]);
    synth_dump_free(d);
    return status == 0 ? 0 : 1;
}
