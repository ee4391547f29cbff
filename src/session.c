/*
 * session.c - the statements around a check (see session.h).
 *
 * Owns the strings of the pipelines it builds, until pgh_pipeline_clear().
 */
#include <stdlib.h>
#include <string.h>

#include "pghealthd/session.h"

/* Redshift reports 8.0.2; PostgreSQL 12+ reports 120000 and up. */
#define IS_POSTGRESQL(v) ((v) >= 90000)

/* 'text' as an SQL literal: quotes doubled (standard_conforming_strings). */
static char *literal(const char *text)
{
	size_t n = 2;
	char *out, *o;

	for (const char *p = text; *p; p++)
		n += *p == '\'' ? 2 : 1;
	o = out = pgh_xmalloc(n + 1);
	*o++ = '\'';
	for (const char *p = text; *p; p++) {
		if (*p == '\'')
			*o++ = '\'';
		*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/*
 * The session's own TimeZone, set once when the connection is made: a
 * check's change to it is rolled back with the check, and pgbouncer
 * restores a client's TimeZone on every server connection it lends it.
 */
static char *timezone_sql(const struct pgh_config *cfg)
{
	char *tz =
	    literal(cfg->timezone != NULL && cfg->timezone[0] != '\0' ? cfg->timezone : "UTC");
	char *sql = pgh_xasprintf("SELECT set_config('timezone', %s, false)", tz);

	free(tz);
	return sql;
}

/*
 * One SELECT of set_config(..., true) calls: the transaction's own settings.
 * Built again only when the timeout differs from the last pipeline's.
 */
static const char *settings_sql(struct pgh_session *s, int server_version, uint64_t timeout_ms)
{
	if (s->settings != NULL && s->timeout_ms == timeout_ms)
		return s->settings;
	free(s->settings);
	s->timeout_ms = timeout_ms;
	s->settings =
	    pgh_xasprintf("SELECT set_config('statement_timeout', '%llu', true)%s",
	                  (unsigned long long)timeout_ms,
	                  /* PostgreSQL 14+ notices a closed client socket
	                   * while a query runs: a query that swallows the
	                   * cancel still ends soon after a dropped
	                   * connection.  Older servers and Redshift lack it. */
	                  /* (every second) */
	                  server_version >= 140000
	                      ? ", set_config('client_connection_check_interval', '1000', true)"
	                      : "");
	return s->settings;
}

void pgh_session_clear(struct pgh_session *s)
{
	free(s->settings);
	memset(s, 0, sizeof(*s));
}

static void push(struct pgh_pipeline *pl, char *sql)
{
	pl->sql = pgh_xrealloc(pl->sql, (pl->n + 1) * sizeof(*pl->sql));
	pl->sql[pl->n++] = sql;
}

static void session_end(struct pgh_pipeline *pl, int server_version, bool cleanup, bool commit);

void pgh_session_build(struct pgh_pipeline *pl, struct pgh_session *s, const struct pgh_config *cfg,
                       int server_version, const char *sql, uint64_t timeout_ms, bool commit,
                       const struct pgh_carry *carry)
{
	/* A check on PostgreSQL is undone by its savepoint and its transaction
	 * committed: nothing it did stays, and it counts as no rollback in
	 * pg_stat_database, whose commit ratio other monitors watch.  Redshift
	 * has no savepoints: a rollback it is. */
	bool savepoint = !commit && IS_POSTGRESQL(server_version);
	unsigned main;

	memset(pl, 0, sizeof(*pl));
	pl->savepoint = savepoint;
	push(pl, pgh_xstrdup("BEGIN"));
	push(pl, pgh_xstrdup(settings_sql(s, server_version, timeout_ms)));
	if (savepoint)
		push(pl, pgh_xstrdup(PGH_SAVEPOINT_SQL));
	for (size_t i = 0; i < cfg->session_sql.len; i++)
		push(pl, pgh_xstrdup(cfg->session_sql.items[i]));
	/* The transaction's own setting, undone with it as the others are. */
	if (sql != NULL && carry != NULL) {
		char *prev = literal(carry->previous != NULL ? carry->previous : "");

		push(pl, pgh_xasprintf("SELECT set_config('" PGH_PREVIOUS_SETTING "', %s, true)",
		                       prev));
		free(prev);
	}
	main = pl->n;
	if (sql != NULL)
		push(pl, pgh_xstrdup(sql));
	/* Read in the same transaction: the same statistics snapshot. */
	if (sql != NULL && carry != NULL) {
		pl->keep = pl->n;
		push(pl, pgh_xstrdup(carry->sql));
	}
	session_end(pl, server_version, sql != NULL, commit);
	/* The setup: TimeZone for the session, after the probe's end
	 * (everything before a Sync shares one transaction). */
	if (sql == NULL)
		push(pl, timezone_sql(cfg));
	/* The owner's statement follows the prelude; without one, none is. */
	pl->main = sql != NULL ? main : pl->n;
}

/*
 * The end of a transaction that pgh_session_build() began (pl->savepoint as
 * it set it): back to the savepoint, the cleanup of what outlives a rollback
 * when cleanup, then COMMIT, or ROLLBACK without a savepoint unless commit.
 */
static void session_end(struct pgh_pipeline *pl, int server_version, bool cleanup, bool commit)
{
	/* First: in an aborted transaction nothing else would run. */
	if (pl->savepoint)
		push(pl, pgh_xstrdup("ROLLBACK TO SAVEPOINT " PGH_SAVEPOINT));
	/* Session advisory locks and prepared statements outlive a
	 * rollback (and, in transaction pooling, the client). */
	if (cleanup && IS_POSTGRESQL(server_version)) {
		push(pl, pgh_xstrdup("SELECT pg_advisory_unlock_all()"));
		push(pl, pgh_xstrdup("DEALLOCATE ALL"));
	}
	push(pl, pgh_xstrdup(commit || pl->savepoint ? "COMMIT" : "ROLLBACK"));
}

void pgh_session_reset(struct pgh_pipeline *pl, int server_version, bool savepoint)
{
	if (!savepoint) {
		pgh_pipeline_single(pl, "ROLLBACK");
		return;
	}
	memset(pl, 0, sizeof(*pl));
	pl->savepoint = true;
	session_end(pl, server_version, true, false);
	pl->main = pl->n;
}

void pgh_pipeline_single(struct pgh_pipeline *pl, const char *sql)
{
	memset(pl, 0, sizeof(*pl));
	push(pl, pgh_xstrdup(sql));
	pl->main = pl->n;
}

void pgh_pipeline_clear(struct pgh_pipeline *pl)
{
	for (unsigned i = 0; i < pl->n; i++)
		free(pl->sql[i]);
	free(pl->sql);
	memset(pl, 0, sizeof(*pl));
}
