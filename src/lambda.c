/*
 * lambda.c - `pghealthd lambda`: the query executor as an AWS Lambda
 * function (custom runtime, provided.al2023).
 *
 * Owns: the Runtime API client (libcurl, one handle kept alive to the
 * runtime's endpoint), the warm connection (an exec connection kept open
 * between invocations) and the answer file.  The loop is AWS's documented
 * protocol on $AWS_LAMBDA_RUNTIME_API:
 *
 *   GET  /2018-06-01/runtime/invocation/next          an event, its request
 *                                                     id and deadline
 *   POST /2018-06-01/runtime/invocation/ID/response   the answer
 *   POST /2018-06-01/runtime/invocation/ID/error      no answer could be made
 *   POST /2018-06-01/runtime/init/error               no configuration
 *
 * Each event is answered by pgh_exec_event(), the code path of `exec
 * --event`, so the two answer the same request byte for byte.  The answer
 * is written to an unlinked file in $TMPDIR and sent from there: memory
 * stays flat however many rows are asked for.  The statement timeout is
 * capped by the invocation's deadline (Lambda-Runtime-Deadline-Ms) less a
 * margin for the cancel and the answer, so Lambda never kills the process
 * with a query running.
 *
 * Configuration the Lambda way: PGHEALTHD_PARAMETER_<VAR> variables are
 * filled from Parameter Store first, then the limits and the configuration
 * are read; PGHEALTHD_SECRET_ID names the Secrets Manager secret that holds
 * the login, fetched at init and again when it is older than password_ttl
 * (both through the Parameters and Secrets extension, lambda_ext.h).
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pghealthd/common.h"
#include "pghealthd/config.h"
#include "pghealthd/exec.h"
#include "pghealthd/lambda.h"
#include "pghealthd/lambda_ext.h"
#include "pghealthd/log.h"
#include "pghealthd/pool.h"

#define RUNTIME_PATH       "/2018-06-01/runtime"
#define EVENT_MAX_BYTES    (6u * 1024 * 1024) /* Lambda's own payload limit */
#define DEADLINE_MARGIN_MS 1000               /* cancel, answer, POST */

struct lambda {
	const char *api; /* host:port */
	CURL *curl;
	/* the invocation */
	char request_id[128];
	uint64_t deadline_ms; /* 0: none given */
	char *event;
	size_t event_len;
	bool event_too_large;
	/* the answer */
	FILE *answer;
	/* limits, from the environment */
	uint64_t max_rows;
	uint64_t timeout_ms;
	/* the login, from Secrets Manager */
	const char *secret_id; /* NULL: the configuration's own ways */
	uint64_t secret_at;    /* when it was fetched */
	/* once set up: the configuration and the warm connection */
	const char *config_path;
	bool explicit_path;
	struct pgh_config *cfg; /* owned by conn; NULL until set up */
	struct pgh_exec_conn conn;
};

/* ---- the HTTP side --------------------------------------------------------- */

static size_t event_body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct lambda *l = arg;
	size_t len = size * n;

	if (l->event_len + len > EVENT_MAX_BYTES) {
		l->event_too_large = true;
		return len; /* read to the end; answered as a bad request */
	}
	l->event = pgh_xrealloc(l->event, l->event_len + len + 1);
	memcpy(l->event + l->event_len, p, len);
	l->event_len += len;
	l->event[l->event_len] = '\0';
	return len;
}

/* A header line's value when its name is name (case-insensitive), else NULL. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	line += n + 1;
	len -= n + 1;
	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	*vlen = len;
	return line;
}

static size_t event_header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct lambda *l = arg;
	size_t len = size * n, vlen;
	const char *v;

	if ((v = header_value(p, len, "Lambda-Runtime-Aws-Request-Id", &vlen)) != NULL) {
		if (vlen < sizeof(l->request_id)) {
			memcpy(l->request_id, v, vlen);
			l->request_id[vlen] = '\0';
		}
	} else if ((v = header_value(p, len, "Lambda-Runtime-Deadline-Ms", &vlen)) != NULL) {
		l->deadline_ms = strtoull(v, NULL, 10);
	}
	return len;
}

/* Set up l->curl for a request to path. */
static void http_begin(struct lambda *l, const char *path)
{
	char *url = pgh_xasprintf("http://%s%s%s", l->api, RUNTIME_PATH, path);

	curl_easy_reset(l->curl);
	curl_easy_setopt(l->curl, CURLOPT_URL, url);
	curl_easy_setopt(l->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(l->curl, CURLOPT_PROTOCOLS_STR, "http");
	free(url);
}

/* The HTTP status of the request just made, or -1 with the reason logged. */
static long http_end(struct lambda *l, CURLcode rc, const char *what)
{
	long status = -1;

	if (rc != CURLE_OK) {
		pgh_error("lambda: %s: %s", what, curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(l->curl, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* GET the next event; false when the runtime cannot be reached. */
static bool next_event(struct lambda *l)
{
	long status;

	free(l->event);
	l->event = NULL;
	l->event_len = 0;
	l->event_too_large = false;
	l->request_id[0] = '\0';
	l->deadline_ms = 0;
	http_begin(l, "/invocation/next");
	curl_easy_setopt(l->curl, CURLOPT_WRITEFUNCTION, event_body_cb);
	curl_easy_setopt(l->curl, CURLOPT_WRITEDATA, l);
	curl_easy_setopt(l->curl, CURLOPT_HEADERFUNCTION, event_header_cb);
	curl_easy_setopt(l->curl, CURLOPT_HEADERDATA, l);
	status = http_end(l, curl_easy_perform(l->curl), "GET invocation/next");
	if (status != 200 || l->request_id[0] == '\0') {
		if (status > 0)
			pgh_error("lambda: GET invocation/next: HTTP %ld%s", status,
			          l->request_id[0] == '\0' ? ", no request id" : "");
		return false;
	}
	return true;
}

static size_t discard_cb(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* POST what l->answer holds to path (with an error type header when set). */
static bool post_answer(struct lambda *l, const char *path, const char *error_type)
{
	struct curl_slist *headers = NULL;
	char *type = NULL;
	long size, status;

	if (fflush(l->answer) != 0 || (size = ftell(l->answer)) < 0 ||
	    fseek(l->answer, 0, SEEK_SET) != 0) {
		pgh_error("lambda: cannot read back the answer: %s", strerror(errno));
		return false;
	}
	/* No "Expect: 100-continue": the runtime answers at once. */
	headers = curl_slist_append(headers, "Expect:");
	headers = curl_slist_append(headers, "Content-Type: application/json");
	if (error_type != NULL) {
		type = pgh_xasprintf("Lambda-Runtime-Function-Error-Type: %s", error_type);
		headers = curl_slist_append(headers, type);
		free(type);
	}
	http_begin(l, path);
	curl_easy_setopt(l->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(l->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(l->curl, CURLOPT_READDATA, l->answer);
	curl_easy_setopt(l->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
	curl_easy_setopt(l->curl, CURLOPT_WRITEFUNCTION, discard_cb);
	status = http_end(l, curl_easy_perform(l->curl), path);
	curl_slist_free_all(headers);
	/* Emptied for the next answer. */
	if (fseek(l->answer, 0, SEEK_SET) != 0 || ftruncate(fileno(l->answer), 0) != 0)
		pgh_error("lambda: cannot empty the answer file: %s", strerror(errno));
	if (status != 202) {
		if (status > 0)
			pgh_error("lambda: POST %s: HTTP %ld", path, status);
		return false;
	}
	return true;
}

/* An error the runtime reports itself, in the shape AWS documents. */
static bool post_error(struct lambda *l, const char *path, const char *type, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "errorMessage", json_object_new_string(msg));
	json_object_object_add(o, "errorType", json_object_new_string(type));
	json_object_object_add(o, "stackTrace", json_object_new_array());
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), l->answer);
	json_object_put(o);
	return post_answer(l, path, type);
}

/* A setup error into the answer file, as the JSON exec's exit 78 gives. */
static void setup_failed(struct lambda *l, const char *msg)
{
	pgh_error("lambda: %s", msg);
	pgh_exec_event_error(l->answer, PGH_EXIT_CONFIG, msg);
}

/* ---- the answer file and the limits ------------------------------------------ */

/*
 * The executor's settings, by the names it documents: DEFAULT_SQL_LIMIT
 * (rows, 0 = no limit) and SQL_POLL_MAX_SECONDS (seconds, fractions
 * allowed).  Returns the message for a bad value, or NULL.
 */
static const char *limits_from_env(struct lambda *l)
{
	const char *v;
	char *end;
	double s;

	l->max_rows = PGH_EXEC_DEFAULT_MAX_ROWS;
	l->timeout_ms = PGH_EXEC_DEFAULT_TIMEOUT_MS;
	if ((v = getenv("DEFAULT_SQL_LIMIT")) != NULL && v[0] != '\0') {
		errno = 0;
		l->max_rows = strtoull(v, &end, 10);
		if (errno != 0 || *end != '\0' || v[0] == '-')
			return "DEFAULT_SQL_LIMIT takes a whole number of rows (0 = no limit)";
	}
	if ((v = getenv("SQL_POLL_MAX_SECONDS")) != NULL && v[0] != '\0') {
		errno = 0;
		s = strtod(v, &end);
		if (errno != 0 || *end != '\0' || !(s > 0.0) || s > 86400.0)
			return "SQL_POLL_MAX_SECONDS takes a number of seconds (0 < s <= 86400)";
		l->timeout_ms = (uint64_t)(s * 1000.0 + 0.5);
		if (l->timeout_ms == 0)
			l->timeout_ms = 1;
	}
	return NULL;
}

/* The statement timeout of this invocation: the limit, or what the deadline
 * leaves less the margin; 0 when it leaves nothing. */
static uint64_t invocation_timeout(const struct lambda *l)
{
	uint64_t now = pgh_now_ms();

	if (l->deadline_ms == 0)
		return l->timeout_ms;
	if (l->deadline_ms <= now + DEADLINE_MARGIN_MS)
		return 0;
	return l->deadline_ms - now - DEADLINE_MARGIN_MS < l->timeout_ms
	           ? l->deadline_ms - now - DEADLINE_MARGIN_MS
	           : l->timeout_ms;
}

/* ---- the login ---------------------------------------------------------------- */

/* The secret's login into cfg: the password, and the user when it names one. */
static char *login_from_secret(struct lambda *l, struct pgh_config *cfg)
{
	char *password, *user, *err;

	if ((err = pgh_ext_secret(l->curl, l->secret_id, &password, &user)) != NULL)
		return err;
	pgh_wipe_free(cfg->password);
	cfg->password = password;
	free(cfg->login_user);
	cfg->login_user = user;
	l->secret_at = pgh_now_ms();
	return NULL;
}

/* The login at init: NULL, or the message of an init error. */
static char *login_init(struct lambda *l, struct pgh_config *cfg)
{
	l->secret_id = getenv("PGHEALTHD_SECRET_ID");
	if (l->secret_id == NULL || l->secret_id[0] == '\0') {
		l->secret_id = NULL;
		return NULL;
	}
	if (cfg->password_command != NULL)
		return pgh_xstrdup("PGHEALTHD_SECRET_ID and password_command both set: choose one");
	if (cfg->password_file != NULL)
		return pgh_xstrdup("PGHEALTHD_SECRET_ID and password_file both set: choose one");
	return login_from_secret(l, cfg);
}

/* Before an invocation: the login fetched again when a new connection is
 * to log in (a rotated password takes effect there) or when it is older
 * than password_ttl; on failure the last one is kept, and logged why. */
static void login_refresh(struct lambda *l)
{
	char *err;

	if (l->secret_id == NULL || (pgh_pool_has_idle(l->conn.pool) &&
	                             pgh_now_ms() - l->secret_at < l->cfg->password_ttl_ms))
		return;
	if ((err = login_from_secret(l, l->cfg)) != NULL) {
		pgh_warn("lambda: %s; the last login is kept", err);
		free(err);
	}
}

/* ---- the loop -------------------------------------------------------------- */

static void answer_one(struct lambda *l)
{
	uint64_t timeout = invocation_timeout(l);
	char *path;

	if (l->event_too_large)
		pgh_exec_event_error(l->answer, PGH_EXEC_BAD_REQUEST, "the request is over 6 MB");
	else if (timeout == 0)
		pgh_exec_event_error(l->answer, PGH_EXEC_FAILED,
		                     "no time left before the invocation's deadline");
	else
		pgh_exec_event(&l->conn, l->event != NULL ? l->event : "", l->max_rows, timeout,
		               l->answer);
	path = pgh_xasprintf("/invocation/%s/%s", l->request_id,
	                     ferror(l->answer) ? "error" : "response");
	if (ferror(l->answer)) {
		clearerr(l->answer);
		if (fseek(l->answer, 0, SEEK_SET) == 0 && ftruncate(fileno(l->answer), 0) == 0)
			post_error(l, path, "Runtime.AnswerWriteError",
			           "cannot write the answer in $TMPDIR");
	} else {
		post_answer(l, path, NULL);
	}
	free(path);
}

/*
 * Everything an answer needs: the parameters, the limits, the
 * configuration, the login and the connection.  On failure the answer file
 * holds the JSON exec's exit 78 gives and nothing is kept: the next try
 * starts over.
 */
static bool setup(struct lambda *l)
{
	struct pgh_config *cfg;
	const char *why;
	char *err = NULL;

	/* Parameters first: they may set the limits and the configuration. */
	if ((err = pgh_ext_parameters(l->curl)) != NULL || (why = limits_from_env(l)) != NULL) {
		setup_failed(l, err != NULL ? err : why);
		free(err);
		return false;
	}
	if (pgh_exec_config(l->config_path, l->explicit_path, true, &cfg, l->answer) < 0)
		return false;
	pgh_log_level = cfg->log_level;
	if ((err = login_init(l, cfg)) != NULL) {
		setup_failed(l, err);
		free(err);
		pgh_config_free(cfg);
		return false;
	}
	pgh_exec_conn_open(&l->conn, cfg);
	l->cfg = cfg;
	pgh_info("lambda: ready, runtime API at %s", l->api);
	return true;
}

int pgh_lambda_main(const char *config_path, bool explicit_path)
{
	struct lambda l = {
	    .api = getenv("AWS_LAMBDA_RUNTIME_API"),
	    .config_path = config_path,
	    .explicit_path = explicit_path,
	};
	const char *tmpdir;
	char *path;
	int rc = PGH_EXIT_CONFIG;

	if (l.api == NULL || l.api[0] == '\0') {
		fprintf(stderr, "pghealthd lambda: AWS_LAMBDA_RUNTIME_API is not set "
		                "(run by Lambda, or by a stand-in of its Runtime API)\n");
		return PGH_EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (l.curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "pghealthd lambda: cannot initialise libcurl\n");
		return PGH_EXIT_SOFTWARE;
	}
	l.answer = pgh_tmpfile_unlinked("pghealthd-lambda", &tmpdir);
	if (l.answer == NULL) {
		fprintf(stderr, "pghealthd lambda: cannot create the answer file in %s: %s\n",
		        tmpdir, strerror(errno));
		rc = PGH_EXIT_SOFTWARE;
		goto out;
	}
	/* The extension answers only once an invocation has begun (AWS's
	 * documentation): a setup that asks it waits for the first event, and
	 * its failure is that invocation's error, tried again at the next. */
	if (!pgh_ext_wanted() && !setup(&l)) {
		post_answer(&l, "/init/error", "Runtime.ConfigError");
		goto out;
	}
	while (next_event(&l)) {
		if (l.cfg != NULL) {
			login_refresh(&l);
		} else if (!setup(&l)) {
			path = pgh_xasprintf("/invocation/%s/error", l.request_id);
			post_answer(&l, path, "Runtime.ConfigError");
			free(path);
			continue;
		}
		answer_one(&l);
	}
	/* Lambda ends the process; here the runtime went away. */
	if (l.cfg != NULL)
		pgh_exec_conn_close(&l.conn); /* frees l.cfg */
	rc = PGH_EXIT_SOFTWARE;
out:
	free(l.event);
	if (l.answer != NULL)
		fclose(l.answer);
	curl_easy_cleanup(l.curl);
	curl_global_cleanup();
	return rc;
}
