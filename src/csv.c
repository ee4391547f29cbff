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

/*
 * PostgreSQL's text output never contains a NUL byte, so strcspn() stops at
 * the first special character or at the value's terminator.  libpq always
 * NUL-terminates values, and so do the callers of this module.
 */
bool pgh_csv_needs_quotes(const char *val, size_t len, bool single_column)
{
	if (len == 0)
		return true;
	if (single_column && len == 2 && val[0] == '\\' && val[1] == '.')
		return true;
	return strcspn(val, ",\"\r\n") < len;
}

size_t pgh_csv_encode(char *dst, const char *val, size_t len, bool single_column)
{
	if (!pgh_csv_needs_quotes(val, len, single_column)) {
		memcpy(dst, val, len);
		return len;
	}
	return csv_write(dst, pgh_csv_bound(len), val, len);
}
