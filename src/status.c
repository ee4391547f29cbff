/*
 * status.c - status.csv and the verdict (see status.h).  Owns nothing.
 */
#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "pghealthd/csv.h"
#include "pghealthd/csvout.h"
#include "pghealthd/log.h"
#include "pghealthd/sink.h"
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
	char rows[24], dur[24], at[32], since[32];

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
		since[0] = '\0';
		if (e[i].since_ms > 0)
			pgh_format_iso8601_ms(e[i].since_ms, since, sizeof(since));
		put_field(sink, r->file != NULL ? r->file : "", false);
		put_field(sink, r->error != NULL ? r->error : "", false);
		put_field(sink, since, true);
	}
}

static const char *const verdict_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

/* "; critical: a, b" for the entries that match; at most 10 names. */
static void plugin_names(FILE *out, const struct pgh_status_entry *e, size_t n, const char *label,
                         bool (*match)(const struct pgh_status_entry *))
{
	size_t shown = 0, total = 0;

	for (size_t i = 0; i < n; i++) {
		if (!match(&e[i]))
			continue;
		if (total++ < 10)
			fprintf(out, "%s%s", shown++ == 0 ? label : ", ", e[i].check);
	}
	if (total > shown)
		fprintf(out, " and %zu more", total - shown);
}

static bool is_critical(const struct pgh_status_entry *e)
{
	return pgh_state_has_findings(e->state) && e->severity == PGH_SEV_CRITICAL;
}

static bool is_warning(const struct pgh_status_entry *e)
{
	return pgh_state_has_findings(e->state) && e->severity == PGH_SEV_WARNING;
}

static bool is_failed(const struct pgh_status_entry *e)
{
	return pgh_state_failed(e->state);
}

const char *pgh_verdict_str(int verdict)
{
	return verdict_names[verdict >= 0 && verdict <= 3 ? verdict : 3];
}

struct pgh_status_counts pgh_status_count(const struct pgh_status_entry *e, size_t n)
{
	struct pgh_status_counts c = {0};

	for (size_t i = 0; i < n; i++) {
		c.ok += e[i].state == PGH_CHECK_OK;
		c.findings += pgh_state_has_findings(e[i].state);
		c.failed += pgh_state_failed(e[i].state);
		c.skipped += e[i].state == PGH_CHECK_SKIPPED;
	}
	return c;
}

void pgh_status_plugin_line(FILE *out, const struct pgh_status_entry *e, size_t n, int verdict,
                            uint64_t duration_ms)
{
	struct pgh_status_counts c = pgh_status_count(e, n);

	fprintf(out, "PGHEALTHD %s - %zu checks: %zu ok, %zu with findings, %zu failed",
	        pgh_verdict_str(verdict), n, c.ok, c.findings, c.failed);
	plugin_names(out, e, n, "; critical: ", is_critical);
	plugin_names(out, e, n, "; warning: ", is_warning);
	plugin_names(out, e, n, "; failed: ", is_failed);
	fprintf(out, " | checks=%zu ok=%zu findings=%zu failed=%zu duration=%.3fs\n", n, c.ok,
	        c.findings, c.failed, (double)duration_ms / 1000.0);
}

int pgh_status_verdict(const struct pgh_status_entry *e, size_t n)
{
	bool critical = false, unknown = false, warning = false;

	for (size_t i = 0; i < n; i++) {
		if (is_failed(&e[i]))
			unknown = true;
		else if (is_critical(&e[i]))
			critical = true;
		else if (is_warning(&e[i]))
			warning = true;
	}
	if (critical)
		return PGH_EXIT_CRITICAL;
	if (unknown)
		return PGH_EXIT_UNKNOWN;
	return warning ? PGH_EXIT_WARNING : PGH_EXIT_OK;
}

/* ---- Prometheus textfile ---------------------------------------------- */

static void prom_header(struct pgh_sink *sink, const char *name, const char *type, const char *help)
{
	pgh_sink_printf(sink, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One metric family over every check; labels are safe: names are [A-Za-z0-9_.-]. */
static void prom_checks(struct pgh_sink *sink, const struct pgh_status_entry *e, size_t n,
                        const char *metric, const char *type, const char *help, int which)
{
	prom_header(sink, metric, type, help);
	for (size_t i = 0; i < n; i++) {
		const struct pgh_result *r = e[i].result;
		bool failed = pgh_state_failed(e[i].state);
		bool findings = pgh_state_has_findings(e[i].state);

		pgh_sink_printf(sink, "%s{check=\"%s\",severity=\"%s\"} ", metric, e[i].check,
		                pgh_severity_str(e[i].severity));
		switch (which) {
		case 0:
			pgh_sink_printf(sink, "%d\n", failed ? 0 : 1);
			break;
		case 1:
			pgh_sink_printf(sink, "%.3f\n", (double)r->duration_ms / 1000.0);
			break;
		case 2:
			pgh_sink_printf(sink, "%" PRIu64 "\n", r->rows);
			break;
		case 3:
			pgh_sink_printf(sink, "%d\n", findings ? 1 : 0);
			break;
		case 4:
			pgh_sink_printf(sink, "%.3f\n", (double)r->started_ms / 1000.0);
			break;
		default:
			pgh_sink_printf(sink, "%.3f\n", (double)e[i].since_ms / 1000.0);
			break;
		}
	}
}

void pgh_status_render_prom(struct pgh_sink *sink, const struct pgh_status_entry *e, size_t n,
                            const struct pgh_prom_extra *x)
{
	prom_checks(sink, e, n, "pghealthd_check_success", "gauge",
	            "1 when the check's latest run completed, 0 when it failed or timed out.", 0);
	prom_checks(sink, e, n, "pghealthd_check_duration_seconds", "gauge",
	            "Wall time of the check's latest run.", 1);
	prom_checks(sink, e, n, "pghealthd_check_rows", "gauge",
	            "Rows (findings) returned by the check's latest run.", 2);
	prom_checks(sink, e, n, "pghealthd_check_findings", "gauge",
	            "1 when the check's latest run found problems, else 0.", 3);
	prom_checks(sink, e, n, "pghealthd_check_last_run_timestamp_seconds", "gauge",
	            "Unix time when the check's latest run started.", 4);
	prom_checks(sink, e, n, "pghealthd_check_state_since_timestamp_seconds", "gauge",
	            "Unix time when the check entered its current state.", 5);
	prom_header(sink, "pghealthd_rounds_total", "counter", "Rounds completed.");
	pgh_sink_printf(sink, "pghealthd_rounds_total %" PRIu64 "\n", x->rounds);
	prom_header(sink, "pghealthd_round_duration_seconds", "gauge",
	            "Wall time of the latest round.");
	pgh_sink_printf(sink, "pghealthd_round_duration_seconds %.3f\n",
	                (double)x->round_duration_ms / 1000.0);
	prom_header(sink, "pghealthd_round_timestamp_seconds", "gauge",
	            "Unix time when the latest round completed.");
	pgh_sink_printf(sink, "pghealthd_round_timestamp_seconds %.3f\n",
	                (double)x->round_end_ms / 1000.0);
	prom_header(sink, "pghealthd_round_verdict", "gauge",
	            "The latest round's verdict: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.");
	pgh_sink_printf(sink, "pghealthd_round_verdict %d\n", x->verdict);
	prom_header(sink, "pghealthd_pool_connections", "gauge",
	            "Connections to the cluster, by state.");
	pgh_sink_printf(sink, "pghealthd_pool_connections{state=\"open\"} %u\n", x->conns_open);
	pgh_sink_printf(sink, "pghealthd_pool_connections{state=\"busy\"} %u\n", x->conns_busy);
	prom_header(sink, "pghealthd_pool_connections_peak", "gauge",
	            "Most connections open at once since start.");
	pgh_sink_printf(sink, "pghealthd_pool_connections_peak %u\n", x->conns_peak);
	prom_header(sink, "pghealthd_pool_connects_total", "counter",
	            "Connections made (session set up) since start.");
	pgh_sink_printf(sink, "pghealthd_pool_connects_total %" PRIu64 "\n", x->connects);
	prom_header(sink, "pghealthd_pool_reconnects_total", "counter",
	            "Failed connection attempts and lost connections since start.");
	pgh_sink_printf(sink, "pghealthd_pool_reconnects_total %" PRIu64 "\n", x->conn_failures);
}

/* ---- reading status.csv back (pghealthd status) ----------------------- */

uint64_t pgh_status_max_age(const struct pgh_config *cfg)
{
	uint64_t longest = cfg->timeout_ms;

	for (size_t i = 0; i < cfg->n_checks; i++)
		if (cfg->checks[i].enabled && cfg->checks[i].timeout_ms > longest)
			longest = cfg->checks[i].timeout_ms;
	return 3 * cfg->interval_ms + longest;
}

#define STATUS_COLS 9 /* an older file's 8 get an empty since */

struct status_table {
	char **cells; /* rows * STATUS_COLS, row 0 is the header */
	size_t rows, cap;
	size_t col; /* next column of the row being read */
	bool bad;   /* a row without exactly STATUS_COLS fields */
	/* When set, each row after the header goes here as it is read, and
	 * the table keeps the header only: memory does not grow with checks. */
	void (*row_fn)(char **row, void *arg);
	void *row_arg;
};

static void table_field_cb(void *field, size_t len, void *data)
{
	struct status_table *t = data;

	if (t->col >= STATUS_COLS) {
		t->bad = true;
		return;
	}
	if (t->col == 0 && t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = pgh_xrealloc(t->cells, t->cap * STATUS_COLS * sizeof(char *));
	}
	t->cells[t->rows * STATUS_COLS + t->col++] = pgh_xstrndup(field != NULL ? field : "", len);
}

static void table_row_free(struct status_table *t, size_t row, size_t cols)
{
	for (size_t i = 0; i < cols; i++)
		free(t->cells[row * STATUS_COLS + i]);
}

static void table_row_cb(int c, void *data)
{
	struct status_table *t = data;

	(void)c;
	if (t->col == STATUS_COLS - 1)
		table_field_cb(NULL, 0, data);
	if (t->col != STATUS_COLS) {
		t->bad = true;
		table_row_free(t, t->rows, t->col);
	} else if (t->row_fn != NULL && t->rows == 1) {
		if (!t->bad && strcmp(t->cells[0], "check") == 0)
			t->row_fn(&t->cells[STATUS_COLS], t->row_arg);
		table_row_free(t, 1, STATUS_COLS);
	} else {
		t->rows++;
	}
	t->col = 0;
}

static void table_free(struct status_table *t)
{
	for (size_t i = 0; i < t->rows * STATUS_COLS; i++)
		free(t->cells[i]);
	free(t->cells);
}

static int table_read(const char *path, struct status_table *t)
{
	struct csv_parser p;
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "r");
	int r = 0;

	if (f == NULL)
		return -errno;
	if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL) != 0) {
		fclose(f);
		return -ENOMEM;
	}
	while (r == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (csv_parse(&p, buf, n, table_field_cb, table_row_cb, t) != n)
			r = -EINVAL;
	if (r == 0 && csv_fini(&p, table_field_cb, table_row_cb, t) != 0)
		r = -EINVAL;
	if (ferror(f))
		r = -EIO;
	csv_free(&p);
	fclose(f);
	if (r == 0 && (t->bad || t->rows == 0 || strcmp(t->cells[0], "check") != 0))
		r = -EINVAL;
	return r;
}

static const char *state_color(const char *state)
{
	if (strcmp(state, "ok") == 0)
		return "\033[32m";
	if (strcmp(state, "findings") == 0 || strcmp(state, "truncated") == 0)
		return "\033[33m";
	if (strcmp(state, "skipped") == 0)
		return "\033[36m";
	return "\033[31m";
}

/* since as an age ("3h12m"), in place: the table shows it so. */
static void table_ages(struct status_table *t)
{
	uint64_t since, now = pgh_now_ms();
	char age[32];

	for (size_t r = 1; r < t->rows; r++) {
		char **cell = &t->cells[r * STATUS_COLS + 8];

		if (!pgh_parse_iso8601_ms(*cell, &since))
			continue;
		pgh_format_age(now > since ? now - since : 0, age, sizeof(age));
		free(*cell);
		*cell = pgh_xstrdup(age);
	}
}

/* Columns shown: check, severity, state, since, rows, duration_ms,
 * started_at, error. */
static void table_print(struct status_table *t, FILE *out, bool color)
{
	static const int shown[] = {0, 1, 2, 8, 3, 4, 5, 7};
	size_t width[STATUS_COLS] = {0};

	table_ages(t);
	if (t->cells[8][0] == '\0') {
		free(t->cells[8]);
		t->cells[8] = pgh_xstrdup("since");
	}
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < STATUS_COLS; c++) {
			size_t len = strlen(t->cells[r * STATUS_COLS + c]);

			if (len > width[c])
				width[c] = len;
		}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t i = 0; i < PGH_ARRAY_LEN(shown); i++) {
			const char *v = t->cells[r * STATUS_COLS + (size_t)shown[i]];
			bool paint = color && r > 0 && shown[i] == 2;
			bool last = i + 1 == PGH_ARRAY_LEN(shown);

			fprintf(out, "%s%-*s%s%s", paint ? state_color(v) : "",
			        last ? 0 : (int)width[shown[i]], v, paint ? "\033[0m" : "",
			        last ? "\n" : "  ");
		}
	}
}

static enum pgh_check_state state_parse(const char *s)
{
	for (int st = PGH_CHECK_OK; st <= PGH_CHECK_TRUNCATED; st++)
		if (strcmp(s, pgh_check_state_str((enum pgh_check_state)st)) == 0)
			return (enum pgh_check_state)st;
	return PGH_CHECK_ERROR;
}

static enum pgh_severity severity_parse(const char *s)
{
	if (strcmp(s, "critical") == 0)
		return PGH_SEV_CRITICAL;
	return strcmp(s, "warning") == 0 ? PGH_SEV_WARNING : PGH_SEV_INFO;
}

static uint64_t status_age_ms(const char *path)
{
	struct stat st;
	uint64_t mtime, now = pgh_now_ms();

	if (stat(path, &st) < 0)
		return 0;
	mtime = (uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000;
	return now > mtime ? now - mtime : 0;
}

int pgh_status_show(const char *dir, FILE *out, bool color, uint64_t max_age_ms)
{
	struct status_table t = {0};
	char *path = pgh_xasprintf("%s/status.csv", dir);
	struct pgh_status_entry *e;
	struct pgh_result none = {0};
	int r = table_read(path, &t), verdict;
	uint64_t age_ms;

	if (r < 0) {
		fprintf(stderr, "pghealthd: %s: %s\n", path,
		        r == -EINVAL ? "not a pghealthd status file" : strerror(-r));
		table_free(&t);
		free(path);
		return PGH_EXIT_UNKNOWN;
	}
	table_print(&t, out, color);
	age_ms = status_age_ms(path);
	e = pgh_xcalloc(t.rows, sizeof(*e));
	for (size_t i = 1; i < t.rows; i++) {
		e[i - 1].check = t.cells[i * STATUS_COLS];
		e[i - 1].severity = severity_parse(t.cells[i * STATUS_COLS + 1]);
		e[i - 1].state = state_parse(t.cells[i * STATUS_COLS + 2]);
		e[i - 1].result = &none;
	}
	verdict = pgh_status_verdict(e, t.rows - 1);
	if (max_age_ms > 0 && age_ms > max_age_ms) {
		/* A dead daemon's last verdict is no verdict. */
		fprintf(out,
		        "status.csv is %" PRIu64 " s old (expected at most %" PRIu64
		        " s): is pghealthd running?\n",
		        age_ms / 1000, max_age_ms / 1000);
		verdict = PGH_EXIT_UNKNOWN;
	}
	free(e);
	table_free(&t);
	free(path);
	return verdict;
}

/* A check name status.csv may hold: never a path, never a hidden file. */
static bool safe_check_name(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strcmp(name, "status") != 0 &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
	           strlen(name);
}

struct since_reader {
	void (*fn)(void *arg, const char *check, enum pgh_check_state st, uint64_t since_ms);
	void *arg;
};

static void since_row_cb(char **row, void *arg)
{
	struct since_reader *sr = arg;
	uint64_t since;

	if (!pgh_parse_iso8601_ms(row[8], &since))
		since = 0;
	sr->fn(sr->arg, row[0], state_parse(row[2]), since);
}

int pgh_status_read_since(const char *dir,
                          void (*fn)(void *arg, const char *check, enum pgh_check_state st,
                                     uint64_t since_ms),
                          void *arg)
{
	struct since_reader sr = {.fn = fn, .arg = arg};
	struct status_table t = {.row_fn = since_row_cb, .row_arg = &sr};
	char *path = pgh_xasprintf("%s/status.csv", dir);
	int r = table_read(path, &t);

	table_free(&t);
	free(path);
	return r;
}

/* Rows whose check is no longer enabled, collected while reading. */
struct gone_reader {
	const char **enabled; /* sorted */
	size_t n_enabled;
	struct pgh_strlist gone;
};

static void gone_row_cb(char **row, void *arg)
{
	struct gone_reader *g = arg;
	const char *name = row[0];

	if (!safe_check_name(name) ||
	    (g->n_enabled > 0 &&
	     bsearch(&name, g->enabled, g->n_enabled, sizeof(*g->enabled), pgh_str_cmp_cb) != NULL))
		return;
	pgh_strlist_add(&g->gone, pgh_xstrdup(name));
}

int pgh_status_remove_gone(const char *dir, const struct pgh_config *cfg)
{
	struct gone_reader g = {.enabled = pgh_xcalloc(cfg->n_checks + 1, sizeof(char *))};
	struct status_table t = {.row_fn = gone_row_cb, .row_arg = &g};
	char *path = pgh_xasprintf("%s/status.csv", dir);
	int r, n = 0;

	for (size_t i = 0; i < cfg->n_checks; i++)
		if (cfg->checks[i].enabled)
			g.enabled[g.n_enabled++] = cfg->checks[i].name;
	if (g.n_enabled > 0)
		qsort(g.enabled, g.n_enabled, sizeof(*g.enabled), pgh_str_cmp_cb);
	r = table_read(path, &t);
	for (size_t i = 0; i < g.gone.len; i++) {
		char *file = pgh_csv_file_name(g.gone.items[i]);

		/* Nothing on the word of a file that is not a status file to the end. */
		if (r == 0 && pgh_sink_remove(dir, file) == 0) {
			pgh_info("removed %s/%s: check %s is no longer configured", dir, file,
			         g.gone.items[i]);
			n++;
		}
		free(file);
	}
	pgh_strlist_free(&g.gone);
	free(g.enabled);
	table_free(&t);
	free(path);
	return n;
}
