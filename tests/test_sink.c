/*
 * test_sink.c - the durable-write helper on a real libuv loop: the bytes
 * that land, publish against discard, history copies and their pruning,
 * the error paths, spares, a content kept in memory, pgh_sink_unlink and
 * pgh_sink_remove_stale.
 *
 * Each test gets its own loop and scratch directory, and ends the way
 * libuv's own tests do: the loop runs dry, no handle is left open, and
 * uv_loop_close() returns 0.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pghealthd/log.h"
#include "pghealthd/sink.h"
#include "uvtest.h"

static void fill_text(struct pgh_sink *s, void *arg)
{
	pgh_sink_append(s, arg, strlen(arg));
}

/* Publish text as dir/name; fails the test unless that worked. */
static void publish_text(struct uvtest_fixture *f, const struct pgh_sink_opts *o, const char *text)
{
	struct uvtest_sink_result r = uvtest_publish(&f->loop, o, fill_text, (void *)text, true);

	if (r.status != 0)
		fail_msg("publish %s: status %d: %s", o->name, r.status, r.errmsg);
	assert_null(r.errmsg);
}

/* reserve + commit and append, then publish: the file holds exactly that. */
static void fill_small(struct pgh_sink *s, void *arg)
{
	char *p = pgh_sink_reserve(s, 64);

	(void)arg;
	memcpy(p, "id,name\n", 8);
	pgh_sink_commit(s, 8);
	pgh_sink_append(s, "1,\"a,b\"\n", 8);
	pgh_sink_append(s, "", 0);
}

static void test_small_file_published(void **state)
{
	struct uvtest_fixture *f = *state;
	struct pgh_sink_opts o = {.dir = f->dir, .name = "small.csv", .fsync = true};
	struct uvtest_sink_result r = uvtest_publish(&f->loop, &o, fill_small, NULL, true);

	assert_int_equal(r.status, 0);
	assert_null(r.errmsg);
	uvtest_assert_file(f->dir, "small.csv", "id,name\n1,\"a,b\"\n");
	uvtest_assert_listing(f->dir, "small.csv"); /* no temp file, no history */

	/* Publishing again replaces the file as a whole. */
	publish_text(f, &o, "id\n");
	uvtest_assert_file(f->dir, "small.csv", "id\n");
	uvtest_assert_listing(f->dir, "small.csv");
	uvtest_loop_finish(&f->loop);
}

/* ---- several buffers, with backpressure ---------------------------------- */

#define BIG_TOTAL (3 * (size_t)PGH_SINK_FLUSH_BYTES + 12345)
#define BIG_CHUNK 4000

struct producer {
	struct uvtest_sink_result res; /* first: uvtest_sink_done_cb's s->data */
	size_t sent;
	unsigned drains;
	unsigned max_pending; /* most bytes seen buffered while paused, in KiB */
	bool finished;
};

/* Not periodic at any buffer size, so a misplaced buffer shows. */
static unsigned char big_byte(size_t i)
{
	return (unsigned char)((i * 131u) ^ (i >> 9) ^ (i >> 17));
}

/* dir/name holds exactly BIG_TOTAL bytes of big_byte(). */
static void assert_big_file(const char *dir, const char *name)
{
	char *path = uvtest_path(dir, name);
	size_t len;
	char *got = uvtest_read_file(path, &len);

	assert_non_null(got);
	assert_int_equal(len, BIG_TOTAL);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)got[i] != big_byte(i))
			fail_msg("%s: byte %zu of %zu is %u, want %u", name, i, len,
			         (unsigned char)got[i], big_byte(i));
	free(got);
	free(path);
}

/* Produce until the sink says it is full, as job.c does; finish at the end. */
static void produce(struct pgh_sink *s)
{
	struct producer *p = s->data;

	while (p->sent < BIG_TOTAL && !pgh_sink_full(s)) {
		size_t n = BIG_TOTAL - p->sent < BIG_CHUNK ? BIG_TOTAL - p->sent : BIG_CHUNK;
		char *dst = pgh_sink_reserve(s, n);

		for (size_t k = 0; k < n; k++)
			dst[k] = (char)big_byte(p->sent + k);
		pgh_sink_commit(s, n);
		p->sent += n;
	}
	if (s->fill_len / 1024 > p->max_pending)
		p->max_pending = (unsigned)(s->fill_len / 1024);
	if (p->sent == BIG_TOTAL && !p->finished) {
		p->finished = true;
		pgh_sink_finish(s, true, uvtest_sink_done_cb);
	}
}

static void drain_cb(struct pgh_sink *s)
{
	((struct producer *)s->data)->drains++;
	produce(s);
}

static void test_big_file_several_buffers(void **state)
{
	struct uvtest_fixture *f = *state;
	struct pgh_sink_opts o = {.dir = f->dir, .name = "big.csv"};
	struct producer p = {.sent = 0};
	struct pgh_sink s;

	uvtest_sink_open(&f->loop, &s, &o, &p.res);
	s.drain_cb = drain_cb;
	produce(&s);
	assert_false(p.finished); /* paused: the temp file is not even open */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(p.res.done_calls, 1);
	assert_int_equal(p.res.status, 0);
	assert_true(p.drains >= 3);
	/* Paused at the threshold: the producer never ran far ahead. */
	assert_true(p.max_pending <= (PGH_SINK_FLUSH_BYTES + BIG_CHUNK) / 1024);

	assert_big_file(f->dir, "big.csv");
	uvtest_assert_listing(f->dir, "big.csv");
	uvtest_loop_finish(&f->loop);
}

/* ---- discard ------------------------------------------------------------- */

static void test_discard_leaves_nothing(void **state)
{
	struct uvtest_fixture *f = *state;
	struct pgh_sink_opts o = {.dir = f->dir, .name = "gone.csv", .fsync = true};
	struct uvtest_sink_result r =
	    uvtest_publish(&f->loop, &o, fill_text, "half a result\n", false);

	assert_int_equal(r.status, 0);
	assert_null(r.errmsg);
	uvtest_assert_listing(f->dir, ""); /* neither the target nor a temp file */

	/* A discard never touches what an earlier publish left. */
	publish_text(f, &o, "kept\n");
	r = uvtest_publish(&f->loop, &o, fill_text, "not this\n", false);
	assert_int_equal(r.status, 0);
	uvtest_assert_file(f->dir, "gone.csv", "kept\n");
	uvtest_assert_listing(f->dir, "gone.csv");
	uvtest_loop_finish(&f->loop);
}

/* ---- history -------------------------------------------------------------- */

static void publish_run(struct uvtest_fixture *f, unsigned keep, unsigned second, const char *text)
{
	char stamp[32];
	struct pgh_sink_opts o = {
	    .dir = f->dir,
	    .name = "chk.csv",
	    .history = "chk",
	    .stamp = stamp,
	    .history_keep = keep,
	};

	snprintf(stamp, sizeof(stamp), "20260101T0000%02uZ.csv", second);
	publish_text(f, &o, text);
}

static ino_t inode_of(const char *dir, const char *name)
{
	char *path = uvtest_path(dir, name);
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	free(path);
	return st.st_ino;
}

static void test_history_copies_and_pruning(void **state)
{
	struct uvtest_fixture *f = *state;
	char *hist = uvtest_path(f->dir, "history/chk");
	char text[32];

	publish_run(f, 3, 1, "run 1\n");
	uvtest_assert_file(hist, "20260101T000001Z.csv", "run 1\n");
	/* Pruning leaves what is not a copy alone: dot files, directories. */
	uvtest_write_in(hist, ".note", "x");
	uvtest_mkdir_in(hist, "sub");
	for (unsigned i = 2; i <= 5; i++) {
		char want[128] = ".note";

		snprintf(text, sizeof(text), "run %u\n", i);
		publish_run(f, 3, i, text);
		/* After every publish: the newest min(i, 3) copies. */
		for (unsigned k = i > 3 ? i - 2 : 1; k <= i; k++)
			snprintf(want + strlen(want), sizeof(want) - strlen(want),
			         " 20260101T0000%02uZ.csv", k);
		strcat(want, " sub");
		uvtest_assert_listing(hist, want);
	}
	uvtest_assert_file(hist, "20260101T000003Z.csv", "run 3\n");
	uvtest_assert_file(hist, "20260101T000004Z.csv", "run 4\n");
	uvtest_assert_file(f->dir, "chk.csv", "run 5\n");
	/* The newest copy is the published file itself (a hard link). */
	assert_true(inode_of(hist, "20260101T000005Z.csv") == inode_of(f->dir, "chk.csv"));

	/* Two runs in one second: the newer one wins. */
	publish_run(f, 3, 5, "run 5 again\n");
	uvtest_assert_file(hist, "20260101T000005Z.csv", "run 5 again\n");
	uvtest_assert_file(hist, "20260101T000003Z.csv", "run 3\n");

	/* A smaller history_keep prunes down to it on the next publish. */
	publish_run(f, 1, 6, "run 6\n");
	uvtest_assert_listing(hist, ".note 20260101T000006Z.csv sub");
	uvtest_assert_listing(f->dir, "chk.csv history");
	free(hist);
	uvtest_loop_finish(&f->loop);
}

static void test_history_keep_zero_keeps_none(void **state)
{
	struct uvtest_fixture *f = *state;

	publish_run(f, 0, 1, "no copy\n");
	uvtest_assert_listing(f->dir, "chk.csv");
	uvtest_loop_finish(&f->loop);
}

/* ---- errors ---------------------------------------------------------------- */

/* Start a sink in f->dir/sub and make it stream: a full buffer opens its
 * temp file (a smaller content stays in memory until finish). */
static void open_and_wait(struct uvtest_fixture *f, struct pgh_sink *s,
                          const struct pgh_sink_opts *o, struct uvtest_sink_result *r)
{
	uvtest_sink_open(&f->loop, s, o, r);
	assert_int_equal(s->state, PGH_SINK_NEW);
	memset(pgh_sink_reserve(s, PGH_SINK_FLUSH_BYTES), 'x', PGH_SINK_FLUSH_BYTES);
	pgh_sink_commit(s, PGH_SINK_FLUSH_BYTES);
	while (s->state == PGH_SINK_OPENING || s->writing)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(s->state, PGH_SINK_OPEN);
	assert_true(uvtest_exists(s->tmp_path));
}

/* The done callback reports err and a message naming path. */
static void assert_failed(struct uvtest_sink_result *r, int err, const char *path)
{
	if (r->status != err)
		fail_msg("status %d (%s), want %d (%s); errmsg: %s", r->status,
		         r->status < 0 ? strerror(-r->status) : "-", err, strerror(-err),
		         r->errmsg != NULL ? r->errmsg : "(none)");
	uvtest_assert_contains(r->errmsg, path);
	free(r->errmsg);
	r->errmsg = NULL;
}

static void test_error_directory_removed(void **state)
{
	struct uvtest_fixture *f = *state;
	char *sub = uvtest_path(f->dir, "out");
	char *target = uvtest_path(sub, "x.csv");
	struct pgh_sink_opts o = {.dir = sub, .name = "x.csv", .fsync = true};
	struct uvtest_sink_result r;
	struct pgh_sink s;

	uvtest_mkdir_in(f->dir, "out");
	open_and_wait(f, &s, &o, &r);
	pgh_sink_append(&s, "rows\n", 5);
	assert_int_equal(unlink(s.tmp_path), 0);
	assert_int_equal(rmdir(sub), 0);
	uvtest_sink_finish(&f->loop, &s, true);
	assert_failed(&r, -ENOENT, target);
	uvtest_assert_listing(f->dir, "");
	free(target);
	free(sub);
	uvtest_loop_finish(&f->loop);
}

static void test_error_target_is_a_directory(void **state)
{
	struct uvtest_fixture *f = *state;
	char *target = uvtest_path(f->dir, "x.csv");
	struct pgh_sink_opts o = {.dir = f->dir, .name = "x.csv"};
	struct uvtest_sink_result r;

	uvtest_mkdir_in(f->dir, "x.csv");
	uvtest_write_in(target, "inside", "");
	r = uvtest_publish(&f->loop, &o, fill_text, "rows\n", true);
	assert_failed(&r, -EISDIR, target);
	uvtest_assert_no_temp(f->dir);
	uvtest_assert_listing(f->dir, "x.csv");
	uvtest_assert_listing(target, "inside");
	free(target);
	uvtest_loop_finish(&f->loop);
}

static void test_error_open_fails(void **state)
{
	struct uvtest_fixture *f = *state;
	char *missing = uvtest_path(f->dir, "missing");
	char *tmp = uvtest_path(missing, ".x.csv.tmp");
	struct pgh_sink_opts o = {.dir = missing, .name = "x.csv"};
	struct uvtest_sink_result r = uvtest_publish(&f->loop, &o, fill_text, "rows\n", true);

	assert_failed(&r, -ENOENT, tmp);
	uvtest_assert_listing(f->dir, "");
	free(tmp);
	free(missing);
	uvtest_loop_finish(&f->loop);
}

/* A small content never touches the disk before finish: no temp file. */
static void test_small_stays_in_memory(void **state)
{
	struct uvtest_fixture *f = *state;
	char *sub = uvtest_path(f->dir, "out");
	char *tmp = uvtest_path(sub, ".x.csv.tmp");
	struct pgh_sink_opts o = {.dir = sub, .name = "x.csv"};
	struct uvtest_sink_result r;
	struct pgh_sink s;

	uvtest_mkdir_in(f->dir, "out");
	uvtest_sink_open(&f->loop, &s, &o, &r);
	pgh_sink_append(&s, "rows\n", 5);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	uvtest_assert_listing(sub, "");
	/* The directory goes before finish: the one job names the temp file. */
	assert_int_equal(rmdir(sub), 0);
	uvtest_sink_finish(&f->loop, &s, true);
	assert_failed(&r, -ENOENT, tmp);
	uvtest_assert_listing(f->dir, "");
	free(tmp);
	free(sub);
	uvtest_loop_finish(&f->loop);
}

/* A content produced at once stays in memory past the flush size. */
static void test_in_memory_never_streams(void **state)
{
	struct uvtest_fixture *f = *state;
	struct pgh_sink_opts o = {.dir = f->dir, .name = "status.csv", .in_memory = true};
	struct uvtest_sink_result r;
	struct pgh_sink s;

	uvtest_sink_open(&f->loop, &s, &o, &r);
	for (size_t i = 0; i < BIG_TOTAL; i++) {
		char c = (char)big_byte(i);

		pgh_sink_append(&s, &c, 1);
	}
	assert_false(pgh_sink_full(&s));
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(s.state, PGH_SINK_NEW);
	uvtest_assert_listing(f->dir, ""); /* no temp file before finish */
	uvtest_sink_finish(&f->loop, &s, true);
	assert_int_equal(r.status, 0);
	assert_big_file(f->dir, "status.csv");
	uvtest_assert_listing(f->dir, "status.csv");
	uvtest_loop_finish(&f->loop);
}

/* Spares: the replaced copy is kept, then rewritten in place and swapped in. */
static void test_spare_rewritten_in_place(void **state)
{
	struct uvtest_fixture *f = *state;
	char *spares = uvtest_path(f->dir, PGH_SINK_SPARE_DIR);
	struct pgh_sink_opts o = {.dir = f->dir, .name = "a.csv", .spare = true};
	ino_t first, second;

	publish_text(f, &o, "v\nfirst, and longer\n");
	first = inode_of(f->dir, "a.csv");
	uvtest_assert_listing(spares, ""); /* nothing replaced yet */
	publish_text(f, &o, "v\nsecond, and longer\n");
	second = inode_of(f->dir, "a.csv");
	assert_true(second != first);
	assert_true(inode_of(spares, "a.csv") == first);
	publish_text(f, &o, "v\nthird\n");
	assert_true(inode_of(f->dir, "a.csv") == first);
	assert_true(inode_of(spares, "a.csv") == second);
	uvtest_assert_file(f->dir, "a.csv", "v\nthird\n"); /* cut to its length */
	uvtest_assert_listing(f->dir, ".spare a.csv");

	/* With no rows, the file and its spare go. */
	pgh_sink_unlink(&f->loop, f->dir, "a.csv");
	uv_run(&f->loop, UV_RUN_DEFAULT);
	uvtest_assert_listing(f->dir, ".spare");
	uvtest_assert_listing(spares, "");
	free(spares);
	uvtest_loop_finish(&f->loop);
}

/* history/ planted as a symlink: no copy lands through it, nothing is published. */
static void test_error_history_symlink(void **state)
{
	struct uvtest_fixture *f = *state;
	char *elsewhere = uvtest_path(f->dir, "elsewhere");
	char *link = uvtest_path(f->dir, "history");
	char *hist = uvtest_path(f->dir, "history/chk");
	struct pgh_sink_opts o = {.dir = f->dir,
	                          .name = "chk.csv",
	                          .history = "chk",
	                          .stamp = "s.csv",
	                          .history_keep = 5};
	struct uvtest_sink_result r;

	uvtest_mkdir_in(f->dir, "elsewhere");
	assert_int_equal(symlink(elsewhere, link), 0);
	r = uvtest_publish(&f->loop, &o, fill_text, "rows\n", true);
	/* Linux refuses O_DIRECTORY | O_NOFOLLOW on a symlink with ENOTDIR. */
	assert_failed(&r, -ENOTDIR, hist);
	uvtest_assert_listing(f->dir, "elsewhere history");
	uvtest_assert_listing(elsewhere, "");
	free(hist);
	free(link);
	free(elsewhere);
	uvtest_loop_finish(&f->loop);
}

/* ---- unlink and stale temp files ------------------------------------------ */

static void test_unlink(void **state)
{
	struct uvtest_fixture *f = *state;

	uvtest_write_in(f->dir, "old.csv", "stale\n");
	uvtest_write_in(f->dir, "other.csv", "kept\n");
	pgh_sink_unlink(&f->loop, f->dir, "old.csv");
	pgh_sink_unlink(&f->loop, f->dir, "never-there.csv"); /* harmless */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	uvtest_assert_listing(f->dir, "other.csv");
	uvtest_loop_finish(&f->loop);
}

static void test_remove_stale(void **state)
{
	struct uvtest_fixture *f = *state;
	char *missing = uvtest_path(f->dir, "missing");
	char *spares;
	static const char *const names[] = {
	    ".a.csv.tmp", ".b.tmp", /* a sink's temp files: removed */
	    "a.tmp",      ".tmp",   "..tmp", ".tmpx", ".a.csv", "status.csv",
	};

	for (size_t i = 0; i < PGH_ARRAY_LEN(names); i++)
		uvtest_write_in(f->dir, names[i], "x");
	assert_int_equal(pgh_sink_remove_stale(f->dir), 2);
	uvtest_assert_listing(f->dir, "..tmp .a.csv .tmp .tmpx a.tmp status.csv");
	assert_int_equal(pgh_sink_remove_stale(f->dir), 0);
	assert_int_equal(pgh_sink_remove_stale(missing), -ENOENT);

	/* A spare whose file is gone goes too; one whose file is there stays. */
	uvtest_mkdir_in(f->dir, PGH_SINK_SPARE_DIR);
	spares = uvtest_path(f->dir, PGH_SINK_SPARE_DIR);
	uvtest_write_in(spares, "status.csv", "old");
	uvtest_write_in(spares, "gone.csv", "old");
	assert_int_equal(pgh_sink_remove_stale(f->dir), 1);
	uvtest_assert_listing(spares, "status.csv");
	free(spares);
	free(missing);
	uvtest_loop_finish(&f->loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    UVTEST(test_small_file_published),
	    UVTEST(test_big_file_several_buffers),
	    UVTEST(test_discard_leaves_nothing),
	    UVTEST(test_history_copies_and_pruning),
	    UVTEST(test_history_keep_zero_keeps_none),
	    UVTEST(test_error_directory_removed),
	    UVTEST(test_small_stays_in_memory),
	    UVTEST(test_in_memory_never_streams),
	    UVTEST(test_spare_rewritten_in_place),
	    UVTEST(test_error_target_is_a_directory),
	    UVTEST(test_error_open_fails),
	    UVTEST(test_error_history_symlink),
	    UVTEST(test_unlink),
	    UVTEST(test_remove_stale),
	};

	pgh_log_level = LOG_WARNING; /* remove_stale logs each removal at info */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
