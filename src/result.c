/*
 * result.c - the outcome of one run of a check (see result.h).
 */
#include <stdlib.h>
#include <string.h>

#include "pghealthd/common.h"
#include "pghealthd/result.h"

static const char *const state_names[] = {
    [PGH_CHECK_OK] = "ok",           [PGH_CHECK_FINDINGS] = "findings",
    [PGH_CHECK_ERROR] = "error",     [PGH_CHECK_TIMEOUT] = "timeout",
    [PGH_CHECK_SKIPPED] = "skipped", [PGH_CHECK_TRUNCATED] = "truncated",
};

const char *pgh_check_state_str(enum pgh_check_state st)
{
	return pgh_enum_name(state_names, PGH_ARRAY_LEN(state_names), (unsigned)st);
}

bool pgh_state_has_findings(enum pgh_check_state st)
{
	return st == PGH_CHECK_FINDINGS || st == PGH_CHECK_TRUNCATED;
}

bool pgh_state_failed(enum pgh_check_state st)
{
	return st == PGH_CHECK_ERROR || st == PGH_CHECK_TIMEOUT;
}

void pgh_result_clear(struct pgh_result *r)
{
	free(r->file);
	free(r->error);
	free(r->preview);
	free(r->kept);
	memset(r, 0, sizeof(*r));
}

void pgh_result_move(struct pgh_result *dst, struct pgh_result *src)
{
	pgh_result_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}
