/* Collecting the dumps to analyze from files and folders given on the
 * command line. */
#ifndef DT_CLI_INPUTS_H
#define DT_CLI_INPUTS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct input_list {
    char **paths;            /* sorted by byte order, no duplicates */
    size_t count;
    size_t capacity;
    bool any_folder;         /* a folder was given: output is a list */
} input_list;

/* Adds each argument: a file as given (whatever its name), a folder
 * searched recursively for *.dmp, *.mdmp, *.hdmp and *.dmp.gz (any case)
 * and for any other regular file starting with the MDMP signature. Symbolic
 * links to folders are not followed. Prints a message and returns false
 * when an argument does not exist or memory runs out. */
bool collect_inputs(char **arguments, int count, input_list *out);
void input_list_free(input_list *list);

#endif
