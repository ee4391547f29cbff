/*
 * hosts.c - a multi-host conninfo as one connection attempt per host (see
 * hosts.h).  Pure code: no socket, no loop.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "pghealthd/common.h"
#include "pghealthd/hosts.h"

/* The conninfo's value of key, else the environment variable's, else NULL. */
static const char *option(const PQconninfoOption *opts, const char *key, const char *env)
{
	for (const PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, key) == 0 && o->val != NULL)
			return o->val;
	return env != NULL ? getenv(env) : NULL;
}

/* Comma-separated entries, as libpq splits host, hostaddr and port. */
static unsigned count_list(const char *s)
{
	unsigned n = 1;

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++)
		n += *s == ',';
	return n;
}

/* Entry i of a comma-separated list (i < count_list(s)). */
static char *list_item(const char *s, unsigned i)
{
	const char *end;

	for (; i > 0; i--)
		s = strchr(s, ',') + 1;
	end = strchr(s, ',');
	return end != NULL ? pgh_xstrndup(s, (size_t)(end - s)) : pgh_xstrdup(s);
}

static void fill(struct pgh_host_attempt *a, unsigned i, const char *host, const char *addr,
                 const char *port, unsigned n_hosts)
{
	a->host = i < count_list(host) ? list_item(host, i) : NULL;
	a->hostaddr = i < count_list(addr) ? list_item(addr, i) : NULL;
	a->port = count_list(port) == n_hosts ? list_item(port, i) : NULL;
}

void pgh_hosts_parse(struct pgh_hosts *h, const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo != NULL ? conninfo : "", NULL);
	const char *host, *addr, *port, *tsa, *lb;
	unsigned n, passes;

	memset(h, 0, sizeof(*h));
	if (opts == NULL)
		return;
	host = option(opts, "host", "PGHOST");
	addr = option(opts, "hostaddr", "PGHOSTADDR");
	port = option(opts, "port", "PGPORT");
	tsa = option(opts, "target_session_attrs", "PGTARGETSESSIONATTRS");
	lb = option(opts, "load_balance_hosts", "PGLOADBALANCEHOSTS");
	n = count_list(host) > count_list(addr) ? count_list(host) : count_list(addr);
	/* One host, or a service file that may name others: libpq alone. */
	if (n <= 1 || option(opts, "service", "PGSERVICE") != NULL) {
		PQconninfoFree(opts);
		return;
	}
	passes = tsa != NULL && strcmp(tsa, "prefer-standby") == 0 ? 2 : 1;
	h->n_hosts = n;
	h->n = n * passes;
	h->at = pgh_xcalloc(h->n, sizeof(*h->at));
	h->shuffle = lb != NULL && strcmp(lb, "random") == 0;
	for (unsigned i = 0; i < h->n; i++) {
		fill(&h->at[i], i % n, host, addr, port, n);
		if (passes == 2)
			h->at[i].target_session_attrs = i < n ? "standby" : "any";
	}
	PQconninfoFree(opts);
}

void pgh_hosts_clear(struct pgh_hosts *h)
{
	for (unsigned i = 0; i < h->n; i++) {
		free(h->at[i].host);
		free(h->at[i].hostaddr);
		free(h->at[i].port);
	}
	free(h->at);
	memset(h, 0, sizeof(*h));
}
