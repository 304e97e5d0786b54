#include <stdio.h>
#include "dumptriage/dump.h"
int main(int argc, char **argv)
{
    dt_dump *d; dt_error e = {0};
    if (dt_dump_open(&d, argv[1], NULL, &e) != DT_OK) { fprintf(stderr, "%s\n", e.message); return 3; }
    size_t n; dt_dump_threads(d, &n); printf("threads %zu\n", n);
    dt_dump_modules(d, &n); printf("modules %zu\n", n);
    const dt_diagnostic *dg = dt_dump_diagnostics(d, &n);
    for (size_t i = 0; i < n; i++) printf("diag %s: %s\n", dg[i].structure, dg[i].message);
    dt_dump_free(d);
    (void)argc; return 0;
}
