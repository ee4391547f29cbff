/*
 * config_keys.c - the table of every configuration key: its section, type,
 * field, default, bounds and flags.  Loading, validation, display and the
 * reload rules all walk this one table.
 */
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config-int.h"
#include "pghealthd/log.h"

#define CFG(f) offsetof(struct pgh_config, f)
#define CHK(f) offsetof(struct pgh_check, f)
#define DUR    DURATION_MAX_MS
/* A check timeout becomes the session's statement_timeout: an int of ms. */
#define TMO ((uint64_t)INT_MAX)

const struct opt opts[] = {
    {"target", "conninfo", OPT_STRING, CFG(conninfo), "", 0, 0, OPT_RAW | OPT_RECONNECT},
    {"target", "password_file", OPT_STRING, CFG(password_file), NULL, 0, 0,
     OPT_OPTIONAL | OPT_PASSFILE | OPT_RECONNECT},
    {"target", "password_command", OPT_STRING, CFG(password_command), NULL, 0, 0,
     OPT_OPTIONAL | OPT_RAW | OPT_RECONNECT},
    {"target", "password_command_timeout", OPT_DURATION, CFG(password_command_timeout_ms), "10s", 1,
     DUR, 0},
    {"target", "password_ttl", OPT_DURATION, CFG(password_ttl_ms), "10m", 0, DUR, 0},
    {"target", "application_name", OPT_STRING, CFG(application_name), "pghealthd", 0, 0,
     OPT_NONEMPTY | OPT_RECONNECT},
    {"target", "timezone", OPT_STRING, CFG(timezone), "UTC", 0, 0, OPT_NONEMPTY | OPT_RECONNECT},
    {"target", "session_sql", OPT_STRLIST, CFG(session_sql), NULL, 0, 0, OPT_RAW | OPT_RECONNECT},
    {"target", "databases", OPT_STRING, CFG(databases), "all", 0, 0, OPT_NONEMPTY},
    {"target", "exclude_databases", OPT_STRING, CFG(exclude_databases), NULL, 0, 0, OPT_OPTIONAL},
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
    {"run", "html_file", OPT_STRING, CFG(html_file), NULL, 0, 0, OPT_OPTIONAL},
    {"run", "log_level", OPT_LOGLEVEL, CFG(log_level), "info", 0, 0, 0},
    {"check", "sql", OPT_SQL, CHK(sql), NULL, 0, 0, OPT_RAW},
    {"check", "sql_file", OPT_STRING, CHK(sql_file), NULL, 0, 0, OPT_NONEMPTY | OPT_SQL_FILE},
    {"check", "severity", OPT_SEVERITY, CHK(severity), "info", 0, 0, 0},
    {"check", "interval", OPT_DURATION, CHK(interval_ms), "0", 0, DUR, 0},
    {"check", "timeout", OPT_DURATION, CHK(timeout_ms), NULL, 1, TMO, OPT_FROM_RUN},
    {"check", "max_rows", OPT_U64, CHK(max_rows), NULL, 0, UINT64_MAX, OPT_FROM_RUN},
    {"check", "enabled", OPT_BOOL, CHK(enabled), "true", 0, 0, 0},
    {"check", "scope", OPT_SCOPE, CHK(scope), "cluster", 0, 0, 0},
    {"check", "state_sql", OPT_STRING, CHK(state_sql), NULL, 0, 0, OPT_RAW | OPT_OPTIONAL},
    {"check", "commit", OPT_BOOL, CHK(commit), "false", 0, 0, 0},
    {"check", "where", OPT_STRING, CHK(where), NULL, 0, 0, OPT_RAW | OPT_OPTIONAL},
};

const char *const severity_names[] = {"info", "warning", "critical"};
const char *const scope_names[] = {"cluster", "database"};
const char *const log_level_names[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

/* Names as the config spells them, so output and input agree. */
const char *pgh_scope_str(enum pgh_scope scope)
{
	return pgh_enum_name(scope_names, PGH_ARRAY_LEN(scope_names), (unsigned)scope);
}

/* The names of a list "a, b c": each call gives the next one, or false. */
static bool next_name(const char **list, const char **name, size_t *len)
{
	const char *p = *list + strspn(*list, ", \t\n");

	if (*p == '\0')
		return false;
	*name = p;
	*len = strcspn(p, ", \t\n");
	*list = p + *len;
	return true;
}

bool pgh_config_database_wanted(const struct pgh_config *cfg, const char *name)
{
	const char *list = cfg->databases != NULL ? cfg->databases : "all", *n;
	char pattern[256];
	bool wanted = strcmp(list, "all") == 0;
	size_t len;

	while (!wanted && next_name(&list, &n, &len))
		wanted = len == strlen(name) && strncmp(n, name, len) == 0;
	list = cfg->exclude_databases != NULL ? cfg->exclude_databases : "";
	while (wanted && next_name(&list, &n, &len)) {
		snprintf(pattern, sizeof(pattern), "%.*s", (int)len, n);
		wanted = fnmatch(pattern, name, 0) != 0;
	}
	return wanted;
}

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

/* The table is small; a linear search keeps it the one source of truth. */
const struct opt *find_opt(const char *section, const char *key)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcmp(opts[i].section, section) == 0 && strcmp(opts[i].key, key) == 0)
			return &opts[i];
	return NULL;
}

_Static_assert(PGH_ARRAY_LEN(opts) == N_OPTS, "N_OPTS in config-int.h is the table's length");

/* A check's bookkeeping holds only the check keys: they must come last. */
void config_table_check(void)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if ((strcmp(opts[i].section, "check") == 0) != (i >= N_OPTS - N_CHECK_OPTS))
			pgh_bug("config: the check keys must be the table's last %d", N_CHECK_OPTS);
}

static bool same_str(const char *a, const char *b)
{
	return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

static bool same_field(const struct opt *o, const struct pgh_config *a, const struct pgh_config *b)
{
	const void *fa = (const char *)a + o->offset, *fb = (const char *)b + o->offset;
	const struct pgh_strlist *la = fa, *lb = fb;

	switch (o->type) {
	case OPT_STRING:
	case OPT_SQL:
		return same_str(*(char *const *)fa, *(char *const *)fb);
	case OPT_STRLIST:
		if (la->len != lb->len)
			return false;
		for (size_t i = 0; i < la->len; i++)
			if (strcmp(la->items[i], lb->items[i]) != 0)
				return false;
		return true;
	case OPT_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case OPT_UINT:
		return *(const unsigned *)fa == *(const unsigned *)fb;
	case OPT_U64:
	case OPT_DURATION:
		return *(const uint64_t *)fa == *(const uint64_t *)fb;
	case OPT_SEVERITY:
		return *(const enum pgh_severity *)fa == *(const enum pgh_severity *)fb;
	case OPT_LOGLEVEL:
		return *(const int *)fa == *(const int *)fb;
	case OPT_SCOPE:
		return *(const enum pgh_scope *)fa == *(const enum pgh_scope *)fb;
	}
	return false;
}

bool pgh_config_reconnects(const struct pgh_config *a, const struct pgh_config *b)
{
	for (const struct opt *o = opts; o < opts + N_OPTS; o++) {
		if (!(o->flags & OPT_RECONNECT))
			continue;
		/* A password file's key is its path; what matters is also what
		 * the file says now. */
		if (!same_field(o, a, b) ||
		    ((o->flags & OPT_PASSFILE) && !same_str(a->password, b->password)))
			return true;
	}
	return false;
}
