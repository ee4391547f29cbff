/*
 * slow-cancel.c - an LD_PRELOAD shim for the cancel race test: PQcancel()
 * sleeps PGH_SLOW_CANCEL_MS first, so a connection stays "cancelling" long
 * enough for the test to make the server act on it meanwhile.  The real
 * libpq does the rest.
 */
#include <dlfcn.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

int PQcancel(PGcancel *cancel, char *errbuf, int errbufsize)
{
	int (*real)(PGcancel *, char *, int);
	const char *ms = getenv("PGH_SLOW_CANCEL_MS");

	*(void **)&real = dlsym(RTLD_NEXT, "PQcancel");
	if (ms != NULL)
		usleep((useconds_t)atoi(ms) * 1000);
	return real(cancel, errbuf, errbufsize);
}
