/*
 * hosts.h - a multi-host conninfo (host=a,b) as one connection attempt per
 * host, so that each host gets its own connect_timeout, as libpq and psql
 * give it, also on a loop where libpq's own timeout does not run.
 *
 * libpq moves to the next host of a list only when the current one fails:
 * a host behind a silent network never fails by itself before the kernel
 * gives up on the TCP connect (about two minutes), so a deadline over the
 * whole list never reaches the second host.  pghealthd makes the attempts
 * itself instead, each to one host with its own deadline, in libpq's order.
 *
 * Ownership: the strings belong to the struct, freed by pgh_hosts_clear().
 */
#ifndef PGHEALTHD_HOSTS_H
#define PGHEALTHD_HOSTS_H

#include <stdbool.h>

struct pgh_host_attempt {
	char *host;     /* the host= of this attempt, or NULL: as the conninfo says */
	char *hostaddr; /* likewise hostaddr= */
	char *port;     /* likewise port= (NULL when one port serves every host) */
	const char *target_session_attrs; /* NULL: as the conninfo says */
};

struct pgh_hosts {
	unsigned n; /* attempts; 0: a single host, libpq does it all */
	struct pgh_host_attempt *at;
	bool shuffle; /* load_balance_hosts=random: start at a random host */
	unsigned n_hosts;
};

/*
 * Split conninfo (a conninfo string or URI; host, hostaddr, port and
 * target_session_attrs fall back to PGHOST, PGHOSTADDR, PGPORT and
 * PGTARGETSESSIONATTRS as libpq's do) into attempts.  A conninfo libpq
 * cannot parse, or one that names a service, is left to libpq (n = 0).
 * target_session_attrs=prefer-standby is two passes, as in libpq: every
 * host as a standby first, then every host as any server.
 */
void pgh_hosts_parse(struct pgh_hosts *h, const char *conninfo);

void pgh_hosts_clear(struct pgh_hosts *h);

#endif
