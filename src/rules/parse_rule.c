/* Parsing a rule file: the top-level mapping, each rule, its text. */
#include "rules/parse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

enum { MAX_ID = 64, MAX_SUMMARIES = 8, MAX_REFERENCES = 32, MAX_GLOBS = 64 };

static bool valid_id(const char *id)
{
    size_t length = strlen(id);
    if (length > MAX_ID || id[0] == '-' || id[length - 1] == '-' || strstr(id, "--"))
        return false;
    for (const char *c = id; *c; c++)
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '-')
            return false;
    return true;
}

static bool parse_id(parser *p, const ynode *node, rule *out)
{
    if (!parse_string(p, node, "id", &out->id))
        return false;
    if (!valid_id(out->id))
        return parse_error(p, node, "id '%s' must be kebab-case: lower-case letters and "
                           "digits joined by single '-' (at most %d characters)", out->id,
                           MAX_ID);
    return true;
}

static bool parse_severity(parser *p, const ynode *node, dt_severity *out)
{
    const char *text;
    if (!parse_string(p, node, "severity", &text))
        return false;
    for (int s = DT_SEVERITY_INFO; s <= DT_SEVERITY_ERROR; s++)
        if (strcmp(text, dt_severity_name((dt_severity)s)) == 0) {
            *out = (dt_severity)s;
            return true;
        }
    return parse_error(p, node, "severity must be info, warning or error, not '%s'", text);
}

static bool parse_cpus(parser *p, const ynode *node, unsigned *mask)
{
    static const dt_cpu cpus[] = {DT_CPU_X86, DT_CPU_AMD64, DT_CPU_ARM64, DT_CPU_ARM};
    size_t count;
    const char **names;
    if (!parse_string_list(p, node, "cpu", 4, &count, &names))
        return false;
    for (size_t i = 0; i < count; i++) {
        size_t k = 0;
        while (k < 4 && strcmp(names[i], dt_cpu_name(cpus[k])) != 0)
            k++;
        if (k == 4)
            return parse_error(p, node, "unknown cpu '%s' (x86, amd64, arm64 or arm)", names[i]);
        *mask |= 1u << cpus[k];
    }
    return true;
}

static bool parse_globs(parser *p, const ynode *node, const char *what, glob_list *out)
{
    return parse_string_list(p, node, what, MAX_GLOBS, &out->count, &out->globs);
}

static bool parse_applies_to(parser *p, const ynode *map, rule *out)
{
    static const char *const keys[] = {"process", "os", "cpu", NULL};
    if (!parse_check_keys(p, map, "applies_to", keys, NULL))
        return false;
    const ynode *process = parse_map_get(map, "process"), *os = parse_map_get(map, "os");
    const ynode *cpu = parse_map_get(map, "cpu");
    return (!process || parse_globs(p, process, "process", &out->processes)) &&
           (!os || parse_globs(p, os, "os", &out->oses)) &&
           (!cpu || parse_cpus(p, cpu, &out->cpu_mask));
}

static bool parse_analyzer(parser *p, const ynode *node, rule *out)
{
    const char *name;
    if (!parse_string(p, node, "analyzer", &name))
        return false;
    out->analyzer = analyzer_find(name);
    if (!out->analyzer) {
        size_t count;
        const analyzer_def *all = analyzer_defs(&count);
        char known[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < count && used < sizeof known; i++)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                     all[i].name);
        return parse_error(p, node, "unknown analyzer '%s' (known: %s)", name, known);
    }
    p->analyzer = out->analyzer;
    return true;
}

/* ---- Templates ------------------------------------------------------------ */

static bool known_placeholder(void *context, const char *name, size_t length)
{
    const parser *p = context;
    if (template_builtin_name(name, length))
        return true;
    for (size_t i = 0; p->analyzer && i < p->analyzer->var_count; i++)
        if (strlen(p->analyzer->vars[i].name) == length &&
            memcmp(p->analyzer->vars[i].name, name, length) == 0)
            return true;
    const char *dot = memchr(name, '.', length);
    size_t label_length = dot ? (size_t)(dot - name) : length;
    for (size_t i = 0; i < p->label_count; i++)
        if (strlen(p->labels[i]) == label_length &&
            memcmp(p->labels[i], name, label_length) == 0)
            return !dot || template_label_field(dot + 1, length - label_length - 1);
    return false;
}

static bool check_template(parser *p, const ynode *node, const char *text)
{
    size_t bad = template_scan(text, known_placeholder, p);
    if (bad == (size_t)-1)
        return true;
    if (text[bad] == '}')
        return parse_error(p, node, "unmatched '}' at offset %zu of the template (write '}}')",
                           bad);
    const char *close = strchr(text + bad + 1, '}');
    const char *open = strchr(text + bad + 1, '{');
    if (!close || (open && open < close))
        return parse_error(p, node, "unclosed '{' at offset %zu of the template (write '{{')",
                           bad);
    const char *colon = memchr(text + bad + 1, ':', (size_t)(close - text - bad - 1));
    if (colon && known_placeholder(p, text + bad + 1, (size_t)(colon - text - bad - 1)))
        return parse_error(p, node, "a word choice is {name:singular|plural}, not {%.*s}",
                           (int)(close - text - bad - 1), text + bad + 1);
    return parse_error(p, node, "unknown placeholder {%.*s}", (int)(close - text - bad - 1),
                       text + bad + 1);
}

static bool parse_summary(parser *p, const ynode *node, rule *out)
{
    if (!parse_string_list(p, node, "summary", MAX_SUMMARIES, &out->summary_count,
                           &out->summaries))
        return false;
    const ynode *item = node->kind == YNODE_SEQ ? node->first : node;
    for (size_t i = 0; i < out->summary_count; i++, item = item->next)
        if (!check_template(p, item, out->summaries[i]))
            return false;
    return true;
}

static bool parse_text(parser *p, const ynode *map, rule *out)
{
    const ynode *explanation = parse_map_get(map, "explanation");
    const ynode *advice = parse_map_get(map, "advice");
    const ynode *references = parse_map_get(map, "references");
    if (explanation && !parse_string(p, explanation, "explanation", &out->explanation))
        return false;
    if (advice && !parse_string(p, advice, "advice", &out->advice))
        return false;
    if (references && !parse_string_list(p, references, "references", MAX_REFERENCES,
                                         &out->reference_count, &out->references))
        return false;
    return parse_summary(p, parse_map_get(map, "summary"), out);
}

/* ---- Rules -------------------------------------------------------------- */

/* The rule's lines as written, from the start of its first line. */
static const char *rule_source(parser *p, const ynode *node)
{
    size_t start = node->start < p->size ? node->start : p->size;
    size_t end = node->end < p->size ? node->end : p->size;
    while (start > 0 && p->text[start - 1] != '\n')
        start--;
    while (end > start && (p->text[end - 1] == '\n' || p->text[end - 1] == ' '))
        end--;
    return dt_arena_strndup(p->arena, p->text + start, end - start);
}

static bool parse_rule(parser *p, const ynode *map, rule *out)
{
    static const char *const keys[] = {"id", "title", "severity", "applies_to", "analyzer",
                                       "match", "summary", "explanation", "advice",
                                       "references", NULL};
    static const char *const required[] = {"id", "title", "severity", "match", "summary", NULL};
    p->analyzer = NULL;
    p->label_count = 0;
    out->file = p->file;
    out->pos = map->pos;
    if (!parse_check_keys(p, map, "a rule", keys, required))
        return false;
    const ynode *applies = parse_map_get(map, "applies_to");
    const ynode *analyzer = parse_map_get(map, "analyzer");
    out->source = rule_source(p, map);
    if (!out->source)
        return parse_out_of_memory(p, map);
    return parse_id(p, parse_map_get(map, "id"), out) &&
           parse_string(p, parse_map_get(map, "title"), "title", &out->title) &&
           parse_severity(p, parse_map_get(map, "severity"), &out->severity) &&
           (!applies || parse_applies_to(p, applies, out)) &&
           (!analyzer || parse_analyzer(p, analyzer, out)) &&
           parse_condition(p, parse_map_get(map, "match"), 1, &out->match) &&
           parse_text(p, map, out);
}

static bool parse_version(parser *p, const ynode *node)
{
    uint64_t version;
    if (!parse_u64(p, node, "version", &version))
        return false;
    return version == 1 || parse_error(p, node, "unsupported version %llu (this is version 1)",
                                       (unsigned long long)version);
}

static dt_status parse_rule_list(parser *p, const ynode *list, parsed_rules *out)
{
    if (!parse_expect(p, list, YNODE_SEQ, "rules"))
        return DT_ERR_FORMAT;
    if (list->count > DT_RULES_MAX_RULES) {
        parse_error(p, list, "more than %d rules", DT_RULES_MAX_RULES);
        return DT_ERR_LIMIT;
    }
    out->rules = parse_alloc(p, list, list->count, sizeof *out->rules);
    if (!out->rules)
        return DT_ERR_NOMEM;
    for (const ynode *item = list->first; item && p->status == DT_OK; item = item->next) {
        if (p->error_count >= DT_RULES_MAX_ERRORS)
            break;
        rule *r = &out->rules[out->count];
        if (parse_expect(p, item, YNODE_MAP, "a rule") && parse_rule(p, item, r))
            out->count++;
    }
    return p->status != DT_OK ? p->status : p->error_count ? DT_ERR_FORMAT : DT_OK;
}

static dt_status parse_document(parser *p, const ynode *root, parsed_rules *out)
{
    static const char *const keys[] = {"version", "rules", NULL};
    static const char *const required[] = {"rules", NULL};
    if (!root) {
        parse_error(p, NULL, "empty rule file (expected a mapping with 'rules')");
        return DT_ERR_FORMAT;
    }
    if (!parse_check_keys(p, root, "the rule file", keys, required))
        return DT_ERR_FORMAT;
    const ynode *version = parse_map_get(root, "version");
    if (version && !parse_version(p, version))
        return DT_ERR_FORMAT;
    return parse_rule_list(p, parse_map_get(root, "rules"), out);
}

dt_status rules_parse(dt_arena *arena, const char *file, const char *text, size_t size,
                      const rule_errors *errors, parsed_rules *out)
{
    parser p = {.arena = arena, .file = file, .text = text, .size = size, .errors = errors};
    *out = (parsed_rules){0};
    if (size > DT_RULES_MAX_FILE) {
        parse_error(&p, NULL, "rule file larger than %d bytes", DT_RULES_MAX_FILE);
        return DT_ERR_LIMIT;
    }
    dt_status status;
    char message[300];
    rule_pos pos;
    const ynode *root = yaml_tree_parse(arena, text, size, &status, message, sizeof message,
                                        &pos);
    if (status != DT_OK) {
        errors->report(errors->context, file, pos, message);
        return status;
    }
    return parse_document(&p, root, out);
}

dt_status rules_parse_tree(dt_arena *arena, const char *file, const char *text, size_t size,
                           const ynode *root, const rule_errors *errors, parsed_rules *out)
{
    parser p = {.arena = arena, .file = file, .text = text, .size = size, .errors = errors};
    *out = (parsed_rules){0};
    return parse_document(&p, root, out);
}
