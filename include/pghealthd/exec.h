/*
 * exec.h - `pghealthd exec`: one query, typed JSON on stdout.
 */
#ifndef PGHEALTHD_EXEC_H
#define PGHEALTHD_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#define PGH_EXEC_OK          0 /* finished */
#define PGH_EXEC_FAILED      1 /* query, connection or timeout error */
#define PGH_EXEC_BAD_REQUEST 2 /* no SQL, bad JSON, bad option */

/* The query-executor API's defaults: 1000 rows, 30 s. */
#define PGH_EXEC_DEFAULT_MAX_ROWS   1000
#define PGH_EXEC_DEFAULT_TIMEOUT_MS 30000

struct pgh_config;
struct pgh_pool;

/*
 * A connection kept warm between requests (`pghealthd lambda`): a loop and
 * a pool that live from open to close; each request runs the loop until
 * its answer is ready and leaves the pool's connection open.
 */
struct pgh_exec_conn {
	uv_loop_t loop;
	struct pgh_config *cfg; /* owned: freed by close */
	struct pgh_pool *pool;
};

void pgh_exec_conn_open(struct pgh_exec_conn *c, struct pgh_config *cfg);
void pgh_exec_conn_close(struct pgh_exec_conn *c);

/*
 * Answer one --event request (its JSON text) on c, exactly as `exec
 * --event` does, the answer written to out.  Returns PGH_EXEC_*.
 */
int pgh_exec_event(struct pgh_exec_conn *c, const char *text, uint64_t max_rows,
                   uint64_t timeout_ms, FILE *out);

/* An error answer in the --event shape: 400 for PGH_EXEC_BAD_REQUEST, else
 * 500, with msg, written to out. */
void pgh_exec_event_error(FILE *out, int code, const char *msg);

/*
 * Load the configuration as exec does: path, or libpq's defaults when
 * explicit_path is false and it does not exist.  On an error the answer
 * exit 78 gives (in the --event shape when event) is written to out, the
 * whole error to stderr; -1.
 */
int pgh_exec_config(const char *path, bool explicit_path, bool event, struct pgh_config **cfg,
                    FILE *out);

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
