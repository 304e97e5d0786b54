#include "base/mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/text.h"

enum { IO_CHUNK = 1 << 20 };
#define DEFAULT_MAX_INFLATED ((uint64_t)64 << 30)

static const char *input_label(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

static dt_status map_fd(dt_mapped_file *out, int fd, const char *label, dt_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return dt_error_set(err, DT_ERR_IO, label, NULL, -1, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return dt_error_set(err, DT_ERR_IO, label, NULL, -1, "not a regular file");
    out->size = (uint64_t)st.st_size;
    out->data = NULL;
    if (out->size == 0)
        return DT_OK;
    if (out->size > SIZE_MAX)
        return dt_error_set(err, DT_ERR_LIMIT, label, NULL, -1, "file too large to map");
    void *p = mmap(NULL, (size_t)out->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return dt_error_set(err, DT_ERR_IO, label, NULL, -1, "cannot map: %s", strerror(errno));
    out->data = p;
    return DT_OK;
}

int dt_open_unlinked_temp(const char *dir)
{
    if (!dir)
        dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char path[4096];
    if (snprintf(path, sizeof path, "%s/dumptriage-XXXXXX", dir) >= (int)sizeof path)
        return -1;
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    return fd;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static ssize_t read_some(int fd, uint8_t *p, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

typedef struct spool {
    int in_fd;
    int out_fd;
    uint64_t written;
    uint64_t cap;
    const char *label;
    uint8_t *in_buf;
    uint8_t *out_buf;
} spool;

static dt_status spool_write(spool *s, const uint8_t *p, size_t n, dt_error *err)
{
    if (n > s->cap - s->written)
        return dt_error_set(err, DT_ERR_LIMIT, s->label, NULL, -1,
                            "input exceeds the size cap of %llu bytes",
                            (unsigned long long)s->cap);
    if (!write_all(s->out_fd, p, n))
        return dt_error_set(err, DT_ERR_IO, s->label, NULL, -1,
                            "cannot write temporary file: %s", strerror(errno));
    s->written += n;
    return DT_OK;
}

/* Copies the rest of standard input (after `first` bytes already read). */
static dt_status spool_plain(spool *s, size_t first, dt_error *err)
{
    dt_status st = spool_write(s, s->in_buf, first, err);
    while (st == DT_OK) {
        ssize_t r = read_some(s->in_fd, s->in_buf, IO_CHUNK);
        if (r < 0)
            return dt_error_set(err, DT_ERR_IO, s->label, NULL, -1, "read failed: %s",
                                strerror(errno));
        if (r == 0)
            break;
        st = spool_write(s, s->in_buf, (size_t)r, err);
    }
    return st;
}

/* Inflates gzip members (concatenated members included) from the input. */
static dt_status spool_gzip(spool *s, size_t first, dt_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return dt_error_set(err, DT_ERR_NOMEM, s->label, "gzip stream", -1, "zlib init failed");
    dt_status st = DT_OK;
    uint64_t consumed = 0;
    bool at_end = false, input_done = false;
    zs.next_in = s->in_buf;
    zs.avail_in = (uInt)first;
    while (st == DT_OK) {
        if (zs.avail_in == 0 && !input_done) {
            ssize_t r = read_some(s->in_fd, s->in_buf, IO_CHUNK);
            if (r < 0) {
                st = dt_error_set(err, DT_ERR_IO, s->label, NULL, -1, "read failed: %s",
                                  strerror(errno));
                break;
            }
            input_done = r == 0;
            zs.next_in = s->in_buf;
            zs.avail_in = (uInt)r;
        }
        if (zs.avail_in == 0 && input_done) {
            if (!at_end)
                st = dt_error_set(err, DT_ERR_FORMAT, s->label, "gzip stream",
                                  (int64_t)consumed, "compressed data is truncated");
            break;
        }
        if (at_end) {
            /* Another member follows, or trailing garbage. */
            if (zs.next_in[0] != 0x1f)
                break;
            inflateReset(&zs);
            at_end = false;
        }
        zs.next_out = s->out_buf;
        zs.avail_out = IO_CHUNK;
        uInt before = zs.avail_in;
        int rc = inflate(&zs, Z_NO_FLUSH);
        consumed += before - zs.avail_in;
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            st = dt_error_set(err, DT_ERR_FORMAT, s->label, "gzip stream", (int64_t)consumed,
                              "invalid compressed data (%s)", zs.msg ? zs.msg : "zlib error");
            break;
        }
        st = spool_write(s, s->out_buf, IO_CHUNK - zs.avail_out, err);
        at_end = rc == Z_STREAM_END;
    }
    inflateEnd(&zs);
    return st;
}

static bool is_gzip(const uint8_t *p, size_t n)
{
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* Fills the input buffer's first bytes from the descriptor (for sniffing). */
static ssize_t read_head(int fd, uint8_t *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = read_some(fd, buf + got, want - got);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static dt_status spool_and_map(dt_mapped_file *out, int in_fd, bool gzip_only,
                               const dt_map_options *options, const char *label, dt_error *err)
{
    spool s = {in_fd, -1, 0, DEFAULT_MAX_INFLATED, label, NULL, NULL};
    if (options && options->max_inflated_size)
        s.cap = options->max_inflated_size;
    s.in_buf = malloc(IO_CHUNK);
    s.out_buf = malloc(IO_CHUNK);
    dt_status st = DT_OK;
    ssize_t first = -1;
    if (!s.in_buf || !s.out_buf)
        st = dt_error_set(err, DT_ERR_NOMEM, label, NULL, -1, "out of memory");
    else if ((first = read_head(in_fd, s.in_buf, IO_CHUNK)) < 0)
        st = dt_error_set(err, DT_ERR_IO, label, NULL, -1, "read failed: %s", strerror(errno));
    bool gz = st == DT_OK && is_gzip(s.in_buf, (size_t)first);
    if (st == DT_OK && gzip_only && !gz)
        st = dt_error_set(err, DT_ERR_ARGUMENT, label, NULL, -1, "not gzip input");
    if (st == DT_OK && (s.out_fd = dt_open_unlinked_temp(options ? options->temp_dir : NULL)) < 0)
        st = dt_error_set(err, DT_ERR_IO, label, NULL, -1, "cannot create temporary file: %s",
                          strerror(errno));
    if (st == DT_OK)
        st = gz ? spool_gzip(&s, (size_t)first, err) : spool_plain(&s, (size_t)first, err);
    if (st == DT_OK) {
        st = map_fd(out, s.out_fd, label, err);
        out->inflated = gz;
    }
    if (s.out_fd >= 0)
        close(s.out_fd);
    free(s.in_buf);
    free(s.out_buf);
    return st;
}

dt_status dt_map_file(dt_mapped_file *out, const char *path, const dt_map_options *options,
                      dt_error *err)
{
    memset(out, 0, sizeof *out);
    const char *label = input_label(path);
    if (strcmp(path, "-") == 0) {
        out->from_stdin = true;
        dt_status st = spool_and_map(out, STDIN_FILENO, false, options, label, err);
        out->from_stdin = true;
        return st;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dt_error_set(err, DT_ERR_IO, label, NULL, -1, "cannot open: %s", strerror(errno));
    uint8_t magic[2];
    dt_status st;
    if (pread(fd, magic, 2, 0) == 2 && is_gzip(magic, 2))
        st = spool_and_map(out, fd, true, options, label, err);
    else
        st = map_fd(out, fd, label, err);
    close(fd);
    return st;
}

dt_status dt_map_plain(dt_mapped_file *out, const char *path, dt_error *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dt_error_set(err, DT_ERR_IO, path, NULL, -1, "cannot open: %s", strerror(errno));
    dt_status st = map_fd(out, fd, path, err);
    close(fd);
    return st;
}

void dt_unmap_file(dt_mapped_file *file)
{
    if (file->data && !file->borrowed)
        munmap((void *)file->data, (size_t)file->size);
    file->data = NULL;
    file->size = 0;
}
