/*
 * duration.h - durations as the configuration spells them.
 */
#ifndef PGHEALTHD_DURATION_H
#define PGHEALTHD_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "pghealthd/common.h"

/*
 * Parse a duration: "250ms", "30s", "5m", "1h", "2d" or a bare number of
 * seconds ("1.5" allowed).  Returns 0 and *ms, or -EINVAL.
 */
int pgh_duration_parse(const char *s, uint64_t *ms) PGH_MUSTCHECK;

/* Format a duration the way the config accepts it back ("250ms", "30s", "5m"). */
void pgh_duration_format(uint64_t ms, char *buf, size_t len);

#endif
