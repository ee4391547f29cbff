/*
 * sched.h - rounds: which checks are due, launching their jobs, collecting
 * results, and publishing status.csv after each round.
 *
 * One slot per configured check holds the latest result and the job that is
 * running, if any.  A check whose previous run is still going when a round
 * starts is not queued again: it is reported `skipped` for that round.
 * status.csv writes are serialized (one in flight; a round that completes
 * meanwhile waits for the next write, which covers it).
 */
#ifndef PGHEALTHD_SCHED_H
#define PGHEALTHD_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "pghealthd/config.h"
#include "pghealthd/pool.h"

/* Under output_dir: what checks with a state_sql kept (one file each). */
#define PGH_STATE_DIR ".state"

struct pgh_sched;

struct pgh_round_summary {
	uint64_t no;
	uint64_t duration_ms;
	unsigned ran, ok, findings, errors, timeouts, skipped;
	int verdict;         /* the exit code `once` gives for this round */
	bool status_written; /* status.csv was published for this round */
};

typedef void (*pgh_round_cb)(struct pgh_sched *s, const struct pgh_round_summary *sum, void *arg);

/* cfg and pool are borrowed and must outlive the scheduler. */
struct pgh_sched *pgh_sched_new(uv_loop_t *loop, const struct pgh_config *cfg,
                                struct pgh_pool *pool, pgh_round_cb cb, void *arg);

/* Start a round now and return its number; cb runs once all its jobs have
 * finished and status.csv is written (perhaps before this returns). */
uint64_t pgh_sched_round(struct pgh_sched *s);

/* Print the plugin output line (see status.h) for the latest results. */
void pgh_sched_print_plugin(struct pgh_sched *s, const struct pgh_round_summary *sum, FILE *out);

/* Jobs in flight, and those of them still waiting for a connection. */
unsigned pgh_sched_running(const struct pgh_sched *s);
unsigned pgh_sched_waiting(const struct pgh_sched *s);

/* No job running and no status.csv write in flight: safe to replace. */
bool pgh_sched_idle(const struct pgh_sched *s);

/* After a reload: take over src's latest results for checks of the same name. */
void pgh_sched_adopt(struct pgh_sched *dst, struct pgh_sched *src);

/* Stop: no more status writes; done runs (maybe later) once no job is left. */
void pgh_sched_stop(struct pgh_sched *s, void (*done)(void *arg), void *arg);

/* Free a stopped scheduler. */
void pgh_sched_free(struct pgh_sched *s);

#endif
