/*
 * csvout.h - the check CSV: a job output that streams a check's rows into
 * output_dir/<check>.csv through a sink (header first, the server's
 * COPY ... CSV HEADER dialect), and owns that file's name and its
 * publication: a run with rows replaces the file (and adds a history copy),
 * a run without rows removes it, a failed run leaves it as it was.
 *
 * Ownership: the scheduler embeds a struct pgh_csv_out per running check,
 * initialises it before the job starts, passes pgh_csv_output and the struct
 * to pgh_job_new(), and clears it after the job's done callback.
 *
 * A database-scoped check is one output fed by a job per database, one
 * after another in database name order: with a prefix, every row starts
 * with it (the database's name) and the header with "database"; in a
 * sweep, a job's end does not settle the file, pgh_csv_out_settle() does.
 */
#ifndef PGHEALTHD_CSVOUT_H
#define PGHEALTHD_CSVOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "pghealthd/config.h"
#include "pghealthd/job.h"
#include "pghealthd/sink.h"

/* What a check's result keeps of its file for the HTML page. */
#define PGH_PREVIEW_ROWS  50
#define PGH_PREVIEW_BYTES 8192

/* Every file a check publishes is <check> followed by this. */
#define PGH_CSV_EXT ".csv"

/* "<check>.csv", allocated. */
char *pgh_csv_file_name(const char *check);

struct pgh_csv_out;
typedef void (*pgh_csv_settled_cb)(struct pgh_csv_out *o, const char *error, char *file);

/* The preview gathered so far (the callee owns it; the output forgets it). */
char *pgh_csv_out_take_preview(struct pgh_csv_out *o);

struct pgh_csv_out {
	uv_loop_t *loop;
	const struct pgh_config *cfg;
	const struct pgh_check *check;
	bool no_file;          /* <check>.csv is known not to exist: nothing to remove */
	bool sweep;            /* several jobs feed it; pgh_csv_out_settle() ends it */
	const char *prefix;    /* the first column of every row (the database), or NULL */
	uint64_t started_ms;   /* the history copy's stamp: when the run began */
	struct pgh_job *job;   /* from the first row: whom a drained sink resumes */
	struct pgh_sink *sink; /* from the first row until published */
	char *preview;         /* the first PGH_PREVIEW_ROWS rows, within PGH_PREVIEW_BYTES */
	size_t preview_len;
	unsigned preview_rows;
	bool preview_full;
	pgh_csv_settled_cb settled_cb;
	void *data;        /* the owner's */
	const char **vals; /* the current row's values, reused per row */
	size_t *lens;
	size_t cap;
};

void pgh_csv_out_init(struct pgh_csv_out *o, uv_loop_t *loop, const struct pgh_config *cfg,
                      const struct pgh_check *check, bool no_file);
void pgh_csv_out_clear(struct pgh_csv_out *o);

/*
 * A sweep is over: publish the file if publish and rows were written,
 * discard it otherwise; with remove and no file written, remove a stale
 * one.  done runs later, exactly once: error is why the file could not be
 * written (NULL when it was, or when there was none), file the published
 * name (the callee's to free) or NULL.
 */
void pgh_csv_out_settle(struct pgh_csv_out *o, bool publish, bool remove, pgh_csv_settled_cb done);

extern const struct pgh_job_output pgh_csv_output;

#endif
