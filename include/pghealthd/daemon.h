/*
 * daemon.h - the `run` and `once` modes: the loop, signals, rounds.
 */
#ifndef PGHEALTHD_DAEMON_H
#define PGHEALTHD_DAEMON_H

#include <stdbool.h>

#include "pghealthd/config.h"

/*
 * Run rounds on cfg (taken over: freed before returning).  once: one round,
 * then the round's verdict (0-3).  Otherwise a round every interval until
 * SIGTERM/SIGINT, then 0.  The loop is closed cleanly before returning.
 */
int pgh_daemon_main(struct pgh_config *cfg, bool once);

/* Create output_dir (0750) if needed, check it, remove stale temp files. */
int pgh_daemon_prepare_output(const char *dir) PGH_MUSTCHECK;

/* The same without the cleaning, for a reload: running checks' temp files
 * are there. */
int pgh_daemon_check_output(const char *dir) PGH_MUSTCHECK;

#endif
