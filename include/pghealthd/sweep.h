/*
 * sweep.h - database-scoped checks: the databases of the cluster, read once
 * per round, and a check's run over them: one job per database, in name
 * order, into one <check>.csv whose first column is the database.
 *
 * Ownership: a struct pgh_dblist is shared by the sweeps of a round
 * (reference counted).  A sweep is the scheduler's: started with
 * pgh_sweep_start(), it calls done exactly once, later, with its result
 * (moved out by the callee), after which the scheduler frees it.
 */
#ifndef PGHEALTHD_SWEEP_H
#define PGHEALTHD_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "pghealthd/config.h"
#include "pghealthd/pool.h"
#include "pghealthd/result.h"

struct pgh_dblist {
	unsigned refs;
	char **names; /* the databases to run in, in name (byte) order */
	size_t n;
	char *current; /* the conninfo's database, served by the pool's own connections */
	char *error;   /* the list could not be read: why (names is then empty) */
};

void pgh_dblist_unref(struct pgh_dblist *l);

/*
 * Read the databases that accept connections and are not templates, as
 * [target] databases and exclude_databases select them.  done(list, arg)
 * runs later with a list holding one reference for the callee.
 */
void pgh_dblist_read(uv_loop_t *loop, struct pgh_pool *pool, const struct pgh_config *cfg,
                     void (*done)(struct pgh_dblist *l, void *arg), void *arg);

struct pgh_sweep;
typedef void (*pgh_sweep_done_cb)(struct pgh_sweep *sw, struct pgh_result *res, void *arg);

/*
 * Run check in every database of dbs (which the sweep references).
 * no_file: <check>.csv is known not to exist.  The result: rows summed;
 * "error" naming the databases that failed (their findings are missing,
 * the others' are written); "timeout" when every failure was a timeout.
 */
struct pgh_sweep *pgh_sweep_start(uv_loop_t *loop, struct pgh_pool *pool,
                                  const struct pgh_config *cfg, const struct pgh_check *check,
                                  struct pgh_dblist *dbs, bool no_file, pgh_sweep_done_cb done,
                                  void *arg);

/* Its current job waits for a connection. */
bool pgh_sweep_queued(const struct pgh_sweep *sw);

/* Shutting down: no database after the current one; nothing is published. */
void pgh_sweep_stop(struct pgh_sweep *sw);

void pgh_sweep_free(struct pgh_sweep *sw);

#endif
