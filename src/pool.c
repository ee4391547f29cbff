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
static uint64_t pool_random(struct pgh_pool *p)
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

/*
 * A connection attempt failed or a connection was lost before it was ready.
 * Wait longer each time (250 ms doubling to 30 s, with jitter so that many
 * daemons do not retry in lockstep).  When nothing is left that could serve
 * the queue, fail the queued work now rather than let it wait for a server
 * that is not there.
 */
void pool_note_failure(struct pgh_pool *p, unsigned wave, const char *msg)
{
	uint64_t delay = BACKOFF_MIN_MS;
	bool alive = false;

	p->stats.failures++;
	/* Attempts made together fail together: the wave backs off once, not
	 * once per connection (five refused logins are one failure). */
	if (wave == p->wave) {
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

static struct pgh_conn *pool_idle_conn(struct pgh_pool *p)
{
	for (unsigned i = 0; i < p->n_conns; i++)
		if (p->conns[i]->state == PGH_CONN_IDLE)
			return p->conns[i];
	return NULL;
}

/*
 * Give waiting work to idle connections, then grow the pool: one new
 * connection per request that no connection in the making will serve,
 * never above max_connections and not before the backoff has passed.
 */
void pool_dispatch(struct pgh_pool *p)
{
	struct pgh_conn *c;
	struct pgh_request *req;
	unsigned pending = 0, working = 0, keep;
	uint64_t now;

	if (p->closing)
		return;
	while (p->head != NULL && (c = pool_idle_conn(p)) != NULL) {
		req = pool_pop(p);
		uv_timer_stop(&c->timer);
		conn_set_state(c, PGH_CONN_BUSY);
		req->granted(req, c);
	}
	for (unsigned i = 0; i < p->n_conns; i++) {
		if (p->conns[i]->state == PGH_CONN_CONNECTING ||
		    p->conns[i]->state == PGH_CONN_SETUP)
			pending++;
		else if (!p->conns[i]->broken)
			working++;
	}
	keep = p->warm ? p->cfg->min_connections : 0;
	now = uv_now(p->loop);
	if (p->retry_at > now) {
		if (p->n_queued > pending || p->n_conns < keep)
			uv_timer_start(&p->retry, retry_cb, p->retry_at - now, 0);
		return;
	}
	while (p->n_conns < p->cfg->max_connections &&
	       (p->n_queued > pending || p->n_conns < keep)) {
		/* Until one attempt has succeeded, one at a time: a server at its
		 * connection limit must not see a burst (it would eat the slots
		 * reserved for its superusers). */
		if (working == 0 && pending > 0)
			break;
		conn_open(p);
		pending++;
		if (p->retry_at > uv_now(p->loop))
			break; /* it failed synchronously: back off */
	}
}

void pool_maybe_closed(struct pgh_pool *p)
{
	void (*cb)(void *);
	void *arg;

	if (!p->closing || p->n_conns > 0 || p->n_closing > 0 || p->handles > 0)
		return;
	cb = p->closed_cb;
	arg = p->closed_arg;
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
}

/*
 * Swap in a reloaded configuration.  With reconnect, every connection made
 * with the old settings is replaced gracefully: idle ones now, the others
 * when they next become idle; no running query is interrupted.
 */
void pgh_pool_set_config(struct pgh_pool *p, const struct pgh_config *cfg, bool reconnect)
{
	p->cfg = cfg;
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

void pgh_pool_get_stats(const struct pgh_pool *p, struct pgh_pool_stats *st)
{
	*st = p->stats;
	st->open = p->n_conns;
}
