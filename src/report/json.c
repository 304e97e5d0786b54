#include "report/json.h"

#include "dumptriage/report.h"

#include <string.h>

void dt_json_init(dt_json *j, dt_strbuf *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

void dt_json_init_for(dt_json *j, dt_strbuf *out, int format)
{
    dt_json_init(j, out);
    j->compact = format == DT_FORMAT_NDJSON;
}

static void newline_indent(dt_json *j)
{
    if (j->compact)
        return;
    static const char line_and_indent[] = "\n"
                                          "                                "
                                          "                                ";
    _Static_assert(sizeof line_and_indent > 2 * DT_JSON_MAX_DEPTH, "an indent per depth");
    dt_strbuf_append(j->out, line_and_indent, 1 + 2 * (size_t)j->depth);
}

/* Separator and indentation before a value or a key. */
static void before_item(dt_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        if (j->has_items[j->depth])
            dt_strbuf_append(j->out, ",", 1);
        j->has_items[j->depth] = true;
        newline_indent(j);
    }
}

static void open_container(dt_json *j, char c)
{
    before_item(j);
    dt_strbuf_append(j->out, &c, 1);
    if (j->depth + 1 < DT_JSON_MAX_DEPTH)
        j->depth++;
    j->has_items[j->depth] = false;
}

static void close_container(dt_json *j, char c)
{
    bool had_items = j->has_items[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (had_items)
        newline_indent(j);
    dt_strbuf_append(j->out, &c, 1);
    if (j->depth == 0)
        dt_strbuf_append(j->out, "\n", 1);
}

void dt_json_object_begin(dt_json *j) { open_container(j, '{'); }
void dt_json_object_end(dt_json *j) { close_container(j, '}'); }
void dt_json_array_begin(dt_json *j) { open_container(j, '['); }
void dt_json_array_end(dt_json *j) { close_container(j, ']'); }

size_t dt_utf8_sequence(const unsigned char *s)
{
    size_t n;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0) { n = 2; cp = s[0] & 0x1F; }
    else if ((s[0] & 0xF0) == 0xE0) { n = 3; cp = s[0] & 0x0F; }
    else if ((s[0] & 0xF8) == 0xF0) { n = 4; cp = s[0] & 0x07; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Printable ASCII other than '"' (0x22) and '\\' (0x5C). */
static const bool plain_ascii[256] = {[0x20 ... 0x21] = true, [0x23 ... 0x5B] = true,
                                      [0x5D ... 0x7E] = true};

/* Bytes from `p` that go out unchanged: plain ASCII and valid UTF-8
 * sequences. */
static size_t plain_run(const unsigned char *p)
{
    size_t n = 0;
    for (;;) {
        unsigned char c = p[n];
        if (plain_ascii[c]) {
            n++;
            continue;
        }
        size_t k = c >= 0x80 ? dt_utf8_sequence(p + n) : 0;
        if (k == 0)
            return n;
        n += k;
    }
}

/* Runs of plain bytes are appended at once: escaping is most of the JSON
 * report's cost. */
void dt_json_escape(dt_strbuf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t run = plain_run(p);
        if (run) {
            dt_strbuf_append(out, (const char *)p, run);
            p += run;
        } else if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            dt_strbuf_append(out, esc, 2);
            p++;
        } else if (*p < 0x20 || *p == 0x7F) {
            dt_strbuf_printf(out, "\\u%04x", *p);
            p++;
        } else { /* a byte that starts no valid UTF-8 sequence */
            dt_strbuf_puts(out, "\xEF\xBF\xBD");
            p++;
        }
    }
}

void dt_json_key(dt_json *j, const char *key)
{
    before_item(j);
    dt_strbuf_append(j->out, "\"", 1);
    dt_json_escape(j->out, key);
    dt_strbuf_append(j->out, "\": ", j->compact ? 2 : 3);
    j->after_key = true;
}

void dt_json_raw(dt_json *j, const char *literal)
{
    before_item(j);
    dt_strbuf_puts(j->out, literal);
}

void dt_json_string(dt_json *j, const char *s)
{
    if (!s) {
        dt_json_null(j);
        return;
    }
    before_item(j);
    dt_strbuf_append(j->out, "\"", 1);
    dt_json_escape(j->out, s);
    dt_strbuf_append(j->out, "\"", 1);
}

/* Writes the digits of `value` (base 10 or 16, lower case) before `end`; returns the first. */
static char *digits_before(char *end, uint64_t value, unsigned base)
{
    do {
        *--end = "0123456789abcdef"[value % base];
        value /= base;
    } while (value);
    return end;
}

void dt_json_uint(dt_json *j, uint64_t value)
{
    char buf[24] = "";
    dt_json_raw(j, digits_before(buf + sizeof buf - 1, value, 10));
}

void dt_json_int(dt_json *j, int64_t value)
{
    char buf[24] = "";
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    char *text = digits_before(buf + sizeof buf - 1, magnitude, 10);
    if (value < 0)
        *--text = '-';
    dt_json_raw(j, text);
}

void dt_json_bool(dt_json *j, bool value) { dt_json_raw(j, value ? "true" : "false"); }
void dt_json_null(dt_json *j) { dt_json_raw(j, "null"); }

void dt_json_hex(dt_json *j, uint64_t value)
{
    char buf[24] = "";
    char *end = buf + sizeof buf - 2;
    *end = '"';
    char *text = digits_before(end, value, 16);
    text -= 3;
    memcpy(text, "\"0x", 3);
    dt_json_raw(j, text);
}

void dt_json_kv_string(dt_json *j, const char *key, const char *s)
{
    dt_json_key(j, key);
    dt_json_string(j, s);
}

void dt_json_kv_uint(dt_json *j, const char *key, uint64_t value)
{
    dt_json_key(j, key);
    dt_json_uint(j, value);
}

void dt_json_kv_int(dt_json *j, const char *key, int64_t value)
{
    dt_json_key(j, key);
    dt_json_int(j, value);
}

void dt_json_kv_hex(dt_json *j, const char *key, uint64_t value)
{
    dt_json_key(j, key);
    dt_json_hex(j, value);
}

void dt_json_kv_bool(dt_json *j, const char *key, bool value)
{
    dt_json_key(j, key);
    dt_json_bool(j, value);
}
