/*
 * exec.c - one SQL query in, typed JSON out (the query-executor API).
 *
 * Owns: the request, the loop it runs on, a one-connection pool, and a
 * spool file.  The query runs as an ordinary job (same pool, timeouts,
 * cancel and max_rows machinery as every check) whose output turns each row
 * into a JSON object with json-c and appends it to an unlinked temp file in
 * $TMPDIR, so memory stays flat whatever the row count.  The body is printed
 * once the query is over, because its first field (status, or statusCode
 * for --event) depends on how the query ended; a spool that could not be
 * written turns it into an error, never into a result with rows missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "pghealthd/exec.h"
#include "pghealthd/job.h"
#include "pghealthd/log.h"
#include "pghealthd/pool.h"

#define EXEC_EVENT_MAX_BYTES (64u * 1024 * 1024)
#define JSON_FLAGS           (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Column OIDs with a JSON type of their own, and the names of common types. */
enum {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_OID = 26,
	OID_JSON = 114,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_NUMERIC = 1700,
	OID_JSONB = 3802,
};

struct exec_column {
	char *name;
	Oid type;
	char *type_name;
};

struct exec {
	/* the request */
	const char *sql;
	uint64_t max_rows;
	uint64_t timeout_ms;
	bool return_results;
	bool event;           /* print {"statusCode": ..., "body": ...} */
	const char *database; /* --database, or NULL: the conninfo's */
	/* the run */
	struct pgh_exec_conn *conn; /* loop, configuration and pool */
	struct pgh_config *cfg;     /* conn's */
	FILE *out;                  /* where the answer goes */
	char *lookup_sql;           /* type names the built-in table lacks */
	struct exec_column *cols;
	int ncols;
	FILE *spool;           /* rows, comma-separated JSON objects */
	const char *spool_dir; /* where it lives, for error messages */
	int spool_errno;       /* its first write error, 0 if none */
	struct pgh_result result;
	uint64_t returned; /* rows kept for the answer: at most max_rows */
	bool truncated;    /* the statement returned more than max_rows */
	bool command;      /* a statement without a result set */
	uint64_t affected; /* its row count (PQcmdTuples) */
	char statement_id[37];
};

static const struct {
	Oid oid;
	const char *name;
} type_names[] = {
    {16, "bool"},
    {17, "bytea"},
    {18, "char"},
    {19, "name"},
    {20, "int8"},
    {21, "int2"},
    {23, "int4"},
    {24, "regproc"},
    {25, "text"},
    {26, "oid"},
    {114, "json"},
    {142, "xml"},
    {600, "point"},
    {650, "cidr"},
    {700, "float4"},
    {701, "float8"},
    {790, "money"},
    {829, "macaddr"},
    {869, "inet"},
    {1000, "_bool"},
    {1005, "_int2"},
    {1007, "_int4"},
    {1009, "_text"},
    {1016, "_int8"},
    {1042, "bpchar"},
    {1043, "varchar"},
    {1082, "date"},
    {1083, "time"},
    {1114, "timestamp"},
    {1184, "timestamptz"},
    {1186, "interval"},
    {1266, "timetz"},
    {1560, "bit"},
    {1562, "varbit"},
    {1700, "numeric"},
    {2205, "regclass"},
    {2206, "regtype"},
    {2950, "uuid"},
    {3220, "pg_lsn"},
    {3802, "jsonb"},
    {3904, "int4range"},
    {3926, "int8range"},
    {3910, "tstzrange"},
    {705, "unknown"},
    {2249, "record"},
    {1021, "_float4"},
    {1022, "_float8"},
    {1231, "_numeric"},
    /* Amazon Redshift's own types */
    {4000, "super"},
    {6551, "varbyte"},
    {3000, "geometry"},
    {3001, "geography"},
    {2935, "hllsketch"},
    {1188, "intervaly2m"},
    {1190, "intervald2s"},
};

static const char *type_name(Oid oid)
{
	for (size_t i = 0; i < PGH_ARRAY_LEN(type_names); i++)
		if (type_names[i].oid == oid)
			return type_names[i].name;
	return NULL;
}

/* ---- values ------------------------------------------------------------- */

static char *base64(const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = pgh_xmalloc(4 * ((n + 2) / 3) + 1), *o = out;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static bool is_number_text(const char *v)
{
	/* NaN and the infinities are not JSON numbers. */
	return strcmp(v, "NaN") != 0 && strstr(v, "Infinity") == NULL;
}

static int raw_serializer(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	const char *text = json_object_get_userdata(o);

	(void)level;
	(void)flags;
	return printbuf_memappend(pb, text, (int)strlen(text));
}

/*
 * A json/jsonb value is embedded as the server's text, verbatim: json-c's
 * parser would turn 12345678901234567890123 into 18446744073709551615, and
 * its depth limit (32) would reject deeply nested documents.  PostgreSQL
 * only ever outputs valid JSON for these types.
 */
static struct json_object *exec_json_value(const char *v)
{
	struct json_object *o = json_object_new_string("");

	json_object_set_serializer(o, raw_serializer, pgh_xstrdup(v), json_object_free_userdata);
	return o;
}

/* One value as the JSON type its column's OID calls for. */
struct json_object *pgh_exec_value(unsigned int type, const char *v)
{
	struct json_object *o;
	unsigned char *bytes;
	size_t n;
	char *b64;

	switch (type) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		/* The text is serialized verbatim: an int8 above 2^53 or a
		 * 38-digit numeric never passes through a double. */
		if (is_number_text(v))
			return json_object_new_double_s(strtod(v, NULL), v);
		return json_object_new_string(v);
	case OID_BOOL:
		return json_object_new_boolean(v[0] == 't');
	case OID_JSON:
	case OID_JSONB:
		return exec_json_value(v);
	case OID_BYTEA:
		bytes = PQunescapeBytea((const unsigned char *)v, &n);
		if (bytes == NULL)
			return json_object_new_string(v);
		b64 = base64(bytes, n);
		PQfreemem(bytes);
		o = json_object_new_string(b64);
		free(b64);
		return o;
	default:
		return json_object_new_string(v);
	}
}

/* ---- the job's output --------------------------------------------------- */

static void exec_describe_cb(struct pgh_job *job, void *ctx, const PGresult *res)
{
	struct exec *x = ctx;

	(void)job;
	x->ncols = PQnfields(res);
	x->cols = pgh_xcalloc((size_t)x->ncols, sizeof(*x->cols));
	for (int i = 0; i < x->ncols; i++) {
		const char *tn;

		x->cols[i].name = pgh_xstrdup(PQfname(res, i));
		x->cols[i].type = PQftype(res, i);
		tn = type_name(x->cols[i].type);
		x->cols[i].type_name = tn != NULL ? pgh_xstrdup(tn) : NULL;
	}
}

/* Append one row; a failure is kept for the answer and stops the spooling. */
static void spool_row(struct exec *x, bool first, const char *json)
{
	errno = 0;
	if ((!first && fputc(',', x->spool) == EOF) || fputs(json, x->spool) == EOF)
		x->spool_errno = errno != 0 ? errno : EIO;
}

/*
 * max_rows caps the answer, not the statement: the statement runs to its
 * end, the rows past the cap are read and dropped.  A cancel would roll
 * back an INSERT ... RETURNING that had more rows than the cap, while the
 * answer said "finished".
 */
static bool exec_row_cb(struct pgh_job *job, void *ctx, const PGresult *res, int r)
{
	struct exec *x = ctx;
	struct json_object *row;

	(void)job;
	if (x->max_rows > 0 && x->returned >= x->max_rows) {
		x->truncated = true;
		return true;
	}
	x->returned++;
	/* After a write error the rows are dropped, not the job: it reads on to
	 * the end so the connection is left clean, and the error is answered. */
	if (!x->return_results || x->spool_errno != 0)
		return true;
	row = json_object_new_object();
	for (int i = 0; i < x->ncols; i++) {
		struct json_object *v = NULL;

		if (!PQgetisnull(res, r, i))
			v = pgh_exec_value(x->cols[i].type, PQgetvalue(res, r, i));
		json_object_object_add(row, x->cols[i].name, v);
	}
	spool_row(x, x->returned == 1, json_object_to_json_string_ext(row, JSON_FLAGS));
	json_object_put(row);
	return true;
}

static void exec_finish_cb(struct pgh_job *job, void *ctx)
{
	(void)ctx;
	pgh_job_complete(job);
}

/* DML and DDL: finished, with the rows the statement affected. */
static void exec_command_cb(struct pgh_job *job, void *ctx, const PGresult *res)
{
	struct exec *x = ctx;

	(void)job;
	x->command = true;
	x->affected = strtoull(PQcmdTuples((PGresult *)res), NULL, 10);
}

static const struct pgh_job_output exec_output = {
    .describe = exec_describe_cb,
    .row = exec_row_cb,
    .command = exec_command_cb,
    .finish = exec_finish_cb,
};

/* The request is over: a warm connection's loop stops with its pool open. */
static void exec_settled(struct exec *x)
{
	uv_stop(&x->conn->loop);
}

/* Names for the column types the built-in table does not know. */
static bool lookup_row_cb(struct pgh_job *job, void *ctx, const PGresult *res, int r)
{
	struct exec *x = ctx;
	Oid oid = (Oid)strtoul(PQgetvalue(res, r, 0), NULL, 10);

	for (int i = 0; i < x->ncols; i++)
		if (x->cols[i].type == oid && x->cols[i].type_name == NULL)
			x->cols[i].type_name = pgh_xstrdup(PQgetvalue(res, r, 1));
	return true;
}

static const struct pgh_job_output lookup_output = {
    .row = lookup_row_cb,
    .finish = exec_finish_cb,
};

static void lookup_done_cb(struct pgh_job *job)
{
	struct exec *x = job->data;

	pgh_job_free(job);
	free(x->lookup_sql);
	x->lookup_sql = NULL;
	exec_settled(x);
}

/* One more query on the same connection when a column type is not known. */
static bool exec_start_lookup(struct exec *x)
{
	struct pgh_query q = {.name = "exec-types", .timeout_ms = 5000, .database = x->database};
	char *sql = NULL, *tmp;
	struct pgh_job *job;

	for (int i = 0; i < x->ncols; i++) {
		if (x->cols[i].type_name != NULL)
			continue;
		tmp = pgh_xasprintf("%s%s%u", sql != NULL ? sql : "", sql != NULL ? "," : "",
		                    x->cols[i].type);
		free(sql);
		sql = tmp;
	}
	if (sql == NULL)
		return false;
	x->lookup_sql =
	    pgh_xasprintf("SELECT oid, typname FROM pg_catalog.pg_type WHERE oid IN (%s)", sql);
	free(sql);
	q.sql = x->lookup_sql;
	job = pgh_job_new(&x->conn->loop, x->conn->pool, x->cfg, &q, &lookup_output, x,
	                  lookup_done_cb, x);
	pgh_job_start(job);
	return true;
}

static void exec_job_done_cb(struct pgh_job *job)
{
	struct exec *x = job->data;
	bool ok;

	pgh_result_move(&x->result, &job->result);
	pgh_job_free(job);
	ok = !pgh_state_failed(x->result.state);
	if (ok && x->return_results && !x->command && exec_start_lookup(x))
		return;
	exec_settled(x);
}

/* ---- the request -------------------------------------------------------- */

static void uuid_v4(char *out)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)rand();
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

/* Print a json-c value and drop it. */
static void put_json(FILE *out, struct json_object *o)
{
	fputs(json_object_to_json_string_ext(o, JSON_FLAGS), out);
	json_object_put(o);
}

/* The API's error bodies: 400 {"error": ...}, 500 {"status": "error", ...}. */
static int exec_fail(const struct exec *x, int code, const char *msg)
{
	struct json_object *body = json_object_new_object(), *env;

	if (code == PGH_EXEC_BAD_REQUEST && x->event) {
		json_object_object_add(body, "error", json_object_new_string(msg));
	} else {
		json_object_object_add(body, "status", json_object_new_string("error"));
		json_object_object_add(body, "message", json_object_new_string(msg));
	}
	if (x->event) {
		env = json_object_new_object();
		json_object_object_add(
		    env, "statusCode",
		    json_object_new_int(code == PGH_EXEC_BAD_REQUEST ? 400 : 500));
		json_object_object_add(env, "body", body);
		body = env;
	}
	put_json(x->out, body);
	fputc('\n', x->out);
	return code;
}

static struct json_object *exec_columns(const struct exec *x)
{
	struct json_object *cols = json_object_new_array();

	for (int i = 0; i < x->ncols; i++) {
		struct json_object *c = json_object_new_object();
		char oid[24];

		snprintf(oid, sizeof(oid), "oid:%u", x->cols[i].type);
		json_object_object_add(c, "name", json_object_new_string(x->cols[i].name));
		json_object_object_add(c, "type",
		                       json_object_new_string(x->cols[i].type_name != NULL
		                                                  ? x->cols[i].type_name
		                                                  : oid));
		json_object_array_add(cols, c);
	}
	return cols;
}

/* Copy the spooled rows (flushed by spool_settle()) to out. */
static int copy_spool(FILE *spool, FILE *out)
{
	char buf[65536];
	size_t n;

	if (fseek(spool, 0, SEEK_SET) != 0)
		return -EIO;
	while ((n = fread(buf, 1, sizeof(buf), spool)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			return -EIO;
	return ferror(spool) ? -EIO : 0;
}

/*
 * The finished body, members in the API's order; rows come from the spool.
 * Without results it is exactly the API's {"status", "statement_id"}.  A
 * statement without a result set has no columns or rows, and row_count is
 * the rows it affected.
 */
static int exec_print(struct exec *x)
{
	FILE *out = x->out;

	if (x->event)
		fputs("{\"statusCode\":200,\"body\":", out);
	fputs("{\"status\":\"finished\",\"statement_id\":", out);
	put_json(out, json_object_new_string(x->statement_id));
	if (x->return_results) {
		fputs(",\"columns\":", out);
		put_json(out, exec_columns(x));
		fputs(",\"rows\":[", out);
		if (copy_spool(x->spool, out) < 0)
			return -EIO;
		fprintf(out, "],\"row_count\":%" PRIu64 ",\"truncated\":%s",
		        x->command ? x->affected : x->returned, x->truncated ? "true" : "false");
	}
	fputc('}', out);
	if (x->event)
		fputc('}', out);
	fputc('\n', out);
	/* ferror too: a write that failed inside an fputs above is past fflush. */
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

/* ---- the spool ---------------------------------------------------------- */

/* Rows spooled to an unlinked file in $TMPDIR, where README says it is. */
static int spool_open(struct exec *x)
{
	x->spool = pgh_tmpfile_unlinked("pghealthd-exec", &x->spool_dir);
	return x->spool != NULL ? 0 : -errno;
}

/* The last buffered rows go to the file now: rewinding would flush them
 * without a word about a full disk.  Returns the spool's first error. */
static int spool_settle(struct exec *x)
{
	if (x->spool != NULL && x->spool_errno == 0 && fflush(x->spool) != 0)
		x->spool_errno = errno != 0 ? errno : EIO;
	return x->spool_errno;
}

/* An error answer naming the spool, its directory and the cause. */
static int spool_fail(const struct exec *x, const char *what, int err)
{
	char *msg = pgh_xasprintf("cannot %s the result spool in %s: %s", what, x->spool_dir,
	                          strerror(err));
	int r = exec_fail(x, PGH_EXEC_FAILED, msg);

	free(msg);
	return r;
}

/* ---- running ------------------------------------------------------------ */

static int exec_run(struct exec *x)
{
	/* max_rows caps the answer (exec_row_cb), not the statement. */
	struct pgh_query q = {.name = "exec", .commit = true};
	struct pgh_job *job;
	int r;

	/* --no-results spools nothing, so it needs no room in $TMPDIR. */
	r = x->return_results ? spool_open(x) : 0;
	if (r < 0)
		return spool_fail(x, "create", -r);
	uuid_v4(x->statement_id);
	q.sql = x->sql;
	q.timeout_ms = x->timeout_ms;
	q.database = x->database;
	/* What waits on an idle connection first: one the server closed since
	 * the previous request is dropped before a job is given it. */
	uv_run(&x->conn->loop, UV_RUN_NOWAIT);
	job = pgh_job_new(&x->conn->loop, x->conn->pool, x->cfg, &q, &exec_output, x,
	                  exec_job_done_cb, x);
	pgh_job_start(job);
	uv_run(&x->conn->loop, UV_RUN_DEFAULT);
	if (pgh_state_failed(x->result.state))
		return exec_fail(x, PGH_EXEC_FAILED,
		                 x->result.error != NULL ? x->result.error : "query failed");
	if (spool_settle(x) != 0)
		return spool_fail(x, "write", x->spool_errno);
	if (exec_print(x) < 0) {
		pgh_error("exec: cannot write the result: %s", strerror(EIO));
		return PGH_EXEC_FAILED;
	}
	return PGH_EXEC_OK;
}

static void exec_free(struct exec *x)
{
	for (int i = 0; i < x->ncols; i++) {
		free(x->cols[i].name);
		free(x->cols[i].type_name);
	}
	free(x->cols);
	if (x->spool != NULL)
		fclose(x->spool);
	pgh_result_clear(&x->result);
}

/* ---- parsing the request ------------------------------------------------ */

static char *read_all(const char *path, size_t max, const char **why)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t len = 0, cap = 65536, n;
	char *buf;

	if (f == NULL) {
		*why = strerror(errno);
		return NULL;
	}
	buf = pgh_xmalloc(cap + 1);
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			if (cap >= max)
				break;
			cap *= 2;
			buf = pgh_xrealloc(buf, cap + 1);
		}
	}
	*why = ferror(f) ? "read error" : len >= max ? "request too large" : NULL;
	if (f != stdin)
		fclose(f);
	if (*why != NULL) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/*
 * {"sql_query": "...", "return_results": true}.  Returns NULL and sets
 * *why for a bad request; the string returned is the caller's.
 */
/* Length of a number that matches RFC 8259's grammar at p, else 0:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static size_t json_number_len(const char *p)
{
	const char *q = p;

	if (*q == '-')
		q++;
	if (*q == '0')
		q++;
	else if (*q >= '1' && *q <= '9')
		while (*q >= '0' && *q <= '9')
			q++;
	else
		return 0;
	if (*q == '.') {
		if (!(*++q >= '0' && *q <= '9'))
			return 0;
		while (*q >= '0' && *q <= '9')
			q++;
	}
	if (*q == 'e' || *q == 'E') {
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (!(*q >= '0' && *q <= '9'))
			return 0;
		while (*q >= '0' && *q <= '9')
			q++;
	}
	/* "01", "1." or "1e5e3": the number ends where the grammar does, or
	 * not at all (json_text_plain() would otherwise join the rest to it). */
	if ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' ||
	    *q == '-')
		return 0;
	return (size_t)(q - p);
}

/*
 * One pass over the request text, outside strings, before json-c sees it.
 * It refuses what json-c's strict mode still lets through: NaN and Infinity
 * (outside strings, strict JSON has no 'N' or 'I'), numbers outside
 * RFC 8259's grammar (01, 1., -.5, 1e5e3), and raw control characters inside
 * strings.  It returns a copy in which every number is 0: no member
 * pghealthd reads is a number, and json-c 0.17+ in strict mode refuses an
 * integer beyond uint64 that RFC 8259 allows (0.16 clamps it).  NULL when
 * the text is not strict JSON; the copy is the caller's.
 */
static char *json_text_plain(const char *text)
{
	char *out = pgh_xmalloc(strlen(text) + 1), *o = out;
	bool in_string = false;

	for (const char *p = text; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		size_t n;

		if (in_string) {
			if (c < 0x20)
				goto bad;
			if (c == '\\' && p[1] != '\0')
				*o++ = *p++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == 'N' || c == 'I' || c == '.') {
			goto bad;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			n = json_number_len(p);
			if (n == 0)
				goto bad;
			p += n - 1;
			*o++ = '0';
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

char *pgh_exec_parse_event(const char *text, bool *return_results, const char **why)
{
	struct json_tokener *tok = json_tokener_new();

	/* The API's clients send strict JSON; json-c alone would also take
	 * single quotes, trailing commas and the like. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *req, *v;
	char *sql = NULL, *plain = json_text_plain(text);
	size_t len = plain != NULL ? strlen(plain) : 0;

	req = plain != NULL ? json_tokener_parse_ex(tok, plain, (int)len) : NULL;
	if (req == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    strspn(plain + json_tokener_get_parse_end(tok), " \t\r\n") !=
	        len - json_tokener_get_parse_end(tok)) {
		*why = "Invalid JSON in request body";
	} else if (!json_object_is_type(req, json_type_object)) {
		*why = "Request body must be a JSON object";
	} else if (!json_object_object_get_ex(req, "sql_query", &v) || v == NULL) {
		*why = "Missing required parameter: sql_query";
	} else if (!json_object_is_type(v, json_type_string)) {
		*why = "sql_query must be a string";
	} else {
		sql = pgh_xstrdup(json_object_get_string(v));
		if (json_object_object_get_ex(req, "return_results", &v) && v != NULL) {
			if (json_object_is_type(v, json_type_boolean)) {
				*return_results = json_object_get_boolean(v);
			} else {
				*why = "return_results must be a boolean";
				free(sql);
				sql = NULL;
			}
		}
	}
	json_object_put(req);
	json_tokener_free(tok);
	free(plain);
	return sql;
}

static int parse_options(struct exec *x, int argc, char **argv, const char **event,
                         const char **why)
{
	static const struct option opts[] = {
	    {"max-rows", required_argument, NULL, 'm'}, {"timeout", required_argument, NULL, 't'},
	    {"no-results", no_argument, NULL, 'n'},     {"event", required_argument, NULL, 'e'},
	    {"database", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			errno = 0;
			x->max_rows = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-' || optarg[0] == '\0')
				return *why = "--max-rows takes a whole number (0 = no limit)", -1;
			break;
		case 't':
			if (pgh_duration_parse(optarg, &x->timeout_ms) < 0 || x->timeout_ms == 0)
				return *why = "--timeout takes a duration such as 30s or 500ms", -1;
			break;
		case 'n':
			x->return_results = false;
			break;
		case 'e':
			*event = optarg;
			x->event = true;
			break;
		case 'd':
			if (optarg[0] == '\0')
				return *why = "--database takes a database name", -1;
			x->database = optarg;
			break;
		default:
			return *why = "unknown or incomplete option", -1;
		}
	}
	return 0;
}

int pgh_exec_config(const char *path, bool explicit_path, bool event, struct pgh_config **cfg,
                    FILE *out)
{
	struct exec x = {.event = event, .out = out};
	char *err = NULL;

	if (!explicit_path && access(path, F_OK) < 0) {
		*cfg = pgh_config_new_default();
		return 0;
	}
	if (pgh_config_load(path, cfg, &err) < 0) {
		/* On stderr with every line, and as JSON in the answer: exec | jq
		 * always has something to read. */
		fprintf(stderr, "%s\n", err != NULL ? err : "configuration error");
		if (err != NULL)
			err[strcspn(err, "\n")] = '\0';
		exec_fail(&x, PGH_EXIT_CONFIG, err != NULL ? err : "configuration error");
		free(err);
		return -1;
	}
	return 0;
}

/* The request file cannot be read: say which file. */
static int event_unreadable(const struct exec *x, const char *path, const char *why)
{
	char *msg = pgh_xasprintf("cannot read the request %s: %s",
	                          strcmp(path, "-") == 0 ? "from standard input" : path, why);
	int r = exec_fail(x, PGH_EXEC_BAD_REQUEST, msg);

	free(msg);
	return r;
}

void pgh_exec_conn_open(struct pgh_exec_conn *c, struct pgh_config *cfg)
{
	int r = uv_loop_init(&c->loop);

	if (r < 0)
		pgh_bug("exec: uv_loop_init: %s", uv_strerror(r));
	c->cfg = cfg;
	c->pool = pgh_pool_new(&c->loop, cfg);
}

static void conn_pool_closed_cb(void *arg)
{
	(void)arg;
}

void pgh_exec_conn_close(struct pgh_exec_conn *c)
{
	pgh_pool_close(c->pool, conn_pool_closed_cb, c);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&c->loop) != 0)
		pgh_bug("exec: handles left open at exit");
	pgh_config_free(c->cfg);
	c->cfg = NULL;
	c->pool = NULL;
}

/* Run sql (taken) on c; the answer goes to x->out. */
static int exec_request(struct exec *x, struct pgh_exec_conn *c, char *sql)
{
	int r;

	if (strspn(sql, " \t\r\n;") == strlen(sql)) {
		free(sql);
		return exec_fail(x, PGH_EXEC_BAD_REQUEST, "the SQL is empty");
	}
	x->conn = c;
	x->cfg = c->cfg;
	x->sql = sql;
	r = exec_run(x);
	exec_free(x);
	free(sql);
	return r;
}

int pgh_exec_event(struct pgh_exec_conn *c, const char *text, uint64_t max_rows,
                   uint64_t timeout_ms, FILE *out)
{
	struct exec x = {
	    .max_rows = max_rows,
	    .timeout_ms = timeout_ms,
	    .return_results = true,
	    .event = true,
	    .out = out,
	};
	const char *why = NULL;
	char *sql = pgh_exec_parse_event(text, &x.return_results, &why);

	if (sql == NULL)
		return exec_fail(&x, PGH_EXEC_BAD_REQUEST, why);
	return exec_request(&x, c, sql);
}

void pgh_exec_event_error(FILE *out, int code, const char *msg)
{
	struct exec x = {.event = true, .out = out};

	exec_fail(&x, code, msg);
}

int pgh_exec_main(const char *config_path, bool explicit_path, int argc, char **argv)
{
	struct exec x = {
	    .max_rows = PGH_EXEC_DEFAULT_MAX_ROWS,
	    .timeout_ms = PGH_EXEC_DEFAULT_TIMEOUT_MS,
	    .return_results = true,
	    .out = stdout,
	};
	const char *event = NULL, *why = NULL;
	char *text = NULL, *sql = NULL;
	struct pgh_exec_conn conn;
	struct pgh_config *cfg;
	int r;

	if (parse_options(&x, argc, argv, &event, &why) < 0)
		return exec_fail(&x, PGH_EXEC_BAD_REQUEST, why);
	if (event != NULL && optind != argc)
		return exec_fail(&x, PGH_EXEC_BAD_REQUEST, "--event takes no SQL argument");
	if (event == NULL && optind != argc - 1)
		return exec_fail(&x, PGH_EXEC_BAD_REQUEST, "exactly one SQL argument is needed");
	if (event != NULL) {
		text = read_all(event, EXEC_EVENT_MAX_BYTES, &why);
		if (text == NULL)
			return event_unreadable(&x, event, why);
		sql = text != NULL ? pgh_exec_parse_event(text, &x.return_results, &why) : NULL;
		free(text);
		if (sql == NULL)
			return exec_fail(&x, PGH_EXEC_BAD_REQUEST, why);
	} else {
		sql = pgh_xstrdup(argv[optind]);
	}
	if (pgh_exec_config(config_path, explicit_path, x.event, &cfg, x.out) < 0) {
		free(sql);
		return PGH_EXIT_CONFIG;
	}
	/* Errors are in the JSON answer; stderr says more only when asked. */
	pgh_log_level = cfg->log_level >= LOG_DEBUG ? LOG_DEBUG : LOG_ERR;
	pgh_exec_conn_open(&conn, cfg);
	r = exec_request(&x, &conn, sql);
	pgh_exec_conn_close(&conn);
	return r;
}
