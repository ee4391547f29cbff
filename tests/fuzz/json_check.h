/*
 * json_check.h - a strict RFC 8259 JSON validator for the fuzz targets: the
 * reference that json-c's own (more lenient) tokener is not.  Structure
 * only: bytes >= 0x20 inside strings are not checked for UTF-8.
 */
#ifndef PGHEALTHD_JSON_CHECK_H
#define PGHEALTHD_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define JSON_CHECK_MAX_DEPTH 10000

struct json_check {
	const char *p, *end;
	int depth;
};

static inline void jc_ws(struct json_check *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static inline bool jc_lit(struct json_check *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return false;
	j->p += n;
	return true;
}

static inline bool jc_digits(struct json_check *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static inline bool jc_number(struct json_check *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (j->p < j->end && *j->p >= '1' && *j->p <= '9')
		jc_digits(j);
	else
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jc_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jc_digits(j))
			return false;
	}
	return true;
}

static inline bool jc_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline bool jc_string(struct json_check *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	for (j->p++; j->p < j->end; j->p++) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (++j->p >= j->end)
			return false;
		switch (*j->p) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			break;
		case 'u':
			for (int i = 0; i < 4; i++)
				if (++j->p >= j->end || !jc_hex(*j->p))
					return false;
			break;
		default:
			return false;
		}
	}
	return false;
}

static inline bool jc_value(struct json_check *j);

static inline bool jc_container(struct json_check *j, char close, bool object)
{
	if (++j->depth > JSON_CHECK_MAX_DEPTH)
		return false;
	j->p++;
	jc_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		if (object) {
			if (!jc_string(j))
				return false;
			jc_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return false;
			j->p++;
		}
		if (!jc_value(j))
			return false;
		jc_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jc_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		return false;
	}
}

static inline bool jc_value(struct json_check *j)
{
	jc_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		return jc_container(j, '}', true);
	case '[':
		return jc_container(j, ']', false);
	case '"':
		return jc_string(j);
	case 't':
		return jc_lit(j, "true");
	case 'f':
		return jc_lit(j, "false");
	case 'n':
		return jc_lit(j, "null");
	default:
		return jc_number(j);
	}
}

/* True when s[0..len) is exactly one JSON value with optional whitespace around. */
static inline bool json_check_valid(const char *s, size_t len)
{
	struct json_check j = {s, s + len, 0};

	if (!jc_value(&j))
		return false;
	jc_ws(&j);
	return j.p == j.end;
}

#endif
