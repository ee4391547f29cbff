/*
 * conn.c - one nonblocking libpq connection on uv_poll: connecting, the
 * session prelude, pipelines and their results, cancel and release.  The
 * pool that owns it is pool.c.
 *
 * Owns: every struct pgh_conn (freed in the last handle's close callback),
 * its PGconn, its poll and timer handles.  Query owners are borrowed.
 *
 * Rules this file lives by (see the field notes in ARCHITECTURE.md):
 *  - the poll handle is (re)armed after every libpq call that may touch the
 *    socket, and replaced when PQsocket() changes while connecting;
 *  - when libpq closes the socket itself (EOF, failure) the poll handle is
 *    stopped at once, before any other socket can reuse the fd number;
 *  - a connection with a cancel request in flight is not reused until the
 *    request has ended (by its deadline, cancel.h), and not at all when it
 *    was not delivered: a late one would cancel the next query;
 *  - a connection given up on a silent server is reset (SO_LINGER 0), not
 *    closed: the kernel would go on sending what it had queued (the query
 *    itself) and the server could run it after it was reported timed out;
 *  - a multi-host conninfo is one attempt per host, each with its own
 *    connect deadline (hosts.h);
 *  - a closed session keeps its slot until the server closes the socket:
 *    a backend stays in pg_stat_activity, and counts against the role's
 *    CONNECTION LIMIT, until it has exited, and PostgreSQL closes the
 *    socket only then (a "synchronous close").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pghealthd/log.h"
#include "pool-int.h"

static void conn_poll_cb(uv_poll_t *h, int status, int events);
static void conn_lost(struct pgh_conn *c, const char *why);
static void conn_pipeline_send(struct pgh_conn *c, const struct pgh_query_ops *ops, void *arg);

static const char *const conn_state_names[] = {
    [PGH_CONN_NEW] = "new",     [PGH_CONN_CONNECTING] = "connecting",
    [PGH_CONN_SETUP] = "setup", [PGH_CONN_IDLE] = "idle",
    [PGH_CONN_BUSY] = "busy",   [PGH_CONN_CLOSING] = "closing",
};

const char *pgh_conn_state_str(enum pgh_conn_state st)
{
	return pgh_enum_name(conn_state_names, PGH_ARRAY_LEN(conn_state_names), (unsigned)st);
}

/* The only writer of conn->state; keeps the pool's counters in step. */
void conn_set_state(struct pgh_conn *c, enum pgh_conn_state st)
{
	struct pgh_pool *p = c->pool;

	pgh_debug("conn %u: %s -> %s", c->id, pgh_conn_state_str(c->state), pgh_conn_state_str(st));
	if (c->state == PGH_CONN_BUSY)
		p->stats.busy--;
	if (st == PGH_CONN_BUSY)
		p->stats.busy++;
	if (st == PGH_CONN_CLOSING) {
		for (unsigned i = 0; i < p->n_conns; i++) {
			if (p->conns[i] == c) {
				p->conns[i] = p->conns[--p->n_conns];
				break;
			}
		}
		p->n_closing++;
	}
	c->state = st;
}

/* libpq messages end in a newline and may span lines: keep the first line. */
static char *msg_dup(const char *msg)
{
	size_t n;

	if (msg == NULL || *msg == '\0')
		return pgh_xstrdup("unknown error");
	n = strcspn(msg, "\n");
	return pgh_xstrndup(msg, n);
}

/* Where the connection goes (or went), as libpq's messages name it:
 * `at "db1", port 5432` or `on socket "/run/postgresql/.s.PGSQL.5432"`. */
static void conn_server(const struct pgh_conn *c, char *buf, size_t len)
{
	const char *host = c->pg != NULL ? PQhost(c->pg) : NULL;
	const char *port = c->pg != NULL ? PQport(c->pg) : NULL;

	if (port == NULL || *port == '\0')
		port = "5432";
	if (host == NULL || *host == '\0')
		snprintf(buf, len, "(unknown host)");
	else if (*host == '/' || *host == '@')
		snprintf(buf, len, "on socket \"%s/.s.PGSQL.%s\"", host, port);
	else
		snprintf(buf, len, "at \"%s\", port %s", host, port);
}

/* Forget password_command's answer, leaving no copy in freed memory. */
static void conn_forget_password(struct pgh_conn *c)
{
	pgh_wipe_free(c->password);
	free(c->user);
	c->password = NULL;
	c->user = NULL;
}

static void conn_free_if_closed(struct pgh_conn *c)
{
	struct pgh_pool *p = c->pool;

	if (c->handles > 0)
		return;
	p->n_closing--;
	free(c->attempt_errs);
	free(c->deferred_err);
	free(c->pipe_err);
	free(c->kept);
	free(c->database);
	pgh_pipeline_clear(&c->pipe);
	pgh_session_clear(&c->session);
	free(c);
	pool_maybe_closed(p);
}

static void poll_close_cb(uv_handle_t *h)
{
	struct pgh_conn *c = h->data;

	free(h);
	c->handles--;
	if (c->state == PGH_CONN_CLOSING)
		conn_free_if_closed(c);
}

static void timer_close_cb(uv_handle_t *h)
{
	struct pgh_conn *c = h->data;

	c->handles--;
	conn_free_if_closed(c);
}

/* Forget the socket: libpq closed it, or replaced it while connecting. */
void conn_unwatch(struct pgh_conn *c)
{
	if (c->poll == NULL)
		return;
	uv_poll_stop(c->poll);
	uv_close((uv_handle_t *)c->poll, poll_close_cb);
	c->poll = NULL;
	c->fd = -1;
}

/*
 * Watch libpq's current socket for events.  A changed socket gets a new
 * poll handle; uv_poll_start() re-registers with epoll every time, which
 * also covers a new socket that reuses the old fd number.
 */
static int conn_watch(struct pgh_conn *c, int events)
{
	int fd = PQsocket(c->pg);
	int r;

	if (fd != c->fd)
		conn_unwatch(c);
	if (fd < 0)
		return -EBADF;
	if (c->poll == NULL) {
		c->poll = pgh_xmalloc(sizeof(*c->poll));
		r = uv_poll_init(c->pool->loop, c->poll, fd);
		if (r < 0) {
			free(c->poll);
			c->poll = NULL;
			return r;
		}
		c->poll->data = c;
		c->handles++;
		c->fd = fd;
	}
	c->armed = events;
	if (events == 0)
		return uv_poll_stop(c->poll);
	return uv_poll_start(c->poll, events, conn_poll_cb);
}

/* Arm the socket for what a SETUP/IDLE/BUSY connection waits for. */
static void conn_arm(struct pgh_conn *c)
{
	int events = (c->paused ? 0 : UV_READABLE) | (c->flushing ? UV_WRITABLE : 0);
	int r;

	if (c->state == PGH_CONN_CLOSING || c->state == PGH_CONN_CONNECTING)
		return;
	/* Once connected the socket stays the same: re-registering with epoll
	 * (libuv 1.44 deletes and re-adds on every uv_poll_start) is needed only
	 * when the events change. */
	if (c->poll != NULL && c->fd == PQsocket(c->pg) && c->armed == events)
		return;
	r = conn_watch(c, events);
	if (r < 0)
		conn_lost(c, r == -EBADF ? "connection has no socket" : uv_strerror(r));
}

/*
 * The server has closed a connection that is idle or about to be: what a
 * server sends a session it is ending (a FATAL message) is read with what
 * came before it, and the end of the stream behind it only shows to the
 * next read.  Looked for whenever a connection goes idle or gets input
 * while idle, so that it is dropped before it is given a job (a loop run
 * only between requests, as `lambda` runs it, sees it all in one go).
 */
static bool conn_idle_closed(struct pgh_conn *c)
{
	char b;

	return recv(PQsocket(c->pg), &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

bool pgh_pool_has_idle(const struct pgh_pool *p)
{
	char b;

	/* Nothing to read: a server ending the session sends a FATAL message
	 * first, and a loop that has not run since has not read it. */
	for (unsigned i = 0; i < p->n_conns; i++)
		if (p->conns[i]->state == PGH_CONN_IDLE &&
		    recv(PQsocket(p->conns[i]->pg), &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
	return false;
}

/* How long a closed session may keep its slot waiting for the server. */
#define LINGER_MS 1000

static void linger_close_cb(uv_handle_t *h)
{
	struct pgh_conn *c = h->data;

	close(c->linger_fd);
	c->linger_fd = -1;
	free(h);
	c->handles--;
	conn_free_if_closed(c);
}

/* The session is over on the server too (or we stop waiting): its slot is free. */
static void linger_end(struct pgh_conn *c)
{
	struct pgh_pool *p = c->pool;

	uv_poll_stop(c->linger);
	uv_close((uv_handle_t *)c->linger, linger_close_cb);
	c->linger = NULL;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, timer_close_cb);
	p->n_lingering--;
	pool_dispatch(p);
}

static void linger_poll_cb(uv_poll_t *h, int status, int events)
{
	struct pgh_conn *c = h->data;
	char buf[512];
	ssize_t n;

	(void)events;
	if (status == 0) {
		/* What the server still sends (a TLS alert) until end of file. */
		while ((n = recv(c->linger_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
	}
	linger_end(c);
}

static void linger_timeout_cb(uv_timer_t *t)
{
	struct pgh_conn *c = t->data;

	pgh_debug("conn %u: the server kept the closed session over %d ms", c->id, LINGER_MS);
	linger_end(c);
}

/*
 * Keep a copy of an established session's socket across PQfinish(), and
 * hold its slot until the server closes it.  False when there is nothing
 * to wait for.
 */
static bool linger_start(struct pgh_conn *c)
{
	int fd = -1;

	if (PQstatus(c->pg) == CONNECTION_OK && PQsocket(c->pg) >= 0)
		fd = fcntl(PQsocket(c->pg), F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return false;
	c->linger = pgh_xmalloc(sizeof(*c->linger));
	if (uv_poll_init(c->pool->loop, c->linger, fd) < 0) {
		free(c->linger);
		c->linger = NULL;
		close(fd);
		return false;
	}
	c->linger->data = c;
	c->linger_fd = fd;
	c->handles++;
	c->pool->n_lingering++;
	return true;
}

void conn_close(struct pgh_conn *c)
{
	bool linger;

	if (c->state == PGH_CONN_CLOSING)
		return;
	conn_set_state(c, PGH_CONN_CLOSING);
	if (c->cred_waiting)
		pgh_cred_cancel(pool_cred(c->pool), &c->cred_wait);
	c->cred_waiting = false;
	conn_forget_password(c);
	if (c->cancel != NULL)
		pgh_cancel_detach(c->cancel); /* it ends by its deadline alone */
	c->cancel = NULL;
	conn_unwatch(c);
	if (c->abort && c->pg != NULL && PQsocket(c->pg) >= 0) {
		/* A reset: the kernel drops what it still holds for the server
		 * (the query itself, maybe), instead of retransmitting it for
		 * minutes until the path comes back and the server runs it. */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		setsockopt(PQsocket(c->pg), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	linger = c->pg != NULL && !c->abort && linger_start(c);
	if (c->pg != NULL)
		PQfinish(c->pg); /* sends Terminate and closes libpq's socket */
	c->pg = NULL;
	uv_timer_stop(&c->timer);
	if (linger) {
		uv_poll_start(c->linger, UV_READABLE | UV_DISCONNECT, linger_poll_cb);
		uv_timer_start(&c->timer, linger_timeout_cb, LINGER_MS, 0);
	} else {
		uv_close((uv_handle_t *)&c->timer, timer_close_cb);
	}
	pgh_pipeline_clear(&c->pipe);
}

static void notice_cb(void *arg, const PGresult *res)
{
	struct pgh_conn *c = arg;

	/* Called from inside libpq: log only, never touch the connection. */
	pgh_debug("conn %u: server notice: %.*s", c->id,
	          (int)strcspn(PQresultErrorMessage(res), "\n"), PQresultErrorMessage(res));
}

/* ---- connecting --------------------------------------------------------- */

static void conn_connect(struct pgh_conn *c);

/* The next host of a multi-host conninfo, with a deadline of its own. */
static void conn_next_host(struct pgh_conn *c)
{
	conn_unwatch(c);
	uv_timer_stop(&c->timer);
	PQfinish(c->pg);
	c->pg = NULL;
	pgh_pipeline_clear(&c->pipe);
	pgh_session_clear(&c->session);
	free(c->pipe_err);
	c->pipe_err = NULL;
	c->attempt++;
	conn_connect(c);
}

/*
 * A connection attempt (or its session setup) failed: the next host, if
 * the conninfo names more; else back off, maybe fail work.  The message
 * says what every host said, in order.
 */
static void conn_connect_failed(struct pgh_conn *c, const char *why)
{
	struct pgh_pool *p = c->pool;
	char *msg = msg_dup(why);
	char *all = c->attempt_errs != NULL ? pgh_xasprintf("%s; %s", c->attempt_errs, msg)
	                                    : pgh_xstrdup(msg);

	/* A password that the server refused: the command runs again for the
	 * next attempt (a rotated secret is picked up without a restart). */
	if (c->state == PGH_CONN_CONNECTING && c->pg != NULL && p->cfg->password_command != NULL &&
	    PQconnectionUsedPassword(c->pg))
		pgh_cred_invalidate(pool_cred(p));
	if ((c->state == PGH_CONN_CONNECTING || c->state == PGH_CONN_SETUP) && c->pg != NULL &&
	    c->attempt + 1 < p->hosts.n && !p->closing) {
		pgh_warn("conn %u: %s; trying the next host", c->id, msg);
		free(c->attempt_errs);
		c->attempt_errs = all;
		free(msg);
		conn_next_host(c);
		return;
	}
	pgh_warn("conn %u: connection%s%s failed: %s", c->id, c->database ? " to " : "",
	         c->database ? c->database : "", all);
	conn_close(c);
	pool_note_failure(p, c, all);
	free(all);
	free(msg);
	pool_dispatch(p);
}

static const struct pgh_query_ops setup_ops;

/* pgbouncer's admin console (dbname=pgbouncer) says so in server_version. */
static bool conn_is_console(const struct pgh_conn *c)
{
	const char *v = PQparameterStatus(c->pg, "server_version");
	size_t n = v != NULL ? strlen(v) : 0;

	return n >= 8 && strcmp(v + n - 8, "/bouncer") == 0;
}

static void setup_done_cb(struct pgh_conn *c, const char *errmsg, void *arg);
static bool conn_partial_rows(struct pgh_conn *c);

/*
 * Logged in.  Everything from here on is pipelined: the connection stays in
 * pipeline mode for good.  Its setup is the checks' prelude, once, rolled
 * back (see session.h): it proves the settings and session_sql, and that a
 * pooler has a server to give.  The connect deadline keeps running: it
 * covers the setup too, so a pooler that accepts the login but has no
 * server (or a setup statement that waits on a lock) cannot hold a
 * connection in the making, and the work queued behind it, forever.
 */
static void conn_connected(struct pgh_conn *c)
{
	c->console = conn_is_console(c);
	if (PQsetnonblocking(c->pg, 1) != 0 || (!c->console && !PQenterPipelineMode(c->pg))) {
		conn_connect_failed(c, PQerrorMessage(c->pg));
		return;
	}
	/* pgbouncer's admin console knows neither transactions nor settings
	 * nor the extended protocol: nothing to set up, nothing to undo. */
	if (c->console) {
		setup_done_cb(c, NULL, NULL);
		return;
	}
	conn_set_state(c, PGH_CONN_SETUP);
	pgh_debug("conn %u: connected, cancel key pid %d", c->id, PQbackendPID(c->pg));
	pgh_session_build(&c->pipe, &c->session, c->pool->cfg, PQserverVersion(c->pg), NULL, 0,
	                  false, NULL);
	c->pipe_single_row = false;
	conn_pipeline_send(c, &setup_ops, NULL);
}

static void conn_connect_step(struct pgh_conn *c, PostgresPollingStatusType st)
{
	int r;

	switch (st) {
	case PGRES_POLLING_OK:
		conn_connected(c);
		return;
	case PGRES_POLLING_READING:
		r = conn_watch(c, UV_READABLE);
		break;
	case PGRES_POLLING_WRITING:
		r = conn_watch(c, UV_WRITABLE);
		break;
	case PGRES_POLLING_FAILED:
	default:
		conn_unwatch(c);
		conn_connect_failed(c, PQerrorMessage(c->pg));
		return;
	}
	if (r < 0)
		conn_connect_failed(c, uv_strerror(r));
}

/* What the kernel knows of the connection's TCP socket; false for none
 * (no socket yet, or a unix socket). */
static bool conn_tcp_info(const struct pgh_conn *c, struct tcp_info *ti)
{
	socklen_t n = sizeof(*ti);
	int fd = c->pg != NULL ? PQsocket(c->pg) : -1;

	return fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &n) == 0;
}

/* What the kernel knows of a connect that has not completed, for a person. */
static const char *connect_hint(const struct pgh_conn *c)
{
	struct tcp_info ti;

	if (!conn_tcp_info(c, &ti))
		return "";
	if (ti.tcpi_state == TCP_SYN_SENT)
		return " (no answer to the TCP connect: the network or the host is down)";
	return " (the TCP connection is open: the server did not answer the login)";
}

static void connect_timeout_cb(uv_timer_t *t)
{
	struct pgh_conn *c = t->data;
	char server[300], *msg;

	if (c->state != PGH_CONN_CONNECTING && c->state != PGH_CONN_SETUP)
		return;
	conn_server(c, server, sizeof(server));
	if (c->state == PGH_CONN_CONNECTING)
		msg = pgh_xasprintf("connection to server %s failed: timeout expired after %" PRIu64
		                    " ms%s",
		                    server, c->pool->cfg->connect_timeout_ms, connect_hint(c));
	else
		msg = pgh_xasprintf("connection to server %s: timeout expired during session setup "
		                    "(the server or pooler accepted the login but did not answer)",
		                    server);
	conn_unwatch(c);
	conn_connect_failed(c, msg);
	free(msg);
}

/*
 * Parameters in order: our defaults, then the user's conninfo, then ours
 * again, then the host of this attempt (hosts.h).  The keepalives find a
 * dead idle connection in about two minutes, tcp_user_timeout one whose
 * data goes unacknowledged in ten seconds: never the kernel's fifteen.
 */
static PGconn *conn_start(const struct pgh_config *cfg, const char *database, const char *password,
                          const char *user, const struct pgh_host_attempt *at)
{
	const char *kw[24], *val[24];
	int n = 0;

	kw[n] = "keepalives", val[n++] = "1";
	kw[n] = "keepalives_idle", val[n++] = "60";
	kw[n] = "keepalives_interval", val[n++] = "10";
	kw[n] = "keepalives_count", val[n++] = "6";
	kw[n] = "tcp_user_timeout", val[n++] = "10000";
	kw[n] = "fallback_application_name", val[n++] = "pghealthd";
	kw[n] = "dbname", val[n++] = cfg->conninfo != NULL ? cfg->conninfo : "";
	if (cfg->application_name != NULL && cfg->application_name[0] != '\0')
		kw[n] = "application_name", val[n++] = cfg->application_name;
	if (cfg->password != NULL)
		kw[n] = "password", val[n++] = cfg->password;
	if (cfg->login_user != NULL)
		kw[n] = "user", val[n++] = cfg->login_user;
	if (password != NULL)
		kw[n] = "password", val[n++] = password;
	if (user != NULL)
		kw[n] = "user", val[n++] = user;
	/* A later dbname is a plain name that overrides the conninfo's. */
	if (database != NULL)
		kw[n] = "dbname", val[n++] = database;
	if (at != NULL && at->host != NULL)
		kw[n] = "host", val[n++] = at->host;
	if (at != NULL && at->hostaddr != NULL)
		kw[n] = "hostaddr", val[n++] = at->hostaddr;
	if (at != NULL && at->port != NULL)
		kw[n] = "port", val[n++] = at->port;
	if (at != NULL && at->target_session_attrs != NULL)
		kw[n] = "target_session_attrs", val[n++] = at->target_session_attrs;
	kw[n] = NULL, val[n] = NULL;
	return PQconnectStartParams(kw, val, 1);
}

/* The host of this attempt, in libpq's order from the pool's first host. */
static const struct pgh_host_attempt *conn_attempt(const struct pgh_conn *c)
{
	const struct pgh_hosts *h = &c->pool->hosts;
	unsigned pass, i;

	if (c->attempt >= h->n)
		return NULL;
	pass = c->attempt / h->n_hosts;
	i = (c->attempt_base + c->attempt) % h->n_hosts;
	return &h->at[pass * h->n_hosts + i];
}

/* Log in with password_command's answer, or libpq's own ways without one. */
static void conn_connect(struct pgh_conn *c)
{
	struct pgh_pool *p = c->pool;

	conn_set_state(c, PGH_CONN_CONNECTING);
	c->pg = conn_start(p->cfg, c->database, c->password, c->user, conn_attempt(c));
	if (c->pg == NULL)
		pgh_bug("PQconnectStartParams: out of memory");
	PQsetNoticeReceiver(c->pg, notice_cb, c);
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_connect_failed(c, PQerrorMessage(c->pg));
		return;
	}
	uv_timer_start(&c->timer, connect_timeout_cb, p->cfg->connect_timeout_ms, 0);
	/* Start as if PQconnectPoll had said WRITING. */
	conn_connect_step(c, PGRES_POLLING_WRITING);
}

/* password_command answered (see credential.h). */
static void conn_cred_ready_cb(struct pgh_cred_waiter *w, const char *password, const char *user,
                               const char *error)
{
	struct pgh_conn *c = PGH_CONTAINER_OF(w, struct pgh_conn, cred_wait);

	c->cred_waiting = false;
	if (error != NULL) {
		conn_connect_failed(c, error);
		return;
	}
	/* Kept for the next hosts of this connection's attempt. */
	c->password = password != NULL ? pgh_xstrdup(password) : NULL;
	c->user = user != NULL ? pgh_xstrdup(user) : NULL;
	conn_connect(c);
}

void conn_open(struct pgh_pool *p, const char *database)
{
	struct pgh_conn *c = pgh_xcalloc(1, sizeof(*c));

	c->pool = p;
	c->database = database != NULL ? pgh_xstrdup(database) : NULL;
	c->id = ++p->next_id;
	c->wave = p->wave;
	c->fd = -1;
	p->conns[p->n_conns++] = c;
	if (pool_used(p) > p->stats.peak)
		p->stats.peak = pool_used(p);
	uv_timer_init(p->loop, &c->timer);
	c->timer.data = c;
	c->handles = 1;
	if (p->hosts.shuffle)
		c->attempt_base = (unsigned)(pool_random(p) % p->hosts.n_hosts);
	if (database != NULL)
		pgh_debug("conn %u: to database %s", c->id, database);
	if (p->cfg->password_command == NULL) {
		conn_connect(c);
		return;
	}
	/* NEW until the command has answered; its own timeout bounds that. */
	c->cred_waiting = true;
	c->cred_wait.ready = conn_cred_ready_cb;
	pgh_cred_get(pool_cred(p), &c->cred_wait);
}

/* ---- statements --------------------------------------------------------- */

/* A released connection waiting for its cancel job: results are dropped,
 * and a lost connection is closed when the job ends (it is broken now). */
static bool detached_result_cb(struct pgh_conn *c, PGresult *res, void *arg)
{
	(void)c;
	(void)arg;
	PQclear(res);
	return true;
}

static void detached_done_cb(struct pgh_conn *c, const char *errmsg, void *arg)
{
	(void)arg;
	pgh_debug("conn %u: %s while its cancel request was in flight", c->id,
	          errmsg != NULL ? errmsg : "statement over");
}

static const struct pgh_query_ops detached_ops = {
    .result = detached_result_cb,
    .done = detached_done_cb,
};

static void idle_timeout_cb(uv_timer_t *t);

static void conn_become_idle(struct pgh_conn *c)
{
	struct pgh_pool *p = c->pool;

	conn_set_state(c, PGH_CONN_IDLE);
	c->idle_since = uv_now(p->loop);
	c->ops = NULL;
	c->arg = NULL;
	c->paused = false;
	if (p->cfg->idle_timeout_ms > 0)
		uv_timer_start(&c->timer, idle_timeout_cb, p->cfg->idle_timeout_ms, 0);
	conn_arm(c);
}

/* The setup pipeline is over: the connection is ready, or it failed. */
static void setup_done_cb(struct pgh_conn *c, const char *errmsg, void *arg)
{
	struct pgh_pool *p = c->pool;
	char *err;

	(void)arg;
	if (errmsg != NULL) {
		err = pgh_xasprintf("session setup failed: %s", errmsg);
		conn_connect_failed(c, err);
		free(err);
		return;
	}
	uv_timer_stop(&c->timer); /* the connect deadline: the connection is ready */
	p->stats.connects++;
	if (c->database == NULL)
		pool_note_success(p);
	/* The pid comes from the cancel key: a pooler hands out its own, so
	 * it is named for what it is, not as the backend's. */
	if (c->console)
		pgh_log(c->database != NULL ? LOG_DEBUG : LOG_INFO,
		        "conn %u: ready (pgbouncer %s, admin console)", c->id,
		        PQparameterStatus(c->pg, "server_version"));
	else
		pgh_log(c->database != NULL ? LOG_DEBUG : LOG_INFO,
		        "conn %u: ready (server %d, cancel key pid %d)", c->id,
		        PQserverVersion(c->pg), PQbackendPID(c->pg));
	if (c->stale)
		conn_close(c);
	else
		conn_become_idle(c);
	pool_dispatch(p);
}

static const struct pgh_query_ops setup_ops = {
    .result = detached_result_cb, /* the setup has no statement of an owner */
    .done = setup_done_cb,
};

/* The end of a transaction an owner left open (an error, a cancel). */
static void reset_done_cb(struct pgh_conn *c, const char *errmsg, void *arg)
{
	struct pgh_pool *p = c->pool;

	(void)arg;
	c->resetting = false;
	if (errmsg != NULL || c->broken || c->stale || p->closing ||
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE || conn_idle_closed(c)) {
		if (errmsg != NULL)
			pgh_warn("conn %u: could not end the transaction: %s", c->id, errmsg);
		conn_close(c);
	} else {
		conn_become_idle(c);
	}
	pool_dispatch(p);
}

static const struct pgh_query_ops reset_ops = {
    .result = detached_result_cb,
    .done = reset_done_cb,
};

static void deferred_fail_cb(uv_timer_t *t)
{
	struct pgh_conn *c = t->data;
	char *msg = c->deferred_err;

	c->deferred_err = NULL;
	conn_lost(c, msg);
	free(msg);
}

static int conn_flush(struct pgh_conn *c)
{
	int r = PQflush(c->pg);

	if (r < 0)
		return -1;
	c->flushing = r == 1;
	return 0;
}

/*
 * Send the whole pipeline c->pipe and its Sync: one round trip.  Every
 * statement goes with the extended protocol, so text holding several
 * statements is refused by the server before any of it runs.  A failure is
 * reported later, from the timer.
 */
static void conn_pipeline_send(struct pgh_conn *c, const struct pgh_query_ops *ops, void *arg)
{
	const char *err = NULL;

	c->ops = ops;
	c->arg = arg;
	c->paused = false;
	c->pipe_pos = 0;
	c->pipe_savepoint = c->pipe.savepoint;
	free(c->pipe_err);
	c->pipe_err = NULL;
	free(c->kept);
	c->kept = NULL;
	if (c->console) {
		/* One statement, simple protocol; its rows as they come. */
		if (!PQsendQuery(c->pg, c->pipe.sql[0]))
			err = PQerrorMessage(c->pg);
		else if (c->pipe_single_row && !conn_partial_rows(c))
			err = "could not enter single-row mode";
	} else {
		for (unsigned i = 0; err == NULL && i < c->pipe.n; i++)
			if (!PQsendQueryParams(c->pg, c->pipe.sql[i], 0, NULL, NULL, NULL, NULL, 0))
				err = PQerrorMessage(c->pg);
		if (err == NULL && !PQpipelineSync(c->pg))
			err = PQerrorMessage(c->pg);
	}
	if (err == NULL && conn_flush(c) < 0)
		err = PQerrorMessage(c->pg);
	if (err != NULL) {
		/* libpq may have closed the socket already: stop watching its fd
		 * number now, before another connection can be given it. */
		conn_unwatch(c);
		c->deferred_err = msg_dup(err);
		uv_timer_start(&c->timer, deferred_fail_cb, 0, 0);
		return;
	}
	conn_arm(c);
}

void pgh_conn_query(struct pgh_conn *c, const char *sql, uint64_t timeout_ms, unsigned flags,
                    const struct pgh_carry *carry, const struct pgh_query_ops *ops, void *arg)
{
	if (c->state != PGH_CONN_BUSY)
		pgh_bug("conn %u: query in state %s", c->id, pgh_conn_state_str(c->state));
	if (c->console) {
		pgh_pipeline_single(&c->pipe, sql);
		c->pipe.main = 0; /* the statement is the owner's */
	} else {
		pgh_session_build(&c->pipe, &c->session, c->pool->cfg, PQserverVersion(c->pg), sql,
		                  timeout_ms, (flags & PGH_QUERY_COMMIT) != 0, carry);
	}
	c->pipe_single_row = (flags & PGH_QUERY_SINGLE_ROW) != 0;
	c->pipe_commit = (flags & PGH_QUERY_COMMIT) != 0;
	conn_pipeline_send(c, ops, arg);
}

/* ---- socket events ------------------------------------------------------ */

/*
 * The connection is gone (EOF, reset, libpq closed the socket).  Stop the
 * poll handle now: the fd number may be handed to the next socket.
 */
static void conn_lost(struct pgh_conn *c, const char *why)
{
	struct pgh_pool *p = c->pool;
	char *msg = msg_dup(why), *named, server[300];

	conn_unwatch(c);
	c->broken = true;
	switch (c->state) {
	case PGH_CONN_CONNECTING:
	case PGH_CONN_SETUP:
		conn_connect_failed(c, msg);
		break;
	case PGH_CONN_IDLE:
	case PGH_CONN_BUSY:
		conn_server(c, server, sizeof(server));
		named = pgh_xasprintf("%s (server %s)", msg, server);
		pgh_warn("conn %u: connection lost%s: %s", c->id,
		         c->state == PGH_CONN_IDLE ? " while idle" : "", named);
		p->stats.failures++;
		/* The kernel gave up on the path (keepalives, tcp_user_timeout):
		 * the pool's other idle connections share it. */
		if (strstr(msg, "Connection timed out") != NULL)
			pool_suspect(p, c);
		if (c->state == PGH_CONN_IDLE) {
			conn_close(c);
			pool_dispatch(p);
		} else {
			c->ops->done(c, named, c->arg);
		}
		free(named);
		break;
	case PGH_CONN_NEW:
	case PGH_CONN_CLOSING:
		break;
	}
	free(msg);
}

/*
 * TLS: bytes already decrypted inside OpenSSL are invisible to epoll.  While
 * libpq still wants more and OpenSSL holds some, consume again.
 */
static bool conn_tls_pending(struct pgh_conn *c)
{
	SSL *ssl = PQsslInUse(c->pg) ? PQsslStruct(c->pg, "OpenSSL") : NULL;

	return ssl != NULL && SSL_pending(ssl) > 0;
}

/*
 * A COPY result puts libpq in a copy state in which PQgetResult() hands out
 * the same result again and again: the drain loop would spin forever.  The
 * owner hears it (and fails), then the connection is dropped: the server
 * ends a COPY TO STDOUT on the closed socket and rolls back a COPY FROM
 * STDIN at EOF, so no transaction and no lock outlive the statement.
 */
static bool result_is_copy(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st == PGRES_COPY_OUT || st == PGRES_COPY_IN || st == PGRES_COPY_BOTH;
}

/*
 * The state query's value, kept for the owner; a query that fails or says
 * nothing keeps nothing (the next run compares with an older value), and
 * the connection stays usable: the savepoint undoes the failure.
 */
static void conn_keep_result(struct pgh_conn *c, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK && PQntuples(res) > 0 && PQnfields(res) > 0 &&
	    !PQgetisnull(res, 0, 0) && PQgetlength(res, 0, 0) <= PGH_KEPT_MAX) {
		free(c->kept);
		c->kept = pgh_xstrdup(PQgetvalue(res, 0, 0));
	} else if (st == PGRES_FATAL_ERROR) {
		pgh_warn("conn %u: the state query failed: %.*s", c->id,
		         (int)strcspn(PQresultErrorMessage(res), "\n"), PQresultErrorMessage(res));
	} else if (st == PGRES_TUPLES_OK) {
		pgh_warn("conn %u: the state query returned no value, or over %d bytes", c->id,
		         PGH_KEPT_MAX);
	}
	PQclear(res);
}

char *pgh_conn_take_kept(struct pgh_conn *c)
{
	char *v = c->kept;

	c->kept = NULL;
	return v;
}

/*
 * The results of a statement that is not the owner's: the first error before
 * the owner's statement fails the pipeline; one after it (the trailer) leaves
 * the session in a state nobody knows, so the connection is not reused.
 */
static void conn_internal_result(struct pgh_conn *c, PGresult *res)
{
	const char *sql = c->pipe.sql[c->pipe_pos];

	if (c->pipe.keep != 0 && c->pipe_pos == c->pipe.keep) {
		conn_keep_result(c, res);
		return;
	}
	if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
		char *msg = msg_dup(PQresultErrorMessage(res));

		if (c->pipe_pos > c->pipe.main) {
			pgh_warn("conn %u: \"%.60s\" failed: %s", c->id, sql, msg);
			c->broken = true;
		} else if (c->pipe_err == NULL) {
			c->pipe_err = pgh_xasprintf("\"%.200s\": %s", sql, msg);
		}
		free(msg);
	}
	PQclear(res);
}

/* Rows a few at a time for the statement about to be read (see pool.h). */
static bool conn_partial_rows(struct pgh_conn *c)
{
#ifdef LIBPQ_HAS_CHUNK_MODE
	return PQsetChunkedRowsMode(c->pg, PGH_CHUNK_ROWS) == 1;
#else
	return PQsetSingleRowMode(c->pg) == 1;
#endif
}

/* A statement's results are over (libpq said NULL): on to the next one. */
static bool conn_next_statement(struct pgh_conn *c)
{
	c->pipe_pos++;
	/* Single-row mode is chosen per statement, before its first result
	 * is parsed: right now, before libpq reads on. */
	if (c->pipe_pos == c->pipe.main && c->pipe_single_row && !conn_partial_rows(c)) {
		conn_lost(c, "could not enter single-row mode");
		return false;
	}
	return true;
}

/* The pipeline's Sync came back: the owner hears how it went. */
static void conn_pipeline_done(struct pgh_conn *c)
{
	char *err = c->pipe_err;

	c->pipe_err = NULL;
	pgh_pipeline_clear(&c->pipe);
	/* The owner may release, re-query or close: hands off. */
	c->ops->done(c, err, c->arg);
	free(err);
}

/* The owner's statement's result; false when the connection was given up. */
static bool conn_owner_result(struct pgh_conn *c, PGresult *res)
{
	bool copy = result_is_copy(res);

	if (PQresultStatus(res) == PGRES_PIPELINE_ABORTED) {
		PQclear(res); /* an earlier statement failed: pipe_err says why */
		return true;
	}
	/* A statement without rows (PREPARE, DECLARE, LISTEN...) may leave
	 * what a rollback does not undo: the session is not reused. */
	if (PQresultStatus(res) == PGRES_COMMAND_OK && !c->pipe_commit)
		c->broken = true;
	if (!c->ops->result(c, res, c->arg))
		c->paused = true;
	if (copy) {
		conn_lost(c, "COPY to or from the client is not supported: the "
		             "connection was closed to end it");
		return false;
	}
	return true;
}

/* Hand every complete result to whoever hears it until libpq needs more bytes. */
static void conn_drain(struct pgh_conn *c)
{
	PGresult *res;

	for (;;) {
		/* Without a pipeline in flight (released, waiting for a cancel)
		 * there is nothing to read: libpq would say NULL for ever. */
		while (!c->paused && c->pipe.n > 0 && !PQisBusy(c->pg)) {
			res = PQgetResult(c->pg);
			/* Without a pipeline, NULL ends the one statement. */
			if (res == NULL && c->console) {
				conn_pipeline_done(c);
				return;
			}
			if (res == NULL) {
				if (!conn_next_statement(c))
					return;
				continue;
			}
			if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
				PQclear(res);
				conn_pipeline_done(c);
				return;
			}
			if (c->pipe_pos != c->pipe.main)
				conn_internal_result(c, res);
			else if (!conn_owner_result(c, res))
				return;
		}
		if (c->paused || !conn_tls_pending(c))
			break;
		if (!PQconsumeInput(c->pg)) {
			conn_lost(c, PQerrorMessage(c->pg));
			return;
		}
	}
	conn_arm(c);
}

static void conn_io(struct pgh_conn *c, int status, int events)
{
	if (status < 0) {
		/* On EPOLLERR libuv has stopped the handle: whatever is read
		 * now, the next conn_arm() must start it again. */
		c->armed = -1;
		events = UV_READABLE | (c->flushing ? UV_WRITABLE : 0);
	}
	if ((events & UV_WRITABLE) && conn_flush(c) < 0) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	if (events & UV_READABLE) {
		/* Consume before flushing again: the server may be blocked on us. */
		if (!PQconsumeInput(c->pg) || (c->flushing && conn_flush(c) < 0)) {
			conn_lost(c, PQerrorMessage(c->pg));
			return;
		}
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	if (c->state == PGH_CONN_IDLE) {
		if ((events & UV_READABLE) && conn_idle_closed(c)) {
			conn_lost(c, "the server closed the connection");
			return;
		}
		conn_arm(c);
		return;
	}
	conn_drain(c);
}

/* The one entry point for socket events. */
static void conn_poll_cb(uv_poll_t *h, int status, int events)
{
	struct pgh_conn *c = h->data;

	switch (c->state) {
	case PGH_CONN_CONNECTING:
		/* A refused connect reports UV_EBADF: libpq reads SO_ERROR itself. */
		conn_connect_step(c, PQconnectPoll(c->pg));
		break;
	case PGH_CONN_SETUP:
	case PGH_CONN_IDLE:
	case PGH_CONN_BUSY:
		conn_io(c, status, events);
		break;
	case PGH_CONN_CLOSING:
	default:
		pgh_bug("conn %u: socket event in state %s", c->id, pgh_conn_state_str(c->state));
	}
}

bool pgh_conn_is_redshift(const struct pgh_conn *c)
{
	return PQserverVersion(c->pg) < 90000 && !c->console;
}

void pgh_conn_resume(struct pgh_conn *c)
{
	if (c->state != PGH_CONN_BUSY || !c->paused)
		return;
	c->paused = false;
	/* Whole rows may already sit in libpq's buffer: drain before waiting. */
	conn_drain(c);
}

/* ---- cancel, silence, drop ---------------------------------------------- */

/* The cancel request has ended (err NULL: delivered). */
static void conn_cancel_done_cb(void *arg, const char *err)
{
	struct pgh_conn *c = arg;

	c->cancel = NULL;
	c->cancel_failed = err != NULL;
	if (err != NULL)
		pgh_warn("conn %u: cancel request failed: %s", c->id, err);
	else
		pgh_debug("conn %u: cancel request delivered", c->id);
	if (!c->release_pending)
		return;
	/* Not delivered: the query may still run, and a late cancel would
	 * hit the next one.  The session is not reused. */
	if (err != NULL)
		c->broken = true;
	c->release_pending = false;
	pgh_conn_release(c);
}

void pgh_conn_cancel(struct pgh_conn *c)
{
	if (c->state != PGH_CONN_BUSY || c->cancel != NULL || c->pg == NULL)
		return;
	c->cancel = pgh_cancel_start(c->pool->loop, c->pg, PGH_CANCEL_TIMEOUT_MS, c->id,
	                             conn_cancel_done_cb, c);
	/* No cancel key (some proxies): dropping the connection is what works. */
	if (c->cancel == NULL)
		c->broken = true;
}

bool pgh_conn_silence(const struct pgh_conn *c, char *buf, size_t len)
{
	struct tcp_info ti;
	char server[300];

	/* A unix socket has no TCP_INFO: it is never silent. */
	if (!conn_tcp_info(c, &ti))
		return false;
	conn_server(c, server, sizeof(server));
	if (ti.tcpi_unacked > 0 && ti.tcpi_last_ack_recv >= 1000)
		snprintf(buf, len,
		         "the server %s acknowledged nothing for %u ms (the network or the host "
		         "is down)",
		         server, ti.tcpi_last_ack_recv);
	else if (ti.tcpi_probes > 0)
		snprintf(buf, len,
		         "the server %s answered none of %u keepalive probes (the network or the "
		         "host is down)",
		         server, (unsigned)ti.tcpi_probes);
	else if ((c->cancel != NULL || c->cancel_failed) && ti.tcpi_last_data_recv >= 1000)
		snprintf(buf, len,
		         "no answer from the server %s: nothing received for %u ms, and the cancel "
		         "request did not get through (the network or the host is down)",
		         server, ti.tcpi_last_data_recv);
	else
		return false;
	return true;
}

void pgh_conn_drop(struct pgh_conn *c, const char *why)
{
	char silence[400];

	if (c->state != PGH_CONN_BUSY)
		return;
	if (pgh_conn_silence(c, silence, sizeof(silence))) {
		pgh_warn("conn %u: %s", c->id, silence);
		c->abort = true;
		pool_suspect(c->pool, c);
	}
	conn_lost(c, why);
}

void pgh_conn_release(struct pgh_conn *c)
{
	struct pgh_pool *p = c->pool;

	if (c->state != PGH_CONN_BUSY)
		pgh_bug("conn %u: release in state %s", c->id, pgh_conn_state_str(c->state));
	if (c->cancel != NULL && !c->broken) {
		/* The owner is gone (it may be freed now), but the socket stays
		 * watched until the cancel has ended (by its deadline at the
		 * latest): whatever arrives meanwhile (the last results, a
		 * FATAL, EOF) goes nowhere. */
		c->release_pending = true;
		c->ops = &detached_ops;
		c->arg = NULL;
		return;
	}
	if (c->cancel_failed)
		c->broken = true;
	uv_timer_stop(&c->timer);
	if (c->broken || c->stale || p->closing || PQstatus(c->pg) != CONNECTION_OK ||
	    conn_idle_closed(c)) {
		conn_close(c);
	} else if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		/* An error or a cancel skipped the end of the transaction: end
		 * it before anyone else gets the connection (session.h). */
		c->resetting = true;
		pgh_session_reset(&c->pipe, PQserverVersion(c->pg), c->pipe_savepoint);
		c->pipe_single_row = false;
		conn_pipeline_send(c, &reset_ops, NULL);
		return;
	} else {
		conn_become_idle(c);
	}
	pool_dispatch(p);
}

static void idle_timeout_cb(uv_timer_t *t)
{
	struct pgh_conn *c = t->data;
	struct pgh_pool *p = c->pool;
	unsigned keep = p->warm ? p->cfg->min_connections : 0;

	if (c->state != PGH_CONN_IDLE || p->n_conns <= keep)
		return;
	pgh_debug("conn %u: idle for %" PRIu64 " ms, closing", c->id, p->cfg->idle_timeout_ms);
	conn_close(c);
}
