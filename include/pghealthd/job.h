/*
 * job.h - one statement on a pooled connection: wait for a connection, send
 * the SQL in single-row (chunked) mode, hand every row to an output, and
 * leave a result (state, rows, duration, error).  A job knows nothing of
 * files or formats: the check CSV (csvout.h) and exec's JSON are outputs.
 *
 * Ownership: the owner allocates a job with pgh_job_new(), starts it, and is
 * called back exactly once through done; the job has then released its
 * connection and its output has settled, and the owner frees it with
 * pgh_job_free() (which may be done inside the callback: the job touches
 * nothing after it).  The query's strings and the output's context are
 * borrowed until then.
 */
#ifndef PGHEALTHD_JOB_H
#define PGHEALTHD_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "pghealthd/config.h"
#include "pghealthd/pool.h"
#include "pghealthd/result.h"

/* What a job runs. */
struct pgh_query {
	const char *name; /* in log lines: "check NAME: ..." */
	const char *sql;
	uint64_t timeout_ms;      /* 0: none; else the server's and the client's */
	uint64_t max_rows;        /* 0: all; else the query is cancelled past it */
	bool commit;              /* end the transaction with COMMIT (exec), not ROLLBACK */
	const char *database;     /* another database of the cluster, or NULL: the conninfo's */
	const char *sql_redshift; /* optional: the statement on Amazon Redshift instead */
	/* Optional: the check whose pghealthd.* settings a data exception
	 * may come from (the error then names the setting). */
	const struct pgh_check *check;
	/* Optional: the check's state query and what its last run kept. */
	const char *state_sql;
	const char *previous;
	/* Optional: which rows are findings (where.h); the others are read
	 * and dropped. */
	const struct pgh_where *where;
};

/* The query of a check: its SQL, timeout and max_rows (in the conninfo's
 * database; set .database for another). */
struct pgh_query pgh_query_for_check(const struct pgh_check *c);

struct pgh_job;
typedef void (*pgh_job_done_cb)(struct pgh_job *job);

/*
 * Where a job's rows go; ctx is the output's own (pgh_job_new).  Every
 * callback but finish is optional.
 */
struct pgh_job_output {
	/* The first result that describes the columns. */
	void (*describe)(struct pgh_job *job, void *ctx, const PGresult *res);
	/* Row `row` of res; return false to pause reading until
	 * pgh_job_resume() (the rest of res still arrives). */
	bool (*row)(struct pgh_job *job, void *ctx, const PGresult *res, int row);
	/* A statement without a result set finished (PGRES_COMMAND_OK).  NULL:
	 * that is an error (a check must return rows). */
	void (*command)(struct pgh_job *job, void *ctx, const PGresult *res);
	/* The query is over (job->result says how): settle, then call
	 * pgh_job_complete() once, now or later. */
	void (*finish)(struct pgh_job *job, void *ctx);
};

enum pgh_job_phase {
	PGH_JOB_QUEUED,     /* waiting for a connection */
	PGH_JOB_RUNNING,    /* the query is on a connection */
	PGH_JOB_PUBLISHING, /* the query is over; the output is settling */
	PGH_JOB_DONE,
};

const char *pgh_job_phase_str(enum pgh_job_phase phase);

struct pgh_job {
	struct pgh_request req; /* embedded: the pool's handle on us */
	uv_loop_t *loop;
	struct pgh_pool *pool;
	const struct pgh_config *cfg;
	struct pgh_query query;
	enum pgh_job_phase phase; /* written by job_set_phase() only */
	struct pgh_conn *conn;    /* RUNNING */
	uv_timer_t deadline;      /* client-side timeout */
	bool deadline_open;
	bool cancelled; /* a cancel was sent (timeout or max_rows) */
	uint64_t t0;    /* uv_hrtime() at start */
	struct pgh_result result;
	const struct pgh_job_output *out;
	void *out_ctx;
	bool described;  /* out->describe was called */
	bool paused;     /* the output asked to stop reading */
	int *where_cols; /* query.where's columns in the result, once described */
	pgh_job_done_cb done;
	void *data; /* the owner's */
};

struct pgh_job *pgh_job_new(uv_loop_t *loop, struct pgh_pool *pool, const struct pgh_config *cfg,
                            const struct pgh_query *query, const struct pgh_job_output *out,
                            void *out_ctx, pgh_job_done_cb done, void *data);

/* Record a failure (the first one wins: later ones are its consequences). */
void pgh_job_fail(struct pgh_job *job, enum pgh_check_state st, const char *msg);
bool pgh_job_failed(const struct pgh_job *job);

/* Called by an output's finish (now or later): the job is over. */
void pgh_job_complete(struct pgh_job *job);

/* An output that paused reading is ready for more rows. */
void pgh_job_resume(struct pgh_job *job);

/* Queue the job on the pool; done runs later, exactly once. */
void pgh_job_start(struct pgh_job *job);

/* Free a finished job (its result must have been moved out or is freed too). */
void pgh_job_free(struct pgh_job *job);

#endif
