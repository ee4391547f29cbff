/*
 * status.h - status.csv rendering and the round's verdict.
 *
 * Pure functions over a list of entries; the scheduler publishes the text
 * through a sink like every other file.
 */
#ifndef PGHEALTHD_STATUS_H
#define PGHEALTHD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pghealthd/config.h"
#include "pghealthd/result.h"
#include "pghealthd/sink.h"

struct pgh_status_entry {
	const char *check;
	enum pgh_severity severity;
	enum pgh_check_state state; /* may differ from result->state (skipped) */
	const struct pgh_result *result;
	uint64_t since_ms;       /* when the check entered state (wall clock), 0: unknown */
	const uint32_t *history; /* the row counts of its latest runs, oldest first */
	unsigned n_history;
};

#define PGH_STATUS_HEADER "check,severity,state,rows,duration_ms,started_at,file,error,since\n"

/* Append status.csv (header and one row per entry) to the sink. */
void pgh_status_render(struct pgh_sink *sink, const struct pgh_status_entry *e, size_t n);

/* What the Prometheus textfile says beyond the checks. */
struct pgh_prom_extra {
	uint64_t rounds; /* rounds completed */
	uint64_t round_duration_ms;
	uint64_t round_end_ms; /* wall clock */
	int verdict;
	unsigned conns_open, conns_busy, conns_peak;
	uint64_t connects, conn_failures;
};

/* Append the node_exporter textfile (exposition format 0.0.4) to the sink. */
void pgh_status_render_prom(struct pgh_sink *sink, const struct pgh_status_entry *e, size_t n,
                            const struct pgh_prom_extra *x);

/*
 * The Nagios/Icinga verdict: CRITICAL (2) when a critical check has
 * findings, else UNKNOWN (3) when a check failed or timed out, else
 * WARNING (1) when a warning check has findings, else OK (0).
 */
int pgh_status_verdict(const struct pgh_status_entry *e, size_t n);

/* A verdict's name: "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *pgh_verdict_str(int verdict);

/* How many checks are in each kind of state (as the summaries say). */
struct pgh_status_counts {
	size_t ok, findings, failed, skipped;
};

struct pgh_status_counts pgh_status_count(const struct pgh_status_entry *e, size_t n);

/*
 * The Nagios/Icinga plugin output of `once`, one line:
 * "PGHEALTHD CRITICAL - 4 checks: 1 ok, 2 with findings, 1 failed;
 *  critical: a; failed: b | checks=4 ok=1 findings=2 failed=1 duration=0.2s"
 */
void pgh_status_plugin_line(FILE *out, const struct pgh_status_entry *e, size_t n, int verdict,
                            uint64_t duration_ms);

/*
 * How old status.csv may be before `pghealthd status` says the daemon is
 * not running rounds: three intervals plus the longest check timeout.
 */
uint64_t pgh_status_max_age(const struct pgh_config *cfg);

/*
 * `pghealthd status`: read dir/status.csv, print it as an aligned table
 * (states coloured when color), and return the exit code `once` would have
 * given for that round; 3 with a message when there is no readable status,
 * or when it is older than max_age_ms (0: any age).
 */
int pgh_status_show(const char *dir, FILE *out, bool color, uint64_t max_age_ms);

/*
 * At start: call fn(arg, check, state, since_ms) for every row of the
 * previous process's dir/status.csv, so that `since` survives a restart
 * (since_ms 0 when the file has no such column).  Synchronous; rows are
 * read one at a time.  0, or a negative errno: -EINVAL for a file that is
 * not a status file, whose rows read before that was seen were passed on.
 */
int pgh_status_read_since(const char *dir,
                          void (*fn)(void *arg, const char *check, enum pgh_check_state st,
                                     uint64_t since_ms),
                          void *arg);

/*
 * At start: remove dir/<check>.csv of every check that dir/status.csv (the
 * previous process's) lists and cfg no longer has enabled.  Only files
 * pghealthd wrote; returns how many were removed.  Synchronous.
 */
int pgh_status_remove_gone(const char *dir, const struct pgh_config *cfg);

#endif
