/*
 * page.c - the HTML page of the output directory (see page.h).  Owns
 * nothing: it writes what the scheduler's entries say.
 */
#include <csv.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pghealthd/common.h"
#include "pghealthd/page.h"

static const char style[] =
    "body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}"
    "header{padding:1em 1.2em;color:#fff}header h1{margin:0;font-size:1.6em}"
    "header p{margin:.3em 0 0}.v0{background:#2e7d32}.v1{background:#b26a00}"
    ".v2{background:#c62828}.v3{background:#6a1b9a}main{padding:.8em 1.2em}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;"
    "vertical-align:top}th{background:#eee}td.n{text-align:right}"
    ".s{padding:.1em .5em;border-radius:.8em;color:#fff;white-space:nowrap}"
    ".s-ok{background:#2e7d32}.s-findings,.s-truncated{background:#b26a00}"
    ".s-error,.s-timeout{background:#c62828}.s-skipped{background:#546e7a}"
    ".err{color:#b71c1c;white-space:pre-wrap;word-break:break-word}"
    "section{margin:1.5em 0}h2{font-size:1.15em;margin:.2em 0}"
    "svg{vertical-align:middle;color:#b26a00}small{color:#666}";

size_t pgh_html_escape(struct pgh_sink *sink, const char *text, size_t len)
{
	size_t start = 0, out = len;

	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;

		switch (text[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		pgh_sink_append(sink, text + start, i - start);
		pgh_sink_append(sink, rep, strlen(rep));
		out += strlen(rep) - 1;
		start = i + 1;
	}
	pgh_sink_append(sink, text + start, len - start);
	return out;
}

static size_t put(struct pgh_sink *sink, const char *s)
{
	size_t n = strlen(s);

	pgh_sink_append(sink, s, n);
	return n;
}

static void put_text(struct pgh_sink *sink, const char *s)
{
	pgh_html_escape(sink, s, strlen(s));
}

/* len, or less so that text[0..len) does not end inside a UTF-8 sequence. */
static size_t utf8_cut(const char *text, size_t len)
{
	while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
		len--;
	return len;
}

/* The verdict and the round, at the top. */
static void page_head(struct pgh_sink *sink, const struct pgh_status_entry *e, size_t n,
                      const struct pgh_page_info *x)
{
	struct pgh_status_counts c = pgh_status_count(e, n);
	int v = x->verdict >= 0 && x->verdict <= 3 ? x->verdict : 3;
	char at[40];

	pgh_format_iso8601_ms(x->round_end_ms, at, sizeof(at));
	put(sink, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
	pgh_sink_printf(sink, "<meta http-equiv=\"refresh\" content=\"%" PRIu64 "\">\n",
	                x->interval_ms >= 1000 ? x->interval_ms / 1000 : 1);
	pgh_sink_printf(sink, "<title>pghealthd: %s</title>\n<style>%s</style></head>\n<body>\n",
	                pgh_verdict_str(v), style);
	pgh_sink_printf(
	    sink,
	    "<header class=\"v%d\"><h1>%s</h1><p>%zu checks: %zu ok, %zu with findings, "
	    "%zu failed, %zu skipped &middot; round ended %s in %" PRIu64 " ms</p></header>\n",
	    v, pgh_verdict_str(v), n, c.ok, c.findings, c.failed, c.skipped, at,
	    x->round_duration_ms);
}

/* The row counts of the latest runs as a line, highest at the top. */
static void sparkline(struct pgh_sink *sink, const struct pgh_status_entry *e)
{
	uint32_t max = 1;

	if (e->n_history < 2)
		return;
	for (unsigned i = 0; i < e->n_history; i++)
		if (e->history[i] > max)
			max = e->history[i];
	pgh_sink_printf(sink,
	                "<svg width=\"90\" height=\"20\" viewBox=\"0 0 90 20\" role=\"img\" "
	                "aria-label=\"rows of the latest %u runs\"><polyline fill=\"none\" "
	                "stroke=\"currentColor\" stroke-width=\"1.5\" points=\"",
	                e->n_history);
	for (unsigned i = 0; i < e->n_history; i++)
		pgh_sink_printf(sink, "%s%.1f,%.1f", i > 0 ? " " : "",
		                89.0 * i / (e->n_history - 1),
		                18.0 - 16.0 * e->history[i] / max + 1.0);
	put(sink, "\"/></svg>");
}

static void check_row(struct pgh_sink *sink, const struct pgh_status_entry *e, uint64_t now)
{
	const struct pgh_result *r = e->result;
	const char *st = pgh_check_state_str(e->state);
	char age[32] = "", iso[40] = "";

	if (e->since_ms > 0) {
		pgh_format_age(now > e->since_ms ? now - e->since_ms : 0, age, sizeof(age));
		pgh_format_iso8601_ms(e->since_ms, iso, sizeof(iso));
	}
	put(sink, "<tr><td>");
	if (pgh_state_has_findings(e->state) && r->preview != NULL) {
		put(sink, "<a href=\"#c-");
		put_text(sink, e->check);
		put(sink, "\">");
		put_text(sink, e->check);
		put(sink, "</a>");
	} else {
		put_text(sink, e->check);
	}
	pgh_sink_printf(sink, "</td><td><span class=\"s s-%s\">%s</span></td><td>%s</td>", st, st,
	                pgh_severity_str(e->severity));
	pgh_sink_printf(sink, "<td class=\"n\">%" PRIu64 "</td><td>", r->rows);
	sparkline(sink, e);
	pgh_sink_printf(sink,
	                "</td><td class=\"n\">%" PRIu64
	                " ms</td><td title=\"%s\">%s</td><td class=\"err\">",
	                r->duration_ms, iso, age);
	if (r->error != NULL) {
		size_t len = strlen(r->error);

		/* An error is one line, and the page shows its first 1000 bytes. */
		pgh_html_escape(sink, r->error, len > 1000 ? utf8_cut(r->error, 1000) : len);
	}
	put(sink, "</td></tr>\n");
}

/* libcsv's callbacks: the preview's fields as table cells, escaped. */
struct preview {
	struct pgh_sink *sink;
	size_t row, col;
	size_t bytes; /* written for this check so far */
	bool cut;     /* the budget is spent: no more rows */
};

static void preview_field_cb(void *field, size_t len, void *data)
{
	struct preview *p = data;

	if (p->cut)
		return;
	if (p->col++ == 0)
		p->bytes += put(p->sink, "<tr>");
	p->bytes += put(p->sink, p->row == 0 ? "<th>" : "<td>");
	if (field != NULL) {
		/* Escaping makes at most six bytes of one: a value that could
		 * pass the budget is cut, and the row is the last one. */
		size_t room =
		    PGH_PAGE_PREVIEW_BYTES > p->bytes ? PGH_PAGE_PREVIEW_BYTES - p->bytes : 0;

		if (6 * len > room) {
			len = utf8_cut(field, room / 6);
			p->bytes += pgh_html_escape(p->sink, field, len);
			p->bytes += put(p->sink, "&hellip;");
			p->bytes = PGH_PAGE_PREVIEW_BYTES;
		} else {
			p->bytes += pgh_html_escape(p->sink, field, len);
		}
	}
	p->bytes += put(p->sink, p->row == 0 ? "</th>" : "</td>");
}

static void preview_row_cb(int c, void *data)
{
	struct preview *p = data;

	(void)c;
	if (p->cut)
		return;
	if (p->col > 0)
		p->bytes += put(p->sink, "</tr>\n");
	p->row++;
	p->col = 0;
	/* A row is never cut in half; the next one waits for the CSV. */
	p->cut = p->bytes >= PGH_PAGE_PREVIEW_BYTES;
}

/* A check's first findings, its file and its history. */
static void check_section(struct pgh_sink *sink, const struct pgh_status_entry *e,
                          const struct pgh_page_info *x)
{
	const struct pgh_result *r = e->result;
	struct preview p = {.sink = sink};
	struct csv_parser parser;
	size_t shown;

	put(sink, "<section id=\"c-");
	put_text(sink, e->check);
	put(sink, "\"><h2>");
	put_text(sink, e->check);
	pgh_sink_printf(sink, " <small>%" PRIu64 " rows</small></h2>\n", r->rows);
	if (x->links && r->file != NULL) {
		put(sink, "<p><a href=\"");
		put_text(sink, r->file);
		put(sink, "\">");
		put_text(sink, r->file);
		put(sink, "</a> &middot; <a href=\"history/");
		put_text(sink, e->check);
		put(sink, "/\">history</a></p>\n");
	}
	put(sink, "<div class=\"scroll\"><table>\n");
	if (csv_init(&parser, CSV_APPEND_NULL) == 0) {
		csv_parse(&parser, r->preview, strlen(r->preview), preview_field_cb, preview_row_cb,
		          &p);
		csv_fini(&parser, preview_field_cb, preview_row_cb, &p);
		csv_free(&parser);
	}
	put(sink, "</table></div>\n");
	shown = p.row > 0 ? p.row - 1 : 0;
	if (shown < r->rows)
		pgh_sink_printf(sink,
		                "<p><small>the first %zu of %" PRIu64
		                " rows; the CSV has them all</small></p>\n",
		                shown, r->rows);
	put(sink, "</section>\n");
}

/* "What is wrong?" first: failed checks, then findings by severity, then
 * the rest; configuration order within each. */
static int rank(const struct pgh_status_entry *e)
{
	if (pgh_state_failed(e->state))
		return 0;
	if (pgh_state_has_findings(e->state))
		return 3 - (int)e->severity; /* critical 1, warning 2, info 3 */
	return e->state == PGH_CHECK_SKIPPED ? 4 : 5;
}

void pgh_page_render(struct pgh_sink *sink, const struct pgh_status_entry *e, size_t n,
                     const struct pgh_page_info *x)
{
	uint64_t now = pgh_now_ms();

	page_head(sink, e, n, x);
	put(sink, "<main>\n<div class=\"scroll\"><table>\n<tr><th>check</th><th>state</th>"
	          "<th>severity</th><th>rows</th><th>trend</th><th>duration</th><th>since</th>"
	          "<th>error</th></tr>\n");
	for (int r = 0; r <= 5; r++)
		for (size_t i = 0; i < n; i++)
			if (rank(&e[i]) == r)
				check_row(sink, &e[i], now);
	put(sink, "</table></div>\n");
	for (int r = 1; r <= 3; r++)
		for (size_t i = 0; i < n; i++)
			if (rank(&e[i]) == r && e[i].result->preview != NULL)
				check_section(sink, &e[i], x);
	put(sink, "</main>\n</body></html>\n");
}
