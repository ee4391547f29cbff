/*
 * job.h - one run of one check: wait for a connection, send the SQL in
 * single-row mode, stream every row into <check>.csv through a sink, and
 * leave a result (state, rows, duration, error).
 *
 * Ownership: the scheduler allocates a job with pgh_job_new(), starts it,
 * and is called back exactly once through done; the job has then released
 * its connection and its sink, and the scheduler frees it with pgh_job_free()
 * (which may be done inside the callback: the job touches nothing after it).
 */
#ifndef PGHEALTHD_JOB_H
#define PGHEALTHD_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "pghealthd/config.h"
#include "pghealthd/pool.h"
#include "pghealthd/sink.h"

enum pgh_check_state {
	PGH_STATE_OK,        /* no rows: healthy, no file */
	PGH_STATE_FINDINGS,  /* rows written to <check>.csv */
	PGH_STATE_ERROR,     /* the check failed; see error */
	PGH_STATE_TIMEOUT,   /* the check ran past its timeout and was cancelled */
	PGH_STATE_SKIPPED,   /* not run: the previous run was still going */
	PGH_STATE_TRUNCATED, /* max_rows reached: the file holds the first max_rows */
};

const char *pgh_check_state_str(enum pgh_check_state st);

/* The outcome of a run, as status.csv reports it. */
struct pgh_result {
	enum pgh_check_state state;
	uint64_t rows;
	uint64_t duration_ms;
	uint64_t started_ms; /* wall clock */
	char *file;          /* file name in output_dir when one was published */
	char *error;         /* first line of the error, or NULL */
};

void pgh_result_clear(struct pgh_result *r);
void pgh_result_move(struct pgh_result *dst, struct pgh_result *src);

struct pgh_job;
typedef void (*pgh_job_done_cb)(struct pgh_job *job);

/*
 * Where a job's rows go.  The default (NULL) is the check CSV: rows stream
 * into <check>.csv through a sink.  exec supplies a JSON one.
 */
struct pgh_job_output {
	/* The first result that describes the columns (optional). */
	void (*describe)(struct pgh_job *job, const PGresult *res);
	/* Row `row` of res; return false to pause reading until
	 * pgh_job_resume() (the rest of res still arrives). */
	bool (*row)(struct pgh_job *job, const PGresult *res, int row);
	/* A statement without a result set finished (PGRES_COMMAND_OK).  NULL:
	 * that is an error (a check must return rows). */
	void (*command)(struct pgh_job *job, const PGresult *res);
	/* The query is over (job->result says how); call pgh_job_complete() once
	 * the output is settled, now or later. */
	void (*finish)(struct pgh_job *job);
	/* Commit the statement's transaction (exec); checks are rolled back. */
	bool commit;
};

enum pgh_job_phase {
	PGH_JOB_QUEUED,     /* waiting for a connection */
	PGH_JOB_RUNNING,    /* the query is on a connection */
	PGH_JOB_PUBLISHING, /* the query is over; the sink is finishing */
	PGH_JOB_DONE,
};

struct pgh_job {
	struct pgh_request req; /* embedded: the pool's handle on us */
	uv_loop_t *loop;
	struct pgh_pool *pool;
	const struct pgh_config *cfg;
	const struct pgh_check *check;
	enum pgh_job_phase phase;
	struct pgh_conn *conn; /* RUNNING */
	struct pgh_sink *sink; /* from the first row until published */
	uv_timer_t deadline;   /* client-side timeout */
	bool deadline_open;
	bool cancelled; /* a cancel was sent (timeout or max_rows) */
	uint64_t t0;    /* uv_hrtime() at start */
	struct pgh_result result;
	const struct pgh_job_output *out;
	bool described;        /* out->describe was called */
	bool paused;           /* the output asked to stop reading */
	const char **row_vals; /* the current row's values, reused per row */
	size_t *row_lens;
	size_t row_cap;
	bool no_file; /* the check's CSV is known not to exist: nothing to remove */
	pgh_job_done_cb done;
	void *data; /* the scheduler's */
};

struct pgh_job *pgh_job_new(uv_loop_t *loop, struct pgh_pool *pool, const struct pgh_config *cfg,
                            const struct pgh_check *check, pgh_job_done_cb done, void *data);

/* Use another output than the check CSV (before pgh_job_start). */
void pgh_job_set_output(struct pgh_job *job, const struct pgh_job_output *out);

/* Called by an output's finish (now or later): the job is over. */
void pgh_job_complete(struct pgh_job *job);

/* An output that paused reading is ready for more rows. */
void pgh_job_resume(struct pgh_job *job);

/* Queue the job on the pool; done runs later, exactly once. */
void pgh_job_start(struct pgh_job *job);

/* Free a finished job (its result must have been moved out or is freed too). */
void pgh_job_free(struct pgh_job *job);

#endif
