/*
 * log.h - the one logging module.
 *
 * Levels are syslog priorities (0 emerg .. 7 debug).  The level is checked
 * before anything is formatted.  When stderr is the journal (JOURNAL_STREAM
 * names our stderr) each line gets a "<N>" prefix; otherwise a timestamp.
 */
#ifndef PGHEALTHD_LOG_H
#define PGHEALTHD_LOG_H

#include <stdbool.h>
#include <syslog.h>

#include "pghealthd/common.h"

extern int pgh_log_level;

/* Detect whether stderr is connected to the journal; call once at start. */
void pgh_log_init(void);

/* Parse "debug", "info", ... or a digit 0-7; returns -1 when unknown. */
int pgh_log_level_parse(const char *s);

void pgh_log_write(int prio, const char *fmt, ...) PGH_PRINTF(2, 3);

#define pgh_log(prio, ...)                                                                         \
	do {                                                                                       \
		if ((prio) <= pgh_log_level)                                                       \
			pgh_log_write((prio), __VA_ARGS__);                                        \
	} while (0)

#define pgh_debug(...)  pgh_log(LOG_DEBUG, __VA_ARGS__)
#define pgh_info(...)   pgh_log(LOG_INFO, __VA_ARGS__)
#define pgh_notice(...) pgh_log(LOG_NOTICE, __VA_ARGS__)
#define pgh_warn(...)   pgh_log(LOG_WARNING, __VA_ARGS__)
#define pgh_error(...)  pgh_log(LOG_ERR, __VA_ARGS__)

/* A fatal internal bug: log and abort. */
#define pgh_bug(...)                                                                               \
	do {                                                                                       \
		pgh_log_write(LOG_CRIT, __VA_ARGS__);                                              \
		abort();                                                                           \
	} while (0)

#endif
