/* SARIF 2.1.0: one run; each finding is a result with ruleId, level and
 * message, located at the dump file; rule metadata comes from the rule
 * files. An unreadable dump is a result of the pseudo-rule "input-error". */
#include "report/batch_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dumptriage/version.h"

static const char INPUT_ERROR_RULE[] = "input-error";

/* SARIF levels: error, warning, note. */
static const char *sarif_level(dt_severity severity)
{
    return severity == DT_SEVERITY_ERROR ? "error"
           : severity == DT_SEVERITY_WARNING ? "warning" : "note";
}

static void text_object(dt_json *j, const char *key, const char *text)
{
    dt_json_key(j, key);
    dt_json_object_begin(j);
    dt_json_kv_string(j, "text", text ? text : "");
    dt_json_object_end(j);
}

static void rule_descriptor(dt_json *j, const dt_rule_info *r)
{
    dt_json_object_begin(j);
    dt_json_kv_string(j, "id", r->id);
    text_object(j, "shortDescription", r->title);
    text_object(j, "fullDescription", r->explanation);
    text_object(j, "help", r->advice);
    if (r->reference_count)
        dt_json_kv_string(j, "helpUri", r->references[0]);
    dt_json_key(j, "defaultConfiguration");
    dt_json_object_begin(j);
    dt_json_kv_string(j, "level", sarif_level(r->severity));
    dt_json_object_end(j);
    dt_json_object_end(j);
}

static void input_error_descriptor(dt_json *j)
{
    dt_json_object_begin(j);
    dt_json_kv_string(j, "id", INPUT_ERROR_RULE);
    text_object(j, "shortDescription", "The dump could not be analyzed");
    dt_json_object_end(j);
}

/* The driver object and the opening of the results array; closed by the
 * footer. Written with the JSON writer, then left open by hand. */
char *dt_sarif_header(const dt_rule_set *rules)
{
    dt_strbuf out = {0};
    dt_json j;
    dt_json_init(&j, &out);
    dt_json_object_begin(&j);
    dt_json_kv_string(&j, "name", "dumptriage");
    dt_json_kv_string(&j, "version", dt_version());
    dt_json_kv_string(&j, "informationUri", "https://dumptriage.invalid/docs/rules.md");
    dt_json_key(&j, "rules");
    dt_json_array_begin(&j);
    size_t n = rules ? dt_rule_set_count(rules) : 0;
    for (size_t i = 0; i < n; i++) {
        dt_rule_info info;
        if (dt_rule_set_info(rules, i, &info))
            rule_descriptor(&j, &info);
    }
    input_error_descriptor(&j);
    dt_json_array_end(&j);
    dt_json_object_end(&j);
    char *driver = dt_strbuf_take(&out);
    if (!driver)
        return NULL;
    dt_strbuf doc = {0};
    dt_strbuf_printf(&doc, "{\n\"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
                     "\"version\": \"2.1.0\",\n\"runs\": [{\n\"tool\": {\"driver\": %s},\n"
                     "\"results\": [\n", driver);
    free(driver);
    return dt_strbuf_take(&doc);
}

char *dt_sarif_footer(void)
{
    return strdup("\n]\n}]\n}\n");
}

/* A relative URI reference for a path: unreserved characters and '/' kept,
 * everything else percent-encoded. */
static void path_uri(dt_strbuf *out, const char *path)
{
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("-._~/", *p))
            dt_strbuf_append(out, (const char *)p, 1);
        else
            dt_strbuf_printf(out, "%%%02X", *p);
    }
}

static void result(dt_json *j, const char *rule_id, const char *level, const char *message,
                   const char *path)
{
    dt_strbuf uri = {0};
    path_uri(&uri, path);
    dt_json_object_begin(j);
    dt_json_kv_string(j, "ruleId", rule_id);
    dt_json_kv_string(j, "level", level);
    text_object(j, "message", message);
    dt_json_key(j, "locations");
    dt_json_array_begin(j);
    dt_json_object_begin(j);
    dt_json_key(j, "physicalLocation");
    dt_json_object_begin(j);
    dt_json_key(j, "artifactLocation");
    dt_json_object_begin(j);
    dt_json_kv_string(j, "uri", uri.data ? uri.data : "");
    dt_json_object_end(j);
    dt_json_object_end(j);
    dt_json_object_end(j);
    dt_json_array_end(j);
    dt_json_object_end(j);
    dt_strbuf_free(&uri);
}

char *dt_sarif_entry(const char *path, const dt_triage *t, const dt_error *err)
{
    dt_strbuf out = {0};
    dt_json j;
    dt_json_init_for(&j, &out, DT_FORMAT_NDJSON);
    if (!t) {
        result(&j, INPUT_ERROR_RULE, "error", err->message, path);
    } else {
        size_t n;
        const dt_finding *findings = dt_triage_findings(t, &n);
        for (size_t i = 0; i < n; i++) {
            if (i)
                dt_strbuf_puts(&out, ",");
            result(&j, findings[i].rule_id, sarif_level(findings[i].severity),
                   findings[i].summary, path);
        }
    }
    /* Each compact object ends with a newline; drop the last one. */
    if (out.length && out.data[out.length - 1] == '\n')
        out.data[--out.length] = '\0';
    if (!out.data)
        dt_strbuf_append(&out, "", 0);
    return dt_strbuf_take(&out);
}
