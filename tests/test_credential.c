/*
 * test_credential.c - [target] password_command run on a real libuv loop
 * through /bin/sh: the password and user it prints, a failing command's
 * error, and output that arrives together with the pipe's hang-up (the
 * command done before the loop first polls), which libuv reports as an
 * end of file with no buffer at all.
 *
 * Each test ends the way libuv's own tests do: the loop runs dry, no handle
 * is left open, and uv_loop_close() returns 0.
 */
#define _GNU_SOURCE 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pghealthd/credential.h"
#include "pghealthd/log.h"
#include "uvtest.h"

struct answer {
	struct pgh_cred_waiter w; /* first: the callback casts back */
	int calls;
	char *password, *user, *error;
};

static void answer_ready(struct pgh_cred_waiter *w, const char *password, const char *user,
                         const char *error)
{
	struct answer *a = (struct answer *)w;

	a->calls++;
	a->password = password ? pgh_xstrdup(password) : NULL;
	a->user = user ? pgh_xstrdup(user) : NULL;
	a->error = error ? pgh_xstrdup(error) : NULL;
}

static void cred_closed(void *arg)
{
	(*(int *)arg)++;
}

/*
 * Run command once and collect the answer.  With settle, the loop is held
 * before it first polls until the command has written and exited (its
 * SIGCHLD cuts the pause short), so the data and the hang-up arrive in the
 * same wake-up.
 */
static struct answer run_command(struct uvtest_fixture *f, const char *command, bool settle)
{
	char *text = pgh_xasprintf("[target]\n"
	                           "conninfo = host=/nonexistent dbname=x\n"
	                           "password_command = %s\n",
	                           command);
	struct pgh_config *cfg = uvtest_load_config(f->dir, text);
	struct pgh_cred *cr = pgh_cred_new(&f->loop, cfg);
	struct answer a = {.w.ready = answer_ready};
	int closed = 0;

	pgh_cred_get(cr, &a.w);
	if (settle) {
		struct timespec pause = {.tv_nsec = 300 * 1000 * 1000};

		nanosleep(&pause, NULL);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(a.calls, 1);
	pgh_cred_close(cr, cred_closed, &closed);
	uvtest_loop_finish(&f->loop);
	assert_int_equal(closed, 1);
	pgh_config_free(cfg);
	free(text);
	return a;
}

static void answer_free(struct answer *a)
{
	free(a->password);
	free(a->user);
	free(a->error);
}

static void test_password_line(void **state)
{
	struct answer a = run_command(*state, "printf 'se cret\\nignored\\n'", false);

	assert_null(a.error);
	assert_string_equal(a.password, "se cret");
	assert_null(a.user);
	answer_free(&a);
}

static void test_output_with_hangup(void **state)
{
	struct answer a = run_command(*state, "printf 'sekrit\\n'", true);

	assert_null(a.error);
	assert_string_equal(a.password, "sekrit");
	answer_free(&a);
}

static void test_json_with_hangup(void **state)
{
	struct answer a =
	    run_command(*state, "printf '{\"DbUser\": \"IAM:mon\", \"DbPassword\": \"p\"}'", true);

	assert_null(a.error);
	assert_string_equal(a.password, "p");
	assert_string_equal(a.user, "IAM:mon");
	answer_free(&a);
}

static void test_failure_says_stderr(void **state)
{
	struct answer a = run_command(*state, "echo 'token expired' >&2; exit 3", true);

	assert_null(a.password);
	assert_non_null(a.error);
	uvtest_assert_contains(a.error, "token expired");
	uvtest_assert_contains(a.error, "3");
	answer_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    UVTEST(test_password_line),
	    UVTEST(test_output_with_hangup),
	    UVTEST(test_json_with_hangup),
	    UVTEST(test_failure_says_stderr),
	};

	pgh_log_level = LOG_ERR; /* a failing command is logged at warning */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
