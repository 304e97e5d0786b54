/*
 * synth_json: the JSON descriptions dt-synth writes (expected.json), see
 * docs/synth.md for the format.
 */
#ifndef SYNTH_JSON_H
#define SYNTH_JSON_H

#include <stdio.h>

#include "synth_pe.h"

/* A JSON string literal (quotes, backslashes and control characters escaped). */
void synth_json_string(FILE *f, const char *s);
/* An image: {"name", "kind": "image", "machine", "base", "size", "debug_file",
 * "debug_id", "exports": [...], "functions": [...]} (after layout). */
void synth_json_image(FILE *f, const synth_pe *pe);

#endif
