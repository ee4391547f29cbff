/*
 * config.c - loading the INI configuration (see config.h): the reader's
 * client (inireader.h), which sets each key it reports through the key
 * table (config_keys.c), reads the files that keys name, and collects every
 * error as file:line.  Validation across keys is config_validate.c, the
 * display config_print.c.
 *
 * Ownership: pgh_config_load() builds a struct pgh_config that the caller owns
 * and frees with pgh_config_free(), with the names of every file read (which
 * struct loc and pgh_check.file point into).  While loading, a struct parse
 * owns the error text and per-check bookkeeping; it is freed before
 * pgh_config_load() returns.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* explicit_bzero */
#endif
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-int.h"
#include "pghealthd/log.h"
#include "pghealthd/where.h"

#define MAX_SQL_FILE (16 * 1024 * 1024)

/*
 * Errors are collected, not returned at once, so one run shows them all.
 * Each is one line "file:line: message" ("file: message" when line is 0).
 */
static void verror(struct parse *p, const char *file, int line, const char *fmt, va_list ap)
    PGH_PRINTF(4, 0);

static void verror(struct parse *p, const char *file, int line, const char *fmt, va_list ap)
{
	char msg[512];
	char *text;
	size_t n;
	int r;

	if (p->n_err >= PGH_INI_MAX_ERRORS) {
		if (p->n_err++ > PGH_INI_MAX_ERRORS)
			return;
		text = pgh_xasprintf("%s: too many errors, giving up", file);
	} else {
		p->n_err++;
		r = vsnprintf(msg, sizeof(msg), fmt, ap);
		if (r >= (int)sizeof(msg))
			memcpy(msg + sizeof(msg) - 4, "...", 4);
		text = line > 0 ? pgh_xasprintf("%s:%d: %s", file, line, msg)
		                : pgh_xasprintf("%s: %s", file, msg);
	}
	/* Keys and values from a broken file may hold control characters. */
	for (char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	n = strlen(text);
	p->err = pgh_xrealloc(p->err, p->err_len + n + 2);
	if (p->err_len)
		p->err[p->err_len++] = '\n';
	memcpy(p->err + p->err_len, text, n + 1);
	p->err_len += n;
	free(text);
}

static void line_error(struct pfile *f, const char *fmt, ...) PGH_PRINTF(2, 3);

/* An error at a place other than the reader's current line. */
void add_error(struct parse *p, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(p, file, line, fmt, ap);
	va_end(ap);
}

void loc_error(struct parse *p, const struct loc *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(p, p->cfg->files.items[at->file], at->line, fmt, ap); /* 0: the main file */
	va_end(ap);
}

/* An error about the line the reader is on. */
static void line_error(struct pfile *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(f->p, f->ini->name, f->ini->lineno, fmt, ap);
	va_end(ap);
}

/* Repeatable keys grow one item at a time. */
void pgh_strlist_add(struct pgh_strlist *l, char *s)
{
	l->items = pgh_xrealloc(l->items, (l->len + 1) * sizeof(*l->items));
	l->items[l->len++] = s;
}

void pgh_strlist_free(struct pgh_strlist *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->len = 0;
}

/* A path relative to the directory of file, the way a shell would spell it. */
static char *join_dir(const char *file, const char *rel)
{
	const char *slash = strrchr(file, '/');

	if (rel[0] == '/' || slash == NULL)
		return pgh_xstrdup(rel);
	return pgh_xasprintf("%.*s/%s", (int)(slash - file), file, rel);
}

/* Stored paths are absolute so that a later chdir() cannot change them. */
static char *absolute(const struct parse *p, char *path)
{
	char *abs;

	if (path[0] == '/' || p->cwd == NULL)
		return path;
	abs = pgh_xasprintf("%s/%s", p->cwd, path);
	free(path);
	return abs;
}

/* The table's section name for a section the reader recognised. */
static const char *sec_name(enum sec_kind sec)
{
	switch (sec) {
	case SEC_TARGET:
		return "target";
	case SEC_POOL:
		return "pool";
	case SEC_RUN:
		return "run";
	case SEC_CHECK:
		return "check";
	case SEC_NONE:
	case SEC_BAD:
		break;
	}
	return "";
}

/* "[run]" or "[check:NAME]", for messages about a key. */
static char *sec_label(const struct pfile *f)
{
	if (f->sec == SEC_CHECK)
		return pgh_xasprintf("[check:%s]", f->p->cfg->checks[f->check].name);
	return pgh_xasprintf("[%s]", sec_name(f->sec));
}

/* Check keys land in the current check, the rest in the config itself. */
static void *field_ptr(const struct pfile *f, const struct opt *o)
{
	if (f->sec == SEC_CHECK)
		return (char *)&f->p->cfg->checks[f->check] + o->offset;
	return (char *)f->p->cfg + o->offset;
}

/* Where a key was set is kept beside the value, for errors found later. */
static struct loc *opt_loc(const struct pfile *f, const struct opt *o)
{
	if (f->sec == SEC_CHECK)
		return &f->p->checks[f->check].loc[CHECK_OPT(o)];
	return &f->p->loc[o - opts];
}

/* Out-of-range messages show bounds the way the key is written. */
static void format_bound(const struct opt *o, uint64_t v, char *buf, size_t len)
{
	if (o->type == OPT_DURATION)
		pgh_duration_format(v, buf, len);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* A value of the right form but outside the table's bounds. */
static int range_error(struct pfile *f, const struct opt *o, const char *value)
{
	char lo[32], hi[32];

	format_bound(o, o->min, lo, sizeof(lo));
	format_bound(o, o->max, hi, sizeof(hi));
	line_error(f, "%s = %s is out of range (%s..%s)", o->key, value, lo, hi);
	return -ERANGE;
}

/* A value of the wrong form: say what was written and what would do. */
static int bad_value(struct pfile *f, const struct opt *o, const char *value, const char *expected)
{
	line_error(f, "bad value '%s' for '%s': expected %s", value, o->key, expected);
	return -EINVAL;
}

/* strtoull() alone takes "-1", " 1" and "+1"; only plain digits pass here. */
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	return errno == ERANGE ? -ERANGE : 0;
}

/* Integers and durations share bounds checking; unsigned fields are narrowed after it. */
static int set_number(struct pfile *f, const struct opt *o, void *field, const char *value)
{
	uint64_t v;
	int r;

	if (o->type == OPT_DURATION) {
		if (pgh_duration_parse(value, &v) < 0)
			return bad_value(f, o, value,
			                 "a duration such as 250ms, 30s, 5m, 1h, 2d or seconds");
	} else {
		r = parse_u64(value, &v);
		if (r == -ERANGE)
			return range_error(f, o, value);
		if (r < 0)
			return bad_value(f, o, value, "an unsigned integer");
	}
	if (v < o->min || v > o->max)
		return range_error(f, o, value);
	if (o->type == OPT_UINT)
		*(unsigned *)field = (unsigned)v;
	else
		*(uint64_t *)field = v;
	return 0;
}

/* The spellings people use in INI files, in any case. */
static int set_bool(struct pfile *f, const struct opt *o, bool *field, const char *value)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < PGH_ARRAY_LEN(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*field = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*field = false;
			return 0;
		}
	}
	return bad_value(f, o, value, "true or false (yes/no, on/off, 1/0)");
}

/* Severity decides a check's verdict; only the three known names pass. */
static int set_severity(struct pfile *f, const struct opt *o, enum pgh_severity *field,
                        const char *value)
{
	for (size_t i = 0; i < PGH_ARRAY_LEN(severity_names); i++) {
		if (strcmp(value, severity_names[i]) == 0) {
			*field = (enum pgh_severity)i;
			return 0;
		}
	}
	return bad_value(f, o, value, "info, warning or critical");
}

/* cluster or database. */
static int set_scope(struct pfile *f, const struct opt *o, enum pgh_scope *field, const char *value)
{
	for (size_t i = 0; i < PGH_ARRAY_LEN(scope_names); i++) {
		if (strcmp(value, scope_names[i]) == 0) {
			*field = (enum pgh_scope)i;
			return 0;
		}
	}
	return bad_value(f, o, value, "cluster or database");
}

/* The same names the command line takes, via the log module. */
static int set_log_level(struct pfile *f, const struct opt *o, int *field, const char *value)
{
	int level = pgh_log_level_parse(value);

	if (level < 0)
		return bad_value(f, o, value,
		                 "debug, info, notice, warning, err, crit, alert, emerg or 0-7");
	*field = level;
	return 0;
}

/*
 * Read a whole file that a key names (sql_file, password_file).  Returns a
 * NUL-terminated copy, or NULL with errno set; a NUL byte inside is EILSEQ
 * because libpq would silently cut the text there.
 */
static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "re");
	size_t len = 0, cap = 4096, n;
	char *buf;
	int saved;

	if (fp == NULL)
		return NULL;
	buf = pgh_xmalloc(cap);
	while ((n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
		len += n;
		if (len > MAX_SQL_FILE)
			break;
		if (cap - len - 1 == 0)
			buf = pgh_xrealloc(buf, cap *= 2);
	}
	saved = ferror(fp) ? EIO : len > MAX_SQL_FILE ? EFBIG : 0;
	buf[len] = '\0';
	if (saved == 0 && memchr(buf, '\0', len) != NULL)
		saved = EILSEQ;
	fclose(fp);
	if (saved) {
		explicit_bzero(buf, cap);
		free(buf);
		errno = saved;
		return NULL;
	}
	return buf;
}

/* sql_file replaces any SQL set before: a later section overrides. */
static int load_sql_file(struct pfile *f, const char *value)
{
	struct pgh_check *c = &f->p->cfg->checks[f->check];
	char *path = absolute(f->p, join_dir(f->ini->name, value));
	char *sql = slurp(path);
	int saved = errno;

	free(c->sql);
	free(c->sql_file);
	c->sql = sql;
	c->sql_file = path;
	f->p->checks[f->check].sql_failed = sql == NULL;
	if (sql == NULL) {
		line_error(f, "sql_file '%s': %s", path, strerror(saved));
		return -EINVAL;
	}
	return 0;
}

/* password_file: $CREDENTIALS_DIRECTORY (systemd LoadCredential=) first. */
static int load_password(struct pfile *f, const char *value)
{
	struct pgh_config *cfg = f->p->cfg;
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	char *path = NULL, *text, *nl;

	pgh_wipe_free(cfg->password);
	cfg->password = NULL;
	free(cfg->password_file);
	cfg->password_file = NULL;
	if (value[0] == '\0')
		return 0; /* unset again */
	if (value[0] != '/' && creds != NULL && creds[0] != '\0') {
		path = pgh_xasprintf("%s/%s", creds, value);
		if (access(path, F_OK) != 0) {
			free(path);
			path = NULL;
		}
	}
	if (path == NULL)
		path = absolute(f->p, join_dir(f->ini->name, value));
	cfg->password_file = path;
	text = slurp(path);
	if (text == NULL) {
		line_error(f, "password_file '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	nl = strpbrk(text, "\r\n");
	if (nl != NULL)
		explicit_bzero(nl, strlen(nl));
	cfg->password = text;
	if (text[0] == '\0') {
		line_error(f, "password_file '%s' is empty", path);
		return -EINVAL;
	}
	return 0;
}

static int parse_file(struct parse *p, struct pgh_ini_file *parent, const char *path);

/* A plain include must exist; only a pattern may match nothing. */
static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* The directory part of a glob is literal even if it holds * ? [ or \. */
static char *glob_pattern(const char *file, const char *pattern)
{
	const char *slash = strrchr(file, '/');
	char *out, *o;

	if (pattern[0] == '/' || slash == NULL)
		return pgh_xstrdup(pattern);
	out = o = pgh_xmalloc(2 * (size_t)(slash - file) + strlen(pattern) + 2);
	for (const char *c = file; c < slash; c++) {
		if (strchr("*?[\\", *c))
			*o++ = '\\';
		*o++ = *c;
	}
	*o++ = '/';
	strcpy(o, pattern);
	return out;
}

/* Included files are parsed right here, so they act as if pasted at this line. */
static int include_files(struct pfile *f, const char *value)
{
	char *pattern, *path;
	glob_t g;
	int r;

	if (!has_glob_chars(value)) {
		path = join_dir(f->ini->name, value);
		r = parse_file(f->p, f->ini, path);
		free(path);
		return r;
	}
	pattern = glob_pattern(f->ini->name, value);
	r = glob(pattern, 0, NULL, &g);
	free(pattern);
	if (r == GLOB_NOMATCH)
		return 0;
	if (r != 0) {
		line_error(f, "include '%s': %s", value,
		           r == GLOB_NOSPACE ? "out of memory" : "read error");
		return -EINVAL;
	}
	for (size_t i = 0; i < g.gl_pathc; i++)
		parse_file(f->p, f->ini, g.gl_pathv[i]);
	globfree(&g);
	return 0;
}

/* Strings, and the keys that name files to resolve, read or parse now. */
static int set_string(struct pfile *f, const struct opt *o, char **field, const char *value)
{
	if (value[0] == '\0' && (o->flags & OPT_NONEMPTY)) {
		line_error(f, "'%s' must not be empty", o->key);
		return -EINVAL;
	}
	if (o->flags & OPT_SQL_FILE)
		return load_sql_file(f, value);
	if (o->flags & OPT_PASSFILE)
		return load_password(f, value);
	if (value[0] == '\0' && (o->flags & OPT_OPTIONAL)) {
		free(*field);
		*field = NULL;
		return 0;
	}
	free(*field);
	if (o->flags & OPT_MAIN_DIR)
		*field = absolute(f->p, join_dir(f->p->cfg->files.items[0], value));
	else
		*field = pgh_xstrdup(value);
	return 0;
}

/* Inline sql replaces any sql_file set before: a later section overrides. */
static int set_sql(struct pfile *f, const char *value)
{
	struct pgh_check *c = &f->p->cfg->checks[f->check];

	free(c->sql);
	free(c->sql_file);
	c->sql = pgh_xstrdup(value);
	c->sql_file = NULL;
	f->p->checks[f->check].sql_failed = false;
	return 0;
}

/*
 * Set one key from its text into field (inside the config or the current
 * check).  Errors are reported at f's current line; returns 0 or -errno.
 */
static int set_value(struct pfile *f, const struct opt *o, void *field, const char *value)
{
	switch (o->type) {
	case OPT_STRING:
		return set_string(f, o, field, value);
	case OPT_STRLIST:
		pgh_strlist_add(field, pgh_xstrdup(value));
		return (o->flags & OPT_INCLUDE) ? include_files(f, value) : 0;
	case OPT_SQL:
		return set_sql(f, value);
	case OPT_BOOL:
		return set_bool(f, o, field, value);
	case OPT_UINT:
	case OPT_U64:
	case OPT_DURATION:
		return set_number(f, o, field, value);
	case OPT_SEVERITY:
		return set_severity(f, o, field, value);
	case OPT_LOGLEVEL:
		return set_log_level(f, o, field, value);
	case OPT_SCOPE:
		return set_scope(f, o, field, value);
	}
	pgh_bug("config: option type %d", (int)o->type);
}

/*
 * Built-in defaults go through the same parsers as the file does (strings are
 * taken as they are: no default names a file to resolve or read).  The
 * parsers report through a pfile, so they get a throwaway one.
 */
static void apply_defaults(const char *section, void *base)
{
	struct parse p = {0};
	struct pgh_ini_file ini = {.name = "(built-in)"};
	struct pfile f = {.p = &p, .ini = &ini};

	for (const struct opt *o = opts; o < opts + N_OPTS; o++) {
		void *field = (char *)base + o->offset;

		if (o->def == NULL || strcmp(o->section, section) != 0)
			continue;
		if (o->type == OPT_STRING)
			*(char **)field = pgh_xstrdup(o->def);
		else if (set_value(&f, o, field, o->def) != 0)
			pgh_bug("config: bad built-in default %s = %s", o->key, o->def);
	}
}

/* Drop an inline comment: ';' at the start or after a space or tab. */
static char *strip_comment(const char *value)
{
	char *v = pgh_xstrdup(value);
	size_t n;

	for (char *c = v; *c; c++) {
		if (*c == ';' && (c == v || c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
	}
	n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		v[--n] = '\0';
	return v;
}

/* A value is complete when something other than a continuation line comes. */
static void finish_value(struct pfile *f)
{
	if (f->conninfo_line)
		pgh_config_check_conninfo(f);
}

/*
 * A "key = value" line: find the key in the table for this section, refuse
 * unknown and repeated keys, then set it; later sections of the same name
 * may set a key again, a repeated key within one section may not.
 */
static void key_line(struct pfile *f, const char *name, const char *value)
{
	const struct opt *o;
	struct loc *loc;
	char *label, *v;
	size_t i;

	finish_value(f);
	f->prev_opt = NULL;
	if (f->sec == SEC_BAD)
		return; /* the section header was reported */
	if (f->sec == SEC_NONE) {
		line_error(f, "key '%s' outside any section", name);
		return;
	}
	o = find_opt(sec_name(f->sec), name);
	label = sec_label(f);
	if (o == NULL) {
		line_error(f, "unknown key '%s' in %s", name, label);
		free(label);
		return;
	}
	i = (size_t)(o - opts);
	if (f->seen[i] && o->type != OPT_STRLIST) {
		line_error(f, "duplicate key '%s' in %s (first set at line %d)", name, label,
		           f->seen[i]);
		free(label);
		return;
	}
	free(label);
	f->seen[i] = f->ini->lineno;
	if (f->sec == SEC_CHECK && (o->type == OPT_SQL || (o->flags & OPT_SQL_FILE)) &&
	    f->seen[find_opt("check", o->type == OPT_SQL ? "sql_file" : "sql") - opts]) {
		line_error(f, "sql and sql_file both set in [check:%s]",
		           f->p->cfg->checks[f->check].name);
		return;
	}
	loc = opt_loc(f, o);
	*loc = (struct loc){f->file_no, f->ini->lineno};
	f->prev_opt = o;
	v = (o->flags & OPT_RAW) ? pgh_xstrdup(value) : strip_comment(value);
	set_value(f, o, field_ptr(f, o), v);
	free(v);
	if (f->sec == SEC_TARGET && strcmp(o->key, "conninfo") == 0)
		f->conninfo_line = f->ini->lineno;
}

/* An indented line: more of a raw value, or a mistake for any other key. */
static void continuation_line(struct pfile *f, const char *value)
{
	const struct opt *o = f->prev_opt;
	char **s, *joined;

	if (o == NULL)
		return; /* the key was reported */
	if (!(o->flags & OPT_RAW)) {
		line_error(f,
		           "indented line continues the value of '%s', which takes a single line",
		           o->key);
		f->prev_opt = NULL;
		return;
	}
	if (o->type == OPT_STRLIST) {
		struct pgh_strlist *l = field_ptr(f, o);

		s = &l->items[l->len - 1];
	} else {
		s = field_ptr(f, o);
	}
	joined = (*s)[0] ? pgh_xasprintf("%s\n%s", *s, value) : pgh_xstrdup(value);
	free(*s);
	*s = joined;
}

/* FNV-1a: check names are short; the table only has to spread them. */
static size_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ull;
	return (size_t)h;
}

/* The slot of name in the by-name table: its entry, or the free slot for it. */
static size_t *name_slot(struct parse *p, const char *name)
{
	size_t mask = p->by_name_cap - 1, i = name_hash(name) & mask;

	while (p->by_name[i] != 0 && strcmp(p->cfg->checks[p->by_name[i] - 1].name, name) != 0)
		i = (i + 1) & mask;
	return &p->by_name[i];
}

/* Keep the table at most half full: a pack of a thousand checks is parsed
 * in linear time, not with a scan of every earlier check per section. */
static void grow_by_name(struct parse *p)
{
	size_t n = p->cfg->n_checks;

	if (2 * (n + 1) <= p->by_name_cap)
		return;
	free(p->by_name);
	p->by_name_cap = p->by_name_cap ? 2 * p->by_name_cap : 64;
	p->by_name = pgh_xcalloc(p->by_name_cap, sizeof(*p->by_name));
	for (size_t i = 0; i < n; i++)
		*name_slot(p, p->cfg->checks[i].name) = i + 1;
}

/* A [check:NAME] seen again continues the same check: keys merge into it. */
static size_t find_or_add_check(struct pfile *f, const char *name)
{
	struct parse *p = f->p;
	struct pgh_config *cfg = p->cfg;
	struct pgh_check *c;
	size_t *slot;

	grow_by_name(p);
	slot = name_slot(p, name);
	if (*slot != 0)
		return *slot - 1;
	*slot = cfg->n_checks + 1;
	if (cfg->n_checks == p->checks_cap) {
		p->checks_cap = p->checks_cap ? 2 * p->checks_cap : 8;
		cfg->checks = pgh_xrealloc(cfg->checks, p->checks_cap * sizeof(*cfg->checks));
		p->checks = pgh_xrealloc(p->checks, p->checks_cap * sizeof(*p->checks));
	}
	c = &cfg->checks[cfg->n_checks];
	memset(c, 0, sizeof(*c));
	memset(&p->checks[cfg->n_checks], 0, sizeof(*p->checks));
	c->name = pgh_xstrdup(name);
	c->file = f->ini->name;
	c->line = f->ini->lineno;
	apply_defaults("check", c);
	return cfg->n_checks++;
}

/* Which section a header opens; SEC_BAD after reporting why not. */
static enum sec_kind section_kind(struct pfile *f, const char *name)
{
	if (strcmp(name, "target") == 0)
		return SEC_TARGET;
	if (strcmp(name, "pool") == 0)
		return SEC_POOL;
	if (strcmp(name, "run") == 0)
		return SEC_RUN;
	if (strncmp(name, "check:", 6) == 0) {
		if (pgh_check_name_valid(name + 6)) {
			f->check = find_or_add_check(f, name + 6);
			return SEC_CHECK;
		}
		line_error(f,
		           "bad check name '%s' (allowed: A-Z a-z 0-9 _ . -, not starting with ., "
		           "not 'status')",
		           name + 6);
		return SEC_BAD;
	}
	line_error(f, "unknown section [%s] (expected target, pool, run or check:NAME)", name);
	return SEC_BAD;
}

/* A section header; NULL: a malformed one (reported by the reader). */
static void section_cb(void *ctx, struct pgh_ini_file *ini, const char *name)
{
	struct pfile *f = ini->data;

	(void)ctx;
	finish_value(f);
	/* Even a malformed header ends the last key: an indented line after
	 * it must not continue a value of a section that is over. */
	f->prev_opt = NULL;
	if (name == NULL) {
		f->sec = SEC_BAD;
		return;
	}
	memset(f->seen, 0, sizeof(f->seen));
	f->sec = section_kind(f, name);
}

static void key_cb(void *ctx, struct pgh_ini_file *ini, const char *name, const char *value)
{
	(void)ctx;
	key_line(ini->data, name, value);
}

static void cont_cb(void *ctx, struct pgh_ini_file *ini, const char *value)
{
	(void)ctx;
	continuation_line(ini->data, value);
}

static void error_cb(void *ctx, const char *file, int line, const char *msg)
{
	add_error(ctx, file, line, "%s", msg);
}

static unsigned errors_cb(void *ctx)
{
	const struct parse *p = ctx;

	return p->n_err;
}

/* A file begins: its name is kept for struct loc, its state is ours. */
static void begin_cb(void *ctx, struct pgh_ini_file *ini, const char *path)
{
	struct parse *p = ctx;
	struct pfile *f = pgh_xcalloc(1, sizeof(*f));

	pgh_strlist_add(&p->cfg->files, pgh_xstrdup(path));
	ini->name = p->cfg->files.items[p->cfg->files.len - 1];
	f->file_no = (uint32_t)(p->cfg->files.len - 1);
	f->p = p;
	f->ini = ini;
	ini->data = f;
}

static void end_cb(void *ctx, struct pgh_ini_file *ini)
{
	(void)ctx;
	finish_value(ini->data);
	free(ini->data);
}

static const struct pgh_ini_ops reader_ops = {
    .begin = begin_cb,
    .end = end_cb,
    .section = section_cb,
    .key = key_cb,
    .cont = cont_cb,
    .error = error_cb,
    .errors = errors_cb,
};

/* Parse one file (the main one or an include of parent) at this point. */
static int parse_file(struct parse *p, struct pgh_ini_file *parent, const char *path)
{
	return pgh_ini_read(&reader_ops, p, parent, path);
}

/* Defaults first, then the files in order, then the cross-key rules. */
struct pgh_config *pgh_config_new_default(void)
{
	struct pgh_config *cfg = pgh_xcalloc(1, sizeof(*cfg));

	cfg->path = pgh_xstrdup("(defaults)");
	apply_defaults("target", cfg);
	apply_defaults("pool", cfg);
	apply_defaults("run", cfg);
	return cfg;
}

int pgh_config_load(const char *path, struct pgh_config **out, char **err)
{
	struct pgh_config *cfg = pgh_xcalloc(1, sizeof(*cfg));
	struct parse p = {.cfg = cfg};
	int r;

	*out = NULL;
	*err = NULL;
	config_table_check();
	cfg->path = pgh_xstrdup(path);
	apply_defaults("target", cfg);
	apply_defaults("pool", cfg);
	apply_defaults("run", cfg);
	p.cwd = getcwd(NULL, 0);
	r = parse_file(&p, NULL, path);
	if (r == 0)
		pgh_config_validate(&p);
	if (r == 0 && p.n_err > 0)
		r = -EINVAL;
	free(p.cwd);
	free(p.checks);
	free(p.by_name);
	if (r < 0) {
		*err = p.err;
		pgh_config_free(cfg);
		return r;
	}
	*out = cfg;
	return 0;
}

int pgh_config_require_checks(const struct pgh_config *cfg, char **err)
{
	for (size_t i = 0; i < cfg->n_checks; i++)
		if (cfg->checks[i].enabled)
			return 0;
	*err =
	    pgh_xasprintf("%s: no checks configured: add a [check:NAME] section, or an "
	                  "include = of a check pack that matches a file%s\n",
	                  cfg->path, cfg->n_checks > 0 ? " (every check has enabled = false)" : "");
	return -EINVAL;
}

/* The table says which global fields own memory; the password is wiped. */
void pgh_config_free(struct pgh_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->n_checks; i++) {
		free(cfg->checks[i].name);
		free(cfg->checks[i].sql);
		free(cfg->checks[i].sql_file);
		free(cfg->checks[i].state_sql);
		free(cfg->checks[i].where);
		pgh_where_free(cfg->checks[i].where_expr);
	}
	free(cfg->checks);
	pgh_wipe_free(cfg->password);
	free(cfg->login_user);
	for (const struct opt *o = opts; o < opts + N_OPTS; o++) {
		if (strcmp(o->section, "check") == 0)
			continue;
		if (o->type == OPT_STRING)
			free(*(char **)((char *)cfg + o->offset));
		else if (o->type == OPT_STRLIST)
			pgh_strlist_free((struct pgh_strlist *)((char *)cfg + o->offset));
	}
	pgh_strlist_free(&cfg->files);
	free(cfg->path);
	free(cfg);
}
