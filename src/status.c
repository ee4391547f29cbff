/*
 * status.c - status.csv and the verdict (see status.h).  Owns nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pghealthd/csv.h"
#include "pghealthd/status.h"

static void put_field(struct pgh_sink *sink, const char *v, bool last)
{
	size_t len = strlen(v);
	char *dst = pgh_sink_reserve(sink, pgh_csv_bound(len) + 1);
	size_t n = 0;

	/* An absent value is an empty unquoted field, as COPY writes NULL. */
	if (len > 0)
		n = pgh_csv_encode(dst, v, len, false);
	dst[n++] = last ? '\n' : ',';
	pgh_sink_commit(sink, n);
}

void pgh_status_render(struct pgh_sink *sink, const struct pgh_status_entry *e, size_t n)
{
	char rows[24], dur[24], at[32];

	pgh_sink_append(sink, PGH_STATUS_HEADER, strlen(PGH_STATUS_HEADER));
	for (size_t i = 0; i < n; i++) {
		const struct pgh_result *r = e[i].result;

		snprintf(rows, sizeof(rows), "%" PRIu64, r->rows);
		snprintf(dur, sizeof(dur), "%" PRIu64, r->duration_ms);
		at[0] = '\0';
		if (r->started_ms > 0)
			pgh_format_iso8601_ms(r->started_ms, at, sizeof(at));
		put_field(sink, e[i].check, false);
		put_field(sink, pgh_severity_str(e[i].severity), false);
		put_field(sink, pgh_check_state_str(e[i].state), false);
		put_field(sink, rows, false);
		put_field(sink, dur, false);
		put_field(sink, at, false);
		put_field(sink, r->file != NULL ? r->file : "", false);
		put_field(sink, r->error != NULL ? r->error : "", true);
	}
}

int pgh_status_verdict(const struct pgh_status_entry *e, size_t n)
{
	bool critical = false, unknown = false, warning = false;

	for (size_t i = 0; i < n; i++) {
		bool findings =
		    e[i].state == PGH_STATE_FINDINGS || e[i].state == PGH_STATE_TRUNCATED;

		if (e[i].state == PGH_STATE_ERROR || e[i].state == PGH_STATE_TIMEOUT)
			unknown = true;
		else if (findings && e[i].severity == PGH_SEV_CRITICAL)
			critical = true;
		else if (findings && e[i].severity == PGH_SEV_WARNING)
			warning = true;
	}
	if (critical)
		return PGH_EXIT_CRITICAL;
	if (unknown)
		return PGH_EXIT_UNKNOWN;
	return warning ? PGH_EXIT_WARNING : PGH_EXIT_OK;
}
