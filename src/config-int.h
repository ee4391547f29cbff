/*
 * config-int.h - what the configuration's files share (private to src/):
 * the key table (config_keys.c), the loading state that validation reads
 * (config.c, config_validate.c) and the display (config_print.c).
 */
#ifndef PGHEALTHD_CONFIG_INT_H
#define PGHEALTHD_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pghealthd/config.h"
#include "pghealthd/inireader.h"

#define DURATION_MAX_MS (365ULL * 24 * 3600 * 1000)

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
	OPT_SCOPE,
};

enum {
	OPT_RAW = 1 << 0,       /* keep every character; indented lines continue it */
	OPT_NONEMPTY = 1 << 1,  /* "" is a bad value */
	OPT_OPTIONAL = 1 << 2,  /* "" means unset (NULL) */
	OPT_MAIN_DIR = 1 << 3,  /* relative path: relative to the main file's directory */
	OPT_PASSFILE = 1 << 4,  /* path of a file whose first line is the password */
	OPT_INCLUDE = 1 << 5,   /* glob of files parsed at this point */
	OPT_SQL_FILE = 1 << 6,  /* path of a file read into the check's sql */
	OPT_FROM_RUN = 1 << 7,  /* unset in a check: the [run] key of the same name */
	OPT_RECONNECT = 1 << 8, /* a reload that changes it replaces the connections */
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

/* The table (config_keys.c); N_OPTS is checked against it there, and that
 * the N_CHECK_OPTS "check" keys come last. */
#define N_OPTS       35
#define N_CHECK_OPTS 11
#define CHECK_OPT(o) ((size_t)((o)-opts) - (N_OPTS - N_CHECK_OPTS))
extern const struct opt opts[]; /* N_OPTS entries */
extern const char *const severity_names[3];
extern const char *const log_level_names[8];
extern const char *const scope_names[2];

/* Dies unless the table is as CHECK_OPT() assumes (the check keys last). */
void config_table_check(void);

/* The table is small; a linear search keeps it the one source of truth. */
const struct opt *find_opt(const char *section, const char *key);

/* Where a value was set: 8 bytes, as there are eight per check. */
struct loc {
	uint32_t file; /* index into cfg->files */
	int line;
};

/* What loading needs to know about a check beyond struct pgh_check. */
struct check_state {
	struct loc loc[N_CHECK_OPTS]; /* where each key was last set (CHECK_OPT); line 0: never */
	bool sql_failed;              /* sql_file could not be read: already reported */
};

struct parse {
	struct pgh_config *cfg;
	char *cwd;                  /* to make stored paths absolute; may be NULL */
	struct loc loc[N_OPTS];     /* where each global key was last set */
	struct check_state *checks; /* parallel to cfg->checks */
	size_t checks_cap;
	size_t *by_name;    /* open addressing: 1 + index into cfg->checks, 0 = free */
	size_t by_name_cap; /* a power of two, at least twice the checks */
	char *err;          /* "file:line: message" lines joined by '\n' */
	size_t err_len;
	unsigned n_err;
};

enum sec_kind { SEC_NONE, SEC_TARGET, SEC_POOL, SEC_RUN, SEC_CHECK, SEC_BAD };

/* What loading keeps per file being read (the reader's file has the rest). */
struct pfile {
	struct parse *p;
	struct pgh_ini_file *ini; /* name, line, mode */
	uint32_t file_no;         /* ini->name's index in cfg->files */
	enum sec_kind sec;
	size_t check;               /* index in cfg->checks when sec == SEC_CHECK */
	int seen[N_OPTS];           /* line where this section instance set the key */
	const struct opt *prev_opt; /* the key that indented lines continue */
	int conninfo_line;          /* conninfo set here and not yet checked */
};

/* Collect an error "file:line: message" ("file: message" when line is 0). */
void add_error(struct parse *p, const char *file, int line, const char *fmt, ...) PGH_PRINTF(4, 5);
/* The same, at where a value was set. */
void loc_error(struct parse *p, const struct loc *at, const char *fmt, ...) PGH_PRINTF(3, 4);

/* The cross-key rules (config_validate.c). */
void pgh_config_validate(struct parse *p);
/* conninfo, once its value is complete: parsable, and no password in a
 * file that others can read. */
void pgh_config_check_conninfo(struct pfile *f);

#endif
