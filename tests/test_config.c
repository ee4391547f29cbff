/*
 * test_config.c - unit tests for config.c: durations, check names, a valid
 * configuration that uses every feature, and one broken file per error class.
 *
 * Test data lives in $PGH_TEST_DATA/config (PGH_TEST_DATA is set by the build;
 * a compile-time -DPGH_TEST_DATA_DIR="..." is the fallback).  Files that need
 * particular modes or contents git cannot hold are made in a temporary
 * directory that the group teardown removes.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pghealthd/config.h"
#include "pghealthd/log.h"

static char *data_dir; /* .../config */
static char *tmp_dir;

static char *data_path(const char *rel)
{
	return pgh_xasprintf("%s/%s", data_dir, rel);
}

static char *tmp_path(const char *rel)
{
	return pgh_xasprintf("%s/%s", tmp_dir, rel);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	FILE *fp = fopen(from, "r");
	char buf[4096];
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	write_file(to, buf, n, mode);
}

/* Load a file that must fail; returns the error text (caller frees). */
static char *load_error(const char *path, int want_rc)
{
	struct pgh_config *cfg = (struct pgh_config *)1;
	char *err = NULL;
	int rc = pgh_config_load(path, &cfg, &err);

	if (rc != want_rc)
		fail_msg("%s: rc %d, want %d; err: %s", path, rc, want_rc, err ? err : "(none)");
	assert_null(cfg);
	assert_non_null(err);
	return err;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (strstr(haystack, needle) == NULL)
		fail_msg("expected \"%s\" in:\n%s", needle, haystack);
}

static int setup(void **state)
{
	const char *env = getenv("PGH_TEST_DATA");
	const char *tmp = getenv("TMPDIR");

	(void)state;
#ifdef PGH_TEST_DATA_DIR
	if (env == NULL || env[0] == '\0')
		env = PGH_TEST_DATA_DIR;
#endif
	if (env == NULL || env[0] == '\0') {
		fprintf(stderr, "PGH_TEST_DATA is not set (the tests/data directory)\n");
		return -1;
	}
	data_dir = pgh_xasprintf("%s/config", env);
	tmp_dir = pgh_xasprintf("%s/pgh-test-config-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(tmp_dir) == NULL)
		return -1;
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	nftw(tmp_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(tmp_dir);
	free(data_dir);
	return 0;
}

static void test_duration_parse(void **state)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} good[] = {
	    {"250ms", 250},    {"30s", 30000},
	    {"5m", 300000},    {"1h", 3600000},
	    {"2d", 172800000}, {"10", 10000},
	    {"1.5", 1500},     {"0.25s", 250},
	    {"1.5m", 90000},   {"0", 0},
	    {"0ms", 0},        {"1.000000000000s", 1000},
	    {"007s", 7000},    {"18446744073709551615ms", UINT64_MAX},
	};
	static const char *const bad[] = {
	    "",
	    "-1",
	    "-5s",
	    "s",
	    "ms",
	    "5 s",
	    " 5s",
	    "5s ",
	    "5x",
	    "5sec",
	    "1.5ms",
	    "1.",
	    ".5",
	    "1..5",
	    "1e3",
	    "+5",
	    "0x10",
	    "5S",
	    "1.0001s",
	    "18446744073709551616ms",
	    "18446744073709551615s",
	    "213503982335d",
	};
	uint64_t ms;

	(void)state;
	for (size_t i = 0; i < PGH_ARRAY_LEN(good); i++) {
		ms = 12345;
		if (pgh_duration_parse(good[i].s, &ms) != 0)
			fail_msg("'%s' refused", good[i].s);
		if (ms != good[i].ms)
			fail_msg("'%s' = %llu ms, want %llu", good[i].s, (unsigned long long)ms,
			         (unsigned long long)good[i].ms);
	}
	for (size_t i = 0; i < PGH_ARRAY_LEN(bad); i++) {
		ms = 12345;
		if (pgh_duration_parse(bad[i], &ms) != -EINVAL)
			fail_msg("'%s' accepted as %llu ms", bad[i], (unsigned long long)ms);
		assert_int_equal(ms, 12345);
	}
}

static void test_duration_format(void **state)
{
	static const struct {
		uint64_t ms;
		const char *s;
	} cases[] = {
	    {0, "0s"},        {250, "250ms"},           {1500, "1500ms"}, {30000, "30s"},
	    {90000, "90s"},   {300000, "5m"},           {3600000, "1h"},  {5400000, "90m"},
	    {86400000, "1d"}, {90061001, "90061001ms"},
	};
	char buf[32];
	uint64_t back;

	(void)state;
	for (size_t i = 0; i < PGH_ARRAY_LEN(cases); i++) {
		pgh_duration_format(cases[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
		assert_int_equal(pgh_duration_parse(buf, &back), 0);
		assert_int_equal(back, cases[i].ms);
	}
}

static void test_check_names(void **state)
{
	static const char *const good[] = {"a", "long_running_queries", "pg.locks-2", "a..", "_.",
	                                   "A9"};
	static const char *const bad[] = {"",    ".",   "..", "...", ".hidden", "a b",
	                                  "a/b", "a:b", "é",  "a\n", "*"};

	(void)state;
	for (size_t i = 0; i < PGH_ARRAY_LEN(good); i++)
		if (!pgh_check_name_valid(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < PGH_ARRAY_LEN(bad); i++)
		if (pgh_check_name_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	assert_string_equal(pgh_severity_str(PGH_SEV_CRITICAL), "critical");
}

static const struct pgh_check *find_check(const struct pgh_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_checks; i++)
		if (strcmp(cfg->checks[i].name, name) == 0)
			return &cfg->checks[i];
	fail_msg("no check '%s'", name);
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static struct pgh_config *load_valid(void)
{
	char *path = data_path("valid/pghealthd.ini");
	struct pgh_config *cfg = NULL;
	char *err = NULL;
	int rc = pgh_config_load(path, &cfg, &err);

	if (rc != 0)
		fail_msg("rc %d: %s", rc, err ? err : "(no message)");
	assert_null(err);
	assert_non_null(cfg);
	assert_string_equal(cfg->path, path);
	free(path);
	return cfg;
}

static void test_valid_globals(void **state)
{
	struct pgh_config *cfg = load_valid();

	(void)state;
	assert_string_equal(cfg->conninfo,
	                    "host=db1 port=5439 dbname=dev user=monitor sslmode=verify-full");
	assert_true(cfg->password_file[0] == '/');
	assert_true(ends_with(cfg->password_file, "/valid/secret.txt"));
	assert_string_equal(cfg->password, "s3cret");
	assert_string_equal(cfg->application_name, "pghealthd-test");
	assert_string_equal(cfg->timezone, "Europe/Paris");
	assert_int_equal(cfg->session_sql.len, 2);
	assert_string_equal(cfg->session_sql.items[0], "SET lock_timeout = '1s'");
	assert_string_equal(cfg->session_sql.items[1],
	                    "SET statement_timeout = 0;\nSET work_mem = '8MB'");
	assert_int_equal(cfg->min_connections, 2);
	assert_int_equal(cfg->max_connections, 8);
	assert_int_equal(cfg->connect_timeout_ms, 5000);
	assert_int_equal(cfg->idle_timeout_ms, 120000);
	assert_int_equal(cfg->interval_ms, 30000);
	assert_true(cfg->output_dir[0] == '/');
	assert_true(ends_with(cfg->output_dir, "/valid/out"));
	assert_int_equal(cfg->include.len, 2);
	assert_string_equal(cfg->include.items[0], "packs/*.ini");
	assert_string_equal(cfg->include.items[1], "no-such-dir/*.ini");
	assert_int_equal(cfg->timeout_ms, 20000);
	assert_int_equal(cfg->max_rows, 500);
	assert_int_equal(cfg->history, 10);
	assert_false(cfg->fsync);
	assert_string_equal(cfg->prometheus_file, "pghealthd.prom");
	assert_int_equal(cfg->log_level, LOG_DEBUG);
	pgh_config_free(cfg);
}

static void test_valid_checks(void **state)
{
	static const char *const order[] = {"pack_disabled", "pack_retuned", "long_line",
	                                    "inline_semicolon", "multi"};
	struct pgh_config *cfg = load_valid();
	const struct pgh_check *c;

	(void)state;
	assert_int_equal(cfg->n_checks, PGH_ARRAY_LEN(order));
	for (size_t i = 0; i < PGH_ARRAY_LEN(order); i++)
		assert_string_equal(cfg->checks[i].name, order[i]);

	c = find_check(cfg, "pack_disabled");
	assert_false(c->enabled);
	assert_string_equal(c->sql, "SELECT 1");
	assert_null(c->sql_file);
	assert_true(ends_with(c->file, "valid/packs/postgresql.ini"));
	assert_int_equal(c->line, 2);
	assert_int_equal(c->timeout_ms, 20000); /* from [run] */
	assert_int_equal(c->max_rows, 500);     /* from the later [run] */
	assert_int_equal(c->severity, PGH_SEV_INFO);
	assert_int_equal(c->interval_ms, 0);

	c = find_check(cfg, "pack_retuned");
	assert_true(c->enabled);
	assert_int_equal(c->severity, PGH_SEV_WARNING);
	assert_int_equal(c->interval_ms, 90000);
	assert_int_equal(c->timeout_ms, 5000);
	assert_true(ends_with(c->sql_file, "/valid/packs/sql/retuned.sql"));
	assert_true(c->sql_file[0] == '/');
	assert_string_equal(c->sql, "SELECT datname, age(datfrozenxid) AS xid_age\n  FROM "
	                            "pg_database\n ORDER BY 2 DESC;\n");

	c = find_check(cfg, "long_line");
	assert_true(strlen(c->sql) > 300);
	assert_true(strncmp(c->sql, "SELECT c.oid::regclass AS relation", 34) == 0);
	assert_true(ends_with(c->sql, "ORDER BY s.n_dead_tup DESC LIMIT 20"));
	assert_true(ends_with(c->file, "valid/pghealthd.ini"));
	assert_int_equal(c->line, 30);

	c = find_check(cfg, "inline_semicolon");
	assert_string_equal(c->sql, "SELECT 'x ; y' AS a ; trailing text kept");

	c = find_check(cfg, "multi");
	assert_string_equal(c->sql, "SELECT pid, now() - query_start AS runtime, query\n"
	                            "FROM pg_stat_activity\nWHERE state = 'active'");
	assert_int_equal(c->severity, PGH_SEV_CRITICAL);
	assert_int_equal(c->interval_ms, 120000);
	assert_int_equal(c->timeout_ms, 10000);
	assert_int_equal(c->max_rows, 1000);
	assert_true(c->enabled);
	pgh_config_free(cfg);
}

static void test_valid_print(void **state)
{
	struct pgh_config *cfg = load_valid();
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	assert_non_null(out);
	pgh_config_print(cfg, out);
	fclose(out);
	assert_contains(text, "[target]\nconninfo = user=monitor dbname=dev host=db1 port=5439 "
	                      "sslmode=verify-full\n");
	assert_contains(text, "\n[pool]\nmin_connections = 2\nmax_connections = 8\n"
	                      "connect_timeout = 5s\nidle_timeout = 2m\n");
	assert_contains(text, "\n[run]\ninterval = 30s\n");
	assert_contains(text, "session_sql = SET statement_timeout = 0;\n\tSET work_mem = '8MB'\n");
	assert_contains(text, "include = packs/*.ini\n");
	assert_contains(text, "fsync = false\n");
	assert_contains(text, "log_level = debug\n");
	assert_contains(text, "\n[check:multi]\nseverity = critical\ninterval = 2m\n"
	                      "timeout = 10s\nmax_rows = 1000\nenabled = true\nscope = "
	                      "cluster\nstate_sql =\ncommit = false\nwhere =\n; sql inline (");
	assert_contains(text, "\tSELECT pid, now() - query_start AS runtime, query\n"
	                      "\tFROM pg_stat_activity\n");
	assert_contains(text, "; sql from sql_file ");
	assert_contains(text, "/valid/packs/sql/retuned.sql");
	assert_contains(text, "[check:pack_disabled]\nseverity = info\ninterval = 0s\n"
	                      "timeout = 20s\nmax_rows = 500\nenabled = false\nscope = cluster\n");
	assert_null(strstr(text, "s3cret"));
	free(text);
	pgh_config_free(cfg);
}

/* $CREDENTIALS_DIRECTORY wins for a relative password_file when it has the file. */
static void test_credentials_directory(void **state)
{
	char *creds = data_path("creds");
	struct pgh_config *cfg;

	(void)state;
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	cfg = load_valid();
	assert_string_equal(cfg->password, "fromcreds");
	assert_true(ends_with(cfg->password_file, "/creds/secret.txt"));
	pgh_config_free(cfg);
	setenv("CREDENTIALS_DIRECTORY", tmp_dir, 1); /* no secret.txt there */
	cfg = load_valid();
	assert_string_equal(cfg->password, "s3cret");
	pgh_config_free(cfg);
	unsetenv("CREDENTIALS_DIRECTORY");
	free(creds);
}

static const struct {
	const char *file;
	const char *expect;  /* a substring of the error text */
	const char *expect2; /* another one, or NULL */
	int lines;           /* number of error lines, 0: not checked */
} broken[] = {
    {"unknown_key.ini", "unknown_key.ini:4: unknown key 'foo' in [run]", NULL, 1},
    {"unknown_key_check.ini", "unknown_key_check.ini:3: unknown key 'bar' in [check:x]", NULL, 1},
    {"bad_bool.ini", "bad_bool.ini:2: bad value 'maybe' for 'fsync': expected true or false", NULL,
     1},
    {"bad_uint.ini", "bad_uint.ini:2: bad value '-1' for 'history': expected an unsigned", NULL, 1},
    {"bad_duration.ini",
     "bad_duration.ini:2: bad value '5 minutes' for 'interval': expected a "
     "duration",
     NULL, 1},
    {"bad_severity.ini",
     "bad_severity.ini:3: bad value 'fatal' for 'severity': expected info, "
     "warning or critical",
     NULL, 1},
    {"bad_log_level.ini", "bad_log_level.ini:2: bad value 'loud' for 'log_level'", NULL, 1},
    {"out_of_range.ini", "out_of_range.ini:2: max_connections = 33 is out of range (1..32)", NULL,
     1},
    {"zero_interval.ini", "zero_interval.ini:2: interval = 0 is out of range (1ms..365d)", NULL, 1},
    {"u64_overflow.ini",
     "u64_overflow.ini:2: max_rows = 99999999999999999999999 is out of "
     "range",
     NULL, 1},
    {"empty_value.ini", "empty_value.ini:2: 'output_dir' must not be empty", NULL, 1},
    {"duplicate_key.ini",
     "duplicate_key.ini:4: duplicate key 'interval' in [run] (first set "
     "at line 2)",
     NULL, 1},
    {"missing_sql.ini", "missing_sql.ini:1: missing sql in [check:nosql]", NULL, 1},
    {"empty_check.ini", "empty_check.ini:4: missing sql in [check:empty]", NULL, 1},
    {"sql_and_sql_file.ini",
     "sql_and_sql_file.ini:3: sql and sql_file both set in "
     "[check:both]",
     NULL, 1},
    {"sql_file_missing.ini", "sql_file_missing.ini:2: sql_file '",
     "/broken/does-not-exist.sql': No such file or directory", 1},
    {"bad_check_name.ini", "bad_check_name.ini:1: bad check name 'bad name'",
     "bad_check_name.ini:3: bad check name '..'", 3},
    {"interval_not_multiple.ini",
     "interval_not_multiple.ini:5: interval 90s of [check:odd] is "
     "not a multiple of [run] interval 1m",
     NULL, 1},
    {"min_gt_max.ini", "min_gt_max.ini:2: min_connections 6 is greater than max_connections 4",
     NULL, 1},
    {"empty_sql.ini", "empty_sql.ini:2: empty sql in [check:e]", NULL, 1},
    {"unknown_section.ini", "unknown_section.ini:1: unknown section [runn]", NULL, 1},
    {"key_outside_section.ini",
     "key_outside_section.ini:1: key 'interval' outside any "
     "section",
     NULL, 1},
    {"syntax_error.ini", "syntax_error.ini:2: expected 'key = value' or '[section]'", NULL, 1},
    {"missing_bracket.ini", "missing_bracket.ini:1: missing ']' in section header", NULL, 1},
    {"section_trailing_text.ini",
     "section_trailing_text.ini:1: unexpected text after section "
     "header",
     NULL, 1},
    {"continuation_single.ini",
     "continuation_single.ini:3: indented line continues the value "
     "of 'interval'",
     NULL, 1},
    {"include_missing.ini", "include_missing.ini:2: include '",
     "/no-such-file.ini': No such file or directory", 1},
    {"include_cycle_a.ini", "include_cycle_b.ini:2: include cycle: '",
     "include_cycle_a.ini' is already being read", 1},
    {"password_file_missing.ini", "password_file_missing.ini:2: password_file '",
     "/nope.txt': No such file or directory", 1},
    {"bad_conninfo.ini", "bad_conninfo.ini:2: bad conninfo: ", NULL, 1},
    {"multi_error.ini", "multi_error.ini:2: bad value 'soon' for 'interval'",
     "multi_error.ini:5: max_connections = 0 is out of range", 3},
};

static int count_lines(const char *s)
{
	int n = 1;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_broken(void **state)
{
	(void)state;
	for (size_t i = 0; i < PGH_ARRAY_LEN(broken); i++) {
		char *path = pgh_xasprintf("%s/broken/%s", data_dir, broken[i].file);
		char *err = load_error(path, -EINVAL);

		assert_contains(err, broken[i].expect);
		if (broken[i].expect2)
			assert_contains(err, broken[i].expect2);
		if (broken[i].lines && count_lines(err) != broken[i].lines)
			fail_msg("%s: want %d error lines, got:\n%s", broken[i].file,
			         broken[i].lines, err);
		/* Every line names file:line (or file:) and nothing is a bare message. */
		assert_true(strncmp(err, path, strlen(path)) == 0 || strstr(err, "/broken/"));
		free(err);
		free(path);
	}
}

static void test_missing_main_file(void **state)
{
	char *path = tmp_path("nope.ini");
	char *err = load_error(path, -ENOENT);
	char *want = pgh_xasprintf("%s: No such file or directory", path);

	(void)state;
	assert_string_equal(err, want);
	free(want);
	free(err);
	free(path);
	err = load_error(tmp_dir, -EISDIR);
	free(err);
}

/* libpq refuses a pgpass file others can read; we refuse such a config. */
static void test_password_in_conninfo(void **state)
{
	char *src = data_path("password.ini"), *dst = tmp_path("password.ini");
	struct pgh_config *cfg = NULL;
	char *err = NULL, *text = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	copy_file(src, dst, 0644);
	err = load_error(dst, -EINVAL);
	assert_contains(err, "password.ini:3: conninfo contains a password but ");
	assert_contains(err, "chmod 0600");
	free(err);
	assert_int_equal(chmod(dst, 0640), 0);
	free(load_error(dst, -EINVAL));

	assert_int_equal(chmod(dst, 0600), 0);
	assert_int_equal(pgh_config_load(dst, &cfg, &err), 0);
	assert_null(err);
	out = open_memstream(&text, &len);
	pgh_config_print(cfg, out);
	fclose(out);
	assert_contains(text, "; conninfo holds a password, not shown here\n"
	                      "conninfo = user=monitor dbname=dev host=db1\n");
	assert_null(strstr(text, "hunter2"));
	free(text);
	pgh_config_free(cfg);
	free(src);
	free(dst);
}

/* A password in a URI counts too, and its printout leaves it out the same way. */
static void test_password_in_uri(void **state)
{
	static const char ini[] = "[target]\nconninfo = postgresql://monitor:pw%20x@db1:5439/dev\n";
	char *path = tmp_path("uri.ini");
	struct pgh_config *cfg = NULL;
	char *err = NULL, *text = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	write_file(path, ini, sizeof(ini) - 1, 0604);
	err = load_error(path, -EINVAL);
	assert_contains(err, "uri.ini:2: conninfo contains a password");
	free(err);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(pgh_config_load(path, &cfg, &err), 0);
	out = open_memstream(&text, &len);
	pgh_config_print(cfg, out);
	fclose(out);
	assert_contains(text, "conninfo holds a password, not shown here");
	assert_null(strstr(text, "password="));
	assert_null(strstr(text, "pw x"));
	assert_null(strstr(text, "pw%20x"));
	free(text);
	pgh_config_free(cfg);
	free(path);
}

/* A line longer than the parser takes is an error, never a shortened value. */
static void test_line_too_long(void **state)
{
	size_t n = 1100 * 1024;
	char *ini = pgh_xmalloc(n + 64);
	char *path = tmp_path("long.ini");
	char *err;
	int off;

	(void)state;
	off = sprintf(ini, "[check:long]\nsql = SELECT '");
	memset(ini + off, 'a', n);
	off += (int)n;
	off += sprintf(ini + off, "'\nseverity = bogus\n");
	write_file(path, ini, (size_t)off, 0644);
	err = load_error(path, -EINVAL);
	assert_contains(err, "long.ini:2: line too long");
	/* Line numbers after it are still right. */
	assert_contains(err, "long.ini:3: bad value 'bogus' for 'severity'");
	free(err);
	free(ini);
	free(path);
}

static void test_nul_byte(void **state)
{
	static const char ini[] = "[run]\ninterval = 6\0000s\nfoo = 1\n";
	char *path = tmp_path("nul.ini");
	char *err;

	(void)state;
	write_file(path, ini, sizeof(ini) - 1, 0644);
	err = load_error(path, -EINVAL);
	assert_contains(err, "nul.ini:2: NUL byte in line");
	assert_contains(err, "nul.ini:3: unknown key 'foo' in [run]");
	free(err);
	free(path);
}

/*
 * A malformed section header ends the key before it: an indented line after
 * it continues nothing.  It once continued the check's sql through the wrong
 * base pointer, into the configuration itself (the sanitizers watch this).
 */
static void test_continuation_after_bad_header(void **state)
{
	static const char ini[] = "[target]\nconninfo = host=x\n\n[check:a]\nsql = SELECT 1\n"
	                          "[broken\n  continued\n";
	char *path = tmp_path("bad-header.ini");
	char *err;

	(void)state;
	write_file(path, ini, sizeof(ini) - 1, 0644);
	err = load_error(path, -EINVAL);
	assert_contains(err, "bad-header.ini:6: ");
	assert_null(strstr(err, "bad-header.ini:7"));
	free(err);
	free(path);
}

/* Pseudo-random bytes: errors, never a crash (valgrind watches the rest). */
static void test_binary_garbage(void **state)
{
	char *path = tmp_path("garbage.ini");
	unsigned char buf[16384];
	uint32_t x;

	(void)state;
	for (uint32_t seed = 1; seed <= 8; seed++) {
		x = seed * 2654435761u;
		for (size_t i = 0; i < sizeof(buf); i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (unsigned char)(x >> 16);
			/* Some seeds get INI-ish bytes so the deeper paths run too. */
			if (seed % 2 == 0 && buf[i] % 3 == 0)
				buf[i] = (unsigned char)"[]=:; \t\n#check:run"[buf[i] % 18];
		}
		write_file(path, buf, sizeof(buf), 0644);
		char *err = load_error(path, -EINVAL);

		assert_contains(err, "garbage.ini:");
		for (const char *c = err; *c; c++)
			assert_true(*c == '\n' || (unsigned char)*c >= 0x20);
		free(err);
	}
	free(path);
}

/* Includes nested more than 16 deep are refused, and not by a crash. */
static void test_include_depth(void **state)
{
	char name[64], body[128];
	char *path;
	int n;

	(void)state;
	for (int i = 0; i <= 17; i++) {
		snprintf(name, sizeof(name), "deep%d.ini", i);
		n = snprintf(body, sizeof(body), "[run]\ninclude = deep%d.ini\n", i + 1);
		if (i == 17)
			n = snprintf(body, sizeof(body), "[check:deep]\nsql = SELECT 1\n");
		path = tmp_path(name);
		write_file(path, body, (size_t)n, 0644);
		free(path);
	}
	path = tmp_path("deep0.ini");
	char *err = load_error(path, -EINVAL);

	assert_contains(err, "deep16.ini:2: includes nested more than 16 deep");
	free(err);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_parse),
	    cmocka_unit_test(test_duration_format),
	    cmocka_unit_test(test_check_names),
	    cmocka_unit_test(test_valid_globals),
	    cmocka_unit_test(test_valid_checks),
	    cmocka_unit_test(test_valid_print),
	    cmocka_unit_test(test_credentials_directory),
	    cmocka_unit_test(test_broken),
	    cmocka_unit_test(test_missing_main_file),
	    cmocka_unit_test(test_password_in_conninfo),
	    cmocka_unit_test(test_password_in_uri),
	    cmocka_unit_test(test_line_too_long),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_continuation_after_bad_header),
	    cmocka_unit_test(test_binary_garbage),
	    cmocka_unit_test(test_include_depth),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
