/*
 * log.c - the one logging module (see log.h).
 *
 * Owns nothing but two globals: the level and whether stderr is the journal.
 * Lines are assembled in one buffer and written with a single write(2) so
 * concurrent writers (a test harness, systemd) never see interleaved halves.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pghealthd/log.h"

int pgh_log_level = LOG_INFO;
static bool to_journal;

static const char *const level_names[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

void pgh_log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	to_journal = false;
	if (js == NULL || sscanf(js, "%lu:%lu", &dev, &ino) != 2)
		return;
	if (fstat(STDERR_FILENO, &st) == 0 && st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino)
		to_journal = true;
}

int pgh_log_level_parse(const char *s)
{
	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	for (size_t i = 0; i < PGH_ARRAY_LEN(level_names); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "error") == 0)
		return LOG_ERR;
	if (strcasecmp(s, "warn") == 0)
		return LOG_WARNING;
	return -1;
}

void pgh_log_write(int prio, const char *fmt, ...)
{
	char line[4096];
	size_t n;
	int r;
	va_list ap;
	int saved = errno;

	if (prio < 0)
		prio = 0;
	if (prio > 7)
		prio = 7;
	if (to_journal) {
		r = snprintf(line, sizeof(line), "<%d>", prio);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		r = snprintf(line, sizeof(line), "%s.%03ld pghealthd[%ld] %s: ", stamp,
		             ts.tv_nsec / 1000000, (long)getpid(), level_names[prio]);
	}
	n = r > 0 ? (size_t)r : 0;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}
