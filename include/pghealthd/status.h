/*
 * status.h - status.csv rendering and the round's verdict.
 *
 * Pure functions over a list of entries; the scheduler publishes the text
 * through a sink like every other file.
 */
#ifndef PGHEALTHD_STATUS_H
#define PGHEALTHD_STATUS_H

#include <stddef.h>

#include "pghealthd/config.h"
#include "pghealthd/job.h"
#include "pghealthd/sink.h"

struct pgh_status_entry {
	const char *check;
	enum pgh_severity severity;
	enum pgh_check_state state; /* may differ from result->state (skipped) */
	const struct pgh_result *result;
};

#define PGH_STATUS_HEADER "check,severity,state,rows,duration_ms,started_at,file,error\n"

/* Append status.csv (header and one row per entry) to the sink. */
void pgh_status_render(struct pgh_sink *sink, const struct pgh_status_entry *e, size_t n);

/*
 * The Nagios/Icinga verdict: CRITICAL (2) when a critical check has
 * findings, else UNKNOWN (3) when a check failed or timed out, else
 * WARNING (1) when a warning check has findings, else OK (0).
 */
int pgh_status_verdict(const struct pgh_status_entry *e, size_t n);

#endif
