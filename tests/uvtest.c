/*
 * uvtest.c - helpers for the tests that drive a real libuv loop (see
 * uvtest.h).  Owns nothing beyond each call.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

#include <cmocka.h>

#include "pghealthd/common.h"
#include "uvtest.h"

int uvtest_setup(void **state)
{
	struct uvtest_fixture *f = pgh_xcalloc(1, sizeof(*f));

	if (uv_loop_init(&f->loop) != 0) {
		free(f);
		return -1;
	}
	f->dir = uvtest_mkdtemp("uvtest");
	*state = f;
	return 0;
}

int uvtest_teardown(void **state)
{
	struct uvtest_fixture *f = *state;

	uvtest_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

char *uvtest_mkdtemp(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *dir =
	    pgh_xasprintf("%s/pgh-%s-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", tag);

	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp %s: %s", dir, strerror(errno));
	return dir;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void uvtest_rmtree(const char *dir)
{
	if (dir != NULL)
		(void)nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

char *uvtest_path(const char *dir, const char *name)
{
	return pgh_xasprintf("%s/%s", dir, name);
}

void uvtest_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
}

void uvtest_write_in(const char *dir, const char *name, const char *text)
{
	char *path = uvtest_path(dir, name);

	uvtest_write_file(path, text);
	free(path);
}

void uvtest_mkdir_in(const char *dir, const char *name)
{
	char *path = uvtest_path(dir, name);

	if (mkdir(path, 0700) < 0)
		fail_msg("mkdir %s: %s", path, strerror(errno));
	free(path);
}

char *uvtest_read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (fp == NULL)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap * 2 + 65536;
			buf = pgh_xrealloc(buf, cap + 1);
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	assert_false(ferror(fp));
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

bool uvtest_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dots(const struct dirent *e)
{
	return strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
}

char *uvtest_list_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, not_dots, name_cmp);
	char *out, *o;
	size_t len = 1;

	if (n < 0)
		return NULL;
	for (int i = 0; i < n; i++)
		len += strlen(names[i]->d_name) + 1;
	o = out = pgh_xmalloc(len);
	*o = '\0';
	for (int i = 0; i < n; i++) {
		o += sprintf(o, "%s%s", i > 0 ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return out;
}

void uvtest_assert_file(const char *dir, const char *name, const char *want)
{
	char *path = uvtest_path(dir, name);
	char *got = uvtest_read_file(path, NULL);

	if (got == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	assert_string_equal(got, want);
	free(got);
	free(path);
}

void uvtest_assert_listing(const char *dir, const char *want)
{
	char *got = uvtest_list_dir(dir);

	if (got == NULL)
		fail_msg("%s: %s", dir, strerror(errno));
	assert_string_equal(got, want);
	free(got);
}

void uvtest_assert_no_temp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		fail_msg("opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' && len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0) {
			closedir(d);
			fail_msg("temp file left behind: %s/%s", dir, e->d_name);
		}
	}
	closedir(d);
}

void uvtest_assert_contains(const char *haystack, const char *needle)
{
	if (haystack == NULL || strstr(haystack, needle) == NULL)
		fail_msg("expected \"%s\" in:\n%s", needle, haystack != NULL ? haystack : "(null)");
}

struct pgh_config *uvtest_load_config(const char *dir, const char *text)
{
	char *path = uvtest_path(dir, "pghealthd.ini");
	struct pgh_config *cfg = NULL;
	char *err = NULL;

	uvtest_write_file(path, text);
	if (pgh_config_load(path, &cfg, &err) < 0)
		fail_msg("%s does not load: %s", path, err != NULL ? err : "(no message)");
	free(path);
	return cfg;
}

struct leaks {
	char names[512];
	size_t len;
	unsigned n;
};

/* uv_walk callback: note each handle still open, as libuv's tests do. */
static void leak_cb(uv_handle_t *h, void *arg)
{
	struct leaks *l = arg;
	int n;

	l->n++;
	if (l->len >= sizeof(l->names))
		return;
	n = snprintf(l->names + l->len, sizeof(l->names) - l->len, "%s%s%s%s", l->n > 1 ? ", " : "",
	             uv_handle_type_name(h->type), uv_is_active(h) ? " (active)" : "",
	             uv_is_closing(h) ? " (closing)" : "");
	if (n > 0)
		l->len += (size_t)n;
}

void uvtest_loop_finish(uv_loop_t *loop)
{
	struct leaks l = {.len = 0};

	uv_run(loop, UV_RUN_DEFAULT);
	uv_walk(loop, leak_cb, &l);
	if (l.n > 0)
		fail_msg("%u handle(s) left open: %s", l.n, l.names);
	assert_int_equal(uv_loop_close(loop), 0);
}

void uvtest_sink_done_cb(struct pgh_sink *s, int status)
{
	struct uvtest_sink_result *r = s->data;

	r->status = status;
	r->done_calls++;
	free(r->errmsg);
	r->errmsg = s->errmsg != NULL ? pgh_xstrdup(s->errmsg) : NULL;
	pgh_sink_release(s);
}

void uvtest_sink_open(uv_loop_t *loop, struct pgh_sink *s, const struct pgh_sink_opts *o,
                      struct uvtest_sink_result *r)
{
	*r = (struct uvtest_sink_result){.status = 1};
	pgh_sink_init(s, loop, o);
	s->data = r;
}

void uvtest_sink_finish(uv_loop_t *loop, struct pgh_sink *s, bool publish)
{
	struct uvtest_sink_result *r = s->data;

	pgh_sink_finish(s, publish, uvtest_sink_done_cb);
	assert_int_equal(r->done_calls, 0); /* never synchronously */
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(r->done_calls, 1);
	assert_int_equal(s->state, PGH_SINK_DONE);
}

struct uvtest_sink_result uvtest_publish(uv_loop_t *loop, const struct pgh_sink_opts *o,
                                         void (*fill)(struct pgh_sink *s, void *arg), void *arg,
                                         bool publish)
{
	struct uvtest_sink_result r;
	struct pgh_sink s;

	uvtest_sink_open(loop, &s, o, &r);
	if (fill != NULL)
		fill(&s, arg);
	uvtest_sink_finish(loop, &s, publish);
	return r;
}
