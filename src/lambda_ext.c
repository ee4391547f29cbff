/*
 * lambda_ext.c - the AWS Parameters and Secrets Lambda Extension's
 * localhost endpoint (see lambda_ext.h).
 *
 * Owns nothing between calls: each call borrows the runtime's libcurl
 * handle (its connection cache keeps the extension's socket warm) and
 * wipes every buffer that held a value before it frees it.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pghealthd/common.h"
#include "pghealthd/credential.h"
#include "pghealthd/lambda_ext.h"

#define EXT_DEFAULT_PORT 2773
#define EXT_MAX_BYTES    (256u * 1024) /* a secret is at most 64 KiB */

extern char **environ;

struct body {
	char *p;
	size_t len;
	bool too_large;
};

static size_t body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;
	char *grown;

	if (b->too_large || b->len + len > EXT_MAX_BYTES) {
		b->too_large = true;
		return len;
	}
	/* Grown by hand: realloc would leave a copy of a secret behind. */
	grown = pgh_xmalloc(b->len + len + 1);
	if (b->p != NULL) {
		memcpy(grown, b->p, b->len);
		explicit_bzero(b->p, b->len);
		free(b->p);
	}
	memcpy(grown + b->len, p, len);
	b->p = grown;
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

static void body_wipe(struct body *b)
{
	if (b->p != NULL) {
		explicit_bzero(b->p, b->len);
		free(b->p);
	}
	b->p = NULL;
	b->len = 0;
}

/* The extension's port: $PARAMETERS_SECRETS_EXTENSION_HTTP_PORT or 2773. */
static long ext_port(void)
{
	const char *v = getenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT");
	char *end;
	long port;

	if (v == NULL || v[0] == '\0')
		return EXT_DEFAULT_PORT;
	errno = 0;
	port = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
		return -1;
	return port;
}

/*
 * GET path?key=value&extra from the extension into b; what names the
 * request in a message.  Returns NULL on HTTP 200, else an allocated message.
 */
static char *ext_get(CURL *curl, const char *path, const char *key, const char *value,
                     const char *extra, const char *what, struct body *b)
{
	const char *token = getenv("AWS_SESSION_TOKEN");
	struct curl_slist *headers = NULL;
	char *esc, *url, *hdr, *err = NULL;
	long port = ext_port(), status = 0;
	CURLcode rc;

	if (port < 0)
		return pgh_xasprintf("%s: PARAMETERS_SECRETS_EXTENSION_HTTP_PORT is not a port",
		                     what);
	if (token == NULL || token[0] == '\0')
		return pgh_xasprintf("%s: AWS_SESSION_TOKEN is not set (Lambda sets it; the "
		                     "Parameters and Secrets extension requires it)",
		                     what);
	esc = curl_easy_escape(curl, value, 0);
	url = pgh_xasprintf("http://localhost:%ld%s?%s=%s%s", port, path, key, esc, extra);
	curl_free(esc);
	hdr = pgh_xasprintf("X-Aws-Parameters-Secrets-Token: %s", token);
	headers = curl_slist_append(headers, hdr);
	explicit_bzero(hdr, strlen(hdr));
	free(hdr);
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, b);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(headers);
	if (rc == CURLE_COULDNT_CONNECT)
		err = pgh_xasprintf("%s: the Parameters and Secrets extension does not answer on "
		                    "localhost:%ld (is its layer added to the function?)",
		                    what, port);
	else if (rc != CURLE_OK)
		err = pgh_xasprintf("%s: %s", what, curl_easy_strerror(rc));
	else if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status), status != 200)
		/* The extension's words name the parameter or the secret, never a value. */
		err =
		    pgh_xasprintf("%s: HTTP %ld from the Parameters and Secrets extension: %.300s",
		                  what, status, b->p != NULL ? b->p : "");
	else if (b->too_large)
		err = pgh_xasprintf("%s: the answer is over %u KiB", what, EXT_MAX_BYTES / 1024);
	free(url);
	return err;
}

/* A variable PGHEALTHD_PARAMETER_ may set. */
static bool settable(const char *var)
{
	return (strncmp(var, "PG", 2) == 0 && var[2] != '\0') ||
	       strcmp(var, "DEFAULT_SQL_LIMIT") == 0 || strcmp(var, "SQL_POLL_MAX_SECONDS") == 0;
}

/* var set to the value of parameter name. */
static char *set_from_parameter(CURL *curl, const char *var, const char *name)
{
	struct body b = {0};
	struct json_object *o = NULL, *p, *v;
	char *what = pgh_xasprintf("parameter %s (for %s)", name, var);
	char *err;

	err = ext_get(curl, "/systemsmanager/parameters/get", "name", name, "&withDecryption=true",
	              what, &b);
	if (err == NULL) {
		o = json_tokener_parse(b.p);
		if (!json_object_object_get_ex(o, "Parameter", &p) ||
		    !json_object_object_get_ex(p, "Value", &v) ||
		    !json_object_is_type(v, json_type_string))
			err = pgh_xasprintf("%s: the answer holds no Parameter.Value", what);
		else if (setenv(var, json_object_get_string(v), 1) < 0)
			err = pgh_xasprintf("%s: %s", what, strerror(errno));
	}
	json_object_put(o);
	body_wipe(&b);
	free(what);
	return err;
}

bool pgh_ext_wanted(void)
{
	const char *id = getenv("PGHEALTHD_SECRET_ID");

	if (id != NULL && id[0] != '\0')
		return true;
	for (char **e = environ; *e != NULL; e++)
		if (strncmp(*e, PGH_EXT_PARAMETER_PREFIX, strlen(PGH_EXT_PARAMETER_PREFIX)) == 0)
			return true;
	return false;
}

char *pgh_ext_parameters(CURL *curl)
{
	size_t plen = strlen(PGH_EXT_PARAMETER_PREFIX), n = 0, i;
	char **vars, *err = NULL;

	/* Collected first: setenv may move environ. */
	for (char **e = environ; *e != NULL; e++)
		n++;
	vars = pgh_xcalloc(n + 1, sizeof(*vars));
	n = 0;
	for (char **e = environ; *e != NULL; e++)
		if (strncmp(*e, PGH_EXT_PARAMETER_PREFIX, plen) == 0)
			vars[n++] = pgh_xstrdup(*e + plen);
	for (i = 0; i < n && err == NULL; i++) {
		char *eq = strchr(vars[i], '=');

		if (eq == NULL || eq == vars[i])
			continue;
		*eq = '\0';
		if (!settable(vars[i]))
			err = pgh_xasprintf(
			    "%s%s: sets neither a PG... variable nor DEFAULT_SQL_LIMIT "
			    "or SQL_POLL_MAX_SECONDS",
			    PGH_EXT_PARAMETER_PREFIX, vars[i]);
		else if (eq[1] == '\0')
			err = pgh_xasprintf("%s%s names no parameter", PGH_EXT_PARAMETER_PREFIX,
			                    vars[i]);
		else
			err = set_from_parameter(curl, vars[i], eq + 1);
	}
	for (i = 0; i < n; i++)
		free(vars[i]);
	free(vars);
	return err;
}

char *pgh_ext_secret(CURL *curl, const char *id, char **password, char **user)
{
	struct body b = {0};
	struct json_object *o = NULL, *s;
	char *what = pgh_xasprintf("secret %s", id);
	const char *why;
	char *err;

	*password = *user = NULL;
	err = ext_get(curl, "/secretsmanager/get", "secretId", id, "", what, &b);
	if (err == NULL) {
		o = json_tokener_parse(b.p);
		if (!json_object_object_get_ex(o, "SecretString", &s) ||
		    !json_object_is_type(s, json_type_string))
			err = pgh_xasprintf("%s: the answer holds no SecretString", what);
		else if (!pgh_cred_parse(json_object_get_string(s), password, user, &why))
			err =
			    pgh_xasprintf("%s: its SecretString holds no password (the executor's "
			                  "shape: {\"username\": ..., \"password\": ...})",
			                  what);
	}
	json_object_put(o);
	body_wipe(&b);
	free(what);
	return err;
}
