/*
 * settings.h - the pghealthd.<check>.<param> thresholds: session_sql sets
 * them (SET pghealthd.long_running_queries.min_age = '10 minutes'), the
 * packs' SQL reads them with current_setting(..., true) and a default.
 *
 * A misspelt name is silently ignored by the server and a bad value fails
 * the check with a message that does not name the setting: this module
 * finds the first case (a setting no enabled check reads) and names the
 * setting in the second.  Pure functions over a loaded configuration.
 */
#ifndef PGHEALTHD_SETTINGS_H
#define PGHEALTHD_SETTINGS_H

#include "pghealthd/config.h"

/*
 * Call warn once per pghealthd.* setting in session_sql that no enabled
 * check reads, with a message naming it (and the closest name a check does
 * read, when one is close).  Returns how many there were.
 */
unsigned pgh_settings_check(const struct pgh_config *cfg, void (*warn)(void *arg, const char *msg),
                            void *arg);

/* The same, each as a warning in the log. */
unsigned pgh_settings_log(const struct pgh_config *cfg);

/*
 * For an error of check c whose message errmsg may come from a bad value:
 * a malloc'd " (from session_sql: pghealthd.x.y = 'v')" naming the setting
 * whose value the message quotes, else NULL.  Caller frees.
 */
char *pgh_settings_blame(const struct pgh_config *cfg, const struct pgh_check *c,
                         const char *errmsg);

#endif
