/*
 * test_where.c - the row filter (where.h) over a result made with libpq's
 * own PGresult constructors: numbers against numbers, text against text,
 * a factor, NULLs, and/or precedence (one table of filters and the rows
 * each lets through), a column the result lacks, syntax
 * errors and where they are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "pghealthd/where.h"

/* Columns state, wait, cl_waiting, max; rows as strings (NULL: NULL). */
static const char *const rows[][4] = {
    {"waiting", "31", "2", "10"}, {"active", "0", "0", "10"}, {"waiting", "5", "10", "0"},
    {NULL, "40", NULL, "10"},     {"it's", "9.5", "9", "10"},
};
#define NROWS (int)(sizeof(rows) / sizeof(rows[0]))

static PGresult *make_result(void)
{
	static const char *const names[] = {"state", "wait", "cl_waiting", "max"};
	PGresAttDesc att[4];
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	memset(att, 0, sizeof(att));
	for (int k = 0; k < 4; k++) {
		att[k].name = (char *)names[k];
		att[k].format = 0;
		att[k].typid = 25;
		att[k].typlen = -1;
		att[k].atttypmod = -1;
	}
	assert_true(PQsetResultAttrs(res, 4, att));
	for (int r = 0; r < NROWS; r++)
		for (int k = 0; k < 4; k++)
			assert_true(PQsetvalue(res, r, k, (char *)rows[r][k],
			                       rows[r][k] != NULL ? (int)strlen(rows[r][k]) : -1));
	return res;
}

/* The rows that pass, as a string of their indexes ("02"). */
static char *matching(const char *text)
{
	static char out[NROWS + 1];
	char *err = NULL;
	struct pgh_where *w = pgh_where_parse(text, &err);
	PGresult *res = make_result();
	int *cols, n = 0;

	if (w == NULL)
		fail_msg("%s: %s", text, err);
	cols = calloc(pgh_where_ncols(w) + 1, sizeof(int));
	assert_true(pgh_where_bind(w, res, cols, &err));
	for (int r = 0; r < NROWS; r++)
		if (pgh_where_match(w, cols, res, r))
			out[n++] = (char)('0' + r);
	out[n] = '\0';
	free(cols);
	pgh_where_free(w);
	PQclear(res);
	return out;
}

/* A filter and the rows it lets through. */
struct want {
	const char *where, *rows;
};

static void check_all(const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(matching(w[i].where), w[i].rows) != 0)
			fail_msg("%s: rows \"%s\", want \"%s\"", w[i].where, matching(w[i].where),
			         w[i].rows);
}

static void test_compare(void **state)
{
	static const struct want w[] = {
	    {"state = 'waiting'", "02"},
	    {"state <> 'waiting'", "14"},
	    {"state != 'waiting'", "14"},
	    /* Numbers as numbers: "10" > "9" although "10" < "9" as text. */
	    {"cl_waiting > 9", "2"},
	    {"cl_waiting >= 9", "24"},
	    {"wait < 5", "1"},
	    {"wait <= 5", "12"},
	    {"wait = 9.5", "4"},
	    {"30 < wait", "03"},
	    /* Column against column, with a factor. */
	    {"cl_waiting >= 0.9 * max", "24"},
	    {"2 * cl_waiting > max", "24"},
	    /* A quote doubled inside a string. */
	    {"state = 'it''s'", "4"},
	    /* A number against a text that is none: false. */
	    {"state > 1", ""},
	    /* NULL makes each comparison false, = and <> alike. */
	    {"state = 'waiting' or state <> 'waiting'", "0124"},
	    {"cl_waiting >= 0 or wait > 35", "01234"},
	    /* and binds tighter than or. */
	    {"state = 'active' or state = 'waiting' and wait >= 30", "01"},
	    {"wait >= 30 AND cl_waiting > 0 OR state = 'it''s'", "04"},
	    {"wait >= 0 and wait < 1 or wait > 39 or cl_waiting = 10", "123"},
	};

	(void)state;
	check_all(w, sizeof(w) / sizeof(w[0]));
}

static void test_missing_column(void **state)
{
	char *err = NULL;
	struct pgh_where *w = pgh_where_parse("cl_waiting > 0 or cl_queued > 0", &err);
	PGresult *res = make_result();
	int cols[3];

	(void)state;
	assert_non_null(w);
	assert_false(pgh_where_bind(w, res, cols, &err));
	assert_string_equal(err, "where: the result has no column \"cl_queued\"");
	free(err);
	pgh_where_free(w);
	PQclear(res);
}

static void syntax(const char *text, const char *want)
{
	char *err = NULL;
	struct pgh_where *w = pgh_where_parse(text, &err);

	assert_null(w);
	assert_non_null(err);
	assert_string_equal(err, want);
	free(err);
}

static void test_syntax(void **state)
{
	(void)state;
	syntax("", "a column, a number or a 'string' expected at the end");
	syntax("a >", "a column, a number or a 'string' expected at the end");
	syntax("a", "a comparison (=, <>, <, <=, >, >=) expected at the end");
	syntax("a ~ 1", "a comparison (=, <>, <, <=, >, >=) expected at character 3 (\"~ 1\")");
	syntax("a = 1 and", "a column, a number or a 'string' expected at the end");
	syntax("a = 1 b = 2", "'and', 'or' or the end expected at character 7 (\"b = 2\")");
	syntax("a = 'x", "an unterminated string at the end");
	syntax("a = 2 *", "a column expected after '*' at the end");
	syntax("a = 1e999", "a number expected at character 5 (\"1e999\")");
	syntax("a = 12abc", "a number expected at character 5 (\"12abc\")");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compare),
	    cmocka_unit_test(test_missing_column),
	    cmocka_unit_test(test_syntax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
