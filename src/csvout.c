/*
 * csvout.c - the check CSV output (see csvout.h).
 *
 * Rows are encoded straight from libpq's results into the sink's buffer:
 * one reservation per row, nothing holds more than one row.
 */
#include <stdlib.h>
#include <string.h>

#include "pghealthd/csv.h"
#include "pghealthd/csvout.h"
#include "pghealthd/log.h"

/* Values this long are measured exactly before they are reserved for. */
#define EXACT_SIZE_FROM (64 * 1024)

char *pgh_csv_file_name(const char *check)
{
	return pgh_xasprintf("%s" PGH_CSV_EXT, check);
}

void pgh_csv_out_init(struct pgh_csv_out *o, uv_loop_t *loop, const struct pgh_config *cfg,
                      const struct pgh_check *check, bool no_file)
{
	memset(o, 0, sizeof(*o));
	o->loop = loop;
	o->cfg = cfg;
	o->check = check;
	o->no_file = no_file;
}

/*
 * Keep a line (the header, or a row) for the page while it is among the
 * first rows and within the byte budget: a finding shows on the page
 * without the page reading files back.
 */
static void preview_add(struct pgh_csv_out *o, const char *line, size_t len, bool row)
{
	if (o->cfg->html_file == NULL || o->preview_full ||
	    (row && o->preview_rows >= PGH_PREVIEW_ROWS) ||
	    o->preview_len + len > PGH_PREVIEW_BYTES) {
		o->preview_full = true;
		return;
	}
	o->preview = pgh_xrealloc(o->preview, o->preview_len + len + 1);
	memcpy(o->preview + o->preview_len, line, len);
	o->preview_len += len;
	o->preview[o->preview_len] = '\0';
	o->preview_rows += row;
}

char *pgh_csv_out_take_preview(struct pgh_csv_out *o)
{
	char *p = o->preview;

	o->preview = NULL;
	o->preview_len = 0;
	return p;
}

void pgh_csv_out_clear(struct pgh_csv_out *o)
{
	if (o->sink != NULL)
		pgh_bug("check %s: CSV output cleared while writing", o->check->name);
	free(o->preview);
	free(o->vals);
	free(o->lens);
	memset(o, 0, sizeof(*o));
}

static void csv_drain_cb(struct pgh_sink *sink)
{
	struct pgh_csv_out *o = sink->data;

	if (o->job != NULL) /* between a sweep's jobs, nobody waits */
		pgh_job_resume(o->job);
}

/* The temp file and the header line, at the first row. */
static void csv_open(struct pgh_csv_out *o, struct pgh_job *job, const PGresult *res)
{
	struct pgh_sink_opts opts = {
	    .dir = o->cfg->output_dir,
	    .fsync = o->cfg->fsync,
	    .history = o->check->name,
	    .history_keep = o->cfg->history,
	    .spare = true,
	};
	char stamp[40];
	int n = PQnfields(res);
	bool single = n == 1 && o->prefix == NULL;
	size_t bound = 1 + (size_t)n + (o->prefix != NULL ? sizeof("database") : 0);
	char *name = pgh_csv_file_name(o->check->name);
	char *dst, *p;

	pgh_format_stamp(o->sweep ? o->started_ms : job->result.started_ms, stamp,
	                 sizeof(stamp) - sizeof(PGH_CSV_EXT));
	strcat(stamp, PGH_CSV_EXT);
	opts.name = name;
	opts.stamp = stamp;
	o->job = job;
	o->sink = pgh_xmalloc(sizeof(*o->sink));
	pgh_sink_init(o->sink, o->loop, &opts);
	free(name);
	o->sink->data = o;
	o->sink->drain_cb = csv_drain_cb;

	for (int i = 0; i < n; i++)
		bound += pgh_csv_bound(strlen(PQfname(res, i)));
	p = dst = pgh_sink_reserve(o->sink, bound);
	if (o->prefix != NULL) {
		memcpy(p, "database", 8);
		p += 8;
	}
	for (int i = 0; i < n; i++) {
		const char *f = PQfname(res, i);

		if (i > 0 || o->prefix != NULL)
			*p++ = ',';
		p += pgh_csv_encode(p, f, strlen(f), single);
	}
	*p++ = '\n';
	preview_add(o, dst, (size_t)(p - dst), false);
	pgh_sink_commit(o->sink, (size_t)(p - dst));
}

/*
 * One row, one reservation: read every value's pointer and length once,
 * size the worst case, encode, commit what was used.  NULL is asked for
 * only when a value is empty (libpq gives NULLs length 0).
 */
static void csv_write_row(struct pgh_csv_out *o, const PGresult *res, int row)
{
	int n = PQnfields(res);
	bool single = n == 1 && o->prefix == NULL;
	size_t plen = o->prefix != NULL ? strlen(o->prefix) : 0;
	size_t bound = 1 + (size_t)n + (o->prefix != NULL ? 1 + pgh_csv_bound(plen) : 0);
	char *dst, *p;

	if ((size_t)n > o->cap) {
		o->cap = (size_t)n;
		o->vals = pgh_xrealloc(o->vals, o->cap * sizeof(*o->vals));
		o->lens = pgh_xrealloc(o->lens, o->cap * sizeof(*o->lens));
	}
	for (int i = 0; i < n; i++) {
		o->vals[i] = PQgetvalue(res, row, i);
		o->lens[i] = (size_t)PQgetlength(res, row, i);
		/* A huge value gets its exact size, not twice its size. */
		bound += o->lens[i] < EXACT_SIZE_FROM
		             ? pgh_csv_bound(o->lens[i])
		             : pgh_csv_encoded_len(o->vals[i], o->lens[i], single);
	}
	p = dst = pgh_sink_reserve(o->sink, bound);
	if (o->prefix != NULL)
		p += pgh_csv_encode(p, o->prefix, plen, false);
	for (int i = 0; i < n; i++) {
		size_t len = o->lens[i];

		if (i > 0 || o->prefix != NULL)
			*p++ = ',';
		if (len > 0 || !PQgetisnull(res, row, i))
			p += pgh_csv_encode(p, o->vals[i], len, single);
	}
	*p++ = '\n';
	preview_add(o, dst, (size_t)(p - dst), true);
	pgh_sink_commit(o->sink, (size_t)(p - dst));
}

static bool csv_row_cb(struct pgh_job *job, void *ctx, const PGresult *res, int row)
{
	struct pgh_csv_out *o = ctx;

	o->job = job; /* in a sweep, each database's job in turn */
	if (o->sink == NULL)
		csv_open(o, job, res);
	csv_write_row(o, res, row);
	return !pgh_sink_full(o->sink);
}

/*
 * A run that failed (an error, a timeout, a shutdown) is not a newer
 * result: the previous file stays as it was, and the scheduler keeps
 * naming it in status.csv.
 */
static void csv_sink_done_cb(struct pgh_sink *sink, int status)
{
	struct pgh_csv_out *o = sink->data;
	struct pgh_job *job = o->job;

	if (status < 0)
		pgh_job_fail(job, PGH_CHECK_ERROR, sink->errmsg);
	if (!pgh_job_failed(job)) {
		job->result.file = pgh_csv_file_name(o->check->name);
		job->result.preview = pgh_csv_out_take_preview(o);
	}
	pgh_sink_release(sink);
	free(sink);
	o->sink = NULL;
	pgh_job_complete(job);
}

/* Publish or discard the file; a run without rows removes a stale one. */
static void csv_finish_cb(struct pgh_job *job, void *ctx)
{
	struct pgh_csv_out *o = ctx;
	char *name;

	if (o->sweep) {
		o->job = NULL;
		pgh_job_complete(job); /* the next database's rows follow */
		return;
	}
	if (o->sink != NULL) {
		pgh_sink_finish(o->sink, !pgh_job_failed(job), csv_sink_done_cb);
		return;
	}
	/* Most checks find nothing most of the time: no unlink (a trip
	 * through the threadpool) for a file known to be absent. */
	if (!pgh_job_failed(job) && !o->no_file) {
		name = pgh_csv_file_name(o->check->name);
		pgh_sink_unlink(o->loop, o->cfg->output_dir, name);
		free(name);
	}
	pgh_job_complete(job);
}

static void csv_settled_cb(struct pgh_sink *sink, int status)
{
	struct pgh_csv_out *o = sink->data;
	char *error = status < 0 && sink->errmsg != NULL ? pgh_xstrdup(sink->errmsg) : NULL;
	bool published = status == 0 && o->sink->publish;

	pgh_sink_release(sink);
	free(sink);
	o->sink = NULL;
	o->settled_cb(o, error, published ? pgh_csv_file_name(o->check->name) : NULL);
	free(error);
}

static void csv_timer_closed_cb(uv_handle_t *h)
{
	free(h);
}

static void csv_unlinked_cb(uv_timer_t *t)
{
	struct pgh_csv_out *o = t->data;

	uv_close((uv_handle_t *)t, csv_timer_closed_cb);
	o->settled_cb(o, NULL, NULL);
}

void pgh_csv_out_settle(struct pgh_csv_out *o, bool publish, bool remove, pgh_csv_settled_cb done)
{
	uv_timer_t *later;
	char *name;

	o->settled_cb = done;
	if (o->sink != NULL) {
		pgh_sink_finish(o->sink, publish, csv_settled_cb);
		return;
	}
	if (remove && !o->no_file) {
		name = pgh_csv_file_name(o->check->name);
		pgh_sink_unlink(o->loop, o->cfg->output_dir, name);
		free(name);
	}
	/* Never from inside the caller's own call. */
	later = pgh_xmalloc(sizeof(*later));
	uv_timer_init(o->loop, later);
	later->data = o;
	uv_timer_start(later, csv_unlinked_cb, 0, 0);
}

const struct pgh_job_output pgh_csv_output = {
    .row = csv_row_cb,
    .finish = csv_finish_cb,
};
