/*
 * test_csv.c - the COPY CSV field encoder, value by value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pghealthd/csv.h"

static void expect_encoding(const char *in, bool single, const char *want)
{
	size_t len = strlen(in);
	char *buf = malloc(pgh_csv_bound(len) + 1);
	size_t n = pgh_csv_encode(buf, in, len, single);

	assert_true(n <= pgh_csv_bound(len));
	assert_int_equal(n, pgh_csv_encoded_len(in, len, single));
	buf[n] = '\0';
	assert_string_equal(buf, want);
	free(buf);
}

static void test_plain_values_pass_through(void **state)
{
	(void)state;
	expect_encoding("abc", false, "abc");
	expect_encoding("12.5", false, "12.5");
	expect_encoding("tab\there", false, "tab\there");
	expect_encoding("back\\slash", false, "back\\slash");
	expect_encoding(" leading and trailing ", false, " leading and trailing ");
	expect_encoding("h\xc3\xa9llo \xf0\x9f\x90\x98", false, "h\xc3\xa9llo \xf0\x9f\x90\x98");
	expect_encoding("'single'", false, "'single'");
}

static void test_specials_are_quoted(void **state)
{
	(void)state;
	expect_encoding("a,b", false, "\"a,b\"");
	expect_encoding("say \"hi\"", false, "\"say \"\"hi\"\"\"");
	expect_encoding("\"", false, "\"\"\"\"");
	expect_encoding("line\nbreak", false, "\"line\nbreak\"");
	expect_encoding("cr\rhere", false, "\"cr\rhere\"");
	expect_encoding("crlf\r\n", false, "\"crlf\r\n\"");
}

static void test_empty_string_differs_from_null(void **state)
{
	(void)state;
	/* NULL is written by the caller as nothing; "" must be quoted. */
	expect_encoding("", false, "\"\"");
	expect_encoding("", true, "\"\"");
}

static void test_end_of_data_marker(void **state)
{
	(void)state;
	expect_encoding("\\.", true, "\"\\.\"");
	expect_encoding("\\.", false, "\\.");
	expect_encoding("\\.x", true, "\\.x");
	expect_encoding("x\\.", true, "x\\.");
}

static void test_needs_quotes_matches_encoding(void **state)
{
	static const char *const vals[] = {"", "a", "a,b", "\"", "\n", "\r", "\\.", "ok"};

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		for (int single = 0; single < 2; single++) {
			size_t len = strlen(vals[i]);
			char buf[32];
			size_t n = pgh_csv_encode(buf, vals[i], len, single);

			assert_int_equal(pgh_csv_needs_quotes(vals[i], len, single),
			                 n != len || memcmp(buf, vals[i], len) != 0);
		}
	}
}

static void test_worst_case_fits_bound(void **state)
{
	size_t len = 100000;
	char *in = malloc(len + 1), *out = malloc(pgh_csv_bound(len));

	(void)state;
	memset(in, '"', len);
	in[len] = '\0';
	assert_int_equal(pgh_csv_encode(out, in, len, false), pgh_csv_bound(len));
	assert_int_equal(out[0], '"');
	assert_int_equal(out[pgh_csv_bound(len) - 1], '"');
	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_values_pass_through),
	    cmocka_unit_test(test_specials_are_quoted),
	    cmocka_unit_test(test_empty_string_differs_from_null),
	    cmocka_unit_test(test_end_of_data_marker),
	    cmocka_unit_test(test_needs_quotes_matches_encoding),
	    cmocka_unit_test(test_worst_case_fits_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
