/*
 * sweep.c - database-scoped checks (see sweep.h).
 *
 * Owns: the database list while it is read, and a sweep's CSV output and
 * current job.  One job at a time per check, in database name order, so the
 * rows reach the file in that order without being held anywhere.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pghealthd/csvout.h"
#include "pghealthd/job.h"
#include "pghealthd/log.h"
#include "pghealthd/sweep.h"

/* How many failing databases an error names before "and N more". */
#define NAMED_FAILURES 3

/* ---- the list of databases ---------------------------------------------- */

struct dblist_read {
	struct pgh_dblist *list;
	const struct pgh_config *cfg;
	size_t cap;
	void (*done)(struct pgh_dblist *l, void *arg);
	void *arg;
};

void pgh_dblist_unref(struct pgh_dblist *l)
{
	if (l == NULL || --l->refs > 0)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->current);
	free(l->error);
	free(l);
}

static bool dblist_row_cb(struct pgh_job *job, void *ctx, const PGresult *res, int row)
{
	struct dblist_read *rd = ctx;
	struct pgh_dblist *l = rd->list;
	const char *name = PQgetvalue(res, row, 0);

	(void)job;
	if (PQgetvalue(res, row, 1)[0] == 't') {
		free(l->current);
		l->current = pgh_xstrdup(name);
	}
	if (!pgh_config_database_wanted(rd->cfg, name))
		return true;
	if (l->n == rd->cap) {
		rd->cap = rd->cap > 0 ? 2 * rd->cap : 16;
		l->names = pgh_xrealloc(l->names, rd->cap * sizeof(*l->names));
	}
	l->names[l->n++] = pgh_xstrdup(name);
	return true;
}

static void dblist_finish_cb(struct pgh_job *job, void *ctx)
{
	(void)ctx;
	pgh_job_complete(job);
}

static const struct pgh_job_output dblist_output = {
    .row = dblist_row_cb,
    .finish = dblist_finish_cb,
};

static void dblist_job_done_cb(struct pgh_job *job)
{
	struct dblist_read *rd = job->data;
	struct pgh_dblist *l = rd->list;

	if (job->result.error != NULL) {
		l->error = pgh_xasprintf("could not list the databases: %s", job->result.error);
		for (size_t i = 0; i < l->n; i++)
			free(l->names[i]);
		l->n = 0;
	}
	if (l->n > 0)
		qsort(l->names, l->n, sizeof(*l->names), pgh_str_cmp_cb);
	pgh_debug("databases: %zu to check", l->n);
	pgh_job_free(job);
	rd->done(l, rd->arg);
	free(rd);
}

void pgh_dblist_read(uv_loop_t *loop, struct pgh_pool *pool, const struct pgh_config *cfg,
                     void (*done)(struct pgh_dblist *l, void *arg), void *arg)
{
	static const struct pgh_query q = {
	    .name = "(databases)",
	    .sql = "SELECT datname, datname = current_database() FROM pg_catalog.pg_database "
	           "WHERE datallowconn AND NOT datistemplate",
	    /* Redshift: local databases, not datashare ones; pg_database also
	     * lists its internal padb_harvest. */
	    .sql_redshift = "SELECT database_name, database_name = current_database() "
	                    "FROM svv_redshift_databases WHERE database_type = 'local'",
	    .timeout_ms = 10000,
	};
	struct dblist_read *rd = pgh_xcalloc(1, sizeof(*rd));
	struct pgh_job *job;

	rd->list = pgh_xcalloc(1, sizeof(*rd->list));
	rd->list->refs = 1;
	rd->cfg = cfg;
	rd->done = done;
	rd->arg = arg;
	job = pgh_job_new(loop, pool, cfg, &q, &dblist_output, rd, dblist_job_done_cb, rd);
	pgh_job_start(job);
}

/* ---- a sweep ------------------------------------------------------------ */

struct pgh_sweep {
	uv_loop_t *loop;
	struct pgh_pool *pool;
	const struct pgh_config *cfg;
	const struct pgh_check *check;
	struct pgh_dblist *dbs;
	size_t next;         /* the next database to run in */
	struct pgh_job *job; /* the current one's */
	struct pgh_csv_out out;
	struct pgh_result result;
	uint64_t t0;       /* uv_hrtime() at start */
	unsigned failed;   /* databases that failed */
	unsigned timeouts; /* of them, timeouts */
	bool truncated;    /* max_rows cut a database's rows */
	bool stopping;
	char *errors; /* "db: error; db2: error" */
	pgh_sweep_done_cb done;
	void *arg;
};

static void sweep_next(struct pgh_sweep *sw);

/* One more failing database for the error; the first ones are named. */
static void sweep_note_failure(struct pgh_sweep *sw, const char *db, const struct pgh_result *r)
{
	char *more;

	sw->failed++;
	sw->timeouts += r->state == PGH_CHECK_TIMEOUT;
	if (sw->failed > NAMED_FAILURES)
		return;
	more = pgh_xasprintf("%s%s%s: %s", sw->errors != NULL ? sw->errors : "",
	                     sw->errors != NULL ? "; " : "", db, r->error);
	free(sw->errors);
	sw->errors = more;
}

static void sweep_job_done_cb(struct pgh_job *job)
{
	struct pgh_sweep *sw = job->data;
	const char *db = sw->dbs->names[sw->next - 1];

	sw->result.rows += job->result.rows;
	if (job->result.error != NULL)
		sweep_note_failure(sw, db, &job->result);
	else if (job->result.state == PGH_CHECK_TRUNCATED)
		sw->truncated = true;
	pgh_job_free(job);
	sw->job = NULL;
	sweep_next(sw);
}

static void sweep_settled_cb(struct pgh_csv_out *o, const char *error, char *file)
{
	struct pgh_sweep *sw = PGH_CONTAINER_OF(o, struct pgh_sweep, out);
	struct pgh_result *r = &sw->result;

	r->file = file;
	if (file != NULL)
		r->preview = pgh_csv_out_take_preview(o);
	if (error != NULL) {
		sw->failed++;
		free(sw->errors);
		sw->errors = pgh_xstrdup(error);
	}
	if (sw->stopping) {
		r->state = PGH_CHECK_ERROR;
		r->error = pgh_xstrdup("pghealthd is shutting down");
	} else if (sw->failed > 0) {
		r->state = sw->timeouts == sw->failed ? PGH_CHECK_TIMEOUT : PGH_CHECK_ERROR;
		r->error = sw->failed > NAMED_FAILURES
		               ? pgh_xasprintf("%s; and %u more databases", sw->errors,
		                               sw->failed - NAMED_FAILURES)
		               : pgh_xstrdup(sw->errors);
	} else {
		r->state = sw->truncated ? PGH_CHECK_TRUNCATED
		           : r->rows > 0 ? PGH_CHECK_FINDINGS
		                         : PGH_CHECK_OK;
	}
	if (r->error != NULL && r->file == NULL)
		r->rows = 0; /* nothing of this run was kept */
	r->duration_ms = (uv_hrtime() - sw->t0) / 1000000;
	if (r->error != NULL)
		pgh_warn("check %s: %s after %" PRIu64 " ms: %s", sw->check->name,
		         pgh_check_state_str(r->state), r->duration_ms, r->error);
	sw->done(sw, r, sw->arg);
}

/*
 * Every database done: findings found anywhere are written, even when some
 * databases failed; with none, a failure keeps the previous file (it is not
 * an answer) and a clean run removes it.
 */
static void sweep_settle(struct pgh_sweep *sw)
{
	bool publish = !sw->stopping && sw->result.rows > 0;
	bool clean = !sw->stopping && sw->failed == 0;

	pgh_csv_out_settle(&sw->out, publish, clean, sweep_settled_cb);
}

static void sweep_next(struct pgh_sweep *sw)
{
	const char *db;
	struct pgh_query q = pgh_query_for_check(sw->check);

	if (sw->stopping || sw->next == sw->dbs->n) {
		sweep_settle(sw);
		return;
	}
	db = sw->dbs->names[sw->next++];
	/* The conninfo's own database goes to the pool's own connections. */
	q.database = sw->dbs->current != NULL && strcmp(db, sw->dbs->current) == 0 ? NULL : db;
	sw->out.prefix = db;
	sw->job = pgh_job_new(sw->loop, sw->pool, sw->cfg, &q, &pgh_csv_output, &sw->out,
	                      sweep_job_done_cb, sw);
	pgh_job_start(sw->job);
}

struct pgh_sweep *pgh_sweep_start(uv_loop_t *loop, struct pgh_pool *pool,
                                  const struct pgh_config *cfg, const struct pgh_check *check,
                                  struct pgh_dblist *dbs, bool no_file, pgh_sweep_done_cb done,
                                  void *arg)
{
	struct pgh_sweep *sw = pgh_xcalloc(1, sizeof(*sw));

	sw->loop = loop;
	sw->pool = pool;
	sw->cfg = cfg;
	sw->check = check;
	sw->dbs = dbs;
	dbs->refs++;
	sw->done = done;
	sw->arg = arg;
	sw->t0 = uv_hrtime();
	sw->result.started_ms = pgh_now_ms();
	pgh_csv_out_init(&sw->out, loop, cfg, check, no_file);
	sw->out.sweep = true;
	sw->out.started_ms = sw->result.started_ms;
	sweep_next(sw);
	return sw;
}

bool pgh_sweep_queued(const struct pgh_sweep *sw)
{
	return sw->job != NULL && sw->job->phase == PGH_JOB_QUEUED;
}

void pgh_sweep_stop(struct pgh_sweep *sw)
{
	sw->stopping = true;
}

void pgh_sweep_free(struct pgh_sweep *sw)
{
	if (sw == NULL)
		return;
	if (sw->job != NULL)
		pgh_bug("check %s: sweep freed while running", sw->check->name);
	pgh_csv_out_clear(&sw->out);
	pgh_result_clear(&sw->result);
	pgh_dblist_unref(sw->dbs);
	free(sw->errors);
	free(sw);
}
