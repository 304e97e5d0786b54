/* HTTP(S) downloads through libcurl, loaded on demand with dlopen. The few
 * curl_easy constants used are curl's stable ABI values (curl/curl.h). */
#include "base/download.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    CURLOPT_WRITEDATA = 10001, CURLOPT_URL = 10002, CURLOPT_USERAGENT = 10018,
    CURLOPT_TIMEOUT = 13, CURLOPT_FAILONERROR = 45, CURLOPT_FOLLOWLOCATION = 52,
    CURLOPT_MAXREDIRS = 68, CURLOPT_CONNECTTIMEOUT = 78, CURLOPT_NOSIGNAL = 99,
    CURLOPT_PROTOCOLS = 181, CURLOPT_REDIR_PROTOCOLS = 182, CURLOPT_WRITEFUNCTION = 20011,
    CURLOPT_MAXFILESIZE_LARGE = 30117, CURLINFO_RESPONSE_CODE = 0x200002,
    CURLPROTO_HTTP = 1, CURLPROTO_HTTPS = 2
};

typedef void CURL;
typedef struct curl_api {
    CURL *(*easy_init)(void);
    int (*easy_setopt)(CURL *, int, ...);
    int (*easy_perform)(CURL *);
    int (*easy_getinfo)(CURL *, int, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(int);
} curl_api;

static const char *const library_names[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so"};

/* Loads libcurl once per process; NULL when it is not installed. */
static const curl_api *load_curl(void)
{
    static curl_api api;
    static int state; /* 0 not tried, 1 loaded, -1 unavailable */
    if (state)
        return state > 0 ? &api : NULL;
    state = -1;
    void *lib = NULL;
    for (size_t i = 0; !lib && i < sizeof library_names / sizeof library_names[0]; i++)
        lib = dlopen(library_names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return NULL;
    *(void **)&api.easy_init = dlsym(lib, "curl_easy_init");
    *(void **)&api.easy_setopt = dlsym(lib, "curl_easy_setopt");
    *(void **)&api.easy_perform = dlsym(lib, "curl_easy_perform");
    *(void **)&api.easy_getinfo = dlsym(lib, "curl_easy_getinfo");
    *(void **)&api.easy_cleanup = dlsym(lib, "curl_easy_cleanup");
    *(void **)&api.easy_strerror = dlsym(lib, "curl_easy_strerror");
    if (!api.easy_init || !api.easy_setopt || !api.easy_perform || !api.easy_getinfo ||
        !api.easy_cleanup || !api.easy_strerror)
        return NULL;
    state = 1;
    return &api;
}

static size_t write_body(char *data, size_t size, size_t count, void *stream)
{
    return fwrite(data, size, count, stream);
}

static dt_status fail(char *why, size_t why_size, dt_status status, const char *reason,
                      const char *detail)
{
    snprintf(why, why_size, "%s: %s", reason, detail);
    return status;
}

/* Runs one transfer into `out`; returns curl's result and the HTTP status. */
static int transfer(const curl_api *curl, const char *url, FILE *out, long *http_status)
{
    CURL *handle = curl->easy_init();
    if (!handle)
        return -1;
    curl->easy_setopt(handle, CURLOPT_URL, url);
    curl->easy_setopt(handle, CURLOPT_WRITEFUNCTION, write_body);
    curl->easy_setopt(handle, CURLOPT_WRITEDATA, out);
    curl->easy_setopt(handle, CURLOPT_FAILONERROR, 1L);
    curl->easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
    curl->easy_setopt(handle, CURLOPT_MAXREDIRS, 5L);
    curl->easy_setopt(handle, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl->easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl->easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, 10L);
    curl->easy_setopt(handle, CURLOPT_TIMEOUT, 120L);
    curl->easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl->easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE, (int64_t)1 << 30);
    curl->easy_setopt(handle, CURLOPT_USERAGENT, "Microsoft-Symbol-Server/10.0 dumptriage");
    int result = curl->easy_perform(handle);
    *http_status = 0;
    curl->easy_getinfo(handle, CURLINFO_RESPONSE_CODE, http_status);
    curl->easy_cleanup(handle);
    return result;
}

dt_status dt_download(const char *url, const char *target, char *why, size_t why_size)
{
    const curl_api *curl = load_curl();
    if (!curl)
        return fail(why, why_size, DT_ERR_UNSUPPORTED, "libcurl is not installed; cannot download",
                    url);
    char temporary[4096];
    if (snprintf(temporary, sizeof temporary, "%s.partial-XXXXXX", target) >= (int)sizeof temporary)
        return fail(why, why_size, DT_ERR_ARGUMENT, "path too long", target);
    int fd = mkstemp(temporary);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        if (fd >= 0)
            close(fd);
        return fail(why, why_size, DT_ERR_IO, "cannot create a temporary file", strerror(errno));
    }
    long http_status;
    int result = transfer(curl, url, out, &http_status);
    bool written = fclose(out) == 0;
    if (result == 0 && written && rename(temporary, target) == 0)
        return DT_OK;
    unlink(temporary);
    char detail[512];
    if (result == 0)
        snprintf(detail, sizeof detail, "%s: cannot store the download", url);
    else if (http_status)
        snprintf(detail, sizeof detail, "%s: HTTP %ld", url, http_status);
    else
        snprintf(detail, sizeof detail, "%s: %s", url,
                 result > 0 ? curl->easy_strerror(result) : "transfer failed");
    return fail(why, why_size, DT_ERR_IO, "download failed", detail);
}
