/* dumptriage: library version. */
#ifndef DUMPTRIAGE_VERSION_H
#define DUMPTRIAGE_VERSION_H

/* The library version, "MAJOR.MINOR.PATCH". */
const char *dt_version(void);

#endif
