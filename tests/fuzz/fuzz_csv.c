/*
 * fuzz_csv.c - pgh_csv_encode() against a reference decoder of PostgreSQL's
 * COPY CSV dialect.
 *
 * Input: the first byte's low bit is single_column, the rest is the value,
 * cut at the first NUL (PostgreSQL's text output never holds one, and the
 * encoder relies on the terminator).  Properties: the output fits
 * pgh_csv_bound(); it is quoted exactly when the value is empty, holds
 * , " CR or LF, or is \. in a one-column row; unquoted output is the value
 * itself; quoted output decodes (quotes doubled inside) to the value.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "pghealthd/csv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static bool must_quote(const char *v, size_t len, bool single)
{
	if (len == 0)
		return true;
	if (single && len == 2 && v[0] == '\\' && v[1] == '.')
		return true;
	for (size_t i = 0; i < len; i++)
		if (v[i] == ',' || v[i] == '"' || v[i] == '\r' || v[i] == '\n')
			return true;
	return false;
}

/* Decode one quoted CSV field; returns its length or -1 when malformed. */
static long decode_quoted(const char *in, size_t n, char *out)
{
	size_t o = 0;

	if (n < 2 || in[0] != '"' || in[n - 1] != '"')
		return -1;
	for (size_t i = 1; i < n - 1; i++) {
		if (in[i] == '"') {
			if (i + 1 >= n - 1 || in[i + 1] != '"')
				return -1; /* a lone quote inside */
			i++;
		}
		out[o++] = in[i];
	}
	return (long)o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool single;
	const uint8_t *nul;
	size_t len, bound, n;
	char *val, *out, *dec;
	long dlen;

	if (size == 0)
		return 0;
	single = data[0] & 1;
	data++;
	size--;
	nul = memchr(data, 0, size);
	len = nul != NULL ? (size_t)(nul - data) : size;
	val = malloc(len + 1);
	memcpy(val, data, len);
	val[len] = '\0';
	bound = pgh_csv_bound(len);
	out = malloc(bound); /* exactly the bound: a byte more is an overflow */
	dec = malloc(bound);
	if (val == NULL || out == NULL || dec == NULL)
		abort();

	n = pgh_csv_encode(out, val, len, single);
	FUZZ_CHECK(n <= bound, "wrote %zu bytes, bound %zu", n, bound);
	FUZZ_CHECK(pgh_csv_needs_quotes(val, len, single) == must_quote(val, len, single),
	           "needs_quotes disagrees (len %zu, single %d)", len, single);
	if (must_quote(val, len, single)) {
		FUZZ_CHECK(n >= 2 && out[0] == '"' && out[n - 1] == '"', "not quoted (len %zu)",
		           len);
		dlen = decode_quoted(out, n, dec);
		FUZZ_CHECK(dlen >= 0, "quoted output does not decode (len %zu)", len);
		FUZZ_CHECK((size_t)dlen == len && memcmp(dec, val, len) == 0,
		           "decode(encode(x)) != x (len %zu -> %ld)", len, dlen);
	} else {
		FUZZ_CHECK(n == len && memcmp(out, val, len) == 0, "plain value changed (len %zu)",
		           len);
	}
	free(val);
	free(out);
	free(dec);
	return 0;
}
