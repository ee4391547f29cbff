/*
 * inireader.h - reads INI files line by line through inih, and reports what
 * it finds (section headers, keys, continuation lines, errors) to a client
 * through callbacks.  It knows nothing of pghealthd's keys: config.c is its
 * client, and an "include" key makes the client read another file at that
 * point with pgh_ini_read(), so the reader never calls into the config.
 *
 * inih does the splitting of lines into sections and "key = value" pairs.
 * Debian builds it with its options as process-wide globals whose defaults
 * cut long lines and inline comments; pgh_ini_read() sets them before every
 * file, so a caller must not parse other INI files with different settings
 * concurrently.  The reader feeds inih one physical line at a time, counts
 * lines, rejects what inih would mangle (too long, NUL bytes, malformed
 * lines) and mirrors inih's classification so that it knows section headers
 * (which inih does not report) and continuation lines (which inih reports
 * as a repeated key).
 */
#ifndef PGHEALTHD_INIREADER_H
#define PGHEALTHD_INIREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "pghealthd/common.h"

enum pgh_ini_line { PGH_INI_NONE, PGH_INI_KEY, PGH_INI_CONT };

/* One file being read; an included file's parent is the including one. */
struct pgh_ini_file {
	struct pgh_ini_file *parent;
	const char *name; /* set by the client's begin callback; outlives the file */
	mode_t mode;      /* of the open file (the client checks permissions) */
	int depth;        /* 0 for the main file */
	int lineno;       /* the current line */
	void *data;       /* the client's */

	/* The reader's own. */
	FILE *fp;
	dev_t dev;
	ino_t ino;
	char *buf; /* the current physical line, not NUL-terminated */
	size_t len, cap;
	size_t total; /* bytes read so far, to give up on endless input */
	bool too_long;
	bool prev_name;         /* inih's prev_name is set: indented lines continue */
	enum pgh_ini_line kind; /* what the current line is, for the handler */
};

struct pgh_ini_ops {
	/* A file was opened: set f->name (a copy of path that lives on) and
	 * f->data.  end: the file is over (after its last line). */
	void (*begin)(void *ctx, struct pgh_ini_file *f, const char *path);
	void (*end)(void *ctx, struct pgh_ini_file *f);
	/* A "[name]" header; NULL when the header is malformed (reported). */
	void (*section)(void *ctx, struct pgh_ini_file *f, const char *name);
	/* "name = value" (the value as inih trimmed it). */
	void (*key)(void *ctx, struct pgh_ini_file *f, const char *name, const char *value);
	/* An indented line that continues the last key's value. */
	void (*cont)(void *ctx, struct pgh_ini_file *f, const char *value);
	/* Something wrong at file:line (line 0: the file as a whole). */
	void (*error)(void *ctx, const char *file, int line, const char *msg);
	/* How many errors were reported so far, by anyone: the reader stops
	 * reading past PGH_INI_MAX_ERRORS. */
	unsigned (*errors)(void *ctx);
};

#define PGH_INI_MAX_ERRORS 100

/*
 * Read path (parent NULL: the main file; else an include of parent, at
 * parent's current line).  Returns 0, or -errno when the file could not be
 * opened or would nest (a cycle, too deep): that was reported too.
 */
int pgh_ini_read(const struct pgh_ini_ops *ops, void *ctx, struct pgh_ini_file *parent,
                 const char *path);

#endif
