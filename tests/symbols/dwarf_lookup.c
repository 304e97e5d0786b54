/*
 * Test helper: dwarf_lookup IMAGE < RVAs. Opens IMAGE with the DWARF
 * provider and, for each hexadecimal RVA read from standard input, prints
 * one line:
 *   RVA<TAB>function<TAB>file:line[<TAB>inlined<TAB>file:line]...
 * with frames innermost first as addr2line -f -i prints them ("??" and
 * "??:0" when unknown), or "RVA<TAB>-" when the lookup finds nothing.
 * "--diagnostics" as a second argument prints the diagnostics at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumptriage/symbols.h"

static void print_position(const char *file, uint32_t line)
{
    printf("\t%s:%" PRIu32, file ? file : "??", line);
}

static void print_symbol(uint32_t rva, const dt_symbol *s)
{
    printf("%" PRIx32, rva);
    for (size_t i = 0; i < s->inline_count; i++) {
        printf("\t%s", s->inlines[i].function);
        print_position(s->inlines[i].file, s->inlines[i].line);
    }
    printf("\t%s", s->function);
    print_position(s->file, s->line);
    printf("\n");
}

static void print_diagnostics(const dt_dwarf *dwarf)
{
    size_t n;
    const dt_diagnostic *d = dt_dwarf_diagnostics(dwarf, &n);
    for (size_t i = 0; i < n; i++)
        printf("diagnostic: %s: %s\n", dt_diag_level_name(d[i].level), d[i].message);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dwarf_lookup IMAGE [--diagnostics] < RVAs\n");
        return 2;
    }
    dt_image *image;
    dt_dwarf *dwarf;
    dt_error err;
    if (dt_image_open_file(&image, argv[1], &err) != DT_OK ||
        dt_dwarf_open(&dwarf, image, &err) != DT_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    char text[64];
    while (scanf("%63s", text) == 1) {
        uint32_t rva = (uint32_t)strtoul(text, NULL, 16);
        dt_symbol symbol;
        if (dt_dwarf_lookup(dwarf, rva, &symbol))
            print_symbol(rva, &symbol);
        else
            printf("%" PRIx32 "\t-\n", rva);
    }
    if (argc > 2 && strcmp(argv[2], "--diagnostics") == 0)
        print_diagnostics(dwarf);
    dt_dwarf_free(dwarf);
    dt_image_free(image);
    return 0;
}
