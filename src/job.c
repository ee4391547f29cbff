/*
 * job.c - one statement on a pooled connection (see job.h).
 *
 * Owns: its deadline timer and its result strings.  Borrows the connection
 * between granted and pgh_conn_release(), and hands libpq's single-row (or
 * chunked) results to its output as they come: nothing here holds a row.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pghealthd/job.h"
#include "pghealthd/log.h"
#include "pghealthd/session.h"
#include "pghealthd/settings.h"
#include "pghealthd/where.h"

/* The server's statement_timeout fires first; the client steps in after this. */
#define DEADLINE_SLACK_MS 500

#define SQLSTATE_QUERY_CANCELED "57014"

static const char *const phase_names[] = {
    [PGH_JOB_QUEUED] = "queued",
    [PGH_JOB_RUNNING] = "running",
    [PGH_JOB_PUBLISHING] = "publishing",
    [PGH_JOB_DONE] = "done",
};

const char *pgh_job_phase_str(enum pgh_job_phase phase)
{
	return pgh_enum_name(phase_names, PGH_ARRAY_LEN(phase_names), (unsigned)phase);
}

/* The one writer of job->phase. */
static void job_set_phase(struct pgh_job *job, enum pgh_job_phase phase)
{
	pgh_debug("check %s: %s -> %s", job->query.name, pgh_job_phase_str(job->phase),
	          pgh_job_phase_str(phase));
	job->phase = phase;
}

struct pgh_query pgh_query_for_check(const struct pgh_check *c)
{
	return (struct pgh_query){
	    .name = c->name,
	    .sql = c->sql,
	    .timeout_ms = c->timeout_ms,
	    .max_rows = c->max_rows,
	    .check = c,
	    .state_sql = c->state_sql,
	    .commit = c->commit,
	    .where = c->where_expr,
	};
}

static void job_granted_cb(struct pgh_request *req, struct pgh_conn *c);
static void job_failed_cb(struct pgh_request *req, const char *errmsg);

struct pgh_job *pgh_job_new(uv_loop_t *loop, struct pgh_pool *pool, const struct pgh_config *cfg,
                            const struct pgh_query *query, const struct pgh_job_output *out,
                            void *out_ctx, pgh_job_done_cb done, void *data)
{
	struct pgh_job *job = pgh_xcalloc(1, sizeof(*job));

	job->loop = loop;
	job->pool = pool;
	job->cfg = cfg;
	job->query = *query;
	job->out = out;
	job->out_ctx = out_ctx;
	job->done = done;
	job->data = data;
	job->req.granted = job_granted_cb;
	job->req.failed = job_failed_cb;
	job->req.database = job->query.database;
	job->phase = PGH_JOB_QUEUED;
	uv_timer_init(loop, &job->deadline);
	job->deadline.data = job;
	job->deadline_open = true;
	return job;
}

void pgh_job_free(struct pgh_job *job)
{
	if (job == NULL)
		return;
	if (job->deadline_open || job->conn != NULL)
		pgh_bug("check %s: job freed while in use", job->query.name);
	pgh_result_clear(&job->result);
	free(job->where_cols);
	free(job);
}

void pgh_job_fail(struct pgh_job *job, enum pgh_check_state st, const char *msg)
{
	size_t n;

	if (job->result.error != NULL)
		return;
	n = strcspn(msg, "\n");
	job->result.state = st;
	job->result.error = pgh_xstrndup(msg, n);
}

bool pgh_job_failed(const struct pgh_job *job)
{
	return job->result.error != NULL;
}

static void job_queue_deadline_cb(uv_timer_t *t);

/* How long a job may wait for a connection: its timeout and one
 * connect_timeout per host the connection may have to try. */
static uint64_t job_queue_budget_ms(const struct pgh_job *job)
{
	return job->query.timeout_ms + job->cfg->connect_timeout_ms * pgh_pool_attempts(job->pool);
}

/*
 * A job that waits for a connection waits at most its own timeout plus
 * connect_timeout (per host): a pool that cannot serve it (a pooler with no
 * server to give, a cluster at its connection limit, a host behind a silent
 * network) ends it as a timeout, so a round, and `once`, always end by
 * themselves.
 */
void pgh_job_start(struct pgh_job *job)
{
	job->result.started_ms = pgh_now_ms();
	job->t0 = uv_hrtime();
	if (job->query.timeout_ms > 0)
		uv_timer_start(&job->deadline, job_queue_deadline_cb, job_queue_budget_ms(job), 0);
	pgh_pool_submit(job->pool, &job->req);
}

/* ---- finishing ---------------------------------------------------------- */

static void job_deadline_closed_cb(uv_handle_t *h)
{
	struct pgh_job *job = h->data;

	job->deadline_open = false;
	job_set_phase(job, PGH_JOB_DONE);
	job->done(job); /* last: the callee may free the job */
}

void pgh_job_complete(struct pgh_job *job)
{
	struct pgh_result *r = &job->result;

	r->duration_ms = (uv_hrtime() - job->t0) / 1000000;
	if (r->error != NULL)
		pgh_warn("check %s: %s after %" PRIu64 " ms: %s", job->query.name,
		         pgh_check_state_str(r->state), r->duration_ms, r->error);
	else
		pgh_debug("check %s: %s, %" PRIu64 " rows in %" PRIu64 " ms", job->query.name,
		          pgh_check_state_str(r->state), r->rows, r->duration_ms);
	uv_close((uv_handle_t *)&job->deadline, job_deadline_closed_cb);
}

/* The query is over: decide the state, then let the output settle. */
static void job_publish(struct pgh_job *job)
{
	struct pgh_result *r = &job->result;

	job_set_phase(job, PGH_JOB_PUBLISHING);
	uv_timer_stop(&job->deadline);
	if (pgh_job_failed(job))
		r->rows = 0; /* what was read is discarded with the run */
	else if (r->state != PGH_CHECK_TRUNCATED)
		r->state = r->rows > 0 ? PGH_CHECK_FINDINGS : PGH_CHECK_OK;
	job->out->finish(job, job->out_ctx);
}

static void job_failed_cb(struct pgh_request *req, const char *errmsg)
{
	struct pgh_job *job = PGH_CONTAINER_OF(req, struct pgh_job, req);

	pgh_job_fail(job, PGH_CHECK_ERROR, errmsg);
	job_publish(job);
}

/* ---- rows --------------------------------------------------------------- */

static void job_row(struct pgh_job *job, const PGresult *res, int row)
{
	uint64_t max = job->query.max_rows;

	if (pgh_job_failed(job))
		return;
	if (job->query.where != NULL &&
	    !pgh_where_match(job->query.where, job->where_cols, res, row))
		return;
	if (max > 0 && job->result.rows >= max) {
		if (!job->cancelled) {
			pgh_info("check %s: max_rows %" PRIu64 " reached, cancelling",
			         job->query.name, max);
			job->cancelled = true;
			job->result.state = PGH_CHECK_TRUNCATED;
			pgh_conn_cancel(job->conn);
		}
		return;
	}
	job->result.rows++;
	if (job->out->row != NULL && !job->out->row(job, job->out_ctx, res, row))
		job->paused = true;
}

static void job_error_result(struct pgh_job *job, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorMessage(res);
	bool canceled = state != NULL && strcmp(state, SQLSTATE_QUERY_CANCELED) == 0;

	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char *text, *hint;

	if (canceled && job->result.state == PGH_CHECK_TRUNCATED)
		return; /* our own cancel after max_rows */
	/* "relation "x" does not exist (SQLSTATE 42P01)": no "ERROR:  " prefix.
	 * A data exception may come from a pghealthd.* threshold: name it. */
	hint = state != NULL && strncmp(state, "22", 2) == 0 && primary != NULL &&
	               job->query.check != NULL
	           ? pgh_settings_blame(job->cfg, job->query.check, primary)
	           : NULL;
	text = primary != NULL && state != NULL
	           ? pgh_xasprintf("%s (SQLSTATE %s)%s", primary, state, hint != NULL ? hint : "")
	           : pgh_xstrdup(msg);
	free(hint);
	if (canceled && (job->cancelled || strstr(msg, "statement timeout") != NULL))
		pgh_job_fail(job, PGH_CHECK_TIMEOUT, text);
	else
		pgh_job_fail(job, PGH_CHECK_ERROR, text);
	free(text);
}

/* The filter's columns in the result; a column it lacks fails the job. */
static void job_where_bind(struct pgh_job *job, const PGresult *res)
{
	char *err = NULL;

	job->where_cols = pgh_xcalloc(pgh_where_ncols(job->query.where) + 1, sizeof(int));
	if (!pgh_where_bind(job->query.where, res, job->where_cols, &err)) {
		pgh_job_fail(job, PGH_CHECK_ERROR, err);
		free(err);
	}
}

static bool job_result_cb(struct pgh_conn *c, PGresult *res, void *arg)
{
	struct pgh_job *job = arg;
	ExecStatusType st = PQresultStatus(res);

	(void)c;
	if (!job->described && (PGH_ROWS_PARTIAL(st) || st == PGRES_TUPLES_OK)) {
		job->described = true;
		if (job->query.where != NULL)
			job_where_bind(job, res);
		if (job->out->describe != NULL)
			job->out->describe(job, job->out_ctx, res);
	}
	if (PGH_ROWS_PARTIAL(st)) {
		/* A chunk is written whole even when the output asks to pause:
		 * its rows are already in memory. */
		for (int i = 0, n = PQntuples(res); i < n; i++)
			job_row(job, res, i);
		PQclear(res);
		return !job->paused;
	}
	switch (st) {
	case PGRES_TUPLES_OK:
		break;
	case PGRES_COMMAND_OK:
		if (job->out->command != NULL)
			job->out->command(job, job->out_ctx, res);
		else
			pgh_job_fail(job, PGH_CHECK_ERROR,
			             "the check's SQL returns no rows: it must be a query");
		break;
	case PGRES_EMPTY_QUERY:
		pgh_job_fail(job, PGH_CHECK_ERROR, "the SQL is empty");
		break;
	case PGRES_FATAL_ERROR:
		job_error_result(job, res);
		break;
	case PGRES_COPY_OUT:
	case PGRES_COPY_IN:
	case PGRES_COPY_BOTH:
		/* The pool drops the connection to end it (see pool.c). */
		pgh_job_fail(job, PGH_CHECK_ERROR,
		             "COPY TO STDOUT / FROM STDIN is not supported: write a query, "
		             "pghealthd formats the rows itself");
		break;
	default:
		pgh_job_fail(job, PGH_CHECK_ERROR, PQresStatus(st));
		break;
	}
	PQclear(res);
	return !job->paused;
}

static void job_query_done_cb(struct pgh_conn *c, const char *errmsg, void *arg)
{
	struct pgh_job *job = arg;

	if (errmsg != NULL)
		pgh_job_fail(job,
		             job->cancelled && job->result.state != PGH_CHECK_TRUNCATED
		                 ? PGH_CHECK_TIMEOUT
		                 : PGH_CHECK_ERROR,
		             errmsg);
	if (errmsg == NULL && !pgh_job_failed(job))
		job->result.kept = pgh_conn_take_kept(c);
	job->conn = NULL;
	pgh_conn_release(c);
	job_publish(job);
}

static const struct pgh_query_ops job_ops = {
    .result = job_result_cb,
    .done = job_query_done_cb,
};

void pgh_job_resume(struct pgh_job *job)
{
	job->paused = false;
	if (job->conn != NULL)
		pgh_conn_resume(job->conn);
}

/* ---- timeouts ----------------------------------------------------------- */

/*
 * The query still runs PGH_CANCEL_TIMEOUT_MS after its cancel: the
 * connection is dropped, and the result says why, naming the server when
 * it went silent (a partition, a dead host), not a statement timeout.
 */
static void job_grace_cb(uv_timer_t *t)
{
	struct pgh_job *job = t->data;
	char silence[400];
	char *why;

	if (job->conn == NULL)
		return;
	if (pgh_conn_silence(job->conn, silence, sizeof(silence)))
		why = pgh_xasprintf("timeout of %" PRIu64 " ms reached; %s", job->query.timeout_ms,
		                    silence);
	else
		why = pgh_xasprintf("timeout of %" PRIu64 " ms reached; the server did not end the "
		                    "statement within %d ms of the cancel request",
		                    job->query.timeout_ms, PGH_CANCEL_TIMEOUT_MS);
	pgh_warn("check %s: %s; dropping the connection", job->query.name, why);
	free(job->result.error);
	job->result.error = NULL;
	pgh_job_fail(job, PGH_CHECK_TIMEOUT, why);
	pgh_conn_drop(job->conn, why);
	free(why);
}

static void job_deadline_cb(uv_timer_t *t)
{
	struct pgh_job *job = t->data;
	char msg[96];

	if (job->conn == NULL)
		return;
	snprintf(msg, sizeof(msg), "canceling statement: timeout of %" PRIu64 " ms reached",
	         job->query.timeout_ms);
	pgh_warn("check %s: %s", job->query.name, msg);
	pgh_job_fail(job, PGH_CHECK_TIMEOUT, msg);
	job->cancelled = true;
	pgh_conn_cancel(job->conn);
	uv_timer_start(&job->deadline, job_grace_cb, PGH_CANCEL_TIMEOUT_MS, 0);
}

static void job_queue_deadline_cb(uv_timer_t *t)
{
	struct pgh_job *job = t->data;
	const char *last = pgh_pool_last_error(job->pool);
	char *msg;

	if (job->phase != PGH_JOB_QUEUED || !pgh_pool_withdraw(job->pool, &job->req))
		return;
	msg = pgh_xasprintf("no connection could be had within %" PRIu64
	                    " ms (timeout + connect_timeout)%s%s",
	                    job_queue_budget_ms(job), last != NULL ? "; last attempt: " : "",
	                    last != NULL ? last : "");
	pgh_job_fail(job, PGH_CHECK_TIMEOUT, msg);
	free(msg);
	job_publish(job);
}

static void job_granted_cb(struct pgh_request *req, struct pgh_conn *c)
{
	struct pgh_job *job = PGH_CONTAINER_OF(req, struct pgh_job, req);
	struct pgh_carry carry = {.previous = job->query.previous, .sql = job->query.state_sql};

	job->conn = c;
	job_set_phase(job, PGH_JOB_RUNNING);
	if (job->query.timeout_ms > 0)
		uv_timer_start(&job->deadline, job_deadline_cb,
		               job->query.timeout_ms + DEADLINE_SLACK_MS, 0);
	pgh_conn_query(c,
	               job->query.sql_redshift != NULL && pgh_conn_is_redshift(c)
	                   ? job->query.sql_redshift
	                   : job->query.sql,
	               job->query.timeout_ms,
	               PGH_QUERY_SINGLE_ROW | (job->query.commit ? PGH_QUERY_COMMIT : 0),
	               carry.sql != NULL ? &carry : NULL, &job_ops, job);
}
