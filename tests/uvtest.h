/*
 * uvtest.h - what the tests that drive a real libuv loop share: a scratch
 * directory, small file helpers, publishing text through a sink, and the
 * end-of-test check libuv's own suite makes (run the loop dry, name every
 * handle still open, then uv_loop_close() must return 0).
 *
 * Every helper fails the running cmocka test on error; include <cmocka.h>
 * (and what it needs) before this header.
 */
#ifndef PGHEALTHD_TESTS_UVTEST_H
#define PGHEALTHD_TESTS_UVTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "pghealthd/config.h"
#include "pghealthd/sink.h"

/* A loop and a scratch directory for one test. */
struct uvtest_fixture {
	uv_loop_t loop;
	char *dir;
};

/* cmocka setup/teardown: *state is a struct uvtest_fixture.  The teardown
 * removes the directory; the test itself ends with uvtest_loop_finish(). */
int uvtest_setup(void **state);
int uvtest_teardown(void **state);

/* A cmocka test entry with that fixture. */
#define UVTEST(f) cmocka_unit_test_setup_teardown(f, uvtest_setup, uvtest_teardown)

/* A fresh directory under $TMPDIR (or /tmp); the caller frees the name. */
char *uvtest_mkdtemp(const char *tag);

/* rm -r dir (no symlinks followed); a NULL dir is ignored. */
void uvtest_rmtree(const char *dir);

/* "dir/name", malloc'd. */
char *uvtest_path(const char *dir, const char *name);

void uvtest_write_file(const char *path, const char *text);

/* Write dir/name, or make the directory dir/name (0700). */
void uvtest_write_in(const char *dir, const char *name, const char *text);
void uvtest_mkdir_in(const char *dir, const char *name);

/* The whole file, NUL-terminated; *len (when not NULL) its size.  NULL when
 * the file cannot be opened. */
char *uvtest_read_file(const char *path, size_t *len);

/* True when path exists (lstat). */
bool uvtest_exists(const char *path);

/* The names in dir but . and .., sorted, joined by spaces (malloc'd);
 * NULL when dir cannot be read. */
char *uvtest_list_dir(const char *dir);

/* Fail unless dir/name holds exactly want (a C string). */
void uvtest_assert_file(const char *dir, const char *name, const char *want);

/* Fail unless uvtest_list_dir(dir) is want. */
void uvtest_assert_listing(const char *dir, const char *want);

/* Fail unless dir holds no ".*.tmp" file (a sink's temp file). */
void uvtest_assert_no_temp(const char *dir);

/* Fail unless haystack contains needle, showing both. */
void uvtest_assert_contains(const char *haystack, const char *needle);

/*
 * Run loop until nothing is left to do, then fail naming each handle still
 * open (type and whether active), and assert uv_loop_close() == 0.
 */
void uvtest_loop_finish(uv_loop_t *loop);

/* Write text to dir/pghealthd.ini and load it; fails the test on error.
 * The caller frees the config with pgh_config_free(). */
struct pgh_config *uvtest_load_config(const char *dir, const char *text);

/* What uvtest_publish() hands back: the done callback's status and message. */
struct uvtest_sink_result {
	int status;
	char *errmsg; /* malloc'd copy, or NULL */
	int done_calls;
};

/* Start a sink with o whose done callback fills r (status 1 until then). */
void uvtest_sink_open(uv_loop_t *loop, struct pgh_sink *s, const struct pgh_sink_opts *o,
                      struct uvtest_sink_result *r);

/* Finish s, check the done callback is not called synchronously, run the
 * loop until it was, exactly once; the sink is then released. */
void uvtest_sink_finish(uv_loop_t *loop, struct pgh_sink *s, bool publish);

/* The done callback of uvtest_sink_open(): s->data is the result. */
void uvtest_sink_done_cb(struct pgh_sink *s, int status);

/*
 * Open a sink with o, let fill() append to it, then uvtest_sink_finish().
 * The result's errmsg is the caller's to free.
 */
struct uvtest_sink_result uvtest_publish(uv_loop_t *loop, const struct pgh_sink_opts *o,
                                         void (*fill)(struct pgh_sink *s, void *arg), void *arg,
                                         bool publish);

#endif
