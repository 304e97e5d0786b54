/* Collecting dumps from files and folders. */
#include "cli/inputs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_DEPTH = 32, MAX_INPUTS = 1000000, PATH_BYTES = 4096 };

static bool push(input_list *list, const char *path)
{
    if (list->count == MAX_INPUTS) {
        fprintf(stderr, "dumptriage: more than %d inputs; the rest are ignored\n", MAX_INPUTS);
        return true;
    }
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 64;
        char **paths = realloc(list->paths, capacity * sizeof *paths);
        if (!paths)
            return false;
        list->paths = paths;
        list->capacity = capacity;
    }
    return (list->paths[list->count++] = strdup(path)) != NULL;
}

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

static bool has_mdmp_signature(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    char magic[4];
    bool match = fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "MDMP", 4) == 0;
    if (fd >= 0)
        close(fd);
    return match;
}

static bool looks_like_dump(const char *path, const char *name)
{
    return has_suffix(name, ".dmp") || has_suffix(name, ".mdmp") || has_suffix(name, ".hdmp") ||
           has_suffix(name, ".dmp.gz") || has_mdmp_signature(path);
}

static bool walk_folder(input_list *list, const char *folder, int depth)
{
    DIR *dir = opendir(folder);
    if (!dir) {
        fprintf(stderr, "dumptriage: cannot read folder %s: %s\n", folder, strerror(errno));
        return true;
    }
    bool ok = true;
    const struct dirent *entry;
    while (ok && (entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        char path[PATH_BYTES];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", folder, entry->d_name) >= (int)sizeof path ||
            lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH)
            ok = walk_folder(list, path, depth + 1);
        else if (S_ISREG(st.st_mode) && looks_like_dump(path, entry->d_name))
            ok = push(list, path);
    }
    closedir(dir);
    return ok;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_unique(input_list *list)
{
    if (list->count == 0)
        return;
    qsort(list->paths, list->count, sizeof *list->paths, compare_paths);
    size_t kept = 1;
    for (size_t i = 1; i < list->count; i++) {
        if (strcmp(list->paths[i], list->paths[kept - 1]) == 0)
            free(list->paths[i]);
        else
            list->paths[kept++] = list->paths[i];
    }
    list->count = kept;
}

bool collect_inputs(char **arguments, int count, input_list *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < count; i++) {
        struct stat st;
        const char *arg = arguments[i];
        if (strcmp(arg, "-") != 0 && stat(arg, &st) != 0) {
            fprintf(stderr, "dumptriage: %s: %s\n", arg, strerror(errno));
            input_list_free(out);
            return false;
        }
        bool folder = strcmp(arg, "-") != 0 && S_ISDIR(st.st_mode);
        out->any_folder |= folder;
        if (!(folder ? walk_folder(out, arg, 0) : push(out, arg))) {
            fprintf(stderr, "dumptriage: out of memory while collecting inputs\n");
            input_list_free(out);
            return false;
        }
    }
    sort_unique(out);
    return true;
}

void input_list_free(input_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->paths[i]);
    free(list->paths);
    memset(list, 0, sizeof *list);
}
