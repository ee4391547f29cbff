/*
 * pool.c - the pool of connections (conn.c): the request FIFO, growth up to
 * max_connections, idle connections closed above min_connections, backoff
 * with jitter after failures, closing.
 *
 * Owns: every connection (through conn.c), the request FIFO links, and the
 * pool's retry and kick timers.  Requests are borrowed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "pghealthd/log.h"
#include "pool-int.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000

/* ---- the pool ----------------------------------------------------------- */

/* A jitter source of the pool's own: daemons started together must not
 * draw the same delays (rand() unseeded would give every one the same). */
uint64_t pool_random(struct pgh_pool *p)
{
	uint64_t x = p->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	p->rng = x;
	return x;
}

static void pool_seed(struct pgh_pool *p)
{
	if (getrandom(&p->rng, sizeof(p->rng), GRND_NONBLOCK) != (ssize_t)sizeof(p->rng))
		p->rng = uv_hrtime() ^ ((uint64_t)getpid() << 32);
	if (p->rng == 0)
		p->rng = 0x9e3779b97f4a7c15ull;
}

static void pool_cred_closed_cb(void *arg)
{
	struct pgh_pool *p = arg;

	p->cred = NULL;
	p->handles--;
	pool_maybe_closed(p);
}

static void pool_handle_close_cb(uv_handle_t *h)
{
	struct pgh_pool *p = h->data;

	p->handles--;
	pool_maybe_closed(p);
}

static void kick_cb(uv_timer_t *t)
{
	pool_dispatch(t->data);
}

struct pgh_pool *pgh_pool_new(uv_loop_t *loop, const struct pgh_config *cfg)
{
	struct pgh_pool *p = pgh_xcalloc(1, sizeof(*p));

	p->loop = loop;
	p->cfg = cfg;
	uv_timer_init(loop, &p->retry);
	uv_timer_init(loop, &p->kick);
	p->retry.data = p;
	p->kick.data = p;
	p->handles = 2;
	pool_seed(p);
	pgh_hosts_parse(&p->hosts, cfg->conninfo);
	return p;
}

void pgh_pool_warm(struct pgh_pool *p)
{
	p->warm = true;
	pool_dispatch(p);
}

void pgh_pool_submit(struct pgh_pool *p, struct pgh_request *req)
{
	if (req->queued)
		pgh_bug("request submitted twice");
	req->next = NULL;
	req->queued = true;
	if (p->tail != NULL)
		p->tail->next = req;
	else
		p->head = req;
	p->tail = req;
	p->n_queued++;
	p->n_named += req->database != NULL;
	if (!uv_is_active((uv_handle_t *)&p->kick))
		uv_timer_start(&p->kick, kick_cb, 0, 0);
}

bool pgh_pool_withdraw(struct pgh_pool *p, struct pgh_request *req)
{
	struct pgh_request **link = &p->head, *prev = NULL;

	if (!req->queued)
		return false;
	while (*link != NULL && *link != req) {
		prev = *link;
		link = &(*link)->next;
	}
	if (*link == NULL)
		pgh_bug("queued request not in the pool's queue");
	*link = req->next;
	if (p->tail == req)
		p->tail = prev;
	req->next = NULL;
	req->queued = false;
	p->n_queued--;
	p->n_named -= req->database != NULL;
	return true;
}

static struct pgh_request *pool_pop(struct pgh_pool *p)
{
	struct pgh_request *req = p->head;

	if (req == NULL)
		return NULL;
	p->head = req->next;
	if (p->head == NULL)
		p->tail = NULL;
	req->next = NULL;
	req->queued = false;
	p->n_queued--;
	p->n_named -= req->database != NULL;
	return req;
}

void pool_fail_queued(struct pgh_pool *p, const char *why)
{
	struct pgh_request *req;

	while ((req = pool_pop(p)) != NULL)
		req->failed(req, why);
}

static void retry_cb(uv_timer_t *t)
{
	pool_dispatch(t->data);
}

bool pool_same_db(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool pool_wanted(const struct pgh_pool *p, const struct pgh_conn *c)
{
	for (const struct pgh_request *r = p->head; r != NULL; r = r->next)
		if (pool_same_db(r->database, c->database))
			return true;
	return false;
}

/* Fail the requests for one database (another than the conninfo's). */
static void pool_fail_database(struct pgh_pool *p, const char *database, const char *msg)
{
	struct pgh_request *r = p->head, *next;
	char *why = pgh_xasprintf("could not connect to database %s: %s", database, msg);

	for (; r != NULL; r = next) {
		next = r->next;
		if (pool_same_db(r->database, database) && pgh_pool_withdraw(p, r))
			r->failed(r, why);
	}
	free(why);
}

/*
 * A connection attempt failed or a connection was lost before it was ready.
 * Wait longer each time (250 ms doubling to 30 s, with jitter so that many
 * daemons do not retry in lockstep).  When nothing is left that could serve
 * the queue, fail the queued work now rather than let it wait for a server
 * that is not there.  Another database's failure (it refuses connections,
 * the role lacks CONNECT) fails that database's work only: the cluster is
 * there, and the other databases are served.
 */
void pool_note_failure(struct pgh_pool *p, const struct pgh_conn *c, const char *msg)
{
	uint64_t delay = BACKOFF_MIN_MS;
	bool alive = false;

	p->stats.failures++;
	free(p->last_error);
	p->last_error = pgh_xstrdup(msg);
	if (c->database != NULL) {
		pool_fail_database(p, c->database, msg);
		return;
	}
	/* Attempts made together fail together: the wave backs off once, not
	 * once per connection (five refused logins are one failure). */
	if (c->wave == p->wave) {
		p->wave++;
		for (unsigned i = 0; i < p->consecutive_failures && delay < BACKOFF_MAX_MS; i++)
			delay *= 2;
		if (delay > BACKOFF_MAX_MS)
			delay = BACKOFF_MAX_MS;
		delay = delay / 2 + pool_random(p) % (delay / 2 + 1);
		p->consecutive_failures++;
		p->retry_at = uv_now(p->loop) + delay;
	}
	for (unsigned i = 0; i < p->n_conns; i++)
		alive = alive || p->conns[i]->state != PGH_CONN_CLOSING;
	if (!alive && p->n_queued > 0) {
		char *why = pgh_xasprintf("could not connect: %s", msg);

		pool_fail_queued(p, why);
		free(why);
	}
}

/* A connection to the conninfo's database is ready: the backoff is over. */
void pool_note_success(struct pgh_pool *p)
{
	p->consecutive_failures = 0;
	p->retry_at = 0;
	free(p->last_error);
	p->last_error = NULL;
}

/*
 * A connection was given up on a silent server (or the kernel gave up on
 * it): the idle ones share its path and would each wait for their own
 * timeout before failing a check.  They are reset too, and the next work
 * gets a new connection, whose connect deadline tells at once whether the
 * server is back.
 */
void pool_suspect(struct pgh_pool *p, const struct pgh_conn *c)
{
	for (unsigned i = p->n_conns; i-- > 0;) {
		struct pgh_conn *o = p->conns[i];

		if (o != c && o->state == PGH_CONN_IDLE) {
			pgh_info("conn %u: closed: conn %u went silent on the same server", o->id,
			         c->id);
			o->abort = true;
			conn_close(o);
		}
	}
}

const char *pgh_pool_last_error(const struct pgh_pool *p)
{
	return p->last_error;
}

unsigned pgh_pool_attempts(const struct pgh_pool *p)
{
	return p->hosts.n > 0 ? p->hosts.n : 1;
}

/* Not ready yet: waiting for its password, connecting, or in setup. */
static bool conn_in_making(const struct pgh_conn *c)
{
	return c->state == PGH_CONN_NEW || c->state == PGH_CONN_CONNECTING ||
	       c->state == PGH_CONN_SETUP;
}

struct pgh_cred *pool_cred(struct pgh_pool *p)
{
	if (p->cred == NULL) {
		p->cred = pgh_cred_new(p->loop, p->cfg);
		p->handles++; /* until pgh_cred_close() is done */
	}
	return p->cred;
}

static struct pgh_conn *pool_idle_conn(struct pgh_pool *p, const char *database)
{
	for (unsigned i = 0; i < p->n_conns; i++)
		if (p->conns[i]->state == PGH_CONN_IDLE &&
		    pool_same_db(p->conns[i]->database, database))
			return p->conns[i];
	return NULL;
}

/* Whether any connection (in any state but closing) serves database. */
static bool pool_has_conn(const struct pgh_pool *p, const char *database)
{
	for (unsigned i = 0; i < p->n_conns; i++)
		if (pool_same_db(p->conns[i]->database, database))
			return true;
	return false;
}

/* Hand every waiting request that an idle connection can serve to it, in
 * FIFO order; then close other databases' idle connections nobody wants. */
static void pool_grant(struct pgh_pool *p)
{
	struct pgh_request *req = p->head, *next;
	struct pgh_conn *c;
	unsigned idle = 0;

	for (unsigned i = 0; i < p->n_conns; i++)
		idle += p->conns[i]->state == PGH_CONN_IDLE;
	for (; req != NULL && idle > 0; req = next) {
		next = req->next;
		c = pool_idle_conn(p, req->database);
		if (c == NULL || !pgh_pool_withdraw(p, req))
			continue;
		uv_timer_stop(&c->timer);
		conn_set_state(c, PGH_CONN_BUSY);
		idle--;
		req->granted(req, c);
	}
	/* Other databases' idle connections stay while work waits (the next
	 * check may want one of them, or pool_make_room() takes it), and go
	 * when nothing waits any more. */
	for (unsigned i = p->n_conns; idle > 0 && p->n_queued == 0 && i-- > 0;)
		if (p->conns[i]->state == PGH_CONN_IDLE && p->conns[i]->database != NULL)
			conn_close(p->conns[i]);
}

/* A slot for a new connection: free, or given up by an idle connection
 * (which nobody waiting wants: pool_grant() ran first).  A closed session
 * gives its slot back once the server has ended it: then the pool is
 * dispatched again. */
static bool pool_make_room(struct pgh_pool *p)
{
	struct pgh_conn *victim = NULL, *c;

	if (pool_used(p) < p->cfg->max_connections)
		return true;
	/* The one idle longest, among those no waiting work wants. */
	for (unsigned i = 0; i < p->n_conns; i++) {
		c = p->conns[i];
		if (c->state == PGH_CONN_IDLE && (p->n_named == 0 || !pool_wanted(p, c)) &&
		    (victim == NULL || c->idle_since < victim->idle_since))
			victim = c;
	}
	if (victim == NULL)
		return false;
	conn_close(victim);
	return pool_used(p) < p->cfg->max_connections;
}

/*
 * Open what the waiting requests need, oldest first so that no database
 * starves: a request for the conninfo's database that no connection in the
 * making will serve gets a new one; a request for another database gets
 * one when that database has none.  Until one attempt has succeeded, one
 * at a time: a server at its connection limit must not see a burst (it
 * would eat the slots reserved for its superusers).
 */
static void pool_grow(struct pgh_pool *p, unsigned pending, unsigned working)
{
	unsigned unserved = 0, keep = p->warm ? p->cfg->min_connections : 0;
	unsigned pending_default = 0;

	for (unsigned i = 0; i < p->n_conns; i++)
		pending_default += p->conns[i]->database == NULL && conn_in_making(p->conns[i]);
	for (struct pgh_request *req = p->head; req != NULL; req = req->next) {
		/* Only requests for the conninfo's database: no need to walk. */
		if (p->n_named == 0 && p->n_queued <= pending_default)
			break;
		if (req->database == NULL ? ++unserved <= pending_default
		                          : pool_has_conn(p, req->database))
			continue;
		if ((working == 0 && pending > 0) || !pool_make_room(p))
			return;
		conn_open(p, req->database);
		pending++;
		pending_default += req->database == NULL;
		if (p->retry_at > uv_now(p->loop))
			return; /* it failed synchronously: back off */
	}
	while (p->n_conns < keep && pool_used(p) < p->cfg->max_connections &&
	       !(working == 0 && pending > 0)) {
		conn_open(p, NULL);
		pending++;
		if (p->retry_at > uv_now(p->loop))
			return;
	}
}

/*
 * Give waiting work to idle connections, then grow the pool, never above
 * max_connections and not before the backoff has passed.
 */
void pool_dispatch(struct pgh_pool *p)
{
	unsigned pending = 0, working = 0;
	uint64_t now;

	if (p->closing)
		return;
	pool_grant(p);
	for (unsigned i = 0; i < p->n_conns; i++) {
		if (conn_in_making(p->conns[i]))
			pending++;
		else if (!p->conns[i]->broken)
			working++;
	}
	now = uv_now(p->loop);
	if (p->retry_at > now) {
		if (p->n_queued > pending || p->n_conns < (p->warm ? p->cfg->min_connections : 0))
			uv_timer_start(&p->retry, retry_cb, p->retry_at - now, 0);
		return;
	}
	pool_grow(p, pending, working);
}

void pool_maybe_closed(struct pgh_pool *p)
{
	void (*cb)(void *);
	void *arg;

	if (!p->closing || p->n_conns > 0 || p->n_closing > 0 || p->handles > 0)
		return;
	cb = p->closed_cb;
	arg = p->closed_arg;
	pgh_hosts_clear(&p->hosts);
	free(p->last_error);
	free(p);
	if (cb != NULL)
		cb(arg);
}

void pgh_pool_close(struct pgh_pool *p, void (*done)(void *arg), void *arg)
{
	p->closing = true;
	p->closed_cb = done;
	p->closed_arg = arg;
	pool_fail_queued(p, "pghealthd is shutting down");
	while (p->n_conns > 0) {
		struct pgh_conn *c = p->conns[p->n_conns - 1];

		if (c->state == PGH_CONN_BUSY && !c->release_pending) {
			/* Cancel on the server (no zombie query), tell the owner,
			 * and close now; the cancel job keeps the memory alive.
			 * An owner that already released (waiting for its cancel
			 * to finish) has nothing more to hear. */
			pgh_conn_cancel(c);
			c->broken = true;
			conn_unwatch(c);
			c->ops->done(c, "pghealthd is shutting down", c->arg);
		}
		c->release_pending = false;
		conn_close(c);
	}
	uv_close((uv_handle_t *)&p->retry, pool_handle_close_cb);
	uv_close((uv_handle_t *)&p->kick, pool_handle_close_cb);
	if (p->cred != NULL)
		pgh_cred_close(p->cred, pool_cred_closed_cb, p);
}

/*
 * Swap in a reloaded configuration.  With reconnect, every connection made
 * with the old settings is replaced gracefully: idle ones now, the others
 * when they next become idle; no running query is interrupted.
 */
void pgh_pool_set_config(struct pgh_pool *p, const struct pgh_config *cfg, bool reconnect)
{
	p->cfg = cfg;
	if (p->cred != NULL)
		pgh_cred_set_config(p->cred, cfg);
	/* Connections in the making go on with the hosts they started with
	 * (conn_attempt() checks the index); new ones take the new list. */
	pgh_hosts_clear(&p->hosts);
	pgh_hosts_parse(&p->hosts, cfg->conninfo);
	if (reconnect) {
		for (unsigned i = p->n_conns; i-- > 0;) {
			struct pgh_conn *c = p->conns[i];

			c->stale = true;
			if (c->state == PGH_CONN_IDLE)
				conn_close(c);
		}
		p->consecutive_failures = 0;
		p->retry_at = 0;
	}
	pool_dispatch(p);
}

void pgh_pool_hurry(struct pgh_pool *p)
{
	if (p->closing || p->retry_at <= uv_now(p->loop))
		return;
	for (unsigned i = 0; i < p->n_conns; i++)
		if (p->conns[i]->database == NULL &&
		    (conn_in_making(p->conns[i]) || !p->conns[i]->broken))
			return; /* one works, or one is on its way */
	pgh_debug("pool: a round starts: the next attempt is now, not in %" PRIu64 " ms",
	          p->retry_at - uv_now(p->loop));
	p->retry_at = 0;
	uv_timer_stop(&p->retry);
	pool_dispatch(p);
}

void pgh_pool_get_stats(const struct pgh_pool *p, struct pgh_pool_stats *st)
{
	*st = p->stats;
	st->open = p->n_conns;
}
