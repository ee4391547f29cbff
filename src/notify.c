/*
 * notify.c - sd_notify wrappers (see notify.h).  Owns nothing.
 */
#include <stdarg.h>
#include <stdio.h>

#include "pghealthd/notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

static void notify_send(const char *msg)
{
	(void)sd_notify(0, msg);
}

uint64_t pgh_notify_watchdog_ms(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 1000;
}
#else
static void notify_send(const char *msg)
{
	(void)msg;
}

uint64_t pgh_notify_watchdog_ms(void)
{
	return 0;
}
#endif

void pgh_notify_ready(void)
{
	notify_send("READY=1");
}

void pgh_notify_reloading(void)
{
	notify_send("RELOADING=1");
}

void pgh_notify_stopping(void)
{
	notify_send("STOPPING=1");
}

void pgh_notify_watchdog(void)
{
	notify_send("WATCHDOG=1");
}

void pgh_notify_status(const char *fmt, ...)
{
	char msg[512] = "STATUS=";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
	va_end(ap);
	notify_send(msg);
}
