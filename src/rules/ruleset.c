/* Rule sets: built-in and user rule files, errors, duplicate ids, lookup. */
#include "rules/rules_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rules/builtin.h"

enum { MAX_DIRECTORY_FILES = 4096 };

struct dt_rule_set {
    dt_arena arena;
    rule *rules;
    size_t count;
    size_t capacity;
    dt_rule_error errors[DT_RULES_MAX_ERRORS];
    size_t error_count;
};

const char *dt_severity_name(dt_severity severity)
{
    switch (severity) {
    case DT_SEVERITY_INFO: return "info";
    case DT_SEVERITY_WARNING: return "warning";
    default: return "error";
    }
}

dt_status dt_rule_set_new(dt_rule_set **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? DT_OK : DT_ERR_NOMEM;
}

void dt_rule_set_free(dt_rule_set *set)
{
    if (!set)
        return;
    dt_arena_release(&set->arena);
    free(set->rules);
    free(set);
}

static void add_error(dt_rule_set *set, const char *file, rule_pos pos, const char *message)
{
    if (set->error_count == DT_RULES_MAX_ERRORS)
        return;
    dt_rule_error *e = &set->errors[set->error_count];
    e->file = dt_arena_strndup(&set->arena, file, strlen(file));
    e->message = dt_arena_strndup(&set->arena, message, strlen(message));
    e->line = pos.line;
    e->column = pos.column;
    if (e->file && e->message)
        set->error_count++;
}

static void report_error(void *context, const char *file, rule_pos pos, const char *message)
{
    add_error(context, file, pos, message);
}

const dt_rule_error *dt_rule_set_errors(const dt_rule_set *set, size_t *count)
{
    *count = set->error_count;
    return set->errors;
}

static const rule *find_rule(const rule *rules, size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(rules[i].id, id) == 0)
            return &rules[i];
    return NULL;
}

/* Each new id must be new to the set and to its own file. */
static bool check_duplicates(dt_rule_set *set, const parsed_rules *parsed)
{
    bool unique = true;
    for (size_t i = 0; i < parsed->count; i++) {
        const rule *r = &parsed->rules[i];
        const rule *other = find_rule(set->rules, set->count, r->id);
        if (!other)
            other = find_rule(parsed->rules, i, r->id);
        if (!other)
            continue;
        char message[512];
        snprintf(message, sizeof message, "duplicate rule id '%s' (also defined at %s:%u:%u)",
                 r->id, other->file, other->pos.line, other->pos.column);
        add_error(set, r->file, r->pos, message);
        unique = false;
    }
    return unique;
}

static dt_status append_rules(dt_rule_set *set, const parsed_rules *parsed)
{
    if (parsed->count > DT_RULES_MAX_RULES - set->count) {
        add_error(set, parsed->rules[0].file, parsed->rules[0].pos,
                  "the rule set would hold more than 10000 rules");
        return DT_ERR_LIMIT;
    }
    if (set->count + parsed->count > set->capacity) {
        size_t capacity = set->capacity ? set->capacity : 64;
        while (capacity < set->count + parsed->count)
            capacity *= 2;
        rule *grown = realloc(set->rules, capacity * sizeof *grown);
        if (!grown)
            return DT_ERR_NOMEM;
        set->rules = grown;
        set->capacity = capacity;
    }
    memcpy(set->rules + set->count, parsed->rules, parsed->count * sizeof *parsed->rules);
    set->count += parsed->count;
    return DT_OK;
}

/* Adds the rules of `text`, from its YAML tree `root` when already parsed (else NULL). */
static dt_status add_rules(dt_rule_set *set, const char *label, const char *text, size_t size,
                           const ynode *root)
{
    const char *file = dt_arena_strndup(&set->arena, label, strlen(label));
    if (!file)
        return DT_ERR_NOMEM;
    rule_errors errors = {set, report_error};
    parsed_rules parsed;
    dt_status status =
        root ? rules_parse_tree(&set->arena, file, text, size, root, &errors, &parsed)
             : rules_parse(&set->arena, file, text, size, &errors, &parsed);
    if (status != DT_OK)
        return status;
    if (!check_duplicates(set, &parsed))
        return DT_ERR_FORMAT;
    return parsed.count ? append_rules(set, &parsed) : DT_OK;
}

dt_status dt_rule_set_add_text(dt_rule_set *set, const char *label, const char *text,
                               size_t size)
{
    return add_rules(set, label, text, size, NULL);
}

dt_status dt_rule_set_add_builtin(dt_rule_set *set)
{
    size_t count;
    const dt_builtin_rule_file *files = dt_builtin_rule_files(&count);
    bool parsed = count == dt_builtin_rule_tree_count;
    dt_status result = DT_OK;
    for (size_t i = 0; i < count; i++) {
        char label[256];
        snprintf(label, sizeof label, "builtin:%s", files[i].name);
        const ynode *root = parsed ? dt_builtin_rule_trees[i] : NULL;
        dt_status status = add_rules(set, label, files[i].text, files[i].size, root);
        if (status == DT_ERR_NOMEM)
            return status;
        if (result == DT_OK)
            result = status;
    }
    return result;
}

/* ---- Files and directories ------------------------------------------------ */

static dt_status io_error(dt_rule_set *set, const char *path, const char *what)
{
    char message[512];
    snprintf(message, sizeof message, "%s: %s", what, strerror(errno));
    add_error(set, path, (rule_pos){0, 0}, message);
    return DT_ERR_IO;
}

static dt_status add_file(dt_rule_set *set, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return io_error(set, path, "cannot open the rule file");
    char *text = malloc((size_t)DT_RULES_MAX_FILE + 1);
    size_t size = text ? fread(text, 1, (size_t)DT_RULES_MAX_FILE + 1, f) : 0;
    bool failed = ferror(f);
    fclose(f);
    if (!text)
        return DT_ERR_NOMEM;
    dt_status status = failed ? io_error(set, path, "cannot read the rule file")
                              : dt_rule_set_add_text(set, path, text, size);
    free(text);
    return status;
}

static bool is_rule_file_name(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.')
        return false;
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the directory's rule files, in the set's arena. */
static dt_status list_directory(dt_rule_set *set, const char *path, char **names,
                                size_t *count)
{
    DIR *dir = opendir(path);
    if (!dir)
        return io_error(set, path, "cannot open the rule directory");
    struct dirent *entry;
    *count = 0;
    while ((entry = readdir(dir)) && *count < MAX_DIRECTORY_FILES) {
        if (!is_rule_file_name(entry->d_name))
            continue;
        names[*count] = dt_arena_printf(&set->arena, "%s/%s", path, entry->d_name);
        if (!names[*count]) {
            closedir(dir);
            return DT_ERR_NOMEM;
        }
        ++*count;
    }
    closedir(dir);
    qsort(names, *count, sizeof *names, by_name);
    return DT_OK;
}

static dt_status add_directory(dt_rule_set *set, const char *path)
{
    char **names = malloc(MAX_DIRECTORY_FILES * sizeof *names);
    if (!names)
        return DT_ERR_NOMEM;
    size_t count = 0;
    dt_status result = list_directory(set, path, names, &count);
    for (size_t i = 0; i < count && result != DT_ERR_NOMEM; i++) {
        dt_status status = add_file(set, names[i]);
        if (result == DT_OK || status == DT_ERR_NOMEM)
            result = status;
    }
    free(names);
    return result;
}

dt_status dt_rule_set_add_path(dt_rule_set *set, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return io_error(set, path, "cannot read the rules");
    return S_ISDIR(st.st_mode) ? add_directory(set, path) : add_file(set, path);
}

/* ---- Lookup ----------------------------------------------------------------- */

size_t dt_rule_set_count(const dt_rule_set *set)
{
    return set->count;
}

const rule *rule_set_rule(const dt_rule_set *set, size_t index)
{
    return index < set->count ? &set->rules[index] : NULL;
}

bool dt_rule_set_info(const dt_rule_set *set, size_t index, dt_rule_info *out)
{
    const rule *r = rule_set_rule(set, index);
    if (!r)
        return false;
    *out = (dt_rule_info){
        .id = r->id, .title = r->title, .severity = r->severity, .file = r->file,
        .line = r->pos.line, .analyzer = r->analyzer ? r->analyzer->name : NULL,
        .summary = r->summaries[0], .explanation = r->explanation, .advice = r->advice,
        .reference_count = r->reference_count, .references = r->references,
        .source = r->source};
    return true;
}

bool dt_rule_set_find(const dt_rule_set *set, const char *id, size_t *index)
{
    const rule *r = find_rule(set->rules, set->count, id);
    if (r)
        *index = (size_t)(r - set->rules);
    return r != NULL;
}

const dt_builtin_rule_file *dt_builtin_rule_files(size_t *count)
{
    *count = dt_builtin_rule_file_count;
    return dt_builtin_rule_file_table;
}
