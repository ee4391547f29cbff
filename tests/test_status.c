/*
 * test_status.c - status.csv and the Prometheus textfile rendered through a
 * real sink on a real loop (exact bytes), the verdict over combinations of
 * severities and states, the plugin line, `pghealthd status` reading a
 * written directory back, and the removal of files of checks gone at start.
 *
 * Each test ends the way libuv's own tests do: the loop runs dry, no handle
 * is left open, and uv_loop_close() returns 0.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <cmocka.h>

#include "pghealthd/log.h"
#include "pghealthd/status.h"
#include "uvtest.h"

#define T0 1700000000123u /* 2023-11-14T22:13:20.123Z */

static const struct pgh_result bloat_result = {
    .state = PGH_CHECK_FINDINGS,
    .rows = 3,
    .duration_ms = 1234,
    .started_ms = T0,
    .file = "bloat.csv",
};
static const struct pgh_result conn_result = {
    .state = PGH_CHECK_ERROR,
    .duration_ms = 5,
    .started_ms = T0 - 123,
    .error = "syntax error at \"x\", line 1\nLINE 1: x,y",
};
static const struct pgh_result none_result = {.state = PGH_CHECK_OK};

/* One check with findings, one failed with a hostile error, one skipped. */
static const struct pgh_status_entry three[] = {
    {"bloat", PGH_SEV_WARNING, PGH_CHECK_FINDINGS, &bloat_result, T0 - 60000, NULL, 0},
    {"conn", PGH_SEV_CRITICAL, PGH_CHECK_ERROR, &conn_result, T0 - 123, NULL, 0},
    {"never", PGH_SEV_INFO, PGH_CHECK_SKIPPED, &none_result, 0, NULL, 0},
};

struct render {
	const struct pgh_status_entry *e;
	size_t n;
	const struct pgh_prom_extra *extra; /* NULL: status.csv */
};

static void fill_status(struct pgh_sink *s, void *arg)
{
	const struct render *r = arg;

	if (r->extra != NULL)
		pgh_status_render_prom(s, r->e, r->n, r->extra);
	else
		pgh_status_render(s, r->e, r->n);
}

/* Publish what r renders as dir/name, as the scheduler does. */
static void publish(struct uvtest_fixture *f, const char *name, const struct render *r)
{
	struct pgh_sink_opts o = {.dir = f->dir, .name = name, .fsync = true};
	struct uvtest_sink_result res = uvtest_publish(&f->loop, &o, fill_status, (void *)r, true);

	if (res.status != 0)
		fail_msg("publish %s: %s", name, res.errmsg);
}

static void test_render_status_csv(void **state)
{
	struct uvtest_fixture *f = *state;
	struct render r = {three, PGH_ARRAY_LEN(three), NULL};

	publish(f, "status.csv", &r);
	uvtest_assert_file(f->dir, "status.csv",
	                   "check,severity,state,rows,duration_ms,started_at,file,error,since\n"
	                   "bloat,warning,findings,3,1234,2023-11-14T22:13:20.123Z,bloat.csv,,"
	                   "2023-11-14T22:12:20.123Z\n"
	                   "conn,critical,error,0,5,2023-11-14T22:13:20.000Z,,"
	                   "\"syntax error at \"\"x\"\", line 1\nLINE 1: x,y\","
	                   "2023-11-14T22:13:20.000Z\n"
	                   "never,info,skipped,0,0,,,,\n");
	uvtest_assert_listing(f->dir, "status.csv");

	/* No entry: the header alone. */
	r.n = 0;
	publish(f, "status.csv", &r);
	uvtest_assert_file(f->dir, "status.csv", PGH_STATUS_HEADER);
	uvtest_loop_finish(&f->loop);
}

static void test_render_prometheus(void **state)
{
	struct uvtest_fixture *f = *state;
	struct pgh_prom_extra x = {
	    .rounds = 7,
	    .round_duration_ms = 2500,
	    .round_end_ms = T0 + 2500,
	    .verdict = PGH_EXIT_UNKNOWN,
	    .conns_open = 2,
	    .conns_busy = 1,
	    .conns_peak = 3,
	    .connects = 4,
	    .conn_failures = 1,
	};
	struct render r = {three, 2, &x};

	publish(f, "pghealthd.prom", &r);
	uvtest_assert_file(
	    f->dir, "pghealthd.prom",
	    "# HELP pghealthd_check_success 1 when the check's latest run completed, 0 when it "
	    "failed or timed out.\n"
	    "# TYPE pghealthd_check_success gauge\n"
	    "pghealthd_check_success{check=\"bloat\",severity=\"warning\"} 1\n"
	    "pghealthd_check_success{check=\"conn\",severity=\"critical\"} 0\n"
	    "# HELP pghealthd_check_duration_seconds Wall time of the check's latest run.\n"
	    "# TYPE pghealthd_check_duration_seconds gauge\n"
	    "pghealthd_check_duration_seconds{check=\"bloat\",severity=\"warning\"} 1.234\n"
	    "pghealthd_check_duration_seconds{check=\"conn\",severity=\"critical\"} 0.005\n"
	    "# HELP pghealthd_check_rows Rows (findings) returned by the check's latest run.\n"
	    "# TYPE pghealthd_check_rows gauge\n"
	    "pghealthd_check_rows{check=\"bloat\",severity=\"warning\"} 3\n"
	    "pghealthd_check_rows{check=\"conn\",severity=\"critical\"} 0\n"
	    "# HELP pghealthd_check_findings 1 when the check's latest run found problems, else "
	    "0.\n"
	    "# TYPE pghealthd_check_findings gauge\n"
	    "pghealthd_check_findings{check=\"bloat\",severity=\"warning\"} 1\n"
	    "pghealthd_check_findings{check=\"conn\",severity=\"critical\"} 0\n"
	    "# HELP pghealthd_check_last_run_timestamp_seconds Unix time when the check's latest "
	    "run started.\n"
	    "# TYPE pghealthd_check_last_run_timestamp_seconds gauge\n"
	    "pghealthd_check_last_run_timestamp_seconds{check=\"bloat\",severity=\"warning\"} "
	    "1700000000.123\n"
	    "pghealthd_check_last_run_timestamp_seconds{check=\"conn\",severity=\"critical\"} "
	    "1700000000.000\n"
	    "# HELP pghealthd_check_state_since_timestamp_seconds Unix time when the check entered "
	    "its current state.\n"
	    "# TYPE pghealthd_check_state_since_timestamp_seconds gauge\n"
	    "pghealthd_check_state_since_timestamp_seconds{check=\"bloat\",severity=\"warning\"} "
	    "1699999940.123\n"
	    "pghealthd_check_state_since_timestamp_seconds{check=\"conn\",severity=\"critical\"} "
	    "1700000000.000\n"
	    "# HELP pghealthd_rounds_total Rounds completed.\n"
	    "# TYPE pghealthd_rounds_total counter\n"
	    "pghealthd_rounds_total 7\n"
	    "# HELP pghealthd_round_duration_seconds Wall time of the latest round.\n"
	    "# TYPE pghealthd_round_duration_seconds gauge\n"
	    "pghealthd_round_duration_seconds 2.500\n"
	    "# HELP pghealthd_round_timestamp_seconds Unix time when the latest round completed.\n"
	    "# TYPE pghealthd_round_timestamp_seconds gauge\n"
	    "pghealthd_round_timestamp_seconds 1700000002.623\n"
	    "# HELP pghealthd_round_verdict The latest round's verdict: 0 OK, 1 WARNING, 2 "
	    "CRITICAL, 3 UNKNOWN.\n"
	    "# TYPE pghealthd_round_verdict gauge\n"
	    "pghealthd_round_verdict 3\n"
	    "# HELP pghealthd_pool_connections Connections to the cluster, by state.\n"
	    "# TYPE pghealthd_pool_connections gauge\n"
	    "pghealthd_pool_connections{state=\"open\"} 2\n"
	    "pghealthd_pool_connections{state=\"busy\"} 1\n"
	    "# HELP pghealthd_pool_connections_peak Most connections open at once since start.\n"
	    "# TYPE pghealthd_pool_connections_peak gauge\n"
	    "pghealthd_pool_connections_peak 3\n"
	    "# HELP pghealthd_pool_connects_total Connections made (session set up) since start.\n"
	    "# TYPE pghealthd_pool_connects_total counter\n"
	    "pghealthd_pool_connects_total 4\n"
	    "# HELP pghealthd_pool_reconnects_total Failed connection attempts and lost "
	    "connections since start.\n"
	    "# TYPE pghealthd_pool_reconnects_total counter\n"
	    "pghealthd_pool_reconnects_total 1\n");
	uvtest_loop_finish(&f->loop);
}

/* ---- verdict and plugin line ---------------------------------------------- */

struct verdict_case {
	const char *what;
	struct {
		enum pgh_severity sev;
		enum pgh_check_state st;
	} e[3];
	size_t n;
	int want;
};

static void test_verdict(void **state)
{
	static const struct verdict_case cases[] = {
	    {"no checks", {{0, 0}}, 0, PGH_EXIT_OK},
	    {"all ok",
	     {{PGH_SEV_CRITICAL, PGH_CHECK_OK}, {PGH_SEV_WARNING, PGH_CHECK_OK}},
	     2,
	     PGH_EXIT_OK},
	    {"info findings", {{PGH_SEV_INFO, PGH_CHECK_FINDINGS}}, 1, PGH_EXIT_OK},
	    {"skipped critical", {{PGH_SEV_CRITICAL, PGH_CHECK_SKIPPED}}, 1, PGH_EXIT_OK},
	    {"warning findings", {{PGH_SEV_WARNING, PGH_CHECK_FINDINGS}}, 1, PGH_EXIT_WARNING},
	    {"warning truncated", {{PGH_SEV_WARNING, PGH_CHECK_TRUNCATED}}, 1, PGH_EXIT_WARNING},
	    {"critical findings", {{PGH_SEV_CRITICAL, PGH_CHECK_FINDINGS}}, 1, PGH_EXIT_CRITICAL},
	    {"critical truncated", {{PGH_SEV_CRITICAL, PGH_CHECK_TRUNCATED}}, 1, PGH_EXIT_CRITICAL},
	    {"info error", {{PGH_SEV_INFO, PGH_CHECK_ERROR}}, 1, PGH_EXIT_UNKNOWN},
	    {"critical error", {{PGH_SEV_CRITICAL, PGH_CHECK_ERROR}}, 1, PGH_EXIT_UNKNOWN},
	    {"timeout", {{PGH_SEV_INFO, PGH_CHECK_TIMEOUT}}, 1, PGH_EXIT_UNKNOWN},
	    {"warning beaten by a failure",
	     {{PGH_SEV_WARNING, PGH_CHECK_FINDINGS}, {PGH_SEV_INFO, PGH_CHECK_TIMEOUT}},
	     2,
	     PGH_EXIT_UNKNOWN},
	    {"critical beats a failure",
	     {{PGH_SEV_INFO, PGH_CHECK_ERROR},
	      {PGH_SEV_WARNING, PGH_CHECK_FINDINGS},
	      {PGH_SEV_CRITICAL, PGH_CHECK_TRUNCATED}},
	     3,
	     PGH_EXIT_CRITICAL},
	};

	(void)state;
	for (size_t i = 0; i < PGH_ARRAY_LEN(cases); i++) {
		struct pgh_status_entry e[3];
		int got;

		for (size_t k = 0; k < cases[i].n; k++)
			e[k] = (struct pgh_status_entry){
			    "c", cases[i].e[k].sev, cases[i].e[k].st, &none_result, 0, NULL, 0};
		got = pgh_status_verdict(e, cases[i].n);
		if (got != cases[i].want)
			fail_msg("%s: verdict %d, want %d", cases[i].what, got, cases[i].want);
	}
}

/* What f(out) prints, as a malloc'd string. */
static char *capture_plugin_line(const struct pgh_status_entry *e, size_t n, int verdict)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	pgh_status_plugin_line(out, e, n, verdict, 1500);
	assert_int_equal(fclose(out), 0);
	return buf;
}

static void test_plugin_line(void **state)
{
	char *line = capture_plugin_line(three, PGH_ARRAY_LEN(three), PGH_EXIT_UNKNOWN);

	(void)state;
	assert_string_equal(line, "PGHEALTHD UNKNOWN - 3 checks: 0 ok, 1 with findings, 1 failed; "
	                          "warning: bloat; failed: conn | checks=3 ok=0 findings=1 "
	                          "failed=1 duration=1.500s\n");
	free(line);
}

/* ---- pghealthd status ------------------------------------------------------ */

/* pgh_status_show() on f->dir: its exit code, and what it printed in *text. */
static int show(struct uvtest_fixture *f, bool color, uint64_t max_age_ms, char **text)
{
	size_t len = 0;
	FILE *out = open_memstream(text, &len);
	int r;

	assert_non_null(out);
	r = pgh_status_show(f->dir, out, color, max_age_ms);
	assert_int_equal(fclose(out), 0);
	return r;
}

static void test_show_reads_back(void **state)
{
	struct uvtest_fixture *f = *state;
	struct pgh_status_entry e[PGH_ARRAY_LEN(three)];
	struct render r = {e, PGH_ARRAY_LEN(three), NULL};
	char *text;

	/* since as an age: 3h12m (and 45s) ago, whatever the clock says now. */
	memcpy(e, three, sizeof(e));
	e[0].since_ms = pgh_now_ms() - (3 * 3600 + 12 * 60) * 1000ull - 500;
	e[1].since_ms = pgh_now_ms() - 45 * 1000ull - 500;
	publish(f, "status.csv", &r);
	assert_int_equal(show(f, false, 0, &text), PGH_EXIT_UNKNOWN);
	/* Aligned columns; file is not shown; the error is printed as read. */
	assert_string_equal(text,
	                    "check  severity  state     since  rows  duration_ms  started_at  "
	                    "              error\n"
	                    "bloat  warning   findings  3h12m  3     1234         "
	                    "2023-11-14T22:13:20.123Z  \n"
	                    "conn   critical  error     45s    0     5            "
	                    "2023-11-14T22:13:20.000Z  syntax error at \"x\", line 1\nLINE "
	                    "1: x,y\n"
	                    "never  info      skipped          0     0            "
	                    /* an empty started_at, padded to 24, then an empty error */
	                    "                          \n");
	free(text);

	/* Colour paints the state column only. */
	assert_int_equal(show(f, true, 0, &text), PGH_EXIT_UNKNOWN);
	uvtest_assert_contains(text, "\033[33mfindings\033[0m");
	uvtest_assert_contains(text, "\033[31merror   \033[0m");
	uvtest_assert_contains(text, "\033[36mskipped \033[0m");
	uvtest_assert_contains(text, "check  severity  state     since  rows");
	free(text);

	/* The verdict comes from the file: warning findings alone is WARNING. */
	r.n = 1;
	publish(f, "status.csv", &r);
	assert_int_equal(show(f, false, 60000, &text), PGH_EXIT_WARNING);
	free(text);
	uvtest_loop_finish(&f->loop);
}

static void test_show_stale_or_unreadable(void **state)
{
	struct uvtest_fixture *f = *state;
	struct render r = {three, 1, NULL};
	struct timeval old[2];
	char *path = uvtest_path(f->dir, "status.csv");
	char *text;

	assert_int_equal(show(f, false, 0, &text), PGH_EXIT_UNKNOWN); /* no status.csv */
	assert_string_equal(text, "");
	free(text);

	publish(f, "status.csv", &r);
	gettimeofday(&old[0], NULL);
	old[0].tv_sec -= 3600;
	old[1] = old[0];
	assert_int_equal(utimes(path, old), 0);
	assert_int_equal(show(f, false, 60000, &text), PGH_EXIT_UNKNOWN);
	uvtest_assert_contains(text, "s old (expected at most 60 s): is pghealthd running?\n");
	free(text);
	assert_int_equal(show(f, false, 2 * 3600 * 1000, &text), PGH_EXIT_WARNING);
	free(text);

	/* Not a status file; not CSV (a quote inside an unquoted field); a row
	 * with a missing field. */
	uvtest_write_file(path, "name,value\na,b\n");
	assert_int_equal(show(f, false, 0, &text), PGH_EXIT_UNKNOWN);
	free(text);
	uvtest_write_file(path, PGH_STATUS_HEADER "a\"b,critical,findings,1,1,,,\n");
	assert_int_equal(show(f, false, 0, &text), PGH_EXIT_UNKNOWN);
	free(text);
	uvtest_write_file(path, PGH_STATUS_HEADER "a,critical,findings,1,1,,a.csv\n");
	assert_int_equal(show(f, false, 0, &text), PGH_EXIT_UNKNOWN);
	free(text);
	free(path);
	uvtest_loop_finish(&f->loop);
}

/* ---- files of checks gone ---------------------------------------------------- */

static void test_remove_gone(void **state)
{
	struct uvtest_fixture *f = *state;
	struct pgh_config *cfg =
	    uvtest_load_config(f->dir, "[check:kept]\nsql = SELECT 1\n"
	                               "[check:disabled]\nsql = SELECT 1\nenabled = false\n");
	char *out = uvtest_path(f->dir, "out");
	static const char *const files[] = {"kept.csv",  "dropped.csv", "disabled.csv",
	                                    "other.csv", ".hidden.csv", "status.csv.csv"};

	uvtest_mkdir_in(f->dir, "out");
	for (size_t i = 0; i < PGH_ARRAY_LEN(files); i++)
		uvtest_write_in(out, files[i], "x\n");
	uvtest_write_in(f->dir, "escape.csv", "outside\n");
	assert_int_equal(pgh_status_remove_gone(out, cfg), 0); /* no status.csv */

	uvtest_write_in(out, "status.csv",
	                PGH_STATUS_HEADER "kept,info,findings,1,1,,kept.csv,\n"
	                                  "dropped,info,findings,1,1,,dropped.csv,\n"
	                                  "disabled,warning,ok,0,1,,,\n"
	                                  "../escape,info,findings,1,1,,,\n"
	                                  ".hidden,info,findings,1,1,,,\n"
	                                  "status,info,findings,1,1,,,\n"
	                                  "never-existed,info,ok,0,1,,,\n");
	assert_int_equal(pgh_status_remove_gone(out, cfg), 2);
	uvtest_assert_listing(out, ".hidden.csv kept.csv other.csv status.csv status.csv.csv");
	uvtest_assert_listing(f->dir, "escape.csv out pghealthd.ini");
	assert_int_equal(pgh_status_remove_gone(out, cfg), 0);
	pgh_config_free(cfg);
	free(out);
	uvtest_loop_finish(&f->loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    UVTEST(test_render_status_csv), UVTEST(test_render_prometheus),
	    cmocka_unit_test(test_verdict), cmocka_unit_test(test_plugin_line),
	    UVTEST(test_show_reads_back),   UVTEST(test_show_stale_or_unreadable),
	    UVTEST(test_remove_gone),
	};

	pgh_log_level = LOG_WARNING; /* remove_gone logs each removal at info */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
