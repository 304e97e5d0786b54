/*
 * Standalone replay driver: runs a fuzz target's LLVMFuzzerTestOneInput over
 * files and directories given on the command line, without libFuzzer, so
 * ctest replays regression inputs under gcc and the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { INPUT_CAP = 64 << 20 };

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 1;
    uint8_t *data = malloc(INPUT_CAP);
    size_t n = data ? fread(data, 1, INPUT_CAP, f) : 0;
    fclose(f);
    if (!data)
        return 1;
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    return 0;
}

static int replay(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0; /* an absent corpus directory is not an error */
    if (!S_ISDIR(st.st_mode)) {
        ++*count;
        return replay_file(path);
    }
    DIR *dir = opendir(path);
    struct dirent *entry;
    int failures = 0;
    while (dir && (entry = readdir(dir))) {
        if (entry->d_name[0] == '.')
            continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        failures += replay(child, count);
    }
    if (dir)
        closedir(dir);
    return failures;
}

int main(int argc, char **argv)
{
    int count = 0, failures = 0;
    for (int i = 1; i < argc; i++)
        failures += replay(argv[i], &count);
    printf("replayed %d inputs, %d unreadable\n", count, failures);
    return failures ? 1 : 0;
}
