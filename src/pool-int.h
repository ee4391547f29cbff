/*
 * pool-int.h - what conn.c (one connection's life) and pool.c (the pool of
 * them) share; private to src/.
 */
#ifndef PGHEALTHD_POOL_INT_H
#define PGHEALTHD_POOL_INT_H

#include "pghealthd/cancel.h"
#include "pghealthd/credential.h"
#include "pghealthd/hosts.h"
#include "pghealthd/pool.h"
#include "pghealthd/session.h"

struct pgh_conn {
	struct pgh_pool *pool;
	unsigned id;
	enum pgh_conn_state state;
	PGconn *pg;
	uv_poll_t *poll;   /* NULL while libpq has no socket */
	int fd;            /* the socket poll watches, or -1 */
	int armed;         /* the events poll was last started with */
	uv_timer_t timer;  /* CONNECTING: deadline; IDLE: idle timeout; BUSY: deferred failure;
	                    * CLOSING: the end of the linger */
	uv_poll_t *linger; /* CLOSING: the socket kept until the server closes it */
	int linger_fd;     /* its descriptor (uv_fileno() refuses a closing handle) */
	unsigned handles;  /* open uv handles; the struct is freed when it drops to 0 */
	bool flushing;     /* PQflush() returned 1: wait for writable */
	bool paused;       /* BUSY: the owner asked to stop reading */
	bool broken;       /* lost or unusable: close on release */
	bool stale;        /* made with replaced settings: close when next idle */
	unsigned wave;     /* the pool's attempt wave when this connection opened */
	char *database;    /* another database than the conninfo's, or NULL */
	struct pgh_cred_waiter cred_wait; /* NEW: waiting for password_command */
	bool cred_waiting;
	uint64_t idle_since; /* uv_now() when it last became idle */
	char *deferred_err;  /* BUSY: a send failure reported from the timer */

	/* SETUP and BUSY: the pipeline in flight (see session.h) and who hears
	 * it: the owner's statement's results go to ops, the others' do not. */
	struct pgh_pipeline pipe;
	struct pgh_session session; /* what the next pipeline may reuse */
	unsigned pipe_pos;          /* the statement whose results are being read */
	bool pipe_single_row;       /* the owner's statement in single-row mode */
	bool pipe_commit;           /* the owner's transaction is committed (exec) */
	bool pipe_savepoint;        /* the last pipeline opened the savepoint (session.h) */
	bool console;               /* pgbouncer's admin console: one simple query at a time */
	char *pipe_err;             /* first error of a statement before the owner's */
	char *kept;                 /* the carry's state query's value (pgh_conn_take_kept) */
	bool resetting;             /* BUSY, released: a ROLLBACK before going idle */
	const struct pgh_query_ops *ops;
	void *arg;

	/* Cancel (cancel.h): the connection is not reused until it has ended. */
	struct pgh_cancel *cancel; /* in flight, or NULL */
	bool cancel_failed;        /* the last one was not delivered (or not in time) */
	bool release_pending;      /* released while cancelling: finish when it ends */
	bool abort;                /* given up on a silent server: closed with a reset, so that
	                            * nothing it had queued can reach the server later */

	/* NEW, CONNECTING, SETUP: which host is tried (see hosts.h), what the
	 * ones before said, and password_command's answer for the next one. */
	unsigned attempt;      /* 0 .. pool->hosts.n - 1 */
	unsigned attempt_base; /* load_balance_hosts=random: the first host */
	char *attempt_errs;
	char *password, *user;
};

struct pgh_pool {
	uv_loop_t *loop;
	const struct pgh_config *cfg;
	struct pgh_conn *conns[PGH_MAX_CONNECTIONS_LIMIT];
	unsigned n_conns;     /* entries of conns[]: every state but CLOSING */
	unsigned n_closing;   /* CLOSING, not freed yet */
	unsigned n_lingering; /* of them, sessions the server has not ended yet */
	unsigned next_id;
	struct pgh_request *head, *tail;
	unsigned n_queued;
	unsigned n_named; /* of them, requests for another database */
	bool warm;        /* keep min_connections open */
	bool closing;
	uv_timer_t retry; /* backoff before the next connection attempt */
	uv_timer_t kick;  /* deferred dispatch after submit */
	unsigned handles;
	uint64_t retry_at; /* loop time before which no new connection is made */
	uint64_t rng;      /* backoff jitter: xorshift64, seeded from the kernel */
	unsigned consecutive_failures;
	unsigned wave; /* attempts started since the last failed wave share it */
	struct pgh_pool_stats stats;
	void (*closed_cb)(void *arg);
	void *closed_arg;
	struct pgh_cred *cred;  /* password_command, made when first needed */
	struct pgh_hosts hosts; /* one attempt per host of a multi-host conninfo */
	char *last_error;       /* why the last attempt failed, until one succeeds */
};

/* Server sessions that count against max_connections: the open ones, and
 * the closed ones whose backend has not exited yet. */
static inline unsigned pool_used(const struct pgh_pool *p)
{
	return p->n_conns + p->n_lingering;
}

/* conn.c */
void conn_open(struct pgh_pool *p, const char *database);
void conn_close(struct pgh_conn *c);
void conn_set_state(struct pgh_conn *c, enum pgh_conn_state st);
void conn_unwatch(struct pgh_conn *c);

/* pool.c */
struct pgh_cred *pool_cred(struct pgh_pool *p);
void pool_dispatch(struct pgh_pool *p);
void pool_fail_queued(struct pgh_pool *p, const char *why);
void pool_maybe_closed(struct pgh_pool *p);
void pool_note_failure(struct pgh_pool *p, const struct pgh_conn *c, const char *msg);
void pool_note_success(struct pgh_pool *p);
/* A connection was given up on a silent server: the idle ones share its path. */
void pool_suspect(struct pgh_pool *p, const struct pgh_conn *c);
uint64_t pool_random(struct pgh_pool *p);
/* Whether a request for the connection's database waits. */
bool pool_wanted(const struct pgh_pool *p, const struct pgh_conn *c);
/* Database names: NULL is the conninfo's. */
bool pool_same_db(const char *a, const char *b);

#endif
