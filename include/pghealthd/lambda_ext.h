/*
 * lambda_ext.h - the AWS Parameters and Secrets Lambda Extension, as
 * `pghealthd lambda` uses it: Parameter Store values into the environment,
 * the login from a Secrets Manager secret.
 *
 * The extension (a layer AWS publishes) answers on
 * localhost:$PARAMETERS_SECRETS_EXTENSION_HTTP_PORT (2773 by default) a
 * request that carries X-Aws-Parameters-Secrets-Token: $AWS_SESSION_TOKEN:
 *
 *   GET /systemsmanager/parameters/get?name=NAME&withDecryption=true
 *       GetParameter's JSON: {"Parameter": {"Name", "Type", "Value", ...}}
 *   GET /secretsmanager/get?secretId=ID
 *       GetSecretValue's JSON: {"ARN", "Name", "SecretString", ...}
 *
 * No value and no secret is ever logged; a message names the parameter or
 * the secret, the HTTP status and the extension's own words.
 */
#ifndef PGHEALTHD_LAMBDA_EXT_H
#define PGHEALTHD_LAMBDA_EXT_H

#include <curl/curl.h>
#include <stdbool.h>

/* The prefix of the variables that name a parameter: PGHEALTHD_PARAMETER_<VAR>=NAME. */
#define PGH_EXT_PARAMETER_PREFIX "PGHEALTHD_PARAMETER_"

/* Whether the environment asks for the extension: a PGHEALTHD_PARAMETER_
 * variable, or PGHEALTHD_SECRET_ID. */
bool pgh_ext_wanted(void);

/*
 * For each PGHEALTHD_PARAMETER_<VAR>=NAME in the environment, VAR set to
 * the value of Parameter Store's NAME (decrypted when a SecureString).  VAR
 * is one that pghealthd or libpq reads: PG... (PGHOST, PGDATABASE,
 * PGHEALTHD_SECRET_ID, ...), DEFAULT_SQL_LIMIT or SQL_POLL_MAX_SECONDS.
 * Returns NULL, or an allocated message.
 */
char *pgh_ext_parameters(CURL *curl);

/*
 * The login held by secret id: *password and *user allocated (*user NULL
 * when the secret names none).  The secret is the executor's JSON
 * ({"username", "password"}) or a bare password.  Returns NULL, or an
 * allocated message.
 */
char *pgh_ext_secret(CURL *curl, const char *id, char **password, char **user);

#endif
