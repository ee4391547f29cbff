/*
 * notify.h - systemd service notifications (sd_notify) and the watchdog.
 *
 * Every function is a no-op when pghealthd is built without libsystemd or
 * when it does not run under systemd (no NOTIFY_SOCKET).
 */
#ifndef PGHEALTHD_NOTIFY_H
#define PGHEALTHD_NOTIFY_H

#include <stdint.h>

#include "pghealthd/common.h"

void pgh_notify_ready(void);
void pgh_notify_reloading(void);
void pgh_notify_stopping(void);
void pgh_notify_watchdog(void);
void pgh_notify_status(const char *fmt, ...) PGH_PRINTF(1, 2);

/* The watchdog interval systemd asks for, in ms; 0 when there is none. */
uint64_t pgh_notify_watchdog_ms(void);

#endif
