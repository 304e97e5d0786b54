/*
 * HTTP(S) downloads for symbol servers. libcurl is loaded with dlopen on the
 * first download, so the common offline path links no network stack.
 */
#ifndef DT_BASE_DOWNLOAD_H
#define DT_BASE_DOWNLOAD_H

#include <stddef.h>

#include "dumptriage/error.h"

/* Downloads `url` into `target` through a temporary file in the same
 * directory, renamed into place on success. Connect timeout 10 s, total
 * 120 s, at most 1 GiB. On failure returns a negative status and writes a
 * one-line reason into `why`. */
dt_status dt_download(const char *url, const char *target, char *why, size_t why_size);

#endif
