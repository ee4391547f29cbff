/*
 * credential.h - the password (and maybe the user name) that
 * [target] password_command prints, run without blocking the loop.
 *
 * The command runs through /bin/sh -c with no stdin and the daemon's
 * environment, in a process group of its own that is killed after
 * password_command_timeout.  Its output is the password on the first line,
 * or a JSON object: {"password": ...} optionally with "username" (AWS
 * Secrets Manager's SecretString), {"DbPassword", "DbUser"} (aws redshift
 * get-cluster-credentials) or {"dbPassword", "dbUser"} (aws
 * redshift-serverless get-credentials).  The output is never logged; a
 * failure says the exit status and the first lines of stderr.
 *
 * Ownership: the pool owns one; the waiters are borrowed until called.
 */
#ifndef PGHEALTHD_CREDENTIAL_H
#define PGHEALTHD_CREDENTIAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "pghealthd/config.h"

struct pgh_cred;

/* Someone waiting for the credential: password and user (user NULL: the
 * conninfo's) on success, else error.  Borrowed for the call only. */
struct pgh_cred_waiter {
	void (*ready)(struct pgh_cred_waiter *w, const char *password, const char *user,
	              const char *error);
	struct pgh_cred_waiter *next; /* private */
};

struct pgh_cred *pgh_cred_new(uv_loop_t *loop, const struct pgh_config *cfg);

/*
 * Call w->ready with the credential: at once when the cached one is younger
 * than password_ttl, else after a run of the command (one run serves every
 * waiter that came meanwhile).
 */
void pgh_cred_get(struct pgh_cred *cr, struct pgh_cred_waiter *w);

/* Forget a waiter that no longer wants an answer (its connection closed). */
void pgh_cred_cancel(struct pgh_cred *cr, struct pgh_cred_waiter *w);

/* A reloaded configuration: the cached credential is forgotten. */
void pgh_cred_set_config(struct pgh_cred *cr, const struct pgh_config *cfg);

/* The server refused the password: the next need runs the command again. */
void pgh_cred_invalidate(struct pgh_cred *cr);

/* Kill a running command, close every handle, then free; waiters hear an
 * error.  done(arg) runs when the memory is gone. */
void pgh_cred_close(struct pgh_cred *cr, void (*done)(void *arg), void *arg);

/* The output of a command: password (and user, or NULL) parsed from text;
 * false with *why on an output that holds none.  Allocated results. */
bool pgh_cred_parse(const char *text, char **password, char **user, const char **why);

#endif
