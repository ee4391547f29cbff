/*
 * where.c - a check's row filter (see where.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pghealthd/common.h"
#include "pghealthd/where.h"

enum operand_kind { OPERAND_NUMBER, OPERAND_STRING, OPERAND_COLUMN };

struct operand {
	enum operand_kind kind;
	double number; /* the number, or the column's factor */
	char *text;    /* the string, or the column's name */
	unsigned col;  /* a column's index into the bound columns */
};

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct compare {
	struct operand lhs, rhs;
	enum cmp_op op;
	bool or_before; /* starts a new and-list */
};

struct pgh_where {
	struct compare *cmp;
	unsigned n;
	unsigned ncols;
};

struct lexer {
	const char *text, *p;
	char *err;
};

static void skip_space(struct lexer *lx)
{
	while (isspace((unsigned char)*lx->p))
		lx->p++;
}

static bool fail(struct lexer *lx, const char *what)
{
	if (lx->err == NULL)
		lx->err = *lx->p != '\0' ? pgh_xasprintf("%s at character %d (\"%.20s\")", what,
		                                         (int)(lx->p - lx->text) + 1, lx->p)
		                         : pgh_xasprintf("%s at the end", what);
	return false;
}

static size_t ident_len(const char *p)
{
	size_t n = 0;

	if (!isalpha((unsigned char)*p) && *p != '_')
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	return n;
}

/* The keyword kw (and, or) is next: consume it. */
static bool keyword(struct lexer *lx, const char *kw)
{
	size_t n = strlen(kw);

	skip_space(lx);
	if (ident_len(lx->p) != n || strncasecmp(lx->p, kw, n) != 0)
		return false;
	lx->p += n;
	return true;
}

static bool parse_number(struct lexer *lx, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(lx->p, &end);
	if (end == lx->p || errno != 0 || !isfinite(*out) || isalpha((unsigned char)*end))
		return fail(lx, "a number expected");
	lx->p = end;
	return true;
}

static bool parse_operand(struct lexer *lx, struct pgh_where *w, struct operand *o)
{
	size_t n;

	skip_space(lx);
	if (*lx->p == '\'') {
		const char *s = ++lx->p;
		char *t = pgh_xmalloc(strlen(s) + 1), *q = t;

		for (;; lx->p++) {
			if (*lx->p == '\0') {
				free(t);
				return fail(lx, "an unterminated string");
			}
			if (*lx->p == '\'' && lx->p[1] == '\'') {
				*q++ = *lx->p++;
				continue;
			}
			if (*lx->p == '\'')
				break;
			*q++ = *lx->p;
		}
		lx->p++;
		*q = '\0';
		o->kind = OPERAND_STRING;
		o->text = t;
		return true;
	}
	o->number = 1;
	if ((n = ident_len(lx->p)) == 0) {
		if (strchr("0123456789+-.", *lx->p) == NULL || *lx->p == '\0')
			return fail(lx, "a column, a number or a 'string' expected");
		if (!parse_number(lx, &o->number))
			return false;
		skip_space(lx);
		if (*lx->p != '*') {
			o->kind = OPERAND_NUMBER;
			return true;
		}
		lx->p++;
		skip_space(lx);
		if ((n = ident_len(lx->p)) == 0)
			return fail(lx, "a column expected after '*'");
	}
	o->kind = OPERAND_COLUMN;
	o->text = pgh_xasprintf("%.*s", (int)n, lx->p);
	o->col = w->ncols++;
	lx->p += n;
	return true;
}

static bool parse_op(struct lexer *lx, enum cmp_op *op)
{
	static const struct {
		const char *s;
		enum cmp_op op;
	} ops[] = {{"<>", OP_NE}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE},
	           {"=", OP_EQ},  {"<", OP_LT},  {">", OP_GT}};

	skip_space(lx);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strncmp(lx->p, ops[i].s, strlen(ops[i].s)) == 0) {
			*op = ops[i].op;
			lx->p += strlen(ops[i].s);
			return true;
		}
	return fail(lx, "a comparison (=, <>, <, <=, >, >=) expected");
}

void pgh_where_free(struct pgh_where *w)
{
	if (w == NULL)
		return;
	for (unsigned i = 0; i < w->n; i++) {
		free(w->cmp[i].lhs.text);
		free(w->cmp[i].rhs.text);
	}
	free(w->cmp);
	free(w);
}

struct pgh_where *pgh_where_parse(const char *text, char **err)
{
	struct lexer lx = {.text = text, .p = text};
	struct pgh_where *w = pgh_xcalloc(1, sizeof(*w));
	bool or_before = false;

	for (;;) {
		struct compare *c;

		w->cmp = pgh_xrealloc(w->cmp, (w->n + 1) * sizeof(*w->cmp));
		c = memset(&w->cmp[w->n++], 0, sizeof(*c));
		c->or_before = or_before;
		if (!parse_operand(&lx, w, &c->lhs) || !parse_op(&lx, &c->op) ||
		    !parse_operand(&lx, w, &c->rhs))
			break;
		if (keyword(&lx, "and")) {
			or_before = false;
			continue;
		}
		if (keyword(&lx, "or")) {
			or_before = true;
			continue;
		}
		skip_space(&lx);
		if (*lx.p == '\0')
			return w;
		fail(&lx, "'and', 'or' or the end expected");
		break;
	}
	*err = lx.err;
	pgh_where_free(w);
	return NULL;
}

unsigned pgh_where_ncols(const struct pgh_where *w)
{
	return w->ncols;
}

static bool bind_operand(const struct operand *o, const PGresult *res, int *cols, char **err)
{
	int k;

	if (o->kind != OPERAND_COLUMN)
		return true;
	for (k = 0; k < PQnfields(res); k++)
		if (strcmp(PQfname(res, k), o->text) == 0)
			break;
	if (k == PQnfields(res)) {
		*err = pgh_xasprintf("where: the result has no column \"%s\"", o->text);
		return false;
	}
	cols[o->col] = k;
	return true;
}

bool pgh_where_bind(const struct pgh_where *w, const PGresult *res, int *cols, char **err)
{
	for (unsigned i = 0; i < w->n; i++)
		if (!bind_operand(&w->cmp[i].lhs, res, cols, err) ||
		    !bind_operand(&w->cmp[i].rhs, res, cols, err))
			return false;
	return true;
}

/* An operand's value in row: text, and its number when it reads as one. */
static bool operand_value(const struct operand *o, const int *cols, const PGresult *res, int row,
                          const char **text, double *num, bool *numeric)
{
	char *end;

	switch (o->kind) {
	case OPERAND_NUMBER:
		*text = NULL;
		*num = o->number;
		*numeric = true;
		return true;
	case OPERAND_STRING:
		*text = o->text;
		*numeric = false;
		return true;
	case OPERAND_COLUMN:
		break;
	}
	if (PQgetisnull(res, row, cols[o->col]))
		return false;
	*text = PQgetvalue(res, row, cols[o->col]);
	errno = 0;
	*num = strtod(*text, &end);
	*numeric = end != *text && *end == '\0' && errno == 0;
	if (*numeric)
		*num *= o->number;
	return true;
}

static bool compare_row(const struct compare *c, const int *cols, const PGresult *res, int row)
{
	const char *lt, *rt;
	double ln, rn;
	bool lnum, rnum;
	int d;

	if (!operand_value(&c->lhs, cols, res, row, &lt, &ln, &lnum) ||
	    !operand_value(&c->rhs, cols, res, row, &rt, &rn, &rnum))
		return false;
	if (lnum && rnum)
		d = ln < rn ? -1 : ln > rn;
	else if (lt != NULL && rt != NULL)
		d = strcmp(lt, rt);
	else
		return false; /* a number against a text that is none */
	switch (c->op) {
	case OP_EQ:
		return d == 0;
	case OP_NE:
		return d != 0;
	case OP_LT:
		return d < 0;
	case OP_LE:
		return d <= 0;
	case OP_GT:
		return d > 0;
	case OP_GE:
		return d >= 0;
	}
	return false;
}

bool pgh_where_match(const struct pgh_where *w, const int *cols, const PGresult *res, int row)
{
	bool all = true;

	for (unsigned i = 0; i < w->n; i++) {
		if (w->cmp[i].or_before) {
			if (all)
				return true;
			all = true;
		}
		if (all && !compare_row(&w->cmp[i], cols, res, row))
			all = false;
	}
	return all;
}
