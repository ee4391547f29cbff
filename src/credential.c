/*
 * credential.c - password_command (see credential.h).
 *
 * Owns: the cached password and user (wiped when replaced or freed), and
 * per run the child's process, its two output pipes and the kill timer:
 * four handles, closed before the waiters hear the outcome, so nothing is
 * freed inside its own callback and the next run can reuse the structs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* explicit_bzero */
#endif
#include <ctype.h>
#include <json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pghealthd/credential.h"
#include "pghealthd/log.h"

#define MAX_OUTPUT 65536 /* a password, or a secret's JSON */
#define MAX_STDERR 1024  /* the first lines, for the error */

struct pgh_cred {
	uv_loop_t *loop;
	const struct pgh_config *cfg;
	char *password; /* cached; NULL when there is none or it was refused */
	char *user;
	uint64_t fetched_at; /* uv_now() */

	/* A run. */
	bool running;
	uv_process_t proc;
	uv_pipe_t out, err;
	uv_timer_t timer;
	unsigned handles; /* of the run, still open */
	unsigned streams; /* pipes not at EOF yet */
	bool exited;
	int64_t status;
	int signal;
	bool timed_out;
	char *obuf;
	size_t olen;
	bool too_long;
	char ebuf[MAX_STDERR];
	size_t elen;
	char scratch[4096];

	struct pgh_cred_waiter *head, *tail;
	bool closing;
	void (*closed_cb)(void *arg);
	void *closed_arg;
};

struct pgh_cred *pgh_cred_new(uv_loop_t *loop, const struct pgh_config *cfg)
{
	struct pgh_cred *cr = pgh_xcalloc(1, sizeof(*cr));

	cr->loop = loop;
	cr->cfg = cfg;
	return cr;
}

/* ---- the output ----------------------------------------------------------- */

/* The first string of obj among keys, or NULL. */
static const char *json_string_of(struct json_object *obj, const char *const *keys)
{
	struct json_object *v;

	for (; *keys != NULL; keys++)
		if (json_object_object_get_ex(obj, *keys, &v) &&
		    json_object_is_type(v, json_type_string))
			return json_object_get_string(v);
	return NULL;
}

bool pgh_cred_parse(const char *text, char **password, char **user, const char **why)
{
	static const char *const pw_keys[] = {"password", "DbPassword", "dbPassword", NULL};
	static const char *const user_keys[] = {"username", "DbUser", "dbUser", NULL};
	const char *t = text + strspn(text, " \t\r\n");
	struct json_object *obj;
	const char *pw, *u;

	*password = *user = NULL;
	if (*t != '{') {
		size_t n = strcspn(t, "\r\n");

		if (n == 0)
			return *why = "printed no password", false;
		*password = pgh_xstrndup(t, n);
		return true;
	}
	obj = json_tokener_parse(t);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return *why = "printed a '{' that is not a JSON object", false;
	}
	pw = json_string_of(obj, pw_keys);
	u = json_string_of(obj, user_keys);
	if (pw == NULL || pw[0] == '\0') {
		json_object_put(obj);
		return *why = "printed JSON without a password (\"password\", \"DbPassword\" or "
		              "\"dbPassword\")",
		       false;
	}
	*password = pgh_xstrdup(pw);
	*user = u != NULL && u[0] != '\0' ? pgh_xstrdup(u) : NULL;
	json_object_put(obj);
	return true;
}

/* The first lines of stderr, one line, control characters replaced. */
static char *stderr_excerpt(const struct pgh_cred *cr)
{
	size_t n = cr->elen;
	char *s;

	while (n > 0 && isspace((unsigned char)cr->ebuf[n - 1]))
		n--;
	s = pgh_xstrndup(cr->ebuf, n);
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = *c == '\n' ? '|' : '?';
	return s;
}

/* ---- a run ------------------------------------------------------------------ */

static void cred_notify(struct pgh_cred *cr, const char *error)
{
	struct pgh_cred_waiter *w = cr->head, *next;

	cr->head = cr->tail = NULL;
	for (; w != NULL; w = next) {
		next = w->next;
		w->next = NULL;
		w->ready(w, error == NULL ? cr->password : NULL, error == NULL ? cr->user : NULL,
		         error);
	}
}

static void cred_free(struct pgh_cred *cr)
{
	void (*cb)(void *) = cr->closed_cb;
	void *arg = cr->closed_arg;

	pgh_wipe_free(cr->password);
	pgh_wipe_free(cr->user);
	free(cr);
	if (cb != NULL)
		cb(arg);
}

/* Every handle of the run is closed: decide, then tell the waiters. */
static void cred_run_over(struct pgh_cred *cr)
{
	char *password = NULL, *user = NULL, *err = NULL, *excerpt;
	const char *why = NULL;
	char dur[32];

	cr->running = false;
	if (cr->obuf != NULL)
		cr->obuf[cr->olen] = '\0';
	excerpt = stderr_excerpt(cr);
	pgh_duration_format(cr->cfg->password_command_timeout_ms, dur, sizeof(dur));
	if (cr->closing)
		err = pgh_xstrdup("pghealthd is shutting down");
	else if (cr->timed_out)
		err = pgh_xasprintf("password_command did not finish within %s (killed)%s%s", dur,
		                    excerpt[0] ? ": " : "", excerpt);
	else if (cr->signal != 0)
		err = pgh_xasprintf("password_command was killed by signal %d%s%s", cr->signal,
		                    excerpt[0] ? ": " : "", excerpt);
	else if (cr->status != 0)
		err = pgh_xasprintf("password_command exited with status %d%s%s", (int)cr->status,
		                    excerpt[0] ? ": " : "", excerpt);
	else if (cr->too_long)
		err = pgh_xasprintf("password_command printed more than %d bytes", MAX_OUTPUT);
	else if (!pgh_cred_parse(cr->obuf != NULL ? cr->obuf : "", &password, &user, &why))
		err = pgh_xasprintf("password_command %s", why);
	free(excerpt);
	if (cr->obuf != NULL) {
		explicit_bzero(cr->obuf, cr->olen);
		free(cr->obuf);
		cr->obuf = NULL;
	}
	pgh_wipe_free(cr->password);
	pgh_wipe_free(cr->user);
	cr->password = password;
	cr->user = user;
	cr->fetched_at = uv_now(cr->loop);
	if (err != NULL)
		pgh_warn("%s", err);
	else
		pgh_debug("password_command: a password%s", user != NULL ? " and a user name" : "");
	cred_notify(cr, err);
	free(err);
	if (cr->closing)
		cred_free(cr);
}

static void cred_handle_closed_cb(uv_handle_t *h)
{
	struct pgh_cred *cr = h->data;

	if (--cr->handles == 0)
		cred_run_over(cr);
}

static void cred_maybe_over(struct pgh_cred *cr)
{
	if (!cr->exited || cr->streams > 0)
		return;
	uv_close((uv_handle_t *)&cr->timer, cred_handle_closed_cb);
	uv_close((uv_handle_t *)&cr->proc, cred_handle_closed_cb);
	uv_close((uv_handle_t *)&cr->out, cred_handle_closed_cb);
	uv_close((uv_handle_t *)&cr->err, cred_handle_closed_cb);
}

static void cred_exit_cb(uv_process_t *proc, int64_t status, int signal)
{
	struct pgh_cred *cr = proc->data;

	cr->exited = true;
	cr->status = status;
	cr->signal = signal;
	uv_timer_stop(&cr->timer);
	cred_maybe_over(cr);
}

static void cred_kill(struct pgh_cred *cr)
{
	/* The group: /bin/sh and whatever it started (a pipe's last process,
	 * a sleep) must not keep the pipes open. */
	if (!cr->exited)
		uv_kill(-cr->proc.pid, SIGKILL);
}

static void cred_timeout_cb(uv_timer_t *t)
{
	struct pgh_cred *cr = t->data;

	cr->timed_out = true;
	cred_kill(cr);
}

static void cred_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct pgh_cred *cr = h->data;

	(void)hint;
	*buf = uv_buf_init(cr->scratch, sizeof(cr->scratch));
}

static void cred_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct pgh_cred *cr = s->data;
	size_t len = n > 0 ? (size_t)n : 0;

	if (n < 0) {
		uv_read_stop(s);
		cr->streams--;
		cred_maybe_over(cr);
	} else if (s == (uv_stream_t *)&cr->out) {
		if (cr->olen + len > MAX_OUTPUT) {
			cr->too_long = true;
			len = 0;
		}
		if (cr->obuf == NULL)
			cr->obuf = pgh_xmalloc(MAX_OUTPUT + 1);
		memcpy(cr->obuf + cr->olen, buf->base, len);
		cr->olen += len;
	} else {
		len = len < MAX_STDERR - cr->elen ? len : MAX_STDERR - cr->elen;
		memcpy(cr->ebuf + cr->elen, buf->base, len);
		cr->elen += len;
	}
	/* On an error or EOF libuv may hand back a buffer it never allocated
	 * (base NULL); only bytes that were read need wiping. */
	if (n > 0)
		explicit_bzero(buf->base, (size_t)n);
}

/*
 * Start the command.  A spawn that fails is a run that exited 127: its
 * handles close at once, and the waiters hear it from the loop, never from
 * inside pgh_cred_get().
 */
static void cred_run(struct pgh_cred *cr)
{
	const char *args[] = {"/bin/sh", "-c", cr->cfg->password_command, NULL};
	uv_stdio_container_t stdio[3];
	uv_process_options_t o = {0};
	int r;

	cr->running = true;
	cr->exited = cr->timed_out = cr->too_long = false;
	cr->status = 0;
	cr->signal = 0;
	cr->olen = cr->elen = 0;
	uv_timer_init(cr->loop, &cr->timer);
	uv_pipe_init(cr->loop, &cr->out, 0);
	uv_pipe_init(cr->loop, &cr->err, 0);
	cr->timer.data = cr->proc.data = cr->out.data = cr->err.data = cr;
	cr->handles = 3;
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&cr->out;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&cr->err;
	o.file = args[0];
	o.args = (char **)args;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = cred_exit_cb;
	o.flags = UV_PROCESS_DETACHED; /* a process group of its own, to kill */
	pgh_debug("password_command: running");
	r = uv_spawn(cr->loop, &cr->proc, &o);
	cr->handles++; /* uv_spawn initialises the handle even when it fails */
	if (r < 0) {
		snprintf(cr->ebuf, sizeof(cr->ebuf), "cannot start /bin/sh: %s", uv_strerror(r));
		cr->elen = strlen(cr->ebuf);
		cr->exited = true;
		cr->status = 127;
		cr->streams = 0;
		cred_maybe_over(cr);
		return;
	}
	cr->streams = 2;
	uv_read_start((uv_stream_t *)&cr->out, cred_alloc_cb, cred_read_cb);
	uv_read_start((uv_stream_t *)&cr->err, cred_alloc_cb, cred_read_cb);
	uv_timer_start(&cr->timer, cred_timeout_cb, cr->cfg->password_command_timeout_ms, 0);
}

/* ---- the API ---------------------------------------------------------------- */

void pgh_cred_get(struct pgh_cred *cr, struct pgh_cred_waiter *w)
{
	uint64_t ttl = cr->cfg->password_ttl_ms;

	if (!cr->running && cr->password != NULL && ttl > 0 &&
	    uv_now(cr->loop) - cr->fetched_at < ttl) {
		w->ready(w, cr->password, cr->user, NULL);
		return;
	}
	w->next = NULL;
	if (cr->tail != NULL)
		cr->tail->next = w;
	else
		cr->head = w;
	cr->tail = w;
	if (!cr->running && !cr->closing)
		cred_run(cr);
}

void pgh_cred_cancel(struct pgh_cred *cr, struct pgh_cred_waiter *w)
{
	struct pgh_cred_waiter **link = &cr->head, *prev = NULL;

	while (*link != NULL && *link != w) {
		prev = *link;
		link = &(*link)->next;
	}
	if (*link == NULL)
		return;
	*link = w->next;
	if (cr->tail == w)
		cr->tail = prev;
	w->next = NULL;
}

void pgh_cred_invalidate(struct pgh_cred *cr)
{
	if (cr->password != NULL)
		pgh_info("password_command: the server refused the password; it runs again");
	pgh_wipe_free(cr->password);
	pgh_wipe_free(cr->user);
	cr->password = cr->user = NULL;
}

void pgh_cred_set_config(struct pgh_cred *cr, const struct pgh_config *cfg)
{
	cr->cfg = cfg;
	pgh_wipe_free(cr->password);
	pgh_wipe_free(cr->user);
	cr->password = cr->user = NULL;
}

void pgh_cred_close(struct pgh_cred *cr, void (*done)(void *arg), void *arg)
{
	cr->closing = true;
	cr->closed_cb = done;
	cr->closed_arg = arg;
	if (cr->running) {
		cred_kill(cr); /* the run ends, then frees */
		return;
	}
	cred_notify(cr, "pghealthd is shutting down");
	cred_free(cr);
}
