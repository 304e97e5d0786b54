/* Atomic report files: write a temporary file, then rename it into place. */
#include "cli/output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool output_open(output_file *out, const char *target)
{
    memset(out, 0, sizeof *out);
    out->target = target;
    if (!target) {
        out->stream = stdout;
        return true;
    }
    if (snprintf(out->temporary, sizeof out->temporary, "%s.tmp-XXXXXX", target) >=
        (int)sizeof out->temporary) {
        fprintf(stderr, "dumptriage: output path too long: %s\n", target);
        return false;
    }
    int fd = mkstemp(out->temporary); /* O_CREAT | O_EXCL: never an existing file or link */
    /* mkstemp makes the file 0600; a report gets the mode any new file
     * would (0666 less the umask), as with `> FILE`. */
    mode_t mask = umask(0);
    umask(mask);
    if (fd >= 0 && fchmod(fd, 0666 & ~mask) == 0)
        out->stream = fdopen(fd, "w");
    if (!out->stream) {
        fprintf(stderr, "dumptriage: cannot write %s: %s\n", target, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(out->temporary);
        }
        return false;
    }
    return true;
}

bool output_close(output_file *out, bool ok)
{
    if (!out->target) {
        ok = fflush(stdout) == 0 && ok;
        if (!ok)
            fprintf(stderr, "dumptriage: cannot write the report: %s\n", strerror(errno));
        return ok;
    }
    ok = fflush(out->stream) == 0 && fsync(fileno(out->stream)) == 0 && ok;
    ok = fclose(out->stream) == 0 && ok;
    if (ok && rename(out->temporary, out->target) == 0)
        return true;
    fprintf(stderr, "dumptriage: cannot write %s: %s\n", out->target, strerror(errno));
    unlink(out->temporary);
    return false;
}
