/*
 * pool.h - a small pool of nonblocking libpq connections on a libuv loop.
 *
 * Every connection is driven by one entry point (its uv_poll callback) that
 * switches on the connection's state; exactly one function writes that state.
 *
 *   state        on which list            what the socket is doing
 *   NEW          pool->conns              nothing yet (allocated, becomes CONNECTING)
 *   CONNECTING   pool->conns              PQconnectPoll, own deadline timer
 *   SETUP        pool->conns              the session prelude and TimeZone in flight, same deadline
 *   IDLE         pool->conns (no owner)   readable armed: notices, EOF
 *   BUSY         pool->conns, conn->owner one query (and its prelude) in flight
 *   CLOSING      none                     handles closing; freed in close cb
 *
 * Work waits in a FIFO of struct pgh_request.  The pool grows while work
 * waits, never above max_connections, persists across rounds, closes idle
 * connections above min_connections after idle_timeout, and reconnects with
 * capped exponential backoff plus jitter after a failure.  While no
 * connection works (at start, after an outage) it makes one attempt at a
 * time, and grows again only once one has succeeded.
 *
 * Requests may name another database of the cluster.  A connection to
 * another database is made when a request for it waits and a slot is free
 * (the connection idle longest that no waiting request wants gives its slot
 * up), at most one per database; it serves that database's requests, stays
 * while any request waits, and is closed once none does.  A failed
 * connection to it fails that database's
 * requests, not the others', and does not back off the pool.
 *
 * Names: the header exports two objects.  A function is pgh_pool_* when it
 * acts on the pool (its first argument is the pool) and pgh_conn_* when it
 * acts on one connection that a request was granted (its first argument is
 * that connection), as libuv names uv_loop_* and uv_handle_* apart.
 */
#ifndef PGHEALTHD_POOL_H
#define PGHEALTHD_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "pghealthd/common.h"
#include "pghealthd/config.h"

struct pgh_carry; /* session.h */

enum pgh_conn_state {
	PGH_CONN_NEW, /* allocated, not started */
	PGH_CONN_CONNECTING,
	PGH_CONN_SETUP,
	PGH_CONN_IDLE,
	PGH_CONN_BUSY,
	PGH_CONN_CLOSING,
};

const char *pgh_conn_state_str(enum pgh_conn_state st);

struct pgh_conn;
struct pgh_pool;

/* A piece of work waiting for a connection. */
struct pgh_request {
	/* The connection is now BUSY and the requester's until pgh_conn_release(). */
	void (*granted)(struct pgh_request *req, struct pgh_conn *c);
	/* No connection could be had (cluster unreachable, shutdown). */
	void (*failed)(struct pgh_request *req, const char *errmsg);
	/* The database to run in; NULL: the conninfo's.  Borrowed while queued. */
	const char *database;
	struct pgh_request *next; /* pool-private: FIFO link */
	bool queued;              /* pool-private */
};

/*
 * What a query's owner hears.  Both run on the loop, from inside the
 * connection's poll callback, never synchronously from pgh_conn_query().
 */
struct pgh_query_ops {
	/* One result (owned by the callee: PQclear it).  Return false to pause
	 * reading (backpressure); pgh_conn_resume() continues. */
	bool (*result)(struct pgh_conn *c, PGresult *res, void *arg);
	/* The query is over: errmsg is NULL when the connection is fine and
	 * ready for pgh_conn_release(), else why it was lost. */
	void (*done)(struct pgh_conn *c, const char *errmsg, void *arg);
};

struct pgh_pool_stats {
	unsigned open; /* connections not CLOSING */
	unsigned busy;
	unsigned peak;     /* most open at once */
	uint64_t connects; /* successful connections made */
	uint64_t failures; /* failed connection attempts and lost connections */
};

/* Create a pool for cfg (borrowed; must outlive the pool or be swapped). */
struct pgh_pool *pgh_pool_new(uv_loop_t *loop, const struct pgh_config *cfg);

/* Open min_connections now (daemon mode). */
void pgh_pool_warm(struct pgh_pool *p);

/* Queue a request; granted/failed runs later, never synchronously. */
void pgh_pool_submit(struct pgh_pool *p, struct pgh_request *req);

/* Take a request that waits for a connection out of the queue; neither
 * granted nor failed will run for it.  False when it is not queued. */
bool pgh_pool_withdraw(struct pgh_pool *p, struct pgh_request *req);

/*
 * Rows arrive a few at a time: libpq 17's chunked mode (PGRES_TUPLES_CHUNK,
 * up to PGH_CHUNK_ROWS rows a result) where the build has it, else
 * single-row mode (PGRES_SINGLE_TUPLE).  Memory stays bounded either way.
 */
#define PGH_CHUNK_ROWS 64
#ifdef LIBPQ_HAS_CHUNK_MODE
#define PGH_ROWS_PARTIAL(st) ((st) == PGRES_SINGLE_TUPLE || (st) == PGRES_TUPLES_CHUNK)
#else
#define PGH_ROWS_PARTIAL(st) ((st) == PGRES_SINGLE_TUPLE)
#endif

enum {
	PGH_QUERY_SINGLE_ROW = 1 << 0, /* rows a few at a time (see above) */
	PGH_QUERY_COMMIT = 1 << 1,     /* commit the statement's transaction (else roll back) */
};

/*
 * Run sql on a BUSY connection as session.h describes: in a transaction of
 * its own with the configured settings and a server-side timeout of
 * timeout_ms (0 = none), in one pipelined round trip.  Results of sql (only
 * those) arrive via ops; done follows once the pipeline is over, errmsg
 * saying why when the session's own statements failed.
 */
void pgh_conn_query(struct pgh_conn *c, const char *sql, uint64_t timeout_ms, unsigned flags,
                    const struct pgh_carry *carry, const struct pgh_query_ops *ops, void *arg);

/* The most a state query's value may be (bytes). */
#define PGH_KEPT_MAX (1024 * 1024)

/* After done: the carry's state query's value (the caller frees it), or NULL. */
char *pgh_conn_take_kept(struct pgh_conn *c);

/* Continue reading after a result callback returned false. */
void pgh_conn_resume(struct pgh_conn *c);

/* Amazon Redshift (it reports server version 8.0.2), not PostgreSQL. */
bool pgh_conn_is_redshift(const struct pgh_conn *c);

/*
 * How long a cancel request may take (cancel.h), and how long after it the
 * owner of a query that still runs gives up on the connection.
 */
#define PGH_CANCEL_TIMEOUT_MS 2000

/*
 * Ask the server to cancel the statement running on a BUSY connection.  The
 * request ends within PGH_CANCEL_TIMEOUT_MS whatever the network does; the
 * connection is not reused until it has ended, and is closed instead when
 * it was not delivered.  Without a cancel key the connection is marked for
 * dropping.
 */
void pgh_conn_cancel(struct pgh_conn *c);

/*
 * Whether the server has gone silent on a BUSY connection: the kernel holds
 * data it sent that the server has not acknowledged for a second or more,
 * or keepalive probes go unanswered, or nothing arrived for a second or
 * more while the cancel request went unanswered.  When it has, buf says so
 * with the server's host and port, for a person.  A unix socket is never
 * silent.
 */
bool pgh_conn_silence(const struct pgh_conn *c, char *buf, size_t len);

/* Give up on a BUSY connection now: the owner hears done(errmsg = why).
 * On a silent server (pgh_conn_silence) the socket is reset, not closed, so
 * that nothing it had queued reaches the server later, and the pool's idle
 * connections, which share its path, are closed too. */
void pgh_conn_drop(struct pgh_conn *c, const char *why);

/* Give a BUSY connection back (after ops->done); a broken one is closed. */
void pgh_conn_release(struct pgh_conn *c);

/* Close every connection, fail queued requests; done runs once all is closed. */
void pgh_pool_close(struct pgh_pool *p, void (*done)(void *arg), void *arg);

/* Swap in a reloaded cfg; reconnect replaces connections made with the old one. */
void pgh_pool_set_config(struct pgh_pool *p, const struct pgh_config *cfg, bool reconnect);

/*
 * A round starts: while no connection works and the pool backs off, make
 * the next attempt now, so that every round gets one attempt however long
 * the backoff has grown and the first round after an outage works.
 */
void pgh_pool_hurry(struct pgh_pool *p);

/* Why the last connection attempt failed (with the host), or NULL when
 * the last one succeeded.  Valid until the pool next runs. */
const char *pgh_pool_last_error(const struct pgh_pool *p);

/* How many connect deadlines one connection may take: one per host of a
 * multi-host conninfo (two per host with prefer-standby), else 1. */
unsigned pgh_pool_attempts(const struct pgh_pool *p);

void pgh_pool_get_stats(const struct pgh_pool *p, struct pgh_pool_stats *st);

/* Whether an idle connection is open with nothing to read (the server has
 * said nothing since, not even that it ends the session): the next request
 * most likely needs no new login. */
bool pgh_pool_has_idle(const struct pgh_pool *p);

#endif
