/*
 * job.c - one run of one check (see job.h).
 *
 * Owns: its deadline timer, its sink (from the first row until published),
 * and its result strings.  Borrows the connection between granted and
 * pgh_conn_release().  Rows are encoded straight from libpq's single-row
 * results into the sink's buffer; nothing holds more than one row.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pghealthd/csv.h"
#include "pghealthd/job.h"
#include "pghealthd/log.h"
#include "pghealthd/settings.h"

/* The server's statement_timeout fires first; the client steps in after this. */
#define DEADLINE_SLACK_MS 500
/* After a cancel, how long the server gets before the connection is dropped. */
#define CANCEL_GRACE_MS 2000

#define SQLSTATE_QUERY_CANCELED "57014"

/* Values this long are measured exactly before they are reserved for. */
#define PGH_EXACT_SIZE_FROM (64 * 1024)

static const char *const state_names[] = {
    [PGH_STATE_OK] = "ok",           [PGH_STATE_FINDINGS] = "findings",
    [PGH_STATE_ERROR] = "error",     [PGH_STATE_TIMEOUT] = "timeout",
    [PGH_STATE_SKIPPED] = "skipped", [PGH_STATE_TRUNCATED] = "truncated",
};

const char *pgh_check_state_str(enum pgh_check_state st)
{
	if ((unsigned)st >= PGH_ARRAY_LEN(state_names))
		return "invalid";
	return state_names[st];
}

void pgh_result_clear(struct pgh_result *r)
{
	free(r->file);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

void pgh_result_move(struct pgh_result *dst, struct pgh_result *src)
{
	pgh_result_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

static void job_granted(struct pgh_request *req, struct pgh_conn *c);
static void job_failed(struct pgh_request *req, const char *errmsg);
static const struct pgh_job_output csv_output;

struct pgh_job *pgh_job_new(uv_loop_t *loop, struct pgh_pool *pool, const struct pgh_config *cfg,
                            const struct pgh_check *check, pgh_job_done_cb done, void *data)
{
	struct pgh_job *job = pgh_xcalloc(1, sizeof(*job));

	job->loop = loop;
	job->pool = pool;
	job->cfg = cfg;
	job->check = check;
	job->done = done;
	job->data = data;
	job->req.granted = job_granted;
	job->req.failed = job_failed;
	job->phase = PGH_JOB_QUEUED;
	job->out = &csv_output;
	uv_timer_init(loop, &job->deadline);
	job->deadline.data = job;
	job->deadline_open = true;
	return job;
}

void pgh_job_free(struct pgh_job *job)
{
	if (job == NULL)
		return;
	if (job->deadline_open || job->sink != NULL || job->conn != NULL)
		pgh_bug("check %s: job freed while in use", job->check->name);
	pgh_result_clear(&job->result);
	free(job->row_vals);
	free(job->row_lens);
	free(job);
}

/* Record the first failure; later ones are consequences of it. */
static void job_fail(struct pgh_job *job, enum pgh_check_state st, const char *msg)
{
	size_t n;

	if (job->result.error != NULL)
		return;
	n = strcspn(msg, "\n");
	job->result.state = st;
	job->result.error = pgh_xstrndup(msg, n);
}

static bool job_failed_already(const struct pgh_job *job)
{
	return job->result.error != NULL;
}

void pgh_job_set_output(struct pgh_job *job, const struct pgh_job_output *out)
{
	job->out = out;
}

static void job_queue_deadline_cb(uv_timer_t *t);

/*
 * A job that waits for a connection waits at most its own timeout plus
 * connect_timeout: a pool that cannot serve it (a pooler with no server
 * to give, a cluster at its connection limit) ends it as a timeout, so a
 * round, and `once`, always end by themselves.
 */
void pgh_job_start(struct pgh_job *job)
{
	job->result.started_ms = pgh_now_ms();
	job->t0 = uv_hrtime();
	if (job->check->timeout_ms > 0)
		uv_timer_start(&job->deadline, job_queue_deadline_cb,
		               job->check->timeout_ms + job->cfg->connect_timeout_ms, 0);
	pgh_pool_submit(job->pool, &job->req);
}

/* ---- finishing ---------------------------------------------------------- */

static void job_deadline_closed_cb(uv_handle_t *h)
{
	struct pgh_job *job = h->data;

	job->deadline_open = false;
	job->phase = PGH_JOB_DONE;
	job->done(job); /* last: the callee may free the job */
}

void pgh_job_complete(struct pgh_job *job)
{
	struct pgh_result *r = &job->result;

	r->duration_ms = (uv_hrtime() - job->t0) / 1000000;
	if (r->error != NULL)
		pgh_warn("check %s: %s after %" PRIu64 " ms: %s", job->check->name,
		         pgh_check_state_str(r->state), r->duration_ms, r->error);
	else
		pgh_debug("check %s: %s, %" PRIu64 " rows in %" PRIu64 " ms", job->check->name,
		          pgh_check_state_str(r->state), r->rows, r->duration_ms);
	uv_close((uv_handle_t *)&job->deadline, job_deadline_closed_cb);
}

/* The check's own newer result is "no rows": its previous file goes. */
static void job_remove_stale(struct pgh_job *job)
{
	char *name = pgh_xasprintf("%s.csv", job->check->name);

	pgh_sink_unlink(job->loop, job->cfg->output_dir, name);
	free(name);
}

/*
 * A run that failed (an error, a timeout, a shutdown) is not a newer
 * result: the previous file stays as it was, and the scheduler keeps
 * naming it in status.csv.
 */
static void job_sink_done(struct pgh_sink *sink, int status)
{
	struct pgh_job *job = sink->data;

	if (status < 0)
		job_fail(job, PGH_STATE_ERROR, sink->errmsg);
	if (!job_failed_already(job))
		job->result.file = pgh_xasprintf("%s.csv", job->check->name);
	pgh_sink_release(sink);
	free(sink);
	job->sink = NULL;
	pgh_job_complete(job);
}

/* The check CSV's end: publish or discard the file, remove a stale one. */
static void csv_finish(struct pgh_job *job)
{
	if (job->sink != NULL) {
		pgh_sink_finish(job->sink, !job_failed_already(job), job_sink_done);
		return;
	}
	/* Most checks find nothing most of the time: no unlink (a trip
	 * through the threadpool) for a file known to be absent. */
	if (!job_failed_already(job) && !job->no_file)
		job_remove_stale(job);
	pgh_job_complete(job);
}

/* The query is over: decide the state, then let the output settle. */
static void job_publish(struct pgh_job *job)
{
	struct pgh_result *r = &job->result;

	job->phase = PGH_JOB_PUBLISHING;
	uv_timer_stop(&job->deadline);
	if (job_failed_already(job))
		r->rows = 0; /* what was read is discarded with the run */
	else if (r->state != PGH_STATE_TRUNCATED)
		r->state = r->rows > 0 ? PGH_STATE_FINDINGS : PGH_STATE_OK;
	job->out->finish(job);
}

static void job_failed(struct pgh_request *req, const char *errmsg)
{
	struct pgh_job *job = PGH_CONTAINER_OF(req, struct pgh_job, req);

	job_fail(job, PGH_STATE_ERROR, errmsg);
	job_publish(job);
}

/* ---- rows --------------------------------------------------------------- */

static void job_sink_drain(struct pgh_sink *sink);

static void job_open_sink(struct pgh_job *job, const PGresult *res)
{
	struct pgh_sink_opts o = {
	    .dir = job->cfg->output_dir,
	    .fsync = job->cfg->fsync,
	    .history = job->check->name,
	    .history_keep = job->cfg->history,
	};
	char name[300], stamp[32];
	int n = PQnfields(res);
	size_t bound = 1 + (size_t)n;
	char *dst, *p;

	snprintf(name, sizeof(name), "%s.csv", job->check->name);
	pgh_format_stamp(job->result.started_ms, stamp, sizeof(stamp));
	o.name = name;
	o.stamp = stamp;
	job->sink = pgh_xmalloc(sizeof(*job->sink));
	pgh_sink_init(job->sink, job->loop, &o);
	job->sink->data = job;
	job->sink->drain_cb = job_sink_drain;

	for (int i = 0; i < n; i++)
		bound += pgh_csv_bound(strlen(PQfname(res, i)));
	p = dst = pgh_sink_reserve(job->sink, bound);
	for (int i = 0; i < n; i++) {
		const char *f = PQfname(res, i);

		if (i > 0)
			*p++ = ',';
		p += pgh_csv_encode(p, f, strlen(f), n == 1);
	}
	*p++ = '\n';
	pgh_sink_commit(job->sink, (size_t)(p - dst));
}

/*
 * One row, one reservation: read every value's pointer and length once,
 * size the worst case, encode, commit what was used.  NULL is asked for
 * only when a value is empty (libpq gives NULLs length 0).
 */
static void job_write_row(struct pgh_job *job, const PGresult *res, int row)
{
	int n = PQnfields(res);
	size_t bound = 1 + (size_t)n;
	char *dst, *p;

	if ((size_t)n > job->row_cap) {
		job->row_cap = (size_t)n;
		job->row_vals = pgh_xrealloc(job->row_vals, job->row_cap * sizeof(*job->row_vals));
		job->row_lens = pgh_xrealloc(job->row_lens, job->row_cap * sizeof(*job->row_lens));
	}
	for (int i = 0; i < n; i++) {
		job->row_vals[i] = PQgetvalue(res, row, i);
		job->row_lens[i] = (size_t)PQgetlength(res, row, i);
		/* A huge value gets its exact size, not twice its size. */
		bound += job->row_lens[i] < PGH_EXACT_SIZE_FROM
		             ? pgh_csv_bound(job->row_lens[i])
		             : pgh_csv_encoded_len(job->row_vals[i], job->row_lens[i], n == 1);
	}
	p = dst = pgh_sink_reserve(job->sink, bound);
	for (int i = 0; i < n; i++) {
		size_t len = job->row_lens[i];

		if (i > 0)
			*p++ = ',';
		if (len > 0 || !PQgetisnull(res, row, i))
			p += pgh_csv_encode(p, job->row_vals[i], len, n == 1);
	}
	*p++ = '\n';
	pgh_sink_commit(job->sink, (size_t)(p - dst));
}

static void job_row(struct pgh_job *job, const PGresult *res, int row)
{
	uint64_t max = job->check->max_rows;

	if (job_failed_already(job))
		return;
	if (max > 0 && job->result.rows >= max) {
		if (!job->cancelled) {
			pgh_info("check %s: max_rows %" PRIu64 " reached, cancelling",
			         job->check->name, max);
			job->cancelled = true;
			job->result.state = PGH_STATE_TRUNCATED;
			pgh_conn_cancel(job->conn);
		}
		return;
	}
	job->result.rows++;
	if (!job->out->row(job, res, row))
		job->paused = true;
}

static bool csv_row(struct pgh_job *job, const PGresult *res, int row)
{
	if (job->sink == NULL)
		job_open_sink(job, res);
	job_write_row(job, res, row);
	return !pgh_sink_full(job->sink);
}

static const struct pgh_job_output csv_output = {
    .row = csv_row,
    .finish = csv_finish,
};

static void job_error_result(struct pgh_job *job, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorMessage(res);
	bool canceled = state != NULL && strcmp(state, SQLSTATE_QUERY_CANCELED) == 0;

	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char *text, *hint;

	if (canceled && job->result.state == PGH_STATE_TRUNCATED)
		return; /* our own cancel after max_rows */
	/* "relation "x" does not exist (SQLSTATE 42P01)": no "ERROR:  " prefix.
	 * A data exception may come from a pghealthd.* threshold: name it. */
	hint = state != NULL && strncmp(state, "22", 2) == 0 && primary != NULL
	           ? pgh_settings_blame(job->cfg, job->check, primary)
	           : NULL;
	text = primary != NULL && state != NULL
	           ? pgh_xasprintf("%s (SQLSTATE %s)%s", primary, state, hint != NULL ? hint : "")
	           : pgh_xstrdup(msg);
	free(hint);
	if (canceled && (job->cancelled || strstr(msg, "statement timeout") != NULL))
		job_fail(job, PGH_STATE_TIMEOUT, text);
	else
		job_fail(job, PGH_STATE_ERROR, text);
	free(text);
}

static bool job_result(struct pgh_conn *c, PGresult *res, void *arg)
{
	struct pgh_job *job = arg;
	ExecStatusType st = PQresultStatus(res);

	(void)c;
	if (!job->described && (PGH_ROWS_PARTIAL(st) || st == PGRES_TUPLES_OK)) {
		job->described = true;
		if (job->out->describe != NULL)
			job->out->describe(job, res);
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
			job->out->command(job, res);
		else
			job_fail(job, PGH_STATE_ERROR,
			         "the check's SQL returns no rows: it must be a query");
		break;
	case PGRES_EMPTY_QUERY:
		job_fail(job, PGH_STATE_ERROR, "the SQL is empty");
		break;
	case PGRES_FATAL_ERROR:
		job_error_result(job, res);
		break;
	case PGRES_COPY_OUT:
	case PGRES_COPY_IN:
	case PGRES_COPY_BOTH:
		/* The pool drops the connection to end it (see pool.c). */
		job_fail(job, PGH_STATE_ERROR,
		         "COPY TO STDOUT / FROM STDIN is not supported: write a query, "
		         "pghealthd formats the rows itself");
		break;
	default:
		job_fail(job, PGH_STATE_ERROR, PQresStatus(st));
		break;
	}
	PQclear(res);
	return !job->paused;
}

static void job_query_done(struct pgh_conn *c, const char *errmsg, void *arg)
{
	struct pgh_job *job = arg;

	if (errmsg != NULL)
		job_fail(job,
		         job->cancelled && job->result.state != PGH_STATE_TRUNCATED
		             ? PGH_STATE_TIMEOUT
		             : PGH_STATE_ERROR,
		         errmsg);
	job->conn = NULL;
	pgh_conn_release(c);
	job_publish(job);
}

static const struct pgh_query_ops job_ops = {
    .result = job_result,
    .done = job_query_done,
};

void pgh_job_resume(struct pgh_job *job)
{
	job->paused = false;
	if (job->conn != NULL)
		pgh_conn_resume(job->conn);
}

static void job_sink_drain(struct pgh_sink *sink)
{
	pgh_job_resume(sink->data);
}

/* ---- timeouts ----------------------------------------------------------- */

static void job_grace_cb(uv_timer_t *t)
{
	struct pgh_job *job = t->data;

	if (job->conn == NULL)
		return;
	pgh_warn("check %s: no answer %d ms after the cancel, dropping the connection",
	         job->check->name, CANCEL_GRACE_MS);
	pgh_conn_drop(job->conn, "timed out: the server did not answer the cancel request");
}

static void job_deadline_cb(uv_timer_t *t)
{
	struct pgh_job *job = t->data;
	char msg[96];

	if (job->conn == NULL)
		return;
	snprintf(msg, sizeof(msg), "canceling statement: timeout of %" PRIu64 " ms reached",
	         job->check->timeout_ms);
	pgh_warn("check %s: %s", job->check->name, msg);
	job_fail(job, PGH_STATE_TIMEOUT, msg);
	job->cancelled = true;
	pgh_conn_cancel(job->conn);
	uv_timer_start(&job->deadline, job_grace_cb, CANCEL_GRACE_MS, 0);
}

static void job_queue_deadline_cb(uv_timer_t *t)
{
	struct pgh_job *job = t->data;
	char msg[128];

	if (job->phase != PGH_JOB_QUEUED || !pgh_pool_withdraw(job->pool, &job->req))
		return;
	snprintf(msg, sizeof(msg),
	         "no connection could be had within %" PRIu64 " ms (timeout + connect_timeout)",
	         job->check->timeout_ms + job->cfg->connect_timeout_ms);
	job_fail(job, PGH_STATE_TIMEOUT, msg);
	job_publish(job);
}

static void job_granted(struct pgh_request *req, struct pgh_conn *c)
{
	struct pgh_job *job = PGH_CONTAINER_OF(req, struct pgh_job, req);

	job->conn = c;
	job->phase = PGH_JOB_RUNNING;
	if (job->check->timeout_ms > 0)
		uv_timer_start(&job->deadline, job_deadline_cb,
		               job->check->timeout_ms + DEADLINE_SLACK_MS, 0);
	pgh_conn_query(c, job->check->sql, job->check->timeout_ms,
	               PGH_QUERY_SINGLE_ROW | (job->out->commit ? PGH_QUERY_COMMIT : 0), &job_ops,
	               job);
}
