/* Writing report entries in input order while workers finish them in any
 * order. */
#include "cli/ordered_output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mapfile.h"

/* An unlinked temporary file in $TMPDIR (or /tmp), as for gzip input. */
static FILE *open_park_file(void)
{
    int fd = dt_open_unlinked_temp(NULL);
    FILE *park = fd >= 0 ? fdopen(fd, "w+") : NULL;
    if (!park && fd >= 0)
        close(fd);
    return park;
}

bool ordered_output_init(ordered_output *o, FILE *out, size_t count, const char *separator,
                         bool park)
{
    memset(o, 0, sizeof *o);
    pthread_mutex_init(&o->lock, NULL);
    o->out = out;
    o->count = count;
    o->separator = separator;
    o->ok = true;
    size_t slots = count ? count : 1;
    if (park) {
        o->park = open_park_file();
        o->parked = calloc(slots, sizeof *o->parked);
    } else {
        o->pending = calloc(slots, sizeof *o->pending);
        o->arrived = calloc(slots, sizeof *o->arrived);
    }
    if (park ? !o->park || !o->parked : !o->pending || !o->arrived) {
        fprintf(stderr, "dumptriage: cannot hold the report entries%s: %s\n",
                park ? " in a temporary file ($TMPDIR or /tmp)" : "", strerror(errno));
        ordered_output_finish(o);
        return false;
    }
    return true;
}

/* Writes one entry with the separator before it; empty entries are left out. */
static void write_entry(ordered_output *o, const char *entry, size_t length)
{
    if (!o->ok || !length)
        return;
    if (o->wrote_any && fputs(o->separator, o->out) < 0)
        o->ok = false;
    if (o->ok && fwrite(entry, 1, length, o->out) != length)
        o->ok = false;
    o->wrote_any = true;
}

/* Writes the entries that are next in order, then flushes them, so that a
 * reader at the other end of a pipe gets each one whole without waiting. */
static void stream_ready_entries(ordered_output *o)
{
    size_t first = o->next;
    for (; o->next < o->count && o->arrived[o->next]; o->next++) {
        char *entry = o->pending[o->next];
        if (entry)
            write_entry(o, entry, strlen(entry));
        else
            o->ok = false;
        free(entry);
        o->pending[o->next] = NULL;
    }
    if (o->next > first && fflush(o->out) != 0)
        o->ok = false;
}

static void park_entry(ordered_output *o, size_t index, const char *entry)
{
    parked_entry *slot = &o->parked[index];
    slot->offset = -1;
    if (!entry)
        return;
    long offset = ftell(o->park);
    size_t length = strlen(entry);
    if (offset >= 0 && fwrite(entry, 1, length, o->park) == length)
        *slot = (parked_entry){offset, length};
}

void ordered_output_put(ordered_output *o, size_t index, char *entry)
{
    pthread_mutex_lock(&o->lock);
    if (o->park) {
        park_entry(o, index, entry);
    } else {
        o->pending[index] = entry;
        o->arrived[index] = true;
        stream_ready_entries(o);
        entry = NULL;
    }
    pthread_mutex_unlock(&o->lock);
    free(entry);
}

/* Copies one parked entry from the park file to the output. */
static void replay_entry(ordered_output *o, const parked_entry *slot, char *buffer, size_t size)
{
    if (slot->offset < 0 || fseek(o->park, slot->offset, SEEK_SET) != 0) {
        o->ok = false;
        return;
    }
    if (slot->length && o->wrote_any && fputs(o->separator, o->out) < 0)
        o->ok = false;
    for (size_t left = slot->length; o->ok && left > 0;) {
        size_t chunk = left < size ? left : size;
        o->ok = fread(buffer, 1, chunk, o->park) == chunk &&
                fwrite(buffer, 1, chunk, o->out) == chunk;
        left -= chunk;
    }
    o->wrote_any |= slot->length > 0;
}

void ordered_output_replay(ordered_output *o)
{
    if (!o->park)
        return;
    enum { COPY_BUFFER_SIZE = 1 << 16 };
    char *buffer = malloc(COPY_BUFFER_SIZE);
    o->ok = buffer && fflush(o->park) == 0 && o->ok;
    for (size_t i = 0; o->ok && i < o->count; i++)
        replay_entry(o, &o->parked[i], buffer, COPY_BUFFER_SIZE);
    free(buffer);
}

bool ordered_output_finish(ordered_output *o)
{
    bool ok = o->ok && (o->park || o->next == o->count);
    for (size_t i = 0; o->pending && i < o->count; i++)
        free(o->pending[i]);
    free(o->pending);
    free(o->arrived);
    free(o->parked);
    if (o->park)
        fclose(o->park);
    pthread_mutex_destroy(&o->lock);
    memset(o, 0, sizeof *o);
    return ok;
}
