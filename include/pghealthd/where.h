/*
 * where.h - a check's row filter (the `where` key): which rows of a result
 * are findings, for a server that cannot filter them itself (pgbouncer's
 * admin console answers SHOW commands only).
 *
 * The language is small on purpose: comparisons joined by `and` and `or`
 * (`and` binds tighter), no parentheses.
 *
 *   where    := and-list ( "or" and-list )*
 *   and-list := compare ( "and" compare )*
 *   compare  := operand ( "=" | "<>" | "!=" | "<" | "<=" | ">" | ">=" ) operand
 *   operand  := column | number | number "*" column | 'string'
 *
 * A column is a result column's name ([A-Za-z_][A-Za-z0-9_]*).  Two values
 * that both read as numbers compare as numbers, others as text; a NULL
 * makes the comparison false.  Keywords are case-insensitive.
 */
#ifndef PGHEALTHD_WHERE_H
#define PGHEALTHD_WHERE_H

#include <stdbool.h>
#include <libpq-fe.h>

struct pgh_where;

/* Parse text: the filter, or NULL with *err (malloc'd) saying where it is wrong. */
struct pgh_where *pgh_where_parse(const char *text, char **err);

void pgh_where_free(struct pgh_where *w);

/* The column names it needs, resolved against res's columns into cols
 * (pgh_where_ncols(w) entries); false with *err naming a missing column. */
unsigned pgh_where_ncols(const struct pgh_where *w);
bool pgh_where_bind(const struct pgh_where *w, const PGresult *res, int *cols, char **err);

/* Row `row` of res passes the filter (cols from pgh_where_bind). */
bool pgh_where_match(const struct pgh_where *w, const int *cols, const PGresult *res, int row);

#endif
