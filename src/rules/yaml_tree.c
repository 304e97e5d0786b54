/* libyaml events into a ynode tree (see yaml_tree.h). */
#include "rules/yaml_tree.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

typedef struct tree_builder {
    dt_arena *arena;
    ynode *root;
    ynode *open[YAML_MAX_DEPTH];
    size_t depth;
    size_t nodes;
    size_t documents;
    dt_status status;
    char *error;
    size_t error_size;
    rule_pos *pos;
} tree_builder;

static rule_pos mark_pos(yaml_mark_t mark)
{
    rule_pos pos = {(uint32_t)mark.line + 1, (uint32_t)mark.column + 1};
    return pos;
}

static bool fail(tree_builder *b, dt_status status, yaml_mark_t mark, const char *message)
{
    b->status = status;
    *b->pos = mark_pos(mark);
    snprintf(b->error, b->error_size, "%s", message);
    return false;
}

static void append_child(ynode *parent, ynode *child)
{
    if (parent->last)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
    parent->count++;
}

static bool check_anchor_and_tag(tree_builder *b, const yaml_event_t *event,
                                 const yaml_char_t *anchor, const yaml_char_t *tag)
{
    if (anchor)
        return fail(b, DT_ERR_FORMAT, event->start_mark, "anchors (&name) are not allowed");
    if (tag)
        return fail(b, DT_ERR_FORMAT, event->start_mark, "tags (!tag) are not allowed");
    return true;
}

/* Creates a node and attaches it to the open container (or as the root). */
static ynode *add_node(tree_builder *b, const yaml_event_t *event, ynode_kind kind)
{
    if (++b->nodes > YAML_MAX_NODES) {
        fail(b, DT_ERR_LIMIT, event->start_mark, "too many YAML nodes (at most 1000000)");
        return NULL;
    }
    ynode *node = dt_arena_alloc(b->arena, sizeof *node);
    if (!node) {
        fail(b, DT_ERR_NOMEM, event->start_mark, "out of memory");
        return NULL;
    }
    node->kind = kind;
    node->pos = mark_pos(event->start_mark);
    node->start = event->start_mark.index;
    node->end = event->end_mark.index;
    if (b->depth == 0)
        b->root = node;
    else
        append_child(b->open[b->depth - 1], node);
    return node;
}

static bool on_scalar(tree_builder *b, const yaml_event_t *event)
{
    const yaml_char_t *anchor = event->data.scalar.anchor, *tag = event->data.scalar.tag;
    if (!check_anchor_and_tag(b, event, anchor, tag))
        return false;
    size_t length = event->data.scalar.length;
    if (length > DT_RULES_MAX_STRING)
        return fail(b, DT_ERR_LIMIT, event->start_mark, "string longer than 4096 bytes");
    ynode *node = add_node(b, event, YNODE_SCALAR);
    if (!node)
        return false;
    node->text = dt_arena_strndup(b->arena, (const char *)event->data.scalar.value, length);
    if (!node->text)
        return fail(b, DT_ERR_NOMEM, event->start_mark, "out of memory");
    node->length = length;
    node->plain = event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return true;
}

static bool on_container_start(tree_builder *b, const yaml_event_t *event, ynode_kind kind)
{
    const yaml_char_t *anchor, *tag;
    if (kind == YNODE_MAP) {
        anchor = event->data.mapping_start.anchor;
        tag = event->data.mapping_start.tag;
    } else {
        anchor = event->data.sequence_start.anchor;
        tag = event->data.sequence_start.tag;
    }
    if (!check_anchor_and_tag(b, event, anchor, tag))
        return false;
    if (b->depth == YAML_MAX_DEPTH)
        return fail(b, DT_ERR_LIMIT, event->start_mark, "YAML nested more than 64 levels deep");
    ynode *node = add_node(b, event, kind);
    if (!node)
        return false;
    b->open[b->depth++] = node;
    return true;
}

static bool on_container_end(tree_builder *b, const yaml_event_t *event)
{
    ynode *node = b->open[--b->depth];
    node->end = event->end_mark.index;
    return true;
}

static bool on_event(tree_builder *b, const yaml_event_t *event)
{
    switch (event->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1)
            return fail(b, DT_ERR_FORMAT, event->start_mark,
                        "a rule file holds one YAML document");
        return true;
    case YAML_ALIAS_EVENT:
        return fail(b, DT_ERR_FORMAT, event->start_mark, "aliases (*name) are not allowed");
    case YAML_SCALAR_EVENT:
        return on_scalar(b, event);
    case YAML_SEQUENCE_START_EVENT:
        return on_container_start(b, event, YNODE_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_container_start(b, event, YNODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_container_end(b, event);
    default:
        return true;
    }
}

static void syntax_error(tree_builder *b, const yaml_parser_t *parser)
{
    if (parser->error == YAML_MEMORY_ERROR) {
        yaml_mark_t none = {0, 0, 0};
        fail(b, DT_ERR_NOMEM, none, "out of memory");
        return;
    }
    char message[256];
    if (parser->context)
        snprintf(message, sizeof message, "YAML syntax: %s %s", parser->problem,
                 parser->context);
    else
        snprintf(message, sizeof message, "YAML syntax: %s",
                 parser->problem ? parser->problem : "invalid");
    fail(b, DT_ERR_FORMAT, parser->problem_mark, message);
}

static bool run_parser(tree_builder *b, yaml_parser_t *parser)
{
    for (;;) {
        yaml_event_t event;
        if (!yaml_parser_parse(parser, &event)) {
            syntax_error(b, parser);
            return false;
        }
        bool ok = on_event(b, &event);
        bool end = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
        if (!ok || end)
            return ok;
    }
}

const ynode *yaml_tree_parse(dt_arena *arena, const char *text, size_t size, dt_status *status,
                             char *error, size_t error_size, rule_pos *pos)
{
    tree_builder b = {.arena = arena, .status = DT_OK, .error = error,
                      .error_size = error_size, .pos = pos};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        *status = DT_ERR_NOMEM;
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
    bool ok = run_parser(&b, &parser);
    yaml_parser_delete(&parser);
    *status = ok ? DT_OK : b.status;
    return ok ? b.root : NULL;
}
