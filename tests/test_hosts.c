/*
 * test_hosts.c - a multi-host conninfo split into one attempt per host, in
 * libpq's order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pghealthd/hosts.h"

static void assert_attempt(const struct pgh_host_attempt *a, const char *host, const char *addr,
                           const char *port, const char *tsa)
{
	if (host == NULL)
		assert_null(a->host);
	else
		assert_string_equal(a->host, host);
	if (addr == NULL)
		assert_null(a->hostaddr);
	else
		assert_string_equal(a->hostaddr, addr);
	if (port == NULL)
		assert_null(a->port);
	else
		assert_string_equal(a->port, port);
	if (tsa == NULL)
		assert_null(a->target_session_attrs);
	else
		assert_string_equal(a->target_session_attrs, tsa);
}

static void test_one_host_is_left_to_libpq(void **state)
{
	struct pgh_hosts h;

	(void)state;
	pgh_hosts_parse(&h, "host=db1 port=5432 dbname=x");
	assert_int_equal(h.n, 0);
	pgh_hosts_parse(&h, "");
	assert_int_equal(h.n, 0);
	pgh_hosts_parse(&h, "host=a,b service=prod");
	assert_int_equal(h.n, 0);
	pgh_hosts_parse(&h, "this is not a conninfo");
	assert_int_equal(h.n, 0);
	pgh_hosts_clear(&h);
}

static void test_hosts_and_ports(void **state)
{
	struct pgh_hosts h;

	(void)state;
	pgh_hosts_parse(&h, "host=a,b,c port=5432,6432,7432 target_session_attrs=read-write");
	assert_int_equal(h.n, 3);
	assert_int_equal(h.n_hosts, 3);
	assert_false(h.shuffle);
	assert_attempt(&h.at[0], "a", NULL, "5432", NULL);
	assert_attempt(&h.at[1], "b", NULL, "6432", NULL);
	assert_attempt(&h.at[2], "c", NULL, "7432", NULL);
	pgh_hosts_clear(&h);

	/* A URI: a port for each host, empty for the default one. */
	pgh_hosts_parse(&h, "postgresql://a,b:6543/db");
	assert_int_equal(h.n, 2);
	assert_attempt(&h.at[0], "a", NULL, "", NULL);
	assert_attempt(&h.at[1], "b", NULL, "6543", NULL);
	pgh_hosts_clear(&h);

	/* One port for every host: the conninfo's stays. */
	pgh_hosts_parse(&h, "host=a,b port=6543");
	assert_int_equal(h.n, 2);
	assert_attempt(&h.at[1], "b", NULL, NULL, NULL);
	pgh_hosts_clear(&h);
}

static void test_hostaddr_and_empty_entries(void **state)
{
	struct pgh_hosts h;

	(void)state;
	pgh_hosts_parse(&h, "hostaddr=192.0.2.1,192.0.2.5");
	assert_int_equal(h.n, 2);
	assert_attempt(&h.at[0], NULL, "192.0.2.1", NULL, NULL);
	assert_attempt(&h.at[1], NULL, "192.0.2.5", NULL, NULL);
	pgh_hosts_clear(&h);

	pgh_hosts_parse(&h, "host=a,,c");
	assert_int_equal(h.n, 3);
	assert_attempt(&h.at[1], "", NULL, NULL, NULL);
	pgh_hosts_clear(&h);
}

static void test_prefer_standby_is_two_passes(void **state)
{
	struct pgh_hosts h;

	(void)state;
	pgh_hosts_parse(&h, "host=a,b target_session_attrs=prefer-standby");
	assert_int_equal(h.n, 4);
	assert_int_equal(h.n_hosts, 2);
	assert_attempt(&h.at[0], "a", NULL, NULL, "standby");
	assert_attempt(&h.at[1], "b", NULL, NULL, "standby");
	assert_attempt(&h.at[2], "a", NULL, NULL, "any");
	assert_attempt(&h.at[3], "b", NULL, NULL, "any");
	pgh_hosts_clear(&h);
}

static void test_environment_fallback(void **state)
{
	struct pgh_hosts h;

	(void)state;
	setenv("PGHOST", "x,y", 1);
	setenv("PGPORT", "1,2", 1);
	pgh_hosts_parse(&h, "dbname=postgres");
	assert_int_equal(h.n, 2);
	assert_attempt(&h.at[0], "x", NULL, "1", NULL);
	assert_attempt(&h.at[1], "y", NULL, "2", NULL);
	pgh_hosts_clear(&h);
	/* The conninfo wins over the environment. */
	pgh_hosts_parse(&h, "host=only");
	assert_int_equal(h.n, 0);
	unsetenv("PGHOST");
	unsetenv("PGPORT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_host_is_left_to_libpq),
	    cmocka_unit_test(test_hosts_and_ports),
	    cmocka_unit_test(test_hostaddr_and_empty_entries),
	    cmocka_unit_test(test_prefer_standby_is_two_passes),
	    cmocka_unit_test(test_environment_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
