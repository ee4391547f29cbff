/*
 * daemon.c - the loop, its signals and its round timer (see daemon.h).
 *
 * Owns: the loop, the pool, the scheduler, the tick timer, the signal
 * handles and the configuration (and a reloaded one until it is swapped in).
 * A reload is applied only when no job is running and no status write is
 * pending, so no job ever sees its configuration freed; until then no new
 * round starts.  It is applied from a timer of its own, never from inside a
 * callback of the scheduler it replaces.  Shutdown is two parts that finish in any
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

#include "pghealthd/csvout.h"
#include "pghealthd/daemon.h"
#include "pghealthd/log.h"
#include "pghealthd/notify.h"
#include "pghealthd/pool.h"
#include "pghealthd/sched.h"
#include "pghealthd/settings.h"
#include "pghealthd/status.h"
#include "pghealthd/sink.h"

struct pgh_daemon {
	uv_loop_t loop;
	struct pgh_config *cfg;
	struct pgh_pool *pool;
	struct pgh_sched *sched;
	uv_timer_t tick;
	uv_timer_t watchdog;         /* WATCHDOG=1 at half systemd's interval */
	uv_timer_t apply;            /* applies a loaded reload at a safe point */
	uv_signal_t sigs[3];         /* SIGTERM, SIGINT, SIGHUP */
	char *config_path;           /* reloaded on SIGHUP */
	struct pgh_config *next_cfg; /* loaded, waiting for the scheduler to be idle */
	bool tick_deferred;          /* a tick came while the latest round still ran */
	bool tail_deferred;          /* ... once already with no check waiting */
	bool round_open;             /* the latest round started has not completed */
	uint64_t round_no;           /* the latest round started */
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
static void daemon_part_stopped_cb(void *arg)
{
	struct pgh_daemon *d = arg;

	if (--d->stop_pending > 0)
		return;
	uv_close((uv_handle_t *)&d->tick, handle_noop_close_cb);
	uv_close((uv_handle_t *)&d->watchdog, handle_noop_close_cb);
	uv_close((uv_handle_t *)&d->apply, handle_noop_close_cb);
	for (size_t i = 0; i < PGH_ARRAY_LEN(d->sigs); i++)
		uv_close((uv_handle_t *)&d->sigs[i], handle_noop_close_cb);
}

static void daemon_shutdown(struct pgh_daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	pgh_notify_stopping();
	uv_timer_stop(&d->tick);
	uv_timer_stop(&d->apply);
	d->stop_pending = 2;
	/* The pool cancels and fails in-flight work; jobs then discard temp files. */
	pgh_sched_stop(d->sched, daemon_part_stopped_cb, d);
	pgh_pool_close(d->pool, daemon_part_stopped_cb, d);
}

static void daemon_round(struct pgh_daemon *d);
static void round_cb(struct pgh_sched *s, const struct pgh_round_summary *sum, void *arg);
static void tick_cb(uv_timer_t *t);

/*
 * A check that the reload removes or disables leaves no file behind: "a
 * file on disk is the latest answer" must not hold for a check that no
 * longer runs.  Its history stays.
 */
static void remove_dropped_checks(struct pgh_daemon *d, const struct pgh_config *old,
                                  const struct pgh_config *cfg)
{
	for (size_t i = 0; i < old->n_checks; i++) {
		const struct pgh_check *c = &old->checks[i];
		bool kept = false;
		char *name;

		for (size_t j = 0; !kept && j < cfg->n_checks; j++)
			kept = cfg->checks[j].enabled && strcmp(cfg->checks[j].name, c->name) == 0;
		if (kept || !c->enabled)
			continue;
		name = pgh_csv_file_name(c->name);
		pgh_info("check %s is no longer configured: removing %s/%s", c->name,
		         old->output_dir, name);
		pgh_sink_unlink(&d->loop, old->output_dir, name);
		free(name);
	}
}

/*
 * Swap the reloaded configuration in.  Runs from its own timer, so no
 * callback of the scheduler being freed is on the stack; the scheduler may
 * have become busy again since the timer was started (a status write for a
 * round that ended meanwhile): then round_cb schedules it again.
 */
static void apply_cb(uv_timer_t *t)
{
	struct pgh_daemon *d = t->data;
	struct pgh_config *old = d->cfg, *cfg = d->next_cfg;
	struct pgh_sched *sched;
	bool reconnect;

	if (d->stopping || cfg == NULL || !pgh_sched_idle(d->sched))
		return;
	reconnect = pgh_config_reconnects(old, cfg);
	remove_dropped_checks(d, old, cfg);
	d->next_cfg = NULL;
	sched = pgh_sched_new(&d->loop, cfg, d->pool, round_cb, d);
	pgh_sched_adopt(sched, d->sched);
	pgh_sched_free(d->sched);
	d->sched = sched;
	pgh_pool_set_config(d->pool, cfg, reconnect);
	d->cfg = cfg;
	pgh_log_level = cfg->log_level;
	pgh_config_free(old);
	pgh_notify_ready();
	pgh_info("configuration reloaded: %zu checks%s", cfg->n_checks,
	         reconnect ? ", connections are being replaced" : "");
	uv_timer_start(&d->tick, tick_cb, 0, cfg->interval_ms);
}

static void daemon_reload(struct pgh_daemon *d)
{
	struct pgh_config *cfg = NULL;
	char *err = NULL;

	if (pgh_config_load(d->config_path, &cfg, &err) < 0 ||
	    pgh_config_require_checks(cfg, &err) < 0) {
		char *line = err, *nl;

		pgh_error("reload of %s failed; keeping the running configuration", d->config_path);
		for (; line != NULL && *line != '\0'; line = nl != NULL ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			pgh_error("%.*s", nl != NULL ? (int)(nl - line) : (int)strlen(line), line);
		}
		free(err);
		pgh_config_free(cfg);
		pgh_notify_ready();
		return;
	}
	/* Checked, never cleaned: sinks of running checks have their temp
	 * files there (the same directory may be spelled differently). */
	if (pgh_daemon_check_output(cfg->output_dir) < 0) {
		pgh_error("reload of %s refused: output_dir %s is not usable; keeping the running "
		          "configuration",
		          d->config_path, cfg->output_dir);
		pgh_config_free(cfg);
		pgh_notify_ready();
		return;
	}
	pgh_settings_log(cfg);
	pgh_config_free(d->next_cfg);
	d->next_cfg = cfg;
	if (pgh_sched_idle(d->sched))
		uv_timer_start(&d->apply, apply_cb, 0, 0);
	else
		pgh_info("configuration loaded; applied when the %u running checks finish",
		         pgh_sched_running(d->sched));
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct pgh_daemon *d = h->data;

	if (signum == SIGHUP) {
		pgh_info("received SIGHUP, reloading %s", d->config_path);
		if (!d->stopping && !d->once) {
			pgh_notify_reloading();
			daemon_reload(d);
		}
		return;
	}
	pgh_info("received %s, shutting down", strsignal(signum));
	if (d->once && d->exit_code == PGH_EXIT_OK)
		d->exit_code = PGH_EXIT_UNKNOWN;
	daemon_shutdown(d);
}

static void round_cb(struct pgh_sched *s, const struct pgh_round_summary *sum, void *arg)
{
	struct pgh_daemon *d = arg;
	struct pgh_round_summary final;

	(void)s;
	pgh_info("round %" PRIu64 ": %u checks, %u ok, %u findings, %u errors, %u timeouts, "
	         "%u skipped in %" PRIu64 " ms",
	         sum->no, sum->ran, sum->ok, sum->findings, sum->errors, sum->timeouts,
	         sum->skipped, sum->duration_ms);
	if (sum->no == d->round_no)
		d->round_open = false;
	if (d->stopping)
		return;
	pgh_notify_status("round %" PRIu64 ": %u ok, %u findings, %u errors, %u timeouts, "
	                  "%u skipped in %" PRIu64 " ms",
	                  sum->no, sum->ok, sum->findings, sum->errors, sum->timeouts, sum->skipped,
	                  sum->duration_ms);
	if (d->once) {
		d->exit_code = sum->verdict;
		if (!sum->status_written && d->exit_code < PGH_EXIT_UNKNOWN)
			d->exit_code = PGH_EXIT_UNKNOWN;
		/* A monitoring plugin's output: one line on stdout. */
		final = *sum;
		final.verdict = d->exit_code;
		pgh_sched_print_plugin(d->sched, &final, stdout);
		fflush(stdout);
		daemon_shutdown(d);
		return;
	}
	if (d->next_cfg != NULL) {
		/* Not here: this runs inside the scheduler's status callback. */
		if (pgh_sched_idle(d->sched))
			uv_timer_start(&d->apply, apply_cb, 0, 0);
	} else if (d->tick_deferred && !d->round_open) {
		daemon_round(d);
		uv_timer_again(&d->tick);
	}
}

/*
 * Rounds never stack: a tick that finds the latest round still running is
 * delayed until that round completes, for as long as it has checks waiting
 * for a connection (queued work only grows), and for one more tick while
 * its last checks run.  After that the next round starts anyway and the
 * scheduler skips just the checks still running: a stuck check cannot hold
 * every other check hostage.
 */
static void daemon_round(struct pgh_daemon *d)
{
	if (d->next_cfg != NULL)
		return; /* the reload is applied first, when the running checks finish */
	if (d->round_open && (pgh_sched_waiting(d->sched) > 0 || !d->tail_deferred)) {
		if (!d->tick_deferred)
			pgh_notice("round %" PRIu64 " overran the interval; next round delayed",
			           d->round_no);
		d->tail_deferred = pgh_sched_waiting(d->sched) == 0;
		d->tick_deferred = true;
		return;
	}
	if (d->round_open)
		pgh_warn("round %" PRIu64 " still has checks running after another interval; "
		         "starting the next round, those checks are skipped",
		         d->round_no);
	d->tick_deferred = false;
	d->tail_deferred = false;
	d->round_open = true;
	d->round_no = pgh_sched_round(d->sched);
}

static void tick_cb(uv_timer_t *t)
{
	daemon_round(t->data);
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
	int r = pgh_daemon_check_output(dir);

	if (r < 0)
		return r;
	r = pgh_sink_remove_stale(dir);
	if (r >= 0) {
		/* And those of the checks' kept states (sched.c), if any. */
		char *state = pgh_xasprintf("%s/" PGH_STATE_DIR, dir);
		int rs = pgh_sink_remove_stale(state);

		if (rs < 0 && rs != -ENOENT)
			pgh_warn("%s: could not remove stale temp files", state);
		free(state);
	}
	return r < 0 ? r : 0;
}

int pgh_daemon_check_output(const char *dir)
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
	return 0;
}

/* The loop is alive: tell systemd's watchdog so. */
static void watchdog_cb(uv_timer_t *t)
{
	(void)t;
	pgh_notify_watchdog();
}

static void daemon_start(struct pgh_daemon *d)
{
	uint64_t watchdog_ms;
	static const int signums[] = {SIGTERM, SIGINT, SIGHUP};

	for (size_t i = 0; i < PGH_ARRAY_LEN(d->sigs); i++) {
		uv_signal_init(&d->loop, &d->sigs[i]);
		d->sigs[i].data = d;
		uv_signal_start(&d->sigs[i], signal_cb, signums[i]);
	}
	uv_timer_init(&d->loop, &d->tick);
	d->tick.data = d;
	uv_timer_init(&d->loop, &d->watchdog);
	d->watchdog.data = d;
	uv_timer_init(&d->loop, &d->apply);
	d->apply.data = d;
	d->pool = pgh_pool_new(&d->loop, d->cfg);
	d->sched = pgh_sched_new(&d->loop, d->cfg, d->pool, round_cb, d);
	if (d->once) {
		uv_timer_start(&d->tick, tick_cb, 0, 0);
	} else {
		pgh_pool_warm(d->pool);
		uv_timer_start(&d->tick, tick_cb, 0, d->cfg->interval_ms);
		watchdog_ms = pgh_notify_watchdog_ms();
		if (watchdog_ms > 0)
			uv_timer_start(&d->watchdog, watchdog_cb, watchdog_ms / 2, watchdog_ms / 2);
		/* Ready once the configuration and the output directory are: a
		 * database outage is a finding of the rounds, not a failed start. */
		pgh_notify_ready();
		pgh_notify_status("started: %zu checks", d->cfg->n_checks);
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
	d.config_path = pgh_xstrdup(cfg->path);
	d.once = once;
	d.exit_code = PGH_EXIT_OK;
	if (pgh_daemon_prepare_output(cfg->output_dir) < 0) {
		/* Better a failed start than a service (or a timer) that looks
		 * healthy and writes nothing: 73 is neither a result nor UNKNOWN. */
		pgh_error("cannot start: output_dir %s is not usable", cfg->output_dir);
		pgh_config_free(cfg);
		free(d.config_path);
		return PGH_EXIT_CANTCREAT;
	}
	pgh_status_remove_gone(cfg->output_dir, cfg);
	r = uv_loop_init(&d.loop);
	if (r < 0) {
		pgh_error("uv_loop_init: %s", uv_strerror(r));
		pgh_config_free(cfg);
		free(d.config_path);
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
	pgh_config_free(d.cfg);
	pgh_config_free(d.next_cfg);
	free(d.config_path);
	pgh_info("stopped");
	return d.exit_code;
}
