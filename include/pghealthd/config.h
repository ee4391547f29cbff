/*
 * config.h - the INI configuration: parsing, validation, display.
 *
 * A configuration is parsed as a whole into a fresh struct pgh_config; the
 * caller owns it and frees it with pgh_config_free().  Nothing here touches
 * the network or the output directory.  Reload is "load a new one, and swap
 * it in only when it loaded cleanly".
 *
 * One table in config.c (section, key, type, offset, default, min, max,
 * flags) drives parsing, defaults, validation and pgh_config_print().
 */
#ifndef PGHEALTHD_CONFIG_H
#define PGHEALTHD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pghealthd/common.h"
#include "pghealthd/duration.h"

#define PGH_CONFIG_DEFAULT_PATH   "/etc/pghealthd/pghealthd.ini"
#define PGH_MAX_CONNECTIONS_LIMIT 32

enum pgh_severity {
	PGH_SEV_INFO = 0,
	PGH_SEV_WARNING,
	PGH_SEV_CRITICAL,
};

const char *pgh_severity_str(enum pgh_severity sev);

/* Where a check runs: once, or in every database of the cluster. */
enum pgh_scope {
	PGH_SCOPE_CLUSTER = 0, /* once, in the conninfo's database */
	PGH_SCOPE_DATABASE,    /* in every database [target] databases selects */
};

const char *pgh_scope_str(enum pgh_scope scope);

struct pgh_where; /* where.h */

/* A list of strings that a repeatable key accumulates, in file order. */
struct pgh_strlist {
	char **items;
	size_t len;
};

/* Append s, which the list takes over. */
void pgh_strlist_add(struct pgh_strlist *l, char *s);

/* Free the items and leave an empty list behind. */
void pgh_strlist_free(struct pgh_strlist *l);

/* One [check:NAME] section, after merging every section of that name. */
struct pgh_check {
	char *name;       /* [A-Za-z0-9_.-]+ */
	char *sql;        /* the statement text (inline, or read from sql_file) */
	char *sql_file;   /* resolved path when the SQL came from a file, else NULL */
	const char *file; /* file of the first [check:NAME] section (in files) */
	int line;         /* its line */
	enum pgh_severity severity;
	uint64_t interval_ms; /* 0: every round; else a multiple of [run] interval */
	uint64_t timeout_ms;  /* [run] timeout when not set */
	uint64_t max_rows;    /* [run] max_rows when not set; 0 = no cap */
	bool enabled;
	enum pgh_scope scope; /* default cluster */
	/* A query whose one value is kept (output_dir/.state/NAME) and given to
	 * the next run as pghealthd.previous: counters to compare with. */
	char *state_sql;
	/* The check writes on purpose (the replication heartbeat): its
	 * transaction is committed, not undone. */
	bool commit;
	/* Which rows are findings, when the server cannot say (where.h):
	 * the text and its parsed form. */
	char *where;
	struct pgh_where *where_expr;
};

struct pgh_config {
	char *path;               /* the main file, as given */
	struct pgh_strlist files; /* every file read, the main file first */

	/* [target] */
	char *conninfo;         /* libpq conninfo or URI; "" = libpq defaults/PG* */
	char *password_file;    /* resolved path, or NULL */
	char *password;         /* read from password_file; never printed or logged */
	char *login_user;       /* set with password by `lambda` (a secret's username), or NULL */
	char *password_command; /* a command that prints the password (or JSON), or NULL */
	uint64_t password_command_timeout_ms; /* default 10s */
	uint64_t password_ttl_ms;             /* default 10m; 0: for every new connection */
	char *application_name;               /* default "pghealthd" */
	char *timezone;                       /* default "UTC" */
	struct pgh_strlist session_sql;
	char *databases;         /* "all" (default), or names: where database-scoped checks run */
	char *exclude_databases; /* names or shell globs left out; NULL: none */

	/* [pool] */
	unsigned min_connections;    /* default 1, 1..max_connections */
	unsigned max_connections;    /* default 5, 1..32 */
	uint64_t connect_timeout_ms; /* default 10s */
	uint64_t idle_timeout_ms;    /* default 5m */

	/* [run] */
	uint64_t interval_ms; /* default 60s, > 0 */
	char *output_dir;     /* default /var/lib/pghealthd; relative to the main file's dir */
	struct pgh_strlist include; /* as written, for display */
	uint64_t timeout_ms;        /* default 30s, > 0 */
	uint64_t max_rows;          /* default 0 */
	unsigned history;           /* default 1440 */
	bool fsync;                 /* default true */
	char *prometheus_file;      /* NULL, or a file name/path relative to output_dir */
	char *html_file;            /* NULL, or a file name/path relative to output_dir */
	int log_level;              /* syslog priority; default LOG_INFO */

	/* Every check in config order (order of first appearance). */
	struct pgh_check *checks;
	size_t n_checks;
};

/*
 * Parse and validate the file at path (and everything it includes).
 * On success returns 0 and stores a new config in *out.  On failure returns
 * -EINVAL (or -ENOENT/-EACCES/-ENOMEM) and stores in *err a malloc'd text of
 * one or more lines "file:line: what is wrong" (caller frees); *out is NULL.
 */
int pgh_config_load(const char *path, struct pgh_config **out, char **err) PGH_MUSTCHECK;

/*
 * run, once and check-config need at least one enabled check (exec does
 * not): 0, or -EINVAL with *err (the caller's to free) naming the file.
 */
int pgh_config_require_checks(const struct pgh_config *cfg, char **err) PGH_MUSTCHECK;

/* Every default and no check: libpq's own defaults (PG* variables) apply. */
struct pgh_config *pgh_config_new_default(void);

void pgh_config_free(struct pgh_config *cfg);

/* Print the resolved configuration and checks (check-config); never the password. */
void pgh_config_print(const struct pgh_config *cfg, FILE *out);

/*
 * Whether a reload from a to b changes a key that the connections were made
 * with ([target] keys, the password file's content): they are then replaced.
 */
bool pgh_config_reconnects(const struct pgh_config *a, const struct pgh_config *b);

/*
 * Whether a database-scoped check runs in database name: in [target]
 * databases ("all", or one of its comma- or space-separated names) and not
 * matched by a name or shell glob of exclude_databases.
 */
bool pgh_config_database_wanted(const struct pgh_config *cfg, const char *name);

/* True when name matches [A-Za-z0-9_.-]+, does not start with a dot and is
 * not "status" (status.csv is pghealthd's own). */
bool pgh_check_name_valid(const char *name);

#endif
