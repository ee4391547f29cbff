/*
 * daemon.c - the loop, its signals and its round timer (see daemon.h).
 *
 * Owns: the loop, the pool, the scheduler, the tick timer, the signal
 * handles and the configuration.  Shutdown is two parts that finish in any
 * order (the scheduler has no job left; the pool has closed every
 * connection); then the daemon's own handles close and the loop ends.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pghealthd/daemon.h"
#include "pghealthd/log.h"
#include "pghealthd/pool.h"
#include "pghealthd/sched.h"
#include "pghealthd/sink.h"

struct pgh_daemon {
	uv_loop_t loop;
	struct pgh_config *cfg;
	struct pgh_pool *pool;
	struct pgh_sched *sched;
	uv_timer_t tick;
	uv_signal_t sigs[2]; /* SIGTERM, SIGINT */
	bool once;
	bool stopping;
	unsigned stop_pending; /* scheduler + pool still to finish */
	int exit_code;
};

static void handle_noop_close_cb(uv_handle_t *h)
{
	(void)h;
}

/* Both halves are down: close our own handles; uv_run() then returns. */
static void daemon_part_stopped(void *arg)
{
	struct pgh_daemon *d = arg;

	if (--d->stop_pending > 0)
		return;
	uv_close((uv_handle_t *)&d->tick, handle_noop_close_cb);
	for (size_t i = 0; i < PGH_ARRAY_LEN(d->sigs); i++)
		uv_close((uv_handle_t *)&d->sigs[i], handle_noop_close_cb);
}

static void daemon_shutdown(struct pgh_daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	uv_timer_stop(&d->tick);
	d->stop_pending = 2;
	/* The pool cancels and fails in-flight work; jobs then discard temp files. */
	pgh_sched_stop(d->sched, daemon_part_stopped, d);
	pgh_pool_close(d->pool, daemon_part_stopped, d);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct pgh_daemon *d = h->data;

	pgh_info("received %s, shutting down", strsignal(signum));
	if (d->stopping && !d->once) {
		/* A second signal while waiting: nothing else to do but wait. */
		return;
	}
	if (d->once && d->exit_code == PGH_EXIT_OK)
		d->exit_code = PGH_EXIT_UNKNOWN;
	daemon_shutdown(d);
}

static void round_cb(struct pgh_sched *s, const struct pgh_round_summary *sum, void *arg)
{
	struct pgh_daemon *d = arg;

	(void)s;
	pgh_info("round %" PRIu64 ": %u checks, %u ok, %u findings, %u errors, %u timeouts, "
	         "%u skipped in %" PRIu64 " ms",
	         sum->no, sum->ran, sum->ok, sum->findings, sum->errors, sum->timeouts,
	         sum->skipped, sum->duration_ms);
	if (!d->once || d->stopping)
		return;
	d->exit_code = sum->verdict;
	if (!sum->status_written && d->exit_code < PGH_EXIT_UNKNOWN)
		d->exit_code = PGH_EXIT_UNKNOWN;
	daemon_shutdown(d);
}

static void tick_cb(uv_timer_t *t)
{
	struct pgh_daemon *d = t->data;

	pgh_sched_round(d->sched);
}

/* mkdir -p with 0750 for what is created. */
static int mkdir_p(const char *dir)
{
	char *p = pgh_xstrdup(dir);
	int r = 0;

	for (char *s = p + 1; *s != '\0' && r == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0750) < 0 && errno != EEXIST)
			r = -errno;
		*s = '/';
	}
	if (r == 0 && mkdir(p, 0750) < 0 && errno != EEXIST)
		r = -errno;
	free(p);
	return r;
}

int pgh_daemon_prepare_output(const char *dir)
{
	struct stat st;
	int r = mkdir_p(dir);

	if (r < 0) {
		pgh_error("output_dir %s: cannot create: %s", dir, strerror(-r));
		return r;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		pgh_error("output_dir %s: not a directory", dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		r = -errno;
		pgh_error("output_dir %s: not writable: %s", dir, strerror(errno));
		return r;
	}
	r = pgh_sink_remove_stale(dir);
	return r < 0 ? r : 0;
}

static void daemon_start(struct pgh_daemon *d)
{
	static const int signums[] = {SIGTERM, SIGINT};

	for (size_t i = 0; i < PGH_ARRAY_LEN(d->sigs); i++) {
		uv_signal_init(&d->loop, &d->sigs[i]);
		d->sigs[i].data = d;
		uv_signal_start(&d->sigs[i], signal_cb, signums[i]);
	}
	uv_timer_init(&d->loop, &d->tick);
	d->tick.data = d;
	d->pool = pgh_pool_new(&d->loop, d->cfg);
	d->sched = pgh_sched_new(&d->loop, d->cfg, d->pool, round_cb, d);
	if (d->once) {
		uv_timer_start(&d->tick, tick_cb, 0, 0);
	} else {
		pgh_pool_warm(d->pool);
		uv_timer_start(&d->tick, tick_cb, 0, d->cfg->interval_ms);
	}
}

static void walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	pgh_log_write(LOG_CRIT, "handle left open at shutdown: %s", uv_handle_type_name(h->type));
}

int pgh_daemon_main(struct pgh_config *cfg, bool once)
{
	struct pgh_daemon d;
	int r;

	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.once = once;
	d.exit_code = PGH_EXIT_OK;
	if (pgh_daemon_prepare_output(cfg->output_dir) < 0 && once)
		pgh_warn("output_dir %s is not usable: results cannot be written", cfg->output_dir);
	r = uv_loop_init(&d.loop);
	if (r < 0) {
		pgh_error("uv_loop_init: %s", uv_strerror(r));
		pgh_config_free(cfg);
		return PGH_EXIT_UNKNOWN;
	}
	pgh_info("starting: %zu checks, pool %u..%u, %s", cfg->n_checks, cfg->min_connections,
	         cfg->max_connections, once ? "one round" : "daemon");
	daemon_start(&d);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	pgh_sched_free(d.sched);
	r = uv_loop_close(&d.loop);
	if (r != 0) {
		uv_walk(&d.loop, walk_cb, NULL);
		pgh_bug("uv_loop_close: %s", uv_strerror(r));
	}
	pgh_config_free(cfg);
	pgh_info("stopped");
	return d.exit_code;
}
