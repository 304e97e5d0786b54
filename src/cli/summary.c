/* The --summary tables: per folder and per bucket. */
#include "cli/analyze.h"

#include <stdlib.h>
#include <string.h>

enum { TOP_RULES = 3 };

typedef struct tally {
    const char *key;         /* folder, rule id or bucket */
    size_t length;
    size_t count;
} tally;

/* Adds one to the tally for `key` (the first `length` bytes). */
static void count_key(tally **tallies, size_t *n, const char *key, size_t length)
{
    for (size_t i = 0; i < *n; i++)
        if ((*tallies)[i].length == length && strncmp((*tallies)[i].key, key, length) == 0) {
            (*tallies)[i].count++;
            return;
        }
    tally *grown = realloc(*tallies, (*n + 1) * sizeof *grown);
    if (!grown)
        return;
    *tallies = grown;
    grown[(*n)++] = (tally){key, length, 1};
}

static int by_count_then_key(const void *a, const void *b)
{
    const tally *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    size_t n = x->length < y->length ? x->length : y->length;
    int c = strncmp(x->key, y->key, n);
    return c ? c : (x->length > y->length) - (x->length < y->length);
}

static size_t folder_length(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) : 0;
}

static void folder_row(FILE *to, const input_list *inputs, const dump_result *results,
                       const char *folder, size_t length)
{
    size_t dumps = 0, errors = 0, severities[3] = {0}, rule_count = 0;
    tally *rules = NULL;
    for (size_t i = 0; i < inputs->count; i++) {
        if (folder_length(inputs->paths[i]) != length ||
            strncmp(inputs->paths[i], folder, length) != 0)
            continue;
        dumps++;
        errors += results[i].outcome.failed;
        for (int s = 0; s < 3; s++)
            severities[s] += results[i].outcome.findings[s];
        for (const char *p = results[i].rules_found; p && *p; p = strchr(p, '\n') + 1)
            count_key(&rules, &rule_count, p, (size_t)(strchr(p, '\n') - p));
    }
    if (rule_count) /* qsort's array must not be NULL, even when empty */
        qsort(rules, rule_count, sizeof *rules, by_count_then_key);
    fprintf(to, "%-40.*s %6zu %6zu %6zu %6zu %6zu  ", (int)(length ? length : 1),
            length ? folder : ".", dumps, errors, severities[2], severities[1], severities[0]);
    for (size_t i = 0; i < rule_count && i < TOP_RULES; i++)
        fprintf(to, "%s%.*s (%zu)", i ? ", " : "", (int)rules[i].length, rules[i].key,
                rules[i].count);
    fprintf(to, "\n");
    free(rules);
}

static void bucket_table(FILE *to, const input_list *inputs, const dump_result *results)
{
    tally *buckets = NULL;
    size_t n = 0;
    for (size_t i = 0; i < inputs->count; i++)
        if (results[i].bucket)
            count_key(&buckets, &n, results[i].bucket, strlen(results[i].bucket));
    if (n)
        qsort(buckets, n, sizeof *buckets, by_count_then_key);
    fprintf(to, "\n%6s  %s\n", "DUMPS", "BUCKET");
    for (size_t i = 0; i < n; i++)
        fprintf(to, "%6zu  %s\n", buckets[i].count, buckets[i].key);
    free(buckets);
}

void print_summary(FILE *to, const input_list *inputs, const dump_result *results)
{
    tally *folders = NULL;
    size_t n = 0;
    for (size_t i = 0; i < inputs->count; i++)
        count_key(&folders, &n, inputs->paths[i], folder_length(inputs->paths[i]));
    fprintf(to, "\n%-40s %6s %6s %6s %6s %6s  %s\n", "FOLDER", "DUMPS", "ERRORS", "ERROR",
            "WARN", "INFO", "TOP RULES");
    for (size_t i = 0; i < n; i++)
        folder_row(to, inputs, results, folders[i].key, folders[i].length);
    bucket_table(to, inputs, results);
    free(folders);
}
