/*
 * common.c - allocation that cannot fail, and time formatting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pghealthd/common.h"

static void oom(void)
{
	fputs("pghealthd: out of memory\n", stderr);
	abort();
}

void *pgh_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *pgh_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *pgh_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *pgh_xstrdup(const char *s)
{
	return pgh_xstrndup(s, strlen(s));
}

char *pgh_xstrndup(const char *s, size_t n)
{
	char *p = pgh_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void pgh_wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

char *pgh_xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	p = pgh_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

uint64_t pgh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void pgh_format_iso8601_ms(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char tmp[32];

	gmtime_r(&t, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", tmp, (unsigned)(ms % 1000));
}

bool pgh_parse_iso8601_ms(const char *s, uint64_t *ms)
{
	struct tm tm = {0};
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	unsigned frac = 0;
	time_t t;

	if (rest == NULL || strlen(rest) != 5 || rest[0] != '.' || rest[4] != 'Z')
		return false;
	for (int i = 1; i <= 3; i++) {
		if (rest[i] < '0' || rest[i] > '9')
			return false;
		frac = frac * 10 + (unsigned)(rest[i] - '0');
	}
	t = timegm(&tm);
	if (t < 0)
		return false;
	*ms = (uint64_t)t * 1000 + frac;
	return true;
}

void pgh_format_age(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
		         (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600),
		         (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%llud%02lluh", (unsigned long long)(s / 86400),
		         (unsigned long long)(s % 86400 / 3600));
}

void pgh_format_stamp(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm);
}

const char *pgh_enum_name(const char *const *names, size_t n, unsigned v)
{
	return v < n && names[v] != NULL ? names[v] : "invalid";
}

int pgh_str_cmp_cb(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

FILE *pgh_tmpfile_unlinked(const char *name, const char **dir)
{
	const char *d = getenv("TMPDIR");
	char *path;
	FILE *f = NULL;
	int fd, err;

	*dir = d != NULL && d[0] != '\0' ? d : "/tmp";
	path = pgh_xasprintf("%s/%s.XXXXXX", *dir, name);
	fd = mkstemp(path);
	err = fd < 0 ? errno : unlink(path) < 0 ? errno : 0;
	free(path);
	if (err == 0 && (f = fdopen(fd, "w+")) == NULL)
		err = errno;
	if (err != 0) {
		if (fd >= 0)
			close(fd);
		errno = err;
		return NULL;
	}
	return f;
}
