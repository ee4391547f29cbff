/*
 * csv.h - PostgreSQL's COPY CSV dialect, one field at a time.
 *
 * A field is quoted only when it is empty, holds ',' '"' CR or LF, or is
 * "\." alone in a one-column result; quotes are doubled; NULL is an empty
 * unquoted field.  The bytes are exactly what COPY ... (FORMAT csv) sends.
 */
#ifndef PGHEALTHD_CSV_H
#define PGHEALTHD_CSV_H

#include <stdbool.h>
#include <stddef.h>

/* The most bytes pgh_csv_encode() can produce for a value of len bytes. */
static inline size_t pgh_csv_bound(size_t len)
{
	return 2 * len + 2;
}

/* The exact number of bytes pgh_csv_encode() produces for the value. */
size_t pgh_csv_encoded_len(const char *val, size_t len, bool single_column);

/*
 * Encode one non-NULL value of len bytes into dst, which has room for
 * pgh_csv_bound(len) bytes.  single_column is true when the row has exactly
 * one column (then "\." is quoted).  Returns the number of bytes written.
 */
size_t pgh_csv_encode(char *dst, const char *val, size_t len, bool single_column);

/* True when the value needs quotes in the COPY CSV dialect. */
bool pgh_csv_needs_quotes(const char *val, size_t len, bool single_column);

#endif
