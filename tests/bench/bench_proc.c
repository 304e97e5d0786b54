/* dt-bench: running child processes and measuring them. */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double timeval_ms(struct timeval tv)
{
    return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

static void child(char *const argv[], const char *out)
{
    int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
        _exit(127);
    execv(argv[0], argv);
    _exit(127);
}

bool bench_spawn(char *const argv[], const char *out, bench_sample *sample)
{
    double start = bench_now_ms();
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0)
        child(argv, out);
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return false;
    sample->wall_ms = bench_now_ms() - start;
    sample->cpu_ms = timeval_ms(ru.ru_utime) + timeval_ms(ru.ru_stime);
    sample->rss_mb = (double)ru.ru_maxrss / 1024.0;
    sample->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return sample->status != 127;
}

/* Starts argv without waiting; -1 when it could not be started. */
static pid_t start_child(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0)
        child(argv, NULL);
    return pid;
}

static bool reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return false;
    return WIFEXITED(status) && WEXITSTATUS(status) != 127;
}

bool bench_spawn_pair(char *const first[], char *const second[], double *wall_ms)
{
    double start = bench_now_ms();
    pid_t a = start_child(first);
    pid_t b = a < 0 ? -1 : start_child(second);
    bool ok = a >= 0 && b >= 0;
    ok = (a < 0 || reap(a)) && ok;
    ok = (b < 0 || reap(b)) && ok;
    *wall_ms = bench_now_ms() - start;
    return ok;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *values, size_t count)
{
    if (count == 0)
        return 0;
    qsort(values, count, sizeof *values, compare_doubles);
    return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

bool bench_measure(char *const argv[], int runs, bench_result *result)
{
    bench_sample s;
    if (!bench_spawn(argv, NULL, &s))
        return false;
    double *wall = calloc((size_t)runs, sizeof *wall), *cpu = calloc((size_t)runs, sizeof *cpu);
    bool ok = wall && cpu;
    result->rss_mb = 0;
    for (int i = 0; ok && i < runs; i++) {
        ok = bench_spawn(argv, NULL, &s);
        wall[i] = s.wall_ms;
        cpu[i] = s.cpu_ms;
        result->rss_mb = s.rss_mb > result->rss_mb ? s.rss_mb : result->rss_mb;
        result->status = s.status;
    }
    result->wall_ms = bench_median(wall, (size_t)runs);
    result->cpu_ms = bench_median(cpu, (size_t)runs);
    free(wall);
    free(cpu);
    return ok;
}

uint64_t bench_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

uint64_t bench_file_allocated(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

char *bench_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fputs("dt-bench: out of memory\n", stderr);
        exit(2);
    }
    return s;
}

bool bench_make_dir(const char *path)
{
    char *copy = bench_format("%s", path);
    bool ok = true;
    for (char *s = copy + 1; ok && *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        ok = mkdir(copy, 0777) == 0 || errno == EEXIST;
        *s = '/';
    }
    ok = ok && (mkdir(copy, 0777) == 0 || errno == EEXIST);
    if (!ok)
        fprintf(stderr, "dt-bench: cannot create %s: %s\n", copy, strerror(errno));
    free(copy);
    return ok;
}

/* Files are unlinked, directories (never followed through links) emptied. */
void bench_remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir)
        return;
    for (struct dirent *e; (e = readdir(dir));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *child_path = bench_format("%s/%s", path, e->d_name);
        if (e->d_type == DT_DIR)
            bench_remove_tree(child_path);
        else
            unlink(child_path);
        free(child_path);
    }
    closedir(dir);
    rmdir(path);
}

void bench_target(const char *text, bool met)
{
    printf("  target %s: %s\n", text, met ? "met" : "MISSED");
}
