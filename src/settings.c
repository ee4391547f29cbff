/*
 * settings.c - pghealthd.* thresholds set in session_sql (see settings.h).
 *
 * Owns nothing beyond the duration of a call.  A setting is recognised in a
 * session_sql entry of the form  SET [SESSION] pghealthd.a.b {= | TO} value,
 * the form README shows; a check reads it when its SQL names it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pghealthd/log.h"
#include "pghealthd/settings.h"

#define PREFIX     "pghealthd."
#define PREFIX_LEN (sizeof(PREFIX) - 1)

/* A name character of a custom setting: pghealthd.check_name.param. */
static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static const char *skip_space(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* p starts with the keyword kw (any case) followed by a non-name character. */
static const char *skip_word(const char *p, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(p, kw, n) != 0 || name_char(p[n]))
		return NULL;
	return skip_space(p + n);
}

/*
 * Parse "SET [SESSION] pghealthd.x.y = value": *name and *value are malloc'd
 * (the value without quotes or a trailing semicolon).  False when the entry
 * is something else.
 */
static bool parse_set(const char *sql, char **name, char **value)
{
	const char *p = skip_word(skip_space(sql), "SET"), *q, *end;

	if (p == NULL)
		return false;
	q = skip_word(p, "SESSION");
	p = q != NULL ? q : p;
	if (strncasecmp(p, PREFIX, PREFIX_LEN) != 0)
		return false;
	for (q = p; name_char(*q); q++)
		;
	*name = pgh_xstrndup(p, (size_t)(q - p));
	p = skip_space(q);
	if (*p == '=')
		p = skip_space(p + 1);
	else if ((q = skip_word(p, "TO")) != NULL)
		p = q;
	end = p + strlen(p);
	while (end > p && (isspace((unsigned char)end[-1]) || end[-1] == ';'))
		end--;
	if (end - p >= 2 && *p == '\'' && end[-1] == '\'') {
		p++;
		end--;
	}
	*value = pgh_xstrndup(p, (size_t)(end - p));
	for (char *d = *name; *d; d++)
		*d = (char)tolower((unsigned char)*d);
	return true;
}

/* The SQL names the setting (as a quoted string, so a prefix does not count). */
static bool sql_reads(const char *sql, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = sql; (p = strcasestr(p, name)) != NULL; p += n)
		if (p > sql && p[-1] == '\'' && p[n] == '\'')
			return true;
	return false;
}

static bool any_check_reads(const struct pgh_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_checks; i++)
		if (cfg->checks[i].enabled && cfg->checks[i].sql != NULL &&
		    sql_reads(cfg->checks[i].sql, name))
			return true;
	return false;
}

/* Edit distance, for "did you mean"; names are short. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), *row = pgh_xcalloc(lb + 1, sizeof(*row)), d;

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

/* The pghealthd.* name an enabled check reads that is closest to name. */
static char *closest_read(const struct pgh_config *cfg, const char *name)
{
	char *best = NULL;
	size_t best_d = 4; /* only close calls are worth a suggestion */

	for (size_t i = 0; i < cfg->n_checks; i++) {
		const char *p = cfg->checks[i].sql;

		if (!cfg->checks[i].enabled || p == NULL)
			continue;
		while ((p = strstr(p, "'" PREFIX)) != NULL) {
			const char *q = ++p;
			char *cand;
			size_t d;

			while (name_char(*q))
				q++;
			cand = pgh_xstrndup(p, (size_t)(q - p));
			d = distance(name, cand);
			if (d < best_d) {
				free(best);
				best = cand;
				best_d = d;
			} else {
				free(cand);
			}
			p = q;
		}
	}
	return best;
}

unsigned pgh_settings_check(const struct pgh_config *cfg, void (*warn)(void *arg, const char *msg),
                            void *arg)
{
	unsigned n = 0;

	for (size_t i = 0; i < cfg->session_sql.len; i++) {
		char *name, *value, *near, *msg;

		if (!parse_set(cfg->session_sql.items[i], &name, &value))
			continue;
		if (!any_check_reads(cfg, name)) {
			near = closest_read(cfg, name);
			msg = pgh_xasprintf(
			    "%s: session_sql sets %s, which no enabled check reads%s%s%s",
			    cfg->path, name, near != NULL ? " (did you mean " : "",
			    near != NULL ? near : "", near != NULL ? "?)" : "");
			warn(arg, msg);
			free(msg);
			free(near);
			n++;
		}
		free(name);
		free(value);
	}
	return n;
}

static void log_warn_cb(void *arg, const char *msg)
{
	(void)arg;
	pgh_warn("%s", msg);
}

unsigned pgh_settings_log(const struct pgh_config *cfg)
{
	return pgh_settings_check(cfg, log_warn_cb, NULL);
}

char *pgh_settings_blame(const struct pgh_config *cfg, const struct pgh_check *c,
                         const char *errmsg)
{
	char *hint = NULL;

	for (size_t i = 0; hint == NULL && i < cfg->session_sql.len; i++) {
		char *name, *value, *quoted;

		if (!parse_set(cfg->session_sql.items[i], &name, &value))
			continue;
		quoted = pgh_xasprintf("\"%s\"", value);
		if (c->sql != NULL && sql_reads(c->sql, name) && strstr(errmsg, quoted) != NULL)
			hint = pgh_xasprintf(" (from session_sql: %s = '%s')", name, value);
		free(quoted);
		free(name);
		free(value);
	}
	return hint;
}
