/*
 * config.c - the INI configuration: parsing, validation, display (see config.h).
 *
 * Ownership: pgh_config_load() builds a struct pgh_config that the caller owns
 * and frees with pgh_config_free().  While loading, a struct parse owns the
 * error text, the names of every file read (which struct loc points into) and
 * per-check bookkeeping; it is freed before pgh_config_load() returns.
 *
 * inih does the splitting of lines into sections and "key = value" pairs.
 * Debian builds it with its options as process-wide globals whose defaults cut
 * long lines and inline comments; load() sets them before every parse, so a
 * caller must not parse other INI files with different settings concurrently.
 * Our own line reader feeds inih one physical line at a time, counts lines,
 * rejects what inih would mangle (too long, NUL bytes, malformed lines) and
 * mirrors inih's classification so that it knows section headers (which inih
 * does not report) and continuation lines (which inih reports as a repeated
 * key).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* explicit_bzero */
#endif
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pghealthd/config.h"
#include "pghealthd/log.h"

/* Longest physical line accepted; inih gets a heap buffer a little larger. */
#define LINE_LIMIT        (1024 * 1024)
#define MAX_INCLUDE_DEPTH 16
#define MAX_ERRORS        100
#define MAX_ERROR_LINE    512
#define MAX_SQL_FILE      (16 * 1024 * 1024)
#define MAX_CONFIG_FILE   (64 * 1024 * 1024)
#define DURATION_MAX_MS   (365ULL * 24 * 3600 * 1000)

enum opt_type {
	OPT_STRING,
	OPT_STRLIST,
	OPT_BOOL,
	OPT_UINT,
	OPT_U64,
	OPT_DURATION,
	OPT_SEVERITY,
	OPT_SQL,
	OPT_LOGLEVEL,
};

enum {
	OPT_RAW = 1 << 0,      /* keep every character; indented lines continue it */
	OPT_NONEMPTY = 1 << 1, /* "" is a bad value */
	OPT_OPTIONAL = 1 << 2, /* "" means unset (NULL) */
	OPT_MAIN_DIR = 1 << 3, /* relative path: relative to the main file's directory */
	OPT_PASSFILE = 1 << 4, /* path of a file whose first line is the password */
	OPT_INCLUDE = 1 << 5,  /* glob of files parsed at this point */
	OPT_SQL_FILE = 1 << 6, /* path of a file read into the check's sql */
	OPT_FROM_RUN = 1 << 7, /* unset in a check: the [run] key of the same name */
};

struct opt {
	const char *section; /* "target", "pool", "run" or "check" */
	const char *key;
	enum opt_type type;
	size_t offset;   /* in struct pgh_config, or struct pgh_check for "check" */
	const char *def; /* default as the config would spell it; NULL: none */
	uint64_t min, max;
	unsigned flags;
};

#define CFG(f) offsetof(struct pgh_config, f)
#define CHK(f) offsetof(struct pgh_check, f)
#define DUR    DURATION_MAX_MS
/* A check timeout becomes the session's statement_timeout: an int of ms. */
#define TMO ((uint64_t)INT_MAX)

static const struct opt opts[] = {
    {"target", "conninfo", OPT_STRING, CFG(conninfo), "", 0, 0, OPT_RAW},
    {"target", "password_file", OPT_STRING, CFG(password_file), NULL, 0, 0,
     OPT_OPTIONAL | OPT_PASSFILE},
    {"target", "application_name", OPT_STRING, CFG(application_name), "pghealthd", 0, 0,
     OPT_NONEMPTY},
    {"target", "timezone", OPT_STRING, CFG(timezone), "UTC", 0, 0, OPT_NONEMPTY},
    {"target", "session_sql", OPT_STRLIST, CFG(session_sql), NULL, 0, 0, OPT_RAW},
    {"pool", "min_connections", OPT_UINT, CFG(min_connections), "1", 1, PGH_MAX_CONNECTIONS_LIMIT,
     0},
    {"pool", "max_connections", OPT_UINT, CFG(max_connections), "5", 1, PGH_MAX_CONNECTIONS_LIMIT,
     0},
    {"pool", "connect_timeout", OPT_DURATION, CFG(connect_timeout_ms), "10s", 1, DUR, 0},
    {"pool", "idle_timeout", OPT_DURATION, CFG(idle_timeout_ms), "5m", 0, DUR, 0},
    {"run", "interval", OPT_DURATION, CFG(interval_ms), "60s", 1, DUR, 0},
    {"run", "output_dir", OPT_STRING, CFG(output_dir), "/var/lib/pghealthd", 0, 0,
     OPT_NONEMPTY | OPT_MAIN_DIR},
    {"run", "include", OPT_STRLIST, CFG(include), NULL, 0, 0, OPT_NONEMPTY | OPT_INCLUDE},
    {"run", "timeout", OPT_DURATION, CFG(timeout_ms), "30s", 1, TMO, 0},
    {"run", "max_rows", OPT_U64, CFG(max_rows), "0", 0, UINT64_MAX, 0},
    {"run", "history", OPT_UINT, CFG(history), "1440", 0, UINT_MAX, 0},
    {"run", "fsync", OPT_BOOL, CFG(fsync), "true", 0, 0, 0},
    {"run", "prometheus_file", OPT_STRING, CFG(prometheus_file), NULL, 0, 0, OPT_OPTIONAL},
    {"run", "log_level", OPT_LOGLEVEL, CFG(log_level), "info", 0, 0, 0},
    {"check", "sql", OPT_SQL, CHK(sql), NULL, 0, 0, OPT_RAW},
    {"check", "sql_file", OPT_STRING, CHK(sql_file), NULL, 0, 0, OPT_NONEMPTY | OPT_SQL_FILE},
    {"check", "severity", OPT_SEVERITY, CHK(severity), "info", 0, 0, 0},
    {"check", "interval", OPT_DURATION, CHK(interval_ms), "0", 0, DUR, 0},
    {"check", "timeout", OPT_DURATION, CHK(timeout_ms), NULL, 1, TMO, OPT_FROM_RUN},
    {"check", "max_rows", OPT_U64, CHK(max_rows), NULL, 0, UINT64_MAX, OPT_FROM_RUN},
    {"check", "enabled", OPT_BOOL, CHK(enabled), "true", 0, 0, 0},
};

#define N_OPTS PGH_ARRAY_LEN(opts)

static const char *const severity_names[] = {"info", "warning", "critical"};
static const char *const log_level_names[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

/* Where a value was set; file points into struct parse's list of file names. */
struct loc {
	const char *file;
	int line;
};

/* What loading needs to know about a check beyond struct pgh_check. */
struct check_state {
	struct loc loc[N_OPTS]; /* where each key was last set; line 0: never */
	bool sql_failed;        /* sql_file could not be read: already reported */
};

struct parse {
	struct pgh_config *cfg;
	char *cwd;                  /* to make stored paths absolute; may be NULL */
	struct pgh_strlist files;   /* every file name read; struct loc points here */
	struct loc loc[N_OPTS];     /* where each global key was last set */
	struct check_state *checks; /* parallel to cfg->checks */
	size_t checks_cap;
	size_t *by_name;    /* open addressing: 1 + index into cfg->checks, 0 = free */
	size_t by_name_cap; /* a power of two, at least twice the checks */
	char *err;          /* "file:line: message" lines joined by '\n' */
	size_t err_len;
	unsigned n_err;
};

enum line_kind { LINE_NONE, LINE_KEY, LINE_CONT };
enum sec_kind { SEC_NONE, SEC_TARGET, SEC_POOL, SEC_RUN, SEC_CHECK, SEC_BAD };

/* One file being parsed; included files get their own, linked to the parent. */
struct pfile {
	struct parse *p;
	struct pfile *parent;
	const char *name; /* as given or joined; owned by p->files */
	FILE *fp;
	dev_t dev;
	ino_t ino;
	mode_t mode;
	int depth;
	int lineno;
	char *buf; /* the current physical line, not NUL-terminated */
	size_t len, cap;
	size_t total; /* bytes read so far, to give up on endless input */
	bool too_long;
	bool prev_name;      /* inih's prev_name is set: indented lines continue */
	enum line_kind kind; /* what the current line is, for the handler */
	enum sec_kind sec;
	size_t check;               /* index in cfg->checks when sec == SEC_CHECK */
	int seen[N_OPTS];           /* line where this section instance set the key */
	const struct opt *prev_opt; /* the key that indented lines continue */
	int conninfo_line;          /* conninfo set here and not yet checked */
};

/*
 * Errors are collected, not returned at once, so one run shows them all.
 * Each is one line "file:line: message" ("file: message" when line is 0).
 */
static void verror(struct parse *p, const char *file, int line, const char *fmt, va_list ap)
    PGH_PRINTF(4, 0);

static void verror(struct parse *p, const char *file, int line, const char *fmt, va_list ap)
{
	char msg[MAX_ERROR_LINE];
	char *text;
	size_t n;
	int r;

	if (p->n_err >= MAX_ERRORS) {
		if (p->n_err++ > MAX_ERRORS)
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

static void add_error(struct parse *p, const char *file, int line, const char *fmt, ...)
    PGH_PRINTF(4, 5);
static void line_error(struct pfile *f, const char *fmt, ...) PGH_PRINTF(2, 3);

/* An error at a place other than the reader's current line. */
static void add_error(struct parse *p, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(p, file, line, fmt, ap);
	va_end(ap);
}

/* An error about the line the reader is on. */
static void line_error(struct pfile *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(f->p, f->name, f->lineno, fmt, ap);
	va_end(ap);
}

/* Names as the config spells them, so output and input agree. */
const char *pgh_severity_str(enum pgh_severity sev)
{
	if ((unsigned)sev < PGH_ARRAY_LEN(severity_names))
		return severity_names[sev];
	return "unknown";
}

/* Check names become file names under output_dir: no '/', no "." or "..". */
bool pgh_check_name_valid(const char *name)
{
	/* The name becomes a file name: no path, no hidden file (a leading '.'
	 * would also look like pghealthd's own temp files), and not status.csv. */
	if (name[0] == '\0' || name[0] == '.' || strcmp(name, "status") == 0)
		return false;
	for (const char *c = name; *c; c++) {
		bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		          (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-';

		if (!ok)
			return false;
	}
	return true;
}

/*
 * Durations are exact integers of milliseconds; a fraction is allowed as long
 * as it lands on a whole millisecond, so "1.5" and "0.25s" work and "1.0001s"
 * is refused rather than rounded.
 */
static int unit_ms(const char *u, uint64_t *ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {{"", 1000},   {"ms", 1},      {"s", 1000},
	             {"m", 60000}, {"h", 3600000}, {"d", 86400000}};

	for (size_t i = 0; i < PGH_ARRAY_LEN(units); i++) {
		if (strcmp(u, units[i].name) == 0) {
			*ms = units[i].ms;
			return 0;
		}
	}
	return -EINVAL;
}

/* Digits, an optional fraction, then a unit from unit_ms(); overflow is -EINVAL. */
int pgh_duration_parse(const char *s, uint64_t *ms)
{
	uint64_t whole = 0, frac = 0, den = 1, unit, v;
	const char *c = s;
	int digits = 0;

	for (; *c >= '0' && *c <= '9'; c++, digits++)
		if (__builtin_mul_overflow(whole, 10, &whole) ||
		    __builtin_add_overflow(whole, (uint64_t)(*c - '0'), &whole))
			return -EINVAL;
	if (*c == '.') {
		if (digits == 0 || c[1] < '0' || c[1] > '9')
			return -EINVAL;
		for (c++; *c >= '0' && *c <= '9'; c++, digits++) {
			if (den >= 1000000000ULL) {
				if (*c != '0')
					return -EINVAL; /* finer than any unit can make whole */
				continue;
			}
			frac = frac * 10 + (uint64_t)(*c - '0');
			den *= 10;
		}
	}
	if (digits == 0 || unit_ms(c, &unit) < 0)
		return -EINVAL;
	if ((frac * unit) % den != 0)
		return -EINVAL;
	if (__builtin_mul_overflow(whole, unit, &v) ||
	    __builtin_add_overflow(v, frac * unit / den, &v))
		return -EINVAL;
	*ms = v;
	return 0;
}

/* The largest unit that divides exactly, so parsing the text gives ms back. */
void pgh_duration_format(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % 86400000 == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(ms / 86400000));
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}

/* Repeatable keys grow one item at a time; the list takes ownership of s. */
static void strlist_add(struct pgh_strlist *l, char *s)
{
	l->items = pgh_xrealloc(l->items, (l->len + 1) * sizeof(*l->items));
	l->items[l->len++] = s;
}

/* Frees the items and leaves an empty list behind. */
static void strlist_free(struct pgh_strlist *l)
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

/* The table is small; a linear search keeps it the one source of truth. */
static const struct opt *find_opt(const char *section, const char *key)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcmp(opts[i].section, section) == 0 && strcmp(opts[i].key, key) == 0)
			return &opts[i];
	return NULL;
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
		return &f->p->checks[f->check].loc[o - opts];
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
	char *path = absolute(f->p, join_dir(f->name, value));
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

	if (cfg->password != NULL) {
		explicit_bzero(cfg->password, strlen(cfg->password));
		free(cfg->password);
		cfg->password = NULL;
	}
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
		path = absolute(f->p, join_dir(f->name, value));
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

static int parse_file(struct parse *p, struct pfile *parent, const char *path);

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
		path = join_dir(f->name, value);
		r = parse_file(f->p, f, path);
		free(path);
		return r;
	}
	pattern = glob_pattern(f->name, value);
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
		parse_file(f->p, f, g.gl_pathv[i]);
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
		*field = absolute(f->p, join_dir(f->p->files.items[0], value));
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
		strlist_add(field, pgh_xstrdup(value));
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
	struct pfile f = {.p = &p, .name = "(built-in)"};

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

/*
 * A conninfo that holds a password must live in a file nobody else can read,
 * the rule libpq applies to a pgpass file.  Checked once the value is
 * complete, i.e. when the next key, section or the end of the file comes.
 */
static void check_conninfo(struct pfile *f)
{
	const char *ci = f->p->cfg->conninfo;
	PQconninfoOption *po, *o;
	char *msg = NULL;
	bool has_pw = false;
	int line = f->conninfo_line;

	f->conninfo_line = 0;
	po = PQconninfoParse(ci, &msg);
	if (po == NULL) {
		size_t n = msg ? strlen(msg) : 0;

		while (n > 0 && isspace((unsigned char)msg[n - 1]))
			msg[--n] = '\0';
		add_error(f->p, f->name, line, "bad conninfo: %s", msg ? msg : "out of memory");
		PQfreemem(msg);
		return;
	}
	for (o = po; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0')
			has_pw = true;
	PQconninfoFree(po);
	if (has_pw && S_ISREG(f->mode) && (f->mode & (S_IRWXG | S_IRWXO)))
		add_error(f->p, f->name, line,
		          "conninfo contains a password but %s is readable by group or others; "
		          "chmod 0600 %s (or use password_file)",
		          f->name, f->name);
}

/* A value is complete when something other than a continuation line comes. */
static void finish_value(struct pfile *f)
{
	if (f->conninfo_line)
		check_conninfo(f);
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
	f->seen[i] = f->lineno;
	if (f->sec == SEC_CHECK && (o->type == OPT_SQL || (o->flags & OPT_SQL_FILE)) &&
	    f->seen[find_opt("check", o->type == OPT_SQL ? "sql_file" : "sql") - opts]) {
		line_error(f, "sql and sql_file both set in [check:%s]",
		           f->p->cfg->checks[f->check].name);
		return;
	}
	loc = opt_loc(f, o);
	*loc = (struct loc){f->name, f->lineno};
	f->prev_opt = o;
	v = (o->flags & OPT_RAW) ? pgh_xstrdup(value) : strip_comment(value);
	set_value(f, o, field_ptr(f, o), v);
	free(v);
	if (f->sec == SEC_TARGET && strcmp(o->key, "conninfo") == 0)
		f->conninfo_line = f->lineno;
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

/*
 * inih's handler: the reader has already said whether this line is a new key
 * or continues the last one.  Always returns 1: errors are collected by us,
 * so inih's own first-error line number is not needed.
 */
static int handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct pfile *f = user;

	(void)section; /* inih truncates it at 49 bytes; the reader tracks the real one */
	if (f->kind == LINE_CONT)
		continuation_line(f, value);
	else if (f->kind == LINE_KEY)
		key_line(f, name, value);
	else
		line_error(f, "internal error: parser out of step");
	f->kind = LINE_NONE;
	return 1;
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
	c->file = pgh_xstrdup(f->name);
	c->line = f->lineno;
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

/* s..end is the trimmed line, starting with '['.  Returns -1 to blank it. */
static int section_line(struct pfile *f, const char *s, const char *end)
{
	const char *rb = memchr(s, ']', (size_t)(end - s));
	const char *rest;
	char *name;

	finish_value(f);
	if (rb == NULL) {
		line_error(f, "missing ']' in section header");
		f->sec = SEC_BAD;
		return -1;
	}
	for (rest = rb + 1; rest < end && isspace((unsigned char)*rest); rest++)
		;
	if (rest < end && *rest != ';' && *rest != '#') {
		line_error(f, "unexpected text after section header");
		f->sec = SEC_BAD;
		return -1;
	}
	name = pgh_xstrndup(s + 1, (size_t)(rb - s - 1));
	memset(f->seen, 0, sizeof(f->seen));
	f->prev_name = false;
	f->prev_opt = NULL;
	f->sec = section_kind(f, name);
	free(name);
	return 0;
}

/*
 * Classify the current line exactly as inih will (comment, continuation,
 * section, key), so the handler knows what it is called for.  Returns -1 for
 * a line inih would reject, after reporting it; the reader then blanks it.
 */
static int classify_line(struct pfile *f)
{
	const char *s = f->buf, *end = f->buf + f->len, *sep;

	f->kind = LINE_NONE;
	if (f->lineno == 1 && f->len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s == end || *s == ';' || *s == '#')
		return 0;
	if (f->prev_name && s > f->buf) {
		f->kind = LINE_CONT;
		return 0;
	}
	if (*s == '[')
		return section_line(f, s, end);
	for (sep = s; sep < end && *sep != '=' && *sep != ':'; sep++)
		;
	if (sep == end) {
		line_error(f, "expected 'key = value' or '[section]'");
		return -1;
	}
	while (sep > s && isspace((unsigned char)sep[-1]))
		sep--;
	f->prev_name = sep > s;
	f->kind = LINE_KEY;
	return 0;
}

/* Read one physical line into f->buf; 1: got one, 0: end of file, -1: error. */
static int read_line(struct pfile *f)
{
	int c = EOF;

	f->len = 0;
	f->too_long = false;
	while ((c = getc(f->fp)) != EOF) {
		if (++f->total > MAX_CONFIG_FILE) {
			add_error(f->p, f->name, 0, "larger than %d bytes", MAX_CONFIG_FILE);
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
		add_error(f->p, f->name, f->lineno + 1, "read error: %s", strerror(errno));
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
	struct pfile *f = stream;

	if (f->p->n_err > MAX_ERRORS || read_line(f) <= 0)
		return NULL; /* end of file, or no point reading on */
	f->lineno++;
	f->kind = LINE_NONE;
	if (f->too_long || f->len + 1 >= (size_t)num) {
		line_error(f, "line too long (more than %d bytes)", LINE_LIMIT);
	} else if (memchr(f->buf, '\0', f->len) != NULL) {
		line_error(f, "NUL byte in line");
	} else if (classify_line(f) == 0) {
		memcpy(str, f->buf, f->len);
		str[f->len] = '\0';
		return str;
	}
	str[0] = '\0';
	return str;
}

/* Refuse a file that is already being read further up (an include cycle). */
static int check_nesting(struct pfile *parent, const struct stat *st, const char *path)
{
	for (struct pfile *a = parent; a != NULL; a = a->parent) {
		if (a->dev == st->st_dev && a->ino == st->st_ino) {
			line_error(parent, "include cycle: '%s' is already being read", path);
			return -ELOOP;
		}
	}
	if (parent->depth + 1 > MAX_INCLUDE_DEPTH) {
		line_error(parent, "includes nested more than %d deep", MAX_INCLUDE_DEPTH);
		return -ELOOP;
	}
	return 0;
}

/* Open a config file; the main file's failures are returned, not collected. */
static FILE *open_config(struct parse *p, struct pfile *parent, const char *path, struct stat *st,
                         int *r)
{
	FILE *fp = fopen(path, "re");

	*r = 0;
	if (fp != NULL && fstat(fileno(fp), st) == 0 && S_ISDIR(st->st_mode)) {
		fclose(fp);
		fp = NULL;
		errno = EISDIR;
	}
	if (fp == NULL) {
		*r = -errno;
		if (parent == NULL)
			add_error(p, path, 0, "%s", strerror(errno));
		else
			line_error(parent, "include '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (parent != NULL && (*r = check_nesting(parent, st, path)) < 0) {
		fclose(fp);
		return NULL;
	}
	return fp;
}

/* Parse one file (the main one or an include) with its own reader state. */
static int parse_file(struct parse *p, struct pfile *parent, const char *path)
{
	struct pfile f = {.p = p, .parent = parent};
	unsigned errors = p->n_err;
	struct stat st;
	int r;

	f.fp = open_config(p, parent, path, &st, &r);
	if (f.fp == NULL)
		return r;
	strlist_add(&p->files, pgh_xstrdup(path));
	f.name = p->files.items[p->files.len - 1];
	f.dev = st.st_dev;
	f.ino = st.st_ino;
	f.mode = st.st_mode;
	f.depth = parent ? parent->depth + 1 : 0;
	r = ini_parse_stream(reader_cb, &f, handler_cb, &f);
	finish_value(&f);
	if (r == -2)
		add_error(p, f.name, 0, "out of memory");
	else if (r > 0 && p->n_err == errors)
		add_error(p, f.name, r, "syntax error");
	fclose(f.fp);
	free(f.buf);
	return 0;
}

/* Settings that only make sense once everything is read. */
static void validate_check(struct parse *p, size_t i)
{
	struct pgh_config *cfg = p->cfg;
	struct pgh_check *c = &cfg->checks[i];
	struct check_state *cs = &p->checks[i];
	const struct opt *o;
	const struct loc *at;

	for (o = opts; o < opts + N_OPTS; o++)
		if ((o->flags & OPT_FROM_RUN) && cs->loc[o - opts].line == 0)
			*(uint64_t *)((char *)c + o->offset) =
			    *(uint64_t *)((char *)cfg + find_opt("run", o->key)->offset);
	if (c->sql == NULL && !cs->sql_failed) {
		add_error(p, c->file, c->line, "missing sql in [check:%s] (set sql or sql_file)",
		          c->name);
	} else if (c->sql != NULL && c->sql[strspn(c->sql, " \t\r\n\f\v")] == '\0') {
		o = find_opt("check", c->sql_file ? "sql_file" : "sql");
		at = &cs->loc[o - opts];
		add_error(p, at->file, at->line, "empty sql in [check:%s]", c->name);
	}
	if (c->interval_ms % cfg->interval_ms != 0) {
		char a[32], b[32];

		at = &cs->loc[find_opt("check", "interval") - opts];
		pgh_duration_format(c->interval_ms, a, sizeof(a));
		pgh_duration_format(cfg->interval_ms, b, sizeof(b));
		add_error(p, at->file, at->line,
		          "interval %s of [check:%s] is not a multiple of [run] interval %s", a,
		          c->name, b);
	}
}

/* Cross-key rules, checked once every file is read and every default applied. */
/* The textfile must not be written over status.csv or a check's CSV. */
static void validate_prometheus_file(struct parse *p)
{
	const struct pgh_config *cfg = p->cfg;
	const struct loc *at = &p->loc[find_opt("run", "prometheus_file") - opts];
	const char *pf = cfg->prometheus_file;
	bool clash;

	if (pf == NULL || pf[0] == '\0' || strchr(pf, '/') != NULL)
		return;
	clash = strcmp(pf, "status.csv") == 0;
	for (size_t i = 0; !clash && i < cfg->n_checks; i++) {
		size_t n = strlen(cfg->checks[i].name);

		clash = strncmp(pf, cfg->checks[i].name, n) == 0 && strcmp(pf + n, ".csv") == 0;
	}
	if (clash)
		add_error(p, at->file, at->line,
		          "prometheus_file '%s' is the name of another output file in output_dir",
		          pf);
}

static void validate(struct parse *p)
{
	struct pgh_config *cfg = p->cfg;

	if (cfg->min_connections > cfg->max_connections) {
		const struct loc *a = &p->loc[find_opt("pool", "min_connections") - opts];

		if (a->line == 0)
			a = &p->loc[find_opt("pool", "max_connections") - opts];
		add_error(p, a->file, a->line,
		          "min_connections %u is greater than max_connections %u",
		          cfg->min_connections, cfg->max_connections);
	}
	for (size_t i = 0; i < cfg->n_checks; i++)
		validate_check(p, i);
	validate_prometheus_file(p);
}

/*
 * inih's options are globals in Debian's build: lines up to LINE_LIMIT in one
 * heap buffer (our reader refuses longer ones), no inline comments (we strip
 * them per key), continuation lines on, never stop at the first error.
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
	cfg->path = pgh_xstrdup(path);
	apply_defaults("target", cfg);
	apply_defaults("pool", cfg);
	apply_defaults("run", cfg);
	p.cwd = getcwd(NULL, 0);
	setup_inih();
	r = parse_file(&p, NULL, path);
	if (r == 0)
		validate(&p);
	if (r == 0 && p.n_err > 0)
		r = -EINVAL;
	free(p.cwd);
	strlist_free(&p.files);
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
		free(cfg->checks[i].file);
	}
	free(cfg->checks);
	if (cfg->password != NULL)
		explicit_bzero(cfg->password, strlen(cfg->password));
	free(cfg->password);
	for (const struct opt *o = opts; o < opts + N_OPTS; o++) {
		if (strcmp(o->section, "check") == 0)
			continue;
		if (o->type == OPT_STRING)
			free(*(char **)((char *)cfg + o->offset));
		else if (o->type == OPT_STRLIST)
			strlist_free((struct pgh_strlist *)((char *)cfg + o->offset));
	}
	free(cfg->path);
	free(cfg);
}

/* A conninfo value quoted so that libpq reads it back the same. */
static void print_conninfo_value(FILE *out, const char *v)
{
	if (v[0] != '\0' && strpbrk(v, " \t\n\r\f\v'\\") == NULL) {
		fputs(v, out);
		return;
	}
	fputc('\'', out);
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			fputc('\\', out);
		fputc(*v, out);
	}
	fputc('\'', out);
}

/*
 * The conninfo rebuilt from libpq's parse, so no spelling can leak a
 * password: a password in it is left out (and said so), and the printed
 * file still loads.  Comments go on lines of their own: conninfo keeps every
 * character of its line.
 */
static void print_conninfo(const struct pgh_config *cfg, FILE *out)
{
	PQconninfoOption *po = PQconninfoParse(cfg->conninfo, NULL);
	bool first = true, password = false;

	if (po == NULL) {
		fputs("; conninfo cannot be parsed\nconninfo =\n", out);
		return;
	}
	for (PQconninfoOption *o = po; o->keyword != NULL; o++)
		password = password || (o->val != NULL && strcmp(o->keyword, "password") == 0);
	if (password)
		fputs("; conninfo holds a password, not shown here\n", out);
	fputs("conninfo =", out);
	for (PQconninfoOption *o = po; o->keyword != NULL; o++) {
		if (o->val == NULL || strcmp(o->keyword, "password") == 0)
			continue;
		fprintf(out, " %s=", o->keyword);
		print_conninfo_value(out, o->val);
		first = false;
	}
	PQconninfoFree(po);
	fputs(first ? "\n; (empty: libpq defaults and the PG* environment)\n" : "\n", out);
}

/* "key = value"; lines after the first indented, as the config continues them. */
static void print_kv(FILE *out, const char *key, const char *value)
{
	fprintf(out, "%s =", key);
	if (value != NULL && value[0] != '\0') {
		fputc(' ', out);
		for (; *value; value++) {
			fputc(*value, out);
			if (*value == '\n')
				fputc('\t', out);
		}
	}
	fputc('\n', out);
}

/* One setting, spelled the way the config takes it. */
static void print_opt(const struct opt *o, const void *base, FILE *out)
{
	const void *field = (const char *)base + o->offset;
	const struct pgh_strlist *l = field;
	char buf[32];

	switch (o->type) {
	case OPT_STRING:
	case OPT_SQL:
		print_kv(out, o->key, *(char *const *)field);
		return;
	case OPT_STRLIST:
		/* The included checks are printed as checks: an include would
		 * load them twice, and relative to another file. */
		for (size_t i = 0; i < l->len; i++) {
			if (o->flags & OPT_INCLUDE)
				fputs("; included, its checks below: ", out);
			print_kv(out, o->key, l->items[i]);
		}
		return;
	case OPT_BOOL:
		print_kv(out, o->key, *(const bool *)field ? "true" : "false");
		return;
	case OPT_UINT:
		snprintf(buf, sizeof(buf), "%u", *(const unsigned *)field);
		break;
	case OPT_U64:
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)*(const uint64_t *)field);
		break;
	case OPT_DURATION:
		pgh_duration_format(*(const uint64_t *)field, buf, sizeof(buf));
		break;
	case OPT_SEVERITY:
		print_kv(out, o->key, pgh_severity_str(*(const enum pgh_severity *)field));
		return;
	case OPT_LOGLEVEL:
		print_kv(out, o->key, log_level_names[*(const int *)field & 7]);
		return;
	}
	print_kv(out, o->key, buf);
}

/* Text indented by a tab on every line, as a continuation value would be. */
static void print_indented(const char *text, FILE *out)
{
	const char *nl;

	while (*text) {
		nl = strchr(text, '\n');
		if (nl == NULL)
			nl = text + strlen(text);
		fprintf(out, "\t%.*s\n", (int)(nl - text), text);
		text = *nl ? nl + 1 : nl;
	}
}

/* A check as an INI section, with where its SQL came from as a comment. */
static void print_check(const struct pgh_check *c, FILE *out)
{
	fprintf(out, "\n[check:%s]\n", c->name);
	for (const struct opt *o = opts; o < opts + N_OPTS; o++)
		if (strcmp(o->section, "check") == 0 && o->type != OPT_SQL &&
		    !(o->flags & OPT_SQL_FILE))
			print_opt(o, c, out);
	if (c->sql_file != NULL)
		fprintf(out, "; sql from sql_file %s (section at %s:%d)\n", c->sql_file, c->file,
		        c->line);
	else
		fprintf(out, "; sql inline (%s:%d)\n", c->file, c->line);
	fputs("sql =\n", out);
	print_indented(c->sql ? c->sql : "", out);
}

/* Walks the table, so every key shows up; the password never does. */
void pgh_config_print(const struct pgh_config *cfg, FILE *out)
{
	const char *section = "";

	fprintf(out, "; %s\n", cfg->path);
	for (const struct opt *o = opts; o < opts + N_OPTS; o++) {
		if (strcmp(o->section, "check") == 0)
			continue;
		if (strcmp(o->section, section) != 0) {
			section = o->section;
			fprintf(out, "%s[%s]\n", o == opts ? "" : "\n", section);
		}
		if (strcmp(o->key, "conninfo") == 0)
			print_conninfo(cfg, out);
		else
			print_opt(o, cfg, out);
	}
	for (size_t i = 0; i < cfg->n_checks; i++)
		print_check(&cfg->checks[i], out);
}
