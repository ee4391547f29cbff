/*
 * exec.h - `pghealthd exec`: one query, typed JSON on stdout.
 */
#ifndef PGHEALTHD_EXEC_H
#define PGHEALTHD_EXEC_H

#include <stdbool.h>

#define PGH_EXEC_OK          0 /* finished */
#define PGH_EXEC_FAILED      1 /* query, connection or timeout error */
#define PGH_EXEC_BAD_REQUEST 2 /* no SQL, bad JSON, bad option */

/*
 * argv[0] is "exec"; options and the SQL follow.  config_path is the
 * configuration to use; when explicit_path is false and it does not exist,
 * libpq's defaults (PG* environment variables) are used instead.  Returns
 * the exit code.  stdout carries only the JSON; logs go to stderr.
 */
int pgh_exec_main(const char *config_path, bool explicit_path, int argc, char **argv);

struct json_object;

/*
 * Parse a --event request {"sql_query": "...", "return_results": true}.
 * Returns the SQL (caller frees) and updates *return_results when present;
 * NULL for a bad request, with *why saying what is wrong (static text).
 */
char *pgh_exec_parse_event(const char *text, bool *return_results, const char **why);

/*
 * The JSON value for one non-NULL value (PostgreSQL text output) of a column
 * whose type OID is type.  Caller owns the result (json_object_put).
 */
struct json_object *pgh_exec_value(unsigned int type, const char *text);

#endif
