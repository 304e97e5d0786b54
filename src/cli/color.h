/* ANSI colour for the text report on a terminal (--color). */
#ifndef DT_CLI_COLOR_H
#define DT_CLI_COLOR_H

/* A copy of the text report `text` with the verdict lines and the finding
 * headings colored by severity; NULL when out of memory. The library's
 * report stays plain: color is only how a terminal shows it. */
char *color_text_report(const char *text);

#endif
