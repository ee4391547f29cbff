/*
 * fuzz_exec_value.c - pgh_exec_value(), one column value as typed JSON.
 *
 * Input: the first byte picks the type OID (and, for numbers, whether the
 * rest is used as it is or turned into a numeric literal), the rest is the
 * value's text, cut at the first NUL.  The value is given only text that
 * PostgreSQL could send for that type:
 *   - numbers: -?(0|[1-9][0-9]*)(.[0-9]+)?(e[+-][0-9]+)?, NaN, Infinity,
 *     -Infinity (other text is still encoded, but nothing is required);
 *   - json/jsonb: valid JSON (RFC 8259) only;
 *   - bool: t or f; text and bytea: anything.
 * Properties: the output (JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE, as exec
 * prints it) is valid JSON for json-c's tokener and for a strict RFC 8259
 * check; numbers keep PostgreSQL's exact digits; NaN and the infinities are
 * strings; json is embedded verbatim; text round-trips; bytea is the base64
 * of PQunescapeBytea's bytes (checked by decoding it: see b64_decode).
 */
#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "json_check.h"
#include "pghealthd/exec.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const unsigned oids[] = {16, 17, 20, 21, 23, 26, 700, 701, 1700, 114, 3802, 25};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static bool is_number_oid(unsigned oid)
{
	return oid == 20 || oid == 21 || oid == 23 || oid == 26 || oid == 700 || oid == 701 ||
	       oid == 1700;
}

/* PostgreSQL's output for int2/4/8, oid, float4/8 and numeric. */
static bool pg_number_text(const char *s)
{
	const char *p = s;

	if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0)
		return true;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e') {
		p++;
		if (*p != '+' && *p != '-')
			return false;
		if (*++p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/* A numeric literal built from arbitrary bytes, so most inputs test numbers. */
static char *make_number(const uint8_t *d, size_t n)
{
	unsigned h = n > 0 ? d[0] : 0;
	size_t i = 1, nint = 1 + (h >> 1) % 24, nfrac = (h & 8) ? 1 + (h >> 4) % 24 : 0;
	size_t nexp = (h & 32) ? 1 + (h >> 6) % 3 : 0;
	char *s = malloc(64), *o = s;

#define NEXT() (i < n ? d[i++] : 0u)
	if (s == NULL)
		abort();
	if (h & 1)
		*o++ = '-';
	if (nint == 1) {
		*o++ = (char)('0' + NEXT() % 10);
	} else {
		*o++ = (char)('1' + NEXT() % 9);
		for (size_t k = 1; k < nint; k++)
			*o++ = (char)('0' + NEXT() % 10);
	}
	if (nfrac > 0) {
		*o++ = '.';
		for (size_t k = 0; k < nfrac; k++)
			*o++ = (char)('0' + NEXT() % 10);
	}
	if (nexp > 0) {
		*o++ = 'e';
		*o++ = NEXT() & 1 ? '-' : '+';
		for (size_t k = 0; k < nexp; k++)
			*o++ = (char)('0' + NEXT() % 10);
	}
	*o = '\0';
#undef NEXT
	return s;
}

/*
 * The oracle for bytea is a base64 DECODER, written from RFC 4648 section 4
 * and not from the encoder under test: strict (padded, no line breaks, no
 * other alphabet, '=' only at the end) and canonical (the bits the padding
 * leaves over are zero), so exactly one text passes for given bytes.
 */
static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	return c == '/' ? 63 : -1;
}

/* One quantum of 4 characters into out (1 to 3 bytes); -1 when invalid. */
static int b64_quantum(const char *q, bool last, unsigned char *out)
{
	unsigned v[4], pad = 0;

	for (int k = 0; k < 4; k++) {
		int d = b64_value(q[k]);

		if (q[k] == '=' && last && k >= 2) {
			v[k] = 0;
			pad++;
		} else if (d < 0 || pad > 0) {
			return -1; /* not the alphabet, or data after '=' */
		} else {
			v[k] = (unsigned)d;
		}
	}
	if ((pad == 2 && (v[1] & 15) != 0) || (pad == 1 && (v[2] & 3) != 0))
		return -1; /* not canonical */
	out[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	out[1] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
	out[2] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	return 3 - (int)pad;
}

/* The bytes s encodes (malloc'd, *n of them), or NULL when s is not
 * canonical RFC 4648 base64. */
static unsigned char *b64_decode(const char *s, size_t *n)
{
	size_t len = strlen(s);
	unsigned char *out = malloc(len / 4 * 3 + 1);

	if (out == NULL)
		abort();
	*n = 0;
	if (len % 4 != 0)
		goto bad;
	for (size_t i = 0; i < len; i += 4) {
		int got = b64_quantum(s + i, i + 4 == len, out + *n);

		if (got < 0)
			goto bad;
		*n += (size_t)got;
	}
	return out;
bad:
	free(out);
	return NULL;
}

/* bytea: the value is the base64 of PQunescapeBytea's bytes, and only that. */
static void check_bytea(const char *text, struct json_object *back)
{
	size_t n, got_n;
	unsigned char *bytes = PQunescapeBytea((const unsigned char *)text, &n);
	const char *b64;
	unsigned char *got;

	if (bytes == NULL)
		return; /* not bytea output: passed through as text */
	FUZZ_CHECK(json_object_is_type(back, json_type_string), "bytea is not a JSON string");
	b64 = json_object_get_string(back);
	FUZZ_CHECK(strlen(b64) == 4 * ((n + 2) / 3), "%zu bytes as %zu base64 characters", n,
	           strlen(b64));
	got = b64_decode(b64, &got_n);
	FUZZ_CHECK(got != NULL, "bytea is not canonical RFC 4648 base64: %.200s", b64);
	FUZZ_CHECK(got_n == n && memcmp(got, bytes, n) == 0,
	           "bytea base64 decodes to other bytes (%zu, want %zu): %.200s", got_n, n, b64);
	free(got);
	PQfreemem(bytes);
}

/*
 * json-c reads the whole text back as exactly one value (strict mode, and
 * as deep as the input can nest: PostgreSQL's json has no depth limit).
 * json-c 0.17 and later refuse, in strict mode only, an integer beyond
 * uint64 that RFC 8259 allows (json_check already vouched for the text):
 * such a text is read back leniently.  *out is NULL for JSON null.
 */
static bool reparse_with(const char *s, struct json_object **out, int flags)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_CHECK_MAX_DEPTH);
	size_t len = strlen(s);
	enum json_tokener_error e;

	if (tok == NULL)
		abort();
	json_tokener_set_flags(tok, flags);
	*out = json_tokener_parse_ex(tok, s, (int)len);
	e = json_tokener_get_error(tok);
	if (e == json_tokener_continue) {
		/* A top-level number or literal needs the end of the input. */
		*out = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
	} else if (e == json_tokener_success && json_tokener_get_parse_end(tok) != len) {
		/* Only whitespace may follow the value. */
		if (strspn(s + json_tokener_get_parse_end(tok), " \t\r\n") !=
		    len - json_tokener_get_parse_end(tok))
			e = json_tokener_error_parse_unexpected;
	}
	json_tokener_free(tok);
	if (e != json_tokener_success) {
		json_object_put(*out);
		*out = NULL;
		return false;
	}
	return true;
}

static bool reparse(const char *s, struct json_object **out)
{
	return reparse_with(s, out, JSON_TOKENER_STRICT) || reparse_with(s, out, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned oid;
	bool generate;
	const uint8_t *nul;
	size_t len;
	char *text;
	struct json_object *v, *back;
	const char *out;

	if (size == 0)
		return 0;
	oid = oids[(data[0] & 0x7f) % (sizeof(oids) / sizeof(oids[0]))];
	generate = (data[0] & 0x80) != 0;
	data++;
	size--;
	nul = memchr(data, 0, size);
	len = nul != NULL ? (size_t)(nul - data) : size;
	if (generate && is_number_oid(oid)) {
		text = make_number(data, len);
		FUZZ_CHECK(pg_number_text(text), "make_number made '%s'", text);
	} else {
		text = malloc(len + 1);
		if (text == NULL)
			abort();
		memcpy(text, data, len);
		text[len] = '\0';
	}
	if ((oid == 114 || oid == 3802) && !json_check_valid(text, strlen(text)))
		goto out; /* PostgreSQL never sends invalid JSON */
	if (oid == 16 && strcmp(text, "t") != 0 && strcmp(text, "f") != 0)
		goto out;

	v = pgh_exec_value(oid, text);
	FUZZ_CHECK(v != NULL, "no value for oid %u", oid);
	out = json_object_to_json_string_ext(v, JSON_FLAGS);
	FUZZ_CHECK(out != NULL, "no text for oid %u", oid);
	if (is_number_oid(oid) && !pg_number_text(text)) {
		/* Not PostgreSQL's output: encoded somehow, nothing required. */
		json_object_put(v);
		goto out;
	}
	FUZZ_CHECK(json_check_valid(out, strlen(out)), "oid %u: invalid JSON %.200s", oid, out);
	FUZZ_CHECK(reparse(out, &back), "oid %u: json-c cannot read back %.200s", oid, out);
	switch (oid) {
	case 16:
		FUZZ_CHECK(json_object_is_type(back, json_type_boolean) &&
		               json_object_get_boolean(back) == (text[0] == 't'),
		           "bool %s -> %s", text, out);
		break;
	case 114:
	case 3802:
		FUZZ_CHECK(strcmp(out, text) == 0, "json not embedded verbatim: %.200s -> %.200s",
		           text, out);
		break;
	case 25:
		FUZZ_CHECK(json_object_is_type(back, json_type_string) &&
		               (size_t)json_object_get_string_len(back) == len &&
		               memcmp(json_object_get_string(back), text, len) == 0,
		           "text does not round-trip: %.200s", out);
		break;
	case 17:
		check_bytea(text, back);
		break;
	default: /* numbers */
		if (strcmp(text, "NaN") == 0 || strstr(text, "Infinity") != NULL)
			FUZZ_CHECK(json_object_is_type(back, json_type_string) &&
			               strcmp(json_object_get_string(back), text) == 0,
			           "%s -> %s", text, out);
		else
			FUZZ_CHECK(strcmp(out, text) == 0,
			           "number digits changed: %.200s -> %.200s", text, out);
		break;
	}
	json_object_put(back);
	json_object_put(v);
out:
	free(text);
	return 0;
}
