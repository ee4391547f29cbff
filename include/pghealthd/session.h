/*
 * session.h - what every statement pghealthd runs is wrapped in, so that
 * each check sees exactly the configured session and leaves nothing behind.
 *
 * A check goes to the server as one pipeline (extended protocol, one
 * round trip, one Sync):
 *
 *   BEGIN
 *   SELECT set_config('statement_timeout', ..., true)
 *          [, set_config('client_connection_check_interval', '1000', true)]
 *   SAVEPOINT pghealthd                         (PostgreSQL, not exec)
 *   <each session_sql entry>
 *   <the check's statement>                     (the owner's results)
 *   ROLLBACK TO SAVEPOINT pghealthd             (PostgreSQL, not exec)
 *   SELECT pg_advisory_unlock_all()             (PostgreSQL only)
 *   DEALLOCATE ALL                              (PostgreSQL only)
 *   COMMIT                                      (ROLLBACK on Redshift)
 *
 * The rollback to the savepoint undoes whatever the check did (settings
 * and SET ROLE included, as a rollback does); the COMMIT of what is left,
 * nothing, keeps pghealthd out of pg_stat_database's xact_rollback, so
 * that it never moves another monitor's commit ratio.  A check that fails
 * leaves the transaction aborted: the same end (pgh_session_reset) closes it
 * before the connection is reused.
 *
 * Every setting is the transaction's own, so through pgbouncer's transaction
 * pooling it is in force on whichever server connection runs the check,
 * and reaches no other client; whatever the check changes (SET, set_config,
 * SET ROLE, search_path, temp tables, LISTEN, ...) is rolled back with it;
 * session advisory locks and prepared statements, which a rollback keeps,
 * are released.  A new connection runs the same prelude once (without a
 * statement) to prove the settings, then sets the session's TimeZone, which
 * every check's rollback restores and pgbouncer carries from one server
 * connection to the next (it tracks TimeZone for each client).
 */
#ifndef PGHEALTHD_SESSION_H
#define PGHEALTHD_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "pghealthd/config.h"

/* The statements of one pipeline, in order. */
struct pgh_pipeline {
	char **sql; /* owned */
	unsigned n;
	unsigned main;  /* index of the owner's statement; n when there is none */
	unsigned keep;  /* index of the carry's state query, or 0: none */
	bool savepoint; /* opened PGH_SAVEPOINT */
};

/*
 * A check's state from run to run (its state_sql): the value the last run
 * kept, which this run's statement reads as pghealthd.previous (a setting
 * of the transaction), and the query whose first value is kept next.
 */
struct pgh_carry {
	const char *previous; /* NULL: nothing kept yet */
	const char *sql;      /* the state query */
};

#define PGH_PREVIOUS_SETTING "pghealthd.previous"

#define PGH_SAVEPOINT     "pghealthd"
#define PGH_SAVEPOINT_SQL "SAVEPOINT " PGH_SAVEPOINT

/* What a connection keeps from one pipeline to the next. */
struct pgh_session {
	uint64_t timeout_ms;
	char *settings; /* the settings statement for timeout_ms, or NULL */
};

void pgh_session_clear(struct pgh_session *s);

/*
 * Build the pipeline for statement sql (NULL: the setup probe) with a
 * server-side timeout of timeout_ms (0: none) on a server of
 * server_version (PQserverVersion; Redshift reports 80002), ended by COMMIT
 * when commit, else ROLLBACK; with carry (or NULL), the carry's setting
 * before sql and its state query after it (pl->keep).  Clear it with
 * pgh_pipeline_clear().
 */
void pgh_session_build(struct pgh_pipeline *pl, struct pgh_session *s, const struct pgh_config *cfg,
                       int server_version, const char *sql, uint64_t timeout_ms, bool commit,
                       const struct pgh_carry *carry);

/*
 * The pipeline that ends a transaction a failed or cancelled pipeline left
 * open (aborted): back to its savepoint, the cleanup and COMMIT when it had
 * one (savepoint: that pipeline's pl->savepoint), else ROLLBACK.
 */
void pgh_session_reset(struct pgh_pipeline *pl, int server_version, bool savepoint);

/* A pipeline of one statement, which is not the owner's (e.g. ROLLBACK). */
void pgh_pipeline_single(struct pgh_pipeline *pl, const char *sql);

void pgh_pipeline_clear(struct pgh_pipeline *pl);

#endif
