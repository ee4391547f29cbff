/*
 * result.h - the outcome of one run of a check, as status.csv reports it.
 *
 * Plain data: the scheduler keeps each check's latest result, status renders
 * them.  A result owns its strings; move one with pgh_result_move().
 */
#ifndef PGHEALTHD_RESULT_H
#define PGHEALTHD_RESULT_H

#include <stdbool.h>
#include <stdint.h>

enum pgh_check_state {
	PGH_CHECK_OK,        /* no rows: healthy, no file */
	PGH_CHECK_FINDINGS,  /* rows written to <check>.csv */
	PGH_CHECK_ERROR,     /* the check failed; see error */
	PGH_CHECK_TIMEOUT,   /* the check ran past its timeout and was cancelled */
	PGH_CHECK_SKIPPED,   /* not run: the previous run was still going */
	PGH_CHECK_TRUNCATED, /* max_rows reached: the file holds the first max_rows */
};

const char *pgh_check_state_str(enum pgh_check_state st);

/* Findings: rows were found (all of them, or the first max_rows). */
bool pgh_state_has_findings(enum pgh_check_state st);

/* Failed: the check gave no answer (error or timeout). */
bool pgh_state_failed(enum pgh_check_state st);

struct pgh_result {
	enum pgh_check_state state;
	uint64_t rows;
	uint64_t duration_ms;
	uint64_t started_ms; /* wall clock */
	char *file;          /* file name in output_dir when one was published */
	char *error;         /* first line of the error, or NULL */
	char *preview;       /* the file's first rows as CSV, header first (the page), or NULL */
	char *kept;          /* the check's state_sql value, to give its next run, or NULL */
};

void pgh_result_clear(struct pgh_result *r);
void pgh_result_move(struct pgh_result *dst, struct pgh_result *src);

#endif
