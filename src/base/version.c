#include "dumptriage/version.h"

const char *dt_version(void)
{
    return DT_VERSION_STRING;
}
