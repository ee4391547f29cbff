/*
 * cancel.c - a cancel request with a deadline (see cancel.h).
 *
 * Owns: every struct pgh_cancel and its handles (the memory goes in the
 * last handle's close callback); before libpq 17, the state it shares with
 * its thread, which whoever of the two finishes last frees.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pghealthd/cancel.h"
#include "pghealthd/common.h"
#include "pghealthd/log.h"

#ifndef LIBPQ_HAS_ASYNC_CANCEL
#include <pthread.h>

/* What the loop and the thread share; the lock guards every field. */
struct cancel_shared {
	pthread_mutex_t lock;
	PGcancel *pg;
	char err[256];
	bool finished;     /* the thread is done: err says how ("" = delivered) */
	bool abandoned;    /* the loop stopped waiting: the thread frees this */
	uv_async_t *async; /* how the thread wakes the loop, while !abandoned */
};
#endif

struct pgh_cancel {
	unsigned id;
	uint64_t deadline_ms;
	pgh_cancel_done_cb done; /* NULL once detached */
	void *arg;
	bool over;        /* done has been called (or would have been) */
	unsigned handles; /* open handles; the memory goes when it drops to 0 */
	uv_timer_t timer; /* the deadline */
#ifdef LIBPQ_HAS_ASYNC_CANCEL
	PGcancelConn *cc; /* until over */
	uv_poll_t *poll;  /* NULL while no socket is watched */
	int fd;
#else
	uv_async_t async;
	struct cancel_shared *sh; /* NULL once the thread owns it alone */
	char start_err[64];       /* the thread could not be started */
#endif
};

static void cancel_handle_closed_cb(uv_handle_t *h)
{
	struct pgh_cancel *k = h->data;

	if (h != (uv_handle_t *)&k->timer
#ifndef LIBPQ_HAS_ASYNC_CANCEL
	    && h != (uv_handle_t *)&k->async
#endif
	)
		free(h);
	if (--k->handles == 0)
		free(k);
}

static void cancel_close(struct pgh_cancel *k, uv_handle_t *h)
{
	h->data = k;
	uv_close(h, cancel_handle_closed_cb);
}

/* The request is over (err NULL: delivered): tell the owner, close up. */
static void cancel_end(struct pgh_cancel *k, const char *err)
{
	if (k->over)
		return;
	k->over = true;
	uv_timer_stop(&k->timer);
	cancel_close(k, (uv_handle_t *)&k->timer);
#ifdef LIBPQ_HAS_ASYNC_CANCEL
	/* The poll handle goes first: libpq closes the socket, and its fd
	 * number may be another socket's at once. */
	if (k->poll != NULL) {
		uv_poll_stop(k->poll);
		cancel_close(k, (uv_handle_t *)k->poll);
		k->poll = NULL;
	}
	PQcancelFinish(k->cc);
	k->cc = NULL;
#else
	cancel_close(k, (uv_handle_t *)&k->async);
#endif
	if (k->done != NULL) {
		k->done(k->arg, err);
	} else if (err != NULL) {
		pgh_warn("conn %u: cancel request failed: %s", k->id, err);
	} else {
		pgh_debug("conn %u: cancel request delivered", k->id);
	}
}

void pgh_cancel_detach(struct pgh_cancel *k)
{
	k->done = NULL;
	k->arg = NULL;
}

static void cancel_deadline_cb(uv_timer_t *t);

static struct pgh_cancel *cancel_new(uv_loop_t *loop, uint64_t deadline_ms, unsigned id,
                                     pgh_cancel_done_cb done, void *arg)
{
	struct pgh_cancel *k = pgh_xcalloc(1, sizeof(*k));

	k->id = id;
	k->deadline_ms = deadline_ms;
	k->done = done;
	k->arg = arg;
	uv_timer_init(loop, &k->timer);
	k->timer.data = k;
	k->handles = 1;
	uv_timer_start(&k->timer, cancel_deadline_cb, deadline_ms, 0);
	return k;
}

#ifdef LIBPQ_HAS_ASYNC_CANCEL

/* ---- libpq 17: nonblocking, on the loop -------------------------------- */

static void cancel_poll_cb(uv_poll_t *h, int status, int events);

/* Watch the cancel connection's socket as PQcancelPoll() asked. */
static void cancel_step(struct pgh_cancel *k, PostgresPollingStatusType st)
{
	int fd, r;

	if (st == PGRES_POLLING_OK) {
		cancel_end(k, NULL);
		return;
	}
	if (st != PGRES_POLLING_READING && st != PGRES_POLLING_WRITING) {
		char *msg = pgh_xstrndup(PQcancelErrorMessage(k->cc),
		                         strcspn(PQcancelErrorMessage(k->cc), "\n"));

		cancel_end(k, msg);
		free(msg);
		return;
	}
	fd = PQcancelSocket(k->cc);
	if (k->poll != NULL && fd != k->fd) {
		uv_poll_stop(k->poll);
		cancel_close(k, (uv_handle_t *)k->poll);
		k->poll = NULL;
	}
	if (fd < 0) {
		cancel_end(k, "the cancel request has no socket");
		return;
	}
	if (k->poll == NULL) {
		k->poll = pgh_xmalloc(sizeof(*k->poll));
		r = uv_poll_init(k->timer.loop, k->poll, fd);
		if (r < 0) {
			free(k->poll);
			k->poll = NULL;
			cancel_end(k, uv_strerror(r));
			return;
		}
		k->poll->data = k;
		k->handles++;
		k->fd = fd;
	}
	uv_poll_start(k->poll, st == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE,
	              cancel_poll_cb);
}

static void cancel_poll_cb(uv_poll_t *h, int status, int events)
{
	struct pgh_cancel *k = h->data;

	(void)status; /* a refused connect: PQcancelPoll() reads SO_ERROR */
	(void)events;
	cancel_step(k, PQcancelPoll(k->cc));
}

struct pgh_cancel *pgh_cancel_start(uv_loop_t *loop, PGconn *pg, uint64_t deadline_ms, unsigned id,
                                    pgh_cancel_done_cb done, void *arg)
{
	PGcancelConn *cc = PQbackendPID(pg) != 0 ? PQcancelCreate(pg) : NULL;
	struct pgh_cancel *k;

	if (cc == NULL)
		return NULL;
	k = cancel_new(loop, deadline_ms, id, done, arg);
	k->cc = cc;
	k->fd = -1;
	if (PQcancelStatus(cc) == CONNECTION_BAD || !PQcancelStart(cc)) {
		/* Reported from the loop, as cancel.h promises. */
		uv_timer_start(&k->timer, cancel_deadline_cb, 0, 0);
		return k;
	}
	/* Start as if PQcancelPoll() had said WRITING. */
	cancel_step(k, PGRES_POLLING_WRITING);
	return k;
}

static void cancel_deadline_cb(uv_timer_t *t)
{
	struct pgh_cancel *k = t->data;
	char msg[320];

	if (PQcancelStatus(k->cc) == CONNECTION_BAD && PQcancelErrorMessage(k->cc)[0] != '\0')
		snprintf(msg, sizeof(msg), "%.*s", (int)strcspn(PQcancelErrorMessage(k->cc), "\n"),
		         PQcancelErrorMessage(k->cc));
	else
		snprintf(msg, sizeof(msg), "no answer to the cancel request within %llu ms",
		         (unsigned long long)k->deadline_ms);
	cancel_end(k, msg);
}

#else

/* ---- libpq 15, 16: PQcancel() on a detached thread --------------------- */

static void shared_free(struct cancel_shared *sh)
{
	PQfreeCancel(sh->pg);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

static void *cancel_thread_main(void *arg)
{
	struct cancel_shared *sh = arg;
	char err[sizeof(sh->err)];
	bool last;

	if (PQcancel(sh->pg, err, sizeof(err)))
		err[0] = '\0';
	pthread_mutex_lock(&sh->lock);
	last = sh->abandoned;
	if (!last) {
		memcpy(sh->err, err, sizeof(err));
		sh->finished = true;
		uv_async_send(sh->async);
	}
	pthread_mutex_unlock(&sh->lock);
	/* Abandoned: nobody else holds it any more.  Otherwise it is the
	 * loop's to free, and this thread touches nothing from here on. */
	if (last)
		shared_free(sh);
	return NULL;
}

static void cancel_async_cb(uv_async_t *a)
{
	struct pgh_cancel *k = a->data;
	struct cancel_shared *sh = k->sh;
	char err[sizeof(sh->err)];
	bool finished;

	if (sh == NULL)
		return;
	pthread_mutex_lock(&sh->lock);
	finished = sh->finished;
	memcpy(err, sh->err, sizeof(err));
	pthread_mutex_unlock(&sh->lock);
	if (!finished)
		return;
	k->sh = NULL;
	shared_free(sh);
	err[sizeof(err) - 1] = '\0';
	err[strcspn(err, "\n")] = '\0';
	cancel_end(k, err[0] != '\0' ? err : NULL);
}

static void cancel_deadline_cb(uv_timer_t *t)
{
	struct pgh_cancel *k = t->data;
	struct cancel_shared *sh = k->sh;
	char msg[96];

	if (sh != NULL) {
		pthread_mutex_lock(&sh->lock);
		if (sh->finished) {
			/* Its wake-up is on the way: let it say how it went. */
			pthread_mutex_unlock(&sh->lock);
			return;
		}
		sh->abandoned = true;
		sh->async = NULL;
		pthread_mutex_unlock(&sh->lock);
		k->sh = NULL; /* the thread's alone now */
	}
	if (k->start_err[0] != '\0')
		snprintf(msg, sizeof(msg), "%s", k->start_err);
	else
		snprintf(msg, sizeof(msg), "no answer to the cancel request within %llu ms",
		         (unsigned long long)k->deadline_ms);
	cancel_end(k, msg);
}

/* A detached thread with a small stack: nothing ever joins it. */
static int cancel_thread_start(struct cancel_shared *sh)
{
	pthread_attr_t attr;
	pthread_t tid;
	int r;

	if ((r = pthread_attr_init(&attr)) != 0)
		return r;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	r = pthread_create(&tid, &attr, cancel_thread_main, sh);
	pthread_attr_destroy(&attr);
	return r;
}

struct pgh_cancel *pgh_cancel_start(uv_loop_t *loop, PGconn *pg, uint64_t deadline_ms, unsigned id,
                                    pgh_cancel_done_cb done, void *arg)
{
	PGcancel *pc = PQbackendPID(pg) != 0 ? PQgetCancel(pg) : NULL;
	struct cancel_shared *sh;
	struct pgh_cancel *k;
	int r;

	if (pc == NULL)
		return NULL;
	k = cancel_new(loop, deadline_ms, id, done, arg);
	uv_async_init(loop, &k->async, cancel_async_cb);
	k->async.data = k;
	k->handles++;
	sh = pgh_xcalloc(1, sizeof(*sh));
	pthread_mutex_init(&sh->lock, NULL);
	sh->pg = pc;
	sh->async = &k->async;
	k->sh = sh;
	r = cancel_thread_start(sh);
	if (r != 0) {
		k->sh = NULL;
		shared_free(sh);
		snprintf(k->start_err, sizeof(k->start_err), "cannot start the cancel: %s",
		         strerror(r));
		uv_timer_start(&k->timer, cancel_deadline_cb, 0, 0);
	}
	return k;
}

#endif
