/*
 * Test helper: drives the PDB provider from scripts.
 *
 *   pdb_lookup FILE.pdb            RVAs (hex) on stdin, one per line
 *   pdb_lookup --undecorate        decorated names on stdin, one per line
 *
 * Lookup output, tab-separated, one line per RVA:
 *   rva function_rva size name file line inlines     ("-" for a missing field)
 * where inlines lists the inlined functions innermost first, each as
 * name@file:line, separated by " | ".
 * The first line is "identity GUID-bytes-hex age". Undecorate output is the
 * undecorated name, or "!" and the input when undecoration failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumptriage/symbols.h"

static int undecorate_lines(void)
{
    static char line[8192], out[8192];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        bool ok = dt_undecorate_msvc(line, out, sizeof out);
        printf("%s%s\n", ok ? "" : "!", out);
    }
    return 0;
}

static void print_identity(dt_pdb *pdb)
{
    uint8_t guid[16];
    uint32_t age;
    printf("identity ");
    if (dt_pdb_identity(pdb, guid, &age)) {
        for (size_t i = 0; i < 16; i++)
            printf("%02x", guid[i]);
        printf(" %u\n", age);
    } else {
        printf("- -\n");
    }
}

static void print_inlines(const dt_symbol *s)
{
    for (size_t i = 0; i < s->inline_count; i++)
        printf("%s%s@%s:%u", i ? " | " : "", s->inlines[i].function,
               s->inlines[i].file ? s->inlines[i].file : "-", s->inlines[i].line);
    printf("%s\n", s->inline_count ? "" : "-");
}

static int lookup_lines(const char *path)
{
    dt_pdb *pdb;
    dt_error err;
    if (dt_pdb_open(&pdb, path, &err) != DT_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    print_identity(pdb);
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        uint32_t rva = (uint32_t)strtoul(line, NULL, 16);
        dt_symbol s;
        if (!dt_pdb_lookup(pdb, rva, &s)) {
            printf("%x\t-\t-\t-\t-\t-\t-\n", rva);
            continue;
        }
        printf("%x\t%x\t%x\t%s\t%s\t%u\t", rva, s.function_rva, s.function_size, s.function,
               s.file ? s.file : "-", s.line);
        print_inlines(&s);
    }
    size_t count;
    const dt_diagnostic *d = dt_pdb_diagnostics(pdb, &count);
    for (size_t i = 0; i < count; i++)
        fprintf(stderr, "diagnostic: %s: %s\n", d[i].structure, d[i].message);
    dt_pdb_free(pdb);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--undecorate") == 0)
        return undecorate_lines();
    if (argc == 2)
        return lookup_lines(argv[1]);
    fprintf(stderr, "usage: pdb_lookup FILE.pdb < rvas | pdb_lookup --undecorate < names\n");
    return 2;
}
