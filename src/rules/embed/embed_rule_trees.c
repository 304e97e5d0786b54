/*
 * Build-time tool: parses the built-in rule files with the library's own
 * yaml_tree_parse and writes their node trees as static C data, so the
 * program compiles the built-in rules without running libyaml at every start.
 *   embed_rule_trees OUTPUT.c FILE.yaml...   (files in dt_builtin_rule_file_table order)
 */
#include <stdio.h>
#include <stdlib.h>

#include "rules/yaml_tree.h"

typedef struct node_list {
    const ynode **nodes;
    size_t count;
    size_t capacity;
} node_list;

static void die(const char *what, const char *name)
{
    fprintf(stderr, "embed_rule_trees: %s: %s\n", name, what);
    exit(1);
}

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open", path);
    char *text = NULL;
    size_t capacity = 0;
    *size = 0;
    for (;;) {
        if (*size + 4096 + 1 > capacity) {
            capacity = (*size + 4096 + 1) * 2;
            text = realloc(text, capacity);
            if (!text)
                die("out of memory", path);
        }
        size_t n = fread(text + *size, 1, 4096, f);
        *size += n;
        if (n < 4096)
            break;
    }
    fclose(f);
    text[*size] = '\0';
    return text;
}

/* Every node, parents before children, so a node's index is its place here. */
static void collect(node_list *list, const ynode *node)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 256;
        list->nodes = realloc(list->nodes, list->capacity * sizeof *list->nodes);
        if (!list->nodes)
            die("out of memory", "node list");
    }
    list->nodes[list->count++] = node;
    for (const ynode *child = node->first; child; child = child->next)
        collect(list, child);
}

static size_t index_of(const node_list *list, const ynode *node)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->nodes[i] == node)
            return i;
    die("node outside the tree", "index_of");
    return 0;
}

static void write_pointer(FILE *out, size_t file, const node_list *list, const ynode *node)
{
    if (node)
        fprintf(out, "&tree_%zu[%zu]", file, index_of(list, node));
    else
        fputs("NULL", out);
}

/* A C string literal; every byte that is not plain printable ASCII as an octal escape. */
static void write_literal(FILE *out, const char *text, size_t length)
{
    if (!text) {
        fputs("NULL", out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?')
            fputc(c, out);
        else
            fprintf(out, "\\%03o", c);
    }
    fputc('"', out);
}

static void write_tree(FILE *out, size_t file, const ynode *root)
{
    node_list list = {0};
    collect(&list, root);
    fprintf(out, "static ynode tree_%zu[] = {\n", file);
    for (size_t i = 0; i < list.count; i++) {
        const ynode *n = list.nodes[i];
        fprintf(out, "    {%d, {%u, %u}, %zu, %zu, ", (int)n->kind, (unsigned)n->pos.line,
                (unsigned)n->pos.column, n->start, n->end);
        write_literal(out, n->text, n->length);
        fprintf(out, ", %zu, %d, %zu, ", n->length, (int)n->plain, n->count);
        write_pointer(out, file, &list, n->first);
        fputs(", ", out);
        write_pointer(out, file, &list, n->last);
        fputs(", ", out);
        write_pointer(out, file, &list, n->next);
        fputs("},\n", out);
    }
    fputs("};\n", out);
    free(list.nodes);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        die("usage: embed_rule_trees OUTPUT.c FILE.yaml...", "arguments");
    FILE *out = fopen(argv[1], "w");
    if (!out)
        die("cannot write", argv[1]);
    fputs("/* Generated from the rules folder by src/rules/embed/embed_rule_trees.c: do not edit. */\n"
          "#include \"rules/builtin.h\"\n\n", out);
    for (int i = 2; i < argc; i++) {
        size_t size;
        char *text = read_file(argv[i], &size);
        dt_arena arena = {0};
        dt_status status;
        char error[300];
        rule_pos pos;
        const ynode *root = yaml_tree_parse(&arena, text, size, &status, error, sizeof error, &pos);
        if (!root)
            die(error, argv[i]);
        write_tree(out, (size_t)(i - 2), root);
        dt_arena_release(&arena);
        free(text);
    }
    fputs("\nconst ynode *const dt_builtin_rule_trees[] = {\n", out);
    for (int i = 2; i < argc; i++)
        fprintf(out, "    &tree_%d[0],\n", i - 2);
    fprintf(out, "};\nconst size_t dt_builtin_rule_tree_count = %d;\n", argc - 2);
    return fclose(out) == 0 ? 0 : 1;
}
