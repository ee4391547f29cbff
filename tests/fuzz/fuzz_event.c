/*
 * fuzz_event.c - pgh_exec_parse_event(), the `exec --event` request parser.
 *
 * Input: the request text, cut at the first NUL (the caller reads a file
 * into a NUL-terminated buffer).  Properties: a request is either accepted
 * (SQL returned, no reason) or refused (NULL and a reason); an accepted one
 * is one JSON object, alone in the text, whose "sql_query" is a string equal
 * to the SQL returned and whose "return_results", when present, is a
 * boolean that was stored; a refused one leaves return_results alone.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "json_check.h"
#include "pghealthd/exec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t len = nul != NULL ? (size_t)(nul - data) : size;
	char *text = malloc(len + 1);
	const char *why = NULL;
	bool rr = true, rr_before;
	struct json_object *req, *v;
	char *sql;

	if (text == NULL)
		abort();
	memcpy(text, data, len);
	text[len] = '\0';
	/* Start from either value, so both are seen to change. */
	rr = len > 0 && (text[0] & 1);
	rr_before = rr;
	sql = pgh_exec_parse_event(text, &rr, &why);
	if (sql == NULL) {
		FUZZ_CHECK(why != NULL && why[0] != '\0', "refused without a reason");
		FUZZ_CHECK(rr == rr_before, "a refused request changed return_results");
		free(text);
		return 0;
	}
	FUZZ_CHECK(why == NULL, "accepted with a reason: %s", why);
	/* Accepted: the text is one JSON value, and RFC 8259 agrees with json-c. */
	FUZZ_CHECK(json_check_valid(text, len), "accepted text that is not strict JSON");
	req = json_tokener_parse(text);
	FUZZ_CHECK(req != NULL && json_object_is_type(req, json_type_object),
	           "accepted a non-object");
	FUZZ_CHECK(json_object_object_get_ex(req, "sql_query", &v) &&
	               json_object_is_type(v, json_type_string),
	           "accepted without a string sql_query");
	FUZZ_CHECK(strcmp(sql, json_object_get_string(v)) == 0, "returned SQL differs");
	if (json_object_object_get_ex(req, "return_results", &v))
		FUZZ_CHECK(json_object_is_type(v, json_type_boolean) &&
		               rr == (bool)json_object_get_boolean(v),
		           "return_results not taken from the request");
	else
		FUZZ_CHECK(rr == rr_before, "return_results changed without being in the request");
	json_object_put(req);
	free(sql);
	free(text);
	return 0;
}
