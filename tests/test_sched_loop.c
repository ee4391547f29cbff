/*
 * test_sched_loop.c - the scheduler, the pool and the jobs on one real
 * libuv loop against a real server (run through tests/with-pg.sh, which
 * exports PGHOST PGPORT PGUSER PGDATABASE).
 *
 * Two rounds of four checks (rows, no rows, an error, a timeout) run to
 * completion and a third is cut short by the shutdown (the slow check still
 * on the server); the round summaries and the files in output_dir are
 * checked, and the loop must run dry with no handle left open and
 * uv_loop_close() == 0.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pghealthd/log.h"
#include "pghealthd/pool.h"
#include "pghealthd/sched.h"
#include "pghealthd/status.h"
#include "uvtest.h"

#define ROUNDS   3     /* the last one is interrupted */
#define STOP_MS  150   /* into the last round: the slow check is running */
#define GUARD_MS 60000 /* the whole run, far above what it needs */

struct run {
	struct uvtest_fixture *f;
	struct pgh_config *cfg;
	struct pgh_pool *pool;
	struct pgh_sched *sched;
	uv_timer_t next;  /* starts the next round outside the round callback,
	                   * then stops the last one */
	uv_timer_t guard; /* stops everything should a round never end */
	struct pgh_round_summary sum[ROUNDS];
	unsigned rounds;
	unsigned stopped; /* of the scheduler and the pool */
	bool stopping, timed_out;
	struct pgh_pool_stats stats; /* just before the pool closed */
	char *status_after;          /* status.csv when the last full round ended */
};

static const char *env_or_skip(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0') {
		fprintf(stderr, "%s is not set: run this test through tests/with-pg.sh\n", name);
		skip();
	}
	return v;
}

static struct pgh_config *load_run_config(struct uvtest_fixture *f, const char *out)
{
	char *text = pgh_xasprintf(
	    "[target]\n"
	    "conninfo = host='%s' port=%s dbname='%s' user='%s'\n"
	    "[pool]\n"
	    "max_connections = 2\n"
	    "[run]\n"
	    "output_dir = %s\n"
	    "fsync = true\n"
	    "history = 5\n"
	    "prometheus_file = pghealthd.prom\n"
	    "[check:rows]\n"
	    "sql = SELECT * FROM (VALUES (1, 'x,y'), (2, NULL)) AS v(a, b) ORDER BY a\n"
	    "severity = warning\n"
	    "[check:empty]\n"
	    "sql = SELECT 1 AS a WHERE false\n"
	    "severity = critical\n"
	    "[check:broken]\n"
	    "sql = SELECT 1 / 0 AS a\n"
	    "severity = critical\n"
	    "[check:slow]\n"
	    "sql = SELECT pg_sleep(30)\n"
	    "timeout = 300ms\n",
	    env_or_skip("PGHOST"), env_or_skip("PGPORT"), env_or_skip("PGDATABASE"),
	    env_or_skip("PGUSER"), out);
	struct pgh_config *cfg = uvtest_load_config(f->dir, text);

	free(text);
	return cfg;
}

static void handle_closed_cb(uv_handle_t *h)
{
	(void)h;
}

static void part_stopped_cb(void *arg)
{
	struct run *r = arg;

	if (++r->stopped == 2) {
		uv_close((uv_handle_t *)&r->next, handle_closed_cb);
		uv_close((uv_handle_t *)&r->guard, handle_closed_cb);
	}
}

/* As the daemon shuts down: the scheduler and the pool, each calls back. */
static void run_stop(struct run *r)
{
	if (r->stopping)
		return;
	r->stopping = true;
	pgh_pool_get_stats(r->pool, &r->stats);
	pgh_sched_stop(r->sched, part_stopped_cb, r);
	pgh_pool_close(r->pool, part_stopped_cb, r);
}

static void stop_cb(uv_timer_t *t)
{
	run_stop(t->data);
}

static void next_cb(uv_timer_t *t)
{
	struct run *r = t->data;

	pgh_sched_round(r->sched);
	if (r->rounds == ROUNDS - 1)
		uv_timer_start(&r->next, stop_cb, STOP_MS, 0);
}

static void guard_cb(uv_timer_t *t)
{
	struct run *r = t->data;

	r->timed_out = true;
	run_stop(r);
}

static void round_cb(struct pgh_sched *s, const struct pgh_round_summary *sum, void *arg)
{
	struct run *r = arg;
	char *path;

	(void)s;
	if (r->rounds < ROUNDS)
		r->sum[r->rounds] = *sum;
	if (++r->rounds == ROUNDS - 1) {
		/* status.csv is written before the callback. */
		path = uvtest_path(r->cfg->output_dir, "status.csv");
		r->status_after = uvtest_read_file(path, NULL);
		free(path);
	}
	if (r->rounds < ROUNDS && !r->stopping)
		uv_timer_start(&r->next, next_cb, 0, 0);
}

static void assert_full_round(const struct pgh_round_summary *sum, uint64_t no)
{
	assert_int_equal(sum->no, no);
	assert_int_equal(sum->ran, 4);
	assert_int_equal(sum->ok, 1);
	assert_int_equal(sum->findings, 1);
	assert_int_equal(sum->errors, 1);
	assert_int_equal(sum->timeouts, 1);
	assert_int_equal(sum->skipped, 0);
	/* A failed critical check is UNKNOWN; the warning's findings do not
	 * lower that. */
	assert_int_equal(sum->verdict, PGH_EXIT_UNKNOWN);
	assert_true(sum->status_written);
	assert_true(sum->duration_ms >= 300); /* the timeout's */
}

/* The round the shutdown cut short: every job reported, nothing published. */
static void assert_stopped_round(const struct pgh_round_summary *sum)
{
	assert_int_equal(sum->no, ROUNDS);
	assert_int_equal(sum->ran, 4);
	assert_int_equal(sum->skipped, 0);
	assert_int_equal(sum->timeouts, 0);
	assert_true(sum->errors >= 2); /* broken, and slow cut off by the shutdown */
	assert_int_equal(sum->ok + sum->findings + sum->errors, 4);
	assert_false(sum->status_written);
}

/* Line by line: each check's row starts as it must and holds what it must
 * (its file and empty error, then since, which the clock decides). */
static void assert_status_csv(const char *out)
{
	char *path = uvtest_path(out, "status.csv");
	char *text = uvtest_read_file(path, NULL);
	static const char *const starts[] = {
	    PGH_STATUS_HEADER,          "rows,warning,findings,2,", "empty,critical,ok,0,",
	    "broken,critical,error,0,", "slow,info,timeout,0,",
	};
	static const char *const ends[] = {"\n", ",rows.csv,,20", ",,,20", NULL, NULL};
	char *line = text, *eol;

	assert_non_null(text);
	for (size_t i = 0; i < PGH_ARRAY_LEN(starts); i++, line = eol + 1) {
		eol = strchr(line, '\n');
		assert_non_null(eol);
		if (strncmp(line, starts[i], strlen(starts[i])) != 0)
			fail_msg("status.csv line %zu does not start with %s:\n%s", i + 1,
			         starts[i], text);
		if (ends[i] != NULL &&
		    (strstr(line, ends[i]) == NULL || strstr(line, ends[i]) > eol))
			fail_msg("status.csv line %zu does not hold %s:\n%s", i + 1, ends[i], text);
	}
	assert_string_equal(line, "");
	uvtest_assert_contains(text, "division by zero");
	free(text);
	free(path);
}

static void assert_outputs(const char *out)
{
	char *hist = uvtest_path(out, "history/rows");
	char *listing = uvtest_list_dir(hist);
	char *prom_path = uvtest_path(out, "pghealthd.prom");
	char *prom = uvtest_read_file(prom_path, NULL);

	/* No empty.csv (the stale one is gone), no file of a failed check,
	 * no temp file. */
	uvtest_assert_listing(out, "history pghealthd.prom rows.csv status.csv");
	uvtest_assert_file(out, "rows.csv", "a,b\n1,\"x,y\"\n2,\n");
	assert_status_csv(out);
	/* One copy per round, unless both rounds fell in the same second. */
	assert_non_null(listing);
	assert_true(strlen(listing) == 20 || strlen(listing) == 41);
	uvtest_assert_contains(prom, "pghealthd_rounds_total 2\n");
	uvtest_assert_contains(prom, "pghealthd_round_verdict 3\n");
	uvtest_assert_contains(
	    prom, "pghealthd_check_success{check=\"broken\",severity=\"critical\"} 0\n");
	uvtest_assert_contains(prom,
	                       "pghealthd_check_rows{check=\"rows\",severity=\"warning\"} 2\n");
	free(prom);
	free(prom_path);
	free(listing);
	free(hist);
}

static void test_two_rounds_then_clean_shutdown(void **state)
{
	struct uvtest_fixture *f = *state;
	char *out = uvtest_path(f->dir, "out");
	struct run r = {.f = f};

	uvtest_mkdir_in(f->dir, "out");
	uvtest_write_in(out, "empty.csv", "a\n1\n"); /* a previous run's, now stale */
	r.cfg = load_run_config(f, out);
	r.pool = pgh_pool_new(&f->loop, r.cfg);
	r.sched = pgh_sched_new(&f->loop, r.cfg, r.pool, round_cb, &r);
	uv_timer_init(&f->loop, &r.next);
	uv_timer_init(&f->loop, &r.guard);
	r.next.data = r.guard.data = &r;
	uv_timer_start(&r.guard, guard_cb, GUARD_MS, 0);
	pgh_sched_round(r.sched);
	uv_run(&f->loop, UV_RUN_DEFAULT);

	assert_false(r.timed_out);
	assert_int_equal(r.rounds, ROUNDS);
	assert_int_equal(r.stopped, 2);
	assert_true(pgh_sched_idle(r.sched));
	assert_int_equal(pgh_sched_running(r.sched), 0);
	for (unsigned i = 0; i < ROUNDS - 1; i++)
		assert_full_round(&r.sum[i], i + 1);
	assert_stopped_round(&r.sum[ROUNDS - 1]);
	assert_true(r.stats.connects >= 1);
	assert_true(r.stats.peak <= 2);
	assert_outputs(out);
	/* No status write once stopping: status.csv is the last full round's. */
	assert_non_null(r.status_after);
	uvtest_assert_file(out, "status.csv", r.status_after);

	pgh_sched_free(r.sched);
	pgh_config_free(r.cfg);
	free(r.status_after);
	free(out);
	uvtest_loop_finish(&f->loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    UVTEST(test_two_rounds_then_clean_shutdown),
	};

	pgh_log_level = LOG_WARNING;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
