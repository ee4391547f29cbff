/*
 * config_print.c - the configuration as check-config prints it: every key of
 * the table, spelled so that the output loads back to the same
 * configuration, and never the password.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "config-int.h"

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
	case OPT_SCOPE:
		print_kv(out, o->key, pgh_scope_str(*(const enum pgh_scope *)field));
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
