/*
 * duration.c - durations as the configuration spells them (see duration.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pghealthd/common.h"
#include "pghealthd/duration.h"

/*
 * Durations are exact integers of milliseconds; a fraction is allowed as long
 * as it lands on a whole millisecond, so "1.5" and "0.25s" work and "1.0001s"
 * is refused rather than rounded.
 */
static int unit_ms(const char *u, uint64_t *ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {{"", 1000},   {"ms", 1},      {"s", 1000},
	             {"m", 60000}, {"h", 3600000}, {"d", 86400000}};

	for (size_t i = 0; i < PGH_ARRAY_LEN(units); i++) {
		if (strcmp(u, units[i].name) == 0) {
			*ms = units[i].ms;
			return 0;
		}
	}
	return -EINVAL;
}

/* Digits, an optional fraction, then a unit from unit_ms(); overflow is -EINVAL. */
int pgh_duration_parse(const char *s, uint64_t *ms)
{
	uint64_t whole = 0, frac = 0, den = 1, unit, v;
	const char *c = s;
	int digits = 0;

	for (; *c >= '0' && *c <= '9'; c++, digits++)
		if (__builtin_mul_overflow(whole, 10, &whole) ||
		    __builtin_add_overflow(whole, (uint64_t)(*c - '0'), &whole))
			return -EINVAL;
	if (*c == '.') {
		if (digits == 0 || c[1] < '0' || c[1] > '9')
			return -EINVAL;
		for (c++; *c >= '0' && *c <= '9'; c++, digits++) {
			if (den >= 1000000000ULL) {
				if (*c != '0')
					return -EINVAL; /* finer than any unit can make whole */
				continue;
			}
			frac = frac * 10 + (uint64_t)(*c - '0');
			den *= 10;
		}
	}
	if (digits == 0 || unit_ms(c, &unit) < 0)
		return -EINVAL;
	if ((frac * unit) % den != 0)
		return -EINVAL;
	if (__builtin_mul_overflow(whole, unit, &v) ||
	    __builtin_add_overflow(v, frac * unit / den, &v))
		return -EINVAL;
	*ms = v;
	return 0;
}

/* The largest unit that divides exactly, so parsing the text gives ms back. */
void pgh_duration_format(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % 86400000 == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(ms / 86400000));
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}
