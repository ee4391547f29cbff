/*
 * config_validate.c - the rules that span keys or files, checked once every
 * file is read and every default applied, and the conninfo once its value is
 * complete.  Errors name the file and line where the offending key was set.
 */
#include <ctype.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config-int.h"
#include "pghealthd/csvout.h"
#include "pghealthd/where.h"

/*
 * A conninfo that holds a password must live in a file nobody else can read,
 * the rule libpq applies to a pgpass file.  Checked once the value is
 * complete, i.e. when the next key, section or the end of the file comes.
 */
void pgh_config_check_conninfo(struct pfile *f)
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
		add_error(f->p, f->ini->name, line, "bad conninfo: %s",
		          msg ? msg : "out of memory");
		PQfreemem(msg);
		return;
	}
	for (o = po; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0')
			has_pw = true;
	PQconninfoFree(po);
	if (has_pw && S_ISREG(f->ini->mode) && (f->ini->mode & (S_IRWXG | S_IRWXO)))
		add_error(f->p, f->ini->name, line,
		          "conninfo contains a password but %s is readable by group or others; "
		          "chmod 0600 %s (or use password_file)",
		          f->ini->name, f->ini->name);
}

/* Settings that only make sense once everything is read. */
static void validate_check(struct parse *p, size_t i)
{
	struct pgh_config *cfg = p->cfg;
	struct pgh_check *c = &cfg->checks[i];
	struct check_state *cs = &p->checks[i];
	const struct opt *o;
	const struct loc *at;

	for (o = opts + N_OPTS - N_CHECK_OPTS; o < opts + N_OPTS; o++)
		if ((o->flags & OPT_FROM_RUN) && cs->loc[CHECK_OPT(o)].line == 0)
			*(uint64_t *)((char *)c + o->offset) =
			    *(uint64_t *)((char *)cfg + find_opt("run", o->key)->offset);
	if (c->sql == NULL && !cs->sql_failed) {
		add_error(p, c->file, c->line, "missing sql in [check:%s] (set sql or sql_file)",
		          c->name);
	} else if (c->sql != NULL && c->sql[strspn(c->sql, " \t\r\n\f\v")] == '\0') {
		o = find_opt("check", c->sql_file ? "sql_file" : "sql");
		at = &cs->loc[CHECK_OPT(o)];
		loc_error(p, at, "empty sql in [check:%s]", c->name);
	}
	if (c->state_sql != NULL && c->scope == PGH_SCOPE_DATABASE) {
		at = &cs->loc[CHECK_OPT(find_opt("check", "state_sql"))];
		loc_error(p, at, "state_sql in [check:%s] needs scope = cluster", c->name);
	}
	if (c->where != NULL) {
		char *err = NULL;

		c->where_expr = pgh_where_parse(c->where, &err);
		if (c->where_expr == NULL) {
			at = &cs->loc[CHECK_OPT(find_opt("check", "where"))];
			loc_error(p, at, "where in [check:%s]: %s", c->name, err);
			free(err);
		}
	}
	if (c->interval_ms % cfg->interval_ms != 0) {
		char a[32], b[32];

		at = &cs->loc[CHECK_OPT(find_opt("check", "interval"))];
		pgh_duration_format(c->interval_ms, a, sizeof(a));
		pgh_duration_format(cfg->interval_ms, b, sizeof(b));
		loc_error(p, at, "interval %s of [check:%s] is not a multiple of [run] interval %s",
		          a, c->name, b);
	}
}

/* Cross-key rules, checked once every file is read and every default applied. */
/* The textfile and the page must not be written over status.csv, a
 * check's CSV or each other. */
static void validate_output_file(struct parse *p, const char *key, const char *other)
{
	const struct pgh_config *cfg = p->cfg;
	const struct loc *at = &p->loc[find_opt("run", key) - opts];
	const char *pf = *(char *const *)((const char *)cfg + find_opt("run", key)->offset);
	bool clash;

	if (pf == NULL || pf[0] == '\0' || strchr(pf, '/') != NULL)
		return;
	clash = strcmp(pf, "status.csv") == 0 || (other != NULL && strcmp(pf, other) == 0);
	for (size_t i = 0; !clash && i < cfg->n_checks; i++) {
		size_t n = strlen(cfg->checks[i].name);

		clash =
		    strncmp(pf, cfg->checks[i].name, n) == 0 && strcmp(pf + n, PGH_CSV_EXT) == 0;
	}
	if (clash)
		loc_error(p, at, "%s '%s' is the name of another output file in output_dir", key,
		          pf);
}

/* conninfo holds a password (a bad conninfo was reported already). */
static bool conninfo_has_password(const char *ci)
{
	PQconninfoOption *po = PQconninfoParse(ci != NULL ? ci : "", NULL);
	bool has = false;

	for (PQconninfoOption *o = po; o != NULL && o->keyword != NULL; o++)
		has = has ||
		      (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0');
	PQconninfoFree(po);
	return has;
}

/* One source of the password: a command, a file, or the conninfo. */
static void validate_password_command(struct parse *p)
{
	const struct pgh_config *cfg = p->cfg;
	const struct loc *at = &p->loc[find_opt("target", "password_command") - opts];

	if (cfg->password_command == NULL)
		return;
	if (cfg->password_file != NULL)
		loc_error(p, at, "password_command and password_file both set: choose one");
	else if (conninfo_has_password(cfg->conninfo))
		loc_error(p, at,
		          "password_command and a password in conninfo both set: choose one");
}

void pgh_config_validate(struct parse *p)
{
	struct pgh_config *cfg = p->cfg;

	if (cfg->min_connections > cfg->max_connections) {
		const struct loc *a = &p->loc[find_opt("pool", "min_connections") - opts];

		if (a->line == 0)
			a = &p->loc[find_opt("pool", "max_connections") - opts];
		loc_error(p, a, "min_connections %u is greater than max_connections %u",
		          cfg->min_connections, cfg->max_connections);
	}
	for (size_t i = 0; i < cfg->n_checks; i++)
		validate_check(p, i);
	validate_output_file(p, "prometheus_file", NULL);
	validate_output_file(p, "html_file", p->cfg->prometheus_file);
	validate_password_command(p);
}
