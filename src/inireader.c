/*
 * inireader.c - INI files line by line through inih (see inireader.h).
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pghealthd/common.h"
#include "pghealthd/inireader.h"

/* Longest physical line accepted; inih gets a heap buffer a little larger. */
#define LINE_LIMIT        (1024 * 1024)
#define MAX_INCLUDE_DEPTH 16
#define MAX_ERROR_LINE    2048
#define MAX_CONFIG_FILE   (64 * 1024 * 1024)

/* The reader and its client, for inih's callbacks. */
struct reader {
	const struct pgh_ini_ops *ops;
	void *ctx;
	struct pgh_ini_file *f;
};

static void file_error(const struct reader *r, const char *file, int line, const char *fmt, ...)
    PGH_PRINTF(4, 5);

static void file_error(const struct reader *r, const char *file, int line, const char *fmt, ...)
{
	char msg[MAX_ERROR_LINE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->ops->error(r->ctx, file, line, msg);
}

#define line_error(r, ...) file_error((r), (r)->f->name, (r)->f->lineno, __VA_ARGS__)

/* s..end is the trimmed line, starting with '['.  Returns -1 to blank it. */
static int section_line(struct reader *r, const char *s, const char *end)
{
	struct pgh_ini_file *f = r->f;
	const char *rb = memchr(s, ']', (size_t)(end - s));
	const char *rest;
	char *name;

	if (rb == NULL) {
		line_error(r, "missing ']' in section header");
		r->ops->section(r->ctx, f, NULL);
		return -1;
	}
	for (rest = rb + 1; rest < end && isspace((unsigned char)*rest); rest++)
		;
	if (rest < end && *rest != ';' && *rest != '#') {
		line_error(r, "unexpected text after section header");
		r->ops->section(r->ctx, f, NULL);
		return -1;
	}
	name = pgh_xstrndup(s + 1, (size_t)(rb - s - 1));
	f->prev_name = false;
	r->ops->section(r->ctx, f, name);
	free(name);
	return 0;
}

/*
 * Classify the current line exactly as inih will (comment, continuation,
 * section, key), so the handler knows what it is called for.  Returns -1 for
 * a line inih would reject, after reporting it; the reader then blanks it.
 */
static int classify_line(struct reader *r)
{
	struct pgh_ini_file *f = r->f;
	const char *s = f->buf, *end = f->buf + f->len, *sep;

	f->kind = PGH_INI_NONE;
	if (f->lineno == 1 && f->len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s == end || *s == ';' || *s == '#')
		return 0;
	if (f->prev_name && s > f->buf) {
		f->kind = PGH_INI_CONT;
		return 0;
	}
	if (*s == '[')
		return section_line(r, s, end);
	for (sep = s; sep < end && *sep != '=' && *sep != ':'; sep++)
		;
	if (sep == end) {
		line_error(r, "expected 'key = value' or '[section]'");
		return -1;
	}
	while (sep > s && isspace((unsigned char)sep[-1]))
		sep--;
	f->prev_name = sep > s;
	f->kind = PGH_INI_KEY;
	return 0;
}

/* Read one physical line into f->buf; 1: got one, 0: end of file, -1: error. */
static int read_line(struct reader *r)
{
	struct pgh_ini_file *f = r->f;
	int c = EOF;

	f->len = 0;
	f->too_long = false;
	while ((c = getc(f->fp)) != EOF) {
		if (++f->total > MAX_CONFIG_FILE) {
			file_error(r, f->name, 0, "larger than %d bytes", MAX_CONFIG_FILE);
			return -1;
		}
		if (f->len < LINE_LIMIT) {
			if (f->len == f->cap) {
				f->cap = f->cap ? 2 * f->cap : 256;
				f->buf = pgh_xrealloc(f->buf, f->cap);
			}
			f->buf[f->len++] = (char)c;
		} else {
			f->too_long = true;
		}
		if (c == '\n')
			break;
	}
	if (ferror(f->fp)) {
		file_error(r, f->name, f->lineno + 1, "read error: %s", strerror(errno));
		return -1;
	}
	return f->len > 0 || f->too_long;
}

/*
 * inih's reader: hands over one physical line, or an empty one in place of a
 * line that inih would cut, misread or reject (already reported), so that
 * inih's line count and ours never drift apart.
 */
static char *reader_cb(char *str, int num, void *stream)
{
	struct reader *r = stream;
	struct pgh_ini_file *f = r->f;

	if (r->ops->errors(r->ctx) > PGH_INI_MAX_ERRORS || read_line(r) <= 0)
		return NULL; /* end of file, or no point reading on */
	f->lineno++;
	f->kind = PGH_INI_NONE;
	if (f->too_long || f->len + 1 >= (size_t)num) {
		line_error(r, "line too long (more than %d bytes)", LINE_LIMIT);
	} else if (memchr(f->buf, '\0', f->len) != NULL) {
		line_error(r, "NUL byte in line");
	} else if (classify_line(r) == 0) {
		memcpy(str, f->buf, f->len);
		str[f->len] = '\0';
		return str;
	}
	str[0] = '\0';
	return str;
}

/*
 * inih's handler: the reader has already said whether this line is a new key
 * or continues the last one.  Always returns 1: errors are collected by the
 * client, so inih's own first-error line number is not needed.
 */
static int handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct reader *r = user;
	struct pgh_ini_file *f = r->f;

	(void)section; /* inih truncates it at 49 bytes; the reader tracks the real one */
	if (f->kind == PGH_INI_CONT)
		r->ops->cont(r->ctx, f, value);
	else if (f->kind == PGH_INI_KEY)
		r->ops->key(r->ctx, f, name, value);
	else
		line_error(r, "internal error: parser out of step");
	f->kind = PGH_INI_NONE;
	return 1;
}

/* Refuse a file that is already being read further up (an include cycle). */
static int check_nesting(const struct reader *r, struct pgh_ini_file *parent, const struct stat *st,
                         const char *path)
{
	for (struct pgh_ini_file *a = parent; a != NULL; a = a->parent) {
		if (a->dev == st->st_dev && a->ino == st->st_ino) {
			file_error(r, parent->name, parent->lineno,
			           "include cycle: '%s' is already being read", path);
			return -ELOOP;
		}
	}
	if (parent->depth + 1 > MAX_INCLUDE_DEPTH) {
		file_error(r, parent->name, parent->lineno, "includes nested more than %d deep",
		           MAX_INCLUDE_DEPTH);
		return -ELOOP;
	}
	return 0;
}

/* Open a file; a directory is EISDIR.  The main file is named, an include
 * is reported at the including line. */
static FILE *open_file(const struct reader *r, struct pgh_ini_file *parent, const char *path,
                       struct stat *st, int *err)
{
	FILE *fp = fopen(path, "re");

	*err = 0;
	if (fp != NULL && fstat(fileno(fp), st) == 0 && S_ISDIR(st->st_mode)) {
		fclose(fp);
		fp = NULL;
		errno = EISDIR;
	}
	if (fp == NULL) {
		*err = -errno;
		if (parent == NULL)
			file_error(r, path, 0, "%s", strerror(errno));
		else
			file_error(r, parent->name, parent->lineno, "include '%s': %s", path,
			           strerror(errno));
		return NULL;
	}
	if (parent != NULL && (*err = check_nesting(r, parent, st, path)) < 0) {
		fclose(fp);
		return NULL;
	}
	return fp;
}

/*
 * inih's options are globals in Debian's build: lines up to LINE_LIMIT in one
 * heap buffer (the reader refuses longer ones), no inline comments (the
 * client strips them per key), continuation lines on, never stop at the
 * first error.
 */
static void setup_inih(void)
{
	static char start_comments[] = ";#";

	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_initial_alloc = LINE_LIMIT + 3;
	ini_max_line = LINE_LIMIT + 3;
	ini_allow_inline_comments = false;
	ini_start_comment_prefixes = start_comments;
	ini_allow_multiline = true;
	ini_allow_bom = true;
	ini_allow_no_value = false;
	ini_stop_on_first_error = false;
}

int pgh_ini_read(const struct pgh_ini_ops *ops, void *ctx, struct pgh_ini_file *parent,
                 const char *path)
{
	struct pgh_ini_file f = {.parent = parent};
	struct reader r = {.ops = ops, .ctx = ctx, .f = &f};
	unsigned errors = ops->errors(ctx);
	struct stat st;
	int err;

	f.fp = open_file(&r, parent, path, &st, &err);
	if (f.fp == NULL)
		return err;
	f.dev = st.st_dev;
	f.ino = st.st_ino;
	f.mode = st.st_mode;
	f.depth = parent != NULL ? parent->depth + 1 : 0;
	ops->begin(ctx, &f, path);
	setup_inih();
	err = ini_parse_stream(reader_cb, &r, handler_cb, &r);
	ops->end(ctx, &f);
	if (err == -2)
		file_error(&r, f.name, 0, "out of memory");
	else if (err > 0 && ops->errors(ctx) == errors)
		file_error(&r, f.name, err, "syntax error");
	fclose(f.fp);
	free(f.buf);
	return 0;
}
