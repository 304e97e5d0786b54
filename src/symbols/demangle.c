/*
 * Itanium C++ ABI names (MinGW, Clang, GCC) to "ns::Class::name" through
 * libiberty's demangler, without parameter lists.
 */
#include <stdlib.h>
#include <string.h>

#include <demangle.h>

#include "dumptriage/symbols.h"

/* Longer names are not handed to libiberty: its work grows with the input
 * and real function names stay far below this. */
enum { MANGLED_MAX = 4096 };

static void copy_truncated(const char *text, char *out, size_t size)
{
    size_t length = strnlen(text, size - 1);
    memcpy(out, text, length);
    out[length] = '\0';
}

/* "_Z..." as written by ELF and x64 MinGW toolchains, "__Z..." by 32-bit
 * MinGW (its C symbols carry a leading underscore). */
static const char *itanium_start(const char *name)
{
    if (name[0] == '_' && name[1] == 'Z')
        return name;
    if (name[0] == '_' && name[1] == '_' && name[2] == 'Z')
        return name + 1;
    return NULL;
}

bool dt_demangle_itanium(const char *mangled, char *out, size_t size)
{
    if (!out || size == 0)
        return false;
    if (!mangled) {
        out[0] = '\0';
        return false;
    }
    const char *start = itanium_start(mangled);
    if (!start || strnlen(start, MANGLED_MAX + 1) > MANGLED_MAX) {
        copy_truncated(mangled, out, size);
        return false;
    }
    /* Without DMGL_PARAMS libiberty leaves out the parameter list. */
    char *demangled = cplus_demangle(start, DMGL_ANSI | DMGL_GNU_V3);
    if (!demangled) {
        copy_truncated(mangled, out, size);
        return false;
    }
    copy_truncated(demangled, out, size);
    free(demangled);
    return true;
}
