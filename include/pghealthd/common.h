/*
 * common.h - attributes and tiny helpers shared by every module.
 */
#ifndef PGHEALTHD_COMMON_H
#define PGHEALTHD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PGH_MUSTCHECK                       __attribute__((warn_unused_result))
#define PGH_PRINTF(f, a)                    __attribute__((format(printf, f, a)))
#define PGH_NORETURN                        __attribute__((noreturn))
#define PGH_UNUSED                          __attribute__((unused))
#define PGH_ARRAY_LEN(a)                    (sizeof(a) / sizeof((a)[0]))
#define PGH_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Exit codes: Nagios plugin convention for verdicts, sysexits for the rest. */
#define PGH_EXIT_OK        0
#define PGH_EXIT_WARNING   1
#define PGH_EXIT_CRITICAL  2
#define PGH_EXIT_UNKNOWN   3
#define PGH_EXIT_USAGE     64
#define PGH_EXIT_SOFTWARE  70
#define PGH_EXIT_CANTCREAT 73
#define PGH_EXIT_CONFIG    78

/* Allocation that cannot fail: out of memory aborts with a message. */
void *pgh_xmalloc(size_t n);
void *pgh_xcalloc(size_t n, size_t size);
void *pgh_xrealloc(void *p, size_t n);
char *pgh_xstrdup(const char *s);
char *pgh_xstrndup(const char *s, size_t n);
char *pgh_xasprintf(const char *fmt, ...) PGH_PRINTF(1, 2);
/* Free a string that held a secret, zeroed first; NULL is fine. */
void pgh_wipe_free(char *s);

/* qsort/bsearch callback for an array of char *: strcmp order. */
int pgh_str_cmp_cb(const void *a, const void *b);

/* names[v] of a table of n enum names; "invalid" outside it. */
const char *pgh_enum_name(const char *const *names, size_t n, unsigned v);

/* Milliseconds since the Unix epoch, from the wall clock. */
uint64_t pgh_now_ms(void);

/* Format a wall-clock time in ms as 2026-11-21T14:05:00.123Z (buf >= 25). */
void pgh_format_iso8601_ms(uint64_t ms, char *buf, size_t len);
/* The format above back to ms; false when s is not exactly that. */
bool pgh_parse_iso8601_ms(const char *s, uint64_t *ms);
/* An age as people read it: 45s, 12m30s, 3h12m, 2d04h. */
void pgh_format_age(uint64_t ms, char *buf, size_t len);

/* Format a wall-clock time in ms as 20261121T140500Z (buf >= 17). */
void pgh_format_stamp(uint64_t ms, char *buf, size_t len);

/*
 * A new file in $TMPDIR (default /tmp; glibc's tmpfile() ignores TMPDIR),
 * named NAME.XXXXXX and unlinked at once, so nothing is left behind however
 * the process ends; open for reading and writing.  *dir is the directory,
 * for messages.  NULL with errno set when it cannot be made.
 */
FILE *pgh_tmpfile_unlinked(const char *name, const char **dir);

#endif
