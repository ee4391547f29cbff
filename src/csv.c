/*
 * csv.c - COPY-identical CSV field encoding (see csv.h).
 *
 * The common case, a value with nothing to quote, is one strcspn() (which
 * glibc vectorises) and one memcpy().  Values that need quotes are handed to
 * libcsv's csv_write(), which quotes the whole field and doubles the quotes.
 */
#include <csv.h>
#include <string.h>

#include "pghealthd/csv.h"

/* The bytes that force quotes: ',' '"' CR LF. */
static const unsigned char special[256] = {
    [','] = 1,
    ['"'] = 1,
    ['\r'] = 1,
    ['\n'] = 1,
};

/*
 * Values under 8 bytes (small numbers, booleans) are scanned with a table,
 * which costs less than strcspn()'s setup; longer ones with strcspn(), which
 * glibc vectorises (16 bytes a step; measured with callgrind).  PostgreSQL's text output never
 * contains a NUL byte and libpq NUL-terminates every value, so strcspn() stops within the value.
 */
bool pgh_csv_needs_quotes(const char *val, size_t len, bool single_column)
{
	if (len == 0)
		return true;
	if (single_column && len == 2 && val[0] == '\\' && val[1] == '.')
		return true;
	if (len < 8) {
		for (size_t i = 0; i < len; i++)
			if (special[(unsigned char)val[i]])
				return true;
		return false;
	}
	return strcspn(val, ",\"\r\n") < len;
}

size_t pgh_csv_encoded_len(const char *val, size_t len, bool single_column)
{
	size_t quotes = 0;
	const char *p = val, *end = val + len;

	if (!pgh_csv_needs_quotes(val, len, single_column))
		return len;
	while ((p = memchr(p, '"', (size_t)(end - p))) != NULL) {
		quotes++;
		p++;
	}
	return len + quotes + 2;
}

size_t pgh_csv_encode(char *dst, const char *val, size_t len, bool single_column)
{
	if (!pgh_csv_needs_quotes(val, len, single_column)) {
		memcpy(dst, val, len);
		return len;
	}
	return csv_write(dst, pgh_csv_bound(len), val, len);
}
