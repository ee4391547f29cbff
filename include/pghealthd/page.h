/*
 * page.h - the HTML page of the output directory ([run] html_file): the
 * verdict and the round's summary, a table of every check (state, severity,
 * rows and their trend, duration, since, error), and each check's first
 * findings with links to its CSV and its history.
 *
 * One self-contained file: inline CSS, no JavaScript, nothing loaded from
 * anywhere else; it refreshes itself at the round interval and reads on a
 * phone.  Every value is HTML-escaped: what a check returns, its error, its
 * name are text, never markup.  Rendered through a sink like status.csv.
 */
#ifndef PGHEALTHD_PAGE_H
#define PGHEALTHD_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "pghealthd/sink.h"
#include "pghealthd/status.h"

/* What the page says beyond the checks. */
struct pgh_page_info {
	int verdict;
	uint64_t round_end_ms; /* wall clock */
	uint64_t round_duration_ms;
	uint64_t interval_ms; /* the refresh */
	bool links;           /* the page is in output_dir: link to the CSV files */
};

/* A rendered check's findings stop after the row that passes this many
 * bytes (the CSV has them all); a row is at most PGH_PREVIEW_BYTES of CSV,
 * six times that escaped, so 100 checks stay well under a megabyte in
 * practice. */
#define PGH_PAGE_PREVIEW_BYTES 8192

void pgh_page_render(struct pgh_sink *sink, const struct pgh_status_entry *e, size_t n,
                     const struct pgh_page_info *x);

/* Append text to the sink with & < > " ' escaped; returns the bytes appended. */
size_t pgh_html_escape(struct pgh_sink *sink, const char *text, size_t len);

#endif
